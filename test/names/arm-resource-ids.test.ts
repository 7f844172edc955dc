import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  federatedCredentialId,
  parseScope,
  providerResourceId,
  RESOURCE_TYPES,
  resourceGroupId,
  resourceGroupOf,
  roleAssignmentId,
  sameId,
  subscriptionId,
} from "../../src/names/arm-resource-ids.ts";

const SUB = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9";
const GUID = "11111111-2222-4333-8444-555555555555";

describe("ARM resource IDs", () => {
  test("IDs are built in ARM's documented forms", () => {
    assert.equal(subscriptionId(SUB), `/subscriptions/${SUB}`);
    assert.equal(resourceGroupId(SUB, "Apps"), `/subscriptions/${SUB}/resourceGroups/Apps`);
    const identity = providerResourceId(SUB, "Apps", RESOURCE_TYPES.userAssignedIdentity, "id1");
    assert.equal(
      identity,
      `/subscriptions/${SUB}/resourceGroups/Apps/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1`,
    );
    assert.equal(federatedCredentialId(identity, "fic"), `${identity}/federatedIdentityCredentials/fic`);
    assert.equal(
      roleAssignmentId(`/subscriptions/${SUB}/`, GUID),
      `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleAssignments/${GUID}`,
    );
  });

  test("IDs compare case-insensitively", () => {
    assert.equal(
      sameId(`/subscriptions/${SUB}/resourceGroups/Apps`, `/SUBSCRIPTIONS/${SUB}/resourcegroups/apps`),
      true,
    );
    assert.equal(
      sameId(`/subscriptions/${SUB}/resourceGroups/Apps`, `/subscriptions/${SUB}/resourceGroups/Apps2`),
      false,
    );
  });
});

describe("parseScope", () => {
  const cases: [string, ReturnType<typeof parseScope>][] = [
    [`/subscriptions/${SUB}`, { subscription: SUB, resourceGroup: undefined, resourcePath: undefined }],
    [`/subscriptions/${SUB}/`, { subscription: SUB, resourceGroup: undefined, resourcePath: undefined }],
    [
      `/subscriptions/${SUB}/resourceGroups/rg`,
      { subscription: SUB, resourceGroup: "rg", resourcePath: undefined },
    ],
    [
      `/SUBSCRIPTIONS/${SUB}/RESOURCEGROUPS/Rg`,
      { subscription: SUB, resourceGroup: "Rg", resourcePath: undefined },
    ],
    [
      `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/secrets/s1`,
      { subscription: SUB, resourceGroup: "rg", resourcePath: "Microsoft.KeyVault/vaults/kv/secrets/s1" },
    ],
    [
      `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/`,
      { subscription: SUB, resourceGroup: "rg", resourcePath: "Microsoft.KeyVault/vaults/kv" },
    ],
    ["", undefined],
    ["/", undefined],
    ["/tenants/x", undefined],
    [`subscriptions/${SUB}`, undefined],
    [`/subscriptions/${SUB}/resourcegroupsX/rg`, undefined],
    [`/subscriptions/${SUB}/resourceGroups`, undefined],
  ];
  for (const [scope, expected] of cases) {
    test(`'${scope}'`, () => assert.deepEqual(parseScope(scope), expected));
  }

  test("resourceGroupOf names the group in any ID that has one", () => {
    assert.equal(resourceGroupOf(`/subscriptions/${SUB}/resourceGroups/Apps/providers/X/y/z`), "Apps");
    assert.equal(resourceGroupOf(`/subscriptions/${SUB}`), undefined);
  });
});
