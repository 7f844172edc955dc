// Azure's built-in role definitions that matter for workload identity and secrets, as data.
// Shaped like ARM's roleDefinition resource: `name` is the GUID, `roleName` the display name.
// Role GUIDs are the same in every Azure cloud and tenant; clients and scripts hard-code them.

export const BUILT_IN_ROLE_GUIDS = {
  keyVaultSecretsUser: "4633458b-17de-408a-b874-0445c86b69e6",
  keyVaultSecretsOfficer: "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
  keyVaultAdministrator: "00482a5a-887f-4fb3-b363-3b7fe8e74483",
  keyVaultReader: "21090545-7ca7-4776-b22c-e363652d74d2",
  keyVaultDataAccessAdministrator: "8b54135c-b56d-4d72-a534-26097cfdc8d8",
  appConfigurationDataOwner: "5ae67dd6-50cb-40e7-96ff-dc2bfa4b606b",
  appConfigurationDataReader: "516239f1-63e1-4d78-a4de-a74fb236a071",
  reader: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
  contributor: "b24988ac-6180-42a0-ab88-20f7382dd24c",
  owner: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
  userAccessAdministrator: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
} as const;

export interface RoleDefinition {
  /** The role definition GUID (ARM's `name`). */
  name: string;
  /** The display name users type, e.g. `Key Vault Secrets User`. */
  roleName: string;
  description: string;
  /** Control-plane (ARM) operations; `*` matches any segment sequence. */
  actions: readonly string[];
  notActions: readonly string[];
  /** Data-plane operations, e.g. `Microsoft.KeyVault/vaults/secrets/getSecret/action`. */
  dataActions: readonly string[];
  notDataActions: readonly string[];
}

/** What the Key Vault roles may do on the control plane: read the vault and its surroundings. */
const KEY_VAULT_READ_ACTIONS = [
  "Microsoft.Authorization/*/read",
  "Microsoft.Insights/alertRules/*",
  "Microsoft.Resources/deployments/*",
  "Microsoft.Resources/subscriptions/resourceGroups/read",
  "Microsoft.Support/*",
  "Microsoft.KeyVault/checkNameAvailability/read",
  "Microsoft.KeyVault/deletedVaults/read",
  "Microsoft.KeyVault/locations/*/read",
  "Microsoft.KeyVault/vaults/*/read",
  "Microsoft.KeyVault/operations/read",
] as const;

export const BUILT_IN_ROLES: readonly RoleDefinition[] = [
  {
    name: BUILT_IN_ROLE_GUIDS.keyVaultSecretsUser,
    roleName: "Key Vault Secrets User",
    description: "Reads secret values and metadata in vaults that use Azure RBAC.",
    actions: [],
    notActions: [],
    dataActions: [
      "Microsoft.KeyVault/vaults/secrets/getSecret/action",
      "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
    ],
    notDataActions: [],
  },
  {
    name: BUILT_IN_ROLE_GUIDS.keyVaultSecretsOfficer,
    roleName: "Key Vault Secrets Officer",
    description: "Every operation on the secrets of a vault; cannot manage role assignments.",
    actions: KEY_VAULT_READ_ACTIONS,
    notActions: [],
    dataActions: ["Microsoft.KeyVault/vaults/secrets/*"],
    notDataActions: [],
  },
  {
    name: BUILT_IN_ROLE_GUIDS.keyVaultAdministrator,
    roleName: "Key Vault Administrator",
    description: "Every data-plane operation on a vault: keys, secrets and certificates.",
    actions: KEY_VAULT_READ_ACTIONS,
    notActions: [],
    dataActions: ["Microsoft.KeyVault/vaults/*"],
    notDataActions: [],
  },
  {
    name: BUILT_IN_ROLE_GUIDS.keyVaultReader,
    roleName: "Key Vault Reader",
    description: "Reads vault and secret metadata; never secret values.",
    actions: KEY_VAULT_READ_ACTIONS,
    notActions: [],
    dataActions: [
      "Microsoft.KeyVault/vaults/*/read",
      "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
    ],
    notDataActions: [],
  },
  {
    name: BUILT_IN_ROLE_GUIDS.keyVaultDataAccessAdministrator,
    roleName: "Key Vault Data Access Administrator",
    description: "Grants and removes the Key Vault roles; has no data-plane access of its own.",
    actions: [
      "Microsoft.Authorization/roleAssignments/write",
      "Microsoft.Authorization/roleAssignments/delete",
      "Microsoft.Authorization/*/read",
      "Microsoft.Resources/deployments/*",
      "Microsoft.Resources/subscriptions/resourceGroups/read",
      "Microsoft.Resources/subscriptions/read",
      "Microsoft.Management/managementGroups/read",
      "Microsoft.Support/*",
      "Microsoft.KeyVault/vaults/*/read",
    ],
    notActions: [],
    dataActions: [],
    notDataActions: [],
  },
  {
    name: BUILT_IN_ROLE_GUIDS.appConfigurationDataOwner,
    roleName: "App Configuration Data Owner",
    description: "Reads, writes, locks and deletes the key-values of App Configuration stores.",
    actions: [],
    notActions: [],
    dataActions: [
      "Microsoft.AppConfiguration/configurationStores/*/read",
      "Microsoft.AppConfiguration/configurationStores/*/write",
      "Microsoft.AppConfiguration/configurationStores/*/delete",
      "Microsoft.AppConfiguration/configurationStores/*/action",
    ],
    notDataActions: [],
  },
  {
    name: BUILT_IN_ROLE_GUIDS.appConfigurationDataReader,
    roleName: "App Configuration Data Reader",
    description: "Reads the key-values of App Configuration stores.",
    actions: [],
    notActions: [],
    dataActions: ["Microsoft.AppConfiguration/configurationStores/*/read"],
    notDataActions: [],
  },
  {
    name: BUILT_IN_ROLE_GUIDS.reader,
    roleName: "Reader",
    description: "Views every control-plane resource; no data-plane access, so no secret values.",
    actions: ["*/read"],
    notActions: [],
    dataActions: [],
    notDataActions: [],
  },
  {
    name: BUILT_IN_ROLE_GUIDS.contributor,
    roleName: "Contributor",
    description:
      "Manages every control-plane resource except access (role assignments); no data-plane access.",
    actions: ["*"],
    notActions: [
      "Microsoft.Authorization/*/Delete",
      "Microsoft.Authorization/*/Write",
      "Microsoft.Authorization/elevateAccess/Action",
      "Microsoft.Blueprint/blueprintAssignments/write",
      "Microsoft.Blueprint/blueprintAssignments/delete",
      "Microsoft.Compute/galleries/share/action",
      "Microsoft.Purview/consents/write",
      "Microsoft.Purview/consents/delete",
      "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
      "Microsoft.Subscription/cancel/action",
      "Microsoft.Subscription/enable/action",
    ],
    dataActions: [],
    notDataActions: [],
  },
  {
    name: BUILT_IN_ROLE_GUIDS.userAccessAdministrator,
    roleName: "User Access Administrator",
    description: "Manages who has access (role assignments) and reads everything else; no data-plane access.",
    actions: ["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
    notActions: [],
    dataActions: [],
    notDataActions: [],
  },
  {
    name: BUILT_IN_ROLE_GUIDS.owner,
    roleName: "Owner",
    description: "Manages every control-plane resource, including access; no data-plane access.",
    actions: ["*"],
    notActions: [],
    dataActions: [],
    notDataActions: [],
  },
];

const ROLE_DEFINITION_ID =
  /^(?:\/subscriptions\/[^/]+)?\/providers\/Microsoft\.Authorization\/roleDefinitions\/([^/]+)\/?$/i;

/** The role with this display name, compared case-insensitively (`key vault secrets user`). */
export function builtInRoleByName(roleName: string): RoleDefinition | undefined {
  const wanted = roleName.trim().toLowerCase();
  return BUILT_IN_ROLES.find((role) => role.roleName.toLowerCase() === wanted);
}

/**
 * The role with this GUID or role-definition ID:
 * `/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}`,
 * `/providers/Microsoft.Authorization/roleDefinitions/{guid}` or the bare `{guid}`.
 */
export function builtInRoleById(idOrGuid: string): RoleDefinition | undefined {
  const guid = (ROLE_DEFINITION_ID.exec(idOrGuid.trim())?.[1] ?? idOrGuid.trim()).toLowerCase();
  return BUILT_IN_ROLES.find((role) => role.name === guid);
}

/** The role a user named in any accepted form: role-definition ID, GUID or display name. */
export function findRoleDefinition(nameOrId: string): RoleDefinition | undefined {
  return builtInRoleById(nameOrId) ?? builtInRoleByName(nameOrId);
}

/** The role-definition ID ARM writes into assignments; tenant-level when `subscriptionId` is empty. */
export function roleDefinitionIdFor(subscriptionId: string, role: RoleDefinition): string {
  const prefix = subscriptionId ? `/subscriptions/${subscriptionId}` : "";
  return `${prefix}/providers/Microsoft.Authorization/roleDefinitions/${role.name}`;
}
