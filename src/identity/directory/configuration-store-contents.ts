import type { Store } from "../../store/store.ts";

/** Where a store's access keys are kept: as a secret of the store, so that a sealed store seals them at rest. */
export const ACCESS_KEYS_SECRET = "access-keys";

/** Erases what a configuration store holds: its key-values, their history and its access keys. */
export async function eraseConfigurationStoreContents(store: Store, storeId: string): Promise<void> {
  await store.deleteKeyValues(storeId);
  await store.deleteSecret(storeId, ACCESS_KEYS_SECRET);
}
