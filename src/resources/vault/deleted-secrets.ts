// Soft delete. A deleted secret's versions move into a bin beside the vault, stored under the key
// `{vaultId}/deletedsecrets`, each stamped with `deletedDate`. Whoever reads the live vault from the
// store therefore never sees deleted secrets, and recover moves the versions back unchanged.

import type { SecretVersion, Store } from "../../store/store.ts";

/** The store key of a vault's deleted-secrets bin. */
export function deletedSecretsBinId(vaultId: string): string {
  return `${vaultId}/deletedsecrets`;
}

/** Moves every version of a live secret into the bin; resolves to its latest version, or undefined. */
export async function softDeleteSecret(
  store: Store,
  vaultId: string,
  name: string,
  deletedDate: number,
): Promise<SecretVersion | undefined> {
  const bin = deletedSecretsBinId(vaultId);
  const moved = await moveVersions(store, vaultId, name, (version) => ({
    ...version,
    vaultId: bin,
    deletedDate,
  }));
  return moved.at(-1);
}

/** Moves a deleted secret back into the live vault; resolves to its latest version, or undefined. */
export async function recoverDeletedSecret(
  store: Store,
  vaultId: string,
  name: string,
): Promise<SecretVersion | undefined> {
  const moved = await moveVersions(
    store,
    deletedSecretsBinId(vaultId),
    name,
    ({ deletedDate: _, ...version }) => ({
      ...version,
      vaultId,
    }),
  );
  return moved.at(-1);
}

/** Erases a deleted secret for good; resolves false when the bin has no such secret. */
export function purgeDeletedSecret(store: Store, vaultId: string, name: string): Promise<boolean> {
  return store.deleteSecret(deletedSecretsBinId(vaultId), name);
}

/** The latest version of a deleted secret. */
export function getDeletedSecret(
  store: Store,
  vaultId: string,
  name: string,
): Promise<SecretVersion | undefined> {
  return store.getSecretVersion(deletedSecretsBinId(vaultId), name);
}

/** Every deleted secret of a vault, each as its latest version. */
export function listDeletedSecrets(store: Store, vaultId: string): Promise<SecretVersion[]> {
  return store.listLatestSecrets(deletedSecretsBinId(vaultId));
}

/** Erases a vault's secrets, live and soft-deleted, for good: what deleting the vault itself requires. */
export async function eraseVaultSecrets(store: Store, vaultId: string): Promise<void> {
  for (const bin of [vaultId, deletedSecretsBinId(vaultId)]) {
    for (const secret of await store.listLatestSecrets(bin)) await store.deleteSecret(bin, secret.name);
  }
}

/**
 * Copies the versions oldest first (so the latest stays latest), then deletes the source. A crash in
 * between leaves the secret in both places, never in neither; repeating the operation completes it.
 */
async function moveVersions(
  store: Store,
  fromVaultId: string,
  name: string,
  relocate: (version: SecretVersion) => SecretVersion,
): Promise<SecretVersion[]> {
  const moved = (await store.listSecretVersions(fromVaultId, name)).map(relocate);
  for (const version of moved) await store.putSecretVersion(version);
  if (moved.length > 0) await store.deleteSecret(fromVaultId, name);
  return moved;
}
