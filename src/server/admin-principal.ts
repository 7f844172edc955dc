import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { BUILT_IN_ROLE_GUIDS } from "../identity/directory/built-in-roles.ts";
import type { Directory } from "../identity/directory/directory.ts";
import { createClientCertificate } from "../pki/certificates.ts";
import { writeFileDurably } from "../store/durable-file.ts";
import { dataDirFiles } from "./data-dir.ts";

// The admin principal `wikit up` makes on first start, like a kubeconfig's user: an app registration, `wikit-admin`,
// with a certificate whose private key sits in the data directory (admin.pem, mode 0600), a service principal and the
// Owner role on the default subscription, and on each tenant's subscription as tenants are made. Any client that
// signs in with a certificate — `az login --service-principal -p admin.pem`, MSAL — gets tokens as the admin.

export const ADMIN_APP_NAME = "wikit-admin";
const CERTIFICATE_VALIDITY_DAYS = 825;

/** What admin.json says: the principal's app ID and home tenant, and where its certificate is. */
export interface AdminPrincipal {
  clientId: string;
  tenantId: string;
  certificateFile: string;
}

/** The admin principal of the data directory: made on first start, read on every other. */
export async function ensureAdminPrincipal(
  dataDir: string,
  directory: Directory,
  home: { tenantId: string; subscriptionId: string },
): Promise<AdminPrincipal> {
  const file = dataDirFiles.adminPrincipal(dataDir);
  if (existsSync(file)) {
    const known = JSON.parse(await readFile(file, "utf8")) as AdminPrincipal;
    const found = await directory.apps.findFederatedPrincipal(known.tenantId, known.clientId);
    if ("principal" in found) return known;
  }
  const certificate = await createClientCertificate(ADMIN_APP_NAME, CERTIFICATE_VALIDITY_DAYS);
  const app = await directory.apps.createApplication(home.tenantId, {
    displayName: ADMIN_APP_NAME,
    signInAudience: "AzureADMultipleOrgs",
    keyCredentials: [
      { type: "AsymmetricX509Cert", usage: "Verify", key: certificate.derBase64, displayName: "wikit up" },
    ],
  });
  const admin: AdminPrincipal = {
    clientId: String(app.appId),
    tenantId: home.tenantId,
    certificateFile: dataDirFiles.adminCertificate(dataDir),
  };
  await grantAdmin(directory, admin, home);
  // The key and its certificate in one file, as `az login -p` and MSAL take them.
  await writeFileDurably(admin.certificateFile, `${certificate.keyPem}${certificate.certPem}`, 0o600);
  await writeFileDurably(file, `${JSON.stringify(admin, null, 2)}\n`, 0o600);
  return admin;
}

/** Gives the admin principal a service principal in a tenant and the Owner role on its subscription. */
export async function grantAdmin(
  directory: Directory,
  admin: Pick<AdminPrincipal, "clientId">,
  where: { tenantId: string; subscriptionId: string },
): Promise<void> {
  const servicePrincipal = await directory.apps.createServicePrincipal(where.tenantId, {
    appId: admin.clientId,
  });
  const scope = `/subscriptions/${where.subscriptionId}`;
  await directory.roleAssignments.put(scope, randomUUID(), {
    properties: {
      roleDefinitionId: `${scope}/providers/Microsoft.Authorization/roleDefinitions/${BUILT_IN_ROLE_GUIDS.owner}`,
      principalId: servicePrincipal.id,
    },
  });
}
