// The management plane as one piece: the ARM-shaped API (resources, secrets, tenants, the sign-in log) behind ARM's
// authentication, and the Graph-shaped directory behind Graph's. `wikit up` and the tests mount it the same way.

import type { FastifyInstance } from "fastify";
import type { JWTVerifyGetKey } from "jose";
import { builtInRoleById } from "../identity/directory/built-in-roles.ts";
import type { Directory } from "../identity/directory/directory.ts";
import type { SignInLog } from "../identity/sign-ins/sign-in-log.ts";
import type { ArmResource, Store } from "../store/store.ts";
import { type ClusterProvisioning, registerArmRoutes } from "./arm-routes.ts";
import { registerArmSecretRoutes } from "./arm-secret-routes.ts";
import { graphAccess } from "./graph-access.ts";
import { registerGraphRoutes } from "./graph-routes.ts";
import { managementAccess } from "./management-auth.ts";
import { registerSignInRoutes } from "./sign-in-routes.ts";
import { registerTenantRoutes } from "./tenant-routes.ts";

/** Microsoft Graph's resource identifiers, as clients ask for tokens for it. */
export const GRAPH_RESOURCES = ["https://graph.microsoft.com", "https://graph.microsoft.com/"] as const;

export interface ManagementPlaneDeps {
  store: Store;
  directory: Directory;
  signIns: SignInLog;
  adminToken: string;
  /** The token service's public keys: callers' access tokens are its own. */
  accessTokenKey: JWTVerifyGetKey;
  present(resource: ArmResource): ArmResource;
  vaultUri(name: string): string;
  /** A configuration store's data-plane endpoint. */
  configurationStoreEndpoint(name: string): string;
  /** Resource identifiers Graph tokens may name beside Microsoft Graph's: the server's own URL, as a tool's Graph. */
  graphAliases(): readonly string[];
  defaultTenant(): string;
  /** The admin principal's client ID: its access tokens count as the admin credential. */
  adminClientId?: string;
  /** Called once a tenant is made, e.g. to give the admin principal its service principal and role there. */
  onTenantCreated?(made: { tenantId: string; subscriptionId: string }): Promise<void>;
  /** Routes the admin alone may call, mounted behind ARM's authentication (e.g. the local clusters' API). */
  adminRoutes?(app: FastifyInstance): void;
  /** Makes and erases local clusters for `aks create` and `aks delete`; none when the server runs none. */
  clusterProvisioning?: ClusterProvisioning;
}

export async function registerManagementPlane(
  app: FastifyInstance,
  deps: ManagementPlaneDeps,
): Promise<void> {
  const { directory } = deps;
  const roleAssignmentsOf = (principalId: string) => directory.roleAssignments.listFor(principalId);
  await app.register(async (arm) => {
    const access = managementAccess({
      adminToken: deps.adminToken,
      adminClientId: deps.adminClientId,
      accessTokenKey: deps.accessTokenKey,
      roleAssignmentsOf,
      roleDefinitionOf: builtInRoleById,
    });
    arm.addHook("onRequest", access.authenticate);
    registerArmRoutes(arm, {
      directory,
      present: deps.present,
      configurationStoreEndpoint: deps.configurationStoreEndpoint,
      subscriptionVisible: access.subscriptionVisible,
      clusterProvisioning: deps.clusterProvisioning,
    });
    registerArmSecretRoutes(arm, { vaults: directory.vaults, store: deps.store, vaultUri: deps.vaultUri });
    registerTenantRoutes(arm, {
      tenants: directory.tenants,
      tenantVisible: access.tenantVisible,
      onTenantCreated: deps.onTenantCreated,
    });
    registerSignInRoutes(arm, deps.signIns);
    deps.adminRoutes?.(arm);
  });
  await app.register(async (graph) => {
    const access = graphAccess({
      adminToken: deps.adminToken,
      adminClientId: deps.adminClientId,
      accessTokenKey: deps.accessTokenKey,
      graphAudiences: () => [...GRAPH_RESOURCES, ...deps.graphAliases().flatMap(withAndWithoutSlash)],
      roleAssignmentsOf,
      roleDefinitionOf: builtInRoleById,
      resolveTenant: async (reference) => (await directory.tenants.findTenant(reference))?.tenantId,
      defaultTenant: deps.defaultTenant,
      subscriptionsOf: async (tenantId) =>
        (await directory.tenants.listSubscriptions())
          .filter((subscription) => subscription.tenantId === tenantId)
          .map((subscription) => subscription.subscriptionId),
    });
    graph.addHook("onRequest", access.authenticate);
    registerGraphRoutes(graph, { apps: directory.apps, tenantOf: access.tenantOf });
  });
}

const withAndWithoutSlash = (url: string) => [url.replace(/\/+$/, ""), `${url.replace(/\/+$/, "")}/`];
