// Managed clusters over the management API: `PUT` makes a local cluster through the composition root's provisioning
// (201, then 200 for an update that keeps it), `DELETE` erases it; AKS's name rule, wikit's always-on issuer and
// workload identity, and RBAC on Microsoft.ContainerService/managedClusters/write.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { BUILT_IN_ROLE_GUIDS } from "../../src/identity/directory/built-in-roles.ts";
import { assertArmError, startManagement } from "./management-fixture.ts";

const CLUSTERS = "providers/Microsoft.ContainerService/managedClusters";

describe("managed clusters", () => {
  test("PUT creates a cluster through provisioning (201); a second PUT updates it (200) and keeps its local cluster", async () => {
    const m = await startManagement();
    await m.call("PUT", m.groupPath("rg"), {});
    const path = `${m.groupPath("rg")}/${CLUSTERS}/aks-wi-demo`;
    const body = {
      properties: {
        oidcIssuerProfile: { enabled: true },
        securityProfile: { workloadIdentity: { enabled: true } },
      },
    };
    const created = await m.call("PUT", path, body);
    assert.equal(created.statusCode, 201, created.body);
    assert.deepEqual(created.json().properties.localCluster, { key: "cluster-1", issuerId: "cluster-1" });
    assert.equal(created.json().properties.provisioningState, "Succeeded");

    const updated = await m.call("PUT", path, {
      tags: { env: "dev" },
      properties: { localCluster: { key: "stolen", issuerId: "x" } },
    });
    assert.equal(updated.statusCode, 200, updated.body);
    assert.deepEqual(updated.json().tags, { env: "dev" });
    assert.deepEqual(
      updated.json().properties.localCluster,
      { key: "cluster-1", issuerId: "cluster-1" },
      "a body cannot name another",
    );
    assert.deepEqual(m.provisioning.provisioned, ["cluster-1"]);

    assert.equal((await m.call("DELETE", path)).statusCode, 200);
    assert.deepEqual(m.provisioning.deprovisioned, ["cluster-1"]);
    assert.equal((await m.call("DELETE", path)).statusCode, 204);
    assertArmError(await m.call("GET", path), 404, "ResourceNotFound");
  });

  test("an issuer or workload identity switched off, a bad name, a missing group: ARM's 400 and 404", async () => {
    const m = await startManagement();
    await m.call("PUT", m.groupPath("rg"), {});
    const base = `${m.groupPath("rg")}/${CLUSTERS}`;
    assert.match(
      assertArmError(
        await m.call("PUT", `${base}/c1`, { properties: { oidcIssuerProfile: { enabled: false } } }),
        400,
        "BadRequest",
      ).message,
      /always have the OIDC issuer and workload identity/,
    );
    assertArmError(
      await m.call("PUT", `${base}/c1`, {
        properties: { securityProfile: { workloadIdentity: { enabled: false } } },
      }),
      400,
      "BadRequest",
    );
    assertArmError(await m.call("PUT", `${base}/-bad-`, {}), 400, "InvalidParameter");
    assertArmError(
      await m.call("PUT", `${m.groupPath("nowhere")}/${CLUSTERS}/c1`, {}),
      404,
      "ResourceGroupNotFound",
    );
    assert.deepEqual(m.provisioning.provisioned, []);
  });

  test("a Reader may list clusters, not create one; a Contributor may", async () => {
    const m = await startManagement();
    await m.call("PUT", m.groupPath("rg"), {});
    const grant = async (role: string) => {
      const identity = (
        await m.call(
          "PUT",
          `${m.groupPath("rg")}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${role.slice(0, 8)}`,
          {},
        )
      ).json();
      await m.call("PUT", `${m.subPath}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`, {
        properties: {
          roleDefinitionId: `${m.subPath}/providers/Microsoft.Authorization/roleDefinitions/${role}`,
          principalId: identity.properties.principalId,
        },
      });
      return m.accessToken({
        clientId: identity.properties.clientId,
        principalId: identity.properties.principalId,
      });
    };
    const reader = await grant(BUILT_IN_ROLE_GUIDS.reader);
    const contributor = await grant(BUILT_IN_ROLE_GUIDS.contributor);
    assert.equal((await m.callAs(reader, "GET", `${m.subPath}/${CLUSTERS}`)).statusCode, 200);
    assert.match(
      assertArmError(
        await m.callAs(reader, "PUT", `${m.groupPath("rg")}/${CLUSTERS}/c1`, {}),
        403,
        "AuthorizationFailed",
      ).message,
      /Microsoft\.ContainerService\/managedClusters\/write/,
    );
    assert.equal(
      (await m.callAs(contributor, "PUT", `${m.groupPath("rg")}/${CLUSTERS}/c1`, {})).statusCode,
      201,
    );
  });
});
