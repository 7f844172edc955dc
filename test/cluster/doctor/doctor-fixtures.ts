// Cluster objects for the doctor's tests, shaped as the API server returns them. Labelled pods are admitted by
// the project's real mutation (mutatePod) exactly as the webhook would admit them — under their generateName when
// a controller made them — so "mutated" in these tests means what the webhook produces.

import type { ClusterObject } from "../../../src/cluster/doctor/cluster-objects.ts";
import {
  CERT_SECRET_KEYS,
  CLIENT_ID_ANNOTATION,
  USE_LABEL,
  USE_LABEL_VALUE,
  WIKIT_WEBHOOK_NAMESPACE,
} from "../../../src/cluster/webhook/constants.ts";
import { webhookManifests } from "../../../src/cluster/webhook/manifests.ts";
import { type MutationConfig, mutatePod } from "../../../src/cluster/webhook/mutation.ts";

export const TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47";
export const CLIENT_ID = "8a0e4b52-31c1-4f4b-9b5e-4c6a4a7f1d20";
export const NAMESPACE = "wlipoc";
export const MUTATION_CONFIG: MutationConfig = {
  tenantId: TENANT_ID,
  authorityHost: "https://login.microsoftonline.com/",
};
export const LABELS = { [USE_LABEL]: USE_LABEL_VALUE };

export function serviceAccount(
  name: string,
  options: { namespace?: string; clientId?: string | null; created?: string } = {},
): ClusterObject {
  const clientId = options.clientId === undefined ? CLIENT_ID : options.clientId;
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: {
      name,
      namespace: options.namespace ?? NAMESPACE,
      creationTimestamp: options.created ?? "2026-01-01T00:00:00Z",
      ...(clientId === null ? {} : { annotations: { [CLIENT_ID_ANNOTATION]: clientId } }),
    },
  };
}

export interface PodOptions {
  name: string;
  namespace?: string;
  /** Set when a controller made the pod: the webhook then saw only this prefix. */
  generateName?: string;
  serviceAccountName: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  owner?: { kind: string; name: string };
  created?: string;
  containers?: string[];
}

/** The pod as the API server stores it: mutated by the real webhook code when `serviceAccount` is given. */
export function pod(options: PodOptions, admittedWith?: ClusterObject): ClusterObject {
  const namespace = options.namespace ?? NAMESPACE;
  const received = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      ...(options.generateName ? { generateName: options.generateName } : { name: options.name }),
      labels: options.labels ?? LABELS,
      ...(options.annotations ? { annotations: options.annotations } : {}),
    },
    spec: {
      serviceAccountName: options.serviceAccountName,
      containers: (options.containers ?? ["app"]).map((name) => ({ name, image: "busybox" })),
    },
  };
  let stored: ClusterObject = received as ClusterObject;
  if (admittedWith !== undefined) {
    const outcome = mutatePod({
      pod: received,
      serviceAccount: admittedWith,
      namespace,
      config: MUTATION_CONFIG,
    });
    if (!outcome.allowed) throw new Error(`the webhook denied the test pod: ${outcome.message}`);
    stored = outcome.pod as ClusterObject;
  }
  return {
    ...stored,
    metadata: {
      ...stored.metadata,
      name: options.name,
      namespace,
      creationTimestamp: options.created ?? "2026-06-01T00:00:00Z",
      ...(options.owner
        ? { ownerReferences: [{ apiVersion: "apps/v1", ...options.owner, controller: true, uid: "u" }] }
        : {}),
    },
  };
}

export function replicaSet(name: string, deployment: string, namespace = NAMESPACE): ClusterObject {
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name,
      namespace,
      ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: deployment, controller: true }],
    },
    spec: {},
  };
}

export function job(name: string, cronJob: string | undefined, namespace = NAMESPACE): ClusterObject {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name,
      namespace,
      ...(cronJob
        ? { ownerReferences: [{ apiVersion: "batch/v1", kind: "CronJob", name: cronJob, controller: true }] }
        : {}),
    },
    spec: {},
  };
}

/** A Deployment with the given labels on its metadata and on its pod template. */
export function deployment(
  name: string,
  labels: { metadata?: Record<string, string>; template?: Record<string, string> },
  options: { namespace?: string; serviceAccountName?: string; readyReplicas?: number } = {},
): ClusterObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name,
      namespace: options.namespace ?? NAMESPACE,
      ...(labels.metadata ? { labels: labels.metadata } : {}),
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, ...labels.template } },
        spec: {
          serviceAccountName: options.serviceAccountName ?? "workload-identity-sa",
          containers: [{ name: "app", image: "busybox" }],
        },
      },
    },
    ...(options.readyReplicas === undefined ? {} : { status: { readyReplicas: options.readyReplicas } }),
  };
}

export interface WebhookObjects {
  configuration: ClusterObject;
  service: ClusterObject;
  deployment: ClusterObject;
  secret: ClusterObject;
  namespace: ClusterObject;
}

/** The installed object of this kind, from `wikit webhook manifests`' objects, as a mutable copy. */
function installed(kind: string): ClusterObject {
  const object = webhookManifests({ azureTenantID: TENANT_ID }).objects.find(
    (candidate) => candidate.kind === kind,
  );
  if (!object) throw new Error(`wikit webhook manifests has no ${kind}`);
  return structuredClone(object) as ClusterObject;
}

/**
 * wikit's webhook exactly as `wikit webhook manifests` (and the chart) installs it, then as the cluster holds it: the
 * CA its rotator injected into the configuration and the Secret, and the Deployment's ready replicas.
 */
export function webhookObjects(
  caPem: string,
  options: {
    failurePolicy?: string;
    readyReplicas?: number;
    secretCaPem?: string;
    objectSelector?: Record<string, unknown> | null;
    created?: string;
  } = {},
): WebhookObjects {
  const configuration = installed("MutatingWebhookConfiguration");
  configuration.metadata = {
    ...configuration.metadata,
    creationTimestamp: options.created ?? "2026-01-01T00:00:00Z",
  };
  const [webhook] = configuration.webhooks as {
    clientConfig: Record<string, unknown>;
    failurePolicy?: string;
    objectSelector?: unknown;
  }[];
  if (!webhook) throw new Error("the installed configuration has no webhook");
  webhook.clientConfig.caBundle = Buffer.from(caPem).toString("base64");
  if (options.failurePolicy !== undefined) webhook.failurePolicy = options.failurePolicy;
  if (options.objectSelector === null) delete webhook.objectSelector;
  else if (options.objectSelector !== undefined) webhook.objectSelector = options.objectSelector;

  const webhookDeployment = installed("Deployment");
  webhookDeployment.status = { readyReplicas: options.readyReplicas ?? 2 };
  const secret = installed("Secret");
  secret.data = { [CERT_SECRET_KEYS.caCert]: Buffer.from(options.secretCaPem ?? caPem).toString("base64") };
  return {
    namespace: { apiVersion: "v1", kind: "Namespace", metadata: { name: WIKIT_WEBHOOK_NAMESPACE } },
    configuration,
    service: installed("Service"),
    deployment: webhookDeployment,
    secret,
  };
}
