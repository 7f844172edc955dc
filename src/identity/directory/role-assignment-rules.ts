// The rules ARM applies to a role assignment write, with no I/O: the name, the scope's form, the requested
// role and principal, and what an existing assignment allows.

import { type ParsedScope, parseScope } from "../../names/arm-resource-ids.ts";
import { findRoleDefinition, type RoleDefinition } from "./built-in-roles.ts";
import { badRequest, conflict } from "./directory-error.ts";
import type { RoleAssignment } from "./directory-rows.ts";
import { isGuid } from "./naming-rules.ts";

export interface RoleAssignmentRequest {
  /** As given; compared and stored lower-cased. */
  principalId: string;
  role: RoleDefinition;
  principalType: string;
}

export function checkRoleAssignmentName(name: string): void {
  if (!isGuid(name)) {
    throw badRequest(
      "InvalidRoleAssignmentId",
      `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`,
    );
  }
}

/** The scope split into its parts; a scope that is not a subscription, group or resource ID is refused. */
export function checkRoleAssignmentScope(scope: string): ParsedScope {
  const parsed = parseScope(scope);
  if (!parsed) {
    throw badRequest(
      "InvalidScope",
      `The scope '${scope}' is not valid: it must be a subscription, resource group or resource ID.`,
    );
  }
  return parsed;
}

/**
 * The resource a resource-level scope needs to exist: the vault for a secret-level scope (a secret may be
 * granted before it is written), the resource itself for any other.
 */
export function scopeTarget(scope: string): string {
  const vault = /^(.*\/providers\/Microsoft\.KeyVault\/vaults\/[^/]+)\/secrets\/[^/]+$/i.exec(scope)?.[1];
  return vault ?? scope.replace(/\/+$/, "");
}

/** Reads `properties.principalId`, `roleDefinitionId` (a role name, GUID or ID) and `principalType`. */
export function parseRoleAssignmentRequest(properties: Record<string, unknown>): RoleAssignmentRequest {
  const { principalId, roleDefinitionId, principalType } = properties;
  if (typeof principalId !== "string" || !isGuid(principalId)) {
    throw badRequest(
      "InvalidPrincipalId",
      "A role assignment needs 'principalId': the object ID (GUID) of a principal.",
    );
  }
  const role = typeof roleDefinitionId === "string" ? findRoleDefinition(roleDefinitionId) : undefined;
  if (!role) {
    throw badRequest(
      "RoleDefinitionDoesNotExist",
      `The specified role definition with ID '${String(roleDefinitionId ?? "")}' does not exist.`,
    );
  }
  return {
    principalId,
    role,
    principalType: typeof principalType === "string" ? principalType : "ServicePrincipal",
  };
}

/**
 * A principal holds a role at a scope once: the same grant under another assignment name is a conflict,
 * and an existing assignment cannot be turned into another principal's or another role's.
 */
export function checkRoleAssignmentFits(
  id: string,
  scope: string,
  request: RoleAssignmentRequest,
  atScope: readonly RoleAssignment[],
  current: RoleAssignment | undefined,
): void {
  const grants = (assignment: RoleAssignment) =>
    assignment.principalId.toLowerCase() === request.principalId.toLowerCase() &&
    findRoleDefinition(assignment.roleDefinitionId) === request.role;
  const twin = atScope.find(
    (assignment) =>
      assignment.id.toLowerCase() !== id.toLowerCase() &&
      assignment.scope.toLowerCase() === scope.toLowerCase() &&
      grants(assignment),
  );
  if (twin) throw conflict("RoleAssignmentExists", "The role assignment already exists.");
  if (current && !grants(current)) {
    throw conflict(
      "RoleAssignmentUpdateNotPermitted",
      "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
    );
  }
}
