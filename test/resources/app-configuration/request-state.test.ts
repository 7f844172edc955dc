import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { KeyValueError } from "../../../src/resources/app-configuration/key-value-documents.ts";
import {
  checkSyncTokens,
  newEtag,
  ReplayGuard,
  syncToken,
} from "../../../src/resources/app-configuration/request-state.ts";

const STORE =
  "/subscriptions/s/resourceGroups/g/providers/Microsoft.AppConfiguration/configurationStores/settings";

describe("App Configuration request state", () => {
  test("a Sync-Token names the store stably, whatever the ID's case, and the revision's sequence", () => {
    const token = syncToken(STORE, 42);
    assert.match(token, /^[A-Za-z0-9_-]{8}=[A-Za-z0-9+/=]+;sn=42$/);
    assert.equal(syncToken(STORE.toUpperCase(), 42), token);
    assert.notEqual(syncToken(`${STORE}2`, 42).split("=")[0], token.split("=")[0]);
  });

  test("sync tokens sent back are accepted with or without their sequence; anything else is refused by name", () => {
    checkSyncTokens(syncToken(STORE, 7));
    checkSyncTokens(`${syncToken(STORE, 7).split(";")[0]}, abc=MQ==`);
    for (const bad of ["", "no-equals", "a=b;sn=x", "a=b,=c"]) {
      assert.throws(
        () => checkSyncTokens(bad),
        (error: unknown) => error instanceof KeyValueError && error.problem.name === "Sync-Token",
        bad,
      );
    }
  });

  test("a remembered signature is a replay until it leaves the window; a full guard drops its oldest", () => {
    const guard = new ReplayGuard(1000, 2);
    guard.remember("a", 0);
    assert.equal(guard.wasUsed("a", 999), true);
    assert.equal(guard.wasUsed("b", 999), false);
    assert.equal(guard.wasUsed("a", 1001), false, "forgotten once outside the window");
    guard.remember("b", 1100);
    guard.remember("c", 1200);
    guard.remember("d", 1300);
    assert.deepEqual(
      ["b", "c", "d"].map((signature) => guard.wasUsed(signature, 1400)),
      [false, true, true],
    );
  });

  test("entity tags are fresh and URL-safe", () => {
    const tags = new Set(Array.from({ length: 100 }, newEtag));
    assert.equal(tags.size, 100);
    for (const tag of tags) assert.match(tag, /^[A-Za-z0-9_-]{32}$/);
  });
});
