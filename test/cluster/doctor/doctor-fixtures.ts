// Cluster objects for the doctor's tests, shaped as the API server returns them. Labelled pods are admitted by
// the project's real mutation (mutatePod) exactly as the webhook would admit them — under their generateName when
// a controller made them — so "mutated" in these tests means what the webhook produces.

import type { ClusterObject } from "../../../src/cluster/doctor/cluster-objects.ts";
import {
  CERT_SECRET_KEYS,
  CLIENT_ID_ANNOTATION,
  USE_LABEL,
  USE_LABEL_VALUE,
  WIKIT_MUTATING_WEBHOOK_CONFIGURATION_NAME,
  WIKIT_WEBHOOK_CERT_SECRET_NAME,
  WIKIT_WEBHOOK_NAME,
  WIKIT_WEBHOOK_NAMESPACE,
  WIKIT_WEBHOOK_OBJECT_NAME,
} from "../../../src/cluster/webhook/constants.ts";
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

/** wikit's webhook as `wikit webhook manifests` installs it, with the CA its rotator injected. */
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
  const appLabels = { "app.kubernetes.io/name": "wikit", "app.kubernetes.io/component": "webhook" };
  const webhookDeployment = deployment(WIKIT_WEBHOOK_OBJECT_NAME, {}, { namespace: WIKIT_WEBHOOK_NAMESPACE });
  const template = (webhookDeployment.spec as { template: { metadata: { labels: Record<string, string> } } })
    .template;
  template.metadata.labels = appLabels;
  (template as unknown as { spec: unknown }).spec = {
    containers: [
      {
        name: "webhook",
        image: "ghcr.io/wikit/wikit:0.1.0",
        args: ["webhook", "serve", `--cert-secret-name=${WIKIT_WEBHOOK_CERT_SECRET_NAME}`],
      },
    ],
  };
  webhookDeployment.status = { readyReplicas: options.readyReplicas ?? 2 };
  return {
    namespace: { apiVersion: "v1", kind: "Namespace", metadata: { name: WIKIT_WEBHOOK_NAMESPACE } },
    configuration: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata: {
        name: WIKIT_MUTATING_WEBHOOK_CONFIGURATION_NAME,
        creationTimestamp: options.created ?? "2026-01-01T00:00:00Z",
      },
      webhooks: [
        {
          name: WIKIT_WEBHOOK_NAME,
          admissionReviewVersions: ["v1", "v1beta1"],
          clientConfig: {
            service: {
              name: WIKIT_WEBHOOK_OBJECT_NAME,
              namespace: WIKIT_WEBHOOK_NAMESPACE,
              path: "/mutate-v1-pod",
              port: 443,
            },
            caBundle: Buffer.from(caPem).toString("base64"),
          },
          failurePolicy: options.failurePolicy ?? "Fail",
          matchPolicy: "Equivalent",
          namespaceSelector: {
            matchExpressions: [
              {
                key: "kubernetes.io/metadata.name",
                operator: "NotIn",
                values: ["kube-system", WIKIT_WEBHOOK_NAMESPACE],
              },
            ],
          },
          ...(options.objectSelector === null
            ? {}
            : { objectSelector: options.objectSelector ?? { matchLabels: LABELS } }),
          reinvocationPolicy: "IfNeeded",
          rules: [
            {
              apiGroups: [""],
              apiVersions: ["v1"],
              operations: ["CREATE"],
              resources: ["pods"],
              scope: "Namespaced",
            },
          ],
          sideEffects: "None",
          timeoutSeconds: 5,
        },
      ],
    },
    service: {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: WIKIT_WEBHOOK_OBJECT_NAME, namespace: WIKIT_WEBHOOK_NAMESPACE },
      spec: { selector: appLabels, ports: [{ name: "https", port: 443, targetPort: "webhook-server" }] },
    },
    deployment: webhookDeployment,
    secret: {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: WIKIT_WEBHOOK_CERT_SECRET_NAME, namespace: WIKIT_WEBHOOK_NAMESPACE },
      type: "Opaque",
      data: { [CERT_SECRET_KEYS.caCert]: Buffer.from(options.secretCaPem ?? caPem).toString("base64") },
    } as ClusterObject,
  };
}
