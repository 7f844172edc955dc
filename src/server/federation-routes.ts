import type { FastifyInstance } from "fastify";
import { createLocalJWKSet, type JWTVerifyGetKey } from "jose";
import { builtInRoleById } from "../identity/directory/built-in-roles.ts";
import { accessKeySecrets } from "../identity/directory/configuration-store-keys.ts";
import type { Directory } from "../identity/directory/directory.ts";
import type { IssuerMetadataClient } from "../identity/exchange/issuer-metadata.ts";
import { createTokenService } from "../identity/http/token-service.ts";
import type { SignInLog } from "../identity/sign-ins/sign-in-log.ts";
import type { ClusterProvisioning } from "../management/arm-routes.ts";
import { GRAPH_RESOURCES, registerManagementPlane } from "../management/management-plane.ts";
import { parseScope, RESOURCE_TYPES } from "../names/arm-resource-ids.ts";
import { MICROSOFT_AUTHORITY_HOSTS, MICROSOFT_RESOURCES } from "../names/microsoft-hosts.ts";
import { appConfigurationRoutes } from "../resources/app-configuration/app-configuration-routes.ts";
import { authorize } from "../resources/vault/rbac.ts";
import { vaultRoutes } from "../resources/vault/vault-routes.ts";
import type { SigningKeyRing } from "../signing-keys/key-ring.ts";
import type { ArmResource, Store } from "../store/store.ts";

/** Where the federation is reached: its own URL and the vaults' names beneath the vault domain. */
export interface FederationEndpoints {
  /** The server's URL as clients reach it, without a trailing slash: the authority, the management API. */
  baseUrl(): string;
  /** The host name the token service answers on as its own authority. */
  authorityHostname: string;
  vaultDomain: string;
  /** The vaults' resource identifier, as Key Vault's challenge names it and tokens are asked for. */
  vaultResource(): string;
  /** Resource identifiers that name the vaults beside vaultResource (the vault domain without its port). */
  vaultResourceAliases(): readonly string[];
  vaultUri(name: string): string;
  /** App Configuration stores answer at `https://{name}.{appConfigDomain}`, with the server's port. */
  appConfigDomain: string;
  configurationStoreEndpoint(name: string): string;
}

export interface FederationDeps {
  store: Store;
  directory: Directory;
  signIns: SignInLog;
  stsKeys: SigningKeyRing;
  issuerKeys: IssuerMetadataClient;
  endpoints: FederationEndpoints;
  /** Say in failed exchanges which field of the nearest federated credential differs. */
  explainErrors: boolean;
  adminToken: string;
  adminClientId?: string;
  defaultTenant(): string;
  /** How a stored resource is shown: vault URIs and cluster issuers are where this server serves them. */
  present?(resource: ArmResource): ArmResource;
  onTenantCreated?(made: { tenantId: string; subscriptionId: string }): Promise<void>;
  adminRoutes?(app: FastifyInstance): void;
  clusterProvisioning?: ClusterProvisioning;
}

/**
 * The identity and resource side on one app, as `wikit up` and `wikit serve` both mount it: the token service,
 * the vaults (by Host name beneath the vault domain) and the management API, over one store.
 */
export async function registerFederation(app: FastifyInstance, deps: FederationDeps): Promise<void> {
  const { store, directory, endpoints } = deps;
  const present = (resource: ArmResource): ArmResource => {
    const shown = deps.present ? deps.present(resource) : resource;
    switch (shown.type.toLowerCase()) {
      case RESOURCE_TYPES.vault.toLowerCase():
        return { ...shown, properties: { ...shown.properties, vaultUri: endpoints.vaultUri(shown.name) } };
      case RESOURCE_TYPES.configurationStore.toLowerCase():
        return {
          ...shown,
          properties: { ...shown.properties, endpoint: endpoints.configurationStoreEndpoint(shown.name) },
        };
      default:
        return shown;
    }
  };
  const appConfigDomain = endpoints.appConfigDomain.toLowerCase();
  // What App Configuration's SDKs ask tokens for: the domain (`https://azconfig.localhost`, as the JS SDK derives it
  // from the endpoint) or a store's own endpoint (older Python SDKs).
  const appConfigAudience = `https://${appConfigDomain}`;
  const storeEndpointPattern = new RegExp(
    `^https://[a-z0-9-]{5,50}\\.${appConfigDomain.replaceAll(".", "\\.")}(:\\d+)?$`,
  );
  // The token service's keys, rebuilt per call so that a rotated key verifies at once.
  const accessTokenKey: JWTVerifyGetKey = (header, token) =>
    createLocalJWKSet({ keys: deps.stsKeys.publicJwks() })(header, token);

  await app.register(
    createTokenService({
      tenants: directory.tenants,
      principals: directory.principals,
      signingKeys: deps.stsKeys,
      issuerKeys: deps.issuerKeys,
      explainErrors: deps.explainErrors,
      signIns: deps.signIns,
      knownResources: () => [
        endpoints.vaultResource(),
        ...endpoints.vaultResourceAliases(),
        ...MICROSOFT_RESOURCES,
        ...GRAPH_RESOURCES,
        // What a tool asks for when it uses wikit's own URL as Microsoft Graph's (az's microsoftGraphResourceId).
        endpoints.baseUrl(),
        appConfigAudience,
        storeEndpointPattern,
      ],
      // Instance discovery names wikit's own authority, and Microsoft's when a client reaches wikit under
      // those names (`wikit run`'s authority proxy, or DNS overrides in model B).
      authorityFor: (hostname) =>
        hostname === endpoints.authorityHostname
          ? endpoints.baseUrl()
          : (MICROSOFT_AUTHORITY_HOSTS as readonly string[]).includes(hostname)
            ? `https://${hostname}`
            : undefined,
    }),
  );
  const vaultDomain = endpoints.vaultDomain.toLowerCase();
  await app.register(vaultRoutes, {
    store,
    resolveVault: async (host) => {
      const hostname = host.replace(/:\d+$/, "").toLowerCase();
      if (!hostname.endsWith(`.${vaultDomain}`)) return undefined;
      const name = hostname.slice(0, -vaultDomain.length - 1);
      if (name.includes(".")) return undefined;
      const vault = await directory.vaults.findByName(name);
      return vault ? { vault: present(vault), resource: endpoints.vaultResource() } : undefined;
    },
    authorityHost: endpoints.baseUrl,
    accessTokenKey,
    listRoleAssignments: (principalId) => directory.roleAssignments.listFor(principalId),
    roleDefinitionOf: builtInRoleById,
  });
  await app.register(appConfigurationRoutes, {
    store,
    configurationStores: {
      stamp: () => directory.configurationStores.stamp(),
      resolve: async (host) => {
        const hostname = host.replace(/:\d+$/, "").toLowerCase();
        if (!hostname.endsWith(`.${appConfigDomain}`)) return undefined;
        const name = hostname.slice(0, -appConfigDomain.length - 1);
        if (name.includes(".")) return undefined;
        const configurationStore = await directory.configurationStores.findByName(name);
        if (!configurationStore) return undefined;
        const subscription = parseScope(configurationStore.id)?.subscription ?? "";
        const { tenantId } = await directory.tenants.getSubscription(subscription);
        return { configurationStore, tenantId, audiences: [appConfigAudience] };
      },
      accessKeys: async (configurationStoreId) =>
        accessKeySecrets(await directory.configurationStores.listKeys(configurationStoreId)),
    },
    accessTokenKey,
    // The vault part's RBAC decision, over the same role assignments and built-in roles.
    isAllowed: async (principalId, action, scope) =>
      authorize({
        principalId,
        action,
        scope,
        assignments: await directory.roleAssignments.listFor(principalId),
        roleDefinitionOf: builtInRoleById,
      }).allowed,
  });
  await registerManagementPlane(app, {
    store,
    directory,
    signIns: deps.signIns,
    adminToken: deps.adminToken,
    accessTokenKey,
    present,
    vaultUri: endpoints.vaultUri,
    configurationStoreEndpoint: endpoints.configurationStoreEndpoint,
    graphAliases: () => [endpoints.baseUrl()],
    defaultTenant: deps.defaultTenant,
    adminClientId: deps.adminClientId,
    onTenantCreated: deps.onTenantCreated,
    adminRoutes: deps.adminRoutes,
    clusterProvisioning: deps.clusterProvisioning,
  });
}
