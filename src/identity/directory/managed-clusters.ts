import { providerResourceId, RESOURCE_TYPES } from "../../names/arm-resource-ids.ts";
import type { ArmResource, Store } from "../../store/store.ts";
import type { ResourceGroups } from "./resource-groups.ts";
import { DEFAULT_LOCATION } from "./resource-input.ts";
import { getResourceOfType } from "./resource-lookup.ts";

/** Managed clusters in AKS's shape; `wikit up` records its local cluster as one. */
export class ManagedClusters {
  readonly #store: Store;
  readonly #groups: ResourceGroups;

  constructor(store: Store, groups: ResourceGroups) {
    this.#store = store;
    this.#groups = groups;
  }

  /** Creates the cluster or merges `properties` into it, keeping its location (and its tags unless given). */
  async put(
    subscription: string,
    group: string,
    name: string,
    properties: Record<string, unknown>,
    tags?: Record<string, string>,
  ): Promise<ArmResource> {
    const resourceGroup = await this.#groups.get(subscription, group);
    const id = providerResourceId(subscription, group, RESOURCE_TYPES.managedCluster, name);
    const existing = await this.#store.getResource(id);
    const cluster: ArmResource = {
      id: existing?.id ?? id,
      name: existing?.name ?? name,
      type: RESOURCE_TYPES.managedCluster,
      location: existing?.location ?? resourceGroup.location ?? DEFAULT_LOCATION,
      tags: tags ?? existing?.tags ?? {},
      properties: { ...existing?.properties, ...properties },
    };
    await this.#store.putResource(cluster);
    return cluster;
  }

  /** Deletes the cluster resource; false when there was none. */
  async delete(subscription: string, group: string, name: string): Promise<boolean> {
    await this.#groups.get(subscription, group);
    return this.#store.deleteResource(
      providerResourceId(subscription, group, RESOURCE_TYPES.managedCluster, name),
    );
  }

  /** Every managed cluster, in every subscription: what a server opens at start. */
  async listAll(): Promise<ArmResource[]> {
    return this.#store.listResources({ type: RESOURCE_TYPES.managedCluster });
  }

  async get(subscription: string, group: string, name: string): Promise<ArmResource> {
    await this.#groups.get(subscription, group);
    const id = providerResourceId(subscription, group, RESOURCE_TYPES.managedCluster, name);
    return getResourceOfType(this.#store, id, RESOURCE_TYPES.managedCluster, "managed cluster");
  }
}
