import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  KeyValueError,
  type KeyValueRecord,
} from "../../../src/resources/app-configuration/key-value-documents.ts";
import {
  mementoDatetime,
  parseAcceptDatetime,
  type Revision,
  stateAt,
} from "../../../src/resources/app-configuration/revisions.ts";

const record = (value: string, lastModified: number): KeyValueRecord => ({
  key: "myapp:color",
  label: "prd",
  value,
  contentType: null,
  tags: {},
  locked: false,
  etag: `etag-${value}`,
  lastModified,
});

const HISTORY: Revision[] = [
  { kind: "set", record: record("blue", 1000) },
  { kind: "set", record: record("red", 2000) },
  { kind: "deleted", key: "myapp:color", label: "prd", at: 3000 },
  { kind: "set", record: record("green", 4000) },
];

describe("App Configuration revisions", () => {
  test("the key-value at a moment is its latest revision up to then, absent after a delete", () => {
    assert.equal(stateAt(HISTORY, 999), undefined);
    assert.equal(stateAt(HISTORY, 1000)?.value, "blue");
    assert.equal(stateAt(HISTORY, 2500)?.value, "red");
    assert.equal(stateAt(HISTORY, 3500), undefined);
    assert.equal(stateAt(HISTORY, 9999)?.value, "green");
  });

  test("Accept-Datetime is an HTTP-date in the past; Memento-Datetime names the moment back", () => {
    const now = Date.parse("2026-12-05T10:00:00Z");
    const moment = parseAcceptDatetime("Sat, 12 May 2018 02:10:00 GMT", now);
    assert.equal(mementoDatetime(moment), "Sat, 12 May 2018 02:10:00 GMT");
    assert.throws(() => parseAcceptDatetime("yesterday", now), KeyValueError);
    assert.throws(() => parseAcceptDatetime("Sat, 12 May 2035 02:10:00 GMT", now), KeyValueError);
  });
});
