// The management API as `wikit up` mounts it — ARM routes, ARM secret routes, the sign-in log, admin authentication —
// over an in-memory store, driven with `inject()`.

import assert from "node:assert/strict";
import Fastify, { type InjectOptions, type LightMyRequestResponse } from "fastify";
import { createDirectory } from "../../src/identity/directory/directory.ts";
import { SignInLog } from "../../src/identity/sign-ins/sign-in-log.ts";
import { adminAuthentication } from "../../src/management/admin-auth.ts";
import { registerArmRoutes } from "../../src/management/arm-routes.ts";
import { registerArmSecretRoutes } from "../../src/management/arm-secret-routes.ts";
import { registerSignInRoutes } from "../../src/management/sign-in-routes.ts";
import { RESOURCE_TYPES } from "../../src/names/arm-resource-ids.ts";
import { eraseVaultSecrets } from "../../src/resources/vault/deleted-secrets.ts";
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
  const app = Fastify({ routerOptions: { caseSensitive: false } });
  await app.register(async (management) => {
    management.addHook("onRequest", adminAuthentication(ADMIN_TOKEN));
    registerArmRoutes(management, { directory, present });
    registerArmSecretRoutes(management, { vaults: directory.vaults, store, vaultUri });
    registerSignInRoutes(management, signIns);
  });
  await app.ready();

  /** A request with the admin credential; `url` gets `api-version` unless it already has a query. */
  const call = (
    method: "GET" | "PUT" | "DELETE" | "POST",
    url: string,
    body?: unknown,
  ): Promise<LightMyRequestResponse> =>
    app.inject({
      method,
      url: url.includes("?") ? url : `${url}?${API}`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      ...(body === undefined ? {} : { payload: body as InjectOptions["payload"] }),
    });

  const sub = subscription.subscriptionId;
  return {
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
