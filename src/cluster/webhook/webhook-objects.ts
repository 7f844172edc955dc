// The webhook's Kubernetes objects, described once as a manifest tree (manifest-tree.ts). `webhookManifests`
// evaluates it for `wikit webhook manifests`; `npm run chart` writes it out as the Helm chart's templates.
// Value paths follow the chart's values.yaml (the defaults in manifests.ts).

import {
  ADMISSION_REVIEW_VERSIONS,
  AUTHORITY_HOST_ENV,
  AZURE_ENVIRONMENT,
  AZURE_KUBERNETES_CA_CONFIGMAP_NAME,
  AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR,
  AZURE_KUBERNETES_CA_CTB_SIGNER_NAME,
  AZURE_KUBERNETES_CA_DATA,
  AZURE_KUBERNETES_SNI_NAME,
  AZURE_KUBERNETES_TOKEN_PROXY,
  AZURE_TENANT_ID,
  DEFAULT_CERT_DIR,
  DEFAULT_HEALTH_ADDRESS,
  POD_NAMESPACE_ENV,
  USE_LABEL,
  USE_LABEL_VALUE,
  WEBHOOK_PATH,
  WEBHOOK_SERVER_PORT,
  WEBHOOK_SERVICE_PORT,
} from "./constants.ts";
import {
  add,
  appVersion,
  chartOnly,
  chartOnlyExpr,
  dict,
  emptyDict,
  fields,
  int,
  isSet,
  join,
  mergeOver,
  type Node,
  not,
  omitEmpty,
  orDefault,
  portOf,
  printf,
  releaseName,
  releaseNamespace,
  required,
  spread,
  ternary,
  uniqueAppend,
  value,
  valueInMap,
  when,
} from "./manifest-tree.ts";

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
/** Kubernetes' default termination grace period. */
const DEFAULT_TERMINATION_GRACE_SECONDS = 30;

/** Same message as upstream's chart, so scripts matching it keep working. */
export const TENANT_ID_REQUIRED_MESSAGE = "A valid .Values.azureTenantID entry required!";

export const EMULATION_CA_REQUIRED_MESSAGE =
  "emulation.caConfigMap is required with emulation.address: pods must trust wikit's CA to reach it";

/**
 * Flags of `wikit webhook serve` that the Deployment passes. The first four and the custom token endpoint
 * flags are upstream's; the naming flags tell the certificate rotator which objects to keep current.
 */
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

const certManager = value("certManager.enabled", "boolean");
const names = (name: string) => value(`names.${name}`);

export const SELECTOR_LABELS = {
  "app.kubernetes.io/name": WEBHOOK_APP_LABEL,
  "app.kubernetes.io/component": WEBHOOK_COMPONENT_LABEL,
  "app.kubernetes.io/instance": releaseName,
};
/** Labels of every object (and of the plain YAML's Namespace). */
export const WEBHOOK_LABELS = {
  ...SELECTOR_LABELS,
  "app.kubernetes.io/part-of": WEBHOOK_APP_LABEL,
  "app.kubernetes.io/version": appVersion,
};
/** Helm's bookkeeping labels: the chart adds them, the plain YAML has no Helm release to name. */
const HELM_LABELS = chartOnly({
  "app.kubernetes.io/managed-by": chartOnlyExpr(".Release.Service"),
  "helm.sh/chart": chartOnlyExpr('printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_"'),
});

function metadata(name: string, namespaced = true) {
  return {
    name: names(name),
    ...(namespaced ? { namespace: releaseNamespace } : {}),
    labels: fields(WEBHOOK_LABELS, HELM_LABELS),
  };
}

const serviceAccount = {
  apiVersion: "v1",
  kind: "ServiceAccount",
  metadata: metadata("serviceAccount"),
  imagePullSecrets: omitEmpty(value("imagePullSecrets", "yaml")),
};

// Least privilege. The Secret and the configuration are only needed by the webhook's own certificate rotation
// (not with cert-manager). `create` cannot be limited to a name (the name is not known when it is authorised);
// every other verb is limited to the one object by name.
const role = when(not(certManager), {
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "Role",
  metadata: metadata("role"),
  rules: [
    { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
    {
      apiGroups: [""],
      resources: ["secrets"],
      resourceNames: [names("certSecret")],
      verbs: ["get", "list", "watch", "update", "patch"],
    },
  ],
});

const clusterRole = {
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "ClusterRole",
  metadata: metadata("role", false),
  rules: [
    { apiGroups: [""], resources: ["serviceaccounts"], verbs: ["get", "list", "watch"] },
    when(not(certManager), {
      apiGroups: ["admissionregistration.k8s.io"],
      resources: ["mutatingwebhookconfigurations"],
      resourceNames: [names("mutatingWebhookConfiguration")],
      verbs: ["get", "list", "watch", "update", "patch"],
    }),
  ],
};

const subjects = [{ kind: "ServiceAccount", name: names("serviceAccount"), namespace: releaseNamespace }];

const roleBinding = when(not(certManager), {
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "RoleBinding",
  metadata: metadata("roleBinding"),
  roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: names("role") },
  subjects,
});

const clusterRoleBinding = {
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "ClusterRoleBinding",
  metadata: metadata("roleBinding", false),
  roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: names("role") },
  subjects,
};

/** ConfigMap keys of the custom token endpoint settings; empty settings are left out. */
const CUSTOM_TOKEN_ENDPOINT_CONFIG: [string, string][] = [
  [AZURE_KUBERNETES_CA_DATA, "azureKubernetesCaData"],
  [AZURE_KUBERNETES_SNI_NAME, "azureKubernetesSniName"],
  [AZURE_KUBERNETES_TOKEN_PROXY, "azureKubernetesTokenProxy"],
  [AZURE_KUBERNETES_CA_CONFIGMAP_NAME, "azureKubernetesCAConfigMapName"],
  [AZURE_KUBERNETES_CA_CTB_SIGNER_NAME, "azureKubernetesCACTBSignerName"],
  [AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR, "azureKubernetesCACTBLabelSelector"],
];

const authorityHost = value("authorityHost");
const configMap = {
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: metadata("configMap"),
  data: {
    [AZURE_ENVIRONMENT]: value("azureEnvironment"),
    // Left out when empty: the webhook then injects the cloud's authority host, as upstream does.
    [AUTHORITY_HOST_ENV]: when(authorityHost, authorityHost),
    [AZURE_TENANT_ID]: required(TENANT_ID_REQUIRED_MESSAGE, value("azureTenantID")),
    ...Object.fromEntries(
      CUSTOM_TOKEN_ENDPOINT_CONFIG.map(([key, setting]) => {
        const setValue = value(`customTokenEndpoint.${setting}`);
        return [key, when(setValue, setValue)];
      }),
    ),
  },
};

// Empty: the webhook fills it with its CA and serving certificate and renews them.
const secret = when(not(certManager), {
  apiVersion: "v1",
  kind: "Secret",
  metadata: metadata("certSecret"),
  type: "Opaque",
});

const service = {
  apiVersion: "v1",
  kind: "Service",
  metadata: metadata("service"),
  spec: {
    type: value("service.type"),
    selector: SELECTOR_LABELS,
    ports: [{ name: "https", port: WEBHOOK_SERVICE_PORT, protocol: "TCP", targetPort: "webhook-server" }],
  },
};

/** `--flag=<value>` when the value is not empty. */
const optionalFlag = (flag: string, setting: string) => {
  const setValue = value(setting);
  return when(setValue, printf(`${flag}=%s`, setValue));
};

const emulationAddress = value("emulation.address");
const emulationHostNames = value("emulation.hostNames", "yaml");
const args: Node[] = [
  "webhook",
  "serve",
  printf(`${SERVE_FLAGS.logLevel}=%s`, value("logLevel")),
  printf(`${SERVE_FLAGS.metricsAddr}=%s`, value("metricsAddr")),
  printf(`${SERVE_FLAGS.metricsBackend}=%s`, value("metricsBackend")),
  printf(`${SERVE_FLAGS.shutdownDelaySeconds}=%d`, int(value("shutdownDelaySeconds", "number"))),
  `${SERVE_FLAGS.certDir}=${DEFAULT_CERT_DIR}`,
  when(certManager, SERVE_FLAGS.disableCertRotation, [
    printf(`${SERVE_FLAGS.certSecretName}=%s`, names("certSecret")),
    printf(`${SERVE_FLAGS.serviceName}=%s`, names("service")),
    printf(`${SERVE_FLAGS.webhookConfigurationName}=%s`, names("mutatingWebhookConfiguration")),
  ]),
  optionalFlag(SERVE_FLAGS.customTokenEndpointAnnotationSuffix, "customTokenEndpoint.annotationSuffix"),
  optionalFlag(SERVE_FLAGS.customTokenEndpointAudience, "customTokenEndpoint.audience"),
  when(emulationAddress, [
    printf(`${SERVE_FLAGS.emulationAddress}=%s`, emulationAddress),
    when(emulationHostNames, printf(`${SERVE_FLAGS.emulationHostNames}=%s`, join(",", emulationHostNames))),
    printf(
      `${SERVE_FLAGS.emulationCaConfigMap}=%s`,
      required(EMULATION_CA_REQUIRED_MESSAGE, value("emulation.caConfigMap")),
    ),
  ]),
];

const restrictedSeccomp = { type: "RuntimeDefault" };
const portOfAddress = (address: string) => Number(address.slice(address.lastIndexOf(":") + 1));

const container = {
  name: WEBHOOK_CONTAINER_NAME,
  image: printf("%s:%s", value("image.repository"), orDefault(value("image.tag"), appVersion)),
  imagePullPolicy: value("image.pullPolicy"),
  args,
  envFrom: [{ configMapRef: { name: names("configMap") } }],
  env: [
    {
      name: POD_NAMESPACE_ENV,
      valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } },
    },
    spread(value("extraEnv", "yaml")),
  ],
  ports: [
    { name: "webhook-server", containerPort: WEBHOOK_SERVER_PORT, protocol: "TCP" },
    { name: "metrics", containerPort: portOf(value("metricsAddr")), protocol: "TCP" },
    { name: "healthz", containerPort: portOfAddress(DEFAULT_HEALTH_ADDRESS), protocol: "TCP" },
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
  resources: orDefault(value("resources", "yaml"), emptyDict),
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
    spread(value("extraVolumeMounts", "yaml")),
  ],
};

const topologySpreadConstraints = value("topologySpreadConstraints", "yaml");
const podSpec = fields(
  {
    serviceAccountName: names("serviceAccount"),
    automountServiceAccountToken: true,
    priorityClassName: value("priorityClassName"),
    // The shutdown delay, then the default 30 s for requests in flight, before the kubelet kills the container.
    terminationGracePeriodSeconds: add(
      DEFAULT_TERMINATION_GRACE_SECONDS,
      value("shutdownDelaySeconds", "number"),
    ),
    securityContext: {
      runAsNonRoot: true,
      runAsUser: WEBHOOK_RUN_AS_ID,
      runAsGroup: WEBHOOK_RUN_AS_ID,
      seccompProfile: restrictedSeccomp,
    },
    containers: [container],
    volumes: [
      when(
        certManager,
        {
          name: CERT_VOLUME_NAME,
          secret: { secretName: value("certManager.secretName"), defaultMode: 0o644 },
        },
        { name: CERT_VOLUME_NAME, emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
      ),
      spread(value("extraVolumes", "yaml")),
    ],
    nodeSelector: omitEmpty(value("nodeSelector", "yaml")),
    tolerations: omitEmpty(value("tolerations", "yaml")),
    affinity: omitEmpty(value("affinity", "yaml")),
  },
  // Given constraints as they are; otherwise, unless turned off, spread over nodes and zones (best effort).
  when(
    topologySpreadConstraints,
    { topologySpreadConstraints },
    when(value("defaultTopologySpread", "boolean"), {
      topologySpreadConstraints: ["kubernetes.io/hostname", "topology.kubernetes.io/zone"].map(
        (topologyKey) => ({
          maxSkew: 1,
          topologyKey,
          whenUnsatisfiable: "ScheduleAnyway",
          labelSelector: { matchLabels: SELECTOR_LABELS },
        }),
      ),
    }),
  ),
);

const revisionHistoryLimit = value("revisionHistoryLimit", "number");
const deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: metadata("deployment"),
  spec: {
    replicas: value("replicaCount", "number"),
    revisionHistoryLimit: when(isSet(revisionHistoryLimit), revisionHistoryLimit),
    selector: { matchLabels: SELECTOR_LABELS },
    template: {
      metadata: {
        // podLabels win over the common labels.
        labels: mergeOver(orDefault(value("podLabels", "yaml"), emptyDict), dict(WEBHOOK_LABELS)),
        annotations: omitEmpty(value("podAnnotations", "yaml")),
      },
      spec: podSpec,
    },
  },
};

// `podDisruptionBudget: null` leaves the default budget, as a missing member does.
const maxUnavailable = valueInMap("podDisruptionBudget", "maxUnavailable", "json");
const minAvailable = valueInMap("podDisruptionBudget", "minAvailable", "json");
const podDisruptionBudget = {
  apiVersion: "policy/v1",
  kind: "PodDisruptionBudget",
  metadata: metadata("deployment"),
  spec: fields(
    // maxUnavailable, when set, instead of minAvailable (0 counts as set).
    when(
      isSet(maxUnavailable),
      { maxUnavailable },
      when(isSet(minAvailable), { minAvailable }, { minAvailable: 1 }),
    ),
    { selector: { matchLabels: SELECTOR_LABELS } },
  ),
};

const namespaceSelector = "mutatingWebhookNamespaceSelector";
const mutatingWebhookConfiguration = {
  apiVersion: "admissionregistration.k8s.io/v1",
  kind: "MutatingWebhookConfiguration",
  metadata: {
    ...metadata("mutatingWebhookConfiguration", false),
    annotations: omitEmpty(
      mergeOver(
        ternary(
          certManager,
          dict({
            [CERT_MANAGER_INJECT_CA_ANNOTATION]: printf(
              "%s/%s",
              releaseNamespace,
              value("certManager.certificateName"),
            ),
          }),
          emptyDict,
        ),
        orDefault(value("mutatingWebhookAnnotations", "yaml"), emptyDict),
      ),
    ),
  },
  webhooks: [
    {
      name: names("webhook"),
      admissionReviewVersions: [...ADMISSION_REVIEW_VERSIONS],
      // caBundle: set by the webhook itself, or by cert-manager's CA injector.
      clientConfig: {
        service: {
          name: names("service"),
          namespace: releaseNamespace,
          path: WEBHOOK_PATH,
          port: WEBHOOK_SERVICE_PORT,
        },
      },
      failurePolicy: "Fail",
      matchPolicy: "Equivalent",
      namespaceSelector: {
        matchLabels: omitEmpty(value(`${namespaceSelector}.matchLabels`, "yaml")),
        // The release namespace is always excluded: a webhook that must admit its own pods could never start again.
        matchExpressions: [
          {
            key: NAMESPACE_NAME_LABEL,
            operator: "NotIn",
            values: uniqueAppend(value("excludedNamespaces", "yaml"), releaseNamespace),
          },
          spread(value(`${namespaceSelector}.matchExpressions`, "yaml")),
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
      timeoutSeconds: value("webhookTimeoutSeconds", "number"),
    },
  ],
};

/** The webhook's objects in install order, each with the chart template file it becomes. */
export const WEBHOOK_OBJECTS: readonly { file: string; object: Node }[] = [
  { file: "serviceaccount.yaml", object: serviceAccount },
  { file: "role.yaml", object: role },
  { file: "clusterrole.yaml", object: clusterRole },
  { file: "rolebinding.yaml", object: roleBinding },
  { file: "clusterrolebinding.yaml", object: clusterRoleBinding },
  { file: "configmap.yaml", object: configMap },
  { file: "secret.yaml", object: secret },
  { file: "service.yaml", object: service },
  { file: "deployment.yaml", object: deployment },
  { file: "poddisruptionbudget.yaml", object: podDisruptionBudget },
  { file: "mutatingwebhookconfiguration.yaml", object: mutatingWebhookConfiguration },
];
