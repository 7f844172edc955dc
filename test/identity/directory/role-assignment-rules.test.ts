import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BUILT_IN_ROLE_GUIDS } from "../../../src/identity/directory/built-in-roles.ts";
import { DirectoryError } from "../../../src/identity/directory/directory-error.ts";
import {
  checkRoleAssignmentFits,
  parseRoleAssignmentRequest,
} from "../../../src/identity/directory/role-assignment-rules.ts";

const PRINCIPAL = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const SCOPE = "/subscriptions/s/resourceGroups/g";
const ID = `${SCOPE}/providers/Microsoft.Authorization/roleAssignments/a`;
const request = parseRoleAssignmentRequest({
  roleDefinitionId: "Key Vault Secrets User",
  principalId: PRINCIPAL,
});
const stored = (id: string, roleGuid: string, principalId = PRINCIPAL) => ({
  id,
  scope: SCOPE,
  principalId,
  roleDefinitionId: `/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`,
});

const rejectsWith = (code: string) => (error: unknown) =>
  error instanceof DirectoryError && error.code === code;

describe("role assignment rules", () => {
  test("the same grant under another name is RoleAssignmentExists; under its own name it is a re-put", () => {
    const twin = stored(
      `${SCOPE}/providers/Microsoft.Authorization/roleAssignments/b`,
      BUILT_IN_ROLE_GUIDS.keyVaultSecretsUser,
    );
    assert.throws(
      () => checkRoleAssignmentFits(ID, SCOPE, request, [twin], undefined),
      rejectsWith("RoleAssignmentExists"),
    );
    const self = stored(ID, BUILT_IN_ROLE_GUIDS.keyVaultSecretsUser);
    checkRoleAssignmentFits(ID, SCOPE.toUpperCase(), request, [self], self);
  });

  test("an existing assignment keeps its principal and role: RoleAssignmentUpdateNotPermitted", () => {
    const otherRole = stored(ID, BUILT_IN_ROLE_GUIDS.reader);
    assert.throws(
      () => checkRoleAssignmentFits(ID, SCOPE, request, [otherRole], otherRole),
      rejectsWith("RoleAssignmentUpdateNotPermitted"),
    );
  });

  test("principalType defaults to ServicePrincipal; a role is found by name, GUID or ID", () => {
    assert.equal(request.principalType, "ServicePrincipal");
    assert.equal(request.role.name, BUILT_IN_ROLE_GUIDS.keyVaultSecretsUser);
    assert.throws(
      () => parseRoleAssignmentRequest({ roleDefinitionId: 42, principalId: PRINCIPAL }),
      (error: unknown) => error instanceof DirectoryError && /'42'/.test(error.message),
    );
  });
});
