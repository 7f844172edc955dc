// Key Vault's secret JSON shapes (SecretBundle, SecretItem, DeletedSecretBundle, DeletedSecretItem) and
// the validation of what clients send. Times on the wire are integer epoch seconds.

import { isPlainObject } from "../../json/json-value.ts";
import type { SecretVersion } from "../../store/store.ts";
import { MAX_SECRET_VALUE_BYTES, RECOVERABLE_DAYS, RECOVERY_LEVEL } from "./constants.ts";
import { badParameter } from "./vault-error.ts";

export interface SecretAttributes {
  enabled: boolean;
  nbf?: number;
  exp?: number;
  created: number;
  updated: number;
  recoveryLevel: string;
  recoverableDays: number;
}

export interface SecretItem {
  id: string;
  contentType?: string;
  attributes: SecretAttributes;
  tags: Record<string, string>;
}

export interface SecretBundle extends SecretItem {
  value?: string;
}

export interface DeletedSecretFields {
  recoveryId: string;
  deletedDate: number;
  scheduledPurgeDate: number;
}

export type DeletedSecretItem = SecretItem & DeletedSecretFields;
export type DeletedSecretBundle = SecretBundle & DeletedSecretFields;

/**
 * `{origin}/secrets/{name}[/{version}]`, where `origin` is the request's scheme, host and port
 * (`https://kv1.vault.example.test:8443`). The JavaScript SDK parses this ID and fails on any other shape.
 */
export function secretId(origin: string, name: string, version?: string): string {
  return `${origin}/secrets/${name}${version ? `/${version}` : ""}`;
}

/** A secret version as clients read it; `withValue` is false wherever the caller did not ask for the value. */
export function secretBundle(
  secret: SecretVersion,
  origin: string,
  options: { withValue: boolean },
): SecretBundle {
  return {
    ...(options.withValue ? { value: secret.value } : {}),
    ...secretItem(secret, origin, { withVersion: true }),
  };
}

/** A list entry: secrets lists show IDs without version, version lists with it. */
export function secretItem(
  secret: SecretVersion,
  origin: string,
  options: { withVersion: boolean },
): SecretItem {
  const attributes: SecretAttributes = {
    enabled: secret.enabled,
    ...(secret.notBefore !== undefined ? { nbf: secret.notBefore } : {}),
    ...(secret.expires !== undefined ? { exp: secret.expires } : {}),
    created: secret.created,
    updated: secret.updated,
    recoveryLevel: RECOVERY_LEVEL,
    recoverableDays: RECOVERABLE_DAYS,
  };
  return {
    id: secretId(origin, secret.name, options.withVersion ? secret.version : undefined),
    ...(secret.contentType !== undefined ? { contentType: secret.contentType } : {}),
    attributes,
    tags: secret.tags,
  };
}

/** A soft-deleted secret (its latest version); never with the value. */
export function deletedSecretBundle(secret: SecretVersion, origin: string): DeletedSecretBundle {
  return { ...secretBundle(secret, origin, { withValue: false }), ...deletedSecretFields(secret, origin) };
}

export function deletedSecretItem(secret: SecretVersion, origin: string): DeletedSecretItem {
  return { ...secretItem(secret, origin, { withVersion: false }), ...deletedSecretFields(secret, origin) };
}

function deletedSecretFields(secret: SecretVersion, origin: string): DeletedSecretFields {
  const deletedDate = secret.deletedDate ?? secret.updated;
  return {
    recoveryId: `${origin}/deletedsecrets/${secret.name}`,
    deletedDate,
    scheduledPurgeDate: deletedDate + RECOVERABLE_DAYS * 24 * 60 * 60,
  };
}

// Validation ---------------------------------------------------------------------------------------

const SECRET_NAME = /^[0-9a-zA-Z-]{1,127}$/;
const SECRET_VERSION = /^[0-9a-f]{32}$/;
const MAX_TAGS = 15;

export function isValidSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

export function checkSecretName(name: string): string {
  if (!isValidSecretName(name)) {
    throw badParameter(
      `The secret name '${name}' is invalid: secret names are 1-127 characters of letters, digits and '-'.`,
    );
  }
  return name;
}

/** An empty version segment (`/secrets/{name}/`) means the latest version. */
export function checkSecretVersion(version: string | undefined): string | undefined {
  if (version === undefined || version === "") return undefined;
  if (!SECRET_VERSION.test(version)) {
    throw badParameter(
      `The secret version '${version}' is invalid: versions are 32 lowercase hexadecimal characters.`,
    );
  }
  return version;
}

/** Attribute changes a client may make; `null` clears `nbf` or `exp`. */
export interface AttributeChanges {
  enabled?: boolean;
  nbf?: number | null;
  exp?: number | null;
}

export interface SetSecretRequest {
  value: string;
  contentType?: string;
  tags?: Record<string, string>;
  attributes: AttributeChanges;
}

export interface UpdateSecretRequest {
  contentType?: string;
  tags?: Record<string, string>;
  attributes: AttributeChanges;
}

/** The request body as JSON; it stays text until the caller is authenticated. */
export function parseJsonObject(text: unknown, example: string): Record<string, unknown> {
  const source = typeof text === "string" ? text.trim() : "";
  if (source === "") throw badParameter(`The request body is empty. Send a JSON object such as ${example}.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch {
    throw badParameter(`The request body is not valid JSON. Send a JSON object such as ${example}.`);
  }
  if (!isPlainObject(parsed))
    throw badParameter(`The request body must be a JSON object such as ${example}.`);
  return parsed;
}

/** `PUT /secrets/{name}`: `{value, contentType?, tags?, attributes?}`. */
export function parseSetSecretRequest(body: Record<string, unknown>): SetSecretRequest {
  const { value } = body;
  if (typeof value !== "string") throw badParameter("The secret 'value' is required and must be a string.");
  if (Buffer.byteLength(value, "utf8") > MAX_SECRET_VALUE_BYTES) {
    throw badParameter(
      `The secret 'value' is larger than the ${MAX_SECRET_VALUE_BYTES} bytes a secret may hold.`,
    );
  }
  return { value, ...parseUpdateSecretRequest(body) };
}

/** `PATCH /secrets/{name}/{version}`: `{contentType?, tags?, attributes?}`; absent members stay unchanged. */
export function parseUpdateSecretRequest(body: Record<string, unknown>): UpdateSecretRequest {
  const request: UpdateSecretRequest = { attributes: parseAttributes(body.attributes) };
  if (body.contentType !== undefined && body.contentType !== null) {
    if (typeof body.contentType !== "string") throw badParameter("'contentType' must be a string.");
    request.contentType = body.contentType;
  }
  if (body.tags !== undefined && body.tags !== null) request.tags = parseTags(body.tags);
  return request;
}

function parseAttributes(attributes: unknown): AttributeChanges {
  if (attributes === undefined || attributes === null) return {};
  if (!isPlainObject(attributes)) throw badParameter("'attributes' must be an object.");
  const changes: AttributeChanges = {};
  // created, updated and recoveryLevel are the vault's to set; clients echoing them back are ignored.
  if (attributes.enabled !== undefined && attributes.enabled !== null) {
    if (typeof attributes.enabled !== "boolean")
      throw badParameter("'attributes.enabled' must be true or false.");
    changes.enabled = attributes.enabled;
  }
  for (const name of ["nbf", "exp"] as const) {
    const time = attributes[name];
    if (time === undefined) continue;
    if (time !== null && !(Number.isSafeInteger(time) && (time as number) >= 0)) {
      throw badParameter(`'attributes.${name}' must be a time in whole seconds since 1970-01-01T00:00:00Z.`);
    }
    changes[name] = time as number | null;
  }
  return changes;
}

function parseTags(tags: unknown): Record<string, string> {
  if (!isPlainObject(tags)) throw badParameter("'tags' must be an object of string values.");
  const entries = Object.entries(tags);
  if (entries.length > MAX_TAGS) throw badParameter(`A secret may have at most ${MAX_TAGS} tags.`);
  for (const [key, value] of entries) {
    if (typeof value !== "string") throw badParameter(`The value of tag '${key}' must be a string.`);
  }
  return tags as Record<string, string>;
}

/** Applies attribute changes to a stored version. */
export function withAttributeChanges(secret: SecretVersion, changes: AttributeChanges): SecretVersion {
  const next: SecretVersion = { ...secret };
  if (changes.enabled !== undefined) next.enabled = changes.enabled;
  if (changes.nbf !== undefined) next.notBefore = changes.nbf ?? undefined;
  if (changes.exp !== undefined) next.expires = changes.exp ?? undefined;
  return next;
}
