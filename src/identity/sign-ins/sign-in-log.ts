// The local sign-in log: every token request, what it presented and what came of it, kept in the store with a
// bounded retention. Records are written in batches, a few per transaction, so that logging does not put a disk
// flush on every exchange; a reader sees every record made before it asked.

import type {
  CredentialUsage,
  SignInQuery,
  SignInRecord,
  SignInRetention,
  Store,
} from "../../store/store.ts";

export const DEFAULT_SIGN_IN_RETENTION: SignInRetention = {
  maxRecords: 100_000,
  maxAgeMs: 30 * 24 * 3600 * 1000,
};
/** How long a record may wait for others to share its write. */
const FLUSH_DELAY_MS = 100;
/** A batch this large is written at once. */
const MAX_BATCH = 500;

export interface SignInLogOptions {
  retention?: SignInRetention;
  /** Told when a batch could not be written (the records are dropped: the log must never stop an exchange). */
  onWriteError?(error: unknown, lost: number): void;
}

export interface PendingSignIn {
  record: SignInRecord;
  /** ARM ID of the matched credential, for its usage count. */
  credentialId?: string;
}

export class SignInLog {
  readonly #store: Store;
  readonly #retention: SignInRetention;
  readonly #onWriteError: (error: unknown, lost: number) => void;
  #pending: PendingSignIn[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** The write in progress; batches are written one after another, in order. */
  #writing: Promise<void> = Promise.resolve();

  constructor(store: Store, options: SignInLogOptions = {}) {
    this.#store = store;
    this.#retention = options.retention ?? DEFAULT_SIGN_IN_RETENTION;
    this.#onWriteError = options.onWriteError ?? (() => {});
  }

  /** Queues a record; it is durable within a fraction of a second. */
  record(entry: PendingSignIn): void {
    this.#pending.push(entry);
    if (this.#pending.length >= MAX_BATCH) {
      void this.flush();
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
      this.#timer.unref();
    }
  }

  /** Writes every queued record; resolves once they are in the store (or reported lost). */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length > 0) {
      this.#writing = this.#writing.then(() =>
        this.#store
          .appendSignIns(batch, this.#retention)
          .catch((error) => this.#onWriteError(error, batch.length)),
      );
    }
    return this.#writing;
  }

  async list(query: SignInQuery): Promise<SignInRecord[]> {
    await this.flush();
    return this.#store.listSignIns(query);
  }

  async credentialUsage(identityId: string): Promise<CredentialUsage[]> {
    await this.flush();
    return this.#store.listCredentialUsage(identityId);
  }
}
