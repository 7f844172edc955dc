import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { BUILT_IN_ROLE_GUIDS } from "../../../src/identity/directory/built-in-roles.ts";
import { Directory } from "../../../src/identity/directory/directory.ts";
import { DirectoryError } from "../../../src/identity/directory/directory-error.ts";
import { RESOURCE_TYPES } from "../../../src/names/arm-resource-ids.ts";
import { deletedSecretsBinId } from "../../../src/resources/vault/deleted-secrets.ts";
import { SqliteStore } from "../../../src/store/sqlite-store.ts";

const ISSUER = "https://oidc.example.test/cluster-1/";
const AUDIENCE = "api://AzureADTokenExchange";
const SECRETS_USER = BUILT_IN_ROLE_GUIDS.keyVaultSecretsUser;

async function setup() {
  const store = new SqliteStore(":memory:");
  const directory = new Directory(store);
  const { tenant, subscription } = await directory.ensureDefaults();
  const sub = subscription.subscriptionId;
  await directory.putResourceGroup(sub, "Apps", {});
  const identity = await directory.putIdentity(sub, "Apps", "workload", {});
  const principalId = String(identity.properties.principalId);
  const clientId = String(identity.properties.clientId);
  const groupId = `/subscriptions/${sub}/resourceGroups/Apps`;
  return { store, directory, tenant: tenant.tenantId, sub, identity, principalId, clientId, groupId };
}

/** Adds a second subscription in another tenant, as a cross-tenant setup has. */
async function addForeignSubscription(store: SqliteStore) {
  const tenant = randomUUID();
  const sub = randomUUID();
  await store.putResource({
    id: `/tenants/${tenant}`,
    name: tenant,
    type: RESOURCE_TYPES.tenant,
    properties: { tenantId: tenant, displayName: "other", defaultDomain: "other.localhost" },
  });
  await store.putResource({
    id: `/subscriptions/${sub}`,
    name: sub,
    type: RESOURCE_TYPES.subscription,
    properties: { subscriptionId: sub, tenantId: tenant, displayName: "other", state: "Enabled" },
  });
  return { tenant, sub };
}

async function assertRejects(promise: Promise<unknown>, status: number, code: string, message?: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof DirectoryError, `expected a DirectoryError, got ${String(error)}`);
    assert.equal(error.status, status, error.message);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

const fic = (subject: string, issuer = ISSUER) => ({
  properties: { issuer, subject, audiences: [AUDIENCE] },
});

describe("directory: tenants, subscriptions, resource groups", () => {
  test("the default tenant and subscription are made once and found again on the next start", async () => {
    const store = new SqliteStore(":memory:");
    const first = await new Directory(store).ensureDefaults();
    const second = await new Directory(store).ensureDefaults();
    assert.deepEqual(second, first);
    assert.equal(first.subscription.tenantId, first.tenant.tenantId);
    assert.equal(first.subscription.state, "Enabled");
  });

  test("a tenant is found by GUID (any case) or by its domain name (any case)", async () => {
    const { directory, tenant } = await setup();
    assert.equal((await directory.findTenant(tenant.toUpperCase()))?.tenantId, tenant);
    assert.equal((await directory.findTenant("WIKIT.localhost"))?.tenantId, tenant);
    assert.equal(await directory.findTenant(randomUUID()), undefined);
    assert.equal(await directory.findTenant("nowhere.localhost"), undefined);
  });

  test("an unknown subscription is a 404 SubscriptionNotFound", async () => {
    const { directory } = await setup();
    await assertRejects(directory.putResourceGroup(randomUUID(), "rg", {}), 404, "SubscriptionNotFound");
  });

  test("an invalid resource group name is a 400 InvalidResourceGroup", async () => {
    const { directory, sub } = await setup();
    await assertRejects(directory.putResourceGroup(sub, "bad name", {}), 400, "InvalidResourceGroup");
  });

  test("a resource group is found under any case and keeps the case it was created with", async () => {
    const { directory, sub } = await setup();
    await directory.putResourceGroup(sub, "APPS", { tags: { env: "dev" } });
    const group = await directory.getResourceGroup(sub, "apps");
    assert.equal(group.name, "Apps");
    assert.equal(group.id, `/subscriptions/${sub}/resourceGroups/Apps`);
    assert.deepEqual(group.tags, { env: "dev" });
    assert.equal((await directory.listResourceGroups(sub)).length, 1);
  });

  test("a missing resource group is a 404 ResourceGroupNotFound", async () => {
    const { directory, sub } = await setup();
    await assertRejects(directory.getResourceGroup(sub, "nope"), 404, "ResourceGroupNotFound");
    await assertRejects(directory.putIdentity(sub, "nope", "id1", {}), 404, "ResourceGroupNotFound");
    await assertRejects(directory.putVault(sub, "nope", "kv1", {}), 404, "ResourceGroupNotFound");
  });

  test("tags must be strings", async () => {
    const { directory, sub } = await setup();
    await assertRejects(
      directory.putResourceGroup(sub, "rg", { tags: { n: 1 } }),
      400,
      "InvalidRequestContent",
    );
    await assertRejects(directory.putResourceGroup(sub, "rg", { tags: ["a"] }), 400, "InvalidRequestContent");
  });
});

describe("directory: managed identities", () => {
  test("a new identity gets GUID client and principal IDs and the subscription's tenant", async () => {
    const { identity, tenant, clientId, principalId } = await setup();
    assert.match(clientId, /^[0-9a-f-]{36}$/);
    assert.match(principalId, /^[0-9a-f-]{36}$/);
    assert.notEqual(clientId, principalId);
    assert.equal(identity.properties.tenantId, tenant);
    assert.equal(identity.type, RESOURCE_TYPES.userAssignedIdentity);
  });

  test("updating an identity keeps its client and principal IDs (the SA annotation and role assignments stay valid)", async () => {
    const { directory, sub, clientId, principalId, identity } = await setup();
    const updated = await directory.putIdentity(sub, "apps", "WORKLOAD", { tags: { team: "a" } });
    assert.equal(updated.properties.clientId, clientId);
    assert.equal(updated.properties.principalId, principalId);
    assert.equal(updated.id, identity.id);
    assert.deepEqual(updated.tags, { team: "a" });
  });

  test("an invalid identity name is a 400 InvalidResourceName", async () => {
    const { directory, sub } = await setup();
    await assertRejects(directory.putIdentity(sub, "Apps", "x", {}), 400, "InvalidResourceName");
  });

  test("a missing identity is a 404 ResourceNotFound", async () => {
    const { directory, sub } = await setup();
    await assertRejects(directory.getIdentity(sub, "Apps", "nobody"), 404, "ResourceNotFound");
  });

  test("another type's resource at an identity's ID is not an identity", async () => {
    const { directory, identity } = await setup();
    await assertRejects(
      directory.getResource(identity.id, RESOURCE_TYPES.vault, "vault"),
      404,
      "ResourceNotFound",
    );
  });

  test("deleting an identity removes its federated credentials", async () => {
    const { directory, sub, identity } = await setup();
    await directory.putFederatedCredential(identity.id, "fic1", fic("system:serviceaccount:a:b"));
    assert.equal(await directory.deleteIdentity(sub, "Apps", "workload"), true);
    assert.deepEqual(await directory.listFederatedCredentials(identity.id), []);
    assert.equal(await directory.deleteIdentity(sub, "Apps", "workload"), false);
  });
});

describe("directory: federated identity credentials", () => {
  test("a credential is stored under its identity with its properties", async () => {
    const { directory, identity } = await setup();
    const credential = await directory.putFederatedCredential(
      identity.id,
      "fic1",
      fic("system:serviceaccount:a:b"),
    );
    assert.equal(credential.id, `${identity.id}/federatedIdentityCredentials/fic1`);
    assert.equal(credential.type, RESOURCE_TYPES.federatedCredential);
    assert.deepEqual(credential.properties, {
      issuer: ISSUER,
      subject: "system:serviceaccount:a:b",
      audiences: [AUDIENCE],
    });
  });

  test("a credential on an unknown identity is a 404", async () => {
    const { directory, identity } = await setup();
    await assertRejects(
      directory.putFederatedCredential(`${identity.id}x`, "fic1", fic("s")),
      404,
      "ResourceNotFound",
    );
  });

  test("invalid properties are a 400 before anything is stored", async () => {
    const { directory, identity } = await setup();
    await assertRejects(
      directory.putFederatedCredential(identity.id, "fic1", fic("s", "http://insecure.example.test/")),
      400,
      "BadRequest",
      /https/,
    );
    await assertRejects(directory.putFederatedCredential(identity.id, "x", fic("s")), 400, "BadRequest");
    assert.deepEqual(await directory.listFederatedCredentials(identity.id), []);
  });

  test("an identity holds at most 20 credentials; updating one of the 20 in place still works", async () => {
    const { directory, identity } = await setup();
    for (let index = 0; index < 20; index++) {
      await directory.putFederatedCredential(
        identity.id,
        `fic-${index}`,
        fic(`system:serviceaccount:a:sa-${index}`),
      );
    }
    await assertRejects(
      directory.putFederatedCredential(identity.id, "fic-20", fic("system:serviceaccount:a:sa-20")),
      400,
      "BadRequest",
      /20/,
    );
    const updated = await directory.putFederatedCredential(
      identity.id,
      "FIC-7",
      fic("system:serviceaccount:a:moved"),
    );
    assert.equal(updated.name, "fic-7");
    assert.equal(updated.properties.subject, "system:serviceaccount:a:moved");
    assert.equal((await directory.listFederatedCredentials(identity.id)).length, 20);
  });

  test("credentials of identity 'workload' do not count for 'workload2': IDs match on segment boundaries", async () => {
    const { directory, sub, identity } = await setup();
    for (let index = 0; index < 20; index++) {
      await directory.putFederatedCredential(
        identity.id,
        `fic-${index}`,
        fic(`system:serviceaccount:a:sa-${index}`),
      );
    }
    const other = await directory.putIdentity(sub, "Apps", "workload2", {});
    await directory.putFederatedCredential(other.id, "fic-0", fic("system:serviceaccount:a:sa-0"));
    assert.equal((await directory.listFederatedCredentials(other.id)).length, 1);
  });

  test("issuer + subject must be unique on an identity: a twin is a 409 and is not stored", async () => {
    const { directory, identity } = await setup();
    await directory.putFederatedCredential(identity.id, "fic1", fic("system:serviceaccount:a:b"));
    await assertRejects(
      directory.putFederatedCredential(identity.id, "fic2", fic("system:serviceaccount:a:b")),
      409,
      "Conflict",
      /must be unique/,
    );
    assert.equal((await directory.listFederatedCredentials(identity.id)).length, 1);
  });

  test("the same issuer + subject on two identities is allowed", async () => {
    const { directory, sub, identity } = await setup();
    const other = await directory.putIdentity(sub, "Apps", "other", {});
    await directory.putFederatedCredential(identity.id, "fic1", fic("system:serviceaccount:a:b"));
    await directory.putFederatedCredential(other.id, "fic1", fic("system:serviceaccount:a:b"));
    assert.equal((await directory.listFederatedCredentials(other.id)).length, 1);
  });
});

describe("directory: findFederatedPrincipal", () => {
  test("finds the identity by client ID, in any case, with its credentials", async () => {
    const { directory, identity, tenant, clientId, principalId } = await setup();
    await directory.putFederatedCredential(identity.id, "fic1", fic("system:serviceaccount:a:b"));

    const principal = await directory.findFederatedPrincipal(tenant, clientId.toUpperCase());
    assert.deepEqual(principal, {
      clientId,
      principalId,
      tenantId: tenant,
      displayName: "workload",
      resourceId: identity.id,
      credentials: [
        { name: "fic1", issuer: ISSUER, subject: "system:serviceaccount:a:b", audiences: [AUDIENCE] },
      ],
    });
  });

  test("an identity is never found through another tenant", async () => {
    const { directory, store, tenant, clientId } = await setup();
    const foreign = await addForeignSubscription(store);
    assert.equal(await directory.findFederatedPrincipal(foreign.tenant, clientId), undefined);

    await directory.putResourceGroup(foreign.sub, "Elsewhere", {});
    const stranger = await directory.putIdentity(foreign.sub, "Elsewhere", "stranger", {});
    const strangerClientId = String(stranger.properties.clientId);
    assert.equal(stranger.properties.tenantId, foreign.tenant);
    assert.equal(await directory.findFederatedPrincipal(tenant, strangerClientId), undefined);
    assert.equal(
      (await directory.findFederatedPrincipal(foreign.tenant, strangerClientId))?.clientId,
      strangerClientId,
    );
  });

  test("an unknown client ID finds nothing", async () => {
    const { directory, tenant } = await setup();
    assert.equal(await directory.findFederatedPrincipal(tenant, randomUUID()), undefined);
  });
});

describe("directory: vaults", () => {
  test("a vault is RBAC-authorised, soft-delete enabled and in the subscription's tenant", async () => {
    const { directory, sub, tenant } = await setup();
    const vault = await directory.putVault(sub, "Apps", "kv1", {});
    assert.equal(vault.type, RESOURCE_TYPES.vault);
    assert.equal(vault.properties.tenantId, tenant);
    assert.equal(vault.properties.enableRbacAuthorization, true);
    assert.equal(vault.properties.enableSoftDelete, true);
  });

  test("vault names are global: the same name in another group or subscription is a 409 VaultAlreadyExists", async () => {
    const { directory, store, sub } = await setup();
    await directory.putVault(sub, "Apps", "kv1", {});
    await directory.putResourceGroup(sub, "Other", {});
    await assertRejects(directory.putVault(sub, "Other", "KV1", {}), 409, "VaultAlreadyExists");

    const foreign = await addForeignSubscription(store);
    await directory.putResourceGroup(foreign.sub, "Apps", {});
    await assertRejects(directory.putVault(foreign.sub, "Apps", "kv1", {}), 409, "VaultAlreadyExists");
  });

  test("re-putting a vault in its own group updates it and keeps its name's case", async () => {
    const { directory, sub } = await setup();
    await directory.putVault(sub, "Apps", "Kv1", {});
    const updated = await directory.putVault(sub, "apps", "KV1", { tags: { a: "b" } });
    assert.equal(updated.name, "Kv1");
    assert.deepEqual(updated.tags, { a: "b" });
    assert.equal((await directory.findVaultByName("kv1"))?.name, "Kv1");
  });

  test("access-policy vaults are refused; invalid names are a 400 VaultNameNotValid", async () => {
    const { directory, sub } = await setup();
    await assertRejects(
      directory.putVault(sub, "Apps", "kv1", { properties: { enableRbacAuthorization: false } }),
      400,
      "BadRequest",
    );
    await assertRejects(directory.putVault(sub, "Apps", "k", {}), 400, "VaultNameNotValid");
  });

  test("deleting a vault erases its secrets, live and soft-deleted, so a namesake starts empty", async () => {
    const { directory, store, sub } = await setup();
    const vault = await directory.putVault(sub, "Apps", "kv1", {});
    const version = { version: "v1", value: "x", tags: {}, enabled: true, created: 1, updated: 1 };
    await store.putSecretVersion({ ...version, vaultId: vault.id, name: "live" });
    await store.putSecretVersion({
      ...version,
      vaultId: deletedSecretsBinId(vault.id),
      name: "gone",
      deletedDate: 2,
    });

    assert.equal(await directory.deleteVault(sub, "Apps", "kv1"), true);
    const again = await directory.putVault(sub, "Apps", "kv1", {});
    assert.deepEqual(await store.listLatestSecrets(again.id), []);
    assert.deepEqual(await store.listLatestSecrets(deletedSecretsBinId(again.id)), []);
    assert.equal(await directory.deleteVault(sub, "Apps", "kv1"), true);
    assert.equal(await directory.deleteVault(sub, "Apps", "kv1"), false);
  });
});

describe("directory: role assignments", () => {
  async function withVault() {
    const context = await setup();
    const vault = await context.directory.putVault(context.sub, "Apps", "kv1", {});
    return { ...context, vault };
  }

  test("an assignment by role name is stored with the full role-definition ID and the principal", async () => {
    const { directory, sub, vault, principalId } = await withVault();
    const name = randomUUID();
    const assignment = await directory.putRoleAssignment(vault.id, name, {
      properties: { roleDefinitionId: "Key Vault Secrets User", principalId: principalId.toUpperCase() },
    });
    assert.equal(assignment.id, `${vault.id}/providers/Microsoft.Authorization/roleAssignments/${name}`);
    assert.equal(
      assignment.properties.roleDefinitionId,
      `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${SECRETS_USER}`,
    );
    assert.equal(assignment.properties.principalId, principalId);
    assert.equal(assignment.properties.principalType, "ServicePrincipal");
    assert.equal(assignment.properties.scope, vault.id);

    assert.deepEqual(
      (await directory.listRoleAssignmentsFor(principalId)).map((a) => a.id),
      [assignment.id],
    );
    assert.deepEqual(
      (await directory.listRoleAssignmentsAt(vault.id.toUpperCase())).map((a) => a.id),
      [assignment.id],
    );
    assert.equal((await directory.getRoleAssignment(assignment.id.toLowerCase())).id, assignment.id);
  });

  test("the assignment name must be a GUID", async () => {
    const { directory, vault, principalId } = await withVault();
    await assertRejects(
      directory.putRoleAssignment(vault.id, "not-a-guid", {
        properties: { roleDefinitionId: SECRETS_USER, principalId },
      }),
      400,
      "InvalidRoleAssignmentId",
    );
  });

  test("an unknown role is a 400 RoleDefinitionDoesNotExist", async () => {
    const { directory, vault, principalId } = await withVault();
    for (const roleDefinitionId of [randomUUID(), "Key Vault Secrets Superuser", undefined]) {
      await assertRejects(
        directory.putRoleAssignment(vault.id, randomUUID(), {
          properties: { roleDefinitionId, principalId },
        }),
        400,
        "RoleDefinitionDoesNotExist",
      );
    }
  });

  test("an unknown principal is a 400 PrincipalNotFound; a non-GUID one a 400 InvalidPrincipalId", async () => {
    const { directory, vault, tenant } = await withVault();
    const stranger = randomUUID();
    await assertRejects(
      directory.putRoleAssignment(vault.id, randomUUID(), {
        properties: { roleDefinitionId: SECRETS_USER, principalId: stranger },
      }),
      400,
      "PrincipalNotFound",
      new RegExp(`${stranger}.*${tenant}`),
    );
    await assertRejects(
      directory.putRoleAssignment(vault.id, randomUUID(), {
        properties: { roleDefinitionId: SECRETS_USER, principalId: "someone" },
      }),
      400,
      "InvalidPrincipalId",
    );
  });

  test("a principal of another tenant does not exist in this tenant's directory: 400 PrincipalNotFound", async () => {
    const { directory, store, vault, tenant } = await withVault();
    const foreign = await addForeignSubscription(store);
    await directory.putResourceGroup(foreign.sub, "Elsewhere", {});
    const stranger = await directory.putIdentity(foreign.sub, "Elsewhere", "stranger", {});
    const strangerPrincipal = String(stranger.properties.principalId);
    await assertRejects(
      directory.putRoleAssignment(vault.id, randomUUID(), {
        properties: { roleDefinitionId: SECRETS_USER, principalId: strangerPrincipal },
      }),
      400,
      "PrincipalNotFound",
      new RegExp(`${strangerPrincipal}.*${tenant}`),
    );
  });

  test("the same principal and role at the same scope under another name is a 409 RoleAssignmentExists", async () => {
    const { directory, vault, principalId } = await withVault();
    const properties = { roleDefinitionId: SECRETS_USER, principalId };
    const name = randomUUID();
    await directory.putRoleAssignment(vault.id, name, { properties });
    await assertRejects(
      directory.putRoleAssignment(vault.id.toLowerCase(), randomUUID(), {
        properties: { ...properties, roleDefinitionId: "key vault secrets user" },
      }),
      409,
      "RoleAssignmentExists",
    );
    // Re-putting the same assignment is idempotent.
    await directory.putRoleAssignment(vault.id, name, { properties });
    assert.equal((await directory.listRoleAssignmentsFor(principalId)).length, 1);
  });

  test("the same principal and role at another scope, or another role at the same scope, is allowed", async () => {
    const { directory, vault, principalId, groupId } = await withVault();
    await directory.putRoleAssignment(vault.id, randomUUID(), {
      properties: { roleDefinitionId: SECRETS_USER, principalId },
    });
    await directory.putRoleAssignment(groupId, randomUUID(), {
      properties: { roleDefinitionId: SECRETS_USER, principalId },
    });
    await directory.putRoleAssignment(vault.id, randomUUID(), {
      properties: { roleDefinitionId: BUILT_IN_ROLE_GUIDS.keyVaultReader, principalId },
    });
    assert.equal((await directory.listRoleAssignmentsFor(principalId)).length, 3);
  });

  test("the scope must exist", async () => {
    const { directory, sub, principalId, groupId } = await withVault();
    const properties = { roleDefinitionId: SECRETS_USER, principalId };
    await assertRejects(
      directory.putRoleAssignment(`/subscriptions/${randomUUID()}`, randomUUID(), { properties }),
      404,
      "SubscriptionNotFound",
    );
    await assertRejects(
      directory.putRoleAssignment(`/subscriptions/${sub}/resourceGroups/nope`, randomUUID(), { properties }),
      404,
      "ResourceGroupNotFound",
    );
    await assertRejects(
      directory.putRoleAssignment(`${groupId}/providers/Microsoft.KeyVault/vaults/nope`, randomUUID(), {
        properties,
      }),
      404,
      "ResourceNotFound",
    );
    await assertRejects(
      directory.putRoleAssignment(
        `${groupId}/providers/Microsoft.KeyVault/vaults/nope/secrets/s`,
        randomUUID(),
        {
          properties,
        },
      ),
      404,
      "ResourceNotFound",
    );
    await assertRejects(
      directory.putRoleAssignment("/tenants/whatever", randomUUID(), { properties }),
      400,
      "InvalidScope",
    );
    assert.deepEqual(await directory.listRoleAssignmentsFor(principalId), []);
  });

  test("a secret-level scope under an existing vault is accepted, even before the secret exists", async () => {
    const { directory, vault, principalId } = await withVault();
    const scope = `${vault.id}/secrets/db-password`;
    const assignment = await directory.putRoleAssignment(scope, randomUUID(), {
      properties: { roleDefinitionId: SECRETS_USER, principalId },
    });
    assert.equal(assignment.properties.scope, scope);
    assert.deepEqual(
      (await directory.listRoleAssignmentsAt(vault.id)).map((a) => a.scope),
      [scope],
    );
  });

  test("subscription and resource-group scopes are accepted", async () => {
    const { directory, sub, principalId, groupId } = await withVault();
    await directory.putRoleAssignment(`/subscriptions/${sub}`, randomUUID(), {
      properties: { roleDefinitionId: BUILT_IN_ROLE_GUIDS.reader, principalId },
    });
    await directory.putRoleAssignment(groupId, randomUUID(), {
      properties: { roleDefinitionId: BUILT_IN_ROLE_GUIDS.reader, principalId },
    });
    assert.equal((await directory.listRoleAssignmentsFor(principalId)).length, 2);
  });

  test("deleting an assignment returns it once; afterwards there is nothing to delete", async () => {
    const { directory, vault, principalId } = await withVault();
    const assignment = await directory.putRoleAssignment(vault.id, randomUUID(), {
      properties: { roleDefinitionId: SECRETS_USER, principalId },
    });
    assert.equal((await directory.deleteRoleAssignment(assignment.id.toUpperCase()))?.id, assignment.id);
    assert.equal(await directory.deleteRoleAssignment(assignment.id), undefined);
    assert.equal(
      await directory.deleteRoleAssignment(vault.id),
      undefined,
      "a vault is not a role assignment",
    );
    assert.ok(await directory.findVaultByName("kv1"));
  });
});

describe("directory: deleting a resource group", () => {
  test("cascades to identities, credentials, vaults, their secrets and role assignments, and nothing else", async () => {
    const { directory, store, sub, identity, principalId, clientId, tenant } = await setup();
    await directory.putFederatedCredential(identity.id, "fic1", fic("system:serviceaccount:a:b"));
    const vault = await directory.putVault(sub, "Apps", "kv1", {});
    await store.putSecretVersion({
      vaultId: vault.id,
      name: "s",
      version: "v1",
      value: "x",
      tags: {},
      enabled: true,
      created: 1,
      updated: 1,
    });
    await directory.putRoleAssignment(vault.id, randomUUID(), {
      properties: { roleDefinitionId: SECRETS_USER, principalId },
    });
    // A group whose name extends the deleted one's must survive.
    await directory.putResourceGroup(sub, "Apps2", {});
    const survivor = await directory.putIdentity(sub, "Apps2", "survivor", {});

    assert.equal(await directory.deleteResourceGroup(sub, "APPS"), true);

    await assertRejects(directory.getResourceGroup(sub, "Apps"), 404, "ResourceGroupNotFound");
    assert.equal(await store.getResource(identity.id), undefined);
    assert.deepEqual(await directory.listFederatedCredentials(identity.id), []);
    assert.equal(await directory.findVaultByName("kv1"), undefined);
    assert.deepEqual(await store.listLatestSecrets(vault.id), []);
    assert.deepEqual(await directory.listRoleAssignmentsFor(principalId), []);
    assert.equal(await directory.findFederatedPrincipal(tenant, clientId), undefined);
    assert.equal((await directory.getIdentity(sub, "Apps2", "survivor")).id, survivor.id);

    assert.equal(await directory.deleteResourceGroup(sub, "Apps"), false);
  });
});
