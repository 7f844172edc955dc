import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, test } from "node:test";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import type { ArmResource, KubeObject, SecretVersion, StoredSigningKey } from "../../src/store/store.ts";

const SUB = "/subscriptions/0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9";
const GROUP = `${SUB}/resourceGroups/Apps-RG`;
const VAULT_TYPE = "Microsoft.KeyVault/vaults";
const IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities";

function resource(id: string, type: string, properties: Record<string, unknown> = {}): ArmResource {
  return { id, name: id.split("/").pop() ?? "", type, properties };
}

function secret(vaultId: string, name: string, version: string, value: string): SecretVersion {
  return { vaultId, name, version, value, tags: {}, enabled: true, created: 1, updated: 1 };
}

function serviceAccount(namespace: string, name: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name, namespace, uid: `uid-${name}`, creationTimestamp: "2025-01-01T00:00:00Z" },
  };
}

function signingKey(purpose: string, kid: string, retiredAt?: number): StoredSigningKey {
  return { purpose, kid, alg: "RS256", privateJwk: { kty: "RSA", d: `d-${kid}` }, created: 100, retiredAt };
}

const tempDirs: string[] = [];
function tempDatabase(): string {
  const dir = mkdtempSync(join(tmpdir(), "wikit-store-"));
  tempDirs.push(dir);
  return join(dir, "nested", "wikit.db");
}
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe("sqlite store: ARM resources", () => {
  test("IDs compare case-insensitively and the stored case is echoed", async () => {
    const store = new SqliteStore(":memory:");
    const id = `${GROUP}/providers/${VAULT_TYPE}/KV-One`;
    await store.putResource(resource(id, VAULT_TYPE));

    const found = await store.getResource(id.toUpperCase());
    assert.equal(found?.id, id);
    assert.equal(found?.name, "KV-One");
    assert.equal((await store.getResource(id.toLowerCase()))?.id, id);
  });

  test("a put under a differently cased ID replaces the resource instead of adding a twin", async () => {
    const store = new SqliteStore(":memory:");
    const id = `${GROUP}/providers/${VAULT_TYPE}/kv1`;
    await store.putResource(resource(id, VAULT_TYPE, { generation: "1" }));
    await store.putResource(resource(id.toUpperCase(), VAULT_TYPE, { generation: "2" }));

    const all = await store.listResources({});
    assert.equal(all.length, 1);
    assert.equal(all[0]?.properties.generation, "2");
  });

  test("getResource of an unknown ID is undefined", async () => {
    const store = new SqliteStore(":memory:");
    assert.equal(await store.getResource(`${GROUP}/providers/${VAULT_TYPE}/nope`), undefined);
  });

  test("deleteResource removes the resource and every child beneath its ID", async () => {
    const store = new SqliteStore(":memory:");
    const identity = `${GROUP}/providers/${IDENTITY_TYPE}/id1`;
    await store.putResource(resource(GROUP, "Microsoft.Resources/resourceGroups"));
    await store.putResource(resource(identity, IDENTITY_TYPE));
    await store.putResource(
      resource(`${identity}/federatedIdentityCredentials/fic1`, `${IDENTITY_TYPE}/fic`),
    );

    assert.equal(await store.deleteResource(GROUP.toLowerCase()), true);
    assert.deepEqual(await store.listResources({}), []);
  });

  test("deleteResource cascades only on segment boundaries: deleting /a/b keeps /a/bc", async () => {
    const store = new SqliteStore(":memory:");
    const a = `${GROUP}/providers/${IDENTITY_TYPE}/id`;
    const sibling = `${GROUP}/providers/${IDENTITY_TYPE}/id2`;
    await store.putResource(resource(a, IDENTITY_TYPE));
    await store.putResource(resource(`${a}/federatedIdentityCredentials/f`, `${IDENTITY_TYPE}/fic`));
    await store.putResource(resource(sibling, IDENTITY_TYPE));
    await store.putResource(resource(`${sibling}/federatedIdentityCredentials/f`, `${IDENTITY_TYPE}/fic`));

    assert.equal(await store.deleteResource(a), true);
    const left = (await store.listResources({})).map((r) => r.id);
    assert.deepEqual(left, [sibling, `${sibling}/federatedIdentityCredentials/f`]);
  });

  test("deleteResource of an unknown ID resolves false", async () => {
    const store = new SqliteStore(":memory:");
    assert.equal(await store.deleteResource(`${GROUP}/providers/${VAULT_TYPE}/nope`), false);
  });

  test("listResources filters by type, case-insensitively", async () => {
    const store = new SqliteStore(":memory:");
    await store.putResource(resource(`${GROUP}/providers/${VAULT_TYPE}/kv1`, VAULT_TYPE));
    await store.putResource(resource(`${GROUP}/providers/${IDENTITY_TYPE}/id1`, IDENTITY_TYPE));

    const vaults = await store.listResources({ type: VAULT_TYPE.toUpperCase() });
    assert.deepEqual(
      vaults.map((r) => r.name),
      ["kv1"],
    );
  });

  test("listResources `under` includes the scope itself and its children but not namesake prefixes", async () => {
    const store = new SqliteStore(":memory:");
    const other = `${SUB}/resourceGroups/Apps-RG2`;
    await store.putResource(resource(GROUP, "Microsoft.Resources/resourceGroups"));
    await store.putResource(resource(`${GROUP}/providers/${VAULT_TYPE}/kv1`, VAULT_TYPE));
    await store.putResource(resource(other, "Microsoft.Resources/resourceGroups"));
    await store.putResource(resource(`${other}/providers/${VAULT_TYPE}/kv2`, VAULT_TYPE));

    const under = await store.listResources({ under: `${GROUP.toUpperCase()}/` });
    assert.deepEqual(
      under.map((r) => r.id),
      [GROUP, `${GROUP}/providers/${VAULT_TYPE}/kv1`],
    );
  });

  test("listResources filters by a property's exact value, combined with type and scope", async () => {
    const store = new SqliteStore(":memory:");
    await store.putResource(
      resource(`${GROUP}/providers/${IDENTITY_TYPE}/id1`, IDENTITY_TYPE, { clientId: "c-1" }),
    );
    await store.putResource(
      resource(`${GROUP}/providers/${IDENTITY_TYPE}/id2`, IDENTITY_TYPE, { clientId: "c-2" }),
    );
    await store.putResource(
      resource(`${GROUP}/providers/${VAULT_TYPE}/kv1`, VAULT_TYPE, { clientId: "c-1" }),
    );

    const found = await store.listResources({
      type: IDENTITY_TYPE,
      under: GROUP,
      property: { name: "clientId", value: "c-1" },
    });
    assert.deepEqual(
      found.map((r) => r.name),
      ["id1"],
    );
    assert.deepEqual(await store.listResources({ property: { name: "clientId", value: "C-1" } }), []);
  });

  test("a property name cannot escape its JSON path", async () => {
    const store = new SqliteStore(":memory:");
    await store.putResource(
      resource(`${GROUP}/providers/${IDENTITY_TYPE}/id1`, IDENTITY_TYPE, { a: { b: "x" } }),
    );
    assert.deepEqual(await store.listResources({ property: { name: "a.b", value: "x" } }), []);
    await store.putResource(
      resource(`${GROUP}/providers/${IDENTITY_TYPE}/id2`, IDENTITY_TYPE, { "a.b": "x" }),
    );
    assert.deepEqual(
      (await store.listResources({ property: { name: "a.b", value: "x" } })).map((r) => r.name),
      ["id2"],
    );
  });
});

describe("sqlite store: Kubernetes objects", () => {
  test("every write gets a larger resourceVersion than the one before", async () => {
    const store = new SqliteStore(":memory:");
    const first = await store.putKubeObject("local", serviceAccount("default", "a"));
    const second = await store.putKubeObject("local", serviceAccount("default", "b"));
    const replaced = await store.putKubeObject("local", serviceAccount("default", "a"));

    const versions = [first, second, replaced].map((o) => Number(o.metadata.resourceVersion));
    assert.ok(versions.every(Number.isInteger), String(versions));
    assert.deepEqual(
      [...versions].sort((a, b) => a - b),
      versions,
    );
    assert.equal(new Set(versions).size, 3, String(versions));
    assert.equal(
      (await store.getKubeObject("local", "ServiceAccount", "default", "a"))?.metadata.resourceVersion,
      replaced.metadata.resourceVersion,
    );
  });

  test("objects are keyed by kind, namespace and name; cluster-scoped objects list without a namespace", async () => {
    const store = new SqliteStore(":memory:");
    await store.putKubeObject("local", serviceAccount("ns1", "sa"));
    await store.putKubeObject("local", serviceAccount("ns2", "sa"));
    await store.putKubeObject("local", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "ns1", uid: "u", creationTimestamp: "2025-01-01T00:00:00Z" },
    });

    assert.equal((await store.listKubeObjects("local", "ServiceAccount")).length, 2);
    assert.deepEqual(
      (await store.listKubeObjects("local", "ServiceAccount", "ns2")).map((o) => o.metadata.namespace),
      ["ns2"],
    );
    assert.equal((await store.getKubeObject("local", "Namespace", "", "ns1"))?.kind, "Namespace");
    assert.equal(await store.getKubeObject("local", "ServiceAccount", "ns3", "sa"), undefined);

    assert.equal(await store.deleteKubeObject("local", "ServiceAccount", "ns1", "sa"), true);
    assert.equal(await store.deleteKubeObject("local", "ServiceAccount", "ns1", "sa"), false);
    assert.equal((await store.listKubeObjects("local", "ServiceAccount")).length, 1);
  });
});

describe("sqlite store: Kubernetes objects of several clusters", () => {
  test("each cluster has its own objects under the same names", async () => {
    const store = new SqliteStore(":memory:");
    await store.putKubeObject("local", serviceAccount("default", "sa"));
    await store.putKubeObject("c2", {
      ...serviceAccount("default", "sa"),
      metadata: { ...serviceAccount("default", "sa").metadata, uid: "other" },
    });
    assert.equal(
      (await store.getKubeObject("local", "ServiceAccount", "default", "sa"))?.metadata.uid,
      "uid-sa",
    );
    assert.equal((await store.getKubeObject("c2", "ServiceAccount", "default", "sa"))?.metadata.uid, "other");
    assert.equal(await store.deleteKubeObject("c2", "ServiceAccount", "default", "sa"), true);
    assert.equal((await store.listKubeObjects("local", "ServiceAccount")).length, 1);
    assert.equal((await store.listKubeObjects("c2", "ServiceAccount")).length, 0);
  });

  test("a schema-1 store is migrated: its Kubernetes objects become the local cluster's, nothing else changes", async () => {
    const path = tempDatabase();
    mkdirSync(dirname(path), { recursive: true });
    const old = new DatabaseSync(path);
    old.exec(`CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO settings VALUES ('schema', '1'), ('default.tenant', 't-1');
      CREATE TABLE kube_objects (kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (kind, namespace, name));`);
    old
      .prepare("INSERT INTO kube_objects VALUES ('ServiceAccount', 'default', 'sa', ?)")
      .run(JSON.stringify(serviceAccount("default", "sa")));
    old.close();
    const migrated = new SqliteStore(path);
    try {
      assert.equal(await migrated.getSetting("schema"), "2");
      assert.equal(await migrated.getSetting("default.tenant"), "t-1");
      assert.equal(
        (await migrated.getKubeObject("local", "ServiceAccount", "default", "sa"))?.metadata.uid,
        "uid-sa",
      );
    } finally {
      await migrated.close();
    }
    const reopened = new SqliteStore(path);
    await reopened.close();
  });
});

describe("sqlite store: secret versions", () => {
  const vault = `${GROUP}/providers/${VAULT_TYPE}/kv1`;

  test("the latest version is the last one written, whatever the version IDs sort to", async () => {
    const store = new SqliteStore(":memory:");
    await store.putSecretVersion(secret(vault, "db", "ffff", "one"));
    await store.putSecretVersion(secret(vault, "db", "0000", "two"));

    assert.equal((await store.getSecretVersion(vault, "db"))?.value, "two");
    assert.equal((await store.getSecretVersion(vault, "db", "ffff"))?.value, "one");
    assert.deepEqual(
      (await store.listSecretVersions(vault, "db")).map((v) => v.version),
      ["ffff", "0000"],
    );
  });

  test("secret names and vault IDs compare case-insensitively", async () => {
    const store = new SqliteStore(":memory:");
    await store.putSecretVersion(secret(vault, "Db-Password", "v1", "one"));
    await store.putSecretVersion(secret(vault.toUpperCase(), "DB-PASSWORD", "v2", "two"));

    const latest = await store.getSecretVersion(vault, "db-password");
    assert.equal(latest?.value, "two");
    assert.equal((await store.listSecretVersions(vault, "db-PASSWORD")).length, 2);
    assert.equal((await store.listLatestSecrets(vault)).length, 1);
  });

  test("listLatestSecrets gives each secret of the vault once, as its latest version", async () => {
    const store = new SqliteStore(":memory:");
    const otherVault = `${GROUP}/providers/${VAULT_TYPE}/kv2`;
    await store.putSecretVersion(secret(vault, "b", "1", "b1"));
    await store.putSecretVersion(secret(vault, "a", "1", "a1"));
    await store.putSecretVersion(secret(vault, "b", "2", "b2"));
    await store.putSecretVersion(secret(otherVault, "c", "1", "c1"));

    assert.deepEqual(
      (await store.listLatestSecrets(vault)).map((v) => `${v.name}=${v.value}`),
      ["a=a1", "b=b2"],
    );
  });

  test("rewriting an existing version updates it without making it the latest", async () => {
    const store = new SqliteStore(":memory:");
    await store.putSecretVersion(secret(vault, "s", "v1", "one"));
    await store.putSecretVersion(secret(vault, "s", "v2", "two"));
    await store.putSecretVersion({ ...secret(vault, "s", "v1", "one"), enabled: false });

    assert.equal((await store.getSecretVersion(vault, "s"))?.version, "v2");
    assert.equal((await store.getSecretVersion(vault, "s", "v1"))?.enabled, false);
  });

  test("deleteSecret removes every version; a second delete resolves false", async () => {
    const store = new SqliteStore(":memory:");
    await store.putSecretVersion(secret(vault, "s", "v1", "one"));
    await store.putSecretVersion(secret(vault, "s", "v2", "two"));

    assert.equal(await store.deleteSecret(vault, "S"), true);
    assert.equal(await store.getSecretVersion(vault, "s"), undefined);
    assert.equal(await store.deleteSecret(vault, "s"), false);
  });
});

describe("sqlite store: signing keys and settings", () => {
  test("signing keys list per purpose in the order they were first stored; a re-put updates in place", async () => {
    const store = new SqliteStore(":memory:");
    await store.putSigningKey(signingKey("cluster", "k1"));
    await store.putSigningKey(signingKey("sts", "s1"));
    await store.putSigningKey(signingKey("cluster", "k2"));
    await store.putSigningKey(signingKey("cluster", "k1", 200));

    const cluster = await store.listSigningKeys("cluster");
    assert.deepEqual(
      cluster.map((k) => [k.kid, k.retiredAt]),
      [
        ["k1", 200],
        ["k2", undefined],
      ],
    );
    assert.deepEqual(cluster[0]?.privateJwk, { kty: "RSA", d: "d-k1" });
    assert.deepEqual(
      (await store.listSigningKeys("sts")).map((k) => k.kid),
      ["s1"],
    );
  });

  test("settings read back what was last written; unknown keys are undefined", async () => {
    const store = new SqliteStore(":memory:");
    assert.equal(await store.getSetting("server.port"), undefined);
    await store.putSetting("server.port", "8443");
    await store.putSetting("server.port", "9443");
    assert.equal(await store.getSetting("server.port"), "9443");
  });
});

describe("sqlite store: durability", () => {
  test("everything written is still there after the store is closed and reopened from the same file", async () => {
    const path = tempDatabase();
    const vault = `${GROUP}/providers/${VAULT_TYPE}/kv1`;
    const first = new SqliteStore(path);
    await first.putSetting("default.tenant", "t-1");
    await first.putResource(resource(vault, VAULT_TYPE, { tenantId: "t-1" }));
    await first.putSecretVersion(secret(vault, "s", "v1", "one"));
    await first.putSecretVersion(secret(vault, "s", "v2", "two"));
    const rv = Number(
      (await first.putKubeObject("local", serviceAccount("default", "sa"))).metadata.resourceVersion,
    );
    await first.putSigningKey(signingKey("cluster", "k1"));
    await first.close();

    const reopened = new SqliteStore(path);
    try {
      assert.equal(await reopened.getSetting("default.tenant"), "t-1");
      assert.equal((await reopened.getResource(vault))?.properties.tenantId, "t-1");
      assert.equal(
        (await reopened.getKubeObject("local", "ServiceAccount", "default", "sa"))?.metadata.uid,
        "uid-sa",
      );
      assert.deepEqual(
        (await reopened.listSigningKeys("cluster")).map((k) => k.kid),
        ["k1"],
      );
      assert.equal((await reopened.getSecretVersion(vault, "s"))?.value, "two");

      // Counters continue where they stopped: a new version is the latest, resourceVersions keep growing.
      await reopened.putSecretVersion(secret(vault, "s", "aaa", "three"));
      assert.equal((await reopened.getSecretVersion(vault, "s"))?.value, "three");
      const next = await reopened.putKubeObject("local", serviceAccount("default", "sa2"));
      assert.ok(Number(next.metadata.resourceVersion) > rv);
    } finally {
      await reopened.close();
    }
  });

  test("a write is committed when its call resolves: a second connection sees it while the first is open", async () => {
    const path = tempDatabase();
    const writer = new SqliteStore(path);
    const reader = new SqliteStore(path);
    try {
      await writer.putSetting("server.port", "8443");
      await writer.putResource(resource(GROUP, "Microsoft.Resources/resourceGroups"));
      assert.equal(await reader.getSetting("server.port"), "8443");
      assert.equal((await reader.getResource(GROUP))?.id, GROUP);
    } finally {
      await writer.close();
      await reader.close();
    }
  });

  test("a data file written by another storage schema is refused with a message naming both", async () => {
    const path = tempDatabase();
    const store = new SqliteStore(path);
    await store.putSetting("schema", "999");
    await store.close();
    assert.throws(() => new SqliteStore(path), /storage schema 999.*understands 2/);
  });
});
