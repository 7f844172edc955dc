// A real cluster as `serviceaccount create|delete` target, reached through a kubeconfig (`--kubeconfig`, KUBECONFIG,
// `--context`) with @kubernetes/client-node, as azwi reaches the current KUBECONFIG context. wikit does not know such
// a cluster's issuer, so the federated-identity phase needs `--service-account-issuer-url` there, as azwi does; and it
// creates no namespace behind the user's back.

import { ApiException, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import type { ServiceAccountObject } from "./azwi-phases.ts";
import {
  type ServiceAccountTarget,
  ServiceAccountTargetError,
  type StoredServiceAccount,
} from "./service-account-target.ts";

export interface KubeConfigChoice {
  /** `--kubeconfig FILE`; without it KUBECONFIG, else ~/.kube/config (client-node's default order). */
  file?: string;
  /** `--context NAME`; without it the kubeconfig's current context. */
  context?: string;
}

/** Loads the kubeconfig and selects the context, failing with a message that names the fix. */
export function loadKubeConfig(choice: KubeConfigChoice): KubeConfig {
  const config = new KubeConfig();
  try {
    if (choice.file !== undefined) config.loadFromFile(choice.file);
    else config.loadFromDefault();
  } catch (error) {
    throw new ServiceAccountTargetError(
      `cannot load the kubeconfig ${choice.file ?? process.env.KUBECONFIG ?? "~/.kube/config"}: ${(error as Error).message}`,
    );
  }
  if (choice.context !== undefined) {
    if (!config.getContextObject(choice.context)) {
      const known = config.getContexts().map((context) => `'${context.name}'`);
      throw new ServiceAccountTargetError(
        `the kubeconfig has no context '${choice.context}' (it has ${known.length ? known.join(", ") : "none"}); pick one of them with --context`,
      );
    }
    config.setCurrentContext(choice.context);
  }
  if (!config.getCurrentCluster()) {
    throw new ServiceAccountTargetError(
      "the kubeconfig names no current cluster: give --context NAME, or --kubeconfig FILE of the cluster",
    );
  }
  return config;
}

/** The API server's own words for a failed call: its Status message, else the error's. */
function statusMessage(error: unknown): string {
  if (error instanceof ApiException) {
    try {
      const status = JSON.parse(String(error.body)) as { message?: unknown };
      if (typeof status.message === "string") return status.message;
    } catch {
      // not a Status body: fall back to the exception's text
    }
  }
  return (error as Error).message;
}

const isStatus = (error: unknown, code: number) => error instanceof ApiException && error.code === code;

export class KubeConfigTarget implements ServiceAccountTarget {
  readonly description: string;
  readonly issuerUrl = undefined;
  readonly #api: CoreV1Api;

  constructor(config: KubeConfig) {
    this.#api = config.makeApiClient(CoreV1Api);
    this.description = `context '${config.getCurrentContext()}' (${config.getCurrentCluster()?.server ?? "no server"})`;
  }

  async #call<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new ServiceAccountTargetError(`${what} in ${this.description}: ${statusMessage(error)}`);
    }
  }

  async prepareNamespace(namespace: string): Promise<"existed"> {
    try {
      await this.#api.readNamespace({ name: namespace });
      return "existed";
    } catch (error) {
      if (isStatus(error, 404)) {
        throw new ServiceAccountTargetError(
          `namespace '${namespace}' does not exist in ${this.description}; create it first (kubectl create namespace ${namespace}), or give another --service-account-namespace`,
        );
      }
      throw new ServiceAccountTargetError(
        `cannot read namespace '${namespace}' in ${this.description}: ${statusMessage(error)}`,
      );
    }
  }

  async writeServiceAccount(account: ServiceAccountObject) {
    const { name, namespace } = account.metadata;
    try {
      const object = await this.#api.createNamespacedServiceAccount({ namespace, body: account });
      return { object: object as StoredServiceAccount, created: true };
    } catch (error) {
      if (!isStatus(error, 409)) {
        throw new ServiceAccountTargetError(
          `cannot create service account ${namespace}/${name} in ${this.description}: ${statusMessage(error)}`,
        );
      }
    }
    // As azwi: the existing one is replaced by the freshly built object (no resourceVersion: an unconditional update).
    const object = await this.#call(`cannot update service account ${namespace}/${name}`, () =>
      this.#api.replaceNamespacedServiceAccount({ name, namespace, body: account }),
    );
    return { object: object as StoredServiceAccount, created: false };
  }

  async deleteServiceAccount(namespace: string, name: string): Promise<boolean> {
    try {
      await this.#api.deleteNamespacedServiceAccount({ name, namespace });
      return true;
    } catch (error) {
      if (isStatus(error, 404)) return false;
      throw new ServiceAccountTargetError(
        `cannot delete service account ${namespace}/${name} in ${this.description}: ${statusMessage(error)}`,
      );
    }
  }
}
