import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  FEATURE_FLAG_CONTENT_TYPE,
  featureFlagKeyValue,
  isFeatureFlag,
  isKeyVaultReference,
  keyVaultReferenceValue,
} from "../../../src/resources/app-configuration/special-values.ts";

describe("App Configuration Key Vault references and feature flags", () => {
  test("a Key Vault reference names a secret identifier, with or without its version", () => {
    const uri = "https://kv-w5.vault.localhost:8443/secrets/db-password";
    assert.equal(keyVaultReferenceValue(uri), JSON.stringify({ uri }));
    keyVaultReferenceValue(`${uri}/0123456789abcdef0123456789abcdef`);
    assert.throws(
      () => keyVaultReferenceValue("https://kv-w5.vault.localhost:8443/keys/k1"),
      /not a secret identifier/,
    );
    assert.throws(() => keyVaultReferenceValue("db-password"), /not a secret identifier/);
    assert.ok(isKeyVaultReference("application/vnd.microsoft.appconfig.keyvaultref+json;charset=utf-8"));
    assert.ok(isKeyVaultReference("Application/vnd.microsoft.appconfig.keyvaultref+JSON"));
    assert.ok(!isKeyVaultReference("application/json"));
    assert.ok(!isKeyVaultReference(null));
  });

  test("a feature flag is a key-value under .appconfig.featureflag/ with the flag's JSON", () => {
    const flag = featureFlagKeyValue({ id: "Beta", enabled: true });
    assert.deepEqual(flag, {
      key: ".appconfig.featureflag/Beta",
      contentType: FEATURE_FLAG_CONTENT_TYPE,
      value: '{"id":"Beta","description":"","enabled":true,"conditions":{"client_filters":[]}}',
    });
    assert.ok(isFeatureFlag(flag.key, flag.contentType));
    assert.ok(!isFeatureFlag("Beta", flag.contentType));
    assert.throws(() => featureFlagKeyValue({ id: "a:b", enabled: false }), /not a feature flag ID/);
  });
});
