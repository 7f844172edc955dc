// One of wikit up's local clusters as `serviceaccount create|delete` target, through the running wikit's Kubernetes
// API. Its issuer is known, so the federated-identity phase needs no `--service-account-issuer-url` here; a missing
// namespace is created, as `kubectl create ns` is a step of the walkthroughs that has no other wikit command.

import type { ServiceAccountObject } from "../cluster/service-accounts/azwi-phases.ts";
import type {
  ServiceAccountTarget,
  StoredServiceAccount,
} from "../cluster/service-accounts/service-account-target.ts";
import { type ClusterTarget, expectSuccess, type WikitClient } from "./wikit-client.ts";

/** The local cluster's API path of a service account. */
export function serviceAccountPath(namespace: string, name: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(name)}`;
}

export class LocalClusterTarget implements ServiceAccountTarget {
  readonly description: string;
  readonly issuerUrl: string;
  readonly #client: WikitClient;
  readonly #cluster: ClusterTarget;

  constructor(client: WikitClient, cluster: ClusterTarget) {
    this.#client = client;
    this.#cluster = cluster;
    this.description = `wikit's cluster '${cluster.name}'`;
    this.issuerUrl = cluster.issuerUrl;
  }

  #kube(method: string, path: string, body?: unknown) {
    return this.#client.kube(method, path, body, this.#cluster.kubePath);
  }

  async prepareNamespace(namespace: string): Promise<"created" | "existed"> {
    const found = await this.#kube("GET", `/api/v1/namespaces/${encodeURIComponent(namespace)}`);
    if (found.status !== 404) {
      expectSuccess(found);
      return "existed";
    }
    expectSuccess(await this.#kube("POST", "/api/v1/namespaces", { metadata: { name: namespace } }));
    return "created";
  }

  async writeServiceAccount(account: ServiceAccountObject) {
    // The local API's PUT creates or replaces: labels and annotations become the object's, as azwi's update does.
    const response = await this.#kube(
      "PUT",
      serviceAccountPath(account.metadata.namespace, account.metadata.name),
      account,
    );
    return { object: expectSuccess(response) as StoredServiceAccount, created: response.status === 201 };
  }

  async deleteServiceAccount(namespace: string, name: string): Promise<boolean> {
    const response = await this.#kube("DELETE", serviceAccountPath(namespace, name));
    if (response.status === 404) return false;
    expectSuccess(response);
    return true;
  }
}
