// The I/O side of `wikit doctor`: reads what the checks need from the cluster through @kubernetes/client-node
// (the kubeconfig's credentials), as plain JSON objects, and applies --repair's restarts. Lists are scoped to one
// namespace when asked; pods and workloads are listed by the use label, so the cluster does the filtering.

import type * as https from "node:https";
import {
  AdmissionregistrationV1Api,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { getDocument } from "../issuer/issuer-document-fetch.ts";
import { DISCOVERY_PATH, JWKS_PATH } from "../issuer/issuer-files.ts";
import type { Fetched } from "../issuer/issuer-verification.ts";
import { USE_LABEL } from "../webhook/constants.ts";
import { kubeErrorMessage } from "../webhook/service-account-cache.ts";
import type { ClusterSnapshot } from "./cluster-diagnosis.ts";
import type { ClusterObject, WorkloadRef } from "./cluster-objects.ts";
import { restartPatch } from "./repair-plan.ts";
import { certSecretNameOf, labelledPodWebhooks, webhookDeployment, webhookService } from "./webhook-check.ts";

/** A read that failed, with what was being read. */
export class ClusterReadError extends Error {}

/** The typed client's objects as the JSON the API server sent (dates back to RFC 3339 strings). */
function plain<T>(value: T): ClusterObject {
  return JSON.parse(JSON.stringify(value)) as ClusterObject;
}

function items(list: { items: unknown[] }, kind?: string): ClusterObject[] {
  return list.items.map((item) => ({ ...(kind ? { kind } : {}), ...plain(item) }));
}

async function reading<T>(what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw new ClusterReadError(`cannot read ${what}: ${kubeErrorMessage(error)}`);
  }
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === "number" ? code : undefined;
}

/** Everything the diagnosis reads, in `namespace` or in all namespaces. */
export async function readClusterSnapshot(
  kubeConfig: KubeConfig,
  namespace: string | undefined,
): Promise<ClusterSnapshot> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const batch = kubeConfig.makeApiClient(BatchV1Api);
  const admission = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  const labelSelector = USE_LABEL;
  const scoped = <T>(all: () => Promise<T>, one: (namespace: string) => Promise<T>) =>
    namespace === undefined ? all() : one(namespace);

  const [discovery, jwks] = await Promise.all([
    apiServerGet(kubeConfig, `/${DISCOVERY_PATH}`, "application/json"),
    apiServerGet(kubeConfig, `/${JWKS_PATH}`, "application/jwk-set+json, application/json"),
  ]);
  const configurations = await reading("the MutatingWebhookConfigurations", async () =>
    items(await admission.listMutatingWebhookConfiguration()),
  );

  const target = labelledPodWebhooks(configurations)[0];
  const serviceRef = target && webhookService(target.webhook);
  let service: ClusterObject | undefined;
  let deployments: ClusterObject[] = [];
  let certSecret: ClusterSnapshot["webhook"]["certSecret"];
  if (target && serviceRef) {
    try {
      service = plain(await core.readNamespacedService(serviceRef));
    } catch (error) {
      if (statusOf(error) !== 404)
        throw new ClusterReadError(`cannot read the webhook's Service: ${kubeErrorMessage(error)}`);
    }
    deployments = await reading(`the Deployments in ${serviceRef.namespace}`, async () =>
      items(await apps.listNamespacedDeployment({ namespace: serviceRef.namespace }), "Deployment"),
    );
    const secretName = certSecretNameOf(
      webhookDeployment(service, deployments),
      target.configuration.metadata?.name ?? "",
    );
    if (secretName) {
      certSecret = { namespace: serviceRef.namespace, name: secretName };
      try {
        certSecret.object = plain(
          await core.readNamespacedSecret({ namespace: serviceRef.namespace, name: secretName }),
        );
      } catch (error) {
        certSecret.error = kubeErrorMessage(error);
      }
    }
  }

  const [pods, serviceAccounts, replicaSets, jobs, labelledWorkloads] = await Promise.all([
    reading("the labelled pods", async () =>
      items(
        await scoped(
          () => core.listPodForAllNamespaces({ labelSelector }),
          (ns) => core.listNamespacedPod({ namespace: ns, labelSelector }),
        ),
      ),
    ),
    reading("the service accounts", async () =>
      items(
        await scoped(
          () => core.listServiceAccountForAllNamespaces(),
          (ns) => core.listNamespacedServiceAccount({ namespace: ns }),
        ),
      ),
    ),
    reading("the ReplicaSets", async () =>
      items(
        await scoped(
          () => apps.listReplicaSetForAllNamespaces(),
          (ns) => apps.listNamespacedReplicaSet({ namespace: ns }),
        ),
        "ReplicaSet",
      ),
    ),
    reading("the Jobs", async () =>
      items(
        await scoped(
          () => batch.listJobForAllNamespaces(),
          (ns) => batch.listNamespacedJob({ namespace: ns }),
        ),
        "Job",
      ),
    ),
    readLabelledWorkloads(apps, batch, namespace),
  ]);
  // Only needed for the webhook's namespaceSelector; a user who may not list namespaces still gets the rest.
  let namespaces: ClusterObject[] | undefined;
  try {
    namespaces = items(await core.listNamespace());
  } catch {
    namespaces = undefined;
  }
  return {
    ...(namespace === undefined ? {} : { namespace }),
    issuer: { discovery, jwks },
    webhook: {
      configurations,
      ...(service ? { service } : {}),
      deployments,
      ...(certSecret ? { certSecret } : {}),
    },
    workloads: {
      pods,
      serviceAccounts,
      replicaSets,
      jobs,
      labelledWorkloads,
      ...(namespaces ? { namespaces } : {}),
    },
  };
}

async function readLabelledWorkloads(
  apps: AppsV1Api,
  batch: BatchV1Api,
  namespace: string | undefined,
): Promise<ClusterObject[]> {
  const labelSelector = USE_LABEL;
  const all = namespace === undefined;
  const lists = await reading("the labelled workloads", () =>
    Promise.all([
      (all
        ? apps.listDeploymentForAllNamespaces({ labelSelector })
        : apps.listNamespacedDeployment({ namespace, labelSelector })
      ).then((list) => items(list, "Deployment")),
      (all
        ? apps.listStatefulSetForAllNamespaces({ labelSelector })
        : apps.listNamespacedStatefulSet({ namespace, labelSelector })
      ).then((list) => items(list, "StatefulSet")),
      (all
        ? apps.listDaemonSetForAllNamespaces({ labelSelector })
        : apps.listNamespacedDaemonSet({ namespace, labelSelector })
      ).then((list) => items(list, "DaemonSet")),
      (all
        ? batch.listJobForAllNamespaces({ labelSelector })
        : batch.listNamespacedJob({ namespace, labelSelector })
      ).then((list) => items(list, "Job")),
      (all
        ? batch.listCronJobForAllNamespaces({ labelSelector })
        : batch.listNamespacedCronJob({ namespace, labelSelector })
      ).then((list) => items(list, "CronJob")),
    ]),
  );
  return lists.flat();
}

/** `kubectl rollout restart` for one Deployment, StatefulSet or DaemonSet. */
export async function restartWorkload(
  kubeConfig: KubeConfig,
  workload: WorkloadRef,
  now: Date,
): Promise<void> {
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const request = { namespace: workload.namespace, name: workload.name, body: restartPatch(now) };
  const strategic = setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch);
  try {
    switch (workload.kind) {
      case "Deployment":
        await apps.patchNamespacedDeployment(request, strategic);
        return;
      case "StatefulSet":
        await apps.patchNamespacedStatefulSet(request, strategic);
        return;
      case "DaemonSet":
        await apps.patchNamespacedDaemonSet(request, strategic);
        return;
      default:
        throw new Error(`a ${workload.kind} cannot be restarted`);
    }
  } catch (error) {
    throw new ClusterReadError(
      `cannot restart ${workload.kind} ${workload.namespace}/${workload.name}: ${kubeErrorMessage(error)}`,
    );
  }
}

/** One GET to the API server with the kubeconfig's credentials, for the paths that have no typed client call. */
async function apiServerGet(kubeConfig: KubeConfig, path: string, accept: string): Promise<Fetched> {
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) return { ok: false, error: "the kubeconfig has no current cluster" };
  const url = new URL(`${cluster.server.replace(/\/$/, "")}${path}`);
  const options: https.RequestOptions = { headers: { accept } };
  try {
    await kubeConfig.applyToHTTPSOptions(options);
  } catch (error) {
    return { ok: false, error: `the kubeconfig's credentials: ${(error as Error).message}` };
  }
  if (url.protocol !== "https:") delete options.agent;
  return getDocument(url, options);
}
