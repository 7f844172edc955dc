import { PostgresStore, type PostgresStoreOptions } from "./postgres-store.ts";
import { isPostgresUrl } from "./postgres-url.ts";
import { SqliteStore } from "./sqlite-store.ts";
import type { Store } from "./store.ts";

/**
 * The store a location names: a `postgres://` or `postgresql://` URL opens a PostgreSQL store (shared by
 * replicas), anything else is the path of an embedded SQLite file.
 */
export async function openStore(location: string, options: PostgresStoreOptions = {}): Promise<Store> {
  return isPostgresUrl(location) ? PostgresStore.open(location, options) : new SqliteStore(location);
}
