import { setTimeout as sleep } from "node:timers/promises";
import type { Store } from "../store/store.ts";

export interface LeaseOptions {
  /** How long the lease lasts unless renewed; a holder that dies frees it after this long. */
  ttlMs: number;
  /** How long to wait for another holder to finish before giving up. */
  waitMs: number;
  /** Pause between attempts while another holds it. */
  pollMs?: number;
}

/**
 * Runs `work` while holding the store's lease `name`, renewing it as long as the work runs, then gives it up:
 * of replicas starting together, one at a time does what must be done once (the first tenant, the first keys).
 */
export async function withLease<T>(
  store: Store,
  name: string,
  holder: string,
  options: LeaseOptions,
  work: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + options.waitMs;
  while (!(await store.tryLease(name, holder, options.ttlMs))) {
    if (Date.now() > deadline) {
      throw new Error(
        `another wikit has held the lease '${name}' for over ${Math.round(options.waitMs / 1000)} s; if none runs, it frees itself within ${Math.round(options.ttlMs / 1000)} s`,
      );
    }
    await sleep(options.pollMs ?? 250);
  }
  const renewal = setInterval(
    () => void store.tryLease(name, holder, options.ttlMs).catch(() => {}),
    options.ttlMs / 3,
  );
  try {
    return await work();
  } finally {
    clearInterval(renewal);
    await store.releaseLease(name, holder).catch(() => {});
  }
}
