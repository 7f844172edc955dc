import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { BUILT_IN_ROLE_GUIDS } from "../../src/identity/directory/built-in-roles.ts";
import { API, assertArmError, startManagement, vaultUri } from "./management-fixture.ts";

const IDENTITIES = "providers/Microsoft.ManagedIdentity/userAssignedIdentities";
const VAULTS = "providers/Microsoft.KeyVault/vaults";
const ASSIGNMENTS = "providers/Microsoft.Authorization/roleAssignments";
const DEFINITIONS = "providers/Microsoft.Authorization/roleDefinitions";
const SECRETS_USER = BUILT_IN_ROLE_GUIDS.keyVaultSecretsUser;
const ISSUER = "https://oidc.example.test/cluster-1/";

/** A management API with a resource group `Apps`, an identity `workload` and a vault `kv1` in it. */
async function startWithResources() {
  const context = await startManagement();
  const { call, groupPath } = context;
  assert.equal((await call("PUT", groupPath("Apps"), {})).statusCode, 201);
  const identity = (await call("PUT", `${groupPath("Apps")}/${IDENTITIES}/workload`, {})).json();
  const vault = (await call("PUT", `${groupPath("Apps")}/${VAULTS}/kv1`, {})).json();
  return {
    ...context,
    identityPath: `${groupPath("Apps")}/${IDENTITIES}/workload`,
    vaultPath: `${groupPath("Apps")}/${VAULTS}/kv1`,
    principalId: String(identity.properties.principalId),
    clientId: String(identity.properties.clientId),
    vaultId: String(vault.id),
  };
}

describe("ARM routes: request validation", () => {
  test("a request without api-version is a 400 MissingApiVersionParameter", async () => {
    const { call, groupPath, subPath } = await startManagement();
    for (const [method, url] of [
      ["GET", subPath],
      ["PUT", groupPath("Apps")],
      ["DELETE", groupPath("Apps")],
      ["GET", `${subPath}/${DEFINITIONS}`],
      ["PUT", `${subPath}/${ASSIGNMENTS}/${randomUUID()}`],
    ] as const) {
      const response = await call(method, `${url}?other=1`, method === "PUT" ? {} : undefined);
      assertArmError(response, 400, "MissingApiVersionParameter");
    }
  });

  test("a request body that is not a JSON object is a 400 InvalidRequestContent", async () => {
    const { call, groupPath } = await startManagement();
    const response = await call("PUT", groupPath("Apps"), [1, 2]);
    assertArmError(response, 400, "InvalidRequestContent");
  });

  test("a path with no resource type behind it is a 404", async () => {
    const { call, subPath } = await startManagement();
    assertArmError(
      await call("GET", `${subPath}/providers/Microsoft.Nothing/things/x`),
      404,
      "InvalidResourceType",
    );
  });
});

describe("ARM routes: subscriptions and resource groups", () => {
  test("subscriptions are listed and read in ARM's subscription shape", async () => {
    const { call, sub, tenant, subPath } = await startManagement();
    const listed = (await call("GET", "/subscriptions")).json();
    assert.deepEqual(
      listed.value.map((s: { subscriptionId: string }) => s.subscriptionId),
      [sub],
    );
    const one = await call("GET", subPath);
    assert.equal(one.statusCode, 200);
    assert.equal(one.json().id, subPath);
    assert.equal(one.json().tenantId, tenant);
    assert.equal(one.json().state, "Enabled");
    assertArmError(await call("GET", `/subscriptions/${randomUUID()}`), 404, "SubscriptionNotFound");
  });

  test("PUT creates a resource group with 201, then updates it with 200", async () => {
    const { call, groupPath } = await startManagement();
    const created = await call("PUT", groupPath("Apps"), { location: "westeurope", tags: { env: "dev" } });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().id, groupPath("Apps"));
    assert.equal(created.json().location, "westeurope");

    const updated = await call("PUT", groupPath("Apps"), { tags: { env: "prod" } });
    assert.equal(updated.statusCode, 200, updated.body);
    assert.deepEqual(updated.json().tags, { env: "prod" });
    assert.equal(updated.json().location, "westeurope");
  });

  test("GET of a missing resource group is a 404 ResourceGroupNotFound", async () => {
    const { call, groupPath } = await startManagement();
    assertArmError(await call("GET", groupPath("nope")), 404, "ResourceGroupNotFound");
  });

  test("an invalid resource group name is a 400 InvalidResourceGroup", async () => {
    const { call, groupPath } = await startManagement();
    assertArmError(await call("PUT", groupPath("ends-with."), {}), 400, "InvalidResourceGroup");
  });

  test("deleting a resource group in an unknown subscription is a 404 SubscriptionNotFound", async () => {
    const { call } = await startManagement();
    assertArmError(
      await call("DELETE", `/subscriptions/${randomUUID()}/resourceGroups/anything`),
      404,
      "SubscriptionNotFound",
    );
  });

  test("DELETE answers 200 when it deleted the group and 204 when there was nothing to delete", async () => {
    const { call, groupPath } = await startManagement();
    await call("PUT", groupPath("Apps"), {});
    const deleted = await call("DELETE", groupPath("Apps"));
    assert.equal(deleted.statusCode, 200);
    const again = await call("DELETE", groupPath("Apps"));
    assert.equal(again.statusCode, 204);
    assert.equal(again.body, "");
    assertArmError(await call("GET", groupPath("Apps")), 404, "ResourceGroupNotFound");
  });

  test("paths are case-insensitive and responses echo the case the resource was created with", async () => {
    const { call, groupPath, sub } = await startManagement();
    await call("PUT", groupPath("Apps"), {});
    const response = await call("GET", `/SUBSCRIPTIONS/${sub.toUpperCase()}/RESOURCEGROUPS/apps`);
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().name, "Apps");
    assert.equal(response.json().id, groupPath("Apps"));

    const update = await call("PUT", `/subscriptions/${sub}/resourcegroups/APPS`, {});
    assert.equal(update.statusCode, 200);
    assert.equal(update.json().name, "Apps");
    const listed = (await call("GET", `/subscriptions/${sub}/resourceGroups`)).json();
    assert.equal(listed.value.length, 1);
  });

  test("deleting a resource group deletes what is in it", async () => {
    const { call, groupPath, identityPath, vaultPath } = await startWithResources();
    assert.equal((await call("DELETE", groupPath("apps"))).statusCode, 200);
    assertArmError(await call("GET", groupPath("Apps")), 404, "ResourceGroupNotFound");
    await call("PUT", groupPath("Apps"), {});
    assertArmError(await call("GET", identityPath), 404, "ResourceNotFound");
    assertArmError(await call("GET", vaultPath), 404, "ResourceNotFound");
  });
});

describe("ARM routes: user-assigned identities and federated credentials", () => {
  test("PUT creates an identity with 201 and updates it with 200 without changing its IDs", async () => {
    const { call, groupPath, tenant } = await startManagement();
    await call("PUT", groupPath("Apps"), {});
    const path = `${groupPath("Apps")}/${IDENTITIES}/workload`;
    const created = await call("PUT", path, { location: "westeurope" });
    assert.equal(created.statusCode, 201, created.body);
    const { clientId, principalId, tenantId } = created.json().properties;
    assert.equal(tenantId, tenant);

    const updated = await call("PUT", path.toLowerCase(), { tags: { a: "b" } });
    assert.equal(updated.statusCode, 200);
    assert.equal(updated.json().properties.clientId, clientId);
    assert.equal(updated.json().properties.principalId, principalId);
    assert.equal(updated.json().id, path);
  });

  test("GET of a missing identity is a 404 ResourceNotFound; in a missing group a 404 ResourceGroupNotFound", async () => {
    const { call, groupPath } = await startWithResources();
    assertArmError(await call("GET", `${groupPath("Apps")}/${IDENTITIES}/nobody`), 404, "ResourceNotFound");
    assertArmError(
      await call("GET", `${groupPath("Nope")}/${IDENTITIES}/workload`),
      404,
      "ResourceGroupNotFound",
    );
    assertArmError(
      await call("PUT", `${groupPath("Nope")}/${IDENTITIES}/workload`, {}),
      404,
      "ResourceGroupNotFound",
    );
  });

  test("identities are listed per group and per subscription", async () => {
    const { call, groupPath, subPath } = await startWithResources();
    await call("PUT", groupPath("Other"), {});
    await call("PUT", `${groupPath("Other")}/${IDENTITIES}/second`, {});
    const names = async (url: string) =>
      (await call("GET", url)).json().value.map((resource: { name: string }) => resource.name);
    assert.deepEqual(await names(`${groupPath("Apps")}/${IDENTITIES}`), ["workload"]);
    assert.deepEqual((await names(`${subPath}/${IDENTITIES}`)).sort(), ["second", "workload"]);
  });

  test("DELETE of an identity answers 200, then 204", async () => {
    const { call, identityPath } = await startWithResources();
    assert.equal((await call("DELETE", identityPath)).statusCode, 200);
    assert.equal((await call("DELETE", identityPath)).statusCode, 204);
    assertArmError(await call("GET", identityPath), 404, "ResourceNotFound");
  });

  test("a federated credential is created with 201, updated with 200, listed, read and deleted", async () => {
    const { call, identityPath } = await startWithResources();
    const path = `${identityPath}/federatedIdentityCredentials/Kube-FIC`;
    const properties = {
      issuer: ISSUER,
      subject: "system:serviceaccount:apps:web",
      audiences: ["api://AzureADTokenExchange"],
    };

    const created = await call("PUT", path, { properties });
    assert.equal(created.statusCode, 201, created.body);
    assert.deepEqual(created.json().properties, properties);
    const updated = await call("PUT", path.replace("Kube-FIC", "kube-fic"), {
      properties: { ...properties, subject: "system:serviceaccount:apps:api" },
    });
    assert.equal(updated.statusCode, 200, updated.body);
    assert.equal(updated.json().name, "Kube-FIC");

    const listed = (await call("GET", `${identityPath}/federatedIdentityCredentials`)).json();
    assert.deepEqual(
      listed.value.map((c: { name: string; properties: { subject: string } }) => [
        c.name,
        c.properties.subject,
      ]),
      [["Kube-FIC", "system:serviceaccount:apps:api"]],
    );
    assert.equal((await call("GET", path.toUpperCase())).statusCode, 200);

    assert.equal((await call("DELETE", path)).statusCode, 200);
    assert.equal((await call("DELETE", path)).statusCode, 204);
    assertArmError(await call("GET", path), 404, "NotFound");
  });

  test("federated credential rules answer with ARM errors: bad properties 400, issuer+subject twin 409", async () => {
    const { call, identityPath } = await startWithResources();
    const properties = {
      issuer: ISSUER,
      subject: "system:serviceaccount:apps:web",
      audiences: ["api://AzureADTokenExchange"],
    };
    const base = `${identityPath}/federatedIdentityCredentials`;
    assertArmError(
      await call("PUT", `${base}/two-audiences`, { properties: { ...properties, audiences: ["a", "b"] } }),
      400,
      "BadRequest",
    );
    assertArmError(
      await call("PUT", `${base}/padded`, { properties: { ...properties, issuer: ` ${ISSUER}` } }),
      400,
      "BadRequest",
    );
    assert.equal((await call("PUT", `${base}/first`, { properties })).statusCode, 201);
    assertArmError(await call("PUT", `${base}/second`, { properties }), 409, "Conflict");
  });

  test("a flexible credential is written and read back with its claims-matching expression; a malformed one is a 400 naming where", async () => {
    const { call, identityPath } = await startWithResources();
    const base = `${identityPath}/federatedIdentityCredentials`;
    const claimsMatchingExpression = {
      value: "claims['sub'] matches 'system:serviceaccount:apps:*'",
      languageVersion: 1,
    };
    const properties = {
      issuer: ISSUER,
      claimsMatchingExpression,
      audiences: ["api://AzureADTokenExchange"],
    };
    const created = await call("PUT", `${base}/apps-namespace`, { properties });
    assert.equal(created.statusCode, 201, created.body);
    assert.deepEqual((await call("GET", `${base}/apps-namespace`)).json().properties, properties);
    const malformed = assertArmError(
      await call("PUT", `${base}/broken`, {
        properties: {
          ...properties,
          claimsMatchingExpression: { value: "claims['sub'] matches", languageVersion: 1 },
        },
      }),
      400,
      "BadRequest",
    );
    assert.match(
      malformed.message,
      /at character 22: expected a value in quotes, found the end of the expression/,
    );
  });

  test("a federated credential on a missing identity is a 404", async () => {
    const { call, groupPath } = await startWithResources();
    const response = await call(
      "PUT",
      `${groupPath("Apps")}/${IDENTITIES}/nobody/federatedIdentityCredentials/f1`,
      {
        properties: { issuer: ISSUER, subject: "s", audiences: ["a"] },
      },
    );
    assertArmError(response, 404, "ResourceNotFound");
  });
});

describe("ARM routes: vaults", () => {
  test("a vault is created with 201 and presented with its vault URI; re-PUT is 200", async () => {
    const { call, groupPath } = await startManagement();
    await call("PUT", groupPath("Apps"), {});
    const path = `${groupPath("Apps")}/${VAULTS}/My-Vault`;
    const created = await call("PUT", path, {});
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().properties.vaultUri, vaultUri("My-Vault"));
    assert.equal(created.json().properties.enableRbacAuthorization, true);
    assert.equal((await call("PUT", path.toLowerCase(), {})).statusCode, 200);
    const read = await call("GET", path.toUpperCase());
    assert.equal(read.statusCode, 200);
    assert.equal(read.json().name, "My-Vault");
  });

  test("a vault name taken in another group is a 409 VaultAlreadyExists", async () => {
    const { call, groupPath } = await startWithResources();
    await call("PUT", groupPath("Other"), {});
    assertArmError(await call("PUT", `${groupPath("Other")}/${VAULTS}/KV1`, {}), 409, "VaultAlreadyExists");
  });

  test("GET of a missing vault is a 404 ResourceNotFound; DELETE answers 200, then 204", async () => {
    const { call, groupPath, vaultPath } = await startWithResources();
    assertArmError(await call("GET", `${groupPath("Apps")}/${VAULTS}/nope`), 404, "ResourceNotFound");
    assert.equal((await call("DELETE", vaultPath)).statusCode, 200);
    assert.equal((await call("DELETE", vaultPath)).statusCode, 204);
  });

  test("a deleted vault is listed and shown as deleted, recovered by PUT createMode recover, then purged by POST", async () => {
    const { call, vaultPath, subPath } = await startWithResources();
    await call("DELETE", vaultPath);
    const listed = await call("GET", `${subPath}/providers/Microsoft.KeyVault/deletedVaults`);
    assert.equal(listed.statusCode, 200, listed.body);
    const [deleted] = listed.json().value as {
      id: string;
      name: string;
      type: string;
      properties: Record<string, unknown>;
    }[];
    assert.equal(deleted?.type, "Microsoft.KeyVault/deletedVaults");
    assert.equal(
      deleted?.id,
      `${subPath}/providers/Microsoft.KeyVault/locations/local/deletedVaults/${deleted?.name}`,
    );
    assert.equal(
      (await call("GET", deleted?.id ?? "")).json().properties.vaultId.toLowerCase(),
      vaultPath.toLowerCase(),
    );
    assertArmError(await call("PUT", vaultPath, {}), 409, "ConflictError");
    assert.equal((await call("PUT", vaultPath, { properties: { createMode: "recover" } })).statusCode, 201);
    assert.equal((await call("GET", vaultPath)).statusCode, 200);

    await call("DELETE", vaultPath);
    assert.equal((await call("POST", `${deleted?.id}/purge`)).statusCode, 200);
    assertArmError(await call("GET", deleted?.id ?? ""), 404, "ResourceNotFound");
    assert.equal((await call("PUT", vaultPath, {})).statusCode, 201);
  });
});

describe("ARM routes: App Configuration stores", () => {
  const STORES = "providers/Microsoft.AppConfiguration/configurationStores";

  test("a store is created with 201 and its SKU, re-PUT is 200, and it is listed per group and subscription", async () => {
    const { call, groupPath, subPath } = await startManagement();
    await call("PUT", groupPath("Apps"), {});
    const path = `${groupPath("Apps")}/${STORES}/Settings-1`;
    const created = await call("PUT", path, { location: "westeurope", sku: { name: "Standard" } });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().type, "Microsoft.AppConfiguration/configurationStores");
    assert.deepEqual(created.json().sku, { name: "standard" });
    assert.equal(created.json().properties.provisioningState, "Succeeded");
    assert.equal((await call("PUT", path.toLowerCase(), { tags: { env: "dev" } })).statusCode, 200);
    assert.deepEqual((await call("GET", path)).json().tags, { env: "dev" });
    for (const list of [`${groupPath("Apps")}/${STORES}`, `${subPath}/${STORES}`]) {
      assert.deepEqual(
        (await call("GET", list)).json().value.map((store: { name: string }) => store.name),
        ["Settings-1"],
      );
    }
  });

  test("names are checked and global; a bad SKU is a 400", async () => {
    const { call, groupPath } = await startManagement();
    await call("PUT", groupPath("Apps"), {});
    await call("PUT", groupPath("Other"), {});
    assertArmError(await call("PUT", `${groupPath("Apps")}/${STORES}/abc`, {}), 400, "InvalidResourceName");
    assertArmError(
      await call("PUT", `${groupPath("Apps")}/${STORES}/under_score`, {}),
      400,
      "InvalidResourceName",
    );
    assert.equal((await call("PUT", `${groupPath("Apps")}/${STORES}/settings`, {})).statusCode, 201);
    assertArmError(await call("PUT", `${groupPath("Other")}/${STORES}/SETTINGS`, {}), 409, "NameUnavailable");
    assertArmError(
      await call("PUT", `${groupPath("Apps")}/${STORES}/settings2`, { sku: { name: "gold" } }),
      400,
      "InvalidRequestContent",
    );
  });

  test("listKeys shows four keys with connection strings; regenerateKey replaces one key's ID and secret", async () => {
    const { call, groupPath } = await startManagement();
    await call("PUT", groupPath("Apps"), {});
    const path = `${groupPath("Apps")}/${STORES}/settings`;
    await call("PUT", path, {});
    const keys = (await call("POST", `${path}/listKeys`)).json().value;
    assert.deepEqual(
      keys.map((key: { name: string; readOnly: boolean }) => [key.name, key.readOnly]),
      [
        ["Primary", false],
        ["Secondary", false],
        ["Primary Read Only", true],
        ["Secondary Read Only", true],
      ],
    );
    assert.equal(
      keys[0].connectionString,
      `Endpoint=https://settings.azconfig.localhost:8443;Id=${keys[0].id};Secret=${keys[0].value}`,
    );
    const regenerated = await call("POST", `${path}/regenerateKey`, { id: keys[2].id });
    assert.equal(regenerated.statusCode, 200, regenerated.body);
    assert.equal(regenerated.json().name, "Primary Read Only");
    assert.notEqual(regenerated.json().id, keys[2].id);
    assert.notEqual(regenerated.json().value, keys[2].value);
    const after = (await call("POST", `${path}/listKeys`)).json().value;
    assert.deepEqual(after[0], keys[0]);
    assert.deepEqual(after[2], regenerated.json());
    assertArmError(await call("POST", `${path}/regenerateKey`, { id: "nope" }), 404, "KeyNotFound");
    assertArmError(await call("POST", `${path}/regenerateKey`, {}), 400, "InvalidRequestContent");
  });

  test("deleting a store, or its group, erases its key-values and keys", async () => {
    const { call, groupPath, store } = await startManagement();
    await call("PUT", groupPath("Apps"), {});
    for (const name of ["settings-a", "settings-b"]) {
      const path = `${groupPath("Apps")}/${STORES}/${name}`;
      const id = (await call("PUT", path, {})).json().id;
      await store.changeKeyValue(id, "k", null, () => ({
        put: {
          key: "k",
          label: null,
          value: "v",
          contentType: null,
          tags: {},
          locked: false,
          etag: "e",
          lastModified: 1,
        },
      }));
    }
    const idOf = (name: string) => `${groupPath("Apps")}/${STORES}/${name}`;
    assert.equal((await call("DELETE", idOf("settings-a"))).statusCode, 200);
    assert.equal((await call("DELETE", idOf("settings-a"))).statusCode, 204);
    assert.deepEqual(await store.listKeyValues(idOf("settings-a")), []);
    assert.equal(await store.getSecretVersion(idOf("settings-a"), "access-keys"), undefined);
    assert.equal((await store.listKeyValues(idOf("settings-b"))).length, 1);
    assert.equal((await call("DELETE", groupPath("Apps"))).statusCode, 200);
    assert.deepEqual(await store.listKeyValues(idOf("settings-b")), []);
    assert.equal(await store.getSecretVersion(idOf("settings-b"), "access-keys"), undefined);
  });
});

describe("ARM routes: role assignments", () => {
  const assignmentBody = (principalId: string, roleDefinitionId: string = SECRETS_USER) => ({
    properties: { roleDefinitionId, principalId },
  });

  test("PUT creates an assignment at a vault scope with 201; re-PUT is 200; GET reads it back", async () => {
    const { call, vaultPath, principalId, sub } = await startWithResources();
    const name = randomUUID();
    const path = `${vaultPath}/${ASSIGNMENTS}/${name}`;
    const created = await call("PUT", path, assignmentBody(principalId));
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().id, path);
    assert.equal(created.json().name, name);
    assert.equal(created.json().type, "Microsoft.Authorization/roleAssignments");
    assert.equal(
      created.json().properties.roleDefinitionId,
      `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${SECRETS_USER}`,
    );
    assert.equal(created.json().properties.principalId, principalId);
    assert.equal(created.json().properties.scope, vaultPath);

    assert.equal((await call("PUT", path, assignmentBody(principalId))).statusCode, 200);
    const read = await call("GET", path.toLowerCase());
    assert.equal(read.statusCode, 200, read.body);
    assert.equal(read.json().id, path);
  });

  test("DELETE answers 200 with the assignment, then 204; a deleted assignment is a 404", async () => {
    const { call, vaultPath, principalId } = await startWithResources();
    const path = `${vaultPath}/${ASSIGNMENTS}/${randomUUID()}`;
    await call("PUT", path, assignmentBody(principalId));
    const deleted = await call("DELETE", path);
    assert.equal(deleted.statusCode, 200);
    assert.equal(deleted.json().id, path);
    assert.equal((await call("DELETE", path)).statusCode, 204);
    assertArmError(await call("GET", path), 404, "ResourceNotFound");
  });

  test("a duplicate assignment under another name is a 409 RoleAssignmentExists", async () => {
    const { call, vaultPath, principalId } = await startWithResources();
    await call("PUT", `${vaultPath}/${ASSIGNMENTS}/${randomUUID()}`, assignmentBody(principalId));
    assertArmError(
      await call("PUT", `${vaultPath}/${ASSIGNMENTS}/${randomUUID()}`, assignmentBody(principalId)),
      409,
      "RoleAssignmentExists",
    );
  });

  test("unknown principal, unknown role, non-GUID name and missing scope are refused", async () => {
    const { call, vaultPath, principalId, groupPath } = await startWithResources();
    assertArmError(
      await call("PUT", `${vaultPath}/${ASSIGNMENTS}/${randomUUID()}`, assignmentBody(randomUUID())),
      400,
      "PrincipalNotFound",
    );
    assertArmError(
      await call(
        "PUT",
        `${vaultPath}/${ASSIGNMENTS}/${randomUUID()}`,
        assignmentBody(principalId, randomUUID()),
      ),
      400,
      "RoleDefinitionDoesNotExist",
    );
    assertArmError(
      await call("PUT", `${vaultPath}/${ASSIGNMENTS}/not-a-guid`, assignmentBody(principalId)),
      400,
      "InvalidRoleAssignmentId",
    );
    assertArmError(
      await call(
        "PUT",
        `${groupPath("Apps")}/${VAULTS}/nope/${ASSIGNMENTS}/${randomUUID()}`,
        assignmentBody(principalId),
      ),
      404,
      "ResourceNotFound",
    );
  });

  test("a secret-level scope under an existing vault is accepted", async () => {
    const { call, vaultPath, principalId } = await startWithResources();
    const path = `${vaultPath}/secrets/db-password/${ASSIGNMENTS}/${randomUUID()}`;
    const created = await call("PUT", path, assignmentBody(principalId));
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().properties.scope, `${vaultPath}/secrets/db-password`);
  });

  test("assignments are listed at a scope, and for a principal with $filter=principalId eq '…'", async () => {
    const { call, vaultPath, principalId, subPath, groupPath, identityPath } = await startWithResources();
    const other = (await call("PUT", `${identityPath}2`, {})).json().properties.principalId as string;
    const mine = `${vaultPath}/${ASSIGNMENTS}/${randomUUID()}`;
    const theirs = `${groupPath("Apps")}/${ASSIGNMENTS}/${randomUUID()}`;
    await call("PUT", mine, assignmentBody(principalId));
    await call("PUT", theirs, assignmentBody(other, BUILT_IN_ROLE_GUIDS.reader));

    const ids = async (url: string) =>
      ((await call("GET", url)).json().value as { id: string }[]).map((assignment) => assignment.id).sort();
    assert.deepEqual(await ids(`${vaultPath}/${ASSIGNMENTS}?${API}`), [mine]);
    assert.deepEqual(await ids(`${groupPath("Apps")}/${ASSIGNMENTS}?${API}`), [mine, theirs].sort());

    const filter = encodeURIComponent(`principalId eq '${principalId}'`);
    assert.deepEqual(await ids(`${subPath}/${ASSIGNMENTS}?${API}&$filter=${filter}`), [mine]);
    const otherFilter = encodeURIComponent(`principalId eq '${other}'`);
    assert.deepEqual(await ids(`${subPath}/${ASSIGNMENTS}?${API}&$filter=${otherFilter}`), [theirs]);
    const nobody = encodeURIComponent(`principalId eq '${randomUUID()}'`);
    assert.deepEqual(await ids(`${subPath}/${ASSIGNMENTS}?${API}&$filter=${nobody}`), []);
  });

  test("a principal filter keeps to the scope: assignments above and below it, not beside it", async () => {
    const { call, vaultPath, principalId, subPath, groupPath } = await startWithResources();
    await call("PUT", `${groupPath("Other")}`, {});
    const atVault = `${vaultPath}/${ASSIGNMENTS}/${randomUUID()}`;
    const atSubscription = `${subPath}/${ASSIGNMENTS}/${randomUUID()}`;
    const beside = `${groupPath("Other")}/${ASSIGNMENTS}/${randomUUID()}`;
    await call("PUT", atVault, assignmentBody(principalId));
    await call("PUT", atSubscription, assignmentBody(principalId, BUILT_IN_ROLE_GUIDS.reader));
    await call("PUT", beside, assignmentBody(principalId, BUILT_IN_ROLE_GUIDS.keyVaultReader));
    const filter = encodeURIComponent(`principalId eq '${principalId}'`);
    const listed = (await call("GET", `${vaultPath}/${ASSIGNMENTS}?${API}&$filter=${filter}`)).json()
      .value as {
      id: string;
    }[];
    assert.deepEqual(listed.map((assignment) => assignment.id).sort(), [atSubscription, atVault].sort());
  });

  test("re-PUT of an assignment with another principal or role is a 409 RoleAssignmentUpdateNotPermitted", async () => {
    const { call, vaultPath, principalId, identityPath } = await startWithResources();
    const other = (await call("PUT", `${identityPath}2`, {})).json().properties.principalId as string;
    const path = `${vaultPath}/${ASSIGNMENTS}/${randomUUID()}`;
    await call("PUT", path, assignmentBody(principalId));
    assertArmError(await call("PUT", path, assignmentBody(other)), 409, "RoleAssignmentUpdateNotPermitted");
    assertArmError(
      await call("PUT", path, assignmentBody(principalId, BUILT_IN_ROLE_GUIDS.keyVaultReader)),
      409,
      "RoleAssignmentUpdateNotPermitted",
    );
  });
});

describe("ARM routes: role definitions", () => {
  test("$filter=roleName eq 'Key Vault Secrets User' finds exactly that built-in role", async () => {
    const { call, subPath, sub } = await startManagement();
    const filter = encodeURIComponent("roleName eq 'Key Vault Secrets User'");
    const response = await call("GET", `${subPath}/${DEFINITIONS}?${API}&$filter=${filter}`);
    assert.equal(response.statusCode, 200, response.body);
    const { value } = response.json();
    assert.equal(value.length, 1);
    assert.equal(value[0].name, SECRETS_USER);
    assert.equal(
      value[0].id,
      `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${SECRETS_USER}`,
    );
    assert.equal(value[0].type, "Microsoft.Authorization/roleDefinitions");
    assert.equal(value[0].properties.roleName, "Key Vault Secrets User");
    assert.equal(value[0].properties.type, "BuiltInRole");
    assert.deepEqual(value[0].properties.permissions[0].dataActions, [
      "Microsoft.KeyVault/vaults/secrets/getSecret/action",
      "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
    ]);
  });

  test("a roleName filter naming no role gives an empty list; no filter gives every built-in role", async () => {
    const { call, subPath } = await startManagement();
    const none = encodeURIComponent("roleName eq 'Vault Emperor'");
    assert.deepEqual(
      (await call("GET", `${subPath}/${DEFINITIONS}?${API}&$filter=${none}`)).json().value,
      [],
    );
    const all = (await call("GET", `${subPath}/${DEFINITIONS}`)).json().value as { name: string }[];
    assert.ok(all.some((role) => role.name === SECRETS_USER));
    assert.ok(all.some((role) => role.name === BUILT_IN_ROLE_GUIDS.reader));
    const tenantLevel = (await call("GET", `/${DEFINITIONS}`)).json().value as { id: string }[];
    assert.equal(tenantLevel.length, all.length);
    assert.ok(
      tenantLevel.every((role) => role.id.startsWith("/providers/Microsoft.Authorization/roleDefinitions/")),
    );
  });

  test("a role definition is read by GUID; an unknown one is a 404; built-in roles cannot be written", async () => {
    const { call, subPath } = await startManagement();
    const read = await call("GET", `${subPath}/${DEFINITIONS}/${SECRETS_USER.toUpperCase()}`);
    assert.equal(read.statusCode, 200, read.body);
    assert.equal(read.json().properties.roleName, "Key Vault Secrets User");
    assertArmError(
      await call("GET", `${subPath}/${DEFINITIONS}/${randomUUID()}`),
      404,
      "RoleDefinitionDoesNotExist",
    );
    assertArmError(
      await call("PUT", `${subPath}/${DEFINITIONS}/${SECRETS_USER}`, {}),
      400,
      "OperationNotAllowed",
    );
  });
});
