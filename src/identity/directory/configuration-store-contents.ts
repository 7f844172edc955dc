import { randomUUID } from "node:crypto";
import type { Store } from "../../store/store.ts";

/** Where a store's access keys are kept: as a secret of the store, so that a sealed store seals them at rest. */
export const ACCESS_KEYS_SECRET = "access-keys";

/** Erases what a configuration store holds: its key-values, their history and its access keys. */
export async function eraseConfigurationStoreContents(store: Store, storeId: string): Promise<void> {
  await store.deleteKeyValues(storeId);
  await store.deleteSecret(storeId, ACCESS_KEYS_SECRET);
}

/** The setting whose value every change to a configuration store, its keys or its existence replaces. */
const CONFIGURATION_STORES_STAMP = "configuration-stores.stamp";

/**
 * Marks the configuration stores changed, after the change: the data plane keeps each store and its keys in memory
 * while the stamp holds, so a new key, a regenerated one or a deleted store counts at once, in every replica.
 */
export async function touchConfigurationStores(store: Store): Promise<void> {
  await store.putSetting(CONFIGURATION_STORES_STAMP, randomUUID());
}

/** The stamp of the configuration stores, "" before the first one is made. */
export async function configurationStoresStamp(store: Store): Promise<string> {
  return (await store.getSetting(CONFIGURATION_STORES_STAMP)) ?? "";
}
