// The behaviour every Store must have, whatever holds the data: registered once per implementation
// (test/store/sqlite-store.test.ts, test/store/postgres-store.test.ts), so that the stores cannot drift apart.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import type {
  ArmResource,
  KeyValueChange,
  KubeObject,
  SecretVersion,
  SignInRecord,
  Store,
  StoredKeyValue,
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

export const CONFIG_STORE_TYPE = "Microsoft.AppConfiguration/configurationStores";

export function keyValue(
  key: string,
  label: string | null,
  value: string | null,
  fields: Partial<StoredKeyValue> = {},
): StoredKeyValue {
  return {
    key,
    label,
    value,
    contentType: null,
    tags: {},
    locked: false,
    etag: `etag-${key}-${label}-${value}`,
    lastModified: 1000,
    ...fields,
  };
}

/** Stores the key-value as it is, whatever was there. */
export function putKeyValue(
  store: Store,
  configStoreId: string,
  written: StoredKeyValue,
): Promise<{ keyValue: StoredKeyValue | undefined; sequence?: number }> {
  return store.changeKeyValue(configStoreId, written.key, written.label, () => ({ put: written }));
}

/** What a conditional request refused: the key-value changed since the caller read it. */
export class PreconditionFailed extends Error {}

/** A key-value as `key` or `key@label`, for assertions on order. */
const named = (keyValues: readonly { key: string; label: string | null }[]): string[] =>
  keyValues.map((kv) => (kv.label === null ? kv.key : `${kv.key}@${kv.label}`));

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

  describe(`${name} store: App Configuration key-values`, () => {
    const APP_CONFIG = `${GROUP}/providers/${CONFIG_STORE_TYPE}/AppConf-1`;
    const OTHER_CONFIG = `${GROUP}/providers/${CONFIG_STORE_TYPE}/AppConf-2`;

    test("a key-value reads back exactly as put, tags and nulls included; null and named labels are distinct", async () => {
      const store = await fresh();
      const plain = keyValue("myapp:color", null, "blue");
      const labelled = keyValue("myapp:color", "prd", null, {
        contentType: "text/plain; charset=utf-8",
        tags: { team: "Ops", "note:ü": "", empty: "" },
        locked: true,
        etag: "E-1",
        lastModified: 1_735_689_600_123,
      });
      await putKeyValue(store, APP_CONFIG, plain);
      await putKeyValue(store, APP_CONFIG, labelled);

      assert.deepEqual(await store.getKeyValue(APP_CONFIG, "myapp:color", null), plain);
      assert.deepEqual(await store.getKeyValue(APP_CONFIG, "myapp:color", "prd"), labelled);
      assert.deepEqual(await store.listKeyValues(APP_CONFIG), [plain, labelled]);
      assert.equal(await store.getKeyValue(APP_CONFIG, "myapp:color", "dev"), undefined);
      assert.equal(await store.getKeyValue(OTHER_CONFIG, "myapp:color", null), undefined);
      assert.deepEqual(await store.listKeyValues(OTHER_CONFIG), []);
    });

    test("keys and labels compare case-sensitively; the configuration store's ID case-insensitively", async () => {
      const store = await fresh();
      await putKeyValue(store, APP_CONFIG, keyValue("Color", "Prd", "1"));
      await putKeyValue(store, APP_CONFIG.toUpperCase(), keyValue("color", "Prd", "2"));
      await putKeyValue(store, APP_CONFIG.toLowerCase(), keyValue("color", "prd", "3"));

      assert.equal((await store.getKeyValue(APP_CONFIG.toUpperCase(), "Color", "Prd"))?.value, "1");
      assert.equal((await store.getKeyValue(APP_CONFIG, "color", "Prd"))?.value, "2");
      assert.equal((await store.getKeyValue(APP_CONFIG, "color", "prd"))?.value, "3");
      assert.equal(await store.getKeyValue(APP_CONFIG, "COLOR", "prd"), undefined);
      assert.equal(await store.getKeyValue(APP_CONFIG, "color", "PRD"), undefined);
      assert.equal((await store.listKeyValues(APP_CONFIG.toLowerCase())).length, 3);
      assert.equal((await store.listKeyValueRevisions(APP_CONFIG.toUpperCase())).length, 3);
    });

    test("an empty label is the null label: one key-value, read back with the null label", async () => {
      const store = await fresh();
      await putKeyValue(store, APP_CONFIG, keyValue("k", null, "first"));
      const { keyValue: written } = await putKeyValue(store, APP_CONFIG, keyValue("k", "", "second"));

      assert.equal(written?.label, null);
      assert.deepEqual(await store.getKeyValue(APP_CONFIG, "k", ""), {
        ...keyValue("k", "", "second"),
        label: null,
      });
      assert.deepEqual(named(await store.listKeyValues(APP_CONFIG)), ["k"]);
      assert.deepEqual(
        (await store.listKeyValueRevisions(APP_CONFIG)).map((revision) => revision.label),
        [null, null],
      );
    });

    test("key-values list by key, then label with the null label first, in code-point order", async () => {
      const store = await fresh();
      // Written out of order; U+1F600 comes after U+FFFD by code point, though before it in UTF-16 code units.
      const written: [string, string | null][] = [
        ["\u{1F600}", null],
        ["b", null],
        ["a", "prd"],
        ["\uFFFD", null],
        ["é", null],
        ["a", null],
        ["a:b", null],
        ["a", "Prd"],
        ["z", null],
        ["B", null],
        ["a", "dev"],
      ];
      for (const [key, label] of written) await putKeyValue(store, APP_CONFIG, keyValue(key, label, "v"));

      assert.deepEqual(named(await store.listKeyValues(APP_CONFIG)), [
        "B",
        "a",
        "a@Prd",
        "a@dev",
        "a@prd",
        "a:b",
        "b",
        "z",
        "é",
        "\uFFFD",
        "\u{1F600}",
      ]);
    });

    test("keyPrefix matches exactly the keys that start with it, whatever characters it holds", async () => {
      const store = await fresh();
      const keys = [
        "100%",
        "100%:x",
        "1000",
        "100x",
        "a_b",
        "ab",
        "axb",
        "a\\b",
        "a\\c",
        "a\\\\",
        "e:1",
        "é:1",
        "é:2",
        "f",
        "\uD7FF:1",
        "\uE000:1",
        "x\u{10FFFF}a",
        "y",
        "\u{10FFFF}",
        "\u{10FFFF}x",
      ];
      for (const key of keys) await putKeyValue(store, APP_CONFIG, keyValue(key, null, "v"));
      await putKeyValue(store, APP_CONFIG, keyValue("100%", "prd", "v"));
      await putKeyValue(store, OTHER_CONFIG, keyValue("100%", null, "v"));
      const withPrefix = async (keyPrefix: string): Promise<string[]> =>
        named(await store.listKeyValues(APP_CONFIG, { keyPrefix }));

      assert.deepEqual(await withPrefix("100%"), ["100%", "100%@prd", "100%:x"]);
      assert.deepEqual(await withPrefix("a_"), ["a_b"]);
      assert.deepEqual(await withPrefix("a\\"), ["a\\\\", "a\\b", "a\\c"]);
      assert.deepEqual(await withPrefix("a\\\\"), ["a\\\\"]);
      assert.deepEqual(await withPrefix("é"), ["é:1", "é:2"]);
      assert.deepEqual(await withPrefix("e"), ["e:1"]);
      assert.deepEqual(await withPrefix("\uD7FF"), ["\uD7FF:1"]);
      assert.deepEqual(await withPrefix("x\u{10FFFF}"), ["x\u{10FFFF}a"]);
      assert.deepEqual(await withPrefix("\u{10FFFF}"), ["\u{10FFFF}", "\u{10FFFF}x"]);
      assert.deepEqual(await withPrefix("100%:x"), ["100%:x"]);
      assert.deepEqual(await withPrefix("nothing:"), []);
      assert.deepEqual(await withPrefix("A"), [], "prefixes are case-sensitive");
      assert.equal((await store.listKeyValues(APP_CONFIG, { keyPrefix: "" })).length, keys.length + 1);
    });

    test("a put, a keep and a delete: what each writes, resolves to and records", async () => {
      const store = await fresh();
      const seen: (StoredKeyValue | undefined)[] = [];
      const change = (decide: (current: StoredKeyValue | undefined) => KeyValueChange) =>
        store.changeKeyValue(APP_CONFIG, "k", "prd", (current) => {
          seen.push(current);
          return decide(current);
        });
      const v1 = keyValue("k", "prd", "1", { lastModified: 1000 });
      const v2 = keyValue("k", "prd", "2", { lastModified: 2000 });

      const first = await change(() => ({ put: v1 }));
      const second = await change(() => ({ put: v2 }));
      assert.deepEqual(first.keyValue, v1);
      assert.deepEqual(second.keyValue, v2);
      assert.deepEqual(seen, [undefined, v1]);

      assert.deepEqual(await change(() => ({ keep: true })), { keyValue: v2 });
      const deleted = await change(() => ({ delete: true, at: 3000 }));
      assert.equal(deleted.keyValue, undefined);
      assert.equal(await store.getKeyValue(APP_CONFIG, "k", "prd"), undefined);
      assert.deepEqual(await change(() => ({ delete: true, at: 4000 })), { keyValue: undefined });
      assert.deepEqual(await change(() => ({ keep: true })), { keyValue: undefined });
      assert.deepEqual(await store.listKeyValues(APP_CONFIG), []);

      const sequences = [first.sequence, second.sequence, deleted.sequence];
      assert.ok(
        sequences.every((sequence) => Number.isInteger(sequence)),
        String(sequences),
      );
      assert.deepEqual(await store.listKeyValueRevisions(APP_CONFIG), [
        { sequence: first.sequence, key: "k", label: "prd", written: v1, at: 1000 },
        { sequence: second.sequence, key: "k", label: "prd", written: v2, at: 2000 },
        { sequence: deleted.sequence, key: "k", label: "prd", at: 3000 },
      ]);
      assert.ok(
        (first.sequence ?? 0) < (second.sequence ?? 0) && (second.sequence ?? 0) < (deleted.sequence ?? 0),
      );
    });

    test("revision sequences rise across every configuration store; revisions list per store, by key prefix", async () => {
      const store = await fresh();
      const sequences: number[] = [];
      for (const [configStore, key] of [
        [APP_CONFIG, "app:a"],
        [OTHER_CONFIG, "app:a"],
        [APP_CONFIG, "other"],
        [APP_CONFIG, "app:b"],
        [OTHER_CONFIG, "app:b"],
        [APP_CONFIG, "app:a"],
      ] as const) {
        const { sequence } = await putKeyValue(
          store,
          configStore,
          keyValue(key, null, String(sequences.length)),
        );
        sequences.push(sequence ?? Number.NaN);
      }
      assert.deepEqual(
        [...sequences].sort((a, b) => a - b),
        sequences,
      );
      assert.equal(new Set(sequences).size, sequences.length, String(sequences));

      const revisions = await store.listKeyValueRevisions(APP_CONFIG, { keyPrefix: "app:" });
      assert.deepEqual(
        revisions.map((revision) => [revision.sequence, revision.key, revision.written?.value]),
        [
          [sequences[0], "app:a", "0"],
          [sequences[3], "app:b", "3"],
          [sequences[5], "app:a", "5"],
        ],
      );
      assert.equal((await store.listKeyValueRevisions(OTHER_CONFIG.toUpperCase())).length, 2);
      assert.deepEqual(await store.listKeyValueRevisions(APP_CONFIG, { keyPrefix: "app:c" }), []);
    });

    test("the key-values' version: its stamp changes with every change (only then), its sequence is the highest; per store", async () => {
      const store = await fresh();
      assert.deepEqual(await store.keyValuesVersion(APP_CONFIG), { stamp: "", sequence: 0 });
      const { sequence: one } = await putKeyValue(store, APP_CONFIG, keyValue("a", null, "1"));
      const first = await store.keyValuesVersion(APP_CONFIG.toUpperCase());
      assert.notEqual(first.stamp, "");
      assert.equal(first.sequence, one);
      await store.changeKeyValue(APP_CONFIG, "a", null, () => ({ keep: true }));
      await store.changeKeyValue(APP_CONFIG, "missing", null, () => ({ delete: true, at: 1 }));
      assert.deepEqual(await store.keyValuesVersion(APP_CONFIG), first, "no change, same version");
      await putKeyValue(store, OTHER_CONFIG, keyValue("a", null, "1"));
      assert.deepEqual(await store.keyValuesVersion(APP_CONFIG), first, "another store's change");
      const { sequence: two } = await putKeyValue(store, APP_CONFIG, keyValue("a", null, "2"));
      const second = await store.keyValuesVersion(APP_CONFIG);
      assert.notEqual(second.stamp, first.stamp);
      assert.equal(second.sequence, two);
      const deleted = await store.changeKeyValue(APP_CONFIG, "a", null, () => ({ delete: true, at: 2 }));
      const third = await store.keyValuesVersion(APP_CONFIG);
      assert.notEqual(third.stamp, second.stamp, "a delete is a change");
      assert.equal(third.sequence, deleted.sequence);
      await store.deleteKeyValues(APP_CONFIG);
      assert.deepEqual(await store.keyValuesVersion(APP_CONFIG), { stamp: "", sequence: 0 });
      assert.notEqual((await store.keyValuesVersion(OTHER_CONFIG)).stamp, "");
    });

    test("deleteKeyValues removes that configuration store's key-values and revisions, and no other's", async () => {
      const store = await fresh();
      await putKeyValue(store, APP_CONFIG, keyValue("shared", null, "mine"));
      await putKeyValue(store, APP_CONFIG, keyValue("shared", "prd", "mine"));
      const { sequence: last } = await putKeyValue(store, OTHER_CONFIG, keyValue("shared", null, "theirs"));
      // A namesake store whose ID extends this one's must not be caught by the deletion.
      await putKeyValue(store, `${APP_CONFIG}0`, keyValue("shared", null, "namesake"));

      await store.deleteKeyValues(APP_CONFIG.toUpperCase());
      assert.deepEqual(await store.listKeyValues(APP_CONFIG), []);
      assert.deepEqual(await store.listKeyValueRevisions(APP_CONFIG), []);
      assert.equal(await store.getKeyValue(APP_CONFIG, "shared", "prd"), undefined);
      assert.deepEqual(
        (await store.listKeyValues(OTHER_CONFIG)).map((kv) => kv.value),
        ["theirs"],
      );
      assert.equal((await store.listKeyValueRevisions(OTHER_CONFIG)).length, 1);
      assert.equal((await store.listKeyValues(`${APP_CONFIG}0`)).length, 1);

      const { sequence: after } = await putKeyValue(store, APP_CONFIG, keyValue("shared", null, "again"));
      assert.ok((after ?? 0) > (last ?? Number.POSITIVE_INFINITY), "sequences are never reused");
    });

    test("a change that throws writes nothing, whether the key-value existed or not", async () => {
      const store = await fresh();
      const v1 = keyValue("k", null, "1");
      await putKeyValue(store, APP_CONFIG, v1);
      const refuse = (): never => {
        throw new PreconditionFailed("the etag does not match");
      };

      await assert.rejects(store.changeKeyValue(APP_CONFIG, "k", null, refuse), PreconditionFailed);
      await assert.rejects(store.changeKeyValue(APP_CONFIG, "new", null, refuse), PreconditionFailed);
      assert.deepEqual(await store.listKeyValues(APP_CONFIG), [v1]);
      assert.equal((await store.listKeyValueRevisions(APP_CONFIG)).length, 1);
    });

    test("a change cannot put another key-value than the one it was given", async () => {
      const store = await fresh();
      await assert.rejects(
        store.changeKeyValue(APP_CONFIG, "k", "prd", () => ({ put: keyValue("k", "dev", "1") })),
        /writes only the key-value it was given/,
      );
      await assert.rejects(
        store.changeKeyValue(APP_CONFIG, "k", null, () => ({ put: keyValue("K", null, "1") })),
        /writes only the key-value it was given/,
      );
      assert.deepEqual(await store.listKeyValues(APP_CONFIG), []);
      assert.deepEqual(await store.listKeyValueRevisions(APP_CONFIG), []);
    });

    test("key-values and revisions outlast a reopen, and sequences continue", async () => {
      const open = await newLocation();
      const first = await open();
      const written = keyValue("k", "prd", "1", { tags: { a: "b" } });
      const { sequence } = await putKeyValue(first, APP_CONFIG, written);
      await first.close();

      const reopened = await open();
      assert.deepEqual(await reopened.getKeyValue(APP_CONFIG, "k", "prd"), written);
      assert.equal((await reopened.listKeyValueRevisions(APP_CONFIG))[0]?.sequence, sequence);
      const next = await putKeyValue(reopened, APP_CONFIG, keyValue("k", "prd", "2"));
      assert.ok((next.sequence ?? 0) > (sequence ?? Number.POSITIVE_INFINITY));
    });

    test("two writers through separate connections racing If-Match-style: exactly one wins each round", async () => {
      const open = await newLocation();
      const writers = [await open(), await open()];
      const ifMatch =
        (expected: string | undefined, next: StoredKeyValue) => (current: StoredKeyValue | undefined) => {
          if (current?.etag !== expected) throw new PreconditionFailed(`${current?.etag} is not ${expected}`);
          return { put: next };
        };
      const rounds = 8;
      for (let round = 0; round < rounds; round++) {
        // Both read the same state first (round 0: no key-value yet, as If-None-Match: * expects), then both write.
        const seen = await Promise.all(
          writers.map((writer) => writer.getKeyValue(APP_CONFIG, "counter", null)),
        );
        const outcomes = await Promise.allSettled(
          writers.map((writer, w) =>
            writer.changeKeyValue(
              APP_CONFIG,
              "counter",
              null,
              ifMatch(
                seen[w]?.etag,
                keyValue("counter", null, String(round), { etag: `round-${round}-writer-${w}` }),
              ),
            ),
          ),
        );
        const won = outcomes.filter((outcome) => outcome.status === "fulfilled");
        const lost = outcomes.filter((outcome) => outcome.status === "rejected");
        assert.equal(won.length, 1, `round ${round}: ${outcomes.map((o) => o.status).join(", ")}`);
        assert.ok(lost[0]?.reason instanceof PreconditionFailed, String(lost[0]?.reason));
      }
      assert.equal((await writers[1]?.getKeyValue(APP_CONFIG, "counter", null))?.value, String(rounds - 1));
      assert.equal((await writers[0]?.listKeyValueRevisions(APP_CONFIG))?.length, rounds);
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
