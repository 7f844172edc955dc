// When the token service's keys change, decided from their times alone (no I/O), so that whichever replica holds
// the rotation lease makes the same decision. A new key is published `overlapSeconds` before it signs, so that
// every verifier (each replica's vaults, a resource server caching the JWKS) knows it by then; the key it replaces
// stays published `retainSeconds` after, so that the tokens it signed verify until they expire.

export interface RotationPolicy {
  /** A signing key's age at which its successor is published. */
  rotateAfterSeconds: number;
  /** How long a successor is published before it signs. */
  overlapSeconds: number;
  /** How long a retired key stays published. */
  retainSeconds: number;
}

/** The times of one key, in epoch seconds. */
export interface KeyTimes {
  kid: string;
  created: number;
  activatesAt?: number;
  retiredAt?: number;
}

export type RotationStep =
  | { kind: "none" }
  /** Publish a successor that signs from `activatesAt`. */
  | { kind: "publish-successor"; activatesAt: number }
  /** The successor signs now: mark the keys it replaced as retired at `retiredAt`. */
  | { kind: "retire"; kids: string[]; retiredAt: number };

const startsSigning = (key: KeyTimes) => key.activatesAt ?? key.created;

/**
 * The key that signs at `now`: the newest whose signing time has come and not yet passed. A key signs from
 * `activatesAt` until `retiredAt` (set to its successor's `activatesAt`), so a replica whose clock is behind the
 * lease holder's keeps signing with the old key until its own clock reaches the change.
 */
export function signingKeyAt<K extends KeyTimes>(keys: readonly K[], now: number): K | undefined {
  return keys.findLast(
    (key) => startsSigning(key) <= now && (key.retiredAt === undefined || key.retiredAt > now),
  );
}

/** Whether a key is still published at `now`: not retired, or retired less than `retainSeconds` ago. */
export function isPublishedAt(key: KeyTimes, now: number, retainSeconds: number): boolean {
  return key.retiredAt === undefined || key.retiredAt + retainSeconds > now;
}

/** What the rotation lease's holder does next with keys in the order they were made, at `now`. */
export function nextRotationStep(
  keys: readonly KeyTimes[],
  policy: RotationPolicy,
  now: number,
): RotationStep {
  const signing = signingKeyAt(keys, now);
  if (!signing) return { kind: "publish-successor", activatesAt: now };
  // Keys are in the order they were made: those before the signing one are what it replaced.
  const replaced = keys.slice(0, keys.indexOf(signing)).filter((key) => key.retiredAt === undefined);
  if (replaced.length > 0) {
    return { kind: "retire", kids: replaced.map((key) => key.kid), retiredAt: startsSigning(signing) };
  }
  const successorPending = keys.some((key) => key.retiredAt === undefined && startsSigning(key) > now);
  if (!successorPending && now - startsSigning(signing) >= policy.rotateAfterSeconds) {
    return { kind: "publish-successor", activatesAt: now + policy.overlapSeconds };
  }
  return { kind: "none" };
}
