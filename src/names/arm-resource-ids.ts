// ARM resource IDs: `/subscriptions/{sub}/resourceGroups/{rg}/providers/{namespace}/{type}/{name}[/{type}/{name}…]`.
// ARM compares them case-insensitively and echoes them in the case they were created with.

export const RESOURCE_TYPES = {
  tenant: "Microsoft.Resources/tenants",
  subscription: "Microsoft.Resources/subscriptions",
  resourceGroup: "Microsoft.Resources/resourceGroups",
  userAssignedIdentity: "Microsoft.ManagedIdentity/userAssignedIdentities",
  federatedCredential: "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
  vault: "Microsoft.KeyVault/vaults",
  deletedVault: "Microsoft.KeyVault/deletedVaults",
  configurationStore: "Microsoft.AppConfiguration/configurationStores",
  managedCluster: "Microsoft.ContainerService/managedClusters",
  roleAssignment: "Microsoft.Authorization/roleAssignments",
  roleDefinition: "Microsoft.Authorization/roleDefinitions",
  // Entra's directory objects, kept beneath their tenant (Graph addresses them by object ID alone).
  application: "Microsoft.Graph/applications",
  applicationFederatedCredential: "Microsoft.Graph/applications/federatedIdentityCredentials",
  servicePrincipal: "Microsoft.Graph/servicePrincipals",
} as const;

export const tenantId = (tenant: string) => `/tenants/${tenant}`;
export const applicationId = (tenant: string, objectId: string) =>
  `${tenantId(tenant)}/applications/${objectId}`;
export const servicePrincipalId = (tenant: string, objectId: string) =>
  `${tenantId(tenant)}/servicePrincipals/${objectId}`;
export const subscriptionId = (subscription: string) => `/subscriptions/${subscription}`;
export const resourceGroupId = (subscription: string, group: string) =>
  `${subscriptionId(subscription)}/resourceGroups/${group}`;
export const providerResourceId = (subscription: string, group: string, type: string, name: string) =>
  `${resourceGroupId(subscription, group)}/providers/${type}/${name}`;
export const deletedVaultId = (subscription: string, location: string, name: string) =>
  `${subscriptionId(subscription)}/providers/Microsoft.KeyVault/locations/${location}/deletedVaults/${name}`;
export const federatedCredentialId = (identityId: string, name: string) =>
  `${identityId}/federatedIdentityCredentials/${name}`;
export const roleAssignmentId = (scope: string, name: string) =>
  `${scope.replace(/\/+$/, "")}/providers/Microsoft.Authorization/roleAssignments/${name}`;

export function sameId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

export interface ParsedScope {
  subscription: string;
  resourceGroup?: string;
  /** Provider resource path below the resource group, e.g. `Microsoft.KeyVault/vaults/kv1/secrets/s1`. */
  resourcePath?: string;
}

/** Splits a scope into subscription / resource group / resource path; undefined when not an ARM scope. */
export function parseScope(scope: string): ParsedScope | undefined {
  const match = /^\/subscriptions\/([^/]+)(?:\/resourceGroups\/([^/]+)(?:\/providers\/(.+?))?)?\/?$/i.exec(
    scope,
  );
  if (!match?.[1]) return undefined;
  return { subscription: match[1], resourceGroup: match[2], resourcePath: match[3] };
}

/** The resource group named in an ID, if any. */
export function resourceGroupOf(id: string): string | undefined {
  return parseScope(id)?.resourceGroup ?? /\/resourceGroups\/([^/]+)/i.exec(id)?.[1];
}
