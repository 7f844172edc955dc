// The App Configuration data plane as a Fastify plugin, for whichever configuration store the request's Host names.
// Every request goes: find the store → authenticate (HMAC access key or Entra bearer token) → authorise (the key's
// read-only flag, or RBAC) → validate → act, so that a caller who may not read learns nothing from a validation error.

import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { JWTVerifyGetKey } from "jose";
import type {
  ArmResource,
  KeyValueChange,
  KeyValueRevision,
  KeyValuesVersion,
  Store,
  StoredKeyValue,
} from "../../store/store.ts";
import { StoreUnavailableError } from "../../store/store-unavailable-error.ts";
import { checkBearerToken } from "./bearer-token-check.ts";
import { type Conditions, decideRead, decideWrite } from "./conditional-requests.ts";
import {
  type AccessKeySecret,
  ConfigurationStoreCache,
  type ConfigurationStoreSource,
  type ResolvedConfigurationStore,
  type StoreAtHost,
} from "./configuration-store-cache.ts";
import { ALLOWED_SKEW_MS, verifyHmacRequest } from "./hmac-authentication.ts";
import {
  checkKey,
  KeyValueError,
  keyValueJson,
  parseKeyValueBody,
  parseSelect,
} from "./key-value-documents.ts";
import {
  byCodeUnit,
  firstIndexFrom,
  KeyValueSnapshots,
  keyValuePosition,
  type ListedKeyValue,
  labelPosition,
  listed,
} from "./key-value-snapshots.ts";
import {
  FilterError,
  matchesNameFilter,
  matchesTagsFilter,
  type NameFilter,
  parseNameFilter,
  parseTagsFilter,
} from "./name-filter.ts";
import { afterPosition, linkHeader, nextLinkAfter, PAGE_SIZE, pageOf } from "./paging.ts";
import {
  invalidArgument,
  invalidFilter,
  keyLocked,
  PROBLEM_JSON,
  type ProblemDetails,
} from "./problem-details.ts";
import { checkSyncTokens, newEtag, ReplayGuard, syncToken } from "./request-state.ts";
import { mementoDatetime, parseAcceptDatetime, type Revision, stateAt } from "./revisions.ts";

/** The data actions of App Configuration's RBAC, as the built-in roles grant them. */
export const KEY_VALUE_ACTIONS = {
  read: "Microsoft.AppConfiguration/configurationStores/keyValues/read",
  write: "Microsoft.AppConfiguration/configurationStores/keyValues/write",
  delete: "Microsoft.AppConfiguration/configurationStores/keyValues/delete",
} as const;
type KeyValueAction = keyof typeof KEY_VALUE_ACTIONS;

export interface AppConfigurationRouteDeps {
  store: Store;
  /** The configuration stores by Host, their keys, and the stamp that says when to look them up again. */
  configurationStores: ConfigurationStoreSource;
  /** The token service's public signing keys. */
  accessTokenKey: JWTVerifyGetKey;
  /** Whether the principal holds a role granting the data action at the scope (or above it). */
  isAllowed(principalId: string, action: string, scope: string): Promise<boolean>;
  /** Milliseconds since the epoch; `Date.now` unless a test pins the clock. */
  now?: () => number;
}

const KV = "application/vnd.microsoft.appconfig.kv+json; charset=utf-8";
const KV_SET = "application/vnd.microsoft.appconfig.kvset+json; charset=utf-8";
const KEY_SET = "application/vnd.microsoft.appconfig.keyset+json; charset=utf-8";
const LABEL_SET = "application/vnd.microsoft.appconfig.labelset+json; charset=utf-8";
/** The service's limit on a key-value (key, label, value, content type and tags together). */
const MAX_KEY_VALUE_BYTES = 10 * 1024;
const BOTH_SCHEMES = "HMAC-SHA256, Bearer";
const WRITES_NEED_A_BODY = '{"value": "…", "content_type": "…", "tags": {}}';

/** A refusal before the operation: 401 with a challenge, or 403. */
class AccessError extends Error {
  readonly status: 401 | 403;
  readonly wwwAuthenticate: string | undefined;

  constructor(status: 401 | 403, wwwAuthenticate: string | undefined, detail: string) {
    super(detail);
    this.status = status;
    this.wwwAuthenticate = wwwAuthenticate;
  }
}

interface Admitted {
  configurationStoreId: string;
  /** The query with its parameter names lower-cased: SDKs send `After` and `$Select` as readily as `after`. */
  query: URLSearchParams;
  /** The request's path, still percent-encoded. */
  path: string;
  now: number;
  /** The store's key-values' version, read before anything else of them. */
  version: KeyValuesVersion;
}

/** The key and label a `/kv/{key}` or `/locks/{key}` request names; an absent, empty or NUL label is the null label. */
interface Target {
  key: string;
  label: string | null;
}

export const appConfigurationRoutes: FastifyPluginAsync<AppConfigurationRouteDeps> = async (app, deps) => {
  const { store } = deps;
  const clock = deps.now ?? Date.now;
  const replays = new ReplayGuard(2 * ALLOWED_SKEW_MS);
  const snapshots = new KeyValueSnapshots();
  const configurationStores = new ConfigurationStoreCache(deps.configurationStores);
  /** The signatures of the HMAC-signed writes in flight, remembered once their change is made. */
  const writeSignatures = new WeakMap<FastifyRequest, string>();

  // Bodies stay raw bytes until the caller is authenticated: the HMAC covers them exactly as sent.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));

  app.addHook("onRequest", async (request, reply) => {
    reply.header("cache-control", "no-cache");
    reply.header("x-ms-request-id", request.id);
    const clientRequestId = request.headers["x-ms-client-request-id"];
    if (typeof clientRequestId === "string") reply.header("x-ms-client-request-id", clientRequestId);
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof AccessError) {
      if (error.wwwAuthenticate) reply.header("www-authenticate", error.wwwAuthenticate);
      return problem(reply, {
        type: `https://azconfig.io/errors/${error.status === 401 ? "unauthorized" : "forbidden"}`,
        title: error.status === 401 ? "Unauthorized" : "Forbidden",
        detail: error.message,
        status: error.status,
      });
    }
    if (error instanceof KeyValueError) return problem(reply, error.problem);
    if (error instanceof FilterError) return problem(reply, invalidFilter(error));
    if (error instanceof StoreUnavailableError) {
      request.log.warn({ cause: error.message }, "store unavailable");
      reply.header("retry-after", String(error.retryAfterSeconds));
      return problem(reply, {
        type: "https://azconfig.io/errors/service-unavailable",
        title: "Service Unavailable",
        detail: "The service is unavailable for a moment. Try again.",
        status: 503,
      });
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      // Fastify's own refusals, such as a body over the size limit or a malformed URL.
      return problem(reply, {
        type: "https://azconfig.io/errors/invalid-request",
        title: (error as Error).message,
        status,
      });
    }
    request.log.error({ err: error }, "configuration request failed");
    return problem(reply, {
      type: "https://azconfig.io/errors/internal-error",
      title: "Internal Server Error",
      status: 500,
    });
  });

  /** Finds the store, authenticates the caller and checks that it may `action`, in that order. */
  async function admit(
    request: FastifyRequest,
    reply: FastifyReply,
    action: KeyValueAction,
  ): Promise<Admitted> {
    const host = request.host ?? "";
    const atHost = host ? await configurationStores.at(host) : undefined;
    const target = atHost?.target;
    if (!target) {
      throw new KeyValueError({
        type: "https://azconfig.io/errors/not-found",
        title: `No configuration store answers at '${host}'.`,
        detail: "Create one with `wikit appconfig create -n <name> -g <group>`.",
        status: 404,
      });
    }
    const { configurationStore } = target;
    const now = clock();
    const authorization = request.headers.authorization ?? "";
    if (/^HMAC-SHA256(\s|$)/i.test(authorization)) {
      await admitAccessKey(
        request,
        configurationStore,
        await (atHost as StoreAtHost).accessKeys(),
        action,
        now,
      );
    } else if (/^Bearer\s/i.test(authorization)) {
      await admitBearer(authorization, target, `https://${host}`, action);
    } else {
      throw new AccessError(
        401,
        BOTH_SCHEMES,
        "An Authorization header (HMAC-SHA256 or Bearer) is required.",
      );
    }
    const syncTokens = request.headers["sync-token"];
    if (typeof syncTokens === "string") checkSyncTokens(syncTokens);
    // Every answer names the store's latest change, as the service's do; a write's names its own.
    const version = await store.keyValuesVersion(configurationStore.id);
    reply.header("sync-token", syncToken(configurationStore.id, version.sequence));
    return {
      configurationStoreId: configurationStore.id,
      query: lowerCaseNames(new URL(request.url, "https://store.invalid").searchParams),
      path: request.url.split("?")[0] ?? "",
      now,
      version,
    };
  }

  async function admitAccessKey(
    request: FastifyRequest,
    configurationStore: ArmResource,
    keys: readonly AccessKeySecret[],
    action: KeyValueAction,
    now: number,
  ): Promise<void> {
    if (configurationStore.properties.disableLocalAuth === true) {
      throw new AccessError(
        401,
        BOTH_SCHEMES,
        "Local authentication is disabled: use a Microsoft Entra token.",
      );
    }
    const outcome = verifyHmacRequest(
      {
        method: request.method,
        pathAndQuery: request.url,
        headers: lowerCaseHeaders(request),
        body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
      },
      (credential) => keys.find((key) => key.id === credential)?.secret,
      now,
    );
    if (!outcome.ok) throw new AccessError(401, outcome.wwwAuthenticate, outcome.description);
    if (action !== "read") {
      if (keys.find((key) => key.id === outcome.credential)?.readOnly) {
        throw new AccessError(403, undefined, "A read-only access key may not change key-values.");
      }
      // A write's signature serves once: a captured request cannot be sent again while its date is acceptable.
      if (replays.wasUsed(outcome.signature, now)) {
        const description = "The request signature has already been used";
        throw new AccessError(
          401,
          `HMAC-SHA256 error="invalid_token" error_description="${description}", Bearer`,
          description,
        );
      }
      writeSignatures.set(request, outcome.signature);
    }
  }

  async function admitBearer(
    authorization: string,
    target: ResolvedConfigurationStore,
    hostAudience: string,
    action: KeyValueAction,
  ): Promise<void> {
    const check = await checkBearerToken({
      authorization,
      getKey: deps.accessTokenKey,
      audiences: [...target.audiences, hostAudience],
      tenantId: target.tenantId,
      now: new Date(clock()),
    });
    if (!check.ok) {
      throw new AccessError(
        401,
        `${BOTH_SCHEMES} error="invalid_token", error_description="${check.description}"`,
        check.description,
      );
    }
    const dataAction = KEY_VALUE_ACTIONS[action];
    if (!(await deps.isAllowed(check.principalId, dataAction, target.configurationStore.id))) {
      const role = action === "read" ? "Reader" : "Owner";
      throw new AccessError(
        403,
        undefined,
        `The principal '${check.principalId}' does not have authorization to perform '${dataAction}' on '${target.configurationStore.id}'. Assign it App Configuration Data ${role} on the store, its resource group or its subscription.`,
      );
    }
  }

  // Key-values ----------------------------------------------------------------------------------------

  const listKeyValues = async (request: FastifyRequest, reply: FastifyReply) => {
    const at = await admit(request, reply, "read");
    const keys = parseNameFilter("key", at.query.get("key") ?? undefined);
    const labels = parseNameFilter("label", at.query.get("label") ?? undefined, { nullLabel: true });
    const select = at.query.get("$select") ?? undefined;
    const fields = parseSelect(select);
    const tags = parseTagsFilter(at.query.getAll("tags"));
    if (at.query.has("snapshot")) {
      throw new KeyValueError(
        invalidArgument("snapshot", "Snapshots are not supported: list the key-values instead."),
      );
    }
    const selected = (kv: StoredKeyValue) =>
      matchesNameFilter(keys, kv.key) &&
      matchesNameFilter(labels, kv.label) &&
      matchesTagsFilter(tags, kv.tags);
    const moment = acceptDatetime(request, at.now);
    if (moment !== undefined) {
      const revisions = await store.listKeyValueRevisions(at.configurationStoreId, {
        keyPrefix: keyPrefixOf(keys),
      });
      reply.header("memento-datetime", mementoDatetime(moment));
      const then = listed(statesAt(revisions, moment).filter(selected));
      return sendPage(at, reply, then, KV_SET, (item) => keyValueJson(item.keyValue, fields));
    }

    // The version was read first: a list read after it is at least as new as it.
    const sorted = await snapshots.sorted(at.configurationStoreId, at.version.stamp, () =>
      store.listKeyValues(at.configurationStoreId),
    );
    const prefix = keyPrefixOf(keys) ?? "";
    const after = afterPosition(at.query);
    let index = firstIndexFrom(sorted, prefix);
    if (after !== undefined) index = Math.max(index, firstIndexFrom(sorted, after, { after: true }));
    const page: ListedKeyValue[] = [];
    let more = false;
    // Positions begin with the key, so the prefix's key-values lie together from `index` on.
    for (; index < sorted.length; index++) {
      const item = sorted[index] as ListedKeyValue;
      if (!item.position.startsWith(prefix)) break;
      if (!selected(item.keyValue)) continue;
      if (page.length === PAGE_SIZE) {
        more = true;
        break;
      }
      page.push(item);
    }
    const last = page.at(-1);
    const nextLink = more && last ? nextLinkAfter(last.position, at) : undefined;
    if (nextLink) reply.header("link", linkHeader(nextLink));
    // Without $select every key-value's JSON is made once per snapshot and reused.
    const items = select
      ? page.map((item) => JSON.stringify(keyValueJson(item.keyValue, fields)))
      : page.map((item) => item.json());
    const body = `{"items":[${items.join(",")}]${nextLink ? `,"@nextLink":${JSON.stringify(nextLink)}` : ""}}`;
    return reply.type(KV_SET).send(body);
  };
  // Fastify answers HEAD with each GET's headers.
  app.get("/kv", listKeyValues);

  const getKeyValue = async (request: FastifyRequest, reply: FastifyReply) => {
    const at = await admit(request, reply, "read");
    const { key, label } = targetOf(request, "/kv/", at.query);
    const fields = parseSelect(at.query.get("$select") ?? undefined);
    const moment = acceptDatetime(request, at.now);
    const current =
      moment === undefined
        ? await store.getKeyValue(at.configurationStoreId, key, label)
        : statesAt(
            await store.listKeyValueRevisions(at.configurationStoreId, { keyPrefix: key }),
            moment,
          ).find((kv) => kv.key === key && kv.label === label);
    switch (decideRead(current, conditionsOf(request))) {
      case "precondition-failed":
        throw preconditionFailed(key);
      case "not-found":
        throw keyValueNotFound(key, label);
      case "not-modified":
        return reply.code(304).header("etag", `"${current?.etag}"`).send();
    }
    const kv = current as StoredKeyValue;
    if (moment !== undefined) reply.header("memento-datetime", mementoDatetime(moment));
    reply.header("etag", `"${kv.etag}"`).header("last-modified", new Date(kv.lastModified).toUTCString());
    return reply.type(KV).send(keyValueJson(kv, fields));
  };
  app.get("/kv/*", getKeyValue);

  app.put("/kv/*", async (request, reply) => {
    const at = await admit(request, reply, "write");
    const { key, label } = targetOf(request, "/kv/", at.query);
    checkKey(key);
    const input = parseKeyValueBody(jsonBody(request));
    const conditions = conditionsOf(request);
    const written = await change(reply, at, { key, label }, (current) => {
      decideOrThrow(current, conditions, key);
      const next: StoredKeyValue = {
        key,
        label,
        value: input.value,
        contentType: input.contentType,
        tags: input.tags,
        locked: false,
        etag: newEtag(),
        lastModified: at.now,
      };
      checkSize(next);
      return { put: next };
    });
    return sendKeyValue(reply, written as StoredKeyValue);
  });

  app.delete("/kv/*", async (request, reply) => {
    const at = await admit(request, reply, "delete");
    const { key, label } = targetOf(request, "/kv/", at.query);
    const conditions = conditionsOf(request);
    let deleted: StoredKeyValue | undefined;
    await change(reply, at, { key, label }, (current) => {
      decideOrThrow(current, conditions, key);
      deleted = current;
      return current ? { delete: true, at: at.now } : { keep: true };
    });
    return deleted ? sendKeyValue(reply, deleted) : reply.code(204).send();
  });

  // Locks: a locked key-value is read-only until unlocked ---------------------------------------------

  for (const [method, locked] of [
    ["PUT", true],
    ["DELETE", false],
  ] as const) {
    app.route({
      method,
      url: "/locks/*",
      handler: async (request, reply) => {
        const at = await admit(request, reply, "write");
        const { key, label } = targetOf(request, "/locks/", at.query);
        const conditions = conditionsOf(request);
        const written = await change(reply, at, { key, label }, (current) => {
          if (!current) throw keyValueNotFound(key, label);
          if (decideWrite({ etag: current.etag, locked: false }, conditions) === "precondition-failed") {
            throw preconditionFailed(key);
          }
          return { put: { ...current, locked, etag: newEtag(), lastModified: at.now } };
        });
        return sendKeyValue(reply, written as StoredKeyValue);
      },
    });
  }

  // Keys, labels and revisions ------------------------------------------------------------------------

  app.get("/keys", async (request, reply) => {
    const at = await admit(request, reply, "read");
    const names = parseNameFilter("name", at.query.get("name") ?? undefined);
    const keys = new Set<string>();
    for (const kv of await store.listKeyValues(at.configurationStoreId, { keyPrefix: keyPrefixOf(names) })) {
      if (matchesNameFilter(names, kv.key)) keys.add(kv.key);
    }
    const sorted = [...keys].sort(byCodeUnit);
    return sendPage(
      at,
      reply,
      sorted,
      KEY_SET,
      (name) => ({ name }),
      (name) => name,
    );
  });

  app.get("/labels", async (request, reply) => {
    const at = await admit(request, reply, "read");
    const names = parseNameFilter("name", at.query.get("name") ?? undefined, { nullLabel: true });
    const labels = new Map<string, string | null>();
    for (const kv of await store.listKeyValues(at.configurationStoreId)) {
      if (matchesNameFilter(names, kv.label)) labels.set(labelPosition(kv.label), kv.label);
    }
    const positions = [...labels.keys()].sort(byCodeUnit);
    return sendPage(
      at,
      reply,
      positions,
      LABEL_SET,
      (position) => ({ name: labels.get(position) ?? null }),
      (position) => position,
    );
  });

  app.get("/revisions", async (request, reply) => {
    const at = await admit(request, reply, "read");
    const keys = parseNameFilter("key", at.query.get("key") ?? undefined);
    const labels = parseNameFilter("label", at.query.get("label") ?? undefined, { nullLabel: true });
    const fields = parseSelect(at.query.get("$select") ?? undefined);
    const tags = parseTagsFilter(at.query.getAll("tags"));
    const moment = acceptDatetime(request, at.now) ?? Number.POSITIVE_INFINITY;
    // Newest first, as the service lists them; each revision's position is its sequence, counting down.
    const revisions = (
      await store.listKeyValueRevisions(at.configurationStoreId, { keyPrefix: keyPrefixOf(keys) })
    )
      .filter((revision) => revision.written !== undefined && revision.at <= moment)
      .filter(
        (revision) =>
          matchesNameFilter(keys, revision.key) &&
          matchesNameFilter(labels, revision.label) &&
          matchesTagsFilter(tags, (revision.written as StoredKeyValue).tags),
      )
      .reverse();
    return sendPage(
      at,
      reply,
      revisions,
      KV_SET,
      (revision) => keyValueJson(revision.written as StoredKeyValue, fields),
      (revision) => String(Number.MAX_SAFE_INTEGER - revision.sequence).padStart(16, "0"),
    );
  });

  /** Applies a change under the store's write lock and answers with the Sync-Token of its revision. */
  async function change(
    reply: FastifyReply,
    at: Admitted,
    target: Target,
    decide: (current: StoredKeyValue | undefined) => KeyValueChange,
  ): Promise<StoredKeyValue | undefined> {
    const result = await store.changeKeyValue(at.configurationStoreId, target.key, target.label, decide);
    const signature = writeSignatures.get(reply.request);
    if (signature !== undefined) replays.remember(signature, at.now);
    if (result.sequence !== undefined)
      reply.header("sync-token", syncToken(at.configurationStoreId, result.sequence));
    return result.keyValue;
  }
};

function sendKeyValue(reply: FastifyReply, kv: StoredKeyValue) {
  reply.header("etag", `"${kv.etag}"`).header("last-modified", new Date(kv.lastModified).toUTCString());
  return reply.type(KV).send(keyValueJson(kv));
}

/** One page of a list, with `Link` and `@nextLink` naming the next while more follow. */
function sendPage<T>(
  request: { path: string; query: URLSearchParams },
  reply: FastifyReply,
  items: readonly T[],
  mediaType: string,
  json: (item: T) => unknown,
  position: (item: T) => string = (item) => (item as ListedKeyValue).position,
) {
  const page = pageOf(items, position, request);
  reply.type(mediaType);
  if (page.nextLink) reply.header("link", linkHeader(page.nextLink));
  return reply.send({
    items: page.items.map(json),
    ...(page.nextLink ? { "@nextLink": page.nextLink } : {}),
  });
}

/** The key-values as they were at `moment`, from the store's revisions. */
function statesAt(revisions: readonly KeyValueRevision[], moment: number): StoredKeyValue[] {
  const byTarget = new Map<string, Revision[]>();
  for (const revision of revisions) {
    const position = keyValuePosition(revision);
    const history = byTarget.get(position) ?? [];
    history.push(
      revision.written
        ? { kind: "set", record: revision.written }
        : { kind: "deleted", key: revision.key, label: revision.label, at: revision.at },
    );
    byTarget.set(position, history);
  }
  return [...byTarget.values()].flatMap((history) => stateAt(history, moment) ?? []);
}

/** The store can narrow a list to a key prefix; names and `any` are matched afterwards. */
function keyPrefixOf(filter: NameFilter): string | undefined {
  return filter.kind === "prefix" ? filter.prefix : undefined;
}

function acceptDatetime(request: FastifyRequest, now: number): number | undefined {
  const header = request.headers["accept-datetime"];
  return typeof header === "string" ? parseAcceptDatetime(header, now) : undefined;
}

/** The key in the path (percent-decoded; `/` may be encoded or not) and the `label` parameter. */
function targetOf(request: FastifyRequest, prefix: string, query: URLSearchParams): Target {
  const path = request.url.split("?")[0] ?? "";
  let key: string;
  try {
    key = decodeURIComponent(path.slice(prefix.length));
  } catch {
    throw new KeyValueError(invalidArgument("key", "The key in the path is not valid percent-encoding."));
  }
  if (key === "") throw new KeyValueError(invalidArgument("key", "The path names no key: /kv/{key}."));
  const label = query.get("label");
  return { key, label: label === null || label === "" || label === "\u0000" ? null : label };
}

function conditionsOf(request: FastifyRequest): Conditions {
  const header = (name: string) => {
    const value = request.headers[name];
    return typeof value === "string" ? value : undefined;
  };
  return { ifMatch: header("if-match"), ifNoneMatch: header("if-none-match") };
}

function decideOrThrow(current: StoredKeyValue | undefined, conditions: Conditions, key: string): void {
  const decision = decideWrite(current, conditions);
  if (decision === "precondition-failed") throw preconditionFailed(key);
  if (decision === "locked") throw new KeyValueError(keyLocked(key));
}

function jsonBody(request: FastifyRequest): unknown {
  const body = Buffer.isBuffer(request.body) ? request.body.toString("utf8") : "";
  if (body.trim() === "") {
    throw new KeyValueError(
      invalidArgument("body", `The request needs a JSON body, e.g. ${WRITES_NEED_A_BODY}.`),
    );
  }
  try {
    return JSON.parse(body);
  } catch {
    throw new KeyValueError(invalidArgument("body", `The body is not JSON, e.g. ${WRITES_NEED_A_BODY}.`));
  }
}

function checkSize(kv: StoredKeyValue): void {
  const size = Buffer.byteLength(
    JSON.stringify([kv.key, kv.label, kv.value, kv.contentType, kv.tags]),
    "utf8",
  );
  if (size > MAX_KEY_VALUE_BYTES) {
    throw new KeyValueError({
      type: "https://azconfig.io/errors/too-large",
      title: "Payload too large",
      detail: `The key-value is ${size} bytes; a key-value may hold at most ${MAX_KEY_VALUE_BYTES}.`,
      status: 413,
    });
  }
}

function preconditionFailed(key: string): KeyValueError {
  return new KeyValueError({
    type: "https://azconfig.io/errors/precondition-failed",
    title: "Precondition Failed",
    name: key,
    detail: "The key-value's ETag does not meet the request's If-Match or If-None-Match condition.",
    status: 412,
  });
}

function keyValueNotFound(key: string, label: string | null): KeyValueError {
  return new KeyValueError({
    type: "https://azconfig.io/errors/not-found",
    title: "Not Found",
    name: key,
    detail: `No key-value '${key}' with ${label === null ? "the null label" : `label '${label}'`}.`,
    status: 404,
  });
}

function problem(reply: FastifyReply, details: ProblemDetails) {
  return reply.code(details.status).type(PROBLEM_JSON).send(details);
}

function lowerCaseNames(query: URLSearchParams): URLSearchParams {
  const named = new URLSearchParams();
  for (const [name, value] of query) named.append(name.toLowerCase(), value);
  return named;
}

function lowerCaseHeaders(request: FastifyRequest): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}
