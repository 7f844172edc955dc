import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type AccessKeySecret,
  ConfigurationStoreCache,
} from "../../../src/resources/app-configuration/configuration-store-cache.ts";

const STORE_ID =
  "/subscriptions/s/resourceGroups/g/providers/Microsoft.AppConfiguration/configurationStores/settings";

/** A source that counts its lookups and whose stamp, stores and keys a test changes. */
function source() {
  const state = {
    stamp: "1",
    stores: new Set(["settings.azconfig.example.test"]),
    keys: [{ id: "k1", secret: Buffer.from("one"), readOnly: false }] as AccessKeySecret[],
    resolves: 0,
    keyReads: 0,
  };
  const cache = new ConfigurationStoreCache(
    {
      stamp: async () => state.stamp,
      resolve: async (host) => {
        state.resolves++;
        return state.stores.has(host.toLowerCase())
          ? {
              configurationStore: { id: STORE_ID, name: "settings", type: "t", properties: {} },
              tenantId: "t",
              audiences: [],
            }
          : undefined;
      },
      accessKeys: async () => {
        state.keyReads++;
        return state.keys;
      },
    },
    2,
  );
  return { state, cache };
}

describe("App Configuration store cache", () => {
  test("a store and its keys are looked up once while the stamp holds, and again once it changes", async () => {
    const { state, cache } = source();
    const first = await cache.at("Settings.azconfig.example.test");
    assert.equal(first.target?.configurationStore.id, STORE_ID);
    assert.equal((await first.accessKeys())[0]?.id, "k1");
    await (await cache.at("settings.azconfig.example.test")).accessKeys();
    assert.deepEqual([state.resolves, state.keyReads], [1, 1]);

    state.keys = [{ id: "k2", secret: Buffer.from("two"), readOnly: false }];
    state.stamp = "2";
    assert.equal((await (await cache.at("settings.azconfig.example.test")).accessKeys())[0]?.id, "k2");
    state.stores.clear();
    state.stamp = "3";
    assert.equal(
      (await cache.at("settings.azconfig.example.test")).target,
      undefined,
      "a deleted store is gone",
    );
    assert.deepEqual(await (await cache.at("settings.azconfig.example.test")).accessKeys(), []);
  });

  test("Hosts that name no store are kept within the bound, the least recent dropped", async () => {
    const { state, cache } = source();
    for (const host of ["a", "b", "a", "c", "a"]) await cache.at(host);
    assert.equal(state.resolves, 3, "a stayed, b went");
    await cache.at("b");
    assert.equal(state.resolves, 4);
  });
});
