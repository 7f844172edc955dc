import { RESOURCE_TYPES, resourceGroupId, subscriptionId } from "../../names/arm-resource-ids.ts";
import type { ArmResource, Store } from "../../store/store.ts";
import { eraseConfigurationStoreContents, touchConfigurationStores } from "./configuration-store-contents.ts";
import { notFound } from "./directory-error.ts";
import { checkResourceGroupName } from "./naming-rules.ts";
import { DEFAULT_LOCATION, locationOf, type ResourceInput, tagsOf } from "./resource-input.ts";
import type { Tenants } from "./tenants.ts";

/** Erases what a vault holds outside the directory (its secrets); the vault part knows how. */
export type EraseVaultContents = (vaultId: string) => Promise<void>;

/** Resource groups, and the listing of what they hold. */
export class ResourceGroups {
  readonly #store: Store;
  readonly #tenants: Tenants;
  readonly #eraseVaultContents: EraseVaultContents;

  constructor(store: Store, tenants: Tenants, eraseVaultContents: EraseVaultContents) {
    this.#store = store;
    this.#tenants = tenants;
    this.#eraseVaultContents = eraseVaultContents;
  }

  async put(subscription: string, name: string, input: ResourceInput): Promise<ArmResource> {
    await this.#tenants.getSubscription(subscription);
    checkResourceGroupName(name);
    const existing = await this.#store.getResource(resourceGroupId(subscription, name));
    const group: ArmResource = {
      id: existing?.id ?? resourceGroupId(subscription, name),
      name: existing?.name ?? name,
      type: RESOURCE_TYPES.resourceGroup,
      location: locationOf(input, existing?.location ?? DEFAULT_LOCATION),
      tags: tagsOf(input),
      properties: { provisioningState: "Succeeded" },
    };
    await this.#store.putResource(group);
    return group;
  }

  async get(subscription: string, name: string): Promise<ArmResource> {
    await this.#tenants.getSubscription(subscription);
    const group = await this.#store.getResource(resourceGroupId(subscription, name));
    if (!group) throw notFound("ResourceGroupNotFound", `Resource group '${name}' could not be found.`);
    return group;
  }

  async list(subscription: string): Promise<ArmResource[]> {
    await this.#tenants.getSubscription(subscription);
    return this.#store.listResources({
      type: RESOURCE_TYPES.resourceGroup,
      under: subscriptionId(subscription),
    });
  }

  /** Deletes the group and everything in it (identities, credentials, vaults and their secrets, configuration stores and their key-values, role assignments). */
  async delete(subscription: string, name: string): Promise<boolean> {
    await this.#tenants.getSubscription(subscription);
    const id = resourceGroupId(subscription, name);
    // Secrets first: once the vaults are gone nothing would find their secrets again.
    const vaults = await this.#store.listResources({ type: RESOURCE_TYPES.vault, under: id });
    for (const vault of vaults) await this.#eraseVaultContents(vault.id);
    const configurationStores = await this.#store.listResources({
      type: RESOURCE_TYPES.configurationStore,
      under: id,
    });
    for (const configurationStore of configurationStores) {
      await eraseConfigurationStoreContents(this.#store, configurationStore.id);
    }
    const deleted = await this.#store.deleteResource(id);
    if (configurationStores.length > 0) await touchConfigurationStores(this.#store);
    return deleted;
  }

  /** The resources of `type` in a group, or in the whole subscription when `group` is undefined. */
  async listResources(subscription: string, group: string | undefined, type: string): Promise<ArmResource[]> {
    if (group) await this.get(subscription, group);
    else await this.#tenants.getSubscription(subscription);
    const scope = group ? resourceGroupId(subscription, group) : subscriptionId(subscription);
    return this.#store.listResources({ type, under: scope });
  }
}
