// Backup blobs: every version of one secret, as base64url-encoded JSON. Unlike Azure's blobs they are
// not encrypted, so a blob must be guarded like the secret values it contains. Restore reads the blob
// as untrusted input and checks every member.

import { isPlainObject } from "../../json/json-value.ts";
import type { SecretVersion } from "../../store/store.ts";
import { isValidSecretName } from "./secret-bundle.ts";
import { badParameter } from "./vault-error.ts";

const BACKUP_FORMAT = "wikit.secret-backup.v1";

/** A secret's versions without their vault, ready to restore into any vault. */
export type BackedUpVersion = Omit<SecretVersion, "vaultId" | "deletedDate">;

export interface SecretBackup {
  name: string;
  /** Oldest first; the last one is the latest. */
  versions: BackedUpVersion[];
}

export function encodeSecretBackup(versions: readonly SecretVersion[]): string {
  const latest = versions.at(-1);
  if (!latest) throw new Error("a backup needs at least one version");
  const blob = {
    format: BACKUP_FORMAT,
    name: latest.name,
    versions: versions.map(({ vaultId: _vault, deletedDate: _deleted, ...version }) => version),
  };
  return Buffer.from(JSON.stringify(blob), "utf8").toString("base64url");
}

export function decodeSecretBackup(value: unknown): SecretBackup {
  const invalid = badParameter(
    "The backup blob is not valid: pass the 'value' returned by POST /secrets/{name}/backup unchanged.",
  );
  if (typeof value !== "string" || !/^[A-Za-z0-9_-]+={0,2}$/.test(value)) throw invalid;
  let blob: unknown;
  try {
    blob = JSON.parse(Buffer.from(value, "base64url").toString("utf8"));
  } catch {
    throw invalid;
  }
  if (!isPlainObject(blob) || blob.format !== BACKUP_FORMAT || typeof blob.name !== "string") throw invalid;
  const { name } = blob;
  if (!isValidSecretName(name) || !Array.isArray(blob.versions) || blob.versions.length === 0) throw invalid;
  const versions = blob.versions.map(toBackedUpVersion);
  if (
    !versions.every((version) => version !== undefined && version.name.toLowerCase() === name.toLowerCase())
  ) {
    throw invalid;
  }
  return { name, versions: versions as BackedUpVersion[] };
}

/** The version's known members, checked; anything else in the blob is dropped. */
function toBackedUpVersion(version: unknown): BackedUpVersion | undefined {
  if (!isPlainObject(version)) return undefined;
  const {
    name,
    version: id,
    value,
    contentType,
    tags,
    enabled,
    created,
    updated,
    notBefore,
    expires,
  } = version;
  const isTime = (time: unknown): time is number => Number.isSafeInteger(time) && (time as number) >= 0;
  const valid =
    typeof name === "string" &&
    typeof id === "string" &&
    /^[0-9a-f]{32}$/.test(id) &&
    typeof value === "string" &&
    (contentType === undefined || typeof contentType === "string") &&
    isPlainObject(tags) &&
    Object.values(tags).every((tag) => typeof tag === "string") &&
    typeof enabled === "boolean" &&
    isTime(created) &&
    isTime(updated) &&
    (notBefore === undefined || isTime(notBefore)) &&
    (expires === undefined || isTime(expires));
  if (!valid) return undefined;
  return {
    name,
    version: id,
    value,
    contentType,
    tags: tags as Record<string, string>,
    enabled,
    created,
    updated,
    notBefore,
    expires,
  };
}
