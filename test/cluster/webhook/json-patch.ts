// A JSON Patch applier (RFC 6902, `add` and `replace` only) for tests: it replays a webhook's patch on the
// received pod the way the API server would, so tests can compare the result with the pod the mutation
// returned. Checked against fast-json-patch in json-patch.test.ts.

import { cloneJson, member, setMember } from "../../../src/cluster/webhook/json-access.ts";
import type { JsonPatchOperation } from "../../../src/cluster/webhook/pod-editor.ts";
import type { JsonValue } from "../../../src/json/json-value.ts";

/** Applies `add`/`replace` operations to a copy of `doc`; throws on any other operation or an invalid path. */
export function applyJsonPatch(doc: JsonValue, operations: readonly JsonPatchOperation[]): JsonValue {
  let result = cloneJson(doc);
  for (const operation of operations) result = applyOperation(result, operation);
  return result;
}

/** Applies one operation in place and returns the (possibly new) root. */
function applyOperation(root: JsonValue, operation: JsonPatchOperation): JsonValue {
  const { op, path } = operation;
  const fail = (reason: string) => new Error(`cannot apply JSON Patch "${op}" at "${path}": ${reason}`);
  if (op !== "add" && op !== "replace") throw fail("only add and replace are supported");
  const tokens = parsePointer(path);
  const value = cloneJson(operation.value);
  const key = tokens.pop();
  if (key === undefined) return value;
  let parent: JsonValue = root;
  for (const token of tokens) {
    const next = childAt(parent, token);
    if (next === undefined) throw fail(`"${token}" does not exist`);
    parent = next;
  }
  if (Array.isArray(parent)) {
    const index = op === "add" && key === "-" ? parent.length : arrayIndex(key);
    const last = op === "add" ? parent.length : parent.length - 1;
    if (index === undefined || index > last) {
      throw fail(`"${key}" is not a valid index into an array of ${parent.length}`);
    }
    if (op === "add") parent.splice(index, 0, value);
    else parent[index] = value;
    return root;
  }
  if (typeof parent !== "object" || parent === null)
    throw fail("the parent is neither an object nor an array");
  if (op === "replace" && !Object.hasOwn(parent, key)) throw fail(`member "${key}" does not exist`);
  setMember(parent, key, value);
  return root;
}

function childAt(parent: JsonValue, token: string): JsonValue | undefined {
  if (Array.isArray(parent)) {
    const index = arrayIndex(token);
    return index === undefined ? undefined : parent[index];
  }
  return member(parent, token) as JsonValue | undefined;
}

function arrayIndex(token: string): number | undefined {
  return /^(0|[1-9][0-9]*)$/.test(token) ? Number(token) : undefined;
}

function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/") || /~([^01]|$)/.test(pointer)) {
    throw new Error(`invalid JSON pointer "${pointer}"`);
  }
  return pointer
    .slice(1)
    .split("/")
    .map((token) => token.replaceAll("~1", "/").replaceAll("~0", "~"));
}
