import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { deletedSecretsBinId } from "../../src/resources/vault/deleted-secrets.ts";
import { API, assertArmError, startManagement, vaultUri } from "./management-fixture.ts";

const VALUE = "s3cr3t-value-that-must-never-be-echoed";

async function startWithVault() {
  const context = await startManagement();
  const { call, groupPath } = context;
  await call("PUT", groupPath("Apps"), {});
  const vault = (
    await call("PUT", `${groupPath("Apps")}/providers/Microsoft.KeyVault/vaults/KV1`, {})
  ).json();
  const vaultPath = String(vault.id);
  return { ...context, vaultId: vaultPath, secretPath: (name: string) => `${vaultPath}/secrets/${name}` };
}

describe("ARM secret routes", () => {
  test("PUT writes a secret version with 201 and answers with its metadata, never its value", async () => {
    const { call, store, vaultId, secretPath } = await startWithVault();
    const response = await call("PUT", secretPath("db-password"), {
      properties: { value: VALUE, contentType: "text/plain" },
      tags: { app: "web" },
    });
    assert.equal(response.statusCode, 201, response.body);
    assert.ok(!response.body.includes(VALUE), "the response must not carry the value");

    const stored = await store.getSecretVersion(vaultId, "db-password");
    assert.equal(stored?.value, VALUE);
    assert.equal(stored?.contentType, "text/plain");
    assert.deepEqual(stored?.tags, { app: "web" });
    assert.equal(stored?.enabled, true);

    const body = response.json();
    assert.equal(body.id, secretPath("db-password"));
    assert.equal(body.name, "db-password");
    assert.equal(body.type, "Microsoft.KeyVault/vaults/secrets");
    assert.equal(body.properties.value, undefined);
    assert.equal(body.properties.contentType, "text/plain");
    assert.equal(body.properties.secretUri, `${vaultUri("KV1")}secrets/db-password`);
    assert.equal(
      body.properties.secretUriWithVersion,
      `${vaultUri("KV1")}secrets/db-password/${stored?.version}`,
    );
    assert.equal(body.properties.attributes.enabled, true);
  });

  test("every PUT writes a new version, answered with 200; the latest is the one last written", async () => {
    const { call, store, vaultId, secretPath } = await startWithVault();
    const first = await call("PUT", secretPath("DB-Password"), { properties: { value: "one" } });
    const second = await call("PUT", secretPath("db-password"), { properties: { value: "two" } });
    assert.equal(first.statusCode, 201);
    assert.equal(second.statusCode, 200, second.body);
    assert.equal(second.json().name, "DB-Password", "the name keeps the case it was created with");
    assert.notEqual(
      second.json().properties.secretUriWithVersion,
      first.json().properties.secretUriWithVersion,
    );

    const versions = await store.listSecretVersions(vaultId, "db-password");
    assert.deepEqual(
      versions.map((version) => version.value),
      ["one", "two"],
    );
    assert.equal(new Set(versions.map((version) => version.version)).size, 2);
    assert.equal((await store.getSecretVersion(vaultId, "db-password"))?.value, "two");
  });

  test("attributes are stored as given: disabled, not-before and expiry", async () => {
    const { call, store, vaultId, secretPath } = await startWithVault();
    const response = await call("PUT", secretPath("s"), {
      properties: { value: "x", attributes: { enabled: false, nbf: 1_700_000_000, exp: 1_900_000_000 } },
    });
    assert.equal(response.statusCode, 201, response.body);
    const attributes = response.json().properties.attributes;
    assert.equal(attributes.enabled, false);
    assert.equal(attributes.nbf, 1_700_000_000);
    assert.equal(attributes.exp, 1_900_000_000);
    const stored = await store.getSecretVersion(vaultId, "s");
    assert.equal(stored?.enabled, false);
    assert.equal(stored?.expires, 1_900_000_000);
  });

  test("GET answers the latest version's metadata without the value; a missing secret is a 404", async () => {
    const { call, secretPath } = await startWithVault();
    await call("PUT", secretPath("api-key"), { properties: { value: VALUE } });
    const read = await call("GET", secretPath("API-KEY"));
    assert.equal(read.statusCode, 200, read.body);
    assert.ok(!read.body.includes(VALUE));
    assert.equal(read.json().name, "api-key");
    assertArmError(await call("GET", secretPath("nope")), 404, "ResourceNotFound");
  });

  test("the vault and its group must exist", async () => {
    const { call, groupPath } = await startWithVault();
    const body = { properties: { value: "x" } };
    assertArmError(
      await call("PUT", `${groupPath("Apps")}/providers/Microsoft.KeyVault/vaults/nope/secrets/s`, body),
      404,
      "ResourceNotFound",
    );
    assertArmError(
      await call("PUT", `${groupPath("Nope")}/providers/Microsoft.KeyVault/vaults/kv1/secrets/s`, body),
      404,
      "ResourceGroupNotFound",
    );
  });

  test("an invalid name, value or tags is a 400 and writes nothing", async () => {
    const { call, store, vaultId, secretPath } = await startWithVault();
    assertArmError(
      await call("PUT", secretPath("bad_name"), { properties: { value: "x" } }),
      400,
      "BadRequest",
    );
    assertArmError(await call("PUT", secretPath("s"), { properties: {} }), 400, "BadRequest");
    assertArmError(await call("PUT", secretPath("s"), { properties: { value: 42 } }), 400, "BadRequest");
    assertArmError(
      await call("PUT", secretPath("s"), { properties: { value: "x", contentType: 1 } }),
      400,
      "BadRequest",
    );
    for (const tags of [["a"], { app: 1 }, "web"]) {
      assertArmError(
        await call("PUT", secretPath("s"), { properties: { value: "x" }, tags }),
        400,
        "BadRequest",
      );
    }
    assert.deepEqual(await store.listLatestSecrets(vaultId), []);
  });

  test("api-version is required", async () => {
    const { call, secretPath } = await startWithVault();
    assertArmError(await call("GET", `${secretPath("s")}?x=1`), 400, "MissingApiVersionParameter");
    assertArmError(
      await call("PUT", `${secretPath("s")}?x=1`, { properties: { value: "x" } }),
      400,
      "MissingApiVersionParameter",
    );
  });

  test("a name held by a soft-deleted secret cannot be reused: 409, and the deleted secret is untouched", async () => {
    const { call, store, vaultId, secretPath } = await startWithVault();
    await store.putSecretVersion({
      vaultId: deletedSecretsBinId(vaultId),
      name: "gone",
      version: "v1",
      value: "old",
      tags: {},
      enabled: true,
      created: 1,
      updated: 1,
      deletedDate: 2,
    });
    const response = await call("PUT", `${secretPath("Gone")}?${API}`, { properties: { value: "new" } });
    const error = assertArmError(response, 409, "Conflict");
    assert.match(error.message, /deleted/);
    assert.equal(await store.getSecretVersion(vaultId, "gone"), undefined);
    assert.equal((await store.listSecretVersions(deletedSecretsBinId(vaultId), "gone")).length, 1);
  });
});
