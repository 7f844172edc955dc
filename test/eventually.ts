// Polling for a condition in tests, always with a deadline: a regression that never satisfies it fails the test
// with a message saying what was awaited, instead of hanging the run until the CI job is killed.

// Captured at load, so that polling keeps real time while a test mocks the timers.
const realSetTimeout = globalThis.setTimeout;
const sleep = (ms: number) => new Promise<void>((resolve) => realSetTimeout(resolve, ms));

export interface PollOptions {
  /** Give up after this many milliseconds (default 30 s). */
  timeoutMs?: number;
  /** Pause between checks in milliseconds (default 5). */
  intervalMs?: number;
  /** What is awaited, for the failure message. */
  what?: string;
}

/** Resolves once `condition` holds; rejects when it still does not after `timeoutMs`. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  { timeoutMs = 30_000, intervalMs = 5, what }: PollOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() >= deadline) {
      throw new Error(`gave up after ${timeoutMs} ms waiting for ${what ?? `\`${String(condition)}\``}`);
    }
    await sleep(intervalMs);
  }
}
