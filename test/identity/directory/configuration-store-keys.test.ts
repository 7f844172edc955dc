import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  accessKeyJson,
  accessKeySecrets,
  connectionString,
  newAccessKeys,
  parseConnectionString,
  regenerateAccessKey,
} from "../../../src/identity/directory/configuration-store-keys.ts";

const ENDPOINT = "https://settings.azconfig.localhost:8443";
const NOW = Date.parse("2026-12-05T10:00:00Z");

describe("App Configuration access keys", () => {
  test("a store gets two read-write and two read-only keys, each with a 32-byte secret", () => {
    const keys = newAccessKeys(NOW);
    assert.deepEqual(
      keys.map((key) => [key.name, key.readOnly]),
      [
        ["Primary", false],
        ["Secondary", false],
        ["Primary Read Only", true],
        ["Secondary Read Only", true],
      ],
    );
    assert.equal(new Set(keys.map((key) => key.id)).size, 4);
    for (const key of keys) assert.equal(Buffer.from(key.value, "base64").length, 32);
    assert.deepEqual(accessKeyJson(ENDPOINT, keys[0] as (typeof keys)[0]), {
      id: keys[0]?.id,
      name: "Primary",
      value: keys[0]?.value,
      connectionString: `Endpoint=${ENDPOINT};Id=${keys[0]?.id};Secret=${keys[0]?.value}`,
      lastModified: "2026-12-05T10:00:00.000Z",
      readOnly: false,
    });
  });

  test("regenerating one key replaces its ID and secret and leaves the others", () => {
    const keys = newAccessKeys(NOW);
    const [primary, secondary] = keys;
    const renewed = regenerateAccessKey(keys, primary?.id ?? "", NOW + 1000) ?? assert.fail("regenerated");
    assert.equal(renewed[0]?.name, "Primary");
    assert.notEqual(renewed[0]?.id, primary?.id);
    assert.notEqual(renewed[0]?.value, primary?.value);
    assert.deepEqual(renewed[1], secondary);
    assert.ok(
      accessKeySecrets(renewed).every((key) => key.id !== primary?.id),
      "the old key no longer signs",
    );
    assert.equal(regenerateAccessKey(keys, "unknown", NOW), undefined);
  });

  test("a connection string round-trips, and one without a part is refused by name", () => {
    const [key] = newAccessKeys(NOW);
    assert.ok(key);
    const parsed = parseConnectionString(connectionString(ENDPOINT, key));
    assert.deepEqual(parsed, { endpoint: ENDPOINT, id: key.id, secret: key.value });
    assert.deepEqual(accessKeySecrets([key]), [
      { id: parsed.id, secret: Buffer.from(parsed.secret, "base64"), readOnly: false },
    ]);
    assert.deepEqual(parseConnectionString(`secret=${key.value};ID=${key.id};endpoint=${ENDPOINT}`), parsed);
    assert.throws(() => parseConnectionString(`Endpoint=${ENDPOINT};Id=${key.id}`), /has no Secret/);
  });
});
