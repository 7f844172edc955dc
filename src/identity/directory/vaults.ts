import { deletedVaultId, providerResourceId, RESOURCE_TYPES } from "../../names/arm-resource-ids.ts";
import type { ArmResource, Store } from "../../store/store.ts";
import { badRequest, notFound } from "./directory-error.ts";
import { checkVaultName } from "./naming-rules.ts";
import type { EraseVaultContents, ResourceGroups } from "./resource-groups.ts";
import { DEFAULT_LOCATION, locationOf, propertiesOf, type ResourceInput, tagsOf } from "./resource-input.ts";
import { getResourceOfType } from "./resource-lookup.ts";
import type { Tenants } from "./tenants.ts";
import { checkNotSoftDeleted, checkRbacAuthorization, checkVaultNameFree } from "./vault-rules.ts";

/** Vaults as ARM resources, soft-deleted and recovered as Key Vault's are; their secrets belong to the vault part, which erases them on purge. */
export class Vaults {
  readonly #store: Store;
  readonly #tenants: Tenants;
  readonly #groups: ResourceGroups;
  readonly #eraseVaultContents: EraseVaultContents;

  constructor(
    store: Store,
    tenants: Tenants,
    groups: ResourceGroups,
    eraseVaultContents: EraseVaultContents,
  ) {
    this.#store = store;
    this.#tenants = tenants;
    this.#groups = groups;
    this.#eraseVaultContents = eraseVaultContents;
  }

  async put(subscription: string, group: string, name: string, input: ResourceInput): Promise<ArmResource> {
    const resourceGroup = await this.#groups.get(subscription, group);
    checkVaultName(name);
    const { tenantId } = await this.#tenants.getSubscription(subscription);
    const id = providerResourceId(subscription, group, RESOURCE_TYPES.vault, name);
    const namesake = await this.findByName(name);
    checkVaultNameFree(name, id, namesake);
    const properties = propertiesOf(input);
    checkRbacAuthorization(properties);
    const deleted = await this.#findDeletedByName(name);
    if (properties.createMode === "recover") return this.#recover(subscription, id, name, deleted);
    checkNotSoftDeleted(name, deleted);
    // Names are global: checked again as part of the write, so that two replicas cannot both take one.
    return this.#store.putResourceAmong({ type: RESOURCE_TYPES.vault }, (vaults) => {
      const current = vaults.find((vault) => vault.name.toLowerCase() === name.toLowerCase());
      checkVaultNameFree(name, id, current);
      return {
        id: current?.id ?? id,
        name: current?.name ?? name,
        type: RESOURCE_TYPES.vault,
        location: locationOf(input, current?.location ?? resourceGroup.location ?? DEFAULT_LOCATION),
        tags: tagsOf(input),
        properties: {
          sku: { family: "A", name: "standard" },
          tenantId,
          enableRbacAuthorization: true,
          enableSoftDelete: true,
          softDeleteRetentionInDays: 90,
          accessPolicies: [],
          provisioningState: "Succeeded",
        },
      };
    });
  }

  async get(subscription: string, group: string, name: string): Promise<ArmResource> {
    await this.#groups.get(subscription, group);
    const id = providerResourceId(subscription, group, RESOURCE_TYPES.vault, name);
    return getResourceOfType(this.#store, id, RESOURCE_TYPES.vault, "vault");
  }

  /** The vault with this name in any subscription (names are global, compared case-insensitively). */
  async findByName(name: string): Promise<ArmResource | undefined> {
    const vaults = await this.#store.listResources({ type: RESOURCE_TYPES.vault });
    return vaults.find((vault) => vault.name.toLowerCase() === name.toLowerCase());
  }

  /**
   * Soft-deletes the vault, as Key Vault does: it leaves its group for the subscription's deleted vaults with its
   * secrets, which `recover` brings back and `purge` erases; until then its name stays taken. Role assignments on
   * the vault go with it.
   */
  async delete(subscription: string, group: string, name: string): Promise<boolean> {
    await this.#groups.get(subscription, group);
    const id = providerResourceId(subscription, group, RESOURCE_TYPES.vault, name);
    const vault = await this.#store.getResource(id);
    if (!vault || vault.type !== RESOURCE_TYPES.vault) return false;
    const location = vault.location ?? DEFAULT_LOCATION;
    const deletedAt = new Date();
    const retentionDays = Number(vault.properties.softDeleteRetentionInDays ?? 90);
    await this.#store.putResource({
      id: deletedVaultId(subscription, location, vault.name),
      name: vault.name,
      type: RESOURCE_TYPES.deletedVault,
      properties: {
        vaultId: vault.id,
        location,
        tags: vault.tags ?? {},
        deletionDate: deletedAt.toISOString(),
        scheduledPurgeDate: new Date(deletedAt.getTime() + retentionDays * 86_400_000).toISOString(),
        purgeProtectionEnabled: false,
        vault,
      },
    });
    return this.#store.deleteResource(id);
  }

  /** The subscription's soft-deleted vaults. */
  async listDeleted(subscription: string): Promise<ArmResource[]> {
    return this.#store.listResources({
      type: RESOURCE_TYPES.deletedVault,
      under: `/subscriptions/${subscription}`,
    });
  }

  async getDeleted(subscription: string, location: string, name: string): Promise<ArmResource> {
    return getResourceOfType(
      this.#store,
      deletedVaultId(subscription, location, name),
      RESOURCE_TYPES.deletedVault,
      "deleted vault",
    );
  }

  /** Erases a soft-deleted vault and its secrets for good; its name is free again. */
  async purge(subscription: string, location: string, name: string): Promise<void> {
    const deleted = await this.getDeleted(subscription, location, name);
    await this.#eraseVaultContents(String(deleted.properties.vaultId));
    await this.#store.deleteResource(deleted.id);
  }

  /** `createMode: recover`: the soft-deleted vault of this name, back where it was, with its secrets. */
  async #recover(subscription: string, id: string, name: string, deleted: ArmResource | undefined) {
    if (!deleted?.id.toLowerCase().startsWith(`/subscriptions/${subscription.toLowerCase()}/`)) {
      throw notFound(
        "DeletedVaultNotFound",
        `No deleted vault named '${name}' can be recovered in this subscription.`,
      );
    }
    const original = deleted.properties.vault as ArmResource;
    if (original.id.toLowerCase() !== id.toLowerCase()) {
      throw badRequest(
        "BadRequest",
        `The deleted vault '${name}' was in '${original.id}'; recover it there (its resource group and name).`,
      );
    }
    await this.#store.putResource(original);
    await this.#store.deleteResource(deleted.id);
    return original;
  }

  async #findDeletedByName(name: string): Promise<ArmResource | undefined> {
    const deleted = await this.#store.listResources({ type: RESOURCE_TYPES.deletedVault });
    return deleted.find((vault) => vault.name.toLowerCase() === name.toLowerCase());
  }
}
