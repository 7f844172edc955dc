import { SigningKeyRing } from "../../signing-keys/key-ring.ts";
import type { Store } from "../../store/store.ts";
import { LocalCluster } from "./local-cluster.ts";

/** What identifies a local cluster: its key in the store, and the ID its issuer URL ends in. */
export interface LocalClusterIds {
  key: string;
  issuerId: string;
}

/**
 * The local clusters one server runs: `wikit up`'s own and those `aks create` adds. Each has its own key, issuer
 * URL, signing keys (`cluster:{key}` in the store) and Kubernetes objects, and a `default` namespace.
 */
export class LocalClusters {
  readonly #store: Store;
  readonly #issuerUrl: (issuerId: string) => string;
  readonly #byKey = new Map<string, LocalCluster>();
  readonly #byIssuerId = new Map<string, LocalCluster>();

  constructor(store: Store, issuerUrl: (issuerId: string) => string) {
    this.#store = store;
    this.#issuerUrl = issuerUrl;
  }

  /** Opens the cluster, making its signing keys and `default` namespace the first time. */
  async open({ key, issuerId }: LocalClusterIds): Promise<LocalCluster> {
    const known = this.#byKey.get(key);
    if (known) return known;
    const keys = await SigningKeyRing.open(this.#store, `cluster:${key}`);
    const cluster = new LocalCluster(this.#store, key, keys, () => this.#issuerUrl(issuerId));
    await cluster.putNamespace("default");
    this.#byKey.set(key, cluster);
    this.#byIssuerId.set(issuerId.toLowerCase(), cluster);
    return cluster;
  }

  byKey(key: string): LocalCluster | undefined {
    return this.#byKey.get(key);
  }

  byIssuerId(issuerId: string): LocalCluster | undefined {
    return this.#byIssuerId.get(issuerId.toLowerCase());
  }

  /** Erases the cluster's Kubernetes objects and stops serving it; its retired keys stay in the store. */
  async remove({ key, issuerId }: LocalClusterIds): Promise<void> {
    const cluster = this.#byKey.get(key);
    if (!cluster) return;
    for (const namespace of await cluster.listNamespaces())
      await cluster.deleteNamespace(namespace.metadata.name);
    this.#byKey.delete(key);
    this.#byIssuerId.delete(issuerId.toLowerCase());
  }
}
