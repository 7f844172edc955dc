// The Kubernetes objects that deploy the admission webhook, from the same values as the Helm chart in
// deploy/helm/wikit (the chart renders the same objects; a test holds both to that). Pure: values in, objects
// and their multi-document YAML out.
//
// Defaults use wikit's own names, so the webhook can run beside azure-workload-identity's; `names` (for example
// UPSTREAM_WEBHOOK_OBJECT_NAMES) and the namespace make it a drop-in replacement instead.

import { stringify } from "yaml";
import {
  ADMISSION_REVIEW_VERSIONS,
  AZURE_ENVIRONMENT,
  AZURE_KUBERNETES_CA_CONFIGMAP_NAME,
  AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR,
  AZURE_KUBERNETES_CA_CTB_SIGNER_NAME,
  AZURE_KUBERNETES_CA_DATA,
  AZURE_KUBERNETES_SNI_NAME,
  AZURE_KUBERNETES_TOKEN_PROXY,
  AZURE_TENANT_ID,
  DEFAULT_AZURE_CLOUD,
  DEFAULT_CERT_DIR,
  DEFAULT_HEALTH_ADDRESS,
  DEFAULT_METRICS_ADDRESS,
  DEFAULT_METRICS_BACKEND,
  MUTATING_WEBHOOK_CONFIGURATION_NAME,
  POD_NAMESPACE_ENV,
  UPSTREAM_WEBHOOK_DEPLOYMENT_NAME,
  UPSTREAM_WEBHOOK_ROLE_BINDING_NAME,
  UPSTREAM_WEBHOOK_ROLE_NAME,
  UPSTREAM_WEBHOOK_SERVICE_ACCOUNT_NAME,
  USE_LABEL,
  USE_LABEL_VALUE,
  WEBHOOK_CERT_SECRET_NAME,
  WEBHOOK_CONFIG_MAP_NAME,
  WEBHOOK_NAME,
  WEBHOOK_PATH,
  WEBHOOK_SERVER_PORT,
  WEBHOOK_SERVICE_NAME,
  WEBHOOK_SERVICE_PORT,
  WIKIT_MUTATING_WEBHOOK_CONFIGURATION_NAME,
  WIKIT_WEBHOOK_CERT_SECRET_NAME,
  WIKIT_WEBHOOK_CONFIG_MAP_NAME,
  WIKIT_WEBHOOK_NAME,
  WIKIT_WEBHOOK_NAMESPACE,
  WIKIT_WEBHOOK_OBJECT_NAME,
} from "./constants.ts";

/** wikit's release; the chart's appVersion and the default image tag. */
export const WIKIT_APP_VERSION = "0.1.0";
export const DEFAULT_WEBHOOK_IMAGE_REPOSITORY = "ghcr.io/wikit/wikit";
/** The Helm release name `webhookManifests` stands in for (label `app.kubernetes.io/instance`). */
export const DEFAULT_RELEASE_NAME = "wikit";
/** Label values shared by every object. */
export const WEBHOOK_APP_LABEL = "wikit";
export const WEBHOOK_COMPONENT_LABEL = "webhook";
/** Name of the container and of the certificate volume (the volume name is reserved in `extraVolumes`). */
export const WEBHOOK_CONTAINER_NAME = "webhook";
export const CERT_VOLUME_NAME = "cert";
/** cert-manager annotation that makes its CA injector fill the webhooks' caBundle from a Certificate. */
export const CERT_MANAGER_INJECT_CA_ANNOTATION = "cert-manager.io/inject-ca-from";
/** The non-root user and group the webhook runs as. */
export const WEBHOOK_RUN_AS_ID = 65532;
/** Namespace label every namespace carries (Kubernetes ≥ 1.22), used to keep namespaces off the webhook. */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

/**
 * Flags of `wikit webhook serve` that the Deployment passes. The first four and the custom token endpoint
 * flags are upstream's; the naming flags tell the certificate rotator which objects to keep current.
 */
/** Kubernetes' default termination grace period. */
const DEFAULT_TERMINATION_GRACE_SECONDS = 30;

export const SERVE_FLAGS = {
  logLevel: "--log-level",
  metricsAddr: "--metrics-addr",
  metricsBackend: "--metrics-backend",
  shutdownDelaySeconds: "--shutdown-delay-seconds",
  certDir: "--webhook-cert-dir",
  disableCertRotation: "--disable-cert-rotation",
  certSecretName: "--cert-secret-name",
  serviceName: "--service-name",
  webhookConfigurationName: "--webhook-configuration-name",
  customTokenEndpointAnnotationSuffix: "--custom-token-endpoint-annotation-suffix",
  customTokenEndpointAudience: "--custom-token-endpoint-audience",
  emulationAddress: "--emulation-address",
  emulationHostNames: "--emulation-host-names",
  emulationCaConfigMap: "--emulation-ca-configmap",
} as const;

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export type { Json as ManifestJson, JsonObject as ManifestJsonObject };

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

/** The chart's values.yaml, as data (a test keeps the two equal). */
export const DEFAULT_WEBHOOK_VALUES: WebhookValues = {
  azureTenantID: "",
  azureEnvironment: DEFAULT_AZURE_CLOUD,
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

/** Same message as upstream's chart, so scripts matching it keep working. */
export const TENANT_ID_REQUIRED_MESSAGE = "A valid .Values.azureTenantID entry required!";

export const EMULATION_CA_REQUIRED_MESSAGE =
  "emulation.caConfigMap is required with emulation.address: pods must trust wikit's CA to reach it";

export class WebhookValuesError extends Error {
  override name = "WebhookValuesError";
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

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

const nonEmpty = <T extends object>(value: T | undefined): value is T =>
  value !== undefined && Object.keys(value).length > 0;

/** `containerPort` of a listen address such as `:8095` or `0.0.0.0:8095`. */
function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(":") + 1));
}

/** The Deployment's container arguments for these values. */
export function webhookServeArgs(values: WebhookValues): string[] {
  const args = [
    "webhook",
    "serve",
    `${SERVE_FLAGS.logLevel}=${values.logLevel}`,
    `${SERVE_FLAGS.metricsAddr}=${values.metricsAddr}`,
    `${SERVE_FLAGS.metricsBackend}=${values.metricsBackend}`,
    `${SERVE_FLAGS.shutdownDelaySeconds}=${values.shutdownDelaySeconds}`,
    `${SERVE_FLAGS.certDir}=${DEFAULT_CERT_DIR}`,
  ];
  if (values.certManager.enabled) {
    args.push(SERVE_FLAGS.disableCertRotation);
  } else {
    args.push(
      `${SERVE_FLAGS.certSecretName}=${values.names.certSecret}`,
      `${SERVE_FLAGS.serviceName}=${values.names.service}`,
      `${SERVE_FLAGS.webhookConfigurationName}=${values.names.mutatingWebhookConfiguration}`,
    );
  }
  const custom: Partial<CustomTokenEndpointValues> = values.customTokenEndpoint ?? {};
  if (custom.annotationSuffix) {
    args.push(`${SERVE_FLAGS.customTokenEndpointAnnotationSuffix}=${custom.annotationSuffix}`);
  }
  if (custom.audience) args.push(`${SERVE_FLAGS.customTokenEndpointAudience}=${custom.audience}`);
  const emulation = values.emulation;
  if (emulation?.address) {
    args.push(`${SERVE_FLAGS.emulationAddress}=${emulation.address}`);
    if (emulation.hostNames.length > 0) {
      args.push(`${SERVE_FLAGS.emulationHostNames}=${emulation.hostNames.join(",")}`);
    }
    args.push(`${SERVE_FLAGS.emulationCaConfigMap}=${emulation.caConfigMap}`);
  }
  return args;
}

/** The objects (and YAML) deploying the webhook with these values. Throws WebhookValuesError on bad values. */
export function webhookManifests(
  input: WebhookValuesInput,
  target: WebhookManifestTarget = {},
): WebhookManifests {
  const values = mergeValues(DEFAULT_WEBHOOK_VALUES, input);
  if (!values.azureTenantID) throw new WebhookValuesError(TENANT_ID_REQUIRED_MESSAGE);
  if (values.emulation.address && !values.emulation.caConfigMap) {
    throw new WebhookValuesError(EMULATION_CA_REQUIRED_MESSAGE);
  }
  const namespace = target.namespace ?? WIKIT_WEBHOOK_NAMESPACE;
  const release = target.releaseName ?? DEFAULT_RELEASE_NAME;
  const names = values.names;
  const certManager = values.certManager.enabled;

  const selectorLabels = {
    "app.kubernetes.io/name": WEBHOOK_APP_LABEL,
    "app.kubernetes.io/component": WEBHOOK_COMPONENT_LABEL,
    "app.kubernetes.io/instance": release,
  };
  const labels = {
    ...selectorLabels,
    "app.kubernetes.io/part-of": WEBHOOK_APP_LABEL,
    "app.kubernetes.io/version": WIKIT_APP_VERSION,
  };
  const meta = (name: string, namespaced = true) => ({
    name,
    ...(namespaced ? { namespace } : {}),
    labels: { ...labels },
  });

  const serviceAccount: KubeObject = {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: meta(names.serviceAccount),
    ...((values.imagePullSecrets ?? []).length > 0 ? { imagePullSecrets: values.imagePullSecrets } : {}),
  };

  // Least privilege: `create` cannot be limited to a name (the name is not known when it is authorised); every
  // other verb is limited to the one Secret and the one configuration.
  const role: KubeObject = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: meta(names.role),
    rules: [
      { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
      {
        apiGroups: [""],
        resources: ["secrets"],
        resourceNames: [names.certSecret],
        verbs: ["get", "list", "watch", "update", "patch"],
      },
    ],
  };
  const clusterRole: KubeObject = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: meta(names.role, false),
    rules: [
      { apiGroups: [""], resources: ["serviceaccounts"], verbs: ["get", "list", "watch"] },
      ...(certManager
        ? []
        : [
            {
              apiGroups: ["admissionregistration.k8s.io"],
              resources: ["mutatingwebhookconfigurations"],
              resourceNames: [names.mutatingWebhookConfiguration],
              verbs: ["get", "list", "watch", "update", "patch"],
            },
          ]),
    ],
  };
  const subjects = [{ kind: "ServiceAccount", name: names.serviceAccount, namespace }];
  const roleBinding: KubeObject = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: meta(names.roleBinding),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: names.role },
    subjects,
  };
  const clusterRoleBinding: KubeObject = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: meta(names.roleBinding, false),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: names.role },
    subjects,
  };

  const custom: Partial<CustomTokenEndpointValues> = values.customTokenEndpoint ?? {};
  const configData: Record<string, string> = {
    [AZURE_ENVIRONMENT]: values.azureEnvironment,
    [AZURE_TENANT_ID]: values.azureTenantID,
  };
  const optionalConfig: [string, string | undefined][] = [
    [AZURE_KUBERNETES_CA_DATA, custom.azureKubernetesCaData],
    [AZURE_KUBERNETES_SNI_NAME, custom.azureKubernetesSniName],
    [AZURE_KUBERNETES_TOKEN_PROXY, custom.azureKubernetesTokenProxy],
    [AZURE_KUBERNETES_CA_CONFIGMAP_NAME, custom.azureKubernetesCAConfigMapName],
    [AZURE_KUBERNETES_CA_CTB_SIGNER_NAME, custom.azureKubernetesCACTBSignerName],
    [AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR, custom.azureKubernetesCACTBLabelSelector],
  ];
  for (const [key, value] of optionalConfig) if (value) configData[key] = value;
  const configMap: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: meta(names.configMap),
    data: configData,
  };

  const secret: KubeObject = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: meta(names.certSecret),
    type: "Opaque",
  };

  const service: KubeObject = {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(names.service),
    spec: {
      type: values.service.type,
      selector: selectorLabels,
      ports: [{ name: "https", port: WEBHOOK_SERVICE_PORT, protocol: "TCP", targetPort: "webhook-server" }],
    },
  };

  const topologySpreadConstraints =
    (values.topologySpreadConstraints ?? []).length > 0
      ? values.topologySpreadConstraints
      : values.defaultTopologySpread
        ? ["kubernetes.io/hostname", "topology.kubernetes.io/zone"].map((topologyKey) => ({
            maxSkew: 1,
            topologyKey,
            whenUnsatisfiable: "ScheduleAnyway",
            labelSelector: { matchLabels: selectorLabels },
          }))
        : [];
  const restrictedSeccomp = { type: "RuntimeDefault" };
  const container = {
    name: WEBHOOK_CONTAINER_NAME,
    image: `${values.image.repository}:${values.image.tag || WIKIT_APP_VERSION}`,
    imagePullPolicy: values.image.pullPolicy,
    args: webhookServeArgs(values),
    envFrom: [{ configMapRef: { name: names.configMap } }],
    env: [
      {
        name: POD_NAMESPACE_ENV,
        valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } },
      },
      ...(values.extraEnv ?? []),
    ],
    ports: [
      { name: "webhook-server", containerPort: WEBHOOK_SERVER_PORT, protocol: "TCP" },
      { name: "metrics", containerPort: portOf(values.metricsAddr), protocol: "TCP" },
      { name: "healthz", containerPort: portOf(DEFAULT_HEALTH_ADDRESS), protocol: "TCP" },
    ],
    livenessProbe: {
      httpGet: { path: "/healthz", port: "healthz" },
      initialDelaySeconds: 15,
      periodSeconds: 20,
      failureThreshold: 6,
    },
    readinessProbe: {
      httpGet: { path: "/readyz", port: "healthz" },
      initialDelaySeconds: 5,
      periodSeconds: 5,
    },
    resources: values.resources ?? {},
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: WEBHOOK_RUN_AS_ID,
      runAsGroup: WEBHOOK_RUN_AS_ID,
      seccompProfile: restrictedSeccomp,
    },
    volumeMounts: [
      // Self-managed: a writable in-memory directory the rotator fills. cert-manager: its Secret, read-only.
      { name: CERT_VOLUME_NAME, mountPath: DEFAULT_CERT_DIR, readOnly: certManager },
      ...(values.extraVolumeMounts ?? []),
    ],
  };
  const certVolume = certManager
    ? { name: CERT_VOLUME_NAME, secret: { secretName: values.certManager.secretName, defaultMode: 0o644 } }
    : { name: CERT_VOLUME_NAME, emptyDir: { medium: "Memory", sizeLimit: "1Mi" } };
  const podSpec = {
    serviceAccountName: names.serviceAccount,
    automountServiceAccountToken: true,
    priorityClassName: values.priorityClassName,
    // The shutdown delay, then the default 30 s for requests in flight, before the kubelet kills the container.
    terminationGracePeriodSeconds: values.shutdownDelaySeconds + DEFAULT_TERMINATION_GRACE_SECONDS,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: WEBHOOK_RUN_AS_ID,
      runAsGroup: WEBHOOK_RUN_AS_ID,
      seccompProfile: restrictedSeccomp,
    },
    containers: [container],
    volumes: [certVolume, ...(values.extraVolumes ?? [])],
    ...(nonEmpty(values.nodeSelector) ? { nodeSelector: values.nodeSelector } : {}),
    ...((values.tolerations ?? []).length > 0 ? { tolerations: values.tolerations } : {}),
    ...(nonEmpty(values.affinity) ? { affinity: values.affinity } : {}),
    ...(topologySpreadConstraints.length > 0 ? { topologySpreadConstraints } : {}),
  };
  const deployment: KubeObject = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(names.deployment),
    spec: {
      replicas: values.replicaCount,
      ...(values.revisionHistoryLimit !== undefined
        ? { revisionHistoryLimit: values.revisionHistoryLimit }
        : {}),
      selector: { matchLabels: selectorLabels },
      template: {
        metadata: {
          labels: { ...labels, ...(values.podLabels ?? {}) },
          ...(nonEmpty(values.podAnnotations) ? { annotations: values.podAnnotations } : {}),
        },
        spec: podSpec,
      },
    },
  };

  const budget = values.podDisruptionBudget ?? {};
  const podDisruptionBudget: KubeObject = {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: meta(names.deployment),
    spec: {
      ...(budget.maxUnavailable !== undefined
        ? { maxUnavailable: budget.maxUnavailable }
        : { minAvailable: budget.minAvailable ?? 1 }),
      selector: { matchLabels: selectorLabels },
    },
  };

  const excluded = [...new Set([...(values.excludedNamespaces ?? []), namespace])];
  const userSelector = values.mutatingWebhookNamespaceSelector ?? {};
  const annotations = {
    ...(values.mutatingWebhookAnnotations ?? {}),
    ...(certManager
      ? { [CERT_MANAGER_INJECT_CA_ANNOTATION]: `${namespace}/${values.certManager.certificateName}` }
      : {}),
  };
  const mutatingWebhookConfiguration: KubeObject = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingWebhookConfiguration",
    metadata: {
      ...meta(names.mutatingWebhookConfiguration, false),
      ...(nonEmpty(annotations) ? { annotations } : {}),
    },
    webhooks: [
      {
        name: names.webhook,
        admissionReviewVersions: [...ADMISSION_REVIEW_VERSIONS],
        clientConfig: {
          service: { name: names.service, namespace, path: WEBHOOK_PATH, port: WEBHOOK_SERVICE_PORT },
        },
        failurePolicy: "Fail",
        matchPolicy: "Equivalent",
        namespaceSelector: {
          ...(nonEmpty(userSelector.matchLabels) ? { matchLabels: userSelector.matchLabels } : {}),
          matchExpressions: [
            { key: NAMESPACE_NAME_LABEL, operator: "NotIn", values: excluded },
            ...(userSelector.matchExpressions ?? []),
          ],
        },
        objectSelector: { matchLabels: { [USE_LABEL]: USE_LABEL_VALUE } },
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
        timeoutSeconds: values.webhookTimeoutSeconds,
      },
    ],
  };

  const objects: KubeObject[] = [
    serviceAccount,
    ...(certManager ? [] : [role]),
    clusterRole,
    ...(certManager ? [] : [roleBinding]),
    clusterRoleBinding,
    configMap,
    ...(certManager ? [] : [secret]),
    service,
    deployment,
    podDisruptionBudget,
    mutatingWebhookConfiguration,
  ];
  const namespaceObject: KubeObject = {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: namespace,
      labels: {
        ...labels,
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
