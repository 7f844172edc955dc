// The key ring that seals secret values at rest (src/store/sealed-secrets.ts), kept as a file readable by its owner
// only: `{"current": "<id>", "keys": {"<id>": "<32 bytes, base64>"}}`. wikit up makes it on first start in its data
// directory. To rotate: add a key, make it current, restart; the old key stays until nothing is sealed under it
// (the start reseals every value under the current key). Replicas sharing a store rotate in two rolls (add the key
// everywhere, then make it current), so that no replica meets a value sealed under a key it lacks.

import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { writeFileDurably } from "../store/durable-file.ts";
import { checkKeyRing, type SecretKeyRing, SecretSealError } from "../store/sealed-secrets.ts";

/** The ring in `file`, made with one fresh key when the file does not exist. */
export async function loadOrCreateSecretKeyRing(file: string): Promise<SecretKeyRing> {
  if (!existsSync(file)) {
    const id = `k${new Date().toISOString().slice(0, 10).replaceAll("-", "")}`;
    const text = `${JSON.stringify({ current: id, keys: { [id]: randomBytes(32).toString("base64") } }, null, 2)}\n`;
    await writeFileDurably(file, text, 0o600);
  }
  return parseSecretKeyRing(await readFile(file, "utf8"), file);
}

export function parseSecretKeyRing(text: string, file: string): SecretKeyRing {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SecretSealError(`${file} is not JSON; it holds the keys that seal secret values`);
  }
  const { current, keys } = (parsed ?? {}) as { current?: unknown; keys?: unknown };
  if (typeof current !== "string" || typeof keys !== "object" || keys === null || Array.isArray(keys)) {
    throw new SecretSealError(`${file} must be {"current": "<id>", "keys": {"<id>": "<32 bytes, base64>"}}`);
  }
  const ring = new Map<string, Buffer>();
  for (const [id, value] of Object.entries(keys)) {
    if (typeof value !== "string") throw new SecretSealError(`${file}: key '${id}' must be a base64 string`);
    ring.set(id, Buffer.from(value, "base64"));
  }
  try {
    return checkKeyRing({ current, keys: ring });
  } catch (error) {
    throw new SecretSealError(`${file}: ${(error as Error).message}`);
  }
}
