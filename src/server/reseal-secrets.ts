import { RESOURCE_TYPES } from "../names/arm-resource-ids.ts";
import { deletedSecretsBinId } from "../resources/vault/deleted-secrets.ts";
import type { SealedSecretsStore } from "../store/sealed-secrets.ts";

/**
 * Reseals every secret value not sealed under the key ring's current key (stored before sealing, or before the
 * key ring was rotated), in every vault, live or soft-deleted (whose secrets keep the vault's ID).
 */
export async function resealVaultSecrets(store: SealedSecretsStore): Promise<number> {
  const live = await store.listResources({ type: RESOURCE_TYPES.vault });
  const deleted = await store.listResources({ type: RESOURCE_TYPES.deletedVault });
  const vaultIds = [
    ...live.map((vault) => vault.id),
    ...deleted.map((vault) => String(vault.properties.vaultId)),
  ];
  return store.resealSecrets(vaultIds, deletedSecretsBinId);
}
