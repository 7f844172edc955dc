// The token endpoints (`POST /{tenant}/oauth2/v2.0/token` and v1 `/oauth2/token`) against entra.md §2 and §6:
// every request error the route raises with its code, OAuth `error` and HTTP status, the exact error body, the
// success bodies of both versions, and the request spellings real clients send. Assertion validation is a stub
// here (it has its own tests); the whole exchange with the real validator is in federated-exchange.test.ts.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, beforeEach, describe, test } from "node:test";
import type { LightMyRequestResponse } from "fastify";
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { AadstsError } from "../../../src/identity/exchange/aadsts-errors.ts";
import {
  AUTHORITY,
  HOST,
  IDENTITY_NAME,
  postForm,
  RESOURCE_GROUP,
  type StsApp,
  startStsApp,
  v1Form,
  v2Form,
} from "./sts-app.ts";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ENTRA_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/;
const ERROR_MEMBERS = [
  "error",
  "error_description",
  "error_codes",
  "timestamp",
  "trace_id",
  "correlation_id",
  "error_uri",
];

interface ErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
}

/** Checks status, `error`, the code and the shape every error body shares; returns the body. */
function assertTokenError(
  response: LightMyRequestResponse,
  expected: { code: number; error: string; status: number; text?: string },
): ErrorBody {
  const body = response.json() as ErrorBody;
  assert.equal(response.statusCode, expected.status, response.body);
  assert.equal(body.error, expected.error);
  assert.deepEqual(body.error_codes, [expected.code]);
  assert.ok(
    body.error_description.startsWith(`AADSTS${expected.code}: ${expected.text ?? ""}`),
    body.error_description,
  );
  assert.equal(response.headers["content-type"], "application/json; charset=utf-8");
  assert.deepEqual(Object.keys(body), ERROR_MEMBERS);
  return body;
}

describe("token endpoint", () => {
  let sts: StsApp;
  let v2: string;
  let v1: string;

  before(async () => {
    sts = await startStsApp();
    v2 = `/${sts.tenant.tenantId}/oauth2/v2.0/token`;
    v1 = `/${sts.tenant.tenantId}/oauth2/token`;
  });
  after(() => sts.close());
  beforeEach(() => {
    sts.rejectWith = undefined;
    sts.validations.length = 0;
  });

  describe("request errors (entra.md §2.1, §6)", () => {
    const cases: Array<{
      name: string;
      version: "v1" | "v2";
      form: (clientId: string) => Record<string, string | undefined>;
      code: number;
      error: string;
      status: number;
      text?: string;
    }> = [
      {
        name: "grant_type missing",
        version: "v2",
        form: (id) => v2Form(id, { grant_type: undefined }),
        code: 900144,
        error: "invalid_request",
        status: 400,
        text: "The request body must contain the following parameter: 'grant_type'.",
      },
      {
        name: "client_id missing",
        version: "v2",
        form: (id) => v2Form(id, { client_id: undefined }),
        code: 900144,
        error: "invalid_request",
        status: 400,
        text: "The request body must contain the following parameter: 'client_id'.",
      },
      {
        name: "scope missing (v2.0)",
        version: "v2",
        form: (id) => v2Form(id, { scope: undefined }),
        code: 900144,
        error: "invalid_request",
        status: 400,
        text: "The request body must contain the following parameter: 'scope'.",
      },
      {
        name: "scope blank (v2.0)",
        version: "v2",
        form: (id) => v2Form(id, { scope: "  " }),
        code: 900144,
        error: "invalid_request",
        status: 400,
        text: "The request body must contain the following parameter: 'scope'.",
      },
      {
        name: "resource missing (v1)",
        version: "v1",
        form: (id) => v1Form(id, { resource: undefined }),
        code: 900144,
        error: "invalid_request",
        status: 400,
        text: "The request body must contain the following parameter: 'resource'.",
      },
      {
        name: "client_assertion_type missing",
        version: "v2",
        form: (id) => v2Form(id, { client_assertion_type: undefined }),
        code: 900144,
        error: "invalid_request",
        status: 400,
        text: "The request body must contain the following parameter: 'client_assertion_type'.",
      },
      {
        name: "client_assertion_type not jwt-bearer",
        version: "v2",
        form: (id) =>
          v2Form(id, { client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:saml2-bearer" }),
        code: 900144,
        error: "invalid_request",
        status: 400,
      },
      {
        name: "unsupported grant_type",
        version: "v2",
        form: (id) => v2Form(id, { grant_type: "authorization_code" }),
        code: 70003,
        error: "unsupported_grant_type",
        status: 400,
        text: "The app requested an unsupported grant type 'authorization_code'.",
      },
      {
        name: "resource sent to v2.0",
        version: "v2",
        form: (id) => v2Form(id, { resource: "https://vault.azure.net" }),
        code: 901002,
        error: "invalid_request",
        status: 400,
        text: "The 'resource' request parameter is not supported.",
      },
      {
        name: "scope without /.default",
        version: "v2",
        form: (id) => v2Form(id, { scope: "https://vault.azure.net/user_impersonation" }),
        code: 1002012,
        error: "invalid_scope",
        status: 400,
        text: "The provided value for scope https://vault.azure.net/user_impersonation is not valid.",
      },
      {
        name: "two scopes",
        version: "v2",
        form: (id) =>
          v2Form(id, { scope: "https://vault.azure.net/.default https://management.azure.com/.default" }),
        code: 70011,
        error: "invalid_scope",
        status: 400,
        text: "The provided request must include a 'scope' input parameter.",
      },
      {
        name: "scope with an empty resource",
        version: "v2",
        form: (id) => v2Form(id, { scope: "/.default" }),
        code: 70011,
        error: "invalid_scope",
        status: 400,
        text: "The provided request must include a 'scope' input parameter.",
      },
      {
        name: "unknown client_id",
        version: "v2",
        form: () => v2Form("0b7e4bd8-52c3-4d57-9d52-4f0c4f8f1f11"),
        code: 700016,
        error: "unauthorized_client",
        status: 400,
        text: "Application with identifier '0b7e4bd8-52c3-4d57-9d52-4f0c4f8f1f11' was not found in the directory",
      },
      {
        name: "neither client_assertion nor client_secret",
        version: "v2",
        form: (id) => v2Form(id, { client_assertion: undefined, client_assertion_type: undefined }),
        code: 7000218,
        error: "invalid_client",
        status: 401,
        text: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      },
      {
        name: "a client_secret instead of an assertion",
        version: "v2",
        form: (id) =>
          v2Form(id, {
            client_assertion: undefined,
            client_assertion_type: undefined,
            client_secret: "s3cr3t",
          }),
        code: 7000215,
        error: "invalid_client",
        status: 401,
        text: "Invalid client secret provided.",
      },
      {
        name: "unknown resource (v2.0)",
        version: "v2",
        form: (id) => v2Form(id, { scope: "https://graph.microsoft.com/.default" }),
        code: 500011,
        error: "invalid_resource",
        status: 400,
        text: "The resource principal named https://graph.microsoft.com was not found in the tenant named",
      },
      {
        name: "unknown resource (v1)",
        version: "v1",
        form: (id) => v1Form(id, { resource: "https://storage.azure.com/" }),
        code: 500011,
        error: "invalid_resource",
        status: 400,
        text: "The resource principal named https://storage.azure.com/ was not found in the tenant named",
      },
    ];

    for (const testCase of cases) {
      test(`${testCase.name} → ${testCase.status} ${testCase.error} AADSTS${testCase.code}`, async () => {
        const url = testCase.version === "v2" ? v2 : v1;
        const response = await postForm(sts.app, url, testCase.form(sts.identity.clientId));
        assertTokenError(response, testCase);
      });
    }

    test("a client ID of another tenant is unknown in this one (700016), and its assertion is never checked", async () => {
      const response = await postForm(sts.app, v2, v2Form(sts.foreign.clientId));
      assertTokenError(response, { code: 700016, error: "unauthorized_client", status: 400 });
      assert.ok(response.json().error_description.includes(`'${sts.foreign.clientId}'`));
      assert.equal(sts.validations.length, 0);
      // The same client ID in its own tenant is known.
      const own = await postForm(
        sts.app,
        `/${sts.foreign.tenantId}/oauth2/v2.0/token`,
        v2Form(sts.foreign.clientId),
      );
      assert.equal(own.statusCode, 200, own.body);
    });

    test("an unknown tenant GUID → 400 invalid_request AADSTS90002 naming it", async () => {
      const tenant = randomUUID();
      const response = await postForm(sts.app, `/${tenant}/oauth2/v2.0/token`, v2Form(sts.identity.clientId));
      assertTokenError(response, {
        code: 90002,
        error: "invalid_request",
        status: 400,
        text: `Tenant '${tenant}' not found.`,
      });
    });

    test("an unknown tenant domain → AADSTS90002", async () => {
      const response = await postForm(
        sts.app,
        "/contoso.example/oauth2/token",
        v1Form(sts.identity.clientId),
      );
      assertTokenError(response, { code: 90002, error: "invalid_request", status: 400 });
    });

    test("a malformed tenant → 400 invalid_request AADSTS900023", async () => {
      for (const tenant of ["contoso_corp", "a%20b", "%24tenant"]) {
        const response = await postForm(
          sts.app,
          `/${tenant}/oauth2/v2.0/token`,
          v2Form(sts.identity.clientId),
        );
        assertTokenError(response, {
          code: 900023,
          error: "invalid_request",
          status: 400,
          text: `Specified tenant identifier '${decodeURIComponent(tenant)}' is neither a valid DNS name`,
        });
      }
    });

    test("the tenant is checked before the form: an unknown tenant wins over a missing grant_type", async () => {
      const response = await postForm(sts.app, `/${randomUUID()}/oauth2/v2.0/token`, {});
      assertTokenError(response, { code: 90002, error: "invalid_request", status: 400 });
    });

    test("a JSON body is not a form: 900144 grant_type, as for an empty form", async () => {
      const json = await sts.app.inject({
        method: "POST",
        url: v2,
        headers: { host: HOST },
        payload: v2Form(sts.identity.clientId),
      });
      assertTokenError(json, { code: 900144, error: "invalid_request", status: 400 });
      assert.match(json.json().error_description, /'grant_type'/);
      const empty = await postForm(sts.app, v2, {});
      assertTokenError(empty, { code: 900144, error: "invalid_request", status: 400 });
    });

    for (const contentType of ["application/xml", "multipart/form-data; boundary=x", "text/plain"]) {
      test(`a ${contentType.split(";")[0]} body is answered with 900144 grant_type, not a generic 415`, async () => {
        const response = await sts.app.inject({
          method: "POST",
          url: v2,
          headers: { host: HOST, "content-type": contentType },
          payload: "grant_type=client_credentials",
        });
        assertTokenError(response, { code: 900144, error: "invalid_request", status: 400 });
      });
    }

    test("an assertion error from validation is answered with its own code and status", async () => {
      sts.rejectWith = new AadstsError(700213, { sub: "system:serviceaccount:payments:other" });
      const response = await postForm(sts.app, v2, v2Form(sts.identity.clientId));
      assertTokenError(response, {
        code: 700213,
        error: "invalid_client",
        status: 401,
        text: "No matching federated identity record found for presented assertion subject 'system:serviceaccount:payments:other'.",
      });
    });

    test("an unknown resource is reported only after the assertion is valid: unauthenticated callers cannot probe resources", async () => {
      sts.rejectWith = new AadstsError(700027);
      const response = await postForm(
        sts.app,
        v2,
        v2Form(sts.identity.clientId, { scope: "https://graph.microsoft.com/.default" }),
      );
      assertTokenError(response, { code: 700027, error: "invalid_client", status: 401 });
    });

    test("an unexpected validation failure is a 500, never a token", async () => {
      sts.rejectWith = new Error("issuer metadata cache corrupted");
      const response = await postForm(sts.app, v2, v2Form(sts.identity.clientId));
      assert.equal(response.statusCode, 500);
      assert.ok(!response.body.includes("access_token"));
    });
  });

  describe("error body (entra.md §2.3)", () => {
    test("has Entra's members, `\\r\\n`-separated description lines and timestamp format", async () => {
      const response = await postForm(sts.app, v2, v2Form(sts.identity.clientId, { grant_type: "password" }));
      const body = assertTokenError(response, { code: 70003, error: "unsupported_grant_type", status: 400 });
      assert.match(body.timestamp, ENTRA_TIMESTAMP);
      assert.match(body.trace_id, GUID);
      assert.match(body.correlation_id, GUID);
      assert.equal(body.error_uri, `${AUTHORITY}/error?code=70003`);
      const lines = body.error_description.split("\r\n");
      assert.deepEqual(lines.slice(1), [
        `Trace ID: ${body.trace_id}`,
        `Correlation ID: ${body.correlation_id}`,
        `Timestamp: ${body.timestamp}`,
      ]);
      assert.equal(lines[0], "AADSTS70003: The app requested an unsupported grant type 'password'.");
      // The timestamp is the time of the answer.
      const stamped = Date.parse(body.timestamp.replace(" ", "T"));
      assert.ok(Math.abs(stamped - Date.now()) < 60_000, body.timestamp);
    });

    test("correlation_id echoes the client-request-id header", async () => {
      const requestId = randomUUID();
      const response = await postForm(sts.app, v2, v2Form(sts.identity.clientId, { scope: undefined }), {
        "client-request-id": requestId,
      });
      const body = assertTokenError(response, { code: 900144, error: "invalid_request", status: 400 });
      assert.equal(body.correlation_id, requestId);
      assert.ok(body.error_description.includes(`\r\nCorrelation ID: ${requestId}\r\n`));
    });

    test("correlation_id echoes a client-request-id form field (JS sends it in the body)", async () => {
      const requestId = randomUUID();
      const response = await postForm(
        sts.app,
        v2,
        v2Form(sts.identity.clientId, { scope: undefined, "client-request-id": requestId }),
      );
      assert.equal(response.json().correlation_id, requestId);
    });

    test("each error gets its own trace ID", async () => {
      const first = await postForm(sts.app, v2, {});
      const second = await postForm(sts.app, v2, {});
      assert.notEqual(first.json().trace_id, second.json().trace_id);
      assert.notEqual(first.json().correlation_id, second.json().correlation_id);
    });

    test("error_uri names the host the caller used", async () => {
      const response = await postForm(sts.app, v2, {}, { host: "sts.example.test:9443" });
      assert.equal(response.json().error_uri, "https://sts.example.test:9443/error?code=900144");
    });
  });

  describe("success (entra.md §2.2)", () => {
    test("v2.0: 200 with integer expires_in/ext_expires_in, no-store headers and a v1 access token", async () => {
      const response = await postForm(sts.app, v2, v2Form(sts.identity.clientId));
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.headers["content-type"], "application/json; charset=utf-8");
      assert.equal(response.headers["cache-control"], "no-store, no-cache");
      assert.equal(response.headers.pragma, "no-cache");
      assert.equal(response.headers.expires, "-1");
      const body = response.json();
      assert.deepEqual(Object.keys(body), ["token_type", "expires_in", "ext_expires_in", "access_token"]);
      assert.equal(body.token_type, "Bearer");
      assert.ok(Number.isInteger(body.expires_in), `expires_in must be a JSON integer: ${response.body}`);
      assert.ok(Number.isInteger(body.ext_expires_in));
      assert.equal(body.expires_in, 3599);
      assert.equal(body.ext_expires_in, 3599);
      assert.match(response.body, /"expires_in":3599,"ext_expires_in":3599/);
      const claims = decodeJwt(body.access_token);
      assert.equal(claims.aud, "https://vault.azure.net");
      assert.equal(claims.ver, "1.0");
      assert.equal(claims.exp, (claims.iat ?? 0) + 300 + 3600);
    });

    test("the validator receives the assertion and the principal named by client_id", async () => {
      await postForm(sts.app, v2, v2Form(sts.identity.clientId, { client_assertion: "a.b.c" }));
      assert.equal(sts.validations.length, 1);
      const [call] = sts.validations;
      assert.equal(call?.assertion, "a.b.c");
      assert.equal(call?.principal.clientId, sts.identity.clientId);
      assert.equal(call?.principal.principalId, sts.identity.principalId);
      assert.equal(call?.principal.tenantId, sts.tenant.tenantId);
      assert.deepEqual(
        call?.principal.credentials.map(({ issuer, subject, audiences }) => ({ issuer, subject, audiences })),
        [
          {
            issuer: "https://oidc.cluster.test/3f2a9c1e/",
            subject: "system:serviceaccount:payments:api",
            audiences: ["api://AzureADTokenExchange"],
          },
        ],
      );
    });

    test("v1: every value a string, with expires_on, not_before and resource", async () => {
      const before = Math.floor(Date.now() / 1000);
      const response = await postForm(sts.app, v1, v1Form(sts.identity.clientId));
      const after = Math.floor(Date.now() / 1000);
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.headers["cache-control"], "no-store, no-cache");
      assert.equal(response.headers.pragma, "no-cache");
      assert.equal(response.headers.expires, "-1");
      const body = response.json();
      assert.deepEqual(Object.keys(body), [
        "token_type",
        "expires_in",
        "ext_expires_in",
        "expires_on",
        "not_before",
        "resource",
        "access_token",
      ]);
      for (const [member, value] of Object.entries(body)) {
        assert.equal(typeof value, "string", `${member} must be a string`);
      }
      assert.equal(body.token_type, "Bearer");
      assert.equal(body.expires_in, "3599");
      assert.equal(body.ext_expires_in, "3599");
      assert.equal(body.resource, "https://vault.azure.net");
      const expiresOn = Number(body.expires_on);
      const notBefore = Number(body.not_before);
      assert.ok(expiresOn >= before + 3600 && expiresOn <= after + 3600, body.expires_on);
      assert.equal(expiresOn - notBefore, 3900);
      const claims = decodeJwt(body.access_token);
      assert.equal(claims.exp, expiresOn);
      assert.equal(claims.nbf, notBefore);
      assert.equal(claims.aud, "https://vault.azure.net");
    });

    test("a tenant named by its domain works, and the token carries the tenant GUID", async () => {
      const response = await postForm(
        sts.app,
        `/${sts.tenant.defaultDomain}/oauth2/v2.0/token`,
        v2Form(sts.identity.clientId),
      );
      assert.equal(response.statusCode, 200, response.body);
      const claims = decodeJwt(response.json().access_token);
      assert.equal(claims.tid, sts.tenant.tenantId);
      assert.equal(claims.iss, `https://sts.windows.net/${sts.tenant.tenantId}/`);
    });

    test("a configured access-token lifetime is what expires_in reports", async () => {
      const long = await startStsApp({ accessTokenLifetimeSeconds: 86400 });
      try {
        const response = await postForm(
          long.app,
          `/${long.tenant.tenantId}/oauth2/v2.0/token`,
          v2Form(long.identity.clientId),
        );
        assert.equal(response.json().expires_in, 86399);
      } finally {
        await long.close();
      }
    });
  });

  describe("what real clients send (entra.md §2.1, clients.md §3.4)", () => {
    test("MSAL's ?client-request-id= query, x-client-* fields, client_info and claims are accepted and ignored", async () => {
      const response = await postForm(
        sts.app,
        `${v2}?client-request-id=${randomUUID()}`,
        v2Form(sts.identity.clientId, {
          "x-client-SKU": "msal.js.node",
          "x-client-VER": "3.8.1",
          "x-client-OS": "linux",
          "x-client-CPU": "x64",
          "x-ms-lib-capability": "retry-after, h429",
          "x-client-current-telemetry": "5|771,2,,,|,",
          "x-client-last-telemetry": "5|0|||0,0",
          "client-request-id": randomUUID(),
          client_info: "1",
          claims: '{"id_token":{"xms_cc":{"values":["cp1"]}},"access_token":{"xms_cc":{"values":["cp1"]}}}',
        }),
        { "content-type": "application/x-www-form-urlencoded;charset=utf-8" },
      );
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(decodeJwt(response.json().access_token).aud, "https://vault.azure.net");
    });

    test("a CAE claims request echoes its capabilities as xms_cc (JS cp1, msal-python CP1)", async () => {
      for (const [claims, expected] of [
        ['{"id_token":{"xms_cc":{"values":["cp1"]}},"access_token":{"xms_cc":{"values":["cp1"]}}}', ["cp1"]],
        ['{"access_token": {"xms_cc": {"values": ["CP1"]}}}', ["CP1"]],
      ] as const) {
        const response = await postForm(sts.app, v2, v2Form(sts.identity.clientId, { claims }));
        assert.deepEqual(decodeJwt(response.json().access_token).xms_cc, expected);
      }
    });

    test("claims that are not JSON, or ask for no capability, are ignored", async () => {
      for (const claims of ["{not json", '{"id_token":{}}', '{"access_token":{"xms_cc":{"values":"cp1"}}}']) {
        const response = await postForm(sts.app, v2, v2Form(sts.identity.clientId, { claims }));
        assert.equal(response.statusCode, 200, response.body);
        assert.equal(decodeJwt(response.json().access_token).xms_cc, undefined);
      }
    });

    const scopeSpellings: Array<[scope: string, aud: string]> = [
      ["https://vault.azure.net/.default", "https://vault.azure.net"],
      // az CLI: the ARM resource ID ends in `/`, then `/.default` is appended; aud keeps the slash.
      ["https://management.core.windows.net//.default", "https://management.core.windows.net/"],
      // From a vault challenge in deployment model A.
      ["https://vault.example.test:8443/.default", "https://vault.example.test:8443"],
      // Known resources compare case-insensitively and without trailing slashes; aud keeps the caller's spelling.
      ["https://management.azure.com/.default", "https://management.azure.com"],
      ["HTTPS://Vault.Azure.NET/.default", "HTTPS://Vault.Azure.NET"],
      ["  https://vault.azure.net/.default\n", "https://vault.azure.net"],
    ];
    for (const [scope, aud] of scopeSpellings) {
      test(`scope ${JSON.stringify(scope)} → aud ${aud}`, async () => {
        const response = await postForm(sts.app, v2, v2Form(sts.identity.clientId, { scope }));
        assert.equal(response.statusCode, 200, response.body);
        assert.equal(decodeJwt(response.json().access_token).aud, aud);
      });
    }

    test("v1 resource with a trailing slash keeps it in aud and in the body", async () => {
      const response = await postForm(
        sts.app,
        v1,
        v1Form(sts.identity.clientId, { resource: "https://management.core.windows.net/" }),
      );
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.json().resource, "https://management.core.windows.net/");
      assert.equal(decodeJwt(response.json().access_token).aud, "https://management.core.windows.net/");
    });

    test("the v1 endpoint ignores a scope and answers for its resource", async () => {
      const response = await postForm(
        sts.app,
        v1,
        v1Form(sts.identity.clientId, { scope: "https://graph.microsoft.com/.default" }),
      );
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.json().resource, "https://vault.azure.net");
    });

    test("client_id is matched case-insensitively (a GUID in upper case)", async () => {
      const response = await postForm(sts.app, v2, v2Form(sts.identity.clientId.toUpperCase()));
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(decodeJwt(response.json().access_token).appid, sts.identity.clientId);
    });
  });

  describe("issued access token (entra.md §7)", () => {
    test("header and v1 claims of an app-only token for a user-assigned identity", async () => {
      const before = Math.floor(Date.now() / 1000);
      const response = await postForm(
        sts.app,
        v2,
        v2Form(sts.identity.clientId, { claims: '{"access_token":{"xms_cc":{"values":["cp1"]}}}' }),
      );
      const after = Math.floor(Date.now() / 1000);
      const token: string = response.json().access_token;
      assert.deepEqual(decodeProtectedHeader(token), {
        typ: "JWT",
        alg: "RS256",
        kid: sts.keys.active.kid,
        x5t: sts.keys.active.kid,
      });
      const claims = decodeJwt(token);
      const tid = sts.tenant.tenantId;
      assert.equal(claims.aud, "https://vault.azure.net");
      assert.equal(claims.iss, `https://sts.windows.net/${tid}/`);
      assert.equal(claims.idp, `https://sts.windows.net/${tid}/`);
      assert.equal(claims.iat, claims.nbf);
      const iat = claims.iat ?? 0;
      assert.ok(iat >= before - 300 && iat <= after - 300, "iat and nbf are back-dated 300 s");
      assert.equal(claims.exp, iat + 300 + 3600);
      assert.equal(claims.appid, sts.identity.clientId);
      assert.equal(claims.appidacr, "2");
      assert.equal(claims.idtyp, "app");
      assert.equal(claims.oid, sts.identity.principalId);
      assert.equal(claims.sub, sts.identity.principalId);
      assert.equal(claims.tid, tid);
      assert.equal(claims.ver, "1.0");
      assert.match(String(claims.uti), /^[A-Za-z0-9_-]{22}$/);
      assert.equal(typeof claims.aio, "string");
      assert.equal(typeof claims.rh, "string");
      assert.deepEqual(claims.xms_cc, ["cp1"]);
      const subscription = sts.identity.resourceId.split("/")[2];
      assert.equal(
        claims.xms_mirid,
        `/subscriptions/${subscription}/resourcegroups/${RESOURCE_GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${IDENTITY_NAME}`,
      );
      assert.ok(sts.identity.resourceId.includes("/resourceGroups/"), "the ARM ID itself keeps its spelling");
    });

    test("verifies against /common/discovery/keys, and uti is fresh per token", async () => {
      const keys = await sts.app.inject({
        method: "GET",
        url: "/common/discovery/keys",
        headers: { host: HOST },
      });
      const jwks = createLocalJWKSet(keys.json());
      const first = (await postForm(sts.app, v2, v2Form(sts.identity.clientId))).json().access_token;
      const second = (await postForm(sts.app, v2, v2Form(sts.identity.clientId))).json().access_token;
      const { payload } = await jwtVerify(first, jwks, {
        algorithms: ["RS256"],
        issuer: `https://sts.windows.net/${sts.tenant.tenantId}/`,
        audience: "https://vault.azure.net",
      });
      assert.equal(payload.oid, sts.identity.principalId);
      await jwtVerify(second, jwks, { algorithms: ["RS256"] });
      assert.notEqual(decodeJwt(first).uti, decodeJwt(second).uti);
    });

    test("a token signed before a key rotation still verifies; new tokens use the new key", async () => {
      const rotating = await startStsApp();
      try {
        const url = `/${rotating.tenant.tenantId}/oauth2/v2.0/token`;
        const old = (await postForm(rotating.app, url, v2Form(rotating.identity.clientId))).json()
          .access_token;
        const oldKid = rotating.keys.active.kid;
        await rotating.keys.rotate();
        const fresh = (await postForm(rotating.app, url, v2Form(rotating.identity.clientId))).json()
          .access_token;
        assert.notEqual(decodeProtectedHeader(fresh).kid, oldKid);
        const keys = await rotating.app.inject({
          method: "GET",
          url: "/common/discovery/keys",
          headers: { host: HOST },
        });
        const jwks = createLocalJWKSet(keys.json());
        await jwtVerify(old, jwks);
        await jwtVerify(fresh, jwks);
      } finally {
        await rotating.close();
      }
    });
  });
});
