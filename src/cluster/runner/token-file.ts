import { randomBytes } from "node:crypto";
import { mkdir, open, rename } from "node:fs/promises";
import { dirname, join } from "node:path";

/** When the kubelet rewrites a projected token: at 80 % of its lifetime, and at least daily. */
export function refreshDelaySeconds(lifetimeSeconds: number): number {
  return Math.min(Math.floor(lifetimeSeconds * 0.8), 24 * 3600);
}

/**
 * Replaces the token file atomically, as a projected volume does: readers see the old token or the
 * new one, never a partial write. The file holds the bare JWT without a trailing newline.
 */
export async function writeTokenFile(path: string, token: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = join(dirname(path), `..${randomBytes(4).toString("hex")}.tmp`);
  const handle = await open(temp, "w", 0o600);
  try {
    await handle.writeFile(token);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
}
