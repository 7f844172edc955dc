// Names and defaults of the local stack that the CLI needs without loading the server.

export const DEFAULT_PORT = 8443;
export const DEFAULT_VAULT_DOMAIN = "vault.localhost";
/** App Configuration stores answer at `https://{name}.{domain}:{port}`. */
export const DEFAULT_APPCONFIG_DOMAIN = "azconfig.localhost";
/** The host name every endpoint but the vaults answers on. */
export const LOCAL_HOST = "localhost";
/** wikit up's own cluster: its managed cluster's group and name, and its key in the store and the API's paths. */
export const LOCAL_CLUSTER = { resourceGroup: "wikit", name: "local", key: "local" } as const;
/** Where the local clusters' Kubernetes APIs are served: `{KUBE_API_ROOT}/{cluster key}/api/v1/…`. */
export const KUBE_API_ROOT = "/clusters";
/** Where wikit up's own cluster's Kubernetes API is served. */
export const KUBE_API_PREFIX = `${KUBE_API_ROOT}/${LOCAL_CLUSTER.key}`;
/** The management API's own endpoints, beside its ARM-shaped ones. */
export const MANAGEMENT_PATHS = {
  /** The sign-in log: `?failed=true&clientId=…&since=<ISO time>&top=N`. */
  signIns: "/wikit/signIns",
  /** Each federated credential's sign-ins: `?identityId=<ARM ID>`. */
  signInActivity: "/wikit/signInActivity",
  /** POST a new tenant (with one subscription): `{"displayName", "defaultDomain"?}`. */
  tenants: "/wikit/tenants",
} as const;
/** The header with which the admin credential names the tenant of a Graph-shaped request (its ID or domain). */
export const GRAPH_TENANT_HEADER = "wikit-tenant";
