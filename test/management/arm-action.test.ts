// The ARM action and scope each management request is authorised on.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { armRequirement } from "../../src/management/arm-action.ts";

const SUB = "/subscriptions/929d7a1b-0000-4000-8000-000000000001";
const GROUP = `${SUB}/resourceGroups/rg1`;
const IDENTITY = `${GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi`;
const VAULT = `${GROUP}/providers/Microsoft.KeyVault/vaults/kv1`;

describe("ARM requirements", () => {
  const cases: [string, string, ReturnType<typeof armRequirement>][] = [
    ["GET", "/subscriptions", { kind: "anyCaller" }],
    ["GET", SUB, { kind: "action", action: "Microsoft.Resources/subscriptions/read", scope: SUB }],
    [
      "GET",
      `${SUB}/resourceGroups`,
      { kind: "action", action: "Microsoft.Resources/subscriptions/resourceGroups/read", scope: SUB },
    ],
    [
      "PUT",
      GROUP,
      { kind: "action", action: "Microsoft.Resources/subscriptions/resourceGroups/write", scope: GROUP },
    ],
    [
      "DELETE",
      GROUP,
      { kind: "action", action: "Microsoft.Resources/subscriptions/resourceGroups/delete", scope: GROUP },
    ],
    [
      "PUT",
      IDENTITY,
      { kind: "action", action: "Microsoft.ManagedIdentity/userAssignedIdentities/write", scope: IDENTITY },
    ],
    [
      "GET",
      `${GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities`,
      { kind: "action", action: "Microsoft.ManagedIdentity/userAssignedIdentities/read", scope: GROUP },
    ],
    [
      "GET",
      `${SUB}/providers/Microsoft.KeyVault/vaults`,
      { kind: "action", action: "Microsoft.KeyVault/vaults/read", scope: SUB },
    ],
    [
      "PUT",
      `${IDENTITY}/federatedIdentityCredentials/kube`,
      {
        kind: "action",
        action: "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
        scope: `${IDENTITY}/federatedIdentityCredentials/kube`,
      },
    ],
    [
      "GET",
      `${IDENTITY}/federatedIdentityCredentials`,
      {
        kind: "action",
        action: "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read",
        scope: IDENTITY,
      },
    ],
    [
      "PUT",
      `${VAULT}/providers/Microsoft.Authorization/roleAssignments/5f3c2a10-0000-4000-8000-000000000002`,
      {
        kind: "action",
        action: "Microsoft.Authorization/roleAssignments/write",
        scope: `${VAULT}/providers/Microsoft.Authorization/roleAssignments/5f3c2a10-0000-4000-8000-000000000002`,
      },
    ],
    [
      "GET",
      `${SUB}/providers/Microsoft.Authorization/roleDefinitions`,
      { kind: "action", action: "Microsoft.Authorization/roleDefinitions/read", scope: SUB },
    ],
    [
      "PUT",
      `${VAULT}/secrets/s1`,
      { kind: "action", action: "Microsoft.KeyVault/vaults/secrets/write", scope: `${VAULT}/secrets/s1` },
    ],
    ["GET", "/providers/Microsoft.Authorization/roleDefinitions", { kind: "anyCaller" }],
    ["GET", "/wikit/signIns", { kind: "admin" }],
    ["GET", "/clusters/local/api/v1/namespaces", { kind: "admin" }],
    ["POST", `${SUB}/resourceGroups/rg1`, { kind: "admin" }],
    [
      "POST",
      `${SUB}/resourceGroups/rg1/providers/Microsoft.AppConfiguration/configurationStores/settings/listKeys`,
      {
        kind: "action",
        action: "Microsoft.AppConfiguration/configurationStores/listKeys/action",
        scope: `${SUB}/resourceGroups/rg1/providers/Microsoft.AppConfiguration/configurationStores/settings`,
      },
    ],
    [
      "POST",
      `${SUB}/providers/Microsoft.KeyVault/locations/local/deletedVaults/kv1/purge`,
      {
        kind: "action",
        action: "Microsoft.KeyVault/locations/deletedVaults/purge/action",
        scope: `${SUB}/providers/Microsoft.KeyVault/locations/local/deletedVaults/kv1`,
      },
    ],
    ["POST", `${SUB}/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults`, { kind: "admin" }],
    ["PUT", "/subscriptions", { kind: "admin" }],
  ];
  for (const [method, path, expected] of cases) {
    test(`${method} ${path.replace(SUB, "/subscriptions/{s}")}`, () =>
      assert.deepEqual(armRequirement(method, path), expected));
  }
});
