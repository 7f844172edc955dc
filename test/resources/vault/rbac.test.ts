import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  BUILT_IN_ROLE_GUIDS,
  BUILT_IN_ROLES,
  builtInRoleById,
  builtInRoleByName,
  findRoleDefinition,
  roleDefinitionIdFor,
} from "../../../src/identity/directory/built-in-roles.ts";
import { SECRET_DATA_ACTIONS } from "../../../src/resources/vault/constants.ts";
import {
  actionMatches,
  authorize,
  type RbacAssignment,
  type RolePermissions,
  scopeCovers,
} from "../../../src/resources/vault/rbac.ts";

const OID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const SUB = "/subscriptions/0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9";
const RG = `${SUB}/resourceGroups/apps-rg`;
const VAULT = `${RG}/providers/Microsoft.KeyVault/vaults/kv1`;
const SECRET = `${VAULT}/secrets/db-password`;

function grant(role: keyof typeof BUILT_IN_ROLE_GUIDS, scope: string, principalId = OID): RbacAssignment {
  return {
    scope,
    principalId,
    roleDefinitionId: `${SUB}/providers/Microsoft.Authorization/roleDefinitions/${BUILT_IN_ROLE_GUIDS[role]}`,
  };
}

function allowed(assignments: RbacAssignment[], action: string, scope = SECRET): boolean {
  return authorize({ principalId: OID, action, scope, assignments, roleDefinitionOf: builtInRoleById })
    .allowed;
}

describe("built-in roles", () => {
  test("each role is found by display name in any case, by GUID and by either role-definition ID form", () => {
    for (const role of BUILT_IN_ROLES) {
      assert.equal(builtInRoleByName(role.roleName.toUpperCase()), role);
      assert.equal(builtInRoleById(role.name), role);
      assert.equal(builtInRoleById(roleDefinitionIdFor("0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9", role)), role);
      assert.equal(builtInRoleById(roleDefinitionIdFor("", role)), role);
      assert.equal(builtInRoleById(roleDefinitionIdFor("sub", role).toUpperCase()), role);
      assert.equal(findRoleDefinition(role.roleName), role);
      assert.equal(findRoleDefinition(roleDefinitionIdFor("sub", role)), role);
    }
  });

  test("role-definition IDs have ARM's two forms", () => {
    const user = builtInRoleByName("Key Vault Secrets User");
    assert.ok(user);
    assert.equal(
      roleDefinitionIdFor("sub-1", user),
      "/subscriptions/sub-1/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6",
    );
    assert.equal(
      roleDefinitionIdFor("", user),
      "/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6",
    );
  });

  test("unknown roles and IDs under other providers are not found", () => {
    assert.equal(builtInRoleByName("Key Vault Secrets"), undefined);
    assert.equal(builtInRoleById("00000000-0000-0000-0000-000000000000"), undefined);
    assert.equal(
      builtInRoleById(`/providers/Microsoft.Other/roleDefinitions/${BUILT_IN_ROLE_GUIDS.owner}`),
      undefined,
    );
  });

  test("only the Key Vault roles carry data actions", () => {
    for (const role of ["Reader", "Contributor", "Owner", "Key Vault Data Access Administrator"]) {
      assert.deepEqual(builtInRoleByName(role)?.dataActions, [], role);
    }
  });
});

describe("RBAC: which role grants which secret action", () => {
  const table: [keyof typeof BUILT_IN_ROLE_GUIDS, string, boolean][] = [
    ["keyVaultSecretsUser", SECRET_DATA_ACTIONS.getSecret, true],
    ["keyVaultSecretsUser", SECRET_DATA_ACTIONS.readMetadata, true],
    ["keyVaultSecretsUser", SECRET_DATA_ACTIONS.setSecret, false],
    ["keyVaultSecretsUser", SECRET_DATA_ACTIONS.delete, false],
    ["keyVaultSecretsOfficer", SECRET_DATA_ACTIONS.setSecret, true],
    ["keyVaultSecretsOfficer", SECRET_DATA_ACTIONS.delete, true],
    ["keyVaultSecretsOfficer", SECRET_DATA_ACTIONS.purge, true],
    ["keyVaultAdministrator", SECRET_DATA_ACTIONS.getSecret, true],
    ["keyVaultAdministrator", SECRET_DATA_ACTIONS.restore, true],
    ["keyVaultReader", SECRET_DATA_ACTIONS.readMetadata, true],
    ["keyVaultReader", SECRET_DATA_ACTIONS.getSecret, false],
    ["keyVaultDataAccessAdministrator", SECRET_DATA_ACTIONS.getSecret, false],
    ["reader", SECRET_DATA_ACTIONS.getSecret, false],
    ["reader", SECRET_DATA_ACTIONS.readMetadata, false],
    ["contributor", SECRET_DATA_ACTIONS.getSecret, false],
    ["owner", SECRET_DATA_ACTIONS.getSecret, false],
  ];
  for (const [role, action, expected] of table) {
    test(`${role} at the vault ${expected ? "may" : "may not"} ${action.split("/").slice(3).join("/")}`, () => {
      assert.equal(allowed([grant(role, VAULT)], action), expected);
    });
  }
});

describe("RBAC: scope inheritance", () => {
  test("assignments at the subscription, resource group, vault and secret all reach the secret", () => {
    for (const scope of [SUB, RG, VAULT, SECRET]) {
      assert.ok(allowed([grant("keyVaultSecretsUser", scope)], SECRET_DATA_ACTIONS.getSecret), scope);
    }
  });

  test("an assignment at the root scope reaches everything", () => {
    assert.ok(allowed([grant("keyVaultSecretsUser", "/")], SECRET_DATA_ACTIONS.getSecret));
  });

  test("threat: an assignment with an empty scope is malformed and reaches nothing", () => {
    assert.equal(allowed([grant("keyVaultAdministrator", "")], SECRET_DATA_ACTIONS.getSecret), false);
    assert.equal(allowed([grant("keyVaultAdministrator", "  ")], SECRET_DATA_ACTIONS.getSecret), false);
  });

  test("an assignment on one secret reaches neither its siblings nor the vault", () => {
    const onSecret = [grant("keyVaultSecretsOfficer", SECRET)];
    assert.equal(allowed(onSecret, SECRET_DATA_ACTIONS.getSecret, `${VAULT}/secrets/api-key`), false);
    assert.equal(allowed(onSecret, SECRET_DATA_ACTIONS.readMetadata, VAULT), false);
  });

  test("sibling scopes sharing a prefix are not covered (segment boundaries)", () => {
    assert.equal(scopeCovers("/subscriptions/a", "/subscriptions/ab"), false);
    assert.equal(scopeCovers("/subscriptions/a", "/subscriptions/ab/resourceGroups/x"), false);
    assert.equal(scopeCovers(`${RG}`, `${RG}2/providers/Microsoft.KeyVault/vaults/kv1`), false);
    assert.equal(scopeCovers(VAULT, `${VAULT}0/secrets/db-password`), false);
    assert.equal(scopeCovers(SECRET, `${SECRET}-old`), false);
    assert.equal(
      allowed([grant("keyVaultAdministrator", `${VAULT}0`)], SECRET_DATA_ACTIONS.getSecret),
      false,
    );
  });

  test("a child never covers its parent", () => {
    assert.equal(scopeCovers(SECRET, VAULT), false);
    assert.equal(scopeCovers(RG, SUB), false);
  });

  test("scopes, principal IDs and role-definition IDs compare case-insensitively", () => {
    const shouting = {
      ...grant("keyVaultSecretsUser", VAULT.toUpperCase(), OID.toUpperCase()),
      roleDefinitionId: grant("keyVaultSecretsUser", VAULT).roleDefinitionId.toUpperCase(),
    };
    assert.ok(allowed([shouting], SECRET_DATA_ACTIONS.getSecret, SECRET.toLowerCase()));
    assert.ok(scopeCovers(`${VAULT}/`, SECRET));
  });

  test("another principal's assignment grants nothing", () => {
    const other = grant("keyVaultAdministrator", SUB, "11111111-2222-4333-8444-555555555555");
    assert.equal(allowed([other], SECRET_DATA_ACTIONS.getSecret), false);
  });

  test("an assignment naming an unknown role definition grants nothing", () => {
    const unknown = {
      ...grant("owner", SUB),
      roleDefinitionId: "/providers/Microsoft.Authorization/roleDefinitions/x",
    };
    assert.equal(allowed([unknown], SECRET_DATA_ACTIONS.getSecret), false);
  });

  test("property: a scope covers itself and every path beneath it, never a name it merely prefixes", () => {
    const segment = fc.stringMatching(/^[a-zA-Z0-9-]{1,12}$/);
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), segment, (parts, extra) => {
        const scope = `/${parts.join("/")}`;
        assert.ok(scopeCovers(scope, scope));
        assert.ok(scopeCovers(scope.toUpperCase(), `${scope}/${extra}`));
        assert.equal(scopeCovers(scope, `${scope}${extra}`), false);
      }),
    );
  });
});

describe("RBAC: data-action patterns", () => {
  const table: [string, string, boolean][] = [
    ["*", SECRET_DATA_ACTIONS.getSecret, true],
    ["Microsoft.KeyVault/vaults/*", SECRET_DATA_ACTIONS.getSecret, true],
    ["Microsoft.KeyVault/vaults/secrets/*", SECRET_DATA_ACTIONS.delete, true],
    ["microsoft.keyvault/VAULTS/secrets/*", SECRET_DATA_ACTIONS.getSecret, true],
    ["Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/vaults/secrets/read", true],
    ["Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/vaults/keys/versions/read", true],
    ["Microsoft.KeyVault/vaults/*/read", SECRET_DATA_ACTIONS.getSecret, false],
    ["Microsoft.KeyVault/vaults/*/read", SECRET_DATA_ACTIONS.readMetadata, false],
    ["Microsoft.KeyVault/vaults/secrets/*", "Microsoft.KeyVault/vaults/secretsX/getSecret/action", false],
    ["Microsoft.KeyVault/vaults/secrets/*", "Microsoft.KeyVault/vaults/secrets", false],
    ["Microsoft.KeyVault/vaults/secrets/get*", SECRET_DATA_ACTIONS.getSecret, true],
    // A dot in a pattern is a dot, not "any character".
    [SECRET_DATA_ACTIONS.getSecret, "MicrosoftXKeyVault/vaults/secrets/getSecret/action", false],
    [SECRET_DATA_ACTIONS.delete, `${SECRET_DATA_ACTIONS.delete}/action`, false],
  ];
  for (const [pattern, action, expected] of table) {
    test(`'${pattern}' ${expected ? "matches" : "does not match"} '${action}'`, () => {
      assert.equal(actionMatches(pattern, action), expected);
    });
  }

  test("notDataActions take actions back from the same role", () => {
    const officerWithoutPurge: RolePermissions = {
      dataActions: ["Microsoft.KeyVault/vaults/secrets/*"],
      notDataActions: [SECRET_DATA_ACTIONS.purge],
    };
    const decide = (action: string) =>
      authorize({
        principalId: OID,
        action,
        scope: SECRET,
        assignments: [{ scope: VAULT, principalId: OID, roleDefinitionId: "custom" }],
        roleDefinitionOf: () => officerWithoutPurge,
      }).allowed;
    assert.equal(decide(SECRET_DATA_ACTIONS.delete), true);
    assert.equal(decide(SECRET_DATA_ACTIONS.purge), false);
  });
});

describe("RBAC: the decision", () => {
  test("a grant names the assignment that allowed it", () => {
    const assignment = grant("keyVaultSecretsUser", RG);
    const decision = authorize({
      principalId: OID,
      action: SECRET_DATA_ACTIONS.getSecret,
      scope: SECRET,
      assignments: [grant("reader", SUB), assignment],
      roleDefinitionOf: builtInRoleById,
    });
    assert.deepEqual(decision, {
      allowed: true,
      action: SECRET_DATA_ACTIONS.getSecret,
      resource: SECRET.toLowerCase(),
      grantedBy: assignment,
    });
  });

  test("a denial carries the action and the lower-cased resource for the 403 message", () => {
    const decision = authorize({
      principalId: OID,
      action: SECRET_DATA_ACTIONS.setSecret,
      scope: SECRET,
      assignments: [grant("keyVaultSecretsUser", VAULT)],
      roleDefinitionOf: builtInRoleById,
    });
    assert.equal(decision.allowed, false);
    assert.equal(decision.grantedBy, undefined);
    assert.equal(
      decision.resource,
      "/subscriptions/0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9/resourcegroups/apps-rg/providers/microsoft.keyvault/vaults/kv1/secrets/db-password",
    );
  });
});
