// The admin principal wikit up makes on first start: an app registration with a certificate whose key sits in the
// data directory (owner-only files), its service principal Owner of the default subscription, the same principal on
// every later start, and its service principal and role in each tenant made later.

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { BUILT_IN_ROLE_GUIDS } from "../../src/identity/directory/built-in-roles.ts";
import { createDirectory } from "../../src/identity/directory/directory.ts";
import { eraseVaultSecrets } from "../../src/resources/vault/deleted-secrets.ts";
import { ensureAdminPrincipal, grantAdmin } from "../../src/server/admin-principal.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";

describe("the admin principal", () => {
  const dirs: string[] = [];
  after(async () => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

  test("made once, kept in owner-only files, Owner of the default subscription; granted in each new tenant", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "wikit-admin-"));
    dirs.push(dataDir);
    const store = new SqliteStore(join(dataDir, "wikit.db"));
    const directory = createDirectory(store, {
      eraseVaultContents: (vaultId) => eraseVaultSecrets(store, vaultId),
    });
    const { tenant, subscription } = await directory.tenants.ensureDefaults();
    const home = { tenantId: tenant.tenantId, subscriptionId: subscription.subscriptionId };

    const admin = await ensureAdminPrincipal(dataDir, directory, home);
    for (const file of ["admin.json", "admin.pem"]) {
      assert.equal((await stat(join(dataDir, file))).mode & 0o777, 0o600, file);
    }
    const pem = await readFile(admin.certificateFile, "utf8");
    assert.match(pem, /-----BEGIN PRIVATE KEY-----[\s\S]*-----BEGIN CERTIFICATE-----/);
    const signIn = await directory.principals.findFederatedPrincipal(home.tenantId, admin.clientId);
    assert.ok("principal" in signIn);
    assert.equal(signIn.principal.certificates?.length, 1);
    const [ownership] = await directory.roleAssignments.listFor(signIn.principal.principalId);
    assert.equal(ownership?.scope, `/subscriptions/${home.subscriptionId}`);
    assert.ok(ownership?.roleDefinitionId.endsWith(BUILT_IN_ROLE_GUIDS.owner));

    assert.deepEqual(
      await ensureAdminPrincipal(dataDir, directory, home),
      admin,
      "the same principal on a later start",
    );
    assert.equal((await directory.apps.listApplications(home.tenantId)).length, 1);

    const fabrikam = await directory.tenants.create("fabrikam");
    await grantAdmin(directory, admin, {
      tenantId: fabrikam.tenant.tenantId,
      subscriptionId: fabrikam.subscription.subscriptionId,
    });
    const abroad = await directory.principals.findFederatedPrincipal(
      fabrikam.tenant.tenantId,
      admin.clientId,
    );
    assert.ok("principal" in abroad, "the admin signs in to the new tenant");
    await store.close();
  });
});
