// The Key Vault secrets data plane as a Fastify plugin, for whichever vault the request's Host names.
// Every request goes: find the vault → authenticate → authorise (RBAC) → validate → act. Authentication
// comes first because the SDKs' first request carries neither token nor body and must get the 401
// challenge, never a validation error.

import { randomBytes } from "node:crypto";
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import type { JWTVerifyGetKey } from "jose";
import type { ArmResource, SecretVersion, Store } from "../../store/store.ts";
import { StoreUnavailableError } from "../../store/store-unavailable-error.ts";
import { checkAccessToken } from "./access-token-check.ts";
import { challengeHeader } from "./challenge.ts";
import { ERROR_CODES, MESSAGES, SECRET_DATA_ACTIONS, type SecretDataAction } from "./constants.ts";
import {
  getDeletedSecret,
  listDeletedSecrets,
  purgeDeletedSecret,
  recoverDeletedSecret,
  softDeleteSecret,
} from "./deleted-secrets.ts";
import { listPage, parsePageRequest } from "./list-paging.ts";
import { authorize, type RbacAssignment, type RolePermissions } from "./rbac.ts";
import { decodeSecretBackup, encodeSecretBackup } from "./secret-backup.ts";
import {
  checkSecretName,
  checkSecretVersion,
  deletedSecretBundle,
  deletedSecretItem,
  isValidSecretName,
  parseJsonObject,
  parseSetSecretRequest,
  parseUpdateSecretRequest,
  secretBundle,
  secretItem,
  withAttributeChanges,
} from "./secret-bundle.ts";
import { badParameter, VaultError } from "./vault-error.ts";

export interface VaultRouteDeps {
  store: Store;
  /** Finds the vault addressed by a Host header (e.g. `kv1.vault.localhost:8443`), or undefined. */
  resolveVault(host: string): Promise<{ vault: ArmResource; resource: string } | undefined>;
  /** The token service's base URL, named in the challenge, e.g. `https://localhost:8443`. */
  authorityHost(): string;
  /** The token service's public signing keys. */
  accessTokenKey: JWTVerifyGetKey;
  listRoleAssignments(principalId: string): Promise<RbacAssignment[]>;
  /** The permissions of the role an assignment names by its role-definition ID; undefined when unknown. */
  roleDefinitionOf(roleDefinitionId: string): RolePermissions | undefined;
  /** Milliseconds since the epoch; `Date.now` unless a test pins the clock. */
  now?: () => number;
}

/** What an admitted request carries into its operation. */
interface Admitted {
  vault: ArmResource;
  /** The request's scheme, host and port: the base of every ID in responses. */
  origin: string;
  query: URLSearchParams;
  apiVersion: string;
  /** The request time in epoch seconds, as Key Vault writes times. */
  now: number;
}

type NameParams = { Params: { name: string } };
type VersionParams = { Params: { name: string; version?: string } };

const JSON_UTF8 = "application/json; charset=utf-8";
const SET_SECRET_EXAMPLE = '{"value": "s3cr3t"}';
const UPDATE_SECRET_EXAMPLE = '{"attributes": {"enabled": false}}';
const RESTORE_EXAMPLE = '{"value": "<the blob returned by backup>"}';

export const vaultRoutes: FastifyPluginAsync<VaultRouteDeps> = async (app, deps) => {
  const { store } = deps;
  const clock = deps.now ?? Date.now;

  // Bodies stay raw text until the caller is authenticated: nothing may be parsed or rejected first.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_request, body, done) => done(null, body));

  // Responses may carry secret values.
  app.addHook("onRequest", async (_request, reply) => {
    reply.header("cache-control", "no-cache");
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof VaultError) {
      if (error.challenge) reply.header("www-authenticate", error.challenge);
      return reply.code(error.status).type(JSON_UTF8).send(error.toBody());
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      // Fastify's own refusals, such as a body over the size limit.
      const refusal = new VaultError(status, ERROR_CODES.badParameter, (error as Error).message);
      return reply.code(status).type(JSON_UTF8).send(refusal.toBody());
    }
    if (error instanceof StoreUnavailableError) {
      request.log.warn({ cause: error.message }, "store unavailable");
      const outage = new VaultError(
        503,
        "ServiceUnavailable",
        "The service is unavailable for a moment. Try again.",
      );
      return reply
        .code(503)
        .header("retry-after", String(error.retryAfterSeconds))
        .type(JSON_UTF8)
        .send(outage.toBody());
    }
    request.log.error({ err: error }, "vault request failed");
    const failure = new VaultError(500, ERROR_CODES.internalError, MESSAGES.internalError);
    return reply.code(500).type(JSON_UTF8).send(failure.toBody());
  });

  /** Finds the vault, authenticates the caller and checks RBAC for `action`, in that order. */
  async function admit(
    request: FastifyRequest,
    action: SecretDataAction,
    secretName?: string,
  ): Promise<Admitted> {
    const host = request.host ?? "";
    const target = host ? await deps.resolveVault(host) : undefined;
    if (!target) throw new VaultError(404, ERROR_CODES.vaultNotFound, MESSAGES.vaultNotFound(host));
    const { vault, resource } = target;
    const tenantId = vault.properties.tenantId;
    if (typeof tenantId !== "string" || tenantId === "") throw new Error(`vault ${vault.id} has no tenantId`);
    const nowMs = clock();

    const check = await checkAccessToken({
      authorization: request.headers.authorization,
      getKey: deps.accessTokenKey,
      resource,
      tenantId,
      now: new Date(nowMs),
    });
    if (!check.ok) {
      const challenge = challengeHeader({ authorityHost: deps.authorityHost(), tenantId, resource });
      throw new VaultError(401, ERROR_CODES.unauthorized, check.message, { challenge });
    }
    const { claims } = check;

    // A malformed name (say `a/../b`) must not steer the scope; validation rejects it after RBAC.
    const scope =
      secretName !== undefined && isValidSecretName(secretName)
        ? `${vault.id}/secrets/${secretName}`
        : vault.id;
    const decision = authorize({
      principalId: claims.oid,
      action,
      scope,
      assignments: await deps.listRoleAssignments(claims.oid),
      roleDefinitionOf: deps.roleDefinitionOf,
    });
    if (!decision.allowed) {
      const message = MESSAGES.forbiddenByRbac({
        appid: claims.appid ?? claims.azp ?? "",
        oid: claims.oid,
        iss: claims.iss,
        action,
        resource: decision.resource,
        vaultName: vault.name,
        location: vault.location ?? "",
      });
      throw new VaultError(403, ERROR_CODES.forbidden, message, { innerCode: ERROR_CODES.forbiddenByRbac });
    }

    // URLSearchParams decodes parameter names: the JavaScript SDK sends `api%2Dversion`.
    const query = new URL(request.url, "http://vault.invalid").searchParams;
    const apiVersion = query.get("api-version");
    if (!apiVersion) throw badParameter(MESSAGES.missingApiVersion);
    return {
      vault,
      origin: `${request.protocol}://${host}`,
      query,
      apiVersion,
      now: Math.floor(nowMs / 1000),
    };
  }

  // Secrets ------------------------------------------------------------------------------------------

  app.put<NameParams>("/secrets/:name", async (request) => {
    const at = await admit(request, SECRET_DATA_ACTIONS.setSecret, request.params.name);
    const name = checkSecretName(request.params.name);
    const input = parseSetSecretRequest(parseJsonObject(request.body, SET_SECRET_EXAMPLE));
    const latest = await store.getSecretVersion(at.vault.id, name);
    if (!latest && (await getDeletedSecret(store, at.vault.id, name))) throw deletedNameInUse(name);
    const secret = withAttributeChanges(
      {
        vaultId: at.vault.id,
        name: latest?.name ?? name,
        version: newSecretVersion(),
        value: input.value,
        contentType: input.contentType,
        tags: input.tags ?? {},
        enabled: true,
        created: at.now,
        updated: at.now,
      },
      input.attributes,
    );
    await store.putSecretVersion(secret);
    return secretBundle(secret, at.origin, { withValue: true });
  });

  // `/secrets/{name}/` (empty version, as the SDKs send it) and `/secrets/{name}` both mean the latest.
  const getSecret = async (request: FastifyRequest<VersionParams>) => {
    const at = await admit(request, SECRET_DATA_ACTIONS.getSecret, request.params.name);
    const name = checkSecretName(request.params.name);
    const version = checkSecretVersion(request.params.version);
    const secret = await store.getSecretVersion(at.vault.id, name, version);
    if (!secret) throw secretNotFound(version ? `${name}/${version}` : name);
    if (!secret.enabled) {
      throw new VaultError(403, ERROR_CODES.forbidden, MESSAGES.secretDisabled, {
        innerCode: ERROR_CODES.secretDisabled,
      });
    }
    return secretBundle(secret, at.origin, { withValue: true });
  };
  app.get<VersionParams>("/secrets/:name", getSecret);
  app.get<VersionParams>("/secrets/:name/:version", getSecret);

  const updateSecret = async (request: FastifyRequest<VersionParams>) => {
    const at = await admit(request, SECRET_DATA_ACTIONS.update, request.params.name);
    const name = checkSecretName(request.params.name);
    const version = checkSecretVersion(request.params.version);
    const input = parseUpdateSecretRequest(parseJsonObject(request.body, UPDATE_SECRET_EXAMPLE));
    const secret = await store.getSecretVersion(at.vault.id, name, version);
    if (!secret) throw secretNotFound(version ? `${name}/${version}` : name);
    const updated: SecretVersion = {
      ...withAttributeChanges(secret, input.attributes),
      contentType: input.contentType ?? secret.contentType,
      tags: input.tags ?? secret.tags,
      updated: at.now,
    };
    await store.putSecretVersion(updated);
    return secretBundle(updated, at.origin, { withValue: false });
  };
  app.patch<VersionParams>("/secrets/:name", updateSecret);
  app.patch<VersionParams>("/secrets/:name/:version", updateSecret);

  app.delete<NameParams>("/secrets/:name", async (request) => {
    const at = await admit(request, SECRET_DATA_ACTIONS.delete, request.params.name);
    const name = checkSecretName(request.params.name);
    const deleted = await softDeleteSecret(store, at.vault.id, name, at.now);
    if (!deleted) throw secretNotFound(name);
    return deletedSecretBundle(deleted, at.origin);
  });

  app.get("/secrets", async (request) => {
    const at = await admit(request, SECRET_DATA_ACTIONS.readMetadata);
    const page = parsePageRequest(at.query);
    const items = (await store.listLatestSecrets(at.vault.id)).map((secret) =>
      secretItem(secret, at.origin, { withVersion: false }),
    );
    return listPage(items, page, { origin: at.origin, path: "/secrets", apiVersion: at.apiVersion });
  });

  app.get<NameParams>("/secrets/:name/versions", async (request) => {
    const at = await admit(request, SECRET_DATA_ACTIONS.readMetadata, request.params.name);
    const name = checkSecretName(request.params.name);
    const page = parsePageRequest(at.query);
    const items = (await store.listSecretVersions(at.vault.id, name)).map((secret) =>
      secretItem(secret, at.origin, { withVersion: true }),
    );
    return listPage(items, page, {
      origin: at.origin,
      path: `/secrets/${name}/versions`,
      apiVersion: at.apiVersion,
    });
  });

  // Deleted secrets ----------------------------------------------------------------------------------

  app.get("/deletedsecrets", async (request) => {
    const at = await admit(request, SECRET_DATA_ACTIONS.readMetadata);
    const page = parsePageRequest(at.query);
    const items = (await listDeletedSecrets(store, at.vault.id)).map((secret) =>
      deletedSecretItem(secret, at.origin),
    );
    return listPage(items, page, { origin: at.origin, path: "/deletedsecrets", apiVersion: at.apiVersion });
  });

  app.get<NameParams>("/deletedsecrets/:name", async (request) => {
    const at = await admit(request, SECRET_DATA_ACTIONS.readMetadata, request.params.name);
    const name = checkSecretName(request.params.name);
    const deleted = await getDeletedSecret(store, at.vault.id, name);
    if (!deleted) throw deletedSecretNotFound(name);
    return deletedSecretBundle(deleted, at.origin);
  });

  app.delete<NameParams>("/deletedsecrets/:name", async (request, reply) => {
    const at = await admit(request, SECRET_DATA_ACTIONS.purge, request.params.name);
    const name = checkSecretName(request.params.name);
    if (!(await purgeDeletedSecret(store, at.vault.id, name))) throw deletedSecretNotFound(name);
    return reply.code(204).send();
  });

  app.post<NameParams>("/deletedsecrets/:name/recover", async (request) => {
    const at = await admit(request, SECRET_DATA_ACTIONS.recover, request.params.name);
    const name = checkSecretName(request.params.name);
    const recovered = await recoverDeletedSecret(store, at.vault.id, name);
    if (!recovered) throw deletedSecretNotFound(name);
    return secretBundle(recovered, at.origin, { withValue: false });
  });

  // Backup and restore -------------------------------------------------------------------------------

  app.post<NameParams>("/secrets/:name/backup", async (request) => {
    const at = await admit(request, SECRET_DATA_ACTIONS.backup, request.params.name);
    const name = checkSecretName(request.params.name);
    const versions = await store.listSecretVersions(at.vault.id, name);
    if (versions.length === 0) throw secretNotFound(name);
    return { value: encodeSecretBackup(versions) };
  });

  // The secret's name is inside the blob, unknown until after RBAC, so restore is checked at the vault.
  app.post("/secrets/restore", async (request) => {
    const at = await admit(request, SECRET_DATA_ACTIONS.restore);
    const backup = decodeSecretBackup(parseJsonObject(request.body, RESTORE_EXAMPLE).value);
    if (await store.getSecretVersion(at.vault.id, backup.name)) {
      throw new VaultError(409, ERROR_CODES.conflict, MESSAGES.secretExists(backup.name));
    }
    if (await getDeletedSecret(store, at.vault.id, backup.name)) throw deletedNameInUse(backup.name);
    const restored = backup.versions.map((version): SecretVersion => ({ ...version, vaultId: at.vault.id }));
    for (const version of restored) await store.putSecretVersion(version);
    return secretBundle(restored.at(-1) as SecretVersion, at.origin, { withValue: false });
  });
};

/** 32 lowercase hex characters, like Key Vault's version IDs. */
function newSecretVersion(): string {
  return randomBytes(16).toString("hex");
}

function secretNotFound(nameOrId: string): VaultError {
  return new VaultError(404, ERROR_CODES.secretNotFound, MESSAGES.secretNotFound(nameOrId));
}

function deletedSecretNotFound(name: string): VaultError {
  return new VaultError(404, ERROR_CODES.secretNotFound, MESSAGES.deletedSecretNotFound(name));
}

function deletedNameInUse(name: string): VaultError {
  return new VaultError(409, ERROR_CODES.conflict, MESSAGES.secretIsDeleted(name), {
    innerCode: ERROR_CODES.objectIsDeletedButRecoverable,
  });
}
