// The behaviour every Store must have, whatever holds the data: registered once per implementation
// (test/store/sqlite-store.test.ts, test/store/postgres-store.test.ts), so that the stores cannot drift apart.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import type {
  ArmResource,
  KubeObject,
  SecretVersion,
  SignInRecord,
  Store,
  StoredSigningKey,
} from "../../src/store/store.ts";

export const SUB = "/subscriptions/0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9";
export const GROUP = `${SUB}/resourceGroups/Apps-RG`;
export const VAULT_TYPE = "Microsoft.KeyVault/vaults";
export const IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities";

export function resource(id: string, type: string, properties: Record<string, unknown> = {}): ArmResource {
  return { id, name: id.split("/").pop() ?? "", type, properties };
}

export function secret(vaultId: string, name: string, version: string, value: string): SecretVersion {
  return { vaultId, name, version, value, tags: {}, enabled: true, created: 1, updated: 1 };
}

export function serviceAccount(namespace: string, name: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name, namespace, uid: `uid-${name}`, creationTimestamp: "2025-01-01T00:00:00Z" },
  };
}

function signingKey(purpose: string, kid: string, retiredAt?: number): StoredSigningKey {
  return { purpose, kid, alg: "RS256", privateJwk: { kty: "RSA", d: `d-${kid}` }, created: 100, retiredAt };
}

export function signIn(id: string, time: number, fields: Partial<SignInRecord> = {}): SignInRecord {
  return { id, time, tenant: "t-1", errorCode: 0, correlationId: `c-${id}`, traceId: `t-${id}`, ...fields };
}

const KEEP_ALL = { maxRecords: 1000, maxAgeMs: Number.MAX_SAFE_INTEGER };

export interface StoreFactory {
  /** A new, empty place to keep a store, and how to open a store on it (again and again, concurrently). */
  newLocation(): Promise<() => Promise<Store>>;
}

/** Registers the contract's tests for one implementation; every store the tests open is closed after each. */
export function describeStoreContract(name: string, factory: StoreFactory): void {
  const opened: Store[] = [];
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close().catch(() => {});
  });
  const newLocation = async (): Promise<() => Promise<Store>> => {
    const open = await factory.newLocation();
    return async () => {
      const store = await open();
      opened.push(store);
      return store;
    };
  };
  const fresh = async (): Promise<Store> => (await newLocation())();

  describe(`${name} store: ARM resources`, () => {
    test("IDs compare case-insensitively and the stored case is echoed", async () => {
      const store = await fresh();
      const id = `${GROUP}/providers/${VAULT_TYPE}/KV-One`;
      await store.putResource(resource(id, VAULT_TYPE));

      const found = await store.getResource(id.toUpperCase());
      assert.equal(found?.id, id);
      assert.equal(found?.name, "KV-One");
      assert.equal((await store.getResource(id.toLowerCase()))?.id, id);
    });

    test("a put under a differently cased ID replaces the resource instead of adding a twin", async () => {
      const store = await fresh();
      const id = `${GROUP}/providers/${VAULT_TYPE}/kv1`;
      await store.putResource(resource(id, VAULT_TYPE, { generation: "1" }));
      await store.putResource(resource(id.toUpperCase(), VAULT_TYPE, { generation: "2" }));

      const all = await store.listResources({});
      assert.equal(all.length, 1);
      assert.equal(all[0]?.properties.generation, "2");
    });

    test("getResource of an unknown ID is undefined", async () => {
      const store = await fresh();
      assert.equal(await store.getResource(`${GROUP}/providers/${VAULT_TYPE}/nope`), undefined);
    });

    test("deleteResource removes the resource and every child beneath its ID", async () => {
      const store = await fresh();
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
      const store = await fresh();
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
      const store = await fresh();
      assert.equal(await store.deleteResource(`${GROUP}/providers/${VAULT_TYPE}/nope`), false);
    });

    test("listResources filters by type, case-insensitively", async () => {
      const store = await fresh();
      await store.putResource(resource(`${GROUP}/providers/${VAULT_TYPE}/kv1`, VAULT_TYPE));
      await store.putResource(resource(`${GROUP}/providers/${IDENTITY_TYPE}/id1`, IDENTITY_TYPE));

      const vaults = await store.listResources({ type: VAULT_TYPE.toUpperCase() });
      assert.deepEqual(
        vaults.map((r) => r.name),
        ["kv1"],
      );
    });

    test("listResources `under` includes the scope itself and its children but not namesake prefixes", async () => {
      const store = await fresh();
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
      const store = await fresh();
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
      const store = await fresh();
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

  describe(`${name} store: writes decided among resources, and leases`, () => {
    const CREDENTIAL_TYPE = `${IDENTITY_TYPE}/federatedIdentityCredentials`;
    const IDENTITY = `${GROUP}/providers/${IDENTITY_TYPE}/id-1`;
    const credentials = { type: CREDENTIAL_TYPE, under: IDENTITY };
    /** Adds a credential unless three are there already, as a capped collection's rule does. */
    const addCapped = (store: Store, name: string) =>
      store.putResourceAmong(credentials, (current) => {
        if (current.length >= 3) throw new Error(`full: ${current.map((r) => r.name).join(",")}`);
        return resource(`${IDENTITY}/federatedIdentityCredentials/${name}`, CREDENTIAL_TYPE);
      });

    test("putResourceAmong writes what decide makes of the current set, and nothing when it throws", async () => {
      const store = await fresh();
      const written = await addCapped(store, "fic-1");
      assert.equal(written.name, "fic-1");
      await addCapped(store, "fic-2");
      await addCapped(store, "fic-3");
      await assert.rejects(addCapped(store, "fic-4"), /full: fic-1,fic-2,fic-3/);
      assert.deepEqual(
        (await store.listResources(credentials)).map((r) => r.name),
        ["fic-1", "fic-2", "fic-3"],
      );
    });

    test("concurrent putResourceAmong calls through separate connections never break the set's rule", async () => {
      const open = await newLocation();
      const stores = [await open(), await open(), await open()];
      const outcomes = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) => addCapped(stores[i % stores.length] as Store, `fic-${i}`)),
      );
      assert.equal(outcomes.filter((outcome) => outcome.status === "fulfilled").length, 3);
      assert.equal((await stores[0]?.listResources(credentials))?.length, 3);
    });

    test("a lease is held by one holder until it expires or is released; its holder renews it", async () => {
      const store = await fresh();
      assert.equal(await store.tryLease("keys", "a", 1000, 10_000), true);
      assert.equal(await store.tryLease("keys", "b", 1000, 10_500), false);
      assert.equal(await store.tryLease("keys", "a", 1000, 10_900), true, "renewed until 11,900");
      assert.equal(await store.tryLease("keys", "b", 1000, 11_500), false);
      assert.equal(await store.tryLease("keys", "b", 1000, 11_900), true, "taken over once expired");
      await store.releaseLease("keys", "a");
      assert.equal(
        await store.tryLease("keys", "a", 1000, 12_000),
        false,
        "a release by a non-holder does nothing",
      );
      await store.releaseLease("keys", "b");
      assert.equal(await store.tryLease("keys", "a", 1000, 12_000), true);
      assert.equal(await store.tryLease("other", "b", 1000, 12_000), true, "leases are independent by name");
    });
  });

  describe(`${name} store: Kubernetes objects`, () => {
    test("every write gets a larger resourceVersion than the one before", async () => {
      const store = await fresh();
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
      const store = await fresh();
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

  describe(`${name} store: Kubernetes objects of several clusters`, () => {
    test("each cluster has its own objects under the same names", async () => {
      const store = await fresh();
      await store.putKubeObject("local", serviceAccount("default", "sa"));
      await store.putKubeObject("c2", {
        ...serviceAccount("default", "sa"),
        metadata: { ...serviceAccount("default", "sa").metadata, uid: "other" },
      });
      assert.equal(
        (await store.getKubeObject("local", "ServiceAccount", "default", "sa"))?.metadata.uid,
        "uid-sa",
      );
      assert.equal(
        (await store.getKubeObject("c2", "ServiceAccount", "default", "sa"))?.metadata.uid,
        "other",
      );
      assert.equal(await store.deleteKubeObject("c2", "ServiceAccount", "default", "sa"), true);
      assert.equal((await store.listKubeObjects("local", "ServiceAccount")).length, 1);
      assert.equal((await store.listKubeObjects("c2", "ServiceAccount")).length, 0);
    });
  });

  describe(`${name} store: secret versions`, () => {
    const vault = `${GROUP}/providers/${VAULT_TYPE}/kv1`;

    test("the latest version is the last one written, whatever the version IDs sort to", async () => {
      const store = await fresh();
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
      const store = await fresh();
      await store.putSecretVersion(secret(vault, "Db-Password", "v1", "one"));
      await store.putSecretVersion(secret(vault.toUpperCase(), "DB-PASSWORD", "v2", "two"));

      const latest = await store.getSecretVersion(vault, "db-password");
      assert.equal(latest?.value, "two");
      assert.equal((await store.listSecretVersions(vault, "db-PASSWORD")).length, 2);
      assert.equal((await store.listLatestSecrets(vault)).length, 1);
    });

    test("listLatestSecrets gives each secret of the vault once, as its latest version", async () => {
      const store = await fresh();
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
      const store = await fresh();
      await store.putSecretVersion(secret(vault, "s", "v1", "one"));
      await store.putSecretVersion(secret(vault, "s", "v2", "two"));
      await store.putSecretVersion({ ...secret(vault, "s", "v1", "one"), enabled: false });

      assert.equal((await store.getSecretVersion(vault, "s"))?.version, "v2");
      assert.equal((await store.getSecretVersion(vault, "s", "v1"))?.enabled, false);
    });

    test("deleteSecret removes every version; a second delete resolves false", async () => {
      const store = await fresh();
      await store.putSecretVersion(secret(vault, "s", "v1", "one"));
      await store.putSecretVersion(secret(vault, "s", "v2", "two"));

      assert.equal(await store.deleteSecret(vault, "S"), true);
      assert.equal(await store.getSecretVersion(vault, "s"), undefined);
      assert.equal(await store.deleteSecret(vault, "s"), false);
    });
  });

  describe(`${name} store: signing keys and settings`, () => {
    test("signing keys list per purpose in the order they were first stored; a re-put updates in place", async () => {
      const store = await fresh();
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
      const store = await fresh();
      assert.equal(await store.getSetting("server.port"), undefined);
      await store.putSetting("server.port", "8443");
      await store.putSetting("server.port", "9443");
      assert.equal(await store.getSetting("server.port"), "9443");
    });
  });

  describe(`${name} store: durability`, () => {
    test("everything written is still there after the store is closed and reopened from the same file", async () => {
      const open = await newLocation();
      const vault = `${GROUP}/providers/${VAULT_TYPE}/kv1`;
      const first = await open();
      await first.putSetting("default.tenant", "t-1");
      await first.putResource(resource(vault, VAULT_TYPE, { tenantId: "t-1" }));
      await first.putSecretVersion(secret(vault, "s", "v1", "one"));
      await first.putSecretVersion(secret(vault, "s", "v2", "two"));
      const rv = Number(
        (await first.putKubeObject("local", serviceAccount("default", "sa"))).metadata.resourceVersion,
      );
      await first.putSigningKey(signingKey("cluster", "k1"));
      await first.close();

      const reopened = await open();
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
      const open = await newLocation();
      const writer = await open();
      const reader = await open();
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
  });

  describe(`${name} store: sign-ins and credential usage`, () => {
    const identity = `${GROUP}/providers/${IDENTITY_TYPE}/id1`;
    const fic = (n: string): string => `${identity}/federatedIdentityCredentials/${n}`;

    test("sign-ins list newest first, filtered by time, client ID (case-insensitively) and failure", async () => {
      const store = await fresh();
      await store.appendSignIns(
        [
          { record: signIn("a", 1000, { clientId: "Client-1" }) },
          { record: signIn("b", 2000, { clientId: "client-2", errorCode: 700211 }) },
          { record: signIn("c", 3000, { clientId: "CLIENT-1", errorCode: 700213 }) },
        ],
        KEEP_ALL,
      );
      await store.appendSignIns([{ record: signIn("d", 4000) }], KEEP_ALL);

      const ids = async (query: Parameters<Store["listSignIns"]>[0]): Promise<string[]> =>
        (await store.listSignIns(query)).map((r) => r.id);
      assert.deepEqual(await ids({}), ["d", "c", "b", "a"]);
      assert.deepEqual(await ids({ since: 2000 }), ["d", "c", "b"]);
      assert.deepEqual(await ids({ clientId: "client-1" }), ["c", "a"]);
      assert.deepEqual(await ids({ failedOnly: true }), ["c", "b"]);
      assert.deepEqual(await ids({ limit: 2 }), ["d", "c"]);
      assert.deepEqual(await ids({ clientId: "CLIENT-1", failedOnly: true, since: 1, limit: 5 }), ["c"]);
      assert.deepEqual((await store.listSignIns({ limit: 1 }))[0], signIn("d", 4000));
    });

    test("retention keeps the newest maxRecords and none older than maxAgeMs", async () => {
      const store = await fresh();
      const now = Date.now();
      const batch = ["a", "b", "c", "d", "e"].map((id) => ({ record: signIn(id, now) }));
      await store.appendSignIns(batch, { maxRecords: 3, maxAgeMs: 60_000 });
      assert.deepEqual(
        (await store.listSignIns({})).map((r) => r.id),
        ["e", "d", "c"],
      );
      await store.appendSignIns([{ record: signIn("old", now - 120_000) }, { record: signIn("f", now) }], {
        maxRecords: 3,
        maxAgeMs: 60_000,
      });
      assert.deepEqual(
        (await store.listSignIns({})).map((r) => r.id),
        ["f", "e", "d"],
      );
    });

    test("successful sign-ins count against their credential, failures do not; usage lists under the identity", async () => {
      const store = await fresh();
      await store.appendSignIns(
        [
          { record: signIn("a", 1000), credentialId: fic("Fic-B") },
          { record: signIn("b", 3000), credentialId: fic("fic-b") },
          { record: signIn("c", 2000), credentialId: fic("fic-b") },
          { record: signIn("d", 5000, { errorCode: 700213 }), credentialId: fic("fic-b") },
          { record: signIn("e", 1500), credentialId: fic("fic-a") },
        ],
        KEEP_ALL,
      );
      await store.appendSignIns([{ record: signIn("f", 2500), credentialId: fic("FIC-A") }], KEEP_ALL);

      assert.deepEqual(await store.listCredentialUsage(identity.toUpperCase()), [
        { credentialId: fic("fic-a"), signIns: 2, lastSignIn: 2500 },
        { credentialId: fic("Fic-B"), signIns: 3, lastSignIn: 3000 },
      ]);
      assert.deepEqual(await store.listCredentialUsage(`${identity}2`), []);
    });

    test("deleting a credential, or the identity above it, forgets its usage", async () => {
      const store = await fresh();
      await store.putResource(resource(identity, IDENTITY_TYPE));
      await store.putResource(resource(fic("a"), `${IDENTITY_TYPE}/federatedIdentityCredentials`));
      await store.putResource(resource(fic("b"), `${IDENTITY_TYPE}/federatedIdentityCredentials`));
      await store.appendSignIns(
        [
          { record: signIn("1", 1000), credentialId: fic("a") },
          { record: signIn("2", 1000), credentialId: fic("b") },
        ],
        KEEP_ALL,
      );

      await store.deleteResource(fic("A"));
      assert.deepEqual(
        (await store.listCredentialUsage(identity)).map((u) => u.credentialId),
        [fic("b")],
      );
      await store.deleteResource(identity);
      assert.deepEqual(await store.listCredentialUsage(identity), []);
    });
  });
}
