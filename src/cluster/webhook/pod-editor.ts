// How mutation steps change a pod: through a PodEditor, whose every edit is applied to the received JSON and
// recorded as a JSON Patch operation (RFC 6902, `add` and `replace` only), so that replaying the patch on the
// received pod gives exactly the edited pod.

import type { JsonObject, JsonValue } from "../../json/json-value.ts";
import { arrayOf, member, setMember } from "./json-access.ts";

export type JsonPatchOperation = { op: "add" | "replace"; path: string; value: JsonValue };

/** One step of a path into a document: a member name or an array index. */
export type PathSegment = string | number;

/** The edits a mutation step makes: each is applied to the pod at once and recorded in the patch. */
export interface PodEditor {
  read(path: readonly PathSegment[]): JsonValue | undefined;
  /** Adds the member at `path` to the object holding it. */
  addMember(path: readonly PathSegment[], value: JsonValue): void;
  /** Appends to the array at `path`, creating the whole array with one `add` when it is missing. */
  append(path: readonly PathSegment[], items: readonly JsonValue[]): void;
  /** Inserts at the front of the array at `path`, creating the array when it is missing. */
  prepend(path: readonly PathSegment[], item: JsonValue): void;
  /** Replaces the first element with the same name in place unless it is already equivalent, else appends. */
  upsertByName(
    path: readonly PathSegment[],
    item: JsonObject,
    isEquivalent: (existing: JsonValue, wanted: JsonObject) => boolean,
  ): void;
}

/**
 * Applies edits to the received document and records each one, so that the recorded patch replays them
 * exactly. Copy-on-write: the objects and arrays on an edit's path are copied the first time they are written,
 * everything else stays shared with the received document, which is never modified. Recorded values are
 * shared with the document too; a later edit inside one copies it first, so the patch keeps what it said.
 */
export class PatchRecorder implements PodEditor {
  #doc: JsonObject;
  readonly patch: JsonPatchOperation[] = [];
  /** The copies this recorder made: the only nodes it may change in place. */
  readonly #copies = new Set<JsonObject | JsonValue[]>();

  constructor(received: JsonObject) {
    this.#doc = received;
  }

  /** The received document with every edit applied; it shares what was not edited with the received one. */
  get doc(): JsonObject {
    return this.#doc;
  }

  read(path: readonly PathSegment[]): JsonValue | undefined {
    let node: JsonValue | undefined = this.#doc;
    for (const segment of path) {
      node =
        Array.isArray(node) && typeof segment === "number"
          ? node[segment]
          : (member(node, String(segment)) as JsonValue | undefined);
    }
    return node;
  }

  addMember(path: readonly PathSegment[], value: JsonValue): void {
    const parent = this.#writable(path.slice(0, -1));
    if (Array.isArray(parent))
      throw new Error(`cannot add a member at "${jsonPointer(path)}": not an object`);
    setMember(parent, String(path[path.length - 1]), value);
    this.patch.push({ op: "add", path: jsonPointer(path), value });
  }

  append(path: readonly PathSegment[], items: readonly JsonValue[]): void {
    if (items.length === 0) return;
    if (!Array.isArray(this.read(path))) {
      this.addMember(path, [...items]);
      return;
    }
    const list = this.#writableArray(path);
    const pointer = `${jsonPointer(path)}/-`;
    for (const item of items) {
      list.push(item);
      this.patch.push({ op: "add", path: pointer, value: item });
    }
  }

  prepend(path: readonly PathSegment[], item: JsonValue): void {
    if (!Array.isArray(this.read(path))) {
      this.addMember(path, [item]);
      return;
    }
    this.#writableArray(path).unshift(item);
    this.patch.push({ op: "add", path: `${jsonPointer(path)}/0`, value: item });
  }

  upsertByName(
    path: readonly PathSegment[],
    item: JsonObject,
    isEquivalent: (existing: JsonValue, wanted: JsonObject) => boolean,
  ): void {
    const list = arrayOf(this.read(path));
    const index = list.findIndex((existing) => member(existing, "name") === item.name);
    if (index === -1) {
      this.append(path, [item]);
    } else if (!isEquivalent(list[index] as JsonValue, item)) {
      this.#writableArray(path)[index] = item;
      this.patch.push({ op: "replace", path: `${jsonPointer(path)}/${index}`, value: item });
    }
  }

  #writableArray(path: readonly PathSegment[]): JsonValue[] {
    const node = this.#writable(path);
    if (!Array.isArray(node)) throw new Error(`cannot edit "${jsonPointer(path)}": not an array`);
    return node;
  }

  /** The node at `path`, which may be changed in place: it and every node above it are copies of this recorder's. */
  #writable(path: readonly PathSegment[]): JsonObject | JsonValue[] {
    this.#doc = this.#own(this.#doc);
    let node: JsonObject | JsonValue[] = this.#doc;
    for (const segment of path) {
      const child: unknown = Array.isArray(node) ? node[segment as number] : member(node, String(segment));
      if (typeof child !== "object" || child === null) {
        throw new Error(`cannot edit "${jsonPointer(path)}": "${segment}" is not an object or array`);
      }
      const copy = this.#own(child as JsonObject | JsonValue[]);
      if (copy !== child) {
        if (Array.isArray(node)) node[segment as number] = copy;
        else setMember(node, String(segment), copy);
      }
      node = copy;
    }
    return node;
  }

  #own<T extends JsonObject | JsonValue[]>(node: T): T {
    if (this.#copies.has(node)) return node;
    // Spreading defines members, so that one called "__proto__" stays plain data.
    const copy = (Array.isArray(node) ? node.slice() : { ...node }) as T;
    this.#copies.add(copy);
    return copy;
  }
}

/** RFC 6901: `~` becomes `~0` and `/` becomes `~1` inside each reference token. */
export function jsonPointer(path: readonly PathSegment[]): string {
  let pointer = "";
  for (const segment of path) {
    const token = String(segment);
    const escaped =
      token.includes("~") || token.includes("/") ? token.replaceAll("~", "~0").replaceAll("/", "~1") : token;
    pointer += `/${escaped}`;
  }
  return pointer;
}
