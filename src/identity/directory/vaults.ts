import { providerResourceId, RESOURCE_TYPES } from "../../names/arm-resource-ids.ts";
import type { ArmResource, Store } from "../../store/store.ts";
import { checkVaultName } from "./naming-rules.ts";
import type { EraseVaultContents, ResourceGroups } from "./resource-groups.ts";
import { DEFAULT_LOCATION, locationOf, propertiesOf, type ResourceInput, tagsOf } from "./resource-input.ts";
import { getResourceOfType } from "./resource-lookup.ts";
import type { Tenants } from "./tenants.ts";
import { checkRbacAuthorization, checkVaultNameFree } from "./vault-rules.ts";

/** Vaults as ARM resources; their secrets belong to the vault part, which erases them on delete. */
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
    checkRbacAuthorization(propertiesOf(input));
    const vault: ArmResource = {
      id: namesake?.id ?? id,
      name: namesake?.name ?? name,
      type: RESOURCE_TYPES.vault,
      location: locationOf(input, namesake?.location ?? resourceGroup.location ?? DEFAULT_LOCATION),
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
    await this.#store.putResource(vault);
    return vault;
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

  /** Deletes the vault after erasing its secrets, so that a namesake vault starts empty. */
  async delete(subscription: string, group: string, name: string): Promise<boolean> {
    await this.#groups.get(subscription, group);
    const id = providerResourceId(subscription, group, RESOURCE_TYPES.vault, name);
    const vault = await this.#store.getResource(id);
    if (!vault) return false;
    await this.#eraseVaultContents(vault.id);
    return this.#store.deleteResource(id);
  }
}
