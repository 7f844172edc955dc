// Where `serviceaccount create|delete` writes the service account: one of wikit up's local clusters, or a real
// cluster through a kubeconfig. The phases see only this interface.

import type { ServiceAccountObject } from "./azwi-phases.ts";

export interface StoredServiceAccount {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface ServiceAccountTarget {
  /** How messages name the cluster, e.g. "wikit's cluster 'local'" or "context 'kind-dev' (https://…)". */
  readonly description: string;
  /** The issuer of the cluster's service-account tokens, when the target knows it (wikit's own clusters do). */
  readonly issuerUrl: string | undefined;
  /** Makes sure the namespace exists: creates it (a local cluster) or fails naming the fix (a real one). */
  prepareNamespace(namespace: string): Promise<"created" | "existed">;
  /** Creates the service account, or replaces an existing one with `account` (azwi's create-or-update). */
  writeServiceAccount(
    account: ServiceAccountObject,
  ): Promise<{ object: StoredServiceAccount; created: boolean }>;
  /** Deletes it; false when there was none. */
  deleteServiceAccount(namespace: string, name: string): Promise<boolean>;
}

/** A failure of the target that names what to do; the CLI shows its message as it is. */
export class ServiceAccountTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ServiceAccountTargetError";
  }
}
