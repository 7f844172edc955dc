import { providerResourceId, RESOURCE_TYPES } from "../../names/arm-resource-ids.ts";
import type { ArmResource, Store } from "../../store/store.ts";
import {
  ACCESS_KEYS_SECRET,
  configurationStoresStamp,
  eraseConfigurationStoreContents,
  touchConfigurationStores,
} from "./configuration-store-contents.ts";
import { type AccessKey, newAccessKeys, regenerateAccessKey } from "./configuration-store-keys.ts";
import { badRequest, conflict, notFound } from "./directory-error.ts";
import { checkConfigurationStoreName } from "./naming-rules.ts";
import type { ResourceGroups } from "./resource-groups.ts";
import { DEFAULT_LOCATION, locationOf, propertiesOf, type ResourceInput, tagsOf } from "./resource-input.ts";
import { getResourceOfType } from "./resource-lookup.ts";

const SKUS = ["free", "standard", "premium"];

/**
 * App Configuration stores as ARM resources, with their access keys (a control-plane secret, as ARM's listKeys
 * shows them). The key-values belong to the data plane; deleting a store erases them with it.
 */
export class ConfigurationStores {
  readonly #store: Store;
  readonly #groups: ResourceGroups;

  constructor(store: Store, groups: ResourceGroups) {
    this.#store = store;
    this.#groups = groups;
  }

  async put(
    subscription: string,
    group: string,
    name: string,
    input: ResourceInput & { sku?: unknown },
  ): Promise<ArmResource> {
    const resourceGroup = await this.#groups.get(subscription, group);
    checkConfigurationStoreName(name);
    const id = providerResourceId(subscription, group, RESOURCE_TYPES.configurationStore, name);
    const properties = propertiesOf(input);
    if (properties.disableLocalAuth !== undefined && typeof properties.disableLocalAuth !== "boolean") {
      throw badRequest("InvalidRequestContent", "'properties.disableLocalAuth' must be true or false.");
    }
    const sku = skuOf(input.sku);
    // Names are global (the endpoint's host): checked as part of the write, so that two replicas cannot both take one.
    const stored = await this.#store.putResourceAmong(
      { type: RESOURCE_TYPES.configurationStore },
      (stores) => {
        const current = stores.find((other) => other.name.toLowerCase() === name.toLowerCase());
        if (current && current.id.toLowerCase() !== id.toLowerCase()) {
          throw conflict(
            "NameUnavailable",
            `The configuration store name '${name}' is already in use. Names are global, so please choose another.`,
          );
        }
        return {
          id: current?.id ?? id,
          name: current?.name ?? name,
          type: RESOURCE_TYPES.configurationStore,
          location: locationOf(input, current?.location ?? resourceGroup.location ?? DEFAULT_LOCATION),
          tags: tagsOf(input),
          sku: { name: sku ?? (current?.sku as { name?: string } | undefined)?.name ?? "standard" },
          properties: {
            provisioningState: "Succeeded",
            creationDate: current?.properties.creationDate ?? new Date().toISOString(),
            encryption: { keyVaultProperties: null },
            privateEndpointConnections: null,
            publicNetworkAccess: null,
            disableLocalAuth: properties.disableLocalAuth ?? current?.properties.disableLocalAuth ?? false,
            softDeleteRetentionInDays: 0,
            enablePurgeProtection: false,
          },
        };
      },
    );
    if (!(await this.#readKeys(stored.id))) await this.#writeKeys(stored.id, newAccessKeys(Date.now()));
    await touchConfigurationStores(this.#store);
    return stored;
  }

  async get(subscription: string, group: string, name: string): Promise<ArmResource> {
    await this.#groups.get(subscription, group);
    const id = providerResourceId(subscription, group, RESOURCE_TYPES.configurationStore, name);
    return getResourceOfType(this.#store, id, RESOURCE_TYPES.configurationStore, "configuration store");
  }

  /** The store with this name in any subscription (names are global, compared case-insensitively). */
  async findByName(name: string): Promise<ArmResource | undefined> {
    const stores = await this.#store.listResources({ type: RESOURCE_TYPES.configurationStore });
    return stores.find((store) => store.name.toLowerCase() === name.toLowerCase());
  }

  /** Deletes the store with its key-values and keys (no soft delete: wikit's stores are purged at once). */
  async delete(subscription: string, group: string, name: string): Promise<boolean> {
    await this.#groups.get(subscription, group);
    const id = providerResourceId(subscription, group, RESOURCE_TYPES.configurationStore, name);
    const found = await this.#store.getResource(id);
    if (!found || found.type !== RESOURCE_TYPES.configurationStore) return false;
    await eraseConfigurationStoreContents(this.#store, found.id);
    const deleted = await this.#store.deleteResource(found.id);
    await touchConfigurationStores(this.#store);
    return deleted;
  }

  async listKeys(storeId: string): Promise<AccessKey[]> {
    return (await this.#readKeys(storeId)) ?? [];
  }

  /** The store's keys with the one of ID `keyId` made anew: requests signed with the old one fail at once. */
  async regenerateKey(storeId: string, keyId: unknown): Promise<AccessKey> {
    if (typeof keyId !== "string" || keyId === "") {
      throw badRequest(
        "InvalidRequestContent",
        'The body must name the key to regenerate: {"id": "<key ID>"}.',
      );
    }
    const keys = await this.listKeys(storeId);
    const regenerated = regenerateAccessKey(keys, keyId, Date.now());
    if (!regenerated) throw notFound("KeyNotFound", `The configuration store has no access key '${keyId}'.`);
    await this.#writeKeys(storeId, regenerated);
    await touchConfigurationStores(this.#store);
    const index = keys.findIndex((key) => key.id === keyId);
    return regenerated[index] as AccessKey;
  }

  /** Replaced after every change to a store, its keys or its existence: what a cache of them is checked by. */
  stamp(): Promise<string> {
    return configurationStoresStamp(this.#store);
  }

  async #readKeys(storeId: string): Promise<AccessKey[] | undefined> {
    const secret = await this.#store.getSecretVersion(storeId, ACCESS_KEYS_SECRET);
    return secret ? (JSON.parse(secret.value) as AccessKey[]) : undefined;
  }

  async #writeKeys(storeId: string, keys: AccessKey[]): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    // Only the newest set opens anything: the older ones go, so that a regenerated secret is gone from the store.
    await this.#store.deleteSecret(storeId, ACCESS_KEYS_SECRET);
    await this.#store.putSecretVersion({
      vaultId: storeId,
      name: ACCESS_KEYS_SECRET,
      version: String(Date.now()),
      value: JSON.stringify(keys),
      tags: {},
      enabled: true,
      created: now,
      updated: now,
    });
  }
}

function skuOf(sku: unknown): string | undefined {
  if (sku === undefined || sku === null) return undefined;
  const name = (sku as { name?: unknown }).name;
  if (typeof sku !== "object" || typeof name !== "string" || !SKUS.includes(name.toLowerCase())) {
    throw badRequest(
      "InvalidRequestContent",
      `'sku.name' must be one of ${SKUS.map((s) => `'${s}'`).join(", ")} (case-insensitive).`,
    );
  }
  return name.toLowerCase();
}
