import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  toManagedIdentityPrincipal,
  toRoleAssignment,
  toTenant,
} from "../../../src/identity/directory/directory-rows.ts";

const identity = {
  id: "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/w",
  name: "w",
  type: "Microsoft.ManagedIdentity/userAssignedIdentities",
  properties: { clientId: "c", principalId: "p", tenantId: "t" },
};
const credential = (properties: Record<string, unknown>) => ({
  id: `${identity.id}/federatedIdentityCredentials/f`,
  name: "f",
  type: "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
  properties,
});

describe("directory rows", () => {
  test("a federated principal carries exactly what matching needs: no description", () => {
    const principal = toManagedIdentityPrincipal(identity, [
      credential({ issuer: "https://i/", subject: "s", audiences: ["a"], description: "d" }),
    ]);
    assert.deepEqual(principal.credentials, [
      { name: "f", issuer: "https://i/", subject: "s", audiences: ["a"] },
    ]);
    assert.equal(principal.credentialOwnerId, identity.id);
    assert.equal(principal.managedIdentityResourceId, identity.id);
  });

  test("a damaged row fails loudly instead of yielding undefined fields", () => {
    assert.throws(() => toTenant({ ...identity, properties: { tenantId: "t" } }), /displayName/);
    assert.throws(
      () =>
        toManagedIdentityPrincipal(identity, [
          credential({ issuer: "https://i/", subject: "s", audiences: [1] }),
        ]),
      /audiences/,
    );
    assert.throws(() => toRoleAssignment({ ...identity, properties: { scope: 1 } }), /scope/);
  });
});
