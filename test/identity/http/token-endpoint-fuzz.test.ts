// The token endpoints under random input: whatever the form, the content type or the assertion, the answer is a
// 200 with a token or Entra's 4xx error body — never a 5xx, never a crash, never a token for a refused request.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { CLUSTER_KID, clusterIssuerKeys, signedToken as signed } from "./cluster-signer.ts";
import {
  AUDIENCE,
  CLUSTER_ISSUER,
  formBody,
  HOST,
  JWT_BEARER,
  type StsApp,
  SUBJECT,
  startStsApp,
} from "./sts-app.ts";

/** JSON values for claims and header members, small but of every type, nested a little. */
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.integer(),
    fc.string(),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie("value"), { maxKeys: 3 }),
  ),
})).value;

/** Mostly `right`, sometimes anything: so that random requests get past the early checks and reach the deep ones. */
const mostly = <T, U = unknown>(right: T, other: fc.Arbitrary<U> = jsonValue as fc.Arbitrary<U>) =>
  fc.oneof({ arbitrary: fc.constant(right), weight: 6 }, { arbitrary: other, weight: 1 });

/** Present with probability 1/(1 + odds), else left out. */
const rarely = <T>(value: fc.Arbitrary<T>, odds = 6) =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: odds }, { arbitrary: value, weight: 1 });

const now = Math.floor(Date.now() / 1000);
const claims = fc.record({
  iss: mostly(CLUSTER_ISSUER),
  sub: mostly(SUBJECT),
  aud: mostly([AUDIENCE]),
  iat: mostly(now, fc.oneof(fc.integer({ min: now - 7200, max: now + 7200 }), jsonValue)),
  nbf: mostly(now, fc.oneof(fc.integer({ min: now - 7200, max: now + 7200 }), jsonValue)),
  exp: mostly(now + 3600, fc.oneof(fc.integer({ min: now - 7200, max: now + 7200 }), jsonValue)),
  extra: rarely(jsonValue, 2),
});

const header = fc.record({
  alg: mostly("RS256", fc.oneof(fc.constantFrom("RS384", "none", "HS256", "ES256"), jsonValue)),
  kid: mostly(CLUSTER_KID),
  typ: rarely(fc.oneof(fc.constant("JWT"), jsonValue), 2),
  crit: rarely(jsonValue),
  b64: rarely(jsonValue),
});

/** Signed tokens with random header and claims, and plain garbage shaped more or less like a JWT. */
const assertion = fc.oneof(
  {
    arbitrary: fc.tuple(header, claims).map(([h, c]) => signed(JSON.stringify(h), JSON.stringify(c))),
    weight: 8,
  },
  fc.array(fc.string(), { minLength: 1, maxLength: 5 }).map((parts) => parts.join(".")),
  fc.array(fc.base64String(), { minLength: 3, maxLength: 3 }).map((parts) => parts.join(".")),
  fc.string(),
);

const form = fc.record({
  grant_type: mostly("client_credentials", fc.string()),
  client_id: mostly("<identity>", fc.oneof(fc.uuid(), fc.string())),
  client_assertion_type: mostly(JWT_BEARER, fc.string()),
  client_assertion: fc.oneof({ arbitrary: assertion, weight: 12 }, fc.constant(undefined)),
  client_secret: rarely(fc.string(), 12),
  scope: mostly("https://vault.azure.net/.default", fc.string()),
  resource: mostly("https://vault.azure.net", fc.string()),
  claims: rarely(fc.oneof(fc.constant('{"access_token":{"xms_cc":{"values":["cp1"]}}}'), fc.string()), 3),
  "client-request-id": rarely(fc.string(), 3),
});

describe("token endpoint fuzz", () => {
  let sts: StsApp;
  const issuerKeys = clusterIssuerKeys();
  before(async () => {
    sts = await startStsApp({ issuerKeys });
  });
  after(() => sts.close());

  test("random forms, content types and assertions: a token or an Entra 4xx body, never a 5xx", async () => {
    /** What the runs were answered with, to show that they reached past the early checks. */
    const outcomes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        form,
        fc.constantFrom("v2.0/token", "token"),
        mostly(true, fc.constant(false)),
        mostly("<tenant>", fc.string({ maxLength: 40 })),
        mostly(
          "application/x-www-form-urlencoded",
          fc.constantFrom("application/json", "text/plain", "multipart/form-data"),
        ),
        async (fields, endpoint, dropOther, tenant, contentType) => {
          const values: Record<string, string | undefined> = { ...fields };
          if (values.client_id === "<identity>") values.client_id = sts.identity.clientId;
          // Each endpoint's own way to name the resource, the other way only now and then.
          if (endpoint === "v2.0/token" && dropOther) delete values.resource;
          if (endpoint === "token" && dropOther) delete values.scope;
          const tenantPath = tenant === "<tenant>" ? sts.tenant.tenantId : encodeURIComponent(tenant) || "x";
          const response = await sts.app.inject({
            method: "POST",
            url: `/${tenantPath}/oauth2/${endpoint}`,
            headers: { host: HOST, "content-type": contentType },
            payload: formBody(values),
          });
          assert.ok(response.statusCode < 500, `${response.statusCode}: ${response.body}`);
          const body = response.json();
          outcomes.add(response.statusCode === 200 ? "token" : String(body.error_codes));
          if (response.statusCode === 200) {
            assert.equal(typeof body.access_token, "string");
            return;
          }
          if (response.statusCode === 404) return; // a path no endpoint serves, e.g. a tenant with a slash
          assert.ok(response.statusCode === 400 || response.statusCode === 401, response.body);
          assert.ok(Array.isArray(body.error_codes) && body.error_codes.length === 1, response.body);
          assert.match(body.error_description, /^AADSTS\d+: /);
          assert.equal(body.access_token, undefined);
        },
      ),
      { numRuns: 400 },
    );
    assert.ok(outcomes.has("token"), `no run was issued a token: ${[...outcomes]}`);
    const deep = ["700027", "700024", "700213", "700212"].filter((code) => outcomes.has(code));
    assert.ok(deep.length > 0, `no run reached the signature, time or subject checks: ${[...outcomes]}`);
  });
});
