import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  BUILT_IN_ROLES,
  findRoleDefinition,
  type RoleDefinition,
  roleDefinitionIdFor,
} from "../identity/directory/built-in-roles.ts";
import { accessKeyJson } from "../identity/directory/configuration-store-keys.ts";
import type { Directory } from "../identity/directory/directory.ts";
import { badRequest, DirectoryError, notFound } from "../identity/directory/directory-error.ts";
import { isPlainObject } from "../json/json-value.ts";
import { providerResourceId, RESOURCE_TYPES } from "../names/arm-resource-ids.ts";
import type { ArmResource } from "../store/store.ts";
import {
  type ArmResourceBody,
  CONFIGURATION_STORE_BODY,
  FEDERATED_CREDENTIAL_BODY,
  IDENTITY_BODY,
  MANAGED_CLUSTER_BODY,
  RESOURCE_GROUP_BODY,
  ROLE_ASSIGNMENT_BODY,
  VAULT_BODY,
} from "./arm-body-schemas.ts";
import { bodySchema, validatedBody } from "./arm-body-validation.ts";
import { type ArmParams, armHandler } from "./arm-handler.ts";

// The management API in ARM's shape: resource IDs as paths, PUT/GET/DELETE with `api-version`, ARM
// error bodies `{"error":{"code","message"}}`. The CLI talks to it; so can any ARM-speaking tool.

export interface ArmRouteDeps {
  directory: Directory;
  /** Decorates a stored resource with values that depend on where the server listens (vault URIs, issuer). */
  present(resource: ArmResource): ArmResource;
  /** A configuration store's data-plane endpoint, e.g. `https://settings.azconfig.localhost:8443`. */
  configurationStoreEndpoint(name: string): string;
  /** Makes and erases the local clusters behind managed clusters; none when the server runs no clusters. */
  clusterProvisioning?: ClusterProvisioning;
  /** Whether the request's caller sees a subscription in `GET /subscriptions`; by default every one. */
  subscriptionVisible?(request: FastifyRequest, subscriptionId: string): Promise<boolean>;
}

/** Where a managed cluster keeps what identifies its local cluster (see ClusterProvisioning). */
export const LOCAL_CLUSTER_PROPERTY = "localCluster";

export interface ClusterProvisioning {
  /** Makes the local cluster behind a new managed cluster; returns properties to store with it. */
  provision(): Promise<Record<string, unknown>>;
  /** Erases the local cluster behind a managed cluster; refuses (a DirectoryError) one that must stay. */
  deprovision(cluster: ArmResource): Promise<void>;
}

/** AKS's rule: 1-63 letters, digits, '-' and '_', starting and ending with a letter or digit. */
function checkClusterName(name: string): void {
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$/.test(name)) {
    throw badRequest(
      "InvalidParameter",
      `The value of parameter name '${name}' is invalid: managed cluster names are 1-63 letters, digits, '-' and '_', starting and ending with a letter or digit.`,
    );
  }
}

function notFoundAsUndefined(error: unknown): undefined {
  if (error instanceof DirectoryError && error.status === 404) return undefined;
  throw error;
}

type Params = ArmParams;
type Route = { Body: ArmResourceBody | null };

const IDENTITIES = "providers/Microsoft.ManagedIdentity/userAssignedIdentities";
const VAULTS = "providers/Microsoft.KeyVault/vaults";
const CLUSTERS = "providers/Microsoft.ContainerService/managedClusters";
const CONFIGURATION_STORES = "providers/Microsoft.AppConfiguration/configurationStores";
const GROUP = "/subscriptions/:subscription/resourceGroups/:group";

/** ARM answers 201 for a create and 200 for an update of an existing resource. */
async function putStatus(reply: FastifyReply, existed: boolean, resource: ArmResource) {
  reply.code(existed ? 200 : 201);
  return resource;
}

export function registerArmRoutes(app: FastifyInstance, deps: ArmRouteDeps): void {
  const { present } = deps;
  const { tenants, groups, identities, vaults, configurationStores, clusters, roleAssignments } =
    deps.directory;
  const list = (resources: ArmResource[]) => ({ value: resources.map(present) });
  const exists = async (load: () => Promise<unknown>) =>
    load().then(
      () => true,
      (error) => {
        if (error instanceof DirectoryError && error.status === 404) return false;
        throw error;
      },
    );
  /** A validated resource body; an absent or `null` body asks for no changes. */
  const inputOf = (body: ArmResourceBody | null | undefined): ArmResourceBody =>
    isPlainObject(body) ? body : {};

  app.get(
    "/subscriptions",
    armHandler(async (_params, request) => {
      const visible = deps.subscriptionVisible ?? (async () => true);
      const subscriptions = await tenants.listSubscriptions();
      const shown = [];
      for (const subscription of subscriptions) {
        if (await visible(request, subscription.subscriptionId)) shown.push(subscriptionBody(subscription));
      }
      return { value: shown };
    }),
  );
  app.get(
    "/subscriptions/:subscription",
    armHandler(async ({ subscription }) =>
      subscriptionBody(await tenants.getSubscription(subscription ?? "")),
    ),
  );

  // Resource groups
  app.get(
    "/subscriptions/:subscription/resourceGroups",
    armHandler(async ({ subscription }) => list(await groups.list(subscription ?? ""))),
  );
  app.get(
    GROUP,
    armHandler(async ({ subscription, group }) => present(await groups.get(subscription ?? "", group ?? ""))),
  );
  app.put<Route>(
    GROUP,
    bodySchema(RESOURCE_GROUP_BODY),
    armHandler<Route["Body"]>(async ({ subscription = "", group = "" }, request, reply) => {
      const input = inputOf(validatedBody(request));
      const existed = await exists(() => groups.get(subscription, group));
      return putStatus(reply, existed, present(await groups.put(subscription, group, input)));
    }),
  );
  app.delete(
    GROUP,
    armHandler(async ({ subscription = "", group = "" }, _request, reply) => {
      const deleted = await groups.delete(subscription, group);
      reply.code(deleted ? 200 : 204);
      return deleted ? {} : undefined;
    }),
  );

  // User-assigned identities and their federated identity credentials
  const identityPath = `${GROUP}/${IDENTITIES}/:name`;
  app.get(
    `/subscriptions/:subscription/${IDENTITIES}`,
    armHandler(async ({ subscription = "" }) =>
      list(await groups.listResources(subscription, undefined, RESOURCE_TYPES.userAssignedIdentity)),
    ),
  );
  app.get(
    `${GROUP}/${IDENTITIES}`,
    armHandler(async ({ subscription = "", group = "" }) =>
      list(await groups.listResources(subscription, group, RESOURCE_TYPES.userAssignedIdentity)),
    ),
  );
  app.get(
    identityPath,
    armHandler(async ({ subscription = "", group = "", name = "" }) =>
      present(await identities.get(subscription, group, name)),
    ),
  );
  app.put<Route>(
    identityPath,
    bodySchema(IDENTITY_BODY),
    armHandler<Route["Body"]>(async ({ subscription = "", group = "", name = "" }, request, reply) => {
      const input = inputOf(validatedBody(request));
      const existed = await exists(() => identities.get(subscription, group, name));
      const identity = await identities.put(subscription, group, name, input);
      return putStatus(reply, existed, present(identity));
    }),
  );
  app.delete(
    identityPath,
    armHandler(async ({ subscription = "", group = "", name = "" }, _request, reply) => {
      const deleted = await identities.delete(subscription, group, name);
      reply.code(deleted ? 200 : 204);
      return deleted ? {} : undefined;
    }),
  );
  const identityIdOf = (params: Params) =>
    providerResourceId(
      params.subscription ?? "",
      params.group ?? "",
      RESOURCE_TYPES.userAssignedIdentity,
      params.name ?? "",
    );
  app.get(
    `${identityPath}/federatedIdentityCredentials`,
    armHandler(async (params) => {
      await identities.get(params.subscription ?? "", params.group ?? "", params.name ?? "");
      return list(await identities.listFederatedCredentials(identityIdOf(params)));
    }),
  );
  const credentialPath = `${identityPath}/federatedIdentityCredentials/:credential`;
  const findCredential = async (params: Params) => {
    await identities.get(params.subscription ?? "", params.group ?? "", params.name ?? "");
    const credentials = await identities.listFederatedCredentials(identityIdOf(params));
    return credentials.find(
      (credential) => credential.name.toLowerCase() === params.credential?.toLowerCase(),
    );
  };
  app.get(
    credentialPath,
    armHandler(async (params) => {
      const credential = await findCredential(params);
      if (!credential) {
        throw notFound(
          "NotFound",
          `The federated identity credential '${params.credential}' was not found on identity '${params.name}'.`,
        );
      }
      return present(credential);
    }),
  );
  app.put<Route>(
    credentialPath,
    bodySchema(FEDERATED_CREDENTIAL_BODY),
    armHandler<Route["Body"]>(async (params, request, reply) => {
      const input = inputOf(validatedBody(request));
      const existed = (await findCredential(params)) !== undefined;
      const credential = await identities.putFederatedCredential(
        identityIdOf(params),
        params.credential ?? "",
        input,
      );
      return putStatus(reply, existed, present(credential));
    }),
  );
  app.delete(
    credentialPath,
    armHandler(async (params, _request, reply) => {
      const credential = await findCredential(params);
      if (credential) await identities.deleteFederatedCredential(credential.id);
      reply.code(credential ? 200 : 204);
      return credential ? {} : undefined;
    }),
  );

  // Vaults
  const vaultPath = `${GROUP}/${VAULTS}/:name`;
  app.get(
    `/subscriptions/:subscription/${VAULTS}`,
    armHandler(async ({ subscription = "" }) =>
      list(await groups.listResources(subscription, undefined, RESOURCE_TYPES.vault)),
    ),
  );
  app.get(
    `${GROUP}/${VAULTS}`,
    armHandler(async ({ subscription = "", group = "" }) =>
      list(await groups.listResources(subscription, group, RESOURCE_TYPES.vault)),
    ),
  );
  app.get(
    vaultPath,
    armHandler(async ({ subscription = "", group = "", name = "" }) =>
      present(await vaults.get(subscription, group, name)),
    ),
  );
  app.put<Route>(
    vaultPath,
    bodySchema(VAULT_BODY),
    armHandler<Route["Body"]>(async ({ subscription = "", group = "", name = "" }, request, reply) => {
      const input = inputOf(validatedBody(request));
      const existed = await exists(() => vaults.get(subscription, group, name));
      return putStatus(reply, existed, present(await vaults.put(subscription, group, name, input)));
    }),
  );
  app.delete(
    vaultPath,
    armHandler(async ({ subscription = "", group = "", name = "" }, _request, reply) => {
      const deleted = await vaults.delete(subscription, group, name);
      reply.code(deleted ? 200 : 204);
      return deleted ? {} : undefined;
    }),
  );

  // Soft-deleted vaults: listed per subscription, shown and purged by location and name.
  app.get(
    `/subscriptions/:subscription/providers/Microsoft.KeyVault/deletedVaults`,
    armHandler(async ({ subscription = "" }) => ({ value: await vaults.listDeleted(subscription) })),
  );
  const deletedVaultPath =
    "/subscriptions/:subscription/providers/Microsoft.KeyVault/locations/:location/deletedVaults/:name";
  app.get(
    deletedVaultPath,
    armHandler(async ({ subscription = "", location = "", name = "" }) =>
      vaults.getDeleted(subscription, location, name),
    ),
  );
  app.post(
    `${deletedVaultPath}/purge`,
    armHandler(async ({ subscription = "", location = "", name = "" }) => {
      await vaults.purge(subscription, location, name);
      return {};
    }),
  );

  // App Configuration stores, and their access keys (listKeys shows the secrets, as ARM's does)
  const configurationStorePath = `${GROUP}/${CONFIGURATION_STORES}/:name`;
  app.get(
    `/subscriptions/:subscription/${CONFIGURATION_STORES}`,
    armHandler(async ({ subscription = "" }) =>
      list(await groups.listResources(subscription, undefined, RESOURCE_TYPES.configurationStore)),
    ),
  );
  app.get(
    `${GROUP}/${CONFIGURATION_STORES}`,
    armHandler(async ({ subscription = "", group = "" }) =>
      list(await groups.listResources(subscription, group, RESOURCE_TYPES.configurationStore)),
    ),
  );
  app.get(
    configurationStorePath,
    armHandler(async ({ subscription = "", group = "", name = "" }) =>
      present(await configurationStores.get(subscription, group, name)),
    ),
  );
  app.put<Route>(
    configurationStorePath,
    bodySchema(CONFIGURATION_STORE_BODY),
    armHandler<Route["Body"]>(async ({ subscription = "", group = "", name = "" }, request, reply) => {
      const input = inputOf(validatedBody(request));
      const existed = await exists(() => configurationStores.get(subscription, group, name));
      const stored = await configurationStores.put(subscription, group, name, input);
      return putStatus(reply, existed, present(stored));
    }),
  );
  app.delete(
    configurationStorePath,
    armHandler(async ({ subscription = "", group = "", name = "" }, _request, reply) => {
      const deleted = await configurationStores.delete(subscription, group, name);
      reply.code(deleted ? 200 : 204);
      return deleted ? {} : undefined;
    }),
  );
  app.post(
    `${configurationStorePath}/listKeys`,
    armHandler(async ({ subscription = "", group = "", name = "" }) => {
      const found = await configurationStores.get(subscription, group, name);
      const endpoint = deps.configurationStoreEndpoint(found.name);
      const keys = await configurationStores.listKeys(found.id);
      return { value: keys.map((key) => accessKeyJson(endpoint, key)), nextLink: null };
    }),
  );
  app.post<{ Body: unknown }>(
    `${configurationStorePath}/regenerateKey`,
    armHandler<unknown>(async ({ subscription = "", group = "", name = "" }, request) => {
      const found = await configurationStores.get(subscription, group, name);
      const keyId = isPlainObject(request.body) ? request.body.id : undefined;
      const key = await configurationStores.regenerateKey(found.id, keyId);
      return accessKeyJson(deps.configurationStoreEndpoint(found.name), key);
    }),
  );

  // Managed clusters (the local cluster is one)
  app.get(
    `/subscriptions/:subscription/${CLUSTERS}`,
    armHandler(async ({ subscription = "" }) =>
      list(await groups.listResources(subscription, undefined, RESOURCE_TYPES.managedCluster)),
    ),
  );
  app.get(
    `${GROUP}/${CLUSTERS}`,
    armHandler(async ({ subscription = "", group = "" }) =>
      list(await groups.listResources(subscription, group, RESOURCE_TYPES.managedCluster)),
    ),
  );
  const clusterPath = `${GROUP}/${CLUSTERS}/:name`;
  app.get(
    clusterPath,
    armHandler(async ({ subscription = "", group = "", name = "" }) =>
      present(await clusters.get(subscription, group, name)),
    ),
  );
  app.put<Route>(
    clusterPath,
    bodySchema(MANAGED_CLUSTER_BODY),
    armHandler<Route["Body"]>(async ({ subscription = "", group = "", name = "" }, request, reply) => {
      const input = inputOf(validatedBody(request));
      const provisioning = deps.clusterProvisioning;
      if (!provisioning) throw badRequest("OperationNotAllowed", "This server runs no clusters of its own.");
      checkClusterName(name);
      // The group first: a cluster is provisioned only once it can be recorded.
      await groups.get(subscription, group);
      const current = await clusters.get(subscription, group, name).catch(notFoundAsUndefined);
      const requested = { ...(isPlainObject(input.properties) ? input.properties : {}) };
      // What the server made for the cluster is its own; a body cannot name another.
      delete requested[LOCAL_CLUSTER_PROPERTY];
      const properties = current
        ? requested
        : {
            provisioningState: "Succeeded",
            kubernetesVersion: "1.33.0",
            ...requested,
            ...(await provisioning.provision()),
          };
      const tags = input.tags === undefined || input.tags === null ? undefined : input.tags;
      const cluster = await clusters.put(subscription, group, name, properties, tags);
      return putStatus(reply, current !== undefined, present(cluster));
    }),
  );
  app.delete(
    clusterPath,
    armHandler(async ({ subscription = "", group = "", name = "" }, _request, reply) => {
      await groups.get(subscription, group);
      const current = await clusters.get(subscription, group, name).catch(notFoundAsUndefined);
      if (!current) {
        reply.code(204);
        return undefined;
      }
      await deps.clusterProvisioning?.deprovision(current);
      await clusters.delete(subscription, group, name);
      return {};
    }),
  );

  // Role assignments and definitions live under any scope: `{scope}/providers/Microsoft.Authorization/…`.
  const authorization = (method: "GET" | "PUT" | "DELETE") =>
    armHandler<Route["Body"]>(async (params, request, reply) => {
      const path = `/subscriptions/${params["*"] ?? ""}`;
      const match =
        /^(.*?)\/providers\/Microsoft\.Authorization\/(roleAssignments|roleDefinitions)(?:\/([^/]+))?\/?$/i.exec(
          path,
        );
      if (!match) {
        throw notFound("InvalidResourceType", `No resource type is served at '${path}'.`);
      }
      const [, scope = "", collection = "", name] = match;
      if (collection.toLowerCase() === "roledefinitions") {
        if (method !== "GET")
          throw badRequest("OperationNotAllowed", "Built-in role definitions are read-only.");
        if (name) {
          const role = findRoleDefinition(name);
          if (!role)
            throw notFound("RoleDefinitionDoesNotExist", `The role definition '${name}' does not exist.`);
          return roleDefinitionResource(scope, role);
        }
        const filter = /roleName\s+eq\s+'([^']*)'/i.exec(
          String((request.query as Params).$filter ?? ""),
        )?.[1];
        const roles =
          filter === undefined
            ? BUILT_IN_ROLES
            : BUILT_IN_ROLES.filter((r) => r === findRoleDefinition(filter));
        return { value: roles.map((role) => roleDefinitionResource(scope, role)) };
      }
      if (!name) {
        if (method !== "GET")
          throw badRequest("InvalidRequest", "A role assignment needs a name (a GUID) in its path.");
        const principal = /principalId\s+eq\s+'([^']*)'/i.exec(
          String((request.query as Params).$filter ?? ""),
        )?.[1];
        // Like ARM: assignments at, above and below the scope that apply to the principal, when filtered.
        const assignments = principal
          ? (await roleAssignments.listFor(principal)).filter((a) => scopesOverlap(a.scope, scope))
          : await roleAssignments.listAt(scope);
        return { value: await Promise.all(assignments.map((a) => roleAssignments.get(a.id))) };
      }
      const id = `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;
      if (method === "GET") return roleAssignments.get(id);
      if (method === "DELETE") {
        const deleted = await roleAssignments.delete(id);
        reply.code(deleted ? 200 : 204);
        return deleted;
      }
      const input = inputOf(validatedBody(request));
      const existed = await exists(() => roleAssignments.get(id));
      return putStatus(reply, existed, await roleAssignments.put(scope, name, input));
    });
  app.get("/subscriptions/*", authorization("GET"));
  app.put<Route>("/subscriptions/*", bodySchema(ROLE_ASSIGNMENT_BODY), authorization("PUT"));
  app.delete("/subscriptions/*", authorization("DELETE"));
  app.get(
    "/providers/Microsoft.Authorization/roleDefinitions",
    armHandler(async () => ({
      value: BUILT_IN_ROLES.map((role) => roleDefinitionResource("", role)),
    })),
  );
}

/** Whether one scope contains the other (ARM IDs, case-insensitive, on segment boundaries). */
function scopesOverlap(a: string, b: string): boolean {
  const [x, y] = [a, b].map((scope) => `${scope.toLowerCase().replace(/\/+$/, "")}/`) as [string, string];
  return x.startsWith(y) || y.startsWith(x);
}

/** A built-in role in ARM's roleDefinition shape, as seen from `scope`. */
function roleDefinitionResource(scope: string, role: RoleDefinition) {
  const subscription = /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1] ?? "";
  return {
    id: roleDefinitionIdFor(subscription, role),
    name: role.name,
    type: "Microsoft.Authorization/roleDefinitions",
    properties: {
      roleName: role.roleName,
      type: "BuiltInRole",
      description: role.description,
      assignableScopes: ["/"],
      permissions: [
        {
          actions: role.actions,
          notActions: role.notActions,
          dataActions: role.dataActions,
          notDataActions: role.notDataActions,
        },
      ],
    },
  };
}

function subscriptionBody(subscription: {
  subscriptionId: string;
  tenantId: string;
  displayName: string;
  state: string;
}) {
  return {
    id: `/subscriptions/${subscription.subscriptionId}`,
    authorizationSource: "RoleBased",
    subscriptionId: subscription.subscriptionId,
    tenantId: subscription.tenantId,
    displayName: subscription.displayName,
    state: subscription.state,
    subscriptionPolicies: {
      locationPlacementId: "Public_2014-09-01",
      quotaId: "PayAsYouGo_2014-09-01",
      spendingLimit: "Off",
    },
  };
}
