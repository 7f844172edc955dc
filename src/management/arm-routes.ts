import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  BUILT_IN_ROLES,
  findRoleDefinition,
  type RoleDefinition,
  roleDefinitionIdFor,
} from "../identity/directory/built-in-roles.ts";
import type { Directory } from "../identity/directory/directory.ts";
import { badRequest, DirectoryError, notFound } from "../identity/directory/directory-error.ts";
import { providerResourceId, RESOURCE_TYPES } from "../names/arm-resource-ids.ts";
import type { ArmResource } from "../store/store.ts";
import { armHandler } from "./arm-handler.ts";

// The management API in ARM's shape: resource IDs as paths, PUT/GET/DELETE with `api-version`, ARM
// error bodies `{"error":{"code","message"}}`. The CLI talks to it; so can any ARM-speaking tool.

export interface ArmRouteDeps {
  directory: Directory;
  /** Decorates a stored resource with values that depend on where the server listens (vault URIs, issuer). */
  present(resource: ArmResource): ArmResource;
}

type Params = Record<string, string>;

const IDENTITIES = "providers/Microsoft.ManagedIdentity/userAssignedIdentities";
const VAULTS = "providers/Microsoft.KeyVault/vaults";
const CLUSTERS = "providers/Microsoft.ContainerService/managedClusters";
const GROUP = "/subscriptions/:subscription/resourceGroups/:group";

function bodyOf(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  if (body === undefined || body === null || body === "") return {};
  if (typeof body !== "object" || Array.isArray(body)) {
    throw badRequest("InvalidRequestContent", "The request content must be a JSON object.");
  }
  return body as Record<string, unknown>;
}

/** ARM answers 201 for a create and 200 for an update of an existing resource. */
async function putStatus(reply: FastifyReply, existed: boolean, resource: ArmResource) {
  reply.code(existed ? 200 : 201);
  return resource;
}

export function registerArmRoutes(app: FastifyInstance, deps: ArmRouteDeps): void {
  const { directory, present } = deps;
  const list = (resources: ArmResource[]) => ({ value: resources.map(present) });
  const exists = async (load: () => Promise<unknown>) =>
    load().then(
      () => true,
      (error) => {
        if (error instanceof DirectoryError && error.status === 404) return false;
        throw error;
      },
    );

  app.get(
    "/subscriptions",
    armHandler(async () => ({ value: (await directory.listSubscriptions()).map(subscriptionBody) })),
  );
  app.get(
    "/subscriptions/:subscription",
    armHandler(async ({ subscription }) =>
      subscriptionBody(await directory.getSubscription(subscription ?? "")),
    ),
  );

  // Resource groups
  app.get(
    "/subscriptions/:subscription/resourceGroups",
    armHandler(async ({ subscription }) => list(await directory.listResourceGroups(subscription ?? ""))),
  );
  app.get(
    GROUP,
    armHandler(async ({ subscription, group }) =>
      present(await directory.getResourceGroup(subscription ?? "", group ?? "")),
    ),
  );
  app.put(
    GROUP,
    armHandler(async ({ subscription = "", group = "" }, request, reply) => {
      const existed = await exists(() => directory.getResourceGroup(subscription, group));
      return putStatus(
        reply,
        existed,
        present(await directory.putResourceGroup(subscription, group, bodyOf(request))),
      );
    }),
  );
  app.delete(
    GROUP,
    armHandler(async ({ subscription = "", group = "" }, _request, reply) => {
      const deleted = await directory.deleteResourceGroup(subscription, group);
      reply.code(deleted ? 200 : 204);
      return deleted ? {} : undefined;
    }),
  );

  // User-assigned identities and their federated identity credentials
  const identityPath = `${GROUP}/${IDENTITIES}/:name`;
  app.get(
    `/subscriptions/:subscription/${IDENTITIES}`,
    armHandler(async ({ subscription = "" }) =>
      list(await directory.listInGroup(subscription, undefined, RESOURCE_TYPES.userAssignedIdentity)),
    ),
  );
  app.get(
    `${GROUP}/${IDENTITIES}`,
    armHandler(async ({ subscription = "", group = "" }) =>
      list(await directory.listInGroup(subscription, group, RESOURCE_TYPES.userAssignedIdentity)),
    ),
  );
  app.get(
    identityPath,
    armHandler(async ({ subscription = "", group = "", name = "" }) =>
      present(await directory.getIdentity(subscription, group, name)),
    ),
  );
  app.put(
    identityPath,
    armHandler(async ({ subscription = "", group = "", name = "" }, request, reply) => {
      const existed = await exists(() => directory.getIdentity(subscription, group, name));
      const identity = await directory.putIdentity(subscription, group, name, bodyOf(request));
      return putStatus(reply, existed, present(identity));
    }),
  );
  app.delete(
    identityPath,
    armHandler(async ({ subscription = "", group = "", name = "" }, _request, reply) => {
      const deleted = await directory.deleteIdentity(subscription, group, name);
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
      await directory.getIdentity(params.subscription ?? "", params.group ?? "", params.name ?? "");
      return list(await directory.listFederatedCredentials(identityIdOf(params)));
    }),
  );
  const credentialPath = `${identityPath}/federatedIdentityCredentials/:credential`;
  const findCredential = async (params: Params) => {
    await directory.getIdentity(params.subscription ?? "", params.group ?? "", params.name ?? "");
    const credentials = await directory.listFederatedCredentials(identityIdOf(params));
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
  app.put(
    credentialPath,
    armHandler(async (params, request, reply) => {
      const existed = (await findCredential(params)) !== undefined;
      const credential = await directory.putFederatedCredential(
        identityIdOf(params),
        params.credential ?? "",
        bodyOf(request),
      );
      return putStatus(reply, existed, present(credential));
    }),
  );
  app.delete(
    credentialPath,
    armHandler(async (params, _request, reply) => {
      const credential = await findCredential(params);
      if (credential) await directory.deleteFederatedCredential(credential.id);
      reply.code(credential ? 200 : 204);
      return credential ? {} : undefined;
    }),
  );

  // Vaults
  const vaultPath = `${GROUP}/${VAULTS}/:name`;
  const vaultIdOf = (params: Params) =>
    providerResourceId(
      params.subscription ?? "",
      params.group ?? "",
      RESOURCE_TYPES.vault,
      params.name ?? "",
    );
  app.get(
    `/subscriptions/:subscription/${VAULTS}`,
    armHandler(async ({ subscription = "" }) =>
      list(await directory.listInGroup(subscription, undefined, RESOURCE_TYPES.vault)),
    ),
  );
  app.get(
    `${GROUP}/${VAULTS}`,
    armHandler(async ({ subscription = "", group = "" }) =>
      list(await directory.listInGroup(subscription, group, RESOURCE_TYPES.vault)),
    ),
  );
  app.get(
    vaultPath,
    armHandler(async (params) => {
      await directory.getResourceGroup(params.subscription ?? "", params.group ?? "");
      return present(await directory.getResource(vaultIdOf(params), RESOURCE_TYPES.vault, "vault"));
    }),
  );
  app.put(
    vaultPath,
    armHandler(async (params, request, reply) => {
      const existed = await exists(() =>
        directory.getResource(vaultIdOf(params), RESOURCE_TYPES.vault, "vault"),
      );
      const vault = await directory.putVault(
        params.subscription ?? "",
        params.group ?? "",
        params.name ?? "",
        bodyOf(request),
      );
      return putStatus(reply, existed, present(vault));
    }),
  );
  app.delete(
    vaultPath,
    armHandler(async ({ subscription = "", group = "", name = "" }, _request, reply) => {
      const deleted = await directory.deleteVault(subscription, group, name);
      reply.code(deleted ? 200 : 204);
      return deleted ? {} : undefined;
    }),
  );

  // Managed clusters (the local cluster is one)
  app.get(
    `/subscriptions/:subscription/${CLUSTERS}`,
    armHandler(async ({ subscription = "" }) =>
      list(await directory.listInGroup(subscription, undefined, RESOURCE_TYPES.managedCluster)),
    ),
  );
  app.get(
    `${GROUP}/${CLUSTERS}`,
    armHandler(async ({ subscription = "", group = "" }) =>
      list(await directory.listInGroup(subscription, group, RESOURCE_TYPES.managedCluster)),
    ),
  );
  app.get(
    `${GROUP}/${CLUSTERS}/:name`,
    armHandler(async ({ subscription = "", group = "", name = "" }) => {
      await directory.getResourceGroup(subscription, group);
      const id = providerResourceId(subscription, group, RESOURCE_TYPES.managedCluster, name);
      return present(await directory.getResource(id, RESOURCE_TYPES.managedCluster, "managed cluster"));
    }),
  );

  // Role assignments and definitions live under any scope: `{scope}/providers/Microsoft.Authorization/…`.
  const authorization = (method: "GET" | "PUT" | "DELETE") =>
    armHandler(async (params, request, reply) => {
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
          ? (await directory.listRoleAssignmentsFor(principal)).filter((a) => scopesOverlap(a.scope, scope))
          : await directory.listRoleAssignmentsAt(scope);
        return { value: await Promise.all(assignments.map((a) => directory.getRoleAssignment(a.id))) };
      }
      const id = `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;
      if (method === "GET") return directory.getRoleAssignment(id);
      if (method === "DELETE") {
        const deleted = await directory.deleteRoleAssignment(id);
        reply.code(deleted ? 200 : 204);
        return deleted;
      }
      const existed = await exists(() => directory.getRoleAssignment(id));
      return putStatus(reply, existed, await directory.putRoleAssignment(scope, name, bodyOf(request)));
    });
  app.get("/subscriptions/*", authorization("GET"));
  app.put("/subscriptions/*", authorization("PUT"));
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
