// Where `wikit webhook serve` writes its log lines: pino's asynchronous mode, in batches. Writing each line
// on its own costs a thread-pool round trip per admission, several times the cost of making the line; a
// batch is written once 4 KiB have gathered, or after at most a quarter of a second when traffic is low.
// pino writes what is left synchronously when the process exits; only a hard kill can lose the last batch.

import { pino } from "pino";

/** Bytes gathered before a write. */
export const LOG_BATCH_BYTES = 4096;
/** The longest a line waits for its batch. */
export const LOG_FLUSH_INTERVAL_MS = 250;

/** `dest`: a file descriptor (1 for stdout) or a path. */
export function webhookLogDestination(dest: number | string): ReturnType<typeof pino.destination> {
  return pino.destination({
    dest,
    sync: false,
    minLength: LOG_BATCH_BYTES,
    periodicFlush: LOG_FLUSH_INTERVAL_MS,
  });
}
