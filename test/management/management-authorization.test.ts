// The management API with access tokens: who may do what is Azure RBAC on the request's ARM action and scope, as
// ARM decides it. Every route wants a credential; a Reader reads and cannot write; a Contributor cannot grant
// access; an Owner of a group grants within it only; a workload identity cannot create role assignments; tokens
// for another audience, expired or forged are refused with ARM's codes; and nothing refused is written.

import assert from "node:assert/strict";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { before, describe, test } from "node:test";
import { SignJWT } from "jose";
import { BUILT_IN_ROLE_GUIDS } from "../../src/identity/directory/built-in-roles.ts";
import { ADMIN_CLIENT_ID, assertArmError, startManagement } from "./management-fixture.ts";

const IDENTITIES = "providers/Microsoft.ManagedIdentity/userAssignedIdentities";
const VAULTS = "providers/Microsoft.KeyVault/vaults";
const ASSIGNMENTS = "providers/Microsoft.Authorization/roleAssignments";

describe("management API: access tokens and RBAC", () => {
  let management: Awaited<ReturnType<typeof startManagement>>;
  const principals: Record<string, { clientId: string; principalId: string; token: string }> = {};
  let group: string;
  let vault: string;

  const assignment = (scope: string, role: string, principalId: string) =>
    management.call("PUT", `${scope}/${ASSIGNMENTS}/${randomUUID()}`, {
      properties: {
        roleDefinitionId: `/subscriptions/${management.sub}/providers/Microsoft.Authorization/roleDefinitions/${role}`,
        principalId,
      },
    });

  before(async () => {
    management = await startManagement();
    group = management.groupPath("rg1");
    await management.call("PUT", group, { location: "local" });
    vault = `${group}/${VAULTS}/kv-rbac`;
    await management.call("PUT", vault, {});
    for (const name of ["reader", "contributor", "owner", "access-admin", "workload", "nobody", "outsider"]) {
      const identity = (await management.call("PUT", `${group}/${IDENTITIES}/${name}`, {})).json();
      const ids = { clientId: identity.properties.clientId, principalId: identity.properties.principalId };
      principals[name] = { ...ids, token: await management.accessToken(ids) };
    }
    const roles = BUILT_IN_ROLE_GUIDS;
    const sub = management.subPath;
    for (const [name, scope, role] of [
      ["reader", sub, roles.reader],
      ["contributor", sub, roles.contributor],
      ["owner", group, roles.owner],
      ["access-admin", sub, roles.userAccessAdministrator],
      ["workload", vault, roles.keyVaultSecretsUser],
    ] as const) {
      assert.equal((await assignment(scope, role, principals[name]?.principalId ?? "")).statusCode, 201);
    }
  });

  const as = (name: string) => principals[name]?.token ?? "";

  test("every route the management plane mounts answers 401 without a credential", async () => {
    // Each parameter filled with a value of its kind; a wildcard with a resource path.
    const sample = (url: string) =>
      url
        .replace(/:subscription\b/g, management.sub)
        .replace(/:[A-Za-z]+/g, "x1")
        .replace(/\*$/, `${management.sub}/resourceGroups/rg`);
    assert.ok(management.routes.length > 40, `only ${management.routes.length} routes were seen`);
    for (const { method, url } of management.routes) {
      const response = await management.app.inject({
        method: method as "GET",
        url: `${sample(url)}?api-version=2023-01-31`,
        ...(["PUT", "POST", "PATCH"].includes(method) ? { payload: {} } : {}),
      });
      const graph = url.startsWith("/v1.0/");
      assert.equal(response.statusCode, 401, `${method} ${url}: ${response.body}`);
      assert.equal(
        response.json().error.code,
        graph ? "InvalidAuthenticationToken" : "AuthenticationFailed",
        `${method} ${url}`,
      );
    }
  });

  test("the admin principal's tokens count as the admin credential, for ARM and Graph, without a role", async () => {
    const admin = { clientId: ADMIN_CLIENT_ID, principalId: randomUUID() };
    const arm = await management.accessToken(admin);
    assert.equal((await management.callAs(arm, "GET", "/wikit/signIns")).statusCode, 200);
    assert.equal(
      (await management.callAs(arm, "PUT", `${management.subPath}/resourceGroups/made-by-admin`, {}))
        .statusCode,
      201,
    );
    const graph = await management.accessToken(admin, "https://graph.microsoft.com");
    assert.equal(
      (await management.callAs(graph, "POST", "/v1.0/applications", { displayName: "by-admin" })).statusCode,
      201,
    );
    // Another client with the same object ID is no admin.
    const other = await management.accessToken({ clientId: randomUUID(), principalId: admin.principalId });
    assert.equal((await management.callAs(other, "GET", "/wikit/signIns")).statusCode, 403);
  });

  test("a Reader reads and cannot write; what is refused is not written", async () => {
    assert.equal((await management.callAs(as("reader"), "GET", group)).statusCode, 200);
    const denied = assertArmError(
      await management.callAs(as("reader"), "PUT", `${group}/${IDENTITIES}/made-by-reader`, {}),
      403,
      "AuthorizationFailed",
    );
    assert.equal(
      denied.message,
      `The client '${principals.reader?.clientId}' with object id '${principals.reader?.principalId}' does not have authorization to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/write' over scope '${group}/${IDENTITIES}/made-by-reader' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    );
    assertArmError(
      await management.call("GET", `${group}/${IDENTITIES}/made-by-reader`),
      404,
      "ResourceNotFound",
    );
  });

  test("a Contributor manages resources but cannot grant access", async () => {
    assert.equal(
      (await management.callAs(as("contributor"), "PUT", `${group}/${IDENTITIES}/made-by-contributor`, {}))
        .statusCode,
      201,
    );
    const grant = await management.callAs(
      as("contributor"),
      "PUT",
      `${vault}/${ASSIGNMENTS}/${randomUUID()}`,
      {
        properties: {
          roleDefinitionId: BUILT_IN_ROLE_GUIDS.keyVaultSecretsUser,
          principalId: principals.nobody?.principalId,
        },
      },
    );
    assert.match(
      assertArmError(grant, 403, "AuthorizationFailed").message,
      /'Microsoft\.Authorization\/roleAssignments\/write'/,
    );
  });

  test("an Owner of a group grants access within it, not above it", async () => {
    const body = {
      properties: {
        roleDefinitionId: BUILT_IN_ROLE_GUIDS.reader,
        principalId: principals.nobody?.principalId,
      },
    };
    assert.equal(
      (await management.callAs(as("owner"), "PUT", `${group}/${ASSIGNMENTS}/${randomUUID()}`, body))
        .statusCode,
      201,
    );
    assertArmError(
      await management.callAs(
        as("owner"),
        "PUT",
        `${management.subPath}/${ASSIGNMENTS}/${randomUUID()}`,
        body,
      ),
      403,
      "AuthorizationFailed",
    );
  });

  test("a User Access Administrator grants access and reads, and cannot create resources", async () => {
    const body = {
      properties: {
        roleDefinitionId: BUILT_IN_ROLE_GUIDS.reader,
        principalId: principals.nobody?.principalId,
      },
    };
    assert.equal(
      (await management.callAs(as("access-admin"), "PUT", `${vault}/${ASSIGNMENTS}/${randomUUID()}`, body))
        .statusCode,
      201,
    );
    assert.equal((await management.callAs(as("access-admin"), "GET", group)).statusCode, 200);
    assertArmError(
      await management.callAs(as("access-admin"), "PUT", `${group}/${IDENTITIES}/made-by-uaa`, {}),
      403,
      "AuthorizationFailed",
    );
  });

  test("a workload identity cannot create role assignments, not even on the vault it reads", async () => {
    const body = {
      properties: {
        roleDefinitionId: BUILT_IN_ROLE_GUIDS.owner,
        principalId: principals.workload?.principalId,
      },
    };
    assertArmError(
      await management.callAs(as("workload"), "PUT", `${vault}/${ASSIGNMENTS}/${randomUUID()}`, body),
      403,
      "AuthorizationFailed",
    );
    assertArmError(await management.callAs(as("workload"), "GET", group), 403, "AuthorizationFailed");
  });

  test("GET /subscriptions lists the subscriptions where the caller holds a role, at, above or beneath", async () => {
    const listed = async (name: string) =>
      (await management.callAs(as(name), "GET", "/subscriptions"))
        .json()
        .value.map((entry: { subscriptionId: string }) => entry.subscriptionId);
    assert.deepEqual(await listed("reader"), [management.sub]);
    assert.deepEqual(await listed("workload"), [management.sub], "a role on a vault beneath it");
    assert.deepEqual(await listed("outsider"), [], "no role anywhere");
  });

  test("the admin-only endpoints refuse a principal with 403", async () => {
    assertArmError(await management.callAs(as("owner"), "GET", "/wikit/signIns"), 403, "AuthorizationFailed");
  });

  test("a token for another audience, an expired one and a forged one are refused with ARM's codes", async () => {
    const ids = {
      clientId: principals.owner?.clientId ?? "",
      principalId: principals.owner?.principalId ?? "",
    };
    const vaultToken = await management.accessToken(ids, "https://vault.azure.net");
    const wrong = assertArmError(
      await management.callAs(vaultToken, "GET", group),
      401,
      "InvalidAuthenticationTokenAudience",
    );
    assert.match(wrong.message, /obtained for wrong audience or resource 'https:\/\/vault\.azure\.net'/);
    const expired = await management.accessToken(ids, undefined, 3600, Math.floor(Date.now() / 1000) - 7200);
    assertArmError(await management.callAs(expired, "GET", group), 401, "ExpiredAuthenticationToken");
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const forged = await new SignJWT({ oid: ids.principalId, tid: management.tenant, appid: ids.clientId })
      .setProtectedHeader({ alg: "RS256", kid: "forged" })
      .setIssuer(`https://sts.windows.net/${management.tenant}/`)
      .setAudience("https://management.core.windows.net/")
      .setExpirationTime("1h")
      .sign(privateKey);
    assertArmError(await management.callAs(forged, "GET", group), 401, "InvalidAuthenticationToken");
  });

  test("the admin credential still does everything", async () => {
    assert.equal((await management.call("GET", "/wikit/signIns")).statusCode, 200);
    assert.equal(
      (
        await management.call("PUT", `${management.subPath}/${ASSIGNMENTS}/${randomUUID()}`, {
          properties: {
            roleDefinitionId: BUILT_IN_ROLE_GUIDS.reader,
            principalId: principals.nobody?.principalId,
          },
        })
      ).statusCode,
      201,
    );
  });
});
