// Azure RBAC decisions for data actions, with no I/O: the caller supplies the principal's assignments
// and a way to look up role definitions.

export interface RbacAssignment {
  scope: string;
  roleDefinitionId: string;
  principalId: string;
}

/** What a role lets its holders do on the data plane; role definitions come from whoever wires the vault. */
export interface RolePermissions {
  /** e.g. `Microsoft.KeyVault/vaults/secrets/getSecret/action`; `*` matches any run of characters. */
  dataActions: readonly string[];
  notDataActions: readonly string[];
}

export interface RbacRequest {
  principalId: string;
  /** The data action the operation needs, e.g. `Microsoft.KeyVault/vaults/secrets/getSecret/action`. */
  action: string;
  /** The ARM ID the action targets, e.g. a vault or `{vaultId}/secrets/{name}`. */
  scope: string;
  assignments: readonly RbacAssignment[];
  roleDefinitionOf(roleDefinitionId: string): RolePermissions | undefined;
}

export interface RbacDecision {
  allowed: boolean;
  action: string;
  /** The target scope lower-cased, as Key Vault's 403 message shows it. */
  resource: string;
  /** The assignment that granted the action; undefined when denied. */
  grantedBy?: RbacAssignment;
}

export function authorize(request: RbacRequest): RbacDecision {
  const grantedBy = request.assignments.find((assignment) => {
    if (assignment.principalId.toLowerCase() !== request.principalId.toLowerCase()) return false;
    if (!scopeCovers(assignment.scope, request.scope)) return false;
    const role = request.roleDefinitionOf(assignment.roleDefinitionId);
    return role !== undefined && roleGrants(role, request.action);
  });
  return {
    allowed: grantedBy !== undefined,
    action: request.action,
    resource: request.scope.toLowerCase(),
    grantedBy,
  };
}

/** A role grants an action its data actions match, unless one of its not-data actions also matches. */
export function roleGrants(role: RolePermissions, action: string): boolean {
  const matches = (pattern: string) => actionMatches(pattern, action);
  return role.dataActions.some(matches) && !role.notDataActions.some(matches);
}

/**
 * An assignment at a scope applies to the scope itself and everything beneath it. IDs compare
 * case-insensitively and on whole segments: `/subscriptions/a` does not cover `/subscriptions/ab`.
 */
export function scopeCovers(assignmentScope: string, targetScope: string): boolean {
  // An empty scope is malformed, not the root: it must never turn into a blanket grant.
  if (assignmentScope.trim() === "") return false;
  const parent = normalizeScope(assignmentScope);
  const child = normalizeScope(targetScope);
  // `/` normalises to "": the root scope, which covers every subscription.
  return parent === "" || child === parent || child.startsWith(`${parent}/`);
}

function normalizeScope(scope: string): string {
  return scope.trim().toLowerCase().replace(/\/+$/, "");
}

/**
 * Action patterns compare case-insensitively; a `*` matches any run of characters, segments included,
 * so `Microsoft.KeyVault/vaults/*` covers `…/vaults/secrets/getSecret/action` and `*` covers everything.
 */
export function actionMatches(pattern: string, action: string): boolean {
  const source = pattern.split("*").map(escapeRegExp).join(".*");
  return new RegExp(`^${source}$`, "i").test(action);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
