// What the data plane keeps between requests beside the store, without other I/O: new entity tags, the
// `Sync-Token` a write answers with, and the signatures of writes already served (so a captured write is not
// replayed within the time its date stays acceptable).

import { createHash, randomBytes } from "node:crypto";
import { KeyValueError } from "./key-value-documents.ts";
import { invalidArgument } from "./problem-details.ts";

/** A new key-value state's entity tag: opaque, unique, URL-safe. */
export const newEtag = (): string => randomBytes(24).toString("base64url");

/**
 * The `Sync-Token` of a write: `{id}={value};sn={sequence}`, the ID stable per store and the sequence the write's
 * revision. Clients send tokens back on later requests; a store this consistent already holds every write they name.
 */
export function syncToken(configurationStoreId: string, sequence: number): string {
  const id = createHash("sha256").update(configurationStoreId.toLowerCase()).digest("base64url").slice(0, 8);
  return `${id}=${Buffer.from(String(sequence)).toString("base64")};sn=${sequence}`;
}

/** Sync tokens a client sends back (comma-separated): each `{id}={value}`, the `;sn={sequence}` optional. */
export function checkSyncTokens(header: string): void {
  for (const token of header.split(",")) {
    if (!/^\s*[^=;,\s]+=[^;,\s]+(;sn=\d+)?\s*$/.test(token)) {
      throw new KeyValueError(
        invalidArgument(
          "Sync-Token",
          `'${token.trim()}' is not a sync token: it reads <id>=<value>, as a response's Sync-Token gave it.`,
        ),
      );
    }
  }
}

/**
 * Remembers the signatures of the writes that took effect within the allowed clock skew: the same signature again
 * is a replay. A refused write (a 409, a 412) may be sent again as it was.
 */
export class ReplayGuard {
  readonly #seen = new Map<string, number>();
  readonly #windowMs: number;
  readonly #capacity: number;

  constructor(windowMs: number, capacity = 100_000) {
    this.#windowMs = windowMs;
    this.#capacity = capacity;
  }

  wasUsed(signature: string, now: number): boolean {
    this.#forgetBefore(now - this.#windowMs);
    return this.#seen.has(signature);
  }

  remember(signature: string, now: number): void {
    // Past capacity the oldest go first: their dates leave the window soonest.
    if (this.#seen.size >= this.#capacity) {
      const oldest = this.#seen.keys().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    this.#seen.set(signature, now);
  }

  #forgetBefore(cutoff: number): void {
    // Insertion order is time order: stop at the first one still inside the window.
    for (const [signature, at] of this.#seen) {
      if (at >= cutoff) break;
      this.#seen.delete(signature);
    }
  }
}
