// How both stores keep App Configuration key-values as rows: the null label as '', a key prefix as a range of the
// key index, a revision row read back as a KeyValueRevision. Shared so that SQLite and PostgreSQL cannot drift apart.

import type { KeyValueRevision, StoredKeyValue } from "./store.ts";

/** The label column's value: '' for the null label, which the data plane never tells from the empty label. */
export const labelColumn = (label: string | null): string => label ?? "";

/** The label a label column holds. */
export const labelOfColumn = (column: string): string | null => (column === "" ? null : column);

/** The record a put stores under `key` and `label`: as given, its empty label read as the null label. */
export function keyValueToWrite(put: StoredKeyValue, key: string, label: string | null): StoredKeyValue {
  if (put.key !== key || labelColumn(put.label) !== labelColumn(label)) {
    throw new Error(
      `a change of key '${key}' (label ${JSON.stringify(label)}) put key '${put.key}' (label ${JSON.stringify(put.label)}): a change writes only the key-value it was given`,
    );
  }
  return { ...put, label: labelOfColumn(labelColumn(put.label)) };
}

const LAST_CODE_POINT = 0x10ffff;
const LAST_BEFORE_SURROGATES = 0xd7ff;
const FIRST_AFTER_SURROGATES = 0xe000;

/**
 * The keys that start with `prefix`, as the range `from <= key < below` (no upper bound when `below` is undefined),
 * so that the key index finds them. Both stores order keys by code point (SQLite's BINARY collation and PostgreSQL's
 * COLLATE "C" compare UTF-8 bytes, which keep code-point order), so the range is exact for any characters, where
 * LIKE would need `%`, `_` and its escape escaped and could not use PostgreSQL's index.
 */
export function keyPrefixRange(prefix: string): { from: string; below?: string } {
  // Keys are stored as UTF-8, a lone surrogate as U+FFFD: the prefix is read the same way.
  const from = prefix.toWellFormed();
  const codePoints = [...from];
  // The least string above every one that starts with the prefix: its last code point raised by one, or, when that
  // is the last code point of all, the prefix without it raised instead.
  while (codePoints.length > 0) {
    const last = codePoints.pop()?.codePointAt(0) ?? LAST_CODE_POINT;
    if (last < LAST_CODE_POINT) {
      // No stored key holds a surrogate, so the code point after U+D7FF is U+E000.
      const next = last === LAST_BEFORE_SURROGATES ? FIRST_AFTER_SURROGATES : last + 1;
      return { from, below: codePoints.join("") + String.fromCodePoint(next) };
    }
  }
  return { from };
}

/** A row of a store's revision table. PostgreSQL gives bigint columns as strings. */
export interface KeyValueRevisionRow {
  seq: number | string;
  key: string;
  label: string;
  at: number | string;
  body: string | null;
}

export function keyValueRevision(row: KeyValueRevisionRow): KeyValueRevision {
  // Sequences and epoch milliseconds stay well within a double's exact range.
  const revision: KeyValueRevision = {
    sequence: Number(row.seq),
    key: row.key,
    label: labelOfColumn(row.label),
    at: Number(row.at),
  };
  if (row.body !== null) revision.written = JSON.parse(row.body) as StoredKeyValue;
  return revision;
}
