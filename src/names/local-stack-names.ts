// Names and defaults of the local stack that the CLI needs without loading the server.

export const DEFAULT_PORT = 8443;
export const DEFAULT_VAULT_DOMAIN = "vault.localhost";
/** The host name every endpoint but the vaults answers on. */
export const LOCAL_HOST = "localhost";
export const LOCAL_CLUSTER = { resourceGroup: "wikit", name: "local" } as const;
/** Where the local cluster's Kubernetes API is served. */
export const KUBE_API_PREFIX = "/clusters/local";
