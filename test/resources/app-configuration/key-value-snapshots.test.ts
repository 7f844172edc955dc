import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  firstIndexFrom,
  KeyValueSnapshots,
  keyValuePosition,
  listed,
} from "../../../src/resources/app-configuration/key-value-snapshots.ts";
import type { StoredKeyValue } from "../../../src/store/store.ts";

const kv = (key: string, label: string | null): StoredKeyValue => ({
  key,
  label,
  value: `${key}@${label}`,
  contentType: null,
  tags: {},
  locked: false,
  etag: "e",
  lastModified: 0,
});

describe("App Configuration key-value snapshots", () => {
  test("list order is by key, then label with the null label first; a key's extension sorts after all its labels", () => {
    const items = listed([kv("ab", null), kv("a", "z"), kv("a", null), kv("a", "b")]);
    assert.deepEqual(
      items.map((item) => item.keyValue.value),
      ["a@null", "a@b", "a@z", "ab@null"],
    );
    assert.equal(
      items[1]?.json(),
      JSON.stringify(JSON.parse(items[1]?.json() ?? "")),
      "valid JSON, made once",
    );
  });

  test("the first index at or after a position, and strictly after it", () => {
    const items = listed(["a", "b", "b:1", "c"].map((key) => kv(key, null)));
    assert.equal(firstIndexFrom(items, "b"), 1);
    assert.equal(firstIndexFrom(items, keyValuePosition(kv("b", null)), { after: true }), 2);
    assert.equal(firstIndexFrom(items, "d"), 4);
    assert.equal(firstIndexFrom(items, ""), 0);
  });

  test("a snapshot is reused while the stamp holds, read again when it changes, and the least recent goes first", async () => {
    const snapshots = new KeyValueSnapshots(2);
    let loads = 0;
    const load = (key: string) => async () => {
      loads++;
      return [kv(key, null)];
    };
    await snapshots.sorted("/S/One", "v1", load("a"));
    assert.equal((await snapshots.sorted("/s/one", "v1", load("b")))[0]?.keyValue.key, "a");
    assert.equal(loads, 1, "same store (IDs case-insensitive), same stamp: from memory");
    assert.equal((await snapshots.sorted("/s/one", "v2", load("b")))[0]?.keyValue.key, "b");
    await snapshots.sorted("/s/two", "v1", load("c"));
    await snapshots.sorted("/s/one", "v2", load("x"));
    await snapshots.sorted("/s/three", "v1", load("d"));
    assert.equal(loads, 4);
    await snapshots.sorted("/s/one", "v2", load("x"));
    assert.equal(loads, 4, "one was used more recently than two");
    await snapshots.sorted("/s/two", "v1", load("c"));
    assert.equal(loads, 5, "two was dropped");
  });
});
