// Where `wikit webhook serve` writes its log lines. Lines are gathered in memory and handed to pino's
// asynchronous writer (sonic-boom) as one string per batch: once 16 KiB have gathered, or after at most a
// quarter of a second when traffic is low. Handing it every line instead costs more than making the line:
// while a write is in flight, sonic-boom measures its whole pending buffer again for each line it appends.
// What is gathered is written synchronously when the process exits; only a hard kill can lose the last batch.

import { pino } from "pino";

/** Characters gathered before a batch is handed to the writer. */
export const LOG_BATCH_CHARACTERS = 16 * 1024;
/** The longest a line waits for its batch. */
export const LOG_FLUSH_INTERVAL_MS = 250;

type Writer = ReturnType<typeof pino.destination>;

export class BatchedLogDestination {
  /** Marks a stream for pino when it is passed as the only argument. */
  readonly writable = true;
  readonly #writer: Writer;
  readonly #timer: NodeJS.Timeout;
  #lines: string[] = [];
  #characters = 0;
  #ended = false;
  readonly #onExit = () => this.flushSync();

  /** `dest`: a file descriptor (1 for stdout) or a path. */
  constructor(dest: number | string) {
    this.#writer = pino.destination({ dest, sync: false });
    this.#timer = setInterval(() => this.flush(), LOG_FLUSH_INTERVAL_MS).unref();
    process.on("exit", this.#onExit);
  }

  /** pino's destination contract: one serialized line, newline included. */
  write(line: string): boolean {
    this.#lines.push(line);
    this.#characters += line.length;
    if (this.#characters >= LOG_BATCH_CHARACTERS) this.flush();
    return true;
  }

  /** Hands the gathered lines to the asynchronous writer. */
  flush(): void {
    if (this.#lines.length === 0 || this.#ended) return;
    this.#writer.write(this.#lines.join(""));
    this.#lines = [];
    this.#characters = 0;
  }

  /** Writes everything gathered or in flight before returning. */
  flushSync(): void {
    this.flush();
    if (!this.#ended) this.#writer.flushSync();
  }

  /** Writes what is left and closes the output. */
  end(): void {
    this.flush();
    this.#ended = true;
    clearInterval(this.#timer);
    process.off("exit", this.#onExit);
    this.#writer.end();
  }
}

export function webhookLogDestination(dest: number | string): BatchedLogDestination {
  return new BatchedLogDestination(dest);
}
