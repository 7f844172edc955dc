/**
 * The store's database cannot be reached (refused, reset, shut down, timed out): the request may succeed later,
 * so callers answer 503 with Retry-After rather than 500. The message names the server without credentials.
 */
export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";
  readonly code = "STORE_UNAVAILABLE";
  /** How long a client should wait before trying again: a database restart or failover takes seconds. */
  readonly retryAfterSeconds = 2;
}
