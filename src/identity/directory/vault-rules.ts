// The rules a vault write must pass, with no I/O: global names and RBAC-only authorisation.

import { badRequest, conflict } from "./directory-error.ts";

/** Vault names are global (they are DNS names): another vault with this name, anywhere, is a conflict. */
export function checkVaultNameFree(name: string, id: string, namesake: { id: string } | undefined): void {
  if (namesake && namesake.id.toLowerCase() !== id.toLowerCase()) {
    throw conflict(
      "VaultAlreadyExists",
      `The vault name '${name}' is already in use. Vault names are global, so please choose another name.`,
    );
  }
}

/** A soft-deleted vault keeps its name until it is recovered or purged. */
export function checkNotSoftDeleted(name: string, deleted: { id: string } | undefined): void {
  if (deleted) {
    throw conflict(
      "ConflictError",
      `A vault with the same name '${name}' already exists in deleted state. You need to either recover or purge the existing key vault (wikit keyvault recover|purge --name ${name}).`,
    );
  }
}

/** wikit vaults authorise with Azure RBAC only; a request for access policies is refused, not ignored. */
export function checkRbacAuthorization(properties: Record<string, unknown>): void {
  if (properties.enableRbacAuthorization === false) {
    throw badRequest(
      "BadRequest",
      "Access policies are not supported: wikit vaults authorise with Azure RBAC (enableRbacAuthorization true).",
    );
  }
}
