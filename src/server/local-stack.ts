import { randomUUID } from "node:crypto";
import { lookup } from "node:dns/promises";
import { mkdir } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import { registerIssuerRoutes } from "../cluster/issuer/issuer-routes.ts";
import { registerKubeApiRoutes } from "../cluster/local-cluster/kube-api-routes.ts";
import { type LocalClusterIds, LocalClusters } from "../cluster/local-cluster/local-clusters.ts";
import { createDirectory } from "../identity/directory/directory.ts";
import { conflict } from "../identity/directory/directory-error.ts";
import { IssuerMetadataClient } from "../identity/exchange/issuer-metadata.ts";
import { SignInLog } from "../identity/sign-ins/sign-in-log.ts";
import { LOCAL_CLUSTER_PROPERTY } from "../management/arm-routes.ts";
import { RESOURCE_TYPES } from "../names/arm-resource-ids.ts";
import {
  DEFAULT_APPCONFIG_DOMAIN,
  DEFAULT_PORT,
  DEFAULT_VAULT_DOMAIN,
  KUBE_API_ROOT,
  LOCAL_CLUSTER,
  LOCAL_HOST,
} from "../names/local-stack-names.ts";
import { MICROSOFT_AUTHORITY_HOSTS } from "../names/microsoft-hosts.ts";
import { eraseVaultSecrets } from "../resources/vault/deleted-secrets.ts";
import { SigningKeyRing } from "../signing-keys/key-ring.ts";
import type { ArmResource } from "../store/store.ts";
import { ensureAdminPrincipal, grantAdmin } from "./admin-principal.ts";
import {
  isProcessAlive,
  loadOrCreateAdminToken,
  readServerInfo,
  removeServerInfo,
  type ServerInfo,
  writeServerInfo,
} from "./data-dir.ts";
import { registerFederation } from "./federation-routes.ts";
import { createHttpsApp } from "./https-app.ts";
import { openLocalStore } from "./local-store.ts";
import { resealVaultSecrets } from "./reseal-secrets.ts";
import { loadLocalTls } from "./tls/local-ca.ts";

export interface LocalStackOptions {
  dataDir: string;
  port?: number;
  /** Address to listen on; 127.0.0.1 keeps the stack on this machine. */
  listenAddress?: string;
  vaultDomain?: string;
  /** App Configuration stores answer at `https://{name}.{appConfigDomain}:{port}`. */
  appConfigDomain?: string;
  logLevel?: string;
  /** Where logs go (default stdout). */
  logStream?: NodeJS.WritableStream;
  /** Say in failed exchanges which field of the nearest federated credential differs (default on, for local use). */
  explainErrors?: boolean;
}

export interface LocalStack {
  app: FastifyInstance;
  info: ServerInfo;
  close(): Promise<void>;
}

/**
 * `wikit up`: the whole federation in one HTTPS server — the local cluster's issuer and Kubernetes
 * API, the token service, the vaults (by Host name) and the management API — over one SQLite store.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const { dataDir } = options;
  const vaultDomain = (options.vaultDomain ?? DEFAULT_VAULT_DOMAIN).toLowerCase();
  const appConfigDomain = (options.appConfigDomain ?? DEFAULT_APPCONFIG_DOMAIN).toLowerCase();
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const running = await readServerInfo(dataDir);
  if (running && running.pid !== process.pid && isProcessAlive(running.pid)) {
    throw new Error(
      `wikit is already running from ${dataDir} (pid ${running.pid}, ${running.url}). Stop it with \`wikit down\` or use another --data-dir.`,
    );
  }

  // Secret values are sealed at rest; values stored before sealing, or under an earlier current key, are resealed.
  const store = await openLocalStore(dataDir);
  await resealVaultSecrets(store);
  // The directory holds vaults as ARM resources; the vault part owns their secrets and erases them.
  const directory = createDirectory(store, {
    eraseVaultContents: (vaultId) => eraseVaultSecrets(store, vaultId),
  });
  const { tenant, subscription } = await directory.tenants.ensureDefaults();
  const admin = await ensureAdminPrincipal(dataDir, directory, {
    tenantId: tenant.tenantId,
    subscriptionId: subscription.subscriptionId,
  });
  const stsKeys = await SigningKeyRing.open(store, "sts");
  const tls = await loadLocalTls(dataDir, [
    LOCAL_HOST,
    `*.${vaultDomain}`,
    vaultDomain,
    `*.${appConfigDomain}`,
    "127.0.0.1",
    "::1",
    ...MICROSOFT_AUTHORITY_HOSTS,
  ]);
  const adminToken = await loadOrCreateAdminToken(dataDir);
  let clusterUuid = await store.getSetting("cluster.local.uuid");
  if (!clusterUuid) {
    clusterUuid = randomUUID();
    await store.putSetting("cluster.local.uuid", clusterUuid);
  }

  // Issuer URLs and vault URIs carry the port, and federated credentials name the issuer exactly: without
  // --port, reuse the port of the previous start so that they stay valid.
  const savedPort = Number(await store.getSetting("server.port")) || undefined;
  // Endpoints depend on the port, known only once listening (`--port 0` picks a free one).
  const endpoints = { port: options.port ?? savedPort ?? DEFAULT_PORT };
  const baseUrl = () => `https://${LOCAL_HOST}:${endpoints.port}`;
  const issuerUrl = (issuerId: string) => `${baseUrl()}/oidc/${issuerId}/`;
  const vaultResource = () => `https://${vaultDomain}:${endpoints.port}`;
  const vaultUri = (name: string) => `https://${name.toLowerCase()}.${vaultDomain}:${endpoints.port}/`;

  // wikit up's own cluster (key `local`), and those `aks create` made since.
  const clusters = new LocalClusters(store, issuerUrl);
  const localClusterIds: LocalClusterIds = { key: LOCAL_CLUSTER.key, issuerId: clusterUuid };
  await clusters.open(localClusterIds);
  for (const managed of await directory.clusters.listAll()) {
    const ids = localClusterIdsOf(managed);
    if (ids) await clusters.open(ids);
  }

  const app = createHttpsApp({ tls: tls.serving, logLevel: options.logLevel, logStream: options.logStream });

  // Vault URIs are added by the federation; managed clusters show where their issuer is served.
  const present = (resource: ArmResource): ArmResource => {
    const ids =
      resource.type.toLowerCase() === RESOURCE_TYPES.managedCluster.toLowerCase()
        ? localClusterIdsOf(resource)
        : undefined;
    if (!ids) return resource;
    const { oidcIssuerProfile, ...properties } = resource.properties;
    return {
      ...resource,
      properties: {
        ...properties,
        oidcIssuerProfile: {
          ...(oidcIssuerProfile as object),
          enabled: true,
          issuerUrl: issuerUrl(ids.issuerId),
        },
        fqdn: `${LOCAL_HOST}:${endpoints.port}`,
      },
    };
  };

  const signIns = new SignInLog(store, {
    onWriteError: (error, lost) =>
      app.log.error({ err: error, lost }, "sign-in records could not be written and are lost"),
  });

  app.get("/healthz", async () => ({ status: "ok" }));
  registerIssuerRoutes(app, "/oidc/:issuerId", ({ issuerId = "" }) => {
    const cluster = clusters.byIssuerId(issuerId);
    return cluster && { issuer: cluster.issuer, keys: cluster.signingKeys };
  });
  await registerFederation(app, {
    store,
    directory,
    signIns,
    stsKeys,
    issuerKeys: new IssuerMetadataClient({ ca: tls.ca.certPem, allowPrivateNetworks: true }),
    endpoints: {
      baseUrl,
      authorityHostname: LOCAL_HOST,
      vaultDomain,
      vaultResource,
      vaultResourceAliases: () => (endpoints.port === 443 ? [`https://${vaultDomain}`] : []),
      vaultUri,
      appConfigDomain,
      configurationStoreEndpoint: (name) =>
        `https://${name.toLowerCase()}.${appConfigDomain}:${endpoints.port}`,
    },
    explainErrors: options.explainErrors ?? true,
    adminToken,
    adminClientId: admin.clientId,
    defaultTenant: () => tenant.tenantId,
    present,
    onTenantCreated: (made) => grantAdmin(directory, admin, made),
    adminRoutes: (management) =>
      registerKubeApiRoutes(management, `${KUBE_API_ROOT}/:cluster`, ({ cluster = "" }) =>
        clusters.byKey(cluster),
      ),
    clusterProvisioning: {
      async provision() {
        const ids = { key: randomUUID(), issuerId: randomUUID() };
        await clusters.open(ids);
        return { [LOCAL_CLUSTER_PROPERTY]: ids };
      },
      async deprovision(managed) {
        const ids = localClusterIdsOf(managed);
        if (ids?.key === LOCAL_CLUSTER.key) {
          throw conflict(
            "OperationNotAllowed",
            `The managed cluster '${managed.name}' is wikit up's own cluster, where wikit run runs by default: it cannot be deleted.`,
          );
        }
        if (ids) await clusters.remove(ids);
      },
    },
  });

  await app.listen({ host: options.listenAddress ?? "127.0.0.1", port: endpoints.port });
  const address = app.server.address();
  if (address && typeof address === "object") endpoints.port = address.port;
  await store.putSetting("server.port", String(endpoints.port));

  await directory.groups.put(subscription.subscriptionId, LOCAL_CLUSTER.resourceGroup, {});
  await directory.clusters.put(subscription.subscriptionId, LOCAL_CLUSTER.resourceGroup, LOCAL_CLUSTER.name, {
    provisioningState: "Succeeded",
    kubernetesVersion: "1.33.0",
    oidcIssuerProfile: { enabled: true },
    securityProfile: { workloadIdentity: { enabled: true } },
    [LOCAL_CLUSTER_PROPERTY]: localClusterIds,
  });

  const info: ServerInfo = {
    pid: process.pid,
    url: baseUrl(),
    port: endpoints.port,
    caFile: tls.caFile,
    tenantId: tenant.tenantId,
    subscriptionId: subscription.subscriptionId,
    issuerUrl: issuerUrl(clusterUuid),
    vaultDomain,
    appConfigDomain,
    startedAt: new Date().toISOString(),
  };
  await writeServerInfo(dataDir, info);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await app.close();
      await signIns.flush();
      await store.close();
      await removeServerInfo(dataDir, process.pid);
    })();
    return closing;
  };
  return { app, info, close };
}

/** The local cluster a managed cluster stands for, from the member `aks create` (or wikit up) stored. */
function localClusterIdsOf(resource: ArmResource): LocalClusterIds | undefined {
  const ids = resource.properties[LOCAL_CLUSTER_PROPERTY] as Partial<LocalClusterIds> | undefined;
  return typeof ids?.key === "string" && typeof ids.issuerId === "string"
    ? { key: ids.key, issuerId: ids.issuerId }
    : undefined;
}

/** Whether a vault host name resolves to this machine; false means clients will not find the vaults. */
export async function vaultNamesResolve(vaultDomain: string): Promise<boolean> {
  try {
    const addresses = await lookup(`probe.${vaultDomain}`, { all: true });
    return addresses.some(({ address }) => address === "127.0.0.1" || address === "::1");
  } catch {
    return false;
  }
}
