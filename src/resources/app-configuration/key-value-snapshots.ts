// Each configuration store's key-values in list order, kept in memory and checked against the store's stamp on every
// use: while nothing changed, a list is answered from memory, starting at its page by binary search; after any change,
// from this process or another replica, the key-values are read again. Each key-value's JSON is made once.

import type { StoredKeyValue } from "../../store/store.ts";
import { keyValueJson } from "./key-value-documents.ts";

/** A key-value with where it sorts in lists. */
export interface ListedKeyValue {
  keyValue: StoredKeyValue;
  /** By key, then label, the null label first: the order of lists and of `after` tokens. */
  position: string;
  /** The key-value's JSON with every field. */
  json(): string;
}

/** Where a key-value sorts; keys and labels compare by UTF-16 code unit, as the pages' tokens do. */
export function keyValuePosition(kv: { key: string; label: string | null }): string {
  return `${kv.key}\u0000${labelPosition(kv.label)}`;
}

/** Where a label sorts among labels: the null label first. */
export const labelPosition = (label: string | null): string => (label === null ? "" : `\u0001${label}`);

export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function listed(keyValues: readonly StoredKeyValue[]): ListedKeyValue[] {
  return keyValues
    .map((keyValue) => {
      let json: string | undefined;
      return {
        keyValue,
        position: keyValuePosition(keyValue),
        json: () => {
          json ??= JSON.stringify(keyValueJson(keyValue));
          return json;
        },
      };
    })
    .sort((a, b) => byCodeUnit(a.position, b.position));
}

/** The index of the first item whose position is at least `position` (`after`: greater than it). */
export function firstIndexFrom(
  items: readonly ListedKeyValue[],
  position: string,
  { after = false } = {},
): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const current = (items[middle] as ListedKeyValue).position;
    if (current < position || (after && current === position)) low = middle + 1;
    else high = middle;
  }
  return low;
}

export class KeyValueSnapshots {
  readonly #snapshots = new Map<string, { version: string; items: ListedKeyValue[] }>();
  readonly #capacity: number;

  /** `capacity`: how many stores' key-values are kept; the least recently listed go first. */
  constructor(capacity = 32) {
    this.#capacity = capacity;
  }

  /** The store's key-values in list order, as of `version` (the store's stamp, read before this call) or newer. */
  async sorted(
    configurationStoreId: string,
    version: string,
    load: () => Promise<StoredKeyValue[]>,
  ): Promise<readonly ListedKeyValue[]> {
    const id = configurationStoreId.toLowerCase();
    const kept = this.#snapshots.get(id);
    this.#snapshots.delete(id);
    if (kept?.version === version) {
      this.#snapshots.set(id, kept);
      return kept.items;
    }
    const items = listed(await load());
    this.#snapshots.set(id, { version, items });
    if (this.#snapshots.size > this.#capacity) {
      const leastRecent = this.#snapshots.keys().next().value;
      if (leastRecent !== undefined) this.#snapshots.delete(leastRecent);
    }
    return items;
  }
}
