// The directory the token-exchange benchmark runs against: `credentials` federated identity credentials spread
// over user-assigned identities of at most 20 each (Entra's per-identity limit), the benchmarked identity in the
// middle of them. It is written into the data directory of a stopped `wikit up`: the benchmarked identity and its
// credentials through the directory, as the management API writes them, and every other row in one transaction
// straight into the store's table, built as the directory builds its rows and checked byte for byte against the
// rows it wrote. Written one durable commit at a time (an fsync each), 100k credentials would take far longer
// than the benchmark itself.

import { randomUUID } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { createDirectory } from "../src/identity/directory/directory.ts";
import { MAX_FEDERATED_CREDENTIALS } from "../src/identity/directory/federated-credential-rules.ts";
import { DEFAULT_LOCATION } from "../src/identity/directory/resource-input.ts";
import { federatedCredentialId, providerResourceId, RESOURCE_TYPES } from "../src/names/arm-resource-ids.ts";
import { eraseVaultSecrets } from "../src/resources/vault/deleted-secrets.ts";
import { dataDirFiles } from "../src/server/data-dir.ts";
import { SqliteStore } from "../src/store/sqlite-store.ts";
import type { ArmResource } from "../src/store/store.ts";

export const AUDIENCE = "api://AzureADTokenExchange";
const GROUP = "bench";

export interface DirectoryPlan {
  /** Federated credentials in all, the benchmarked identity's included. */
  credentials: number;
  /** The local cluster's issuer: the benchmarked credential trusts it, as do a quarter of the others. */
  issuer: string;
  /** Subject of the benchmarked identity's matching credential. */
  subject: string;
}

export interface LoadedDirectory {
  /** Client ID of the benchmarked identity. */
  clientId: string;
  identities: number;
  credentials: number;
}

/** A user-assigned identity as `Identities.put` writes it into a group created without a location. */
function identityRow(subscription: string, tenantId: string, name: string, ids: IdentityIds): ArmResource {
  return {
    id: providerResourceId(subscription, GROUP, RESOURCE_TYPES.userAssignedIdentity, name),
    name,
    type: RESOURCE_TYPES.userAssignedIdentity,
    location: DEFAULT_LOCATION,
    tags: {},
    properties: { tenantId, principalId: ids.principalId, clientId: ids.clientId },
  };
}

/** A credential as `Identities.putFederatedCredential` writes it (no description). */
function credentialRow(identityId: string, name: string, issuer: string, subject: string): ArmResource {
  return {
    id: federatedCredentialId(identityId, name),
    name,
    type: RESOURCE_TYPES.federatedCredential,
    properties: { issuer, subject, audiences: [AUDIENCE] },
  };
}

interface IdentityIds {
  principalId: string;
  clientId: string;
}

/** Credential `index` of identity `identity`: a quarter trust the local cluster, the rest one of 50 others. */
function otherCredential(plan: DirectoryPlan, identity: number, index: number) {
  return {
    name: `fic-${String(index).padStart(2, "0")}`,
    issuer: index % 4 === 0 ? plan.issuer : `https://oidc.cluster-${(identity + index) % 50}.example.test/`,
    subject: `system:serviceaccount:ns-${identity}:sa-${index}`,
  };
}

export async function loadDirectory(dataDir: string, plan: DirectoryPlan): Promise<LoadedDirectory> {
  const identityCount = Math.ceil(plan.credentials / MAX_FEDERATED_CREDENTIALS);
  const credentialsOf = (identity: number) =>
    Math.min(MAX_FEDERATED_CREDENTIALS, plan.credentials - identity * MAX_FEDERATED_CREDENTIALS);
  const benchmarked = Math.floor(identityCount / 2);
  const nameOf = (identity: number) => `workload-${String(identity).padStart(6, "0")}`;

  // The benchmarked identity, through the directory; its last credential is the one its token matches.
  const store = new SqliteStore(dataDirFiles.database(dataDir));
  const directory = createDirectory(store, { eraseVaultContents: (id) => eraseVaultSecrets(store, id) });
  const { tenant, subscription } = await directory.tenants.ensureDefaults();
  const subscriptionId = subscription.subscriptionId;
  await directory.groups.put(subscriptionId, GROUP, {});
  const identity = await directory.identities.put(subscriptionId, GROUP, nameOf(benchmarked), {});
  const ids = {
    principalId: String(identity.properties.principalId),
    clientId: String(identity.properties.clientId),
  };
  const expected = [identityRow(subscriptionId, tenant.tenantId, nameOf(benchmarked), ids)];
  const matching = { name: "workload", issuer: plan.issuer, subject: plan.subject };
  const own = credentialsOf(benchmarked);
  for (let index = 0; index < own; index += 1) {
    const credential = index === own - 1 ? matching : otherCredential(plan, benchmarked, index);
    await directory.identities.putFederatedCredential(identity.id, credential.name, {
      properties: { issuer: credential.issuer, subject: credential.subject, audiences: [AUDIENCE] },
    });
    expected.push(credentialRow(identity.id, credential.name, credential.issuer, credential.subject));
  }
  for (const row of expected) {
    const stored = JSON.stringify(await store.getResource(row.id));
    if (stored !== JSON.stringify(row)) {
      throw new Error(
        `the bulk rows would differ from the directory's: ${stored} vs. ${JSON.stringify(row)}`,
      );
    }
  }
  await store.close();

  // Everyone else, in one transaction, as `SqliteStore.putResource` stores a resource.
  const database = new DatabaseSync(dataDirFiles.database(dataDir));
  const insert = database.prepare("INSERT INTO resources (key, type, body) VALUES (?, ?, ?)");
  const put = (row: ArmResource) =>
    insert.run(row.id.toLowerCase(), row.type.toLowerCase(), JSON.stringify(row));
  let probe: string | undefined;
  database.exec("BEGIN");
  for (let index = 0; index < identityCount; index += 1) {
    if (index === benchmarked) continue;
    const clientId = randomUUID();
    probe ??= clientId;
    const row = identityRow(subscriptionId, tenant.tenantId, nameOf(index), {
      principalId: randomUUID(),
      clientId,
    });
    put(row);
    for (let credential = 0; credential < credentialsOf(index); credential += 1) {
      const { name, issuer, subject } = otherCredential(plan, index, credential);
      put(credentialRow(row.id, name, issuer, subject));
    }
  }
  database.exec("COMMIT");
  const count = (type: string) =>
    Number(
      (
        database.prepare("SELECT COUNT(*) AS n FROM resources WHERE type = ?").get(type.toLowerCase()) as {
          n: number;
        }
      ).n,
    );
  const loaded = {
    clientId: ids.clientId,
    identities: count(RESOURCE_TYPES.userAssignedIdentity),
    credentials: count(RESOURCE_TYPES.federatedCredential),
  };
  database.close();
  if (loaded.credentials !== plan.credentials || loaded.identities !== identityCount) {
    throw new Error(
      `loaded ${loaded.credentials} credentials on ${loaded.identities} identities, not as planned`,
    );
  }

  // The token service must find a bulk-written identity as it finds one the directory wrote.
  if (probe !== undefined) {
    const check = new SqliteStore(dataDirFiles.database(dataDir));
    const principal = await createDirectory(check, {
      eraseVaultContents: async () => {},
    }).identities.findFederatedPrincipal(tenant.tenantId, probe);
    await check.close();
    if (principal?.credentials.length !== credentialsOf(0)) {
      throw new Error("the token service does not see the bulk-written identities");
    }
  }
  return loaded;
}
