// The configuration store a Host names, and its access keys, kept in memory while the stores' stamp holds: every
// change to a store, its keys or its existence replaces the stamp (after the change), so a request that reads the
// stamp first and then finds the store sees that change at once, in every replica. Saves a request the lookups and
// the opening of sealed keys that would cost it more than the list it asks for.

import type { ArmResource } from "../../store/store.ts";

export interface ResolvedConfigurationStore {
  configurationStore: ArmResource;
  /** The audiences a bearer token for this store may carry (the Host itself is added per request). */
  audiences: readonly string[];
  /** The tenant of the store's subscription: tokens must be issued by it. */
  tenantId: string;
}

export interface AccessKeySecret {
  id: string;
  secret: Buffer;
  readOnly: boolean;
}

export interface ConfigurationStoreSource {
  /** Replaced after every change to a configuration store, its access keys or its existence. */
  stamp(): Promise<string>;
  /** The store a Host header names (e.g. `settings.azconfig.localhost:8443`), or undefined. */
  resolve(host: string): Promise<ResolvedConfigurationStore | undefined>;
  /** The store's access keys, each secret decoded. */
  accessKeys(configurationStoreId: string): Promise<readonly AccessKeySecret[]>;
}

interface Entry {
  target: ResolvedConfigurationStore | undefined;
  keys?: readonly AccessKeySecret[];
}

/** What a request works with: its store (undefined when the Host names none) and, on demand, the store's keys. */
export interface StoreAtHost {
  target: ResolvedConfigurationStore | undefined;
  accessKeys(): Promise<readonly AccessKeySecret[]>;
}

export class ConfigurationStoreCache {
  readonly #source: ConfigurationStoreSource;
  readonly #capacity: number;
  #stamp: string | undefined;
  /** By lower-cased Host; Hosts that name no store are kept too, bounded so that made-up Hosts cannot fill memory. */
  readonly #entries = new Map<string, Entry>();

  constructor(source: ConfigurationStoreSource, capacity = 256) {
    this.#source = source;
    this.#capacity = capacity;
  }

  async at(host: string): Promise<StoreAtHost> {
    const stamp = await this.#source.stamp();
    if (stamp !== this.#stamp) {
      this.#entries.clear();
      this.#stamp = stamp;
    }
    const name = host.toLowerCase();
    let entry = this.#entries.get(name);
    if (entry) {
      this.#entries.delete(name);
    } else {
      entry = { target: await this.#source.resolve(host) };
    }
    this.#entries.set(name, entry);
    if (this.#entries.size > this.#capacity) {
      const leastRecent = this.#entries.keys().next().value;
      if (leastRecent !== undefined) this.#entries.delete(leastRecent);
    }
    const known = entry;
    return {
      target: known.target,
      accessKeys: async () => {
        if (!known.target) return [];
        known.keys ??= await this.#source.accessKeys(known.target.configurationStore.id);
        return known.keys;
      },
    };
  }
}
