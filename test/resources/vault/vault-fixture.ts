// A vault behind the data-plane routes, the token service's RS256 key, and a way to mint its tokens.

import Fastify, { type FastifyInstance, type LightMyRequestResponse } from "fastify";
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { BUILT_IN_ROLE_GUIDS, builtInRoleById } from "../../../src/identity/directory/built-in-roles.ts";
import { vaultResourceForHost } from "../../../src/resources/vault/challenge.ts";
import type { RbacAssignment } from "../../../src/resources/vault/rbac.ts";
import { vaultRoutes } from "../../../src/resources/vault/vault-routes.ts";
import { SqliteStore } from "../../../src/store/sqlite-store.ts";
import type { ArmResource } from "../../../src/store/store.ts";

export const TENANT = "5e7c6f1a-0d3b-4c52-9a8e-2b1f4d6c8e90";
export const SUBSCRIPTION = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9";
export const CALLER_OID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
export const CALLER_APPID = "3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b0a";
export const VAULT_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/Apps-RG/providers/Microsoft.KeyVault/vaults/kv1`;
export const VAULT_HOST = "kv1.vault.example.test:8443";
export const VAULT_RESOURCE = "https://vault.example.test:8443";
/** Requests made with `inject()` are plain HTTP, so IDs in responses start with this origin. */
export const VAULT_ORIGIN = `http://${VAULT_HOST}`;
export const AUTHORITY_HOST = "https://login.example.test:8443/";
export const NOW_MS = 1_750_000_000_000;
export const NOW = NOW_MS / 1000;

export const VAULT: ArmResource = {
  id: VAULT_ID,
  name: "kv1",
  type: "Microsoft.KeyVault/vaults",
  location: "westeurope",
  properties: { tenantId: TENANT, vaultUri: `https://${VAULT_HOST}/` },
};

const signingKey = await generateKeyPair("RS256", { extractable: true });
const strangerKey = await generateKeyPair("RS256");
const publicJwk = { ...(await exportJWK(signingKey.publicKey)), kid: "sts-key-1", alg: "RS256", use: "sig" };
export const accessTokenKey = createLocalJWKSet({ keys: [publicJwk] });

export interface MintOptions {
  claims?: JWTPayload;
  /** Seconds from NOW. */
  expiresIn?: number;
  /** Signs with a key the token service never published, under the published kid. */
  forged?: boolean;
}

/** A v1 access token for the vault, as the token service issues it. */
export async function mintAccessToken(options: MintOptions = {}): Promise<string> {
  const expiresIn = options.expiresIn ?? 3600;
  return new SignJWT({
    aud: VAULT_RESOURCE,
    iss: `https://sts.windows.net/${TENANT}/`,
    appid: CALLER_APPID,
    appidacr: "2",
    idtyp: "app",
    oid: CALLER_OID,
    sub: CALLER_OID,
    tid: TENANT,
    ver: "1.0",
    iat: NOW - 300,
    nbf: NOW - 300,
    exp: NOW + expiresIn,
    ...options.claims,
  })
    .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: "sts-key-1" })
    .sign(options.forged ? strangerKey.privateKey : signingKey.privateKey);
}

export function assignment(roleGuid: string, scope: string, principalId = CALLER_OID): RbacAssignment {
  const roleDefinitionId = `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`;
  return { scope, principalId, roleDefinitionId };
}

export const SECRETS_OFFICER_ON_VAULT = assignment(BUILT_IN_ROLE_GUIDS.keyVaultSecretsOfficer, VAULT_ID);

export interface VaultApp {
  app: FastifyInstance;
  store: SqliteStore;
  assignments: RbacAssignment[];
  /** Sends a request to the vault's host; `token: null` sends none, the default is a valid token. */
  call(
    method: "GET" | "PUT" | "PATCH" | "POST" | "DELETE",
    path: string,
    options?: { token?: string | null; body?: unknown; host?: string },
  ): Promise<LightMyRequestResponse>;
}

export async function startVault(
  assignments: RbacAssignment[] = [SECRETS_OFFICER_ON_VAULT],
): Promise<VaultApp> {
  const store = new SqliteStore(":memory:");
  const app = Fastify();
  await app.register(vaultRoutes, {
    store,
    resolveVault: async (host) => {
      if (host.toLowerCase() !== VAULT_HOST) return undefined;
      return { vault: VAULT, resource: vaultResourceForHost(host) ?? "" };
    },
    authorityHost: () => AUTHORITY_HOST,
    accessTokenKey,
    listRoleAssignments: async (principalId) => assignments.filter((a) => a.principalId === principalId),
    roleDefinitionOf: builtInRoleById,
    now: () => NOW_MS,
  });
  const defaultToken = await mintAccessToken();
  const call: VaultApp["call"] = (method, path, options = {}) => {
    const token = options.token === undefined ? defaultToken : options.token;
    const headers: Record<string, string> = { host: options.host ?? VAULT_HOST };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (options.body === undefined) return app.inject({ method, url: path, headers });
    headers["content-type"] = "application/json";
    const payload = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    return app.inject({ method, url: path, headers, payload });
  };
  return { app, store, assignments, call };
}
