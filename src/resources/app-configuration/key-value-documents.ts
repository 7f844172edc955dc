// Key-values as the data plane takes and gives them, without I/O: the rules on a key, the body of a PUT, the JSON
// of a key-value (`application/vnd.microsoft.appconfig.kv+json`) and its `$select` projection.

import type { StoredKeyValue } from "../../store/store.ts";
import { invalidArgument, type ProblemDetails } from "./problem-details.ts";

/** A key-value as stored: one revision of one key and label (the store's own record). */
export type KeyValueRecord = StoredKeyValue;

/** What a PUT sets; every member may be omitted. */
export interface KeyValueInput {
  value: string | null;
  contentType: string | null;
  tags: Record<string, string>;
}

/** A request the data plane refuses, with the problem it answers. */
export class KeyValueError extends Error {
  override readonly name = "KeyValueError";
  readonly problem: ProblemDetails;

  constructor(problem: ProblemDetails) {
    super(problem.detail ?? problem.title);
    this.problem = problem;
  }
}

const FIELDS = ["key", "label", "content_type", "value", "last_modified", "tags", "locked", "etag"] as const;
export type KeyValueField = (typeof FIELDS)[number];

/** Keys may hold any character but `%`; `.` and `..` are reserved. */
export function checkKey(key: string): void {
  if (key === "" || key === "." || key === "..") {
    throw new KeyValueError(invalidArgument("key", `The key '${key}' is reserved or empty.`));
  }
  if (key.includes("%")) {
    throw new KeyValueError(
      invalidArgument("key", `The key '${key}' contains '%', which keys may not hold.`),
    );
  }
}

/** The body of a PUT /kv/{key}: `{"value", "content_type", "tags"}`, each optional, each of its own type. */
export function parseKeyValueBody(body: unknown): KeyValueInput {
  const input = body === undefined || body === null ? {} : body;
  if (typeof input !== "object" || Array.isArray(input)) {
    throw new KeyValueError(invalidArgument("body", "The body must be a JSON object."));
  }
  const { value = null, content_type: contentType = null, tags = {} } = input as Record<string, unknown>;
  if (value !== null && typeof value !== "string") {
    throw new KeyValueError(invalidArgument("value", "'value' must be a string or null."));
  }
  if (contentType !== null && typeof contentType !== "string") {
    throw new KeyValueError(invalidArgument("content_type", "'content_type' must be a string or null."));
  }
  const tagsOk =
    tags !== null &&
    typeof tags === "object" &&
    !Array.isArray(tags) &&
    Object.values(tags).every((tag) => typeof tag === "string");
  if (!tagsOk) {
    throw new KeyValueError(invalidArgument("tags", "'tags' must be an object of string values."));
  }
  return { value, contentType, tags: { ...(tags as Record<string, string>) } };
}

/** The `$select` fields (comma-separated, case-insensitive); all of them when absent. */
export function parseSelect(select: string | undefined): readonly KeyValueField[] {
  if (select === undefined || select.trim() === "") return FIELDS;
  return select.split(",").map((field) => {
    const name = field.trim().toLowerCase();
    if (!(FIELDS as readonly string[]).includes(name)) {
      throw new KeyValueError(
        invalidArgument("$select", `'${field.trim()}' is not a field of a key-value: ${FIELDS.join(", ")}.`),
      );
    }
    return name as KeyValueField;
  });
}

/** The key-value's JSON, with only the `fields` asked for, in the service's member order. */
export function keyValueJson(record: KeyValueRecord, fields: readonly KeyValueField[] = FIELDS) {
  const all: Record<KeyValueField, unknown> = {
    etag: record.etag,
    key: record.key,
    label: record.label,
    content_type: record.contentType,
    value: record.value,
    tags: record.tags,
    locked: record.locked,
    last_modified: lastModifiedText(record.lastModified),
  };
  const order: KeyValueField[] = [
    "etag",
    "key",
    "label",
    "content_type",
    "value",
    "tags",
    "locked",
    "last_modified",
  ];
  return Object.fromEntries(
    order.filter((field) => fields.includes(field)).map((field) => [field, all[field]]),
  );
}

/** ISO 8601 with an explicit offset, as the service writes `last_modified`. */
export function lastModifiedText(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, "+00:00");
}
