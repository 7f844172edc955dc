import { SealedSecretsStore } from "../store/sealed-secrets.ts";
import { SqliteStore } from "../store/sqlite-store.ts";
import { dataDirFiles } from "./data-dir.ts";
import { loadOrCreateSecretKeyRing } from "./secret-key-ring-file.ts";

/**
 * `wikit up`'s store in a data directory: its SQLite file, with secret values and private keys sealed under the
 * directory's key ring (made on first use). Whoever opens the database, opens it this way.
 */
export async function openLocalStore(dataDir: string): Promise<SealedSecretsStore> {
  return new SealedSecretsStore(
    new SqliteStore(dataDirFiles.database(dataDir)),
    await loadOrCreateSecretKeyRing(dataDirFiles.secretKeyRing(dataDir)),
  );
}
