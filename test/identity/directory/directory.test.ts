import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { BUILT_IN_ROLE_GUIDS } from "../../../src/identity/directory/built-in-roles.ts";
import { createDirectory } from "../../../src/identity/directory/directory.ts";
import { DirectoryError } from "../../../src/identity/directory/directory-error.ts";
import { getResourceOfType } from "../../../src/identity/directory/resource-lookup.ts";
import { RESOURCE_TYPES } from "../../../src/names/arm-resource-ids.ts";
import { deletedSecretsBinId, eraseVaultSecrets } from "../../../src/resources/vault/deleted-secrets.ts";
import { SqliteStore } from "../../../src/store/sqlite-store.ts";

const ISSUER = "https://oidc.example.test/cluster-1/";
const AUDIENCE = "api://AzureADTokenExchange";
const SECRETS_USER = BUILT_IN_ROLE_GUIDS.keyVaultSecretsUser;

/** The directory as `wikit up` builds it: vault secrets erased by the vault part. */
function directoryOver(store: SqliteStore) {
  return createDirectory(store, { eraseVaultContents: (vaultId) => eraseVaultSecrets(store, vaultId) });
}

async function setup() {
  const store = new SqliteStore(":memory:");
  const directory = directoryOver(store);
  const { tenant, subscription } = await directory.tenants.ensureDefaults();
  const sub = subscription.subscriptionId;
  await directory.groups.put(sub, "Apps", {});
  const identity = await directory.identities.put(sub, "Apps", "workload", {});
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
    const first = await directoryOver(store).tenants.ensureDefaults();
    const second = await directoryOver(store).tenants.ensureDefaults();
    assert.deepEqual(second, first);
    assert.equal(first.subscription.tenantId, first.tenant.tenantId);
    assert.equal(first.subscription.state, "Enabled");
  });

  test("a tenant is found by GUID (any case) or by its domain name (any case)", async () => {
    const { directory, tenant } = await setup();
    assert.equal((await directory.tenants.findTenant(tenant.toUpperCase()))?.tenantId, tenant);
    assert.equal((await directory.tenants.findTenant("WIKIT.localhost"))?.tenantId, tenant);
    assert.equal(await directory.tenants.findTenant(randomUUID()), undefined);
    assert.equal(await directory.tenants.findTenant("nowhere.localhost"), undefined);
  });

  test("an unknown subscription is a 404 SubscriptionNotFound", async () => {
    const { directory } = await setup();
    await assertRejects(directory.groups.put(randomUUID(), "rg", {}), 404, "SubscriptionNotFound");
  });

  test("an invalid resource group name is a 400 InvalidResourceGroup", async () => {
    const { directory, sub } = await setup();
    await assertRejects(directory.groups.put(sub, "bad name", {}), 400, "InvalidResourceGroup");
  });

  test("a resource group is found under any case and keeps the case it was created with", async () => {
    const { directory, sub } = await setup();
    await directory.groups.put(sub, "APPS", { tags: { env: "dev" } });
    const group = await directory.groups.get(sub, "apps");
    assert.equal(group.name, "Apps");
    assert.equal(group.id, `/subscriptions/${sub}/resourceGroups/Apps`);
    assert.deepEqual(group.tags, { env: "dev" });
    assert.equal((await directory.groups.list(sub)).length, 1);
  });

  test("a missing resource group is a 404 ResourceGroupNotFound", async () => {
    const { directory, sub } = await setup();
    await assertRejects(directory.groups.get(sub, "nope"), 404, "ResourceGroupNotFound");
    await assertRejects(directory.identities.put(sub, "nope", "id1", {}), 404, "ResourceGroupNotFound");
    await assertRejects(directory.vaults.put(sub, "nope", "kv1", {}), 404, "ResourceGroupNotFound");
  });

  test("tags must be strings", async () => {
    const { directory, sub } = await setup();
    await assertRejects(directory.groups.put(sub, "rg", { tags: { n: 1 } }), 400, "InvalidRequestContent");
    await assertRejects(directory.groups.put(sub, "rg", { tags: ["a"] }), 400, "InvalidRequestContent");
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
    const updated = await directory.identities.put(sub, "apps", "WORKLOAD", { tags: { team: "a" } });
    assert.equal(updated.properties.clientId, clientId);
    assert.equal(updated.properties.principalId, principalId);
    assert.equal(updated.id, identity.id);
    assert.deepEqual(updated.tags, { team: "a" });
  });

  test("an invalid identity name is a 400 InvalidResourceName", async () => {
    const { directory, sub } = await setup();
    await assertRejects(directory.identities.put(sub, "Apps", "x", {}), 400, "InvalidResourceName");
  });

  test("a missing identity is a 404 ResourceNotFound", async () => {
    const { directory, sub } = await setup();
    await assertRejects(directory.identities.get(sub, "Apps", "nobody"), 404, "ResourceNotFound");
  });

  test("another type's resource at an identity's ID is not an identity", async () => {
    const { store, identity } = await setup();
    await assertRejects(
      getResourceOfType(store, identity.id, RESOURCE_TYPES.vault, "vault"),
      404,
      "ResourceNotFound",
    );
  });

  test("deleting an identity removes its federated credentials", async () => {
    const { directory, sub, identity } = await setup();
    await directory.identities.putFederatedCredential(identity.id, "fic1", fic("system:serviceaccount:a:b"));
    assert.equal(await directory.identities.delete(sub, "Apps", "workload"), true);
    assert.deepEqual(await directory.identities.listFederatedCredentials(identity.id), []);
    assert.equal(await directory.identities.delete(sub, "Apps", "workload"), false);
  });
});

describe("directory: federated identity credentials", () => {
  test("a credential is stored under its identity with its properties", async () => {
    const { directory, identity } = await setup();
    const credential = await directory.identities.putFederatedCredential(
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
      directory.identities.putFederatedCredential(`${identity.id}x`, "fic1", fic("s")),
      404,
      "ResourceNotFound",
    );
  });

  test("invalid properties are a 400 before anything is stored", async () => {
    const { directory, identity } = await setup();
    await assertRejects(
      directory.identities.putFederatedCredential(
        identity.id,
        "fic1",
        fic("s", "http://insecure.example.test/"),
      ),
      400,
      "BadRequest",
      /https/,
    );
    await assertRejects(
      directory.identities.putFederatedCredential(identity.id, "x", fic("s")),
      400,
      "BadRequest",
    );
    assert.deepEqual(await directory.identities.listFederatedCredentials(identity.id), []);
  });

  test("an identity holds at most 20 credentials; updating one of the 20 in place still works", async () => {
    const { directory, identity } = await setup();
    for (let index = 0; index < 20; index++) {
      await directory.identities.putFederatedCredential(
        identity.id,
        `fic-${index}`,
        fic(`system:serviceaccount:a:sa-${index}`),
      );
    }
    await assertRejects(
      directory.identities.putFederatedCredential(
        identity.id,
        "fic-20",
        fic("system:serviceaccount:a:sa-20"),
      ),
      400,
      "BadRequest",
      /20/,
    );
    const updated = await directory.identities.putFederatedCredential(
      identity.id,
      "FIC-7",
      fic("system:serviceaccount:a:moved"),
    );
    assert.equal(updated.name, "fic-7");
    assert.equal(updated.properties.subject, "system:serviceaccount:a:moved");
    assert.equal((await directory.identities.listFederatedCredentials(identity.id)).length, 20);
  });

  test("credentials of identity 'workload' do not count for 'workload2': IDs match on segment boundaries", async () => {
    const { directory, sub, identity } = await setup();
    for (let index = 0; index < 20; index++) {
      await directory.identities.putFederatedCredential(
        identity.id,
        `fic-${index}`,
        fic(`system:serviceaccount:a:sa-${index}`),
      );
    }
    const other = await directory.identities.put(sub, "Apps", "workload2", {});
    await directory.identities.putFederatedCredential(other.id, "fic-0", fic("system:serviceaccount:a:sa-0"));
    assert.equal((await directory.identities.listFederatedCredentials(other.id)).length, 1);
  });

  test("issuer + subject must be unique on an identity: a twin is a 409 and is not stored", async () => {
    const { directory, identity } = await setup();
    await directory.identities.putFederatedCredential(identity.id, "fic1", fic("system:serviceaccount:a:b"));
    await assertRejects(
      directory.identities.putFederatedCredential(identity.id, "fic2", fic("system:serviceaccount:a:b")),
      409,
      "Conflict",
      /must be unique/,
    );
    assert.equal((await directory.identities.listFederatedCredentials(identity.id)).length, 1);
  });

  test("the same issuer + subject on two identities is allowed", async () => {
    const { directory, sub, identity } = await setup();
    const other = await directory.identities.put(sub, "Apps", "other", {});
    await directory.identities.putFederatedCredential(identity.id, "fic1", fic("system:serviceaccount:a:b"));
    await directory.identities.putFederatedCredential(other.id, "fic1", fic("system:serviceaccount:a:b"));
    assert.equal((await directory.identities.listFederatedCredentials(other.id)).length, 1);
  });
});

describe("directory: findFederatedPrincipal", () => {
  test("finds the identity by client ID, in any case, with its credentials", async () => {
    const { directory, identity, tenant, clientId, principalId } = await setup();
    await directory.identities.putFederatedCredential(identity.id, "fic1", fic("system:serviceaccount:a:b"));

    const principal = await directory.identities.findFederatedPrincipal(tenant, clientId.toUpperCase());
    assert.deepEqual(principal, {
      clientId,
      principalId,
      tenantId: tenant,
      displayName: "workload",
      credentialOwnerId: identity.id,
      managedIdentityResourceId: identity.id,
      credentials: [
        { name: "fic1", issuer: ISSUER, subject: "system:serviceaccount:a:b", audiences: [AUDIENCE] },
      ],
    });
  });

  test("an identity is never found through another tenant", async () => {
    const { directory, store, tenant, clientId } = await setup();
    const foreign = await addForeignSubscription(store);
    assert.equal(await directory.identities.findFederatedPrincipal(foreign.tenant, clientId), undefined);

    await directory.groups.put(foreign.sub, "Elsewhere", {});
    const stranger = await directory.identities.put(foreign.sub, "Elsewhere", "stranger", {});
    const strangerClientId = String(stranger.properties.clientId);
    assert.equal(stranger.properties.tenantId, foreign.tenant);
    assert.equal(await directory.identities.findFederatedPrincipal(tenant, strangerClientId), undefined);
    assert.equal(
      (await directory.identities.findFederatedPrincipal(foreign.tenant, strangerClientId))?.clientId,
      strangerClientId,
    );
  });

  test("an unknown client ID finds nothing", async () => {
    const { directory, tenant } = await setup();
    assert.equal(await directory.identities.findFederatedPrincipal(tenant, randomUUID()), undefined);
  });
});

describe("directory: vaults", () => {
  test("a vault is RBAC-authorised, soft-delete enabled and in the subscription's tenant", async () => {
    const { directory, sub, tenant } = await setup();
    const vault = await directory.vaults.put(sub, "Apps", "kv1", {});
    assert.equal(vault.type, RESOURCE_TYPES.vault);
    assert.equal(vault.properties.tenantId, tenant);
    assert.equal(vault.properties.enableRbacAuthorization, true);
    assert.equal(vault.properties.enableSoftDelete, true);
  });

  test("vault names are global: the same name in another group or subscription is a 409 VaultAlreadyExists", async () => {
    const { directory, store, sub } = await setup();
    await directory.vaults.put(sub, "Apps", "kv1", {});
    await directory.groups.put(sub, "Other", {});
    await assertRejects(directory.vaults.put(sub, "Other", "KV1", {}), 409, "VaultAlreadyExists");

    const foreign = await addForeignSubscription(store);
    await directory.groups.put(foreign.sub, "Apps", {});
    await assertRejects(directory.vaults.put(foreign.sub, "Apps", "kv1", {}), 409, "VaultAlreadyExists");
  });

  test("re-putting a vault in its own group updates it and keeps its name's case", async () => {
    const { directory, sub } = await setup();
    await directory.vaults.put(sub, "Apps", "Kv1", {});
    const updated = await directory.vaults.put(sub, "apps", "KV1", { tags: { a: "b" } });
    assert.equal(updated.name, "Kv1");
    assert.deepEqual(updated.tags, { a: "b" });
    assert.equal((await directory.vaults.findByName("kv1"))?.name, "Kv1");
  });

  test("access-policy vaults are refused; invalid names are a 400 VaultNameNotValid", async () => {
    const { directory, sub } = await setup();
    await assertRejects(
      directory.vaults.put(sub, "Apps", "kv1", { properties: { enableRbacAuthorization: false } }),
      400,
      "BadRequest",
    );
    await assertRejects(directory.vaults.put(sub, "Apps", "k", {}), 400, "VaultNameNotValid");
  });

  test("deleting a vault soft-deletes it with its secrets: its name stays taken until recover or purge", async () => {
    const { directory, store, sub } = await setup();
    const vault = await directory.vaults.put(sub, "Apps", "kv1", { tags: { team: "a" } });
    const version = { version: "v1", value: "x", tags: {}, enabled: true, created: 1, updated: 1 };
    await store.putSecretVersion({ ...version, vaultId: vault.id, name: "live" });
    await store.putSecretVersion({
      ...version,
      vaultId: deletedSecretsBinId(vault.id),
      name: "gone",
      deletedDate: 2,
    });

    assert.equal(await directory.vaults.delete(sub, "Apps", "kv1"), true);
    assert.equal(await directory.vaults.delete(sub, "Apps", "kv1"), false);
    assert.equal(await directory.vaults.findByName("kv1"), undefined);
    const [deleted] = await directory.vaults.listDeleted(sub);
    assert.equal(deleted?.name, "kv1");
    assert.equal(deleted?.properties.vaultId, vault.id);
    assert.match(String(deleted?.properties.scheduledPurgeDate), /^\d{4}-/);
    await assertRejects(directory.vaults.put(sub, "Apps", "kv1", {}), 409, "ConflictError", /deleted state/);
    await assertRejects(directory.vaults.put(sub, "Other", "kv1", {}), 404, "ResourceGroupNotFound");

    // Recover: the same vault, tags and secrets.
    const recovered = await directory.vaults.put(sub, "Apps", "kv1", {
      properties: { createMode: "recover" },
    });
    assert.equal(recovered.id, vault.id);
    assert.deepEqual(recovered.tags, { team: "a" });
    assert.deepEqual(
      (await store.listLatestSecrets(vault.id)).map((secret) => secret.name),
      ["live"],
    );
    assert.deepEqual(await directory.vaults.listDeleted(sub), []);
    await assertRejects(
      directory.vaults.put(sub, "Apps", "kv1", { properties: { createMode: "recover" } }),
      404,
      "DeletedVaultNotFound",
    );

    // Purge: gone for good, and a namesake starts empty.
    await directory.vaults.delete(sub, "Apps", "kv1");
    await directory.vaults.purge(sub, "local", "kv1");
    await assertRejects(directory.vaults.getDeleted(sub, "local", "kv1"), 404, "ResourceNotFound");
    const again = await directory.vaults.put(sub, "Apps", "kv1", {});
    assert.deepEqual(await store.listLatestSecrets(again.id), []);
    assert.deepEqual(await store.listLatestSecrets(deletedSecretsBinId(again.id)), []);
  });
});

describe("directory: role assignments", () => {
  async function withVault() {
    const context = await setup();
    const vault = await context.directory.vaults.put(context.sub, "Apps", "kv1", {});
    return { ...context, vault };
  }

  test("an assignment by role name is stored with the full role-definition ID and the principal", async () => {
    const { directory, sub, vault, principalId } = await withVault();
    const name = randomUUID();
    const assignment = await directory.roleAssignments.put(vault.id, name, {
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
      (await directory.roleAssignments.listFor(principalId)).map((a) => a.id),
      [assignment.id],
    );
    assert.deepEqual(
      (await directory.roleAssignments.listAt(vault.id.toUpperCase())).map((a) => a.id),
      [assignment.id],
    );
    assert.equal((await directory.roleAssignments.get(assignment.id.toLowerCase())).id, assignment.id);
  });

  test("the assignment name must be a GUID", async () => {
    const { directory, vault, principalId } = await withVault();
    await assertRejects(
      directory.roleAssignments.put(vault.id, "not-a-guid", {
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
        directory.roleAssignments.put(vault.id, randomUUID(), {
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
      directory.roleAssignments.put(vault.id, randomUUID(), {
        properties: { roleDefinitionId: SECRETS_USER, principalId: stranger },
      }),
      400,
      "PrincipalNotFound",
      new RegExp(`${stranger}.*${tenant}`),
    );
    await assertRejects(
      directory.roleAssignments.put(vault.id, randomUUID(), {
        properties: { roleDefinitionId: SECRETS_USER, principalId: "someone" },
      }),
      400,
      "InvalidPrincipalId",
    );
  });

  test("a principal of another tenant does not exist in this tenant's directory: 400 PrincipalNotFound", async () => {
    const { directory, store, vault, tenant } = await withVault();
    const foreign = await addForeignSubscription(store);
    await directory.groups.put(foreign.sub, "Elsewhere", {});
    const stranger = await directory.identities.put(foreign.sub, "Elsewhere", "stranger", {});
    const strangerPrincipal = String(stranger.properties.principalId);
    await assertRejects(
      directory.roleAssignments.put(vault.id, randomUUID(), {
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
    await directory.roleAssignments.put(vault.id, name, { properties });
    await assertRejects(
      directory.roleAssignments.put(vault.id.toLowerCase(), randomUUID(), {
        properties: { ...properties, roleDefinitionId: "key vault secrets user" },
      }),
      409,
      "RoleAssignmentExists",
    );
    // Re-putting the same assignment is idempotent.
    await directory.roleAssignments.put(vault.id, name, { properties });
    assert.equal((await directory.roleAssignments.listFor(principalId)).length, 1);
  });

  test("the same principal and role at another scope, or another role at the same scope, is allowed", async () => {
    const { directory, vault, principalId, groupId } = await withVault();
    await directory.roleAssignments.put(vault.id, randomUUID(), {
      properties: { roleDefinitionId: SECRETS_USER, principalId },
    });
    await directory.roleAssignments.put(groupId, randomUUID(), {
      properties: { roleDefinitionId: SECRETS_USER, principalId },
    });
    await directory.roleAssignments.put(vault.id, randomUUID(), {
      properties: { roleDefinitionId: BUILT_IN_ROLE_GUIDS.keyVaultReader, principalId },
    });
    assert.equal((await directory.roleAssignments.listFor(principalId)).length, 3);
  });

  test("the scope must exist", async () => {
    const { directory, sub, principalId, groupId } = await withVault();
    const properties = { roleDefinitionId: SECRETS_USER, principalId };
    await assertRejects(
      directory.roleAssignments.put(`/subscriptions/${randomUUID()}`, randomUUID(), { properties }),
      404,
      "SubscriptionNotFound",
    );
    await assertRejects(
      directory.roleAssignments.put(`/subscriptions/${sub}/resourceGroups/nope`, randomUUID(), {
        properties,
      }),
      404,
      "ResourceGroupNotFound",
    );
    await assertRejects(
      directory.roleAssignments.put(`${groupId}/providers/Microsoft.KeyVault/vaults/nope`, randomUUID(), {
        properties,
      }),
      404,
      "ResourceNotFound",
    );
    await assertRejects(
      directory.roleAssignments.put(
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
      directory.roleAssignments.put("/tenants/whatever", randomUUID(), { properties }),
      400,
      "InvalidScope",
    );
    assert.deepEqual(await directory.roleAssignments.listFor(principalId), []);
  });

  test("a secret-level scope under an existing vault is accepted, even before the secret exists", async () => {
    const { directory, vault, principalId } = await withVault();
    const scope = `${vault.id}/secrets/db-password`;
    const assignment = await directory.roleAssignments.put(scope, randomUUID(), {
      properties: { roleDefinitionId: SECRETS_USER, principalId },
    });
    assert.equal(assignment.properties.scope, scope);
    assert.deepEqual(
      (await directory.roleAssignments.listAt(vault.id)).map((a) => a.scope),
      [scope],
    );
  });

  test("subscription and resource-group scopes are accepted", async () => {
    const { directory, sub, principalId, groupId } = await withVault();
    await directory.roleAssignments.put(`/subscriptions/${sub}`, randomUUID(), {
      properties: { roleDefinitionId: BUILT_IN_ROLE_GUIDS.reader, principalId },
    });
    await directory.roleAssignments.put(groupId, randomUUID(), {
      properties: { roleDefinitionId: BUILT_IN_ROLE_GUIDS.reader, principalId },
    });
    assert.equal((await directory.roleAssignments.listFor(principalId)).length, 2);
  });

  test("deleting an assignment returns it once; afterwards there is nothing to delete", async () => {
    const { directory, vault, principalId } = await withVault();
    const assignment = await directory.roleAssignments.put(vault.id, randomUUID(), {
      properties: { roleDefinitionId: SECRETS_USER, principalId },
    });
    assert.equal((await directory.roleAssignments.delete(assignment.id.toUpperCase()))?.id, assignment.id);
    assert.equal(await directory.roleAssignments.delete(assignment.id), undefined);
    assert.equal(
      await directory.roleAssignments.delete(vault.id),
      undefined,
      "a vault is not a role assignment",
    );
    assert.ok(await directory.vaults.findByName("kv1"));
  });
});

describe("directory: deleting a resource group", () => {
  test("cascades to identities, credentials, vaults, their secrets and role assignments, and nothing else", async () => {
    const { directory, store, sub, identity, principalId, clientId, tenant } = await setup();
    await directory.identities.putFederatedCredential(identity.id, "fic1", fic("system:serviceaccount:a:b"));
    const vault = await directory.vaults.put(sub, "Apps", "kv1", {});
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
    await directory.roleAssignments.put(vault.id, randomUUID(), {
      properties: { roleDefinitionId: SECRETS_USER, principalId },
    });
    // A group whose name extends the deleted one's must survive.
    await directory.groups.put(sub, "Apps2", {});
    const survivor = await directory.identities.put(sub, "Apps2", "survivor", {});

    assert.equal(await directory.groups.delete(sub, "APPS"), true);

    await assertRejects(directory.groups.get(sub, "Apps"), 404, "ResourceGroupNotFound");
    assert.equal(await store.getResource(identity.id), undefined);
    assert.deepEqual(await directory.identities.listFederatedCredentials(identity.id), []);
    assert.equal(await directory.vaults.findByName("kv1"), undefined);
    assert.deepEqual(await store.listLatestSecrets(vault.id), []);
    assert.deepEqual(await directory.roleAssignments.listFor(principalId), []);
    assert.equal(await directory.identities.findFederatedPrincipal(tenant, clientId), undefined);
    assert.equal((await directory.identities.get(sub, "Apps2", "survivor")).id, survivor.id);

    assert.equal(await directory.groups.delete(sub, "Apps"), false);
  });
});
