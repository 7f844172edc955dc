import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  checkSecretName,
  checkSecretVersion,
  deletedSecretBundle,
  deletedSecretItem,
  parseJsonObject,
  parseSetSecretRequest,
  parseUpdateSecretRequest,
  secretBundle,
  secretItem,
} from "../../../src/resources/vault/secret-bundle.ts";
import { VaultError } from "../../../src/resources/vault/vault-error.ts";
import type { SecretVersion } from "../../../src/store/store.ts";

const ORIGIN = "https://myvault.vault.example.test:8443";
const VERSION = "4387e9f3d6e14c459867679a90fd0f79";
const SECRET: SecretVersion = {
  vaultId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/myvault",
  name: "db-password",
  version: VERSION,
  value: "s3cr3t",
  contentType: "text/plain",
  tags: { team: "payments" },
  enabled: true,
  created: 1700000000,
  updated: 1700000100,
};

function rejects(run: () => unknown, messagePart: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof VaultError);
    assert.equal(error.status, 400);
    assert.equal(error.code, "BadParameter");
    assert.match(error.message, messagePart);
    return true;
  });
}

describe("secret JSON shapes", () => {
  test("a SecretBundle has an absolute id with scheme, host, port and version, and epoch-second attributes", () => {
    assert.deepEqual(secretBundle(SECRET, ORIGIN, { withValue: true }), {
      value: "s3cr3t",
      id: `${ORIGIN}/secrets/db-password/${VERSION}`,
      contentType: "text/plain",
      attributes: {
        enabled: true,
        created: 1700000000,
        updated: 1700000100,
        recoveryLevel: "Recoverable+Purgeable",
        recoverableDays: 90,
      },
      tags: { team: "payments" },
    });
  });

  test("the value is left out where the caller did not ask for it", () => {
    assert.equal("value" in secretBundle(SECRET, ORIGIN, { withValue: false }), false);
  });

  test("nbf and exp appear only when set", () => {
    const bounded = secretBundle({ ...SECRET, notBefore: 1700000000, expires: 1800000000 }, ORIGIN, {
      withValue: false,
    });
    assert.equal(bounded.attributes.nbf, 1700000000);
    assert.equal(bounded.attributes.exp, 1800000000);
    assert.equal("nbf" in secretBundle(SECRET, ORIGIN, { withValue: false }).attributes, false);
  });

  test("list items never carry a value; secret lists show ids without version, version lists with it", () => {
    const item = secretItem(SECRET, ORIGIN, { withVersion: false });
    assert.equal(item.id, `${ORIGIN}/secrets/db-password`);
    assert.equal("value" in item, false);
    assert.equal(
      secretItem(SECRET, ORIGIN, { withVersion: true }).id,
      `${ORIGIN}/secrets/db-password/${VERSION}`,
    );
  });

  test("a deleted secret has a recoveryId and is purged 90 days after deletion", () => {
    const deleted = { ...SECRET, deletedDate: 1700000500 };
    const bundle = deletedSecretBundle(deleted, ORIGIN);
    assert.equal(bundle.recoveryId, `${ORIGIN}/deletedsecrets/db-password`);
    assert.equal(bundle.deletedDate, 1700000500);
    assert.equal(bundle.scheduledPurgeDate, 1700000500 + 90 * 86400);
    assert.equal(bundle.id, `${ORIGIN}/secrets/db-password/${VERSION}`);
    assert.equal("value" in bundle, false);
    assert.equal(deletedSecretItem(deleted, ORIGIN).id, `${ORIGIN}/secrets/db-password`);
  });
});

describe("secret names and versions", () => {
  for (const name of ["a", "DB-password-2", "x".repeat(127), "-"]) {
    test(`'${name.length > 20 ? `${name.slice(0, 8)}…(${name.length})` : name}' is a valid name`, () => {
      assert.equal(checkSecretName(name), name);
    });
  }
  for (const name of ["", "x".repeat(128), "db_password", "db.password", "a/../b", "ünïcode", "a b"]) {
    test(`'${name.length > 20 ? `${name.slice(0, 8)}…(${name.length})` : name}' is refused with 400 BadParameter`, () => {
      rejects(() => checkSecretName(name), /secret names are 1-127 characters/);
    });
  }

  test("an empty or absent version means the latest", () => {
    assert.equal(checkSecretVersion(""), undefined);
    assert.equal(checkSecretVersion(undefined), undefined);
    assert.equal(checkSecretVersion(VERSION), VERSION);
  });

  test("versions must be 32 lowercase hex characters", () => {
    for (const version of [VERSION.toUpperCase(), VERSION.slice(1), `${VERSION}0`, "latest"]) {
      rejects(() => checkSecretVersion(version), /32 lowercase hexadecimal/);
    }
  });
});

describe("request bodies", () => {
  test("an empty, malformed or non-object body is a 400 that shows what to send", () => {
    rejects(() => parseJsonObject("", '{"value": "x"}'), /body is empty.*\{"value": "x"\}/);
    rejects(() => parseJsonObject("{value", "{}"), /not valid JSON/);
    rejects(() => parseJsonObject("[1]", "{}"), /must be a JSON object/);
  });

  test("a set request needs a string value and accepts contentType, tags and attributes", () => {
    assert.deepEqual(
      parseSetSecretRequest({
        value: "v",
        contentType: "text/plain",
        tags: { a: "b" },
        attributes: { enabled: false, nbf: 1, exp: null, created: 5, recoveryLevel: "Purgeable" },
      }),
      {
        value: "v",
        contentType: "text/plain",
        tags: { a: "b" },
        attributes: { enabled: false, nbf: 1, exp: null },
      },
    );
    rejects(() => parseSetSecretRequest({}), /'value' is required/);
    rejects(() => parseSetSecretRequest({ value: 42 }), /'value' is required/);
    rejects(() => parseSetSecretRequest({ value: "x".repeat(25 * 1024 + 1) }), /larger than the 25600 bytes/);
  });

  test("malformed members are named in the 400 message", () => {
    rejects(() => parseUpdateSecretRequest({ contentType: 1 }), /'contentType' must be a string/);
    rejects(() => parseUpdateSecretRequest({ tags: ["a"] }), /'tags' must be an object/);
    rejects(() => parseUpdateSecretRequest({ tags: { a: 1 } }), /tag 'a' must be a string/);
    rejects(() => parseUpdateSecretRequest({ attributes: { enabled: "yes" } }), /'attributes.enabled'/);
    rejects(() => parseUpdateSecretRequest({ attributes: { exp: 1.5 } }), /'attributes.exp' must be a time/);
    rejects(() => parseUpdateSecretRequest({ attributes: { nbf: -1 } }), /'attributes.nbf' must be a time/);
    const manyTags = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`t${i}`, "v"]));
    rejects(() => parseUpdateSecretRequest({ tags: manyTags }), /at most 15 tags/);
  });
});
