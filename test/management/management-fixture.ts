// The management plane as `wikit up` mounts it — ARM routes, secrets, tenants, the sign-in log, the Graph-shaped
// directory, and their authentication — over an in-memory store, driven with `inject()`.

import assert from "node:assert/strict";
import Fastify, { type InjectOptions, type LightMyRequestResponse } from "fastify";
import { createLocalJWKSet } from "jose";
import { createDirectory } from "../../src/identity/directory/directory.ts";
import { SignInLog } from "../../src/identity/sign-ins/sign-in-log.ts";
import { issueAccessToken } from "../../src/identity/tokens/access-token.ts";
import { registerManagementPlane } from "../../src/management/management-plane.ts";
import { RESOURCE_TYPES } from "../../src/names/arm-resource-ids.ts";
import { eraseVaultSecrets } from "../../src/resources/vault/deleted-secrets.ts";
import { SigningKeyRing } from "../../src/signing-keys/key-ring.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import type { ArmResource } from "../../src/store/store.ts";

export const ADMIN_TOKEN = "wikit-admin-0123456789abcdef0123456789abcdef";
/** The admin principal's client ID: its tokens count as the admin credential. */
export const ADMIN_CLIENT_ID = "ad0000ad-0000-4000-8000-0000000000ad";
export const API = "api-version=2023-01-31";

/** The server's own URL, which Graph tokens may also name (as az's Graph resource when it points at wikit). */
export const GRAPH_ALIAS = "https://wikit.example.test:8443";

export const vaultUri = (name: string) => `https://${name.toLowerCase()}.vault.example.test:8443/`;

/** What the fixture's cluster provisioning was asked to do: the composition root's part, recorded. */
export interface ProvisioningLog {
  provisioned: string[];
  deprovisioned: string[];
}

export async function startManagement() {
  const store = new SqliteStore(":memory:");
  const directory = createDirectory(store, {
    eraseVaultContents: (vaultId) => eraseVaultSecrets(store, vaultId),
  });
  const { tenant, subscription } = await directory.tenants.ensureDefaults();
  const present = (resource: ArmResource): ArmResource =>
    resource.type.toLowerCase() === RESOURCE_TYPES.vault.toLowerCase()
      ? { ...resource, properties: { ...resource.properties, vaultUri: vaultUri(resource.name) } }
      : resource;

  const signIns = new SignInLog(store);
  const provisioning: ProvisioningLog = { provisioned: [], deprovisioned: [] };
  const stsKeys = await SigningKeyRing.open(store, "sts");
  const app = Fastify({ routerOptions: { caseSensitive: false } });
  /** Every route the management plane mounts, as Fastify sees them: what "every route" tests walk. */
  const routes: { method: string; url: string }[] = [];
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat())
      if (method !== "HEAD") routes.push({ method, url: route.url });
  });
  await registerManagementPlane(app, {
    store,
    directory,
    signIns,
    adminToken: ADMIN_TOKEN,
    accessTokenKey: (header, token) => createLocalJWKSet({ keys: stsKeys.publicJwks() })(header, token),
    present,
    vaultUri,
    configurationStoreEndpoint: (name) => `https://${name}.azconfig.localhost:8443`,
    graphAliases: () => [GRAPH_ALIAS],
    defaultTenant: () => tenant.tenantId,
    adminClientId: ADMIN_CLIENT_ID,
    clusterProvisioning: {
      async provision() {
        const key = `cluster-${provisioning.provisioned.length + 1}`;
        provisioning.provisioned.push(key);
        return { localCluster: { key, issuerId: key } };
      },
      async deprovision(cluster) {
        provisioning.deprovisioned.push(String((cluster.properties.localCluster as { key: string }).key));
      },
    },
  });
  await app.ready();

  const sub = subscription.subscriptionId;

  /** An access token from the token service's key for `principal` (a client ID and principal ID), for `audience`. */
  const accessToken = async (
    principal: { clientId: string; principalId: string },
    audience = "https://management.core.windows.net/",
    lifetimeSeconds?: number,
    now?: number,
  ) =>
    (
      await issueAccessToken({ tenantId: tenant.tenantId, ...principal }, audience, stsKeys.active, {
        lifetimeSeconds,
        now,
      })
    ).token;

  /** A request with `token` (an access token, or the admin credential); `url` gets `api-version` unless it has a query. */
  const callAs = (
    token: string,
    method: "GET" | "PUT" | "DELETE" | "POST" | "PATCH",
    url: string,
    body?: unknown,
  ): Promise<LightMyRequestResponse> =>
    app.inject({
      method,
      // Graph's routes take no api-version.
      url: url.includes("?") || url.startsWith("/v1.0/") ? url : `${url}?${API}`,
      headers: { authorization: `Bearer ${token}` },
      ...(body === undefined ? {} : { payload: body as InjectOptions["payload"] }),
    });

  /** A request with the admin credential. */
  const call = (method: "GET" | "PUT" | "DELETE" | "POST" | "PATCH", url: string, body?: unknown) =>
    callAs(ADMIN_TOKEN, method, url, body);

  return {
    accessToken,
    callAs,
    app,
    store,
    directory,
    signIns,
    provisioning,
    routes,
    call,
    tenant: tenant.tenantId,
    sub,
    subPath: `/subscriptions/${sub}`,
    groupPath: (group: string) => `/subscriptions/${sub}/resourceGroups/${group}`,
  };
}

/** Asserts an ARM error response: the status, `{"error":{"code","message"}}` and nothing else. */
export function assertArmError(
  response: LightMyRequestResponse,
  status: number,
  code: string,
): { code: string; message: string } {
  assert.equal(response.statusCode, status, response.body);
  assert.match(String(response.headers["content-type"]), /^application\/json/);
  const body = response.json() as { error: { code: string; message: string } };
  assert.deepEqual(Object.keys(body), ["error"]);
  assert.equal(body.error.code, code, body.error.message);
  assert.equal(typeof body.error.message, "string");
  assert.ok(body.error.message.length > 0);
  return body.error;
}
