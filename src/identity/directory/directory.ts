import { randomUUID } from "node:crypto";
import {
  federatedCredentialId,
  parseScope,
  providerResourceId,
  RESOURCE_TYPES,
  resourceGroupId,
  roleAssignmentId,
  subscriptionId,
  tenantId,
} from "../../names/arm-resource-ids.ts";
import { deletedSecretsBinId } from "../../resources/vault/deleted-secrets.ts";
import type { ArmResource, Store } from "../../store/store.ts";
import { findRoleDefinition, roleDefinitionIdFor } from "./built-in-roles.ts";
import { badRequest, conflict, notFound } from "./directory-error.ts";
import {
  checkCredentialFitsIdentity,
  checkFederatedCredential,
  type FederatedCredentialProperties,
} from "./federated-credential-rules.ts";
import {
  checkFederatedCredentialName,
  checkIdentityName,
  checkResourceGroupName,
  checkVaultName,
  isGuid,
} from "./naming-rules.ts";

export const DEFAULT_LOCATION = "local";

export interface Tenant {
  tenantId: string;
  displayName: string;
  defaultDomain: string;
}

export interface Subscription {
  subscriptionId: string;
  tenantId: string;
  displayName: string;
  state: "Enabled";
}

/** An identity that can sign in with federated credentials, as the token service needs it. */
export interface FederatedPrincipal {
  clientId: string;
  principalId: string;
  tenantId: string;
  displayName: string;
  /** ARM ID of the user-assigned identity (the `xms_mirid` claim). */
  resourceId: string;
  credentials: { name: string; issuer: string; subject: string; audiences: string[] }[];
}

export interface RoleAssignment {
  id: string;
  scope: string;
  roleDefinitionId: string;
  principalId: string;
}

interface ResourceInput {
  location?: unknown;
  tags?: unknown;
  properties?: unknown;
}

function tagsOf(input: ResourceInput): Record<string, string> {
  if (input.tags === undefined || input.tags === null) return {};
  if (typeof input.tags !== "object" || Array.isArray(input.tags)) {
    throw badRequest("InvalidRequestContent", "'tags' must be an object of string values.");
  }
  for (const value of Object.values(input.tags)) {
    if (typeof value !== "string")
      throw badRequest("InvalidRequestContent", "'tags' values must be strings.");
  }
  return input.tags as Record<string, string>;
}

function locationOf(input: ResourceInput, fallback: string): string {
  if (input.location === undefined || input.location === null || input.location === "") return fallback;
  if (typeof input.location !== "string")
    throw badRequest("InvalidRequestContent", "'location' must be a string.");
  return input.location;
}

function propertiesOf(input: ResourceInput): Record<string, unknown> {
  if (input.properties === undefined || input.properties === null) return {};
  if (typeof input.properties !== "object" || Array.isArray(input.properties)) {
    throw badRequest("InvalidRequestContent", "'properties' must be an object.");
  }
  return input.properties as Record<string, unknown>;
}

/**
 * The directory: tenants, subscriptions, resource groups, managed identities with their federated
 * credentials, vaults, the local cluster and role assignments. It enforces the rules ARM and Entra
 * enforce on writes and answers the lookups the token service and the vault make.
 */
export class Directory {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  // Tenants and subscriptions ---------------------------------------------------------------------

  /** Creates the default tenant and subscription on first start; returns their IDs. */
  async ensureDefaults(): Promise<{ tenant: Tenant; subscription: Subscription }> {
    let tenantGuid = await this.#store.getSetting("default.tenant");
    let subscriptionGuid = await this.#store.getSetting("default.subscription");
    if (!tenantGuid || !subscriptionGuid) {
      tenantGuid = randomUUID();
      subscriptionGuid = randomUUID();
      await this.#store.putResource({
        id: tenantId(tenantGuid),
        name: tenantGuid,
        type: RESOURCE_TYPES.tenant,
        properties: { tenantId: tenantGuid, displayName: "wikit", defaultDomain: "wikit.localhost" },
      });
      await this.#store.putResource({
        id: subscriptionId(subscriptionGuid),
        name: subscriptionGuid,
        type: RESOURCE_TYPES.subscription,
        properties: {
          subscriptionId: subscriptionGuid,
          tenantId: tenantGuid,
          displayName: "wikit",
          state: "Enabled",
        },
      });
      await this.#store.putSetting("default.tenant", tenantGuid);
      await this.#store.putSetting("default.subscription", subscriptionGuid);
    }
    const tenant = await this.findTenant(tenantGuid);
    const subscription = await this.getSubscription(subscriptionGuid);
    if (!tenant) throw new Error("the default tenant is missing from the store");
    return { tenant, subscription };
  }

  /** A tenant by GUID or by its domain name; undefined when unknown. */
  async findTenant(reference: string): Promise<Tenant | undefined> {
    if (isGuid(reference)) {
      return (await this.#store.getResource(tenantId(reference)))?.properties as Tenant | undefined;
    }
    const byDomain = await this.#store.listResources({
      type: RESOURCE_TYPES.tenant,
      property: { name: "defaultDomain", value: reference.toLowerCase() },
    });
    return byDomain[0]?.properties as Tenant | undefined;
  }

  async listSubscriptions(): Promise<Subscription[]> {
    const all = await this.#store.listResources({ type: RESOURCE_TYPES.subscription });
    return all.map((resource) => resource.properties as unknown as Subscription);
  }

  async getSubscription(subscription: string): Promise<Subscription> {
    const found = await this.#store.getResource(subscriptionId(subscription));
    if (!found) {
      throw notFound("SubscriptionNotFound", `The subscription '${subscription}' could not be found.`);
    }
    return found.properties as unknown as Subscription;
  }

  // Resource groups -------------------------------------------------------------------------------

  async putResourceGroup(subscription: string, name: string, input: ResourceInput): Promise<ArmResource> {
    await this.getSubscription(subscription);
    checkResourceGroupName(name);
    const existing = await this.#store.getResource(resourceGroupId(subscription, name));
    const group: ArmResource = {
      id: existing?.id ?? resourceGroupId(subscription, name),
      name: existing?.name ?? name,
      type: RESOURCE_TYPES.resourceGroup,
      location: locationOf(input, existing?.location ?? DEFAULT_LOCATION),
      tags: tagsOf(input),
      properties: { provisioningState: "Succeeded" },
    };
    await this.#store.putResource(group);
    return group;
  }

  async getResourceGroup(subscription: string, name: string): Promise<ArmResource> {
    await this.getSubscription(subscription);
    const group = await this.#store.getResource(resourceGroupId(subscription, name));
    if (!group) throw notFound("ResourceGroupNotFound", `Resource group '${name}' could not be found.`);
    return group;
  }

  async listResourceGroups(subscription: string): Promise<ArmResource[]> {
    await this.getSubscription(subscription);
    return this.#store.listResources({
      type: RESOURCE_TYPES.resourceGroup,
      under: subscriptionId(subscription),
    });
  }

  /** Deletes the group and everything in it (identities, credentials, vaults, role assignments). */
  async deleteResourceGroup(subscription: string, name: string): Promise<boolean> {
    await this.getSubscription(subscription);
    const id = resourceGroupId(subscription, name);
    const secretsOwners = await this.#store.listResources({ type: RESOURCE_TYPES.vault, under: id });
    for (const vault of secretsOwners) await this.#deleteVaultSecrets(vault);
    return this.#store.deleteResource(id);
  }

  // Generic provider resources --------------------------------------------------------------------

  async getResource(id: string, type: string, kind: string): Promise<ArmResource> {
    const found = await this.#store.getResource(id);
    if (!found || found.type.toLowerCase() !== type.toLowerCase()) {
      const name = id.split("/").pop();
      throw notFound("ResourceNotFound", `The ${kind} '${name}' was not found (resource ID '${id}').`);
    }
    return found;
  }

  async listInGroup(subscription: string, group: string | undefined, type: string): Promise<ArmResource[]> {
    const scope = group ? resourceGroupId(subscription, group) : subscriptionId(subscription);
    if (group) await this.getResourceGroup(subscription, group);
    else await this.getSubscription(subscription);
    return this.#store.listResources({ type, under: scope });
  }

  // Managed identities ------------------------------------------------------------------------------

  /** Creates or updates a user-assigned identity; its client and principal IDs never change once made. */
  async putIdentity(
    subscription: string,
    group: string,
    name: string,
    input: ResourceInput,
  ): Promise<ArmResource> {
    const resourceGroup = await this.getResourceGroup(subscription, group);
    checkIdentityName(name);
    const { tenantId: tenant } = await this.getSubscription(subscription);
    const id = providerResourceId(subscription, group, RESOURCE_TYPES.userAssignedIdentity, name);
    const existing = await this.#store.getResource(id);
    const identity: ArmResource = {
      id: existing?.id ?? id,
      name: existing?.name ?? name,
      type: RESOURCE_TYPES.userAssignedIdentity,
      location: locationOf(input, existing?.location ?? resourceGroup.location ?? DEFAULT_LOCATION),
      tags: tagsOf(input),
      properties: {
        tenantId: tenant,
        principalId: existing?.properties.principalId ?? randomUUID(),
        clientId: existing?.properties.clientId ?? randomUUID(),
      },
    };
    await this.#store.putResource(identity);
    return identity;
  }

  async getIdentity(subscription: string, group: string, name: string): Promise<ArmResource> {
    await this.getResourceGroup(subscription, group);
    const id = providerResourceId(subscription, group, RESOURCE_TYPES.userAssignedIdentity, name);
    return this.getResource(id, RESOURCE_TYPES.userAssignedIdentity, "user-assigned identity");
  }

  async deleteIdentity(subscription: string, group: string, name: string): Promise<boolean> {
    await this.getResourceGroup(subscription, group);
    const id = providerResourceId(subscription, group, RESOURCE_TYPES.userAssignedIdentity, name);
    return this.#store.deleteResource(id);
  }

  /** The identity a token request names by `client_id`, in the tenant its URL names. */
  async findFederatedPrincipal(tenant: string, clientId: string): Promise<FederatedPrincipal | undefined> {
    const [identity] = await this.#store.listResources({
      type: RESOURCE_TYPES.userAssignedIdentity,
      property: { name: "clientId", value: clientId.toLowerCase() },
    });
    if (!identity || identity.properties.tenantId !== tenant) return undefined;
    const credentials = await this.listFederatedCredentials(identity.id);
    return {
      clientId: String(identity.properties.clientId),
      principalId: String(identity.properties.principalId),
      tenantId: tenant,
      displayName: identity.name,
      resourceId: identity.id,
      credentials: credentials.map((credential) => ({
        name: credential.name,
        ...(credential.properties as unknown as FederatedCredentialProperties),
      })),
    };
  }

  /** Whether a principal with this object ID exists, in `tenant` when given. */
  async principalExists(principalId: string, tenant?: string): Promise<boolean> {
    const found = await this.#store.listResources({
      type: RESOURCE_TYPES.userAssignedIdentity,
      property: { name: "principalId", value: principalId.toLowerCase() },
    });
    return found.some((identity) => tenant === undefined || identity.properties.tenantId === tenant);
  }

  // Federated identity credentials ------------------------------------------------------------------

  async putFederatedCredential(identityId: string, name: string, input: ResourceInput): Promise<ArmResource> {
    const identity = await this.getResource(
      identityId,
      RESOURCE_TYPES.userAssignedIdentity,
      "user-assigned identity",
    );
    checkFederatedCredentialName(name);
    const properties = checkFederatedCredential(propertiesOf(input));
    const existing = await this.listFederatedCredentials(identity.id);
    checkCredentialFitsIdentity(
      name,
      properties,
      existing.map((credential) => ({
        name: credential.name,
        properties: credential.properties as unknown as FederatedCredentialProperties,
      })),
    );
    const current = existing.find((credential) => credential.name.toLowerCase() === name.toLowerCase());
    const credential: ArmResource = {
      id: current?.id ?? federatedCredentialId(identity.id, name),
      name: current?.name ?? name,
      type: RESOURCE_TYPES.federatedCredential,
      properties: { ...properties },
    };
    await this.#store.putResource(credential);
    return credential;
  }

  async deleteFederatedCredential(id: string): Promise<boolean> {
    return this.#store.deleteResource(id);
  }

  async listFederatedCredentials(identityId: string): Promise<ArmResource[]> {
    return this.#store.listResources({ type: RESOURCE_TYPES.federatedCredential, under: identityId });
  }

  // Vaults ------------------------------------------------------------------------------------------

  async putVault(
    subscription: string,
    group: string,
    name: string,
    input: ResourceInput,
  ): Promise<ArmResource> {
    const resourceGroup = await this.getResourceGroup(subscription, group);
    checkVaultName(name);
    const { tenantId: tenant } = await this.getSubscription(subscription);
    const id = providerResourceId(subscription, group, RESOURCE_TYPES.vault, name);
    const namesake = await this.findVaultByName(name);
    if (namesake && namesake.id.toLowerCase() !== id.toLowerCase()) {
      throw conflict(
        "VaultAlreadyExists",
        `The vault name '${name}' is already in use. Vault names are global, so please choose another name.`,
      );
    }
    const requested = propertiesOf(input);
    if (requested.enableRbacAuthorization === false) {
      throw badRequest(
        "BadRequest",
        "Access policies are not supported: wikit vaults authorise with Azure RBAC (enableRbacAuthorization true).",
      );
    }
    const vault: ArmResource = {
      id: namesake?.id ?? id,
      name: namesake?.name ?? name,
      type: RESOURCE_TYPES.vault,
      location: locationOf(input, namesake?.location ?? resourceGroup.location ?? DEFAULT_LOCATION),
      tags: tagsOf(input),
      properties: {
        sku: { family: "A", name: "standard" },
        tenantId: tenant,
        enableRbacAuthorization: true,
        enableSoftDelete: true,
        softDeleteRetentionInDays: 90,
        accessPolicies: [],
        provisioningState: "Succeeded",
      },
    };
    await this.#store.putResource(vault);
    return vault;
  }

  async findVaultByName(name: string): Promise<ArmResource | undefined> {
    const vaults = await this.#store.listResources({ type: RESOURCE_TYPES.vault });
    return vaults.find((vault) => vault.name.toLowerCase() === name.toLowerCase());
  }

  async deleteVault(subscription: string, group: string, name: string): Promise<boolean> {
    await this.getResourceGroup(subscription, group);
    const id = providerResourceId(subscription, group, RESOURCE_TYPES.vault, name);
    const vault = await this.#store.getResource(id);
    if (!vault) return false;
    await this.#deleteVaultSecrets(vault);
    return this.#store.deleteResource(id);
  }

  /** Removes a vault's secrets, live and soft-deleted, so that a namesake vault starts empty. */
  async #deleteVaultSecrets(vault: ArmResource): Promise<void> {
    for (const bin of [vault.id, deletedSecretsBinId(vault.id)]) {
      for (const secret of await this.#store.listLatestSecrets(bin))
        await this.#store.deleteSecret(bin, secret.name);
    }
  }

  // Managed clusters ----------------------------------------------------------------------------------

  async putManagedCluster(
    subscription: string,
    group: string,
    name: string,
    properties: Record<string, unknown>,
  ): Promise<ArmResource> {
    const resourceGroup = await this.getResourceGroup(subscription, group);
    const id = providerResourceId(subscription, group, RESOURCE_TYPES.managedCluster, name);
    const existing = await this.#store.getResource(id);
    const cluster: ArmResource = {
      id: existing?.id ?? id,
      name: existing?.name ?? name,
      type: RESOURCE_TYPES.managedCluster,
      location: existing?.location ?? resourceGroup.location ?? DEFAULT_LOCATION,
      tags: existing?.tags ?? {},
      properties: { ...existing?.properties, ...properties },
    };
    await this.#store.putResource(cluster);
    return cluster;
  }

  // Role assignments ------------------------------------------------------------------------------------

  async putRoleAssignment(scope: string, name: string, input: ResourceInput): Promise<ArmResource> {
    if (!isGuid(name)) {
      throw badRequest(
        "InvalidRoleAssignmentId",
        `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`,
      );
    }
    await this.#checkScopeExists(scope);
    const properties = propertiesOf(input);
    const principalId = properties.principalId;
    if (typeof principalId !== "string" || !isGuid(principalId)) {
      throw badRequest(
        "InvalidPrincipalId",
        "A role assignment needs 'principalId': the object ID (GUID) of a principal.",
      );
    }
    const requestedRole = properties.roleDefinitionId;
    const role = typeof requestedRole === "string" ? findRoleDefinition(requestedRole) : undefined;
    if (!role) {
      throw badRequest(
        "RoleDefinitionDoesNotExist",
        `The specified role definition with ID '${String(requestedRole ?? "")}' does not exist.`,
      );
    }
    const { subscription } = parseScope(scope) ?? {};
    const { tenantId: tenant } = await this.getSubscription(subscription ?? "");
    if (!(await this.principalExists(principalId, tenant))) {
      throw badRequest(
        "PrincipalNotFound",
        `Principal ${principalId} does not exist in the directory ${tenant}.`,
      );
    }
    const id = roleAssignmentId(scope, name);
    const twin = (await this.listRoleAssignmentsAt(scope)).find(
      (assignment) =>
        assignment.id.toLowerCase() !== id.toLowerCase() &&
        assignment.scope.toLowerCase() === scope.toLowerCase() &&
        assignment.principalId.toLowerCase() === principalId.toLowerCase() &&
        findRoleDefinition(assignment.roleDefinitionId) === role,
    );
    if (twin) throw conflict("RoleAssignmentExists", "The role assignment already exists.");
    const current = await this.#store.getResource(id);
    if (
      current &&
      (String(current.properties.principalId).toLowerCase() !== principalId.toLowerCase() ||
        findRoleDefinition(String(current.properties.roleDefinitionId)) !== role)
    ) {
      throw conflict(
        "RoleAssignmentUpdateNotPermitted",
        "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
      );
    }
    const assignment: ArmResource = {
      id,
      name,
      type: RESOURCE_TYPES.roleAssignment,
      properties: {
        roleDefinitionId: roleDefinitionIdFor(subscription ?? "", role),
        principalId: principalId.toLowerCase(),
        principalType:
          typeof properties.principalType === "string" ? properties.principalType : "ServicePrincipal",
        scope,
        createdOn: current?.properties.createdOn ?? new Date().toISOString(),
      },
    };
    await this.#store.putResource(assignment);
    return assignment;
  }

  async #checkScopeExists(scope: string): Promise<void> {
    const parsed = parseScope(scope);
    if (!parsed) {
      throw badRequest(
        "InvalidScope",
        `The scope '${scope}' is not valid: it must be a subscription, resource group or resource ID.`,
      );
    }
    await this.getSubscription(parsed.subscription);
    if (!parsed.resourceGroup) return;
    await this.getResourceGroup(parsed.subscription, parsed.resourceGroup);
    if (!parsed.resourcePath) return;
    // A secret-level scope needs its vault; any other scope needs the resource itself.
    const vaultScope = /^(.*\/providers\/Microsoft\.KeyVault\/vaults\/[^/]+)\/secrets\/[^/]+$/i.exec(
      scope,
    )?.[1];
    const target = vaultScope ?? scope.replace(/\/+$/, "");
    if (!(await this.#store.getResource(target))) {
      throw notFound("ResourceNotFound", `The scope '${scope}' does not exist: no resource '${target}'.`);
    }
  }

  async getRoleAssignment(id: string): Promise<ArmResource> {
    return this.getResource(id, RESOURCE_TYPES.roleAssignment, "role assignment");
  }

  async deleteRoleAssignment(id: string): Promise<ArmResource | undefined> {
    const found = await this.#store.getResource(id);
    if (!found || found.type.toLowerCase() !== RESOURCE_TYPES.roleAssignment.toLowerCase()) return undefined;
    await this.#store.deleteResource(id);
    return found;
  }

  async listRoleAssignmentsAt(scope: string): Promise<RoleAssignment[]> {
    const all = await this.#store.listResources({ type: RESOURCE_TYPES.roleAssignment, under: scope });
    return all.map(toRoleAssignment);
  }

  async listRoleAssignmentsFor(principalId: string): Promise<RoleAssignment[]> {
    const all = await this.#store.listResources({
      type: RESOURCE_TYPES.roleAssignment,
      property: { name: "principalId", value: principalId.toLowerCase() },
    });
    return all.map(toRoleAssignment);
  }
}

function toRoleAssignment(resource: ArmResource): RoleAssignment {
  return {
    id: resource.id,
    scope: String(resource.properties.scope),
    roleDefinitionId: String(resource.properties.roleDefinitionId),
    principalId: String(resource.properties.principalId),
  };
}
