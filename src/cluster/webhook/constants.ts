// Every name a user of the webhook types or reads: labels, annotations, injected environment variables,
// paths, container names, defaults and the names of the objects the webhook is deployed as. They match
// azure-workload-identity v1.6.1 so that existing manifests, Helm values and scripts work unchanged.

/** Release of the upstream project whose behaviour the webhook reproduces. */
export const COMPATIBLE_VERSION = "v1.6.1";

// ---- Selection ------------------------------------------------------------------------------------------

/** Pod label that selects a pod for mutation; the API server's objectSelector requires the value `"true"`. */
export const USE_LABEL = "azure.workload.identity/use";
export const USE_LABEL_VALUE = "true";

// ---- Annotations ----------------------------------------------------------------------------------------

export const ANNOTATION_PREFIX = "azure.workload.identity/";
/** ServiceAccount: the identity's client ID, injected as AZURE_CLIENT_ID. */
export const CLIENT_ID_ANNOTATION = `${ANNOTATION_PREFIX}client-id`;
/** ServiceAccount: tenant override; the key wins even with an empty value. */
export const TENANT_ID_ANNOTATION = `${ANNOTATION_PREFIX}tenant-id`;
/** Pod (if non-empty), else ServiceAccount: projected token lifetime in seconds. */
export const TOKEN_EXPIRATION_ANNOTATION = `${ANNOTATION_PREFIX}service-account-token-expiration`;
/** Pod: `;`-separated container names that are left alone. */
export const SKIP_CONTAINERS_ANNOTATION = `${ANNOTATION_PREFIX}skip-containers`;
/** Pod: the key's presence injects the IMDS proxy; its value is ignored (`"false"` still injects). */
export const INJECT_PROXY_SIDECAR_ANNOTATION = `${ANNOTATION_PREFIX}inject-proxy-sidecar`;
/** Pod: port the IMDS proxy listens on. */
export const PROXY_SIDECAR_PORT_ANNOTATION = `${ANNOTATION_PREFIX}proxy-sidecar-port`;
/** Pod: `<prefix><suffix>: "true"` opts into the custom token endpoint configured with that suffix. */
export const USE_ANNOTATION_PREFIX = `${ANNOTATION_PREFIX}use-`;

/** The pod annotation that opts into the custom token endpoint, exactly as configured (case kept). */
export function customTokenEndpointAnnotation(suffix: string): string {
  return `${USE_ANNOTATION_PREFIX}${suffix}`;
}

// ---- Injected environment variables (in injection order) ------------------------------------------------

export const AZURE_CLIENT_ID = "AZURE_CLIENT_ID";
export const AZURE_TENANT_ID = "AZURE_TENANT_ID";
export const AZURE_FEDERATED_TOKEN_FILE = "AZURE_FEDERATED_TOKEN_FILE";
export const AZURE_AUTHORITY_HOST = "AZURE_AUTHORITY_HOST";
export const AZURE_KUBERNETES_TOKEN_PROXY = "AZURE_KUBERNETES_TOKEN_PROXY";
export const AZURE_KUBERNETES_SNI_NAME = "AZURE_KUBERNETES_SNI_NAME";
export const AZURE_KUBERNETES_CA_FILE = "AZURE_KUBERNETES_CA_FILE";
export const AZURE_KUBERNETES_CA_DATA = "AZURE_KUBERNETES_CA_DATA";
/** Set on the proxy-init container only. */
export const PROXY_PORT_ENV = "PROXY_PORT";

// ---- Projected token volume -----------------------------------------------------------------------------

export const DEFAULT_AUDIENCE = "api://AzureADTokenExchange";
/** 33 characters; with the 30-hex identity hash the volume name is exactly a 63-character DNS label. */
export const RESERVED_VOLUME_NAME_PREFIX = "azure-workload-identity-reserved-";
/** Number of SHA-256 hex characters of the pod identity used in the volume name and mount path. */
export const IDENTITY_HASH_LENGTH = 30;
/** v1.6.1 mounts at `<base>/<hash>` so that two identities never share a mount path. */
export const MOUNT_PATH_BASE = "/var/run/secrets/azure/wi";
export const TOKEN_SUB_PATH = "token/azure-identity-token";
export const CA_SUB_PATH = "ca-cert/ca.crt";
/** Key read from the CA ConfigMap of a custom token endpoint. */
export const CA_CONFIG_MAP_KEY = "ca.crt";
/** The API server defaults a projected volume's mode to this after admission. */
export const SERVER_DEFAULT_PROJECTED_MODE = 420;

export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600;
export const MIN_TOKEN_EXPIRATION_SECONDS = 3600;
export const MAX_TOKEN_EXPIRATION_SECONDS = 86400;

/** ServiceAccount used when a pod names none. */
export const DEFAULT_SERVICE_ACCOUNT_NAME = "default";

// ---- IMDS proxy ----------------------------------------------------------------------------------------

export const PROXY_CONTAINER_NAME = "azwi-proxy";
export const PROXY_INIT_CONTAINER_NAME = "azwi-proxy-init";
export const DEFAULT_PROXY_IMAGE = `mcr.microsoft.com/oss/azure/workload-identity/proxy:${COMPATIBLE_VERSION}`;
export const DEFAULT_PROXY_INIT_IMAGE = `mcr.microsoft.com/oss/azure/workload-identity/proxy-init:${COMPATIBLE_VERSION}`;
export const DEFAULT_PROXY_PORT = 8000;
/** From this API server version on the proxy runs as a native sidecar (init container, restartPolicy Always). */
export const NATIVE_SIDECAR_MIN_KUBERNETES_VERSION = "1.32.0";

// ---- Deployment: webhook configuration and server ---------------------------------------------------------

export const MUTATING_WEBHOOK_CONFIGURATION_NAME = "azure-wi-webhook-mutating-webhook-configuration";
export const WEBHOOK_NAME = "mutation.azure-workload-identity.io";
export const WEBHOOK_SERVICE_NAME = "azure-wi-webhook-webhook-service";
export const WEBHOOK_PATH = "/mutate-v1-pod";
export const WEBHOOK_SERVICE_PORT = 443;
export const WEBHOOK_SERVER_PORT = 9443;
export const ADMISSION_REVIEW_VERSIONS: readonly string[] = ["v1", "v1beta1"];
export const DEFAULT_WEBHOOK_NAMESPACE = "azure-workload-identity-system";
export const WEBHOOK_CONFIG_MAP_NAME = "azure-wi-webhook-config";
export const WEBHOOK_CERT_SECRET_NAME = "azure-wi-webhook-server-cert";

/** Environment the webhook server reads its configuration from. */
export const AZURE_ENVIRONMENT = "AZURE_ENVIRONMENT";
export const AZURE_ENVIRONMENT_FILEPATH = "AZURE_ENVIRONMENT_FILEPATH";
export const PROXY_IMAGE_ENV = "PROXY_IMAGE";
export const PROXY_INIT_IMAGE_ENV = "PROXY_INIT_IMAGE";
export const AZURE_KUBERNETES_CA_CONFIGMAP_NAME = "AZURE_KUBERNETES_CA_CONFIGMAP_NAME";
export const AZURE_KUBERNETES_CA_CTB_SIGNER_NAME = "AZURE_KUBERNETES_CA_CTB_SIGNER_NAME";
export const AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR = "AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR";
export const POD_NAMESPACE_ENV = "POD_NAMESPACE";

// ---- Clouds ---------------------------------------------------------------------------------------------

export interface AzureCloud {
  readonly name: string;
  /** Other names accepted for the same cloud (optional upstream; accepted here). */
  readonly aliases: readonly string[];
  /** Injected as AZURE_AUTHORITY_HOST; always ends with `/`. */
  readonly authorityHost: string;
  readonly graphEndpoint: string;
}

export const DEFAULT_AZURE_CLOUD = "AzurePublicCloud";
/** Defined by the JSON file at AZURE_ENVIRONMENT_FILEPATH, so it is not in the table below. */
export const AZURE_STACK_CLOUD = "AzureStackCloud";

export const AZURE_CLOUDS: readonly AzureCloud[] = [
  {
    name: "AzurePublicCloud",
    aliases: ["AzureCloud"],
    authorityHost: "https://login.microsoftonline.com/",
    graphEndpoint: "https://graph.microsoft.com/",
  },
  {
    name: "AzureUSGovernmentCloud",
    aliases: ["AzureUSGovernment"],
    authorityHost: "https://login.microsoftonline.us/",
    graphEndpoint: "https://graph.microsoft.us/",
  },
  {
    name: "AzureChinaCloud",
    aliases: [],
    authorityHost: "https://login.chinacloudapi.cn/",
    graphEndpoint: "https://microsoftgraph.chinacloudapi.cn/",
  },
  {
    name: "AzureGermanCloud",
    aliases: [],
    authorityHost: "https://login.microsoftonline.de/",
    graphEndpoint: "https://graph.microsoft.de/",
  },
];

/** The cloud called `name` (case-insensitive; empty means public), or undefined for an unknown name. */
export function findAzureCloud(name: string): AzureCloud | undefined {
  const wanted = (name || DEFAULT_AZURE_CLOUD).toUpperCase();
  return AZURE_CLOUDS.find((cloud) =>
    [cloud.name, ...cloud.aliases].some((candidate) => candidate.toUpperCase() === wanted),
  );
}

/** AZURE_AUTHORITY_HOST for the cloud called `name`, or undefined for an unknown name. */
export function authorityHostForCloud(name: string): string | undefined {
  return findAzureCloud(name)?.authorityHost;
}

/** Start-up error for an unknown AZURE_ENVIRONMENT (the name is upper-cased, as upstream reports it). */
export function unknownCloudMessage(name: string): string {
  return `failed to get AAD endpoint: autorest/azure: There is no cloud environment matching the name "${name.toUpperCase()}"`;
}

// ---- wikit emulation (model B: pods reach wikit under Microsoft's host names) ---------------------------

/** ConfigMap volume holding the CA bundle that pods trust in emulation mode (not an upstream name). */
export const EMULATION_CA_VOLUME_NAME = "wikit-reserved-ca-bundle";
/** Where that volume is mounted, read-only, in every mutated container. */
export const EMULATION_CA_MOUNT_PATH = "/var/run/secrets/wikit/ca";
/** Key of the CA bundle in the ConfigMap, and the file name under the mount path. */
export const EMULATION_CA_CONFIG_MAP_KEY = "ca.crt";
/** The bundle's path inside the container. */
export const EMULATION_CA_FILE = `${EMULATION_CA_MOUNT_PATH}/${EMULATION_CA_CONFIG_MAP_KEY}`;
/** Host name every emulation set-up needs: the authority that the SDKs' default configuration uses. */
export const EMULATION_DEFAULT_HOST_NAMES: readonly string[] = ["login.microsoftonline.com"];

/** Node.js: extra CA certificates, added to its built-in roots. */
export const NODE_EXTRA_CA_CERTS = "NODE_EXTRA_CA_CERTS";
/** Python requests, MSAL-python and the Azure CLI: replaces the trust store, hence the full bundle. */
export const REQUESTS_CA_BUNDLE = "REQUESTS_CA_BUNDLE";
/** Go and OpenSSL-based clients: replaces the trust store, hence the full bundle. */
export const SSL_CERT_FILE = "SSL_CERT_FILE";

/** Environment the webhook reads its emulation settings from (flags of the same meaning win). */
export const EMULATION_ADDRESS_ENV = "WIKIT_EMULATION_ADDRESS";
export const EMULATION_HOST_NAMES_ENV = "WIKIT_EMULATION_HOST_NAMES";
export const EMULATION_CA_CONFIGMAP_ENV = "WIKIT_EMULATION_CA_CONFIGMAP";

// ---- wikit's own authority (model A: pods reach a `wikit serve` under its own name) --------------------

/**
 * Environment the webhook reads an authority host from (the flag --authority-host wins): injected as
 * AZURE_AUTHORITY_HOST instead of the cloud's, e.g. the public URL of a `wikit serve` deployment.
 */
export const AUTHORITY_HOST_ENV = "WIKIT_AUTHORITY_HOST";

// ---- Server -----------------------------------------------------------------------------------------------

/** Files the admission server reads its serving certificate from, in --webhook-cert-dir. */
export const SERVING_CERT_FILE = "tls.crt";
export const SERVING_KEY_FILE = "tls.key";
export const DEFAULT_CERT_DIR = "/certs";
export const DEFAULT_HEALTH_ADDRESS = ":9440";
export const DEFAULT_METRICS_ADDRESS = ":8095";
export const DEFAULT_METRICS_BACKEND = "prometheus";
export const DEFAULT_TLS_MIN_VERSION = "1.3";
/** Largest AdmissionReview body accepted, as upstream (about 7 MiB); larger bodies are answered 413. */
export const MAX_ADMISSION_REVIEW_BYTES = 7 * 1024 * 1024;
/** Text of the health checks while the serving certificate is missing. */
export const CERTS_NOT_READY_MESSAGE = "certs are not ready yet";
/** Prometheus histogram of admission latency, in seconds (upstream's name and labels). */
export const MUTATION_REQUEST_METRIC = "azwi_mutation_request";
export const METRICS_SERVICE_NAME = "webhook";
/** Upper bounds of the histogram's buckets, in seconds. */
export const MUTATION_REQUEST_BUCKETS: readonly number[] = [
  0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07,
  0.08, 0.09, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.5, 2, 2.5, 3,
];
/** Counter of admission requests by result: allowed, denied (a decision) or error (not decidable). */
export const ADMISSION_REQUESTS_METRIC = "wikit_webhook_admission_requests_total";

// ---- wikit's own deployment names ----------------------------------------------------------------------
// Defaults of `webhookManifests` and the Helm chart: different from the upstream names above so that wikit's
// webhook can run beside azure-workload-identity's. Deploying with the upstream names replaces it instead.

export const WIKIT_WEBHOOK_NAMESPACE = "wikit-system";
/** ServiceAccount, Role, ClusterRole, their bindings, Service, Deployment and PodDisruptionBudget. */
export const WIKIT_WEBHOOK_OBJECT_NAME = "wikit-webhook";
export const WIKIT_WEBHOOK_CONFIG_MAP_NAME = "wikit-webhook-config";
export const WIKIT_WEBHOOK_CERT_SECRET_NAME = "wikit-webhook-server-cert";
export const WIKIT_MUTATING_WEBHOOK_CONFIGURATION_NAME = "wikit-webhook";
export const WIKIT_WEBHOOK_NAME = "mutation.webhook.wikit.dev";
/** Keys of the certificate Secret the webhook keeps (and of cert-manager's Secrets). */
export const CERT_SECRET_KEYS = {
  caCert: "ca.crt",
  caKey: "ca.key",
  tlsCert: "tls.crt",
  tlsKey: "tls.key",
} as const;

/** Upstream's object names, for deploying wikit's webhook in place of azure-workload-identity's. */
export const UPSTREAM_WEBHOOK_SERVICE_ACCOUNT_NAME = "azure-wi-webhook-admin";
export const UPSTREAM_WEBHOOK_ROLE_NAME = "azure-wi-webhook-manager-role";
export const UPSTREAM_WEBHOOK_ROLE_BINDING_NAME = "azure-wi-webhook-manager-rolebinding";
export const UPSTREAM_WEBHOOK_DEPLOYMENT_NAME = "azure-wi-webhook-controller-manager";
