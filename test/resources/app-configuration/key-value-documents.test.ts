import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  checkKey,
  KeyValueError,
  type KeyValueRecord,
  keyValueJson,
  parseKeyValueBody,
  parseSelect,
} from "../../../src/resources/app-configuration/key-value-documents.ts";

const RECORD: KeyValueRecord = {
  key: "myapp:color",
  label: "prd",
  value: "blue",
  contentType: null,
  tags: { team: "a" },
  locked: false,
  etag: "4f6dd610dd5e4deebc7fbaef685fb903",
  lastModified: Date.parse("2026-12-05T02:41:26Z"),
};

const refusedFor = (work: () => unknown) => {
  try {
    work();
  } catch (error) {
    assert.ok(error instanceof KeyValueError, String(error));
    return error.problem.name;
  }
  assert.fail("not refused");
};

describe("App Configuration key-value documents", () => {
  test("keys: any character but %, and neither . nor ..", () => {
    checkKey("myapp:settings/colour é");
    assert.equal(
      refusedFor(() => checkKey("50%")),
      "key",
    );
    assert.equal(
      refusedFor(() => checkKey(".")),
      "key",
    );
    assert.equal(
      refusedFor(() => checkKey("..")),
      "key",
    );
    assert.equal(
      refusedFor(() => checkKey("")),
      "key",
    );
  });

  test("a PUT body: each member optional, each of its own type", () => {
    assert.deepEqual(parseKeyValueBody(undefined), { value: null, contentType: null, tags: {} });
    assert.deepEqual(parseKeyValueBody({ value: "v", content_type: "text/plain", tags: { a: "b" } }), {
      value: "v",
      contentType: "text/plain",
      tags: { a: "b" },
    });
    assert.equal(
      refusedFor(() => parseKeyValueBody({ value: 3 })),
      "value",
    );
    assert.equal(
      refusedFor(() => parseKeyValueBody({ content_type: [] })),
      "content_type",
    );
    assert.equal(
      refusedFor(() => parseKeyValueBody({ tags: { a: 1 } })),
      "tags",
    );
    assert.equal(
      refusedFor(() => parseKeyValueBody([])),
      "body",
    );
  });

  test("the JSON of a key-value, whole or as $select asks", () => {
    assert.deepEqual(keyValueJson(RECORD), {
      etag: RECORD.etag,
      key: "myapp:color",
      label: "prd",
      content_type: null,
      value: "blue",
      tags: { team: "a" },
      locked: false,
      last_modified: "2026-12-05T02:41:26+00:00",
    });
    assert.deepEqual(keyValueJson(RECORD, parseSelect("Value, key")), { key: "myapp:color", value: "blue" });
    assert.equal(
      refusedFor(() => parseSelect("key,colour")),
      "$select",
    );
  });
});
