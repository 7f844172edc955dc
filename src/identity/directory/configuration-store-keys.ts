// A configuration store's access keys, without I/O beyond random bytes: two read-write and two read-only keys, each
// an ID and a secret (base64; its decoded bytes key the HMAC), shown with a connection string
// `Endpoint=https://{store endpoint};Id={id};Secret={secret}` as the SDKs take it. Regenerating a key replaces its
// secret and ID, so that requests signed with the old one fail at once.

import { randomBytes } from "node:crypto";

export interface AccessKey {
  id: string;
  name: string;
  /** The secret, base64. */
  value: string;
  readOnly: boolean;
  /** Epoch milliseconds. */
  lastModified: number;
}

const KEY_NAMES: readonly { name: string; readOnly: boolean }[] = [
  { name: "Primary", readOnly: false },
  { name: "Secondary", readOnly: false },
  { name: "Primary Read Only", readOnly: true },
  { name: "Secondary Read Only", readOnly: true },
];

function newKey(name: string, readOnly: boolean, now: number): AccessKey {
  return {
    id: randomBytes(12).toString("base64url"),
    name,
    value: randomBytes(32).toString("base64"),
    readOnly,
    lastModified: now,
  };
}

/** A new store's four keys. */
export function newAccessKeys(now: number): AccessKey[] {
  return KEY_NAMES.map(({ name, readOnly }) => newKey(name, readOnly, now));
}

/** The keys with the one of ID `id` made anew; undefined when no key has that ID. */
export function regenerateAccessKey(
  keys: readonly AccessKey[],
  id: string,
  now: number,
): AccessKey[] | undefined {
  const index = keys.findIndex((key) => key.id === id);
  const old = keys[index];
  if (!old) return undefined;
  return keys.map((key, i) => (i === index ? newKey(old.name, old.readOnly, now) : key));
}

export function connectionString(endpoint: string, key: AccessKey): string {
  return `Endpoint=${endpoint};Id=${key.id};Secret=${key.value}`;
}

/** A key as ARM's listKeys shows it. */
export function accessKeyJson(endpoint: string, key: AccessKey) {
  return {
    id: key.id,
    name: key.name,
    value: key.value,
    connectionString: connectionString(endpoint, key),
    lastModified: new Date(key.lastModified).toISOString(),
    readOnly: key.readOnly,
  };
}

/** The keys as HMAC checks use them: each secret decoded. */
export function accessKeySecrets(
  keys: readonly AccessKey[],
): { id: string; secret: Buffer; readOnly: boolean }[] {
  return keys.map((key) => ({
    id: key.id,
    secret: Buffer.from(key.value, "base64"),
    readOnly: key.readOnly,
  }));
}

/** `Endpoint=…;Id=…;Secret=…` (names case-insensitive, any order) taken apart; a missing part is refused by name. */
export function parseConnectionString(text: string): { endpoint: string; id: string; secret: string } {
  const parts = new Map<string, string>();
  for (const part of text.split(";")) {
    const equals = part.indexOf("=");
    if (equals > 0) parts.set(part.slice(0, equals).trim().toLowerCase(), part.slice(equals + 1).trim());
  }
  const [endpoint, id, secret] = ["endpoint", "id", "secret"].map((name) => parts.get(name) ?? "");
  for (const [name, value] of [
    ["Endpoint", endpoint],
    ["Id", id],
    ["Secret", secret],
  ] as const) {
    if (!value) {
      throw new Error(
        `the connection string has no ${name}: it must read Endpoint=https://<store endpoint>;Id=<key ID>;Secret=<secret>`,
      );
    }
  }
  return { endpoint: endpoint as string, id: id as string, secret: secret as string };
}
