import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type CurrentKeyValue,
  decideRead,
  decideWrite,
  entityTags,
} from "../../../src/resources/app-configuration/conditional-requests.ts";

const CURRENT: CurrentKeyValue = { etag: "abc", locked: false };
const LOCKED: CurrentKeyValue = { etag: "abc", locked: true };

describe("App Configuration conditional requests", () => {
  test("entity tags: *, quoted, weak, listed", () => {
    assert.equal(entityTags(" * "), "*");
    assert.deepEqual(entityTags('"abc"'), ["abc"]);
    assert.deepEqual(entityTags('W/"abc", "def"'), ["abc", "def"]);
  });

  test("writes: each condition against an existing, a missing and a locked key-value", () => {
    const cases: [CurrentKeyValue | undefined, { ifMatch?: string; ifNoneMatch?: string }, string][] = [
      [CURRENT, {}, "write"],
      [undefined, {}, "write"],
      [CURRENT, { ifMatch: '"abc"' }, "write"],
      [CURRENT, { ifMatch: '"old"' }, "precondition-failed"],
      [undefined, { ifMatch: '"abc"' }, "precondition-failed"],
      [CURRENT, { ifMatch: "*" }, "write"],
      [undefined, { ifMatch: "*" }, "precondition-failed"],
      [undefined, { ifNoneMatch: "*" }, "write"],
      [CURRENT, { ifNoneMatch: "*" }, "precondition-failed"],
      [CURRENT, { ifNoneMatch: '"old"' }, "write"],
      [LOCKED, {}, "locked"],
      [LOCKED, { ifMatch: '"abc"' }, "locked"],
      [LOCKED, { ifMatch: '"old"' }, "precondition-failed"],
    ];
    for (const [current, conditions, expected] of cases) {
      assert.equal(
        decideWrite(current, conditions),
        expected,
        `${JSON.stringify(current)} ${JSON.stringify(conditions)}`,
      );
    }
  });

  test("reads: 304 when the client's copy is current, 412 when If-Match fails, 404 when missing", () => {
    assert.equal(decideRead(CURRENT, {}), "read");
    assert.equal(decideRead(CURRENT, { ifNoneMatch: '"abc"' }), "not-modified");
    assert.equal(decideRead(CURRENT, { ifNoneMatch: '"old"' }), "read");
    assert.equal(decideRead(CURRENT, { ifMatch: '"old"' }), "precondition-failed");
    assert.equal(decideRead(undefined, {}), "not-found");
    assert.equal(decideRead(undefined, { ifMatch: "*" }), "precondition-failed");
  });
});
