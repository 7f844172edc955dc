// The Graph-shaped directory (`/v1.0/applications`, `/servicePrincipals`, federated credentials) and tenants, as the
// management plane mounts them: Graph's shapes, status codes and error bodies; who may read and write; tenants.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import type { LightMyRequestResponse } from "fastify";
import { BUILT_IN_ROLE_GUIDS } from "../../src/identity/directory/built-in-roles.ts";
import { ADMIN_TOKEN, assertArmError, GRAPH_ALIAS, startManagement } from "./management-fixture.ts";

const ISSUER = "https://oidc.example.test/cluster/";
const GRAPH = "https://graph.microsoft.com";

function assertGraphError(response: LightMyRequestResponse, status: number, code: string): string {
  assert.equal(response.statusCode, status, response.body);
  const body = response.json() as {
    error: { code: string; message: string; innerError: Record<string, string> };
  };
  assert.equal(body.error.code, code, body.error.message);
  assert.ok(body.error.message.length > 0);
  assert.match(body.error.innerError["request-id"] ?? "", /^[0-9a-f-]{36}$/);
  return body.error.message;
}

const credentialBody = (name: string, subject = `system:serviceaccount:default:${name}`) => ({
  name,
  issuer: ISSUER,
  subject,
  audiences: ["api://AzureADTokenExchange"],
});

describe("Graph routes: applications", () => {
  test("create answers 201 with Graph's entity: new object and app IDs, single-tenant, the tenant's domain", async () => {
    const m = await startManagement();
    const response = await m.call("POST", "/v1.0/applications", { displayName: "wi-demo" });
    assert.equal(response.statusCode, 201, response.body);
    const app = response.json() as Record<string, unknown>;
    assert.match(String(app["@odata.context"]), /\/v1\.0\/\$metadata#applications\/\$entity$/);
    assert.match(String(app.id), /^[0-9a-f-]{36}$/);
    assert.match(String(app.appId), /^[0-9a-f-]{36}$/);
    assert.notEqual(app.id, app.appId);
    assert.equal(app.displayName, "wi-demo");
    assert.equal(app.signInAudience, "AzureADMyOrg");
    assert.equal(app.publisherDomain, "wikit.localhost");
    assert.deepEqual(app.identifierUris, []);
  });

  test("get, list with $filter as az sends it, PATCH (204) and DELETE (204, then 404)", async () => {
    const m = await startManagement();
    const first = (await m.call("POST", "/v1.0/applications", { displayName: "wi-demo" })).json() as Record<
      string,
      string
    >;
    await m.call("POST", "/v1.0/applications", { displayName: "other", identifierUris: ["api://other"] });
    const byAppId = await m.call(
      "GET",
      `/v1.0/applications?$filter=${encodeURIComponent(`appId eq '${first.appId}'`)}`,
    );
    assert.deepEqual(
      (byAppId.json() as { value: { id: string }[] }).value.map((app) => app.id),
      [first.id],
    );
    const byPrefix = await m.call(
      "GET",
      `/v1.0/applications?$filter=${encodeURIComponent("startswith(displayName,'WI-')")}`,
    );
    assert.equal((byPrefix.json() as { value: unknown[] }).value.length, 1);
    const byUri = await m.call(
      "GET",
      `/v1.0/applications?$filter=${encodeURIComponent("identifierUris/any(s:s eq 'api://other')")}`,
    );
    assert.deepEqual(
      (byUri.json() as { value: { displayName: string }[] }).value.map((app) => app.displayName),
      ["other"],
    );
    assert.equal((await m.call("GET", "/v1.0/applications")).json().value.length, 2);

    const patched = await m.call("PATCH", `/v1.0/applications/${first.id}`, {
      displayName: "renamed",
      signInAudience: "AzureADMultipleOrgs",
    });
    assert.equal(patched.statusCode, 204, patched.body);
    const shown = (await m.call("GET", `/v1.0/applications/${first.id}`)).json() as Record<string, string>;
    assert.equal(shown.displayName, "renamed");
    assert.equal(shown.signInAudience, "AzureADMultipleOrgs");
    assert.equal(shown.appId, first.appId);

    assert.equal((await m.call("DELETE", `/v1.0/applications/${first.id}`)).statusCode, 204);
    assertGraphError(await m.call("GET", `/v1.0/applications/${first.id}`), 404, "Request_ResourceNotFound");
    assertGraphError(await m.call("GET", "/v1.0/applications/not-a-guid"), 404, "Request_ResourceNotFound");
  });

  test("bodies are checked: a missing displayName, an unknown property, a wrong type, a password credential", async () => {
    const m = await startManagement();
    assert.match(
      assertGraphError(await m.call("POST", "/v1.0/applications", {}), 400, "Request_BadRequest"),
      /displayName/,
    );
    assert.match(
      assertGraphError(
        await m.call("POST", "/v1.0/applications", { displayName: "a", colour: "red" }),
        400,
        "Request_BadRequest",
      ),
      /Property 'colour' does not exist on type 'microsoft.graph.application'/,
    );
    assert.match(
      assertGraphError(
        await m.call("POST", "/v1.0/applications", { displayName: "a", signInAudience: "Everyone" }),
        400,
        "Request_BadRequest",
      ),
      /signInAudience/,
    );
    assert.match(
      assertGraphError(
        await m.call("POST", "/v1.0/applications", {
          displayName: "a",
          passwordCredentials: [{ displayName: "s" }],
        }),
        400,
        "Request_BadRequest",
      ),
      /federated identity credentials or certificates/,
    );
    assertGraphError(await m.call("POST", "/v1.0/applications", [1, 2]), 400, "Request_BadRequest");
  });

  test("$filter: a malformed clause is 400 BadRequest, an unsupported one 400 Request_UnsupportedQuery", async () => {
    const m = await startManagement();
    assertGraphError(
      await m.call("GET", `/v1.0/applications?$filter=${encodeURIComponent("appId eq 'x")}`),
      400,
      "BadRequest",
    );
    assertGraphError(
      await m.call("GET", `/v1.0/applications?$filter=${encodeURIComponent("appId gt 'x'")}`),
      400,
      "Request_UnsupportedQuery",
    );
  });
});

describe("Graph routes: federated identity credentials of an application", () => {
  test("create (201), list, get by name and by id, PATCH, delete; names and the 20-credential cap enforced", async () => {
    const m = await startManagement();
    const app = (await m.call("POST", "/v1.0/applications", { displayName: "ci" })).json() as Record<
      string,
      string
    >;
    const base = `/v1.0/applications/${app.id}/federatedIdentityCredentials`;
    const created = await m.call("POST", base, credentialBody("fic-1"));
    assert.equal(created.statusCode, 201, created.body);
    const credential = created.json() as Record<string, unknown>;
    assert.match(String(credential.id), /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      {
        name: credential.name,
        issuer: credential.issuer,
        subject: credential.subject,
        audiences: credential.audiences,
      },
      {
        name: "fic-1",
        issuer: ISSUER,
        subject: "system:serviceaccount:default:fic-1",
        audiences: ["api://AzureADTokenExchange"],
      },
    );
    assert.equal((await m.call("GET", `${base}/fic-1`)).json().id, credential.id);
    assert.equal((await m.call("GET", `${base}/${credential.id}`)).json().name, "fic-1");

    assert.equal(
      (await m.call("PATCH", `${base}/${credential.id}`, { subject: "system:serviceaccount:ns:sa" }))
        .statusCode,
      204,
    );
    assert.equal((await m.call("GET", `${base}/fic-1`)).json().subject, "system:serviceaccount:ns:sa");
    assertGraphError(await m.call("PATCH", `${base}/fic-1`, { name: "renamed" }), 400, "Request_BadRequest");

    assertGraphError(
      await m.call("POST", base, credentialBody("fic-1", "system:serviceaccount:x:y")),
      409,
      "Request_MultipleObjectsWithSameKeyValue",
    );
    assertGraphError(await m.call("POST", base, credentialBody("a b")), 400, "Request_BadRequest");
    assertGraphError(
      await m.call("POST", base, { ...credentialBody("fic-2"), issuer: "http://insecure.test/" }),
      400,
      "Request_BadRequest",
    );
    for (let index = 2; index <= 20; index += 1) {
      assert.equal((await m.call("POST", base, credentialBody(`fic-${index}`))).statusCode, 201);
    }
    assert.match(
      assertGraphError(await m.call("POST", base, credentialBody("fic-21")), 400, "Request_BadRequest"),
      /20/,
    );
    assert.equal((await m.call("GET", base)).json().value.length, 20);

    assert.equal((await m.call("DELETE", `${base}/fic-20`)).statusCode, 204);
    assertGraphError(await m.call("GET", `${base}/fic-20`), 404, "Request_ResourceNotFound");
    assertGraphError(await m.call("DELETE", `${base}/fic-20`), 404, "Request_ResourceNotFound");
  });
});

describe("Graph routes: service principals and tenants", () => {
  test("a service principal for an app: 201, the names az resolves it by, one per tenant, none for an unknown app", async () => {
    const m = await startManagement();
    const app = (await m.call("POST", "/v1.0/applications", { displayName: "wi-demo" })).json() as Record<
      string,
      string
    >;
    const created = await m.call("POST", "/v1.0/servicePrincipals", {
      appId: app.appId,
      accountEnabled: true,
    });
    assert.equal(created.statusCode, 201, created.body);
    const sp = created.json() as Record<string, unknown>;
    assert.equal(sp.appId, app.appId);
    assert.equal(sp.appOwnerOrganizationId, m.tenant);
    assert.equal(sp.servicePrincipalType, "Application");
    assert.deepEqual(sp.servicePrincipalNames, [app.appId]);
    const filter = encodeURIComponent(`servicePrincipalNames/any(c:c eq '${app.appId}')`);
    assert.deepEqual(
      (await m.call("GET", `/v1.0/servicePrincipals?$filter=${filter}`))
        .json()
        .value.map((each: { id: string }) => each.id),
      [sp.id],
    );
    assertGraphError(
      await m.call("POST", "/v1.0/servicePrincipals", { appId: app.appId }),
      409,
      "Request_MultipleObjectsWithSameKeyValue",
    );
    assertGraphError(
      await m.call("POST", "/v1.0/servicePrincipals", { appId: randomUUID() }),
      400,
      "Request_BadRequest",
    );
    assertGraphError(
      await m.call("PATCH", `/v1.0/servicePrincipals/${sp.id}`, { appId: randomUUID() }),
      400,
      "Request_BadRequest",
    );
    assert.equal((await m.call("DELETE", `/v1.0/servicePrincipals/${sp.id}`)).statusCode, 204);
    assertGraphError(
      await m.call("GET", `/v1.0/servicePrincipals/${sp.id}`),
      404,
      "Request_ResourceNotFound",
    );
  });

  test("a second tenant: the admin creates it and names it with Wikit-Tenant; a multi-tenant app gets a principal there", async () => {
    const m = await startManagement();
    const made = await m.call("POST", "/wikit/tenants", { displayName: "fabrikam" });
    assert.equal(made.statusCode, 201, made.body);
    const fabrikam = made.json() as { tenantId: string; defaultDomain: string; subscriptionId: string };
    assert.equal(fabrikam.defaultDomain, "fabrikam.localhost");
    const tenants = (await m.call("GET", "/tenants")).json() as { value: { tenantId: string }[] };
    assert.deepEqual(
      new Set(tenants.value.map((tenant) => tenant.tenantId)),
      new Set([m.tenant, fabrikam.tenantId]),
    );
    const subscriptions = (await m.call("GET", "/subscriptions")).json() as {
      value: { subscriptionId: string }[];
    };
    assert.ok(subscriptions.value.some((each) => each.subscriptionId === fabrikam.subscriptionId));
    assertArmError(
      await m.call("POST", "/wikit/tenants", { displayName: "fabrikam" }),
      409,
      "TenantDomainInUse",
    );

    const inFabrikam = (method: "GET" | "POST", url: string, body?: unknown) =>
      m.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "wikit-tenant": "fabrikam.localhost" },
        ...(body === undefined ? {} : { payload: body as object }),
      });
    const app = (await m.call("POST", "/v1.0/applications", { displayName: "shared" })).json() as Record<
      string,
      string
    >;
    assert.match(
      assertGraphError(
        await inFabrikam("POST", "/v1.0/servicePrincipals", { appId: app.appId }),
        400,
        "Request_BadRequest",
      ),
      /single-tenant/,
    );
    await m.call("PATCH", `/v1.0/applications/${app.id}`, { signInAudience: "AzureADMultipleOrgs" });
    const foreign = await inFabrikam("POST", "/v1.0/servicePrincipals", { appId: app.appId });
    assert.equal(foreign.statusCode, 201, foreign.body);
    assert.equal(foreign.json().appOwnerOrganizationId, m.tenant);
    // Each tenant sees its own directory.
    assert.equal((await inFabrikam("GET", "/v1.0/applications")).json().value.length, 0);
    assert.equal((await inFabrikam("GET", "/v1.0/servicePrincipals")).json().value.length, 1);
    assert.equal((await m.call("GET", "/v1.0/servicePrincipals")).json().value.length, 0);
    const unknown = await m.app.inject({
      method: "GET",
      url: "/v1.0/applications",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "wikit-tenant": "nowhere.localhost" },
    });
    assertGraphError(unknown, 400, "Request_BadRequest");
  });

  test("tenant creation checks its body and names", async () => {
    const m = await startManagement();
    assertArmError(await m.call("POST", "/wikit/tenants", { displayName: 3 }), 400, "InvalidRequestContent");
    assertArmError(
      await m.call("POST", "/wikit/tenants", { displayName: "bad name" }),
      400,
      "InvalidTenantName",
    );
    assertArmError(
      await m.call("POST", "/wikit/tenants", { displayName: "ok", defaultDomain: "no_dots" }),
      400,
      "InvalidDomainName",
    );
  });
});

describe("Graph routes: who may call them", () => {
  const principal = () => ({ clientId: randomUUID(), principalId: randomUUID() });

  test("without a token, or with a token for another audience, every route answers 401", async () => {
    const m = await startManagement();
    for (const url of [
      "/v1.0/applications",
      "/v1.0/servicePrincipals",
      `/v1.0/applications/${randomUUID()}/federatedIdentityCredentials`,
    ]) {
      const bare = await m.app.inject({ method: "GET", url });
      assert.equal(assertGraphError(bare, 401, "InvalidAuthenticationToken"), "Access token is empty.");
    }
    const armToken = await m.accessToken(principal());
    assert.match(
      assertGraphError(
        await m.callAs(armToken, "GET", "/v1.0/applications"),
        401,
        "InvalidAuthenticationToken",
      ),
      /Invalid audience/,
    );
    assertGraphError(
      await m.callAs("not-a-token", "GET", "/v1.0/applications"),
      401,
      "InvalidAuthenticationToken",
    );
  });

  test("Reader on a subscription of the tenant may read, not write; Contributor may write; a vault role neither", async () => {
    const m = await startManagement();
    const grant = async (role: string, who: { principalId: string }) => {
      const assignment = await m.directory.apps.createApplication(m.tenant, {
        displayName: `p-${role.slice(0, 4)}`,
      });
      await m.directory.apps.createServicePrincipal(m.tenant, { appId: assignment.appId });
      const sp = (await m.directory.apps.listServicePrincipals(m.tenant)).find(
        (each) => each.appId === assignment.appId,
      );
      assert.ok(sp);
      who.principalId = sp.id;
      await m.directory.roleAssignments.put(m.subPath, randomUUID(), {
        properties: {
          roleDefinitionId: `${m.subPath}/providers/Microsoft.Authorization/roleDefinitions/${role}`,
          principalId: sp.id,
        },
      });
      return m.accessToken({ clientId: String(assignment.appId), principalId: sp.id }, GRAPH);
    };
    const reader = await grant(BUILT_IN_ROLE_GUIDS.reader, principal());
    const contributor = await grant(BUILT_IN_ROLE_GUIDS.contributor, principal());
    const vaultReader = await grant(BUILT_IN_ROLE_GUIDS.keyVaultSecretsUser, principal());

    assert.equal((await m.callAs(reader, "GET", "/v1.0/applications")).statusCode, 200);
    assert.equal(
      assertGraphError(
        await m.callAs(reader, "POST", "/v1.0/applications", { displayName: "x" }),
        403,
        "Authorization_RequestDenied",
      ),
      "Insufficient privileges to complete the operation.",
    );
    assert.equal(
      (await m.callAs(contributor, "POST", "/v1.0/applications", { displayName: "x" })).statusCode,
      201,
    );
    assertGraphError(
      await m.callAs(vaultReader, "GET", "/v1.0/applications"),
      403,
      "Authorization_RequestDenied",
    );

    // The server's own URL is a Graph audience too (az's microsoftGraphResourceId when it points at wikit).
    const aliased = await m.accessToken(principal(), `${GRAPH_ALIAS}/`);
    assertGraphError(
      await m.callAs(aliased, "GET", "/v1.0/applications"),
      403,
      "Authorization_RequestDenied",
    );
  });

  test("a principal sees only its own tenant in GET /tenants and may not create tenants", async () => {
    const m = await startManagement();
    await m.call("POST", "/wikit/tenants", { displayName: "fabrikam" });
    const token = await m.accessToken(principal());
    const tenants = (await m.callAs(token, "GET", "/tenants")).json() as { value: { tenantId: string }[] };
    assert.deepEqual(
      tenants.value.map((tenant) => tenant.tenantId),
      [m.tenant],
    );
    assertArmError(
      await m.callAs(token, "POST", "/wikit/tenants", { displayName: "mine" }),
      403,
      "AuthorizationFailed",
    );
  });
});
