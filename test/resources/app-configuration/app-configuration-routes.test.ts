// The data plane behind its routes, over a real SQLite store: authentication (HMAC access keys and Entra bearer
// tokens), RBAC, conditional requests, locks, filters, paging, revisions and the service's error bodies.

import assert from "node:assert/strict";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import fc from "fast-check";
import Fastify, { type LightMyRequestResponse } from "fastify";
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { BUILT_IN_ROLE_GUIDS, builtInRoleById } from "../../../src/identity/directory/built-in-roles.ts";
import { appConfigurationRoutes } from "../../../src/resources/app-configuration/app-configuration-routes.ts";
import type { AccessKeySecret } from "../../../src/resources/app-configuration/configuration-store-cache.ts";
import { authorize, type RbacAssignment } from "../../../src/resources/vault/rbac.ts";
import { SqliteStore } from "../../../src/store/sqlite-store.ts";
import type { ArmResource } from "../../../src/store/store.ts";

const TENANT = "5e7c6f1a-0d3b-4c52-9a8e-2b1f4d6c8e90";
const SUBSCRIPTION = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9";
const GROUP_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/apps`;
const STORE_ID = `${GROUP_ID}/providers/Microsoft.AppConfiguration/configurationStores/settings`;
const HOST = "settings.azconfig.example.test:8443";
const CALLER_OID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const START_MS = Date.parse("2026-06-01T12:00:00Z");
const PROBLEM_JSON = "application/problem+json; charset=utf-8";

const READ_WRITE: AccessKeySecret = { id: "rw-key", secret: randomBytes(32), readOnly: false };
const READ_ONLY: AccessKeySecret = { id: "ro-key", secret: randomBytes(32), readOnly: true };

const signingKey = await generateKeyPair("RS256", { extractable: true });
const publicJwk = { ...(await exportJWK(signingKey.publicKey)), kid: "sts-1", alg: "RS256", use: "sig" };

const CONFIGURATION_STORE: ArmResource = {
  id: STORE_ID,
  name: "settings",
  type: "Microsoft.AppConfiguration/configurationStores",
  properties: { disableLocalAuth: false },
};

const role = (guid: string, scope: string): RbacAssignment => ({
  scope,
  principalId: CALLER_OID,
  roleDefinitionId: `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/${guid}`,
});
const DATA_OWNER = BUILT_IN_ROLE_GUIDS.appConfigurationDataOwner;
const DATA_READER = BUILT_IN_ROLE_GUIDS.appConfigurationDataReader;

interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** How the request is authenticated: an access key (default read-write), a bearer token, or nothing. */
  auth?:
    | { key: AccessKeySecret; date?: number; tamper?: (signed: Record<string, string>) => void }
    | string
    | null;
}

async function startDataPlane(
  options: { assignments?: RbacAssignment[]; disableLocalAuth?: boolean; store?: SqliteStore } = {},
) {
  const store = options.store ?? new SqliteStore(":memory:");
  const clock = { now: START_MS };
  const assignments = options.assignments ?? [];
  const app = Fastify();
  await app.register(appConfigurationRoutes, {
    store,
    configurationStores: {
      stamp: async () => "unchanged",
      resolve: async (host) =>
        host === HOST
          ? {
              configurationStore: {
                ...CONFIGURATION_STORE,
                properties: { disableLocalAuth: options.disableLocalAuth ?? false },
              },
              tenantId: TENANT,
              audiences: ["https://azconfig.example.test"],
            }
          : undefined,
      accessKeys: async () => [READ_WRITE, READ_ONLY],
    },
    accessTokenKey: createLocalJWKSet({ keys: [publicJwk] }),
    isAllowed: async (principalId, action, scope) =>
      authorize({ principalId, action, scope, assignments, roleDefinitionOf: builtInRoleById }).allowed,
    now: () => clock.now,
  });

  const call = (method: string, url: string, options: CallOptions = {}): Promise<LightMyRequestResponse> => {
    const payload =
      options.body === undefined
        ? ""
        : typeof options.body === "string"
          ? options.body
          : JSON.stringify(options.body);
    const headers: Record<string, string> = { host: HOST, ...options.headers };
    if (payload) headers["content-type"] = "application/vnd.microsoft.appconfig.kv+json";
    const auth = options.auth === undefined ? { key: READ_WRITE } : options.auth;
    if (typeof auth === "string") headers.authorization = `Bearer ${auth}`;
    else if (auth) Object.assign(headers, hmacHeaders(method, url, payload, auth, clock.now));
    return app.inject({ method: method as "GET", url, headers, payload: payload || undefined });
  };
  return { app, store, clock, call };
}

/** Signs a request as the SDKs do: x-ms-date, host and the body's hash, under the key's decoded secret. */
function hmacHeaders(
  method: string,
  url: string,
  payload: string,
  auth: { key: AccessKeySecret; date?: number; tamper?: (signed: Record<string, string>) => void },
  now: number,
): Record<string, string> {
  const signed: Record<string, string> = {
    "x-ms-date": new Date(auth.date ?? now).toUTCString(),
    host: HOST,
    "x-ms-content-sha256": createHash("sha256").update(payload).digest("base64"),
  };
  const toSign = `${method}\n${url}\n${signed["x-ms-date"]};${signed.host};${signed["x-ms-content-sha256"]}`;
  const signature = createHmac("sha256", auth.key.secret).update(toSign).digest("base64");
  auth.tamper?.(signed);
  return {
    ...signed,
    authorization: `HMAC-SHA256 Credential=${auth.key.id}&SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`,
  };
}

async function mintToken(claims: JWTPayload = {}): Promise<string> {
  const now = Math.floor(START_MS / 1000);
  return new SignJWT({
    aud: "https://azconfig.example.test",
    iss: `https://sts.windows.net/${TENANT}/`,
    oid: CALLER_OID,
    tid: TENANT,
    iat: now - 60,
    nbf: now - 60,
    exp: now + 3600,
    ...claims,
  })
    .setProtectedHeader({ alg: "RS256", kid: "sts-1", typ: "JWT" })
    .sign(signingKey.privateKey);
}

function assertProblem(
  response: LightMyRequestResponse,
  status: number,
  type: string,
): Record<string, unknown> {
  assert.equal(response.statusCode, status, response.body);
  assert.equal(response.headers["content-type"], PROBLEM_JSON);
  const body = response.json();
  assert.equal(body.type, `https://azconfig.io/errors/${type}`);
  assert.equal(body.status, status);
  return body;
}

const API = "api-version=1.0";

/** RFC 3986 encoding, as the SDKs send query values (the URL parser would otherwise re-encode `'` after signing). */
const strictlyEncoded = (text: string): string =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

describe("App Configuration data plane: HMAC access keys", () => {
  test("a signed PUT stores the key-value and answers it with its ETag and a Sync-Token", async () => {
    const { call } = await startDataPlane();
    const response = await call("PUT", `/kv/myapp%3Acolor?label=prd&${API}`, {
      body: { value: "blue", content_type: "text/plain", tags: { team: "web" } },
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(
      response.headers["content-type"],
      "application/vnd.microsoft.appconfig.kv+json; charset=utf-8",
    );
    const kv = response.json();
    assert.deepEqual(Object.keys(kv), [
      "etag",
      "key",
      "label",
      "content_type",
      "value",
      "tags",
      "locked",
      "last_modified",
    ]);
    assert.equal(response.headers.etag, `"${kv.etag}"`);
    assert.deepEqual(
      { key: kv.key, label: kv.label, value: kv.value, tags: kv.tags, locked: kv.locked },
      { key: "myapp:color", label: "prd", value: "blue", tags: { team: "web" }, locked: false },
    );
    assert.equal(kv.last_modified, "2026-06-01T12:00:00+00:00");
    assert.match(String(response.headers["sync-token"]), /^[A-Za-z0-9_-]{8}=[A-Za-z0-9+/=]+;sn=\d+$/);
    const read = await call("GET", `/kv?${API}`, {
      headers: { "sync-token": String(response.headers["sync-token"]) },
    });
    assert.equal(read.headers["sync-token"], response.headers["sync-token"], "reads name the latest change");
  });

  test("no Authorization is 401 naming both schemes", async () => {
    const { call } = await startDataPlane();
    const response = await call("GET", `/kv?${API}`, { auth: null });
    assertProblem(response, 401, "unauthorized");
    assert.equal(response.headers["www-authenticate"], "HMAC-SHA256, Bearer");
  });

  const refusals: [string, CallOptions["auth"], string][] = [
    [
      "a wrong signature",
      { key: { ...READ_WRITE, secret: randomBytes(32) } },
      'HMAC-SHA256 error="invalid_token" error_description="Invalid Signature", Bearer',
    ],
    [
      "a date 16 minutes old",
      { key: READ_WRITE, date: START_MS - 16 * 60_000 },
      'HMAC-SHA256 error="invalid_token" error_description="The access token has expired", Bearer',
    ],
    [
      "a date 16 minutes ahead",
      { key: READ_WRITE, date: START_MS + 16 * 60_000 },
      'HMAC-SHA256 error="invalid_token" error_description="The access token has expired", Bearer',
    ],
    [
      "a tampered body hash",
      {
        key: READ_WRITE,
        tamper: (signed) => {
          signed["x-ms-content-sha256"] = createHash("sha256").update("other").digest("base64");
        },
      },
      'HMAC-SHA256 error="invalid_token" error_description="The request body does not match x-ms-content-sha256", Bearer',
    ],
    [
      "an unknown credential",
      { key: { ...READ_WRITE, id: "no-such-key" } },
      'HMAC-SHA256 error="invalid_token" error_description="Invalid Credential", Bearer',
    ],
  ];
  for (const [name, auth, challenge] of refusals) {
    test(`${name} is 401 with the service's challenge, and nothing is written`, async () => {
      const { call, store } = await startDataPlane();
      const response = await call("PUT", `/kv/a?${API}`, { body: { value: "x" }, auth });
      assertProblem(response, 401, "unauthorized");
      assert.equal(response.headers["www-authenticate"], challenge);
      assert.equal(await store.getKeyValue(STORE_ID, "a", null), undefined);
    });
  }

  test("a body changed after signing fails the hash check", async () => {
    const { app } = await startDataPlane();
    const headers = hmacHeaders("PUT", `/kv/a?${API}`, '{"value":"x"}', { key: READ_WRITE }, START_MS);
    const response = await app.inject({
      method: "PUT",
      url: `/kv/a?${API}`,
      headers: { ...headers, "content-type": "application/json" },
      payload: '{"value":"evil"}',
    });
    assertProblem(response, 401, "unauthorized");
  });

  test("a successful write's signature serves once: the same request replayed is 401", async () => {
    const { app } = await startDataPlane();
    const payload = '{"value":"x"}';
    const headers = {
      ...hmacHeaders("PUT", `/kv/a?${API}`, payload, { key: READ_WRITE }, START_MS),
      "content-type": "application/json",
    };
    const first = await app.inject({ method: "PUT", url: `/kv/a?${API}`, headers, payload });
    assert.equal(first.statusCode, 200, first.body);
    const replayed = await app.inject({ method: "PUT", url: `/kv/a?${API}`, headers, payload });
    assertProblem(replayed, 401, "unauthorized");
    assert.match(String(replayed.headers["www-authenticate"]), /already been used/);
    assert.equal(
      (
        await app.inject({
          method: "GET",
          url: `/kv/a?${API}`,
          headers: hmacHeaders("GET", `/kv/a?${API}`, "", { key: READ_WRITE }, START_MS),
        })
      ).statusCode,
      200,
    );
  });

  test("a refused write may be sent again: only a write that took effect uses its signature up", async () => {
    const { call } = await startDataPlane();
    await call("PUT", `/kv/a?${API}`, { body: { value: "1" } });
    await call("PUT", `/locks/a?${API}`);
    assert.equal((await call("PUT", `/kv/a?${API}`, { body: { value: "2" } })).statusCode, 409);
    await call("DELETE", `/locks/a?${API}`);
    assert.equal((await call("PUT", `/kv/a?${API}`, { body: { value: "2" } })).statusCode, 200);
  });

  test("a read-only key reads but may not write (403)", async () => {
    const { call } = await startDataPlane();
    await call("PUT", `/kv/a?${API}`, { body: { value: "x" } });
    assert.equal((await call("GET", `/kv/a?${API}`, { auth: { key: READ_ONLY } })).statusCode, 200);
    const response = await call("PUT", `/kv/a?${API}`, { body: { value: "y" }, auth: { key: READ_ONLY } });
    assertProblem(response, 403, "forbidden");
  });

  test("with local authentication disabled, access keys are refused", async () => {
    const { call } = await startDataPlane({ disableLocalAuth: true });
    assertProblem(await call("GET", `/kv?${API}`), 401, "unauthorized");
  });

  test("a host that names no store is 404", async () => {
    const { app } = await startDataPlane();
    const response = await app.inject({
      method: "GET",
      url: `/kv?${API}`,
      headers: { host: "other.example" },
    });
    assertProblem(response, 404, "not-found");
  });
});

describe("App Configuration data plane: Microsoft Entra tokens and RBAC", () => {
  test("Data Reader on the store reads; writing needs Data Owner (403 names the role)", async () => {
    const { call } = await startDataPlane({ assignments: [role(DATA_READER, STORE_ID)] });
    await call("PUT", `/kv/a?${API}`, { body: { value: "x" } });
    const token = await mintToken();
    const read = await call("GET", `/kv/a?${API}`, { auth: token });
    assert.equal(read.json().value, "x");
    const write = await call("PUT", `/kv/a?${API}`, { body: { value: "y" }, auth: token });
    assert.match(String(assertProblem(write, 403, "forbidden").detail), /App Configuration Data Owner/);
  });

  test("Data Owner at the resource group or the subscription covers the store", async () => {
    for (const scope of [GROUP_ID, `/subscriptions/${SUBSCRIPTION}`]) {
      const { call } = await startDataPlane({ assignments: [role(DATA_OWNER, scope)] });
      const response = await call("PUT", `/kv/a?${API}`, { body: { value: "x" }, auth: await mintToken() });
      assert.equal(response.statusCode, 200, `${scope}: ${response.body}`);
    }
  });

  test("without a role the caller gets 403", async () => {
    const { call } = await startDataPlane({ assignments: [role(DATA_READER, `${GROUP_ID}-other`)] });
    assertProblem(await call("GET", `/kv?${API}`, { auth: await mintToken() }), 403, "forbidden");
  });

  test("the store's own endpoint is an accepted audience, as older SDKs ask for it", async () => {
    const { call } = await startDataPlane({ assignments: [role(DATA_READER, STORE_ID)] });
    const token = await mintToken({ aud: `https://${HOST}` });
    assert.equal((await call("GET", `/kv?${API}`, { auth: token })).statusCode, 200);
  });

  test("a token for another audience, another tenant, or expired is 401 with the reference's description", async () => {
    const { call } = await startDataPlane({ assignments: [role(DATA_OWNER, STORE_ID)] });
    const now = Math.floor(START_MS / 1000);
    const cases: [JWTPayload, string][] = [
      [{ aud: "https://vault.example.test" }, "Authorization token failed validation"],
      [{ exp: now - 600 }, "Authorization token failed validation"],
      [{ iss: "https://sts.windows.net/00000000-0000-0000-0000-000000000001/" }, "from the wrong issuer"],
    ];
    for (const [claims, description] of cases) {
      const response = await call("GET", `/kv?${API}`, { auth: await mintToken(claims) });
      assertProblem(response, 401, "unauthorized");
      const challenge = String(response.headers["www-authenticate"]);
      assert.ok(
        challenge.startsWith('HMAC-SHA256, Bearer error="invalid_token", error_description="'),
        challenge,
      );
      assert.ok(challenge.includes(description), challenge);
    }
  });
});

describe("App Configuration data plane: key-values", () => {
  test("If-Match and If-None-Match: 412 on a stale ETag, 304 on a current one, create-only with If-None-Match: *", async () => {
    const { call } = await startDataPlane();
    const first = (await call("PUT", `/kv/a?${API}`, { body: { value: "1" } })).json();
    const second = await call("PUT", `/kv/a?${API}`, {
      body: { value: "2" },
      headers: { "if-match": `"${first.etag}"` },
    });
    assert.equal(second.statusCode, 200);
    const stale = await call("PUT", `/kv/a?${API}`, {
      body: { value: "3" },
      headers: { "if-match": `"${first.etag}"` },
    });
    assertProblem(stale, 412, "precondition-failed");
    const notModified = await call("GET", `/kv/a?${API}`, {
      headers: { "if-none-match": `"${second.json().etag}"` },
    });
    assert.equal(notModified.statusCode, 304);
    const createOnly = await call("PUT", `/kv/a?${API}`, {
      body: { value: "4" },
      headers: { "if-none-match": "*" },
    });
    assertProblem(createOnly, 412, "precondition-failed");
    assert.equal((await call("GET", `/kv/a?${API}`)).json().value, "2");
  });

  test("a locked key-value is read-only until unlocked (409 key-locked)", async () => {
    const { call } = await startDataPlane();
    await call("PUT", `/kv/a?label=prd&${API}`, { body: { value: "1" } });
    const locked = await call("PUT", `/locks/a?label=prd&${API}`);
    assert.equal(locked.json().locked, true);
    const refused = await call("PUT", `/kv/a?label=prd&${API}`, { body: { value: "2" } });
    assert.equal(assertProblem(refused, 409, "key-locked").name, "a");
    assertProblem(await call("DELETE", `/kv/a?label=prd&${API}`), 409, "key-locked");
    assert.equal((await call("DELETE", `/locks/a?label=prd&${API}`)).json().locked, false);
    assert.equal((await call("PUT", `/kv/a?label=prd&${API}`, { body: { value: "2" } })).statusCode, 200);
    assertProblem(await call("PUT", `/locks/missing?${API}`), 404, "not-found");
  });

  test("DELETE answers the deleted key-value, then 204 when nothing is there", async () => {
    const { call, clock } = await startDataPlane();
    await call("PUT", `/kv/a?${API}`, { body: { value: "1" } });
    const deleted = await call("DELETE", `/kv/a?${API}`);
    assert.equal(deleted.json().value, "1");
    clock.now += 1000; // The same DELETE signed in the same second would be a replay.
    assert.equal((await call("DELETE", `/kv/a?${API}`)).statusCode, 204);
    assertProblem(await call("GET", `/kv/a?${API}`), 404, "not-found");
  });

  test("keys with '/' (feature flags) round-trip encoded or not; '%' is refused", async () => {
    const { call } = await startDataPlane();
    const flag = {
      value: '{"id":"Beta","enabled":true}',
      content_type: "application/vnd.microsoft.appconfig.ff+json;charset=utf-8",
    };
    assert.equal(
      (await call("PUT", `/kv/.appconfig.featureflag%2FBeta?${API}`, { body: flag })).statusCode,
      200,
    );
    assert.equal(
      (await call("GET", `/kv/.appconfig.featureflag/Beta?${API}`)).json().content_type,
      flag.content_type,
    );
    assertProblem(await call("PUT", `/kv/a%25b?${API}`, { body: { value: "x" } }), 400, "invalid-argument");
  });

  test("bodies are checked: not JSON, wrong member types, over 10 KB", async () => {
    const { call } = await startDataPlane();
    assertProblem(await call("PUT", `/kv/a?${API}`, { body: "{oops" }), 400, "invalid-argument");
    assertProblem(await call("PUT", `/kv/a?${API}`, { body: { value: 3 } }), 400, "invalid-argument");
    assertProblem(await call("PUT", `/kv/a?${API}`, { body: { tags: { a: 1 } } }), 400, "invalid-argument");
    assertProblem(
      await call("PUT", `/kv/a?${API}`, { body: { value: "x".repeat(11_000) } }),
      413,
      "too-large",
    );
  });

  test("$select returns only the fields asked for", async () => {
    const { call } = await startDataPlane();
    await call("PUT", `/kv/a?${API}`, { body: { value: "1" } });
    assert.deepEqual((await call("GET", `/kv?$select=key,value&${API}`)).json().items, [
      { key: "a", value: "1" },
    ]);
    assertProblem(await call("GET", `/kv?$select=key,colour&${API}`), 400, "invalid-argument");
  });

  test("Accept-Datetime reads the key-values as they were, with Memento-Datetime", async () => {
    const { call, clock } = await startDataPlane();
    await call("PUT", `/kv/a?${API}`, { body: { value: "old" } });
    clock.now += 60_000;
    await call("PUT", `/kv/a?${API}`, { body: { value: "new" } });
    await call("PUT", `/kv/b?${API}`, { body: { value: "later" } });
    clock.now += 60_000;
    await call("DELETE", `/kv/a?${API}`);
    const moment = new Date(START_MS + 30_000).toUTCString();
    const then = await call("GET", `/kv?${API}`, { headers: { "accept-datetime": moment } });
    assert.deepEqual(
      then.json().items.map((kv: { key: string; value: string }) => [kv.key, kv.value]),
      [["a", "old"]],
    );
    assert.equal(then.headers["memento-datetime"], moment);
    const one = await call("GET", `/kv/a?${API}`, {
      headers: { "accept-datetime": new Date(START_MS + 90_000).toUTCString() },
    });
    assert.equal(one.json().value, "new");
    const revisions = await call("GET", `/revisions?key=a&${API}`);
    assert.deepEqual(
      revisions.json().items.map((kv: { value: string }) => kv.value),
      ["new", "old"],
    );
    assertProblem(
      await call("GET", `/kv?${API}`, { headers: { "accept-datetime": "yesterday" } }),
      400,
      "invalid-argument",
    );
  });
});

describe("App Configuration data plane: filters and paging", () => {
  const SEED: [string, string | null][] = [
    ["myapp:color", "prd"],
    ["myapp:color", "dev"],
    ["myapp:color", null],
    ["myapp:size", "prd"],
    ["other:x", "prd"],
    ["star*key", null],
    ["comma,key", "a,b"],
    ["back\\slash", null],
  ];

  async function seeded() {
    const plane = await startDataPlane();
    for (const [key, label] of SEED) {
      const labelQuery = label === null ? "" : `label=${encodeURIComponent(label)}&`;
      const response = await plane.call("PUT", `/kv/${encodeURIComponent(key)}?${labelQuery}${API}`, {
        body: { value: `${key}@${label}` },
      });
      assert.equal(response.statusCode, 200, response.body);
    }
    return plane;
  }

  const cases: [string, string, string[]][] = [
    ["any key, any label", "", SEED.map(([k, l]) => `${k}@${l}`)],
    ["a prefix", "key=myapp:*", ["myapp:color@null", "myapp:color@dev", "myapp:color@prd", "myapp:size@prd"]],
    ["a prefix and a label", "key=myapp:*&label=prd", ["myapp:color@prd", "myapp:size@prd"]],
    ["the null label (NUL)", "key=myapp:*&label=%00", ["myapp:color@null"]],
    ["a comma list of labels", "key=myapp:color&label=dev,%00", ["myapp:color@null", "myapp:color@dev"]],
    ["a comma list of keys", "key=myapp:size,other:x", ["myapp:size@prd", "other:x@prd"]],
    ["an escaped '*' is literal", `key=${encodeURIComponent("star\\*key")}`, ["star*key@null"]],
    [
      "an escaped ',' is literal",
      `key=${encodeURIComponent("comma\\,key")}&label=${encodeURIComponent("a\\,b")}`,
      ["comma,key@a,b"],
    ],
    ["an escaped '\\' is literal", `key=${encodeURIComponent("back\\\\slash")}`, ["back\\slash@null"]],
    ["a prefix with nothing under it", "key=nothing:*", []],
  ];
  for (const [name, query, expected] of cases) {
    test(`GET /kv with ${name}`, async () => {
      const { call } = await seeded();
      const response = await call("GET", `/kv?${query}${query ? "&" : ""}${API}`);
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(
        response.headers["content-type"],
        "application/vnd.microsoft.appconfig.kvset+json; charset=utf-8",
      );
      const values = response.json().items.map((kv: { value: string }) => kv.value);
      assert.deepEqual([...values].sort(), [...expected].sort());
    });
  }

  test("a tags filter keeps the key-values holding every tag named; a snapshot is refused by name", async () => {
    const { call } = await startDataPlane();
    await call("PUT", `/kv/a?${API}`, { body: { value: "a", tags: { env: "prd", team: "web" } } });
    await call("PUT", `/kv/b?${API}`, { body: { value: "b", tags: { env: "prd" } } });
    await call("PUT", `/kv/c?${API}`, { body: { value: "c", tags: { env: "dev", team: "web" } } });
    const values = async (query: string) =>
      (await call("GET", `/kv?${query}&${API}`)).json().items.map((kv: { value: string }) => kv.value);
    assert.deepEqual(await values("tags=env%3Dprd"), ["a", "b"]);
    assert.deepEqual(await values("tags=env%3Dprd&tags=team%3Dweb"), ["a"]);
    assert.deepEqual(await values("tags=team%3D"), []);
    assert.equal(
      assertProblem(await call("GET", `/kv?tags=env&${API}`), 400, "invalid-argument").name,
      "tags",
    );
    const snapshot = await call("GET", `/kv?snapshot=s1&${API}`);
    assert.equal(assertProblem(snapshot, 400, "invalid-argument").name, "snapshot");
  });

  test("query parameter names are case-insensitive, as the SDKs send After and $Select", async () => {
    const { call } = await startDataPlane();
    for (let i = 0; i < 150; i++) {
      await call("PUT", `/kv/k${String(i).padStart(3, "0")}?${API}`, { body: { value: String(i) } });
    }
    const first = await call("GET", `/kv?Key=k*&$Select=key&${API}`);
    assert.deepEqual(Object.keys(first.json().items[0]), ["key"]);
    const token = new URLSearchParams(String(first.json()["@nextLink"]).split("?")[1]).get("after");
    const second = await call("GET", `/kv?Key=k*&$Select=key&After=${token}&${API}`);
    assert.equal(second.json().items.length, 50);
    assert.equal(second.json().items[0].key, "k100");
  });

  test("malformed filters are 400 invalid-argument naming the parameter", async () => {
    const { call } = await seeded();
    for (const [query, parameter] of [
      ["key=*abc", "key"],
      ["key=a*,b", "key"],
      ["label=a,b,c,d,e,f", "label"],
      [`key=${encodeURIComponent("trailing\\")}`, "key"],
    ]) {
      const body = assertProblem(await call("GET", `/kv?${query}&${API}`), 400, "invalid-argument");
      assert.equal(body.name, parameter, query);
    }
  });

  test("/keys and /labels list distinct names, the null label as null", async () => {
    const { call } = await seeded();
    const keys = (await call("GET", `/keys?name=myapp:*&${API}`)).json().items;
    assert.deepEqual(keys, [{ name: "myapp:color" }, { name: "myapp:size" }]);
    const labels = (await call("GET", `/labels?${API}`))
      .json()
      .items.map((l: { name: string | null }) => l.name);
    assert.deepEqual(labels, [null, "a,b", "dev", "prd"]);
  });

  test("1,050 key-values come in pages of 100 linked by Link and @nextLink, none lost or repeated", async () => {
    const { call } = await startDataPlane();
    const keys = Array.from({ length: 1050 }, (_, i) => `bulk:${String(i).padStart(4, "0")}`);
    for (const key of keys) await call("PUT", `/kv/${key}?label=prd&${API}`, { body: { value: key } });
    const seen: string[] = [];
    let url: string | undefined = `/kv?key=bulk:*&label=prd&${API}`;
    let pages = 0;
    while (url) {
      const response = await call("GET", url);
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json();
      seen.push(...body.items.map((kv: { key: string }) => kv.key));
      pages++;
      const link = response.headers.link;
      if (link === undefined) break;
      const next = /^<([^>]+)>; rel="next"$/.exec(String(link))?.[1];
      assert.equal(next, body["@nextLink"]);
      url = next;
    }
    assert.equal(pages, 11);
    assert.deepEqual(seen, keys);
  });

  test("lists answered from memory follow every change, including one made through another replica", async () => {
    const first = await startDataPlane();
    const second = await startDataPlane({ store: first.store });
    const values = async () =>
      (await second.call("GET", `/kv?key=app:*&${API}`))
        .json()
        .items.map((kv: { value: string }) => kv.value);
    await first.call("PUT", `/kv/app:a?${API}`, { body: { value: "1" } });
    assert.deepEqual(await values(), ["1"]);
    await first.call("PUT", `/kv/app:b?${API}`, { body: { value: "2" } });
    assert.deepEqual(await values(), ["1", "2"]);
    first.clock.now += 1000;
    await first.call("DELETE", `/kv/app:a?${API}`);
    assert.deepEqual(await values(), ["2"]);
    await first.call("PUT", `/locks/app:b?${API}`);
    assert.equal((await second.call("GET", `/kv?key=app:*&${API}`)).json().items[0].locked, true);
  });

  test("any key or label filter is answered without a 5xx (fuzz)", async () => {
    const { call } = await seeded();
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: "binary", maxLength: 20 }),
        fc.string({ maxLength: 12 }),
        async (key, label) => {
          const response = await call(
            "GET",
            `/kv?key=${strictlyEncoded(key)}&label=${strictlyEncoded(label)}&${API}`,
          );
          assert.ok(
            response.statusCode === 200 || response.statusCode === 400,
            `${JSON.stringify([key, label])}: ${response.statusCode} ${response.body}`,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
