// A key-value's history (`/revisions`, and `Accept-Datetime` on `/kv`), without I/O: every write and delete is a
// revision; the key-value at a past moment is its latest revision up to that moment, unless that was a delete.

import type { KeyValueRecord } from "./key-value-documents.ts";
import { KeyValueError } from "./key-value-documents.ts";
import { invalidArgument } from "./problem-details.ts";

/** One change to a key and label: the key-value as written, or its deletion. */
export type Revision =
  | { kind: "set"; record: KeyValueRecord }
  | { kind: "deleted"; key: string; label: string | null; at: number };

const timeOf = (revision: Revision): number =>
  revision.kind === "set" ? revision.record.lastModified : revision.at;

/** The key-value as it was at `moment` (epoch ms), from its revisions in the order they happened. */
export function stateAt(revisions: readonly Revision[], moment: number): KeyValueRecord | undefined {
  const latest = revisions.findLast((revision) => timeOf(revision) <= moment);
  return latest?.kind === "set" ? latest.record : undefined;
}

/** An `Accept-Datetime` header (an HTTP-date), as epoch ms; refused when it is not one or lies in the future. */
export function parseAcceptDatetime(header: string, now: number): number {
  const moment = Date.parse(header);
  if (Number.isNaN(moment)) {
    throw new KeyValueError(
      invalidArgument(
        "Accept-Datetime",
        `'${header}' is not an HTTP-date, e.g. Sat, 12 May 2018 02:10:00 GMT.`,
      ),
    );
  }
  if (moment > now) {
    throw new KeyValueError(invalidArgument("Accept-Datetime", "Accept-Datetime lies in the future."));
  }
  return moment;
}

/** The `Memento-Datetime` a time-based answer carries: the moment it describes. */
export const mementoDatetime = (moment: number): string => new Date(moment).toUTCString();
