// The Kubernetes objects that deploy the admission webhook, from the same values as the Helm chart in
// deploy/helm/wikit. The objects are described once, in webhook-objects.ts: evaluated here, and written out as
// the chart's templates by `npm run chart`. Pure: values in, objects and their multi-document YAML out.
//
// Defaults use wikit's own names, so the webhook can run beside azure-workload-identity's; `names` (for example
// UPSTREAM_WEBHOOK_OBJECT_NAMES) and the namespace make it a drop-in replacement instead.

import { stringify } from "yaml";
import type { JsonObject } from "../../json/json-value.ts";
import { isPlainObject } from "../../json/json-value.ts";
import { WIKIT_VERSION } from "../../names/wikit-release.ts";
import {
  DEFAULT_AZURE_CLOUD,
  DEFAULT_METRICS_ADDRESS,
  DEFAULT_METRICS_BACKEND,
  MUTATING_WEBHOOK_CONFIGURATION_NAME,
  UPSTREAM_WEBHOOK_DEPLOYMENT_NAME,
  UPSTREAM_WEBHOOK_ROLE_BINDING_NAME,
  UPSTREAM_WEBHOOK_ROLE_NAME,
  UPSTREAM_WEBHOOK_SERVICE_ACCOUNT_NAME,
  WEBHOOK_CERT_SECRET_NAME,
  WEBHOOK_CONFIG_MAP_NAME,
  WEBHOOK_NAME,
  WEBHOOK_SERVICE_NAME,
  WIKIT_MUTATING_WEBHOOK_CONFIGURATION_NAME,
  WIKIT_WEBHOOK_CERT_SECRET_NAME,
  WIKIT_WEBHOOK_CONFIG_MAP_NAME,
  WIKIT_WEBHOOK_NAME,
  WIKIT_WEBHOOK_NAMESPACE,
  WIKIT_WEBHOOK_OBJECT_NAME,
} from "./constants.ts";
import { evaluate, type Scope } from "./manifest-tree.ts";
import { WEBHOOK_LABELS, WEBHOOK_OBJECTS } from "./webhook-objects.ts";

/** wikit's release; the chart's appVersion and the default image tag. */
export const WIKIT_APP_VERSION = WIKIT_VERSION;
export const DEFAULT_WEBHOOK_IMAGE_REPOSITORY = "ghcr.io/wikit/wikit";
/** The Helm release name `webhookManifests` stands in for (label `app.kubernetes.io/instance`). */
export const DEFAULT_RELEASE_NAME = "wikit";

/** Names of the objects; cluster-scoped ones (ClusterRole, its binding, the configuration) must be unique. */
export interface WebhookObjectNames {
  serviceAccount: string;
  /** The Role and the ClusterRole. */
  role: string;
  /** The RoleBinding and the ClusterRoleBinding. */
  roleBinding: string;
  configMap: string;
  /** The Secret the webhook keeps its CA and serving certificate in (self-managed certificates only). */
  certSecret: string;
  service: string;
  /** The Deployment and its PodDisruptionBudget. */
  deployment: string;
  mutatingWebhookConfiguration: string;
  /** The webhook entry inside the configuration (a qualified name). */
  webhook: string;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface CustomTokenEndpointValues {
  annotationSuffix: string;
  audience: string;
  azureKubernetesCaData: string;
  azureKubernetesSniName: string;
  azureKubernetesTokenProxy: string;
  azureKubernetesCAConfigMapName: string;
  azureKubernetesCACTBSignerName: string;
  azureKubernetesCACTBLabelSelector: string;
}

/** The chart's values (webhook part), with every default filled in. Names follow the upstream chart. */
export interface WebhookValues {
  azureTenantID: string;
  azureEnvironment: string;
  /** Injected as AZURE_AUTHORITY_HOST instead of the cloud's when not empty, e.g. a `wikit serve`'s URL. */
  authorityHost: string;
  replicaCount: number;
  image: { repository: string; tag: string; pullPolicy: string };
  imagePullSecrets: { name: string }[];
  names: WebhookObjectNames;
  logLevel: string;
  metricsAddr: string;
  metricsBackend: string;
  shutdownDelaySeconds: number;
  priorityClassName: string;
  nodeSelector: Record<string, string>;
  resources: JsonObject;
  tolerations: JsonObject[];
  affinity: JsonObject;
  topologySpreadConstraints: JsonObject[];
  /** Spread replicas over nodes and zones (best effort) when `topologySpreadConstraints` is empty. */
  defaultTopologySpread: boolean;
  podLabels: Record<string, string>;
  podAnnotations: Record<string, string>;
  revisionHistoryLimit?: number;
  /** `port`/`targetPort` are accepted for upstream compatibility; the Service always maps 443 → 9443. */
  service: { type: string; port?: number; targetPort?: number };
  podDisruptionBudget: { minAvailable?: number | string; maxUnavailable?: number | string };
  mutatingWebhookAnnotations: Record<string, string>;
  /** Narrows the namespaces further; the exclusions below are always added. */
  mutatingWebhookNamespaceSelector: LabelSelector;
  /** Namespaces the webhook never sees; the release namespace is always added. */
  excludedNamespaces: string[];
  webhookTimeoutSeconds: number;
  customTokenEndpoint: CustomTokenEndpointValues;
  /** wikit's emulation option: pods reach wikit under Microsoft's host names (docs/webhook.md). */
  emulation: { address: string; hostNames: string[]; caConfigMap: string };
  extraEnv: JsonObject[];
  extraVolumes: JsonObject[];
  extraVolumeMounts: JsonObject[];
  /** Bring your own certificates from cert-manager instead of the webhook's own rotation. */
  certManager: { enabled: boolean; certificateName: string; secretName: string };
}

type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> | null }
    : T;
/** Values as a user gives them: anything left out takes its default; `null` removes a default (as in Helm). */
export type WebhookValuesInput = DeepPartial<WebhookValues>;

export const WIKIT_WEBHOOK_OBJECT_NAMES: WebhookObjectNames = {
  serviceAccount: WIKIT_WEBHOOK_OBJECT_NAME,
  role: WIKIT_WEBHOOK_OBJECT_NAME,
  roleBinding: WIKIT_WEBHOOK_OBJECT_NAME,
  configMap: WIKIT_WEBHOOK_CONFIG_MAP_NAME,
  certSecret: WIKIT_WEBHOOK_CERT_SECRET_NAME,
  service: WIKIT_WEBHOOK_OBJECT_NAME,
  deployment: WIKIT_WEBHOOK_OBJECT_NAME,
  mutatingWebhookConfiguration: WIKIT_MUTATING_WEBHOOK_CONFIGURATION_NAME,
  webhook: WIKIT_WEBHOOK_NAME,
};

/** azure-workload-identity's names: deploying with these (in its namespace) replaces the upstream webhook. */
export const UPSTREAM_WEBHOOK_OBJECT_NAMES: WebhookObjectNames = {
  serviceAccount: UPSTREAM_WEBHOOK_SERVICE_ACCOUNT_NAME,
  role: UPSTREAM_WEBHOOK_ROLE_NAME,
  roleBinding: UPSTREAM_WEBHOOK_ROLE_BINDING_NAME,
  configMap: WEBHOOK_CONFIG_MAP_NAME,
  certSecret: WEBHOOK_CERT_SECRET_NAME,
  service: WEBHOOK_SERVICE_NAME,
  deployment: UPSTREAM_WEBHOOK_DEPLOYMENT_NAME,
  mutatingWebhookConfiguration: MUTATING_WEBHOOK_CONFIGURATION_NAME,
  webhook: WEBHOOK_NAME,
};

/** The defaults of every value; `npm run chart` writes them as the chart's values.yaml (comments in values-yaml.ts). */
export const DEFAULT_WEBHOOK_VALUES: WebhookValues = {
  azureTenantID: "",
  azureEnvironment: DEFAULT_AZURE_CLOUD,
  authorityHost: "",
  replicaCount: 2,
  image: { repository: DEFAULT_WEBHOOK_IMAGE_REPOSITORY, tag: "", pullPolicy: "IfNotPresent" },
  imagePullSecrets: [],
  names: { ...WIKIT_WEBHOOK_OBJECT_NAMES },
  logLevel: "info",
  metricsAddr: DEFAULT_METRICS_ADDRESS,
  metricsBackend: DEFAULT_METRICS_BACKEND,
  shutdownDelaySeconds: 5,
  priorityClassName: "system-cluster-critical",
  nodeSelector: { "kubernetes.io/os": "linux" },
  resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } },
  tolerations: [],
  affinity: {},
  topologySpreadConstraints: [],
  defaultTopologySpread: true,
  podLabels: {},
  podAnnotations: {},
  service: { type: "ClusterIP" },
  podDisruptionBudget: { minAvailable: 1 },
  mutatingWebhookAnnotations: {},
  mutatingWebhookNamespaceSelector: {},
  excludedNamespaces: ["kube-system"],
  webhookTimeoutSeconds: 5,
  customTokenEndpoint: {
    annotationSuffix: "",
    audience: "",
    azureKubernetesCaData: "",
    azureKubernetesSniName: "",
    azureKubernetesTokenProxy: "",
    azureKubernetesCAConfigMapName: "",
    azureKubernetesCACTBSignerName: "",
    azureKubernetesCACTBLabelSelector: "",
  },
  emulation: { address: "", hostNames: [], caConfigMap: "" },
  extraEnv: [],
  extraVolumes: [],
  extraVolumeMounts: [],
  certManager: {
    enabled: false,
    certificateName: WIKIT_WEBHOOK_OBJECT_NAME,
    secretName: "wikit-webhook-tls",
  },
};

/** Helm's coalescing: maps merge key by key, anything else replaces, `null` deletes the default. */
export function mergeValues<T>(defaults: T, overrides: unknown): T {
  if (!isPlainObject(defaults) || !isPlainObject(overrides)) {
    return (overrides === undefined ? defaults : overrides) as T;
  }
  const result: Record<string, unknown> = structuredClone(defaults);
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (value === null) delete result[key];
    else result[key] = isPlainObject(result[key]) ? mergeValues(result[key], value) : structuredClone(value);
  }
  return result as T;
}

/** Where the objects go: the chart takes both from `helm install <release> -n <namespace>`. */
export interface WebhookManifestTarget {
  namespace?: string;
  releaseName?: string;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

export interface WebhookManifests {
  /** The values with every default filled in. */
  values: WebhookValues;
  namespace: string;
  /** The objects the Helm chart renders for the same values (no Namespace: Helm's `-n` owns it). */
  objects: KubeObject[];
  /** The Namespace (Pod Security `restricted`), only part of the plain YAML. */
  namespaceObject: KubeObject;
  /** Multi-document YAML of the Namespace followed by `objects`, for `kubectl apply -f`. */
  yaml: string;
}

/** The objects (and YAML) deploying the webhook with these values. Throws WebhookValuesError on bad values. */
export function webhookManifests(
  input: WebhookValuesInput,
  target: WebhookManifestTarget = {},
): WebhookManifests {
  const values = mergeValues(DEFAULT_WEBHOOK_VALUES, input);
  const namespace = target.namespace ?? WIKIT_WEBHOOK_NAMESPACE;
  const scope: Scope = {
    values,
    namespace,
    release: target.releaseName ?? DEFAULT_RELEASE_NAME,
    appVersion: WIKIT_APP_VERSION,
  };
  const objects = WEBHOOK_OBJECTS.map(
    ({ object }) => evaluate(object, scope) as KubeObject | undefined,
  ).filter((object): object is KubeObject => object !== undefined);
  const namespaceObject: KubeObject = {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: namespace,
      labels: {
        ...(evaluate(WEBHOOK_LABELS, scope) as Record<string, string>),
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": "latest",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": "latest",
      },
    },
  };
  return { values, namespace, objects, namespaceObject, yaml: manifestsYaml([namespaceObject, ...objects]) };
}

/** Multi-document YAML, one document per object. */
export function manifestsYaml(objects: readonly KubeObject[]): string {
  return objects.map((object) => `---\n${stringify(object, { lineWidth: 0 })}`).join("");
}
