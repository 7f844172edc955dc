// Conditional requests on a key-value (`If-Match`, `If-None-Match`) and its lock, decided without I/O: what a
// read or a write of the key-value as it is now is answered with. Entity tags are compared strongly; `*` matches
// any existing key-value; a list of tags matches when one does.

/** The key-value as stored, as far as conditions and locks are concerned; undefined when it does not exist. */
export interface CurrentKeyValue {
  etag: string;
  /** Locked key-values are read-only until unlocked. */
  locked: boolean;
}

export interface Conditions {
  ifMatch?: string;
  ifNoneMatch?: string;
}

export type ReadDecision = "read" | "not-modified" | "precondition-failed" | "not-found";
export type WriteDecision = "write" | "precondition-failed" | "locked";

/** The entity tags of an If-Match or If-None-Match header: `*`, or the tags listed (quotes and `W/` dropped). */
export function entityTags(header: string): "*" | string[] {
  if (header.trim() === "*") return "*";
  return header
    .split(",")
    .map((tag) =>
      tag
        .trim()
        .replace(/^W\//, "")
        .replace(/^"(.*)"$/, "$1"),
    )
    .filter((tag) => tag !== "");
}

const matches = (header: string, current: CurrentKeyValue | undefined): boolean => {
  if (!current) return false;
  const tags = entityTags(header);
  return tags === "*" || tags.includes(current.etag);
};

/** A GET or HEAD: If-Match that fails is 412; If-None-Match that matches is 304 (the client's copy is current). */
export function decideRead(current: CurrentKeyValue | undefined, conditions: Conditions): ReadDecision {
  if (conditions.ifMatch !== undefined && !matches(conditions.ifMatch, current)) return "precondition-failed";
  if (!current) return "not-found";
  if (conditions.ifNoneMatch !== undefined && matches(conditions.ifNoneMatch, current)) return "not-modified";
  return "read";
}

/**
 * A PUT or DELETE: If-Match must match the current key-value (so `*` demands that it exists); If-None-Match must
 * not (so `*` demands that it does not). A locked key-value is not written whatever the conditions say; a write
 * that fails its conditions is refused first, as the client's view is what is out of date.
 */
export function decideWrite(current: CurrentKeyValue | undefined, conditions: Conditions): WriteDecision {
  if (conditions.ifMatch !== undefined && !matches(conditions.ifMatch, current)) return "precondition-failed";
  if (conditions.ifNoneMatch !== undefined && matches(conditions.ifNoneMatch, current))
    return "precondition-failed";
  if (current?.locked) return "locked";
  return "write";
}
