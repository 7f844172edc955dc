// What the mutation reads from a pod and its ServiceAccount: names, annotations and the values derived from
// them (reserved volume name and mount path, token lifetime, proxy port), each with upstream's defaults.

import { hash } from "node:crypto";
import {
  DEFAULT_PROXY_PORT,
  DEFAULT_SERVICE_ACCOUNT_NAME,
  DEFAULT_TOKEN_EXPIRATION_SECONDS,
  IDENTITY_HASH_LENGTH,
  MAX_TOKEN_EXPIRATION_SECONDS,
  MIN_TOKEN_EXPIRATION_SECONDS,
  MOUNT_PATH_BASE,
  PROXY_SIDECAR_PORT_ANNOTATION,
  RESERVED_VOLUME_NAME_PREFIX,
  SKIP_CONTAINERS_ANNOTATION,
  TOKEN_EXPIRATION_ANNOTATION,
  TOKEN_SUB_PATH,
} from "./constants.ts";
import { parseGoInt } from "./go-strconv.ts";
import { member, text } from "./json-access.ts";
import type { Parsed } from "./parsed.ts";

/** The part of a ServiceAccount the mutation reads: its name and annotations. */
export interface ServiceAccountLike {
  metadata?: { name?: string; annotations?: Record<string, string> };
}

/** `metadata.name`, or for pods still waiting for a generated name, `<generateName> (prefix)`. */
export function podIdentityString(pod: unknown): string {
  const metadata = member(pod, "metadata");
  const name = text(member(metadata, "name"));
  if (name) return name;
  return `${text(member(metadata, "generateName")) ?? ""} (prefix)`;
}

/** First 30 hex characters of SHA-256: the volume name then fills a DNS label exactly. */
function identityHash(identity: string): string {
  return hash("sha256", identity, "hex").slice(0, IDENTITY_HASH_LENGTH);
}

export interface ReservedNames {
  volumeName: string;
  /** Per-identity, so a second pass after the pod got its final name never reuses a mount path. */
  mountPath: string;
}

/** The reserved volume's name and mount path for this identity, from one hash. */
export function reservedNames(identity: string): ReservedNames {
  const hash = identityHash(identity);
  return { volumeName: `${RESERVED_VOLUME_NAME_PREFIX}${hash}`, mountPath: `${MOUNT_PATH_BASE}/${hash}` };
}

/** The token volume's name for a pod with this identity (see podIdentityString). */
export function reservedVolumeName(identity: string): string {
  return reservedNames(identity).volumeName;
}

/** Where the token volume is mounted for a pod with this identity. */
export function tokenMountPath(identity: string): string {
  return reservedNames(identity).mountPath;
}

/** The value of AZURE_FEDERATED_TOKEN_FILE for a pod with this identity. */
export function federatedTokenFile(identity: string): string {
  return `${tokenMountPath(identity)}/${TOKEN_SUB_PATH}`;
}

/** `spec.serviceAccountName`, or `default`; the deprecated `spec.serviceAccount` is never read. */
export function serviceAccountName(pod: unknown): string {
  return text(member(member(pod, "spec"), "serviceAccountName")) || DEFAULT_SERVICE_ACCOUNT_NAME;
}

/** Token lifetime: the pod's annotation if non-empty, else the ServiceAccount's, else 3600; within [3600, 86400]. */
export function tokenExpirationSeconds(
  pod: unknown,
  serviceAccount: ServiceAccountLike | undefined,
): Parsed<number> {
  const configured =
    annotation(pod, TOKEN_EXPIRATION_ANNOTATION) || annotation(serviceAccount, TOKEN_EXPIRATION_ANNOTATION);
  if (!configured) return { ok: true, value: DEFAULT_TOKEN_EXPIRATION_SECONDS };
  const parsed = parseGoInt(configured, 64);
  if (!parsed.ok) return parsed;
  const seconds = parsed.value;
  if (seconds < MIN_TOKEN_EXPIRATION_SECONDS || seconds > MAX_TOKEN_EXPIRATION_SECONDS) {
    return {
      ok: false,
      error: `token expiration ${seconds} not valid. Expected value to be between ${MIN_TOKEN_EXPIRATION_SECONDS} and ${MAX_TOKEN_EXPIRATION_SECONDS}`,
    };
  }
  return { ok: true, value: Number(seconds) };
}

/** The proxy port annotation (default 8000) as a signed 32-bit integer; no range check, as upstream. */
export function proxySidecarPort(pod: unknown): Parsed<number> {
  const configured = annotation(pod, PROXY_SIDECAR_PORT_ANNOTATION);
  if (configured === undefined) return { ok: true, value: DEFAULT_PROXY_PORT };
  const parsed = parseGoInt(configured, 32);
  return parsed.ok ? { ok: true, value: Number(parsed.value) } : parsed;
}

/** An annotation of a pod or ServiceAccount; undefined unless it is set to a string. */
export function annotation(object: unknown, key: string): string | undefined {
  return text(member(member(member(object, "metadata"), "annotations"), key));
}

/** Containers named in the skip annotation (`;`-separated) get nothing injected. */
export function skippedContainers(pod: unknown): Set<string> {
  const listed = annotation(pod, SKIP_CONTAINERS_ANNOTATION);
  return new Set(listed === undefined ? [] : listed.split(";").map((name) => name.trim()));
}
