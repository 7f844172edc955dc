// The management API as `wikit up` mounts it — ARM routes, ARM secret routes, the sign-in log, admin authentication —
// over an in-memory store, driven with `inject()`.

import assert from "node:assert/strict";
import Fastify, { type InjectOptions, type LightMyRequestResponse } from "fastify";
import { createLocalJWKSet } from "jose";
import { builtInRoleById } from "../../src/identity/directory/built-in-roles.ts";
import { createDirectory } from "../../src/identity/directory/directory.ts";
import { SignInLog } from "../../src/identity/sign-ins/sign-in-log.ts";
import { issueAccessToken } from "../../src/identity/tokens/access-token.ts";
import { registerArmRoutes } from "../../src/management/arm-routes.ts";
import { registerArmSecretRoutes } from "../../src/management/arm-secret-routes.ts";
import { managementAccess } from "../../src/management/management-auth.ts";
import { registerSignInRoutes } from "../../src/management/sign-in-routes.ts";
import { RESOURCE_TYPES } from "../../src/names/arm-resource-ids.ts";
import { eraseVaultSecrets } from "../../src/resources/vault/deleted-secrets.ts";
import { SigningKeyRing } from "../../src/signing-keys/key-ring.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import type { ArmResource } from "../../src/store/store.ts";

export const ADMIN_TOKEN = "wikit-admin-0123456789abcdef0123456789abcdef";
export const API = "api-version=2023-01-31";

export const vaultUri = (name: string) => `https://${name.toLowerCase()}.vault.example.test:8443/`;

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
  const stsKeys = await SigningKeyRing.open(store, "sts");
  const roleAssignmentsOf = (principalId: string) => directory.roleAssignments.listFor(principalId);
  const app = Fastify({ routerOptions: { caseSensitive: false } });
  await app.register(async (management) => {
    const access = managementAccess({
      adminToken: ADMIN_TOKEN,
      accessTokenKey: (header, token) => createLocalJWKSet({ keys: stsKeys.publicJwks() })(header, token),
      roleAssignmentsOf,
      roleDefinitionOf: builtInRoleById,
    });
    management.addHook("onRequest", access.authenticate);
    registerArmRoutes(management, { directory, present, subscriptionVisible: access.subscriptionVisible });
    registerArmSecretRoutes(management, { vaults: directory.vaults, store, vaultUri });
    registerSignInRoutes(management, signIns);
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
    method: "GET" | "PUT" | "DELETE" | "POST",
    url: string,
    body?: unknown,
  ): Promise<LightMyRequestResponse> =>
    app.inject({
      method,
      url: url.includes("?") ? url : `${url}?${API}`,
      headers: { authorization: `Bearer ${token}` },
      ...(body === undefined ? {} : { payload: body as InjectOptions["payload"] }),
    });

  /** A request with the admin credential. */
  const call = (method: "GET" | "PUT" | "DELETE" | "POST", url: string, body?: unknown) =>
    callAs(ADMIN_TOKEN, method, url, body);

  return {
    accessToken,
    callAs,
    app,
    store,
    directory,
    signIns,
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
