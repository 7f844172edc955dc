// The token endpoint against hostile assertions and requests, one test per threat, each over HTTP with the real
// assertion validator: every one is refused with the AADSTS code Entra uses, in Entra's error body, and the
// structural ones without the issuer ever being contacted.

import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, before, beforeEach, describe, test } from "node:test";
import type { LightMyRequestResponse } from "fastify";
import { MAX_ASSERTION_LENGTH, MAX_CLAIM_DEPTH } from "../../../src/identity/exchange/assertion.ts";
import { CLUSTER_KID, clusterIssuerKeys, signedToken as signed } from "./cluster-signer.ts";
import { AUDIENCE, CLUSTER_ISSUER, postForm, type StsApp, SUBJECT, startStsApp, v2Form } from "./sts-app.ts";

const SKEW_SECONDS = 300;

const header = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ alg: "RS256", kid: CLUSTER_KID, ...extra });

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: CLUSTER_ISSUER,
    sub: SUBJECT,
    aud: [AUDIENCE],
    iat: now,
    nbf: now,
    exp: now + 3600,
    ...overrides,
  };
}

describe("token endpoint threats", () => {
  let sts: StsApp;
  const issuerKeys = clusterIssuerKeys();
  const fetches = issuerKeys.fetches;

  before(async () => {
    sts = await startStsApp({ issuerKeys });
  });
  after(() => sts.close());
  beforeEach(() => {
    fetches.length = 0;
  });

  const exchange = (assertion: string): Promise<LightMyRequestResponse> =>
    postForm(
      sts.app,
      `/${sts.tenant.tenantId}/oauth2/v2.0/token`,
      v2Form(sts.identity.clientId, { client_assertion: assertion }),
    );

  /** Entra's error body with this code, and no access token. */
  function assertRefused(response: LightMyRequestResponse, code: number, status = 400): void {
    assert.equal(response.statusCode, status, response.body);
    const body = response.json();
    assert.deepEqual(body.error_codes, [code]);
    assert.match(body.error_description, new RegExp(`^AADSTS${code}: `));
    assert.ok(typeof body.trace_id === "string" && typeof body.correlation_id === "string");
    assert.equal(body.access_token, undefined);
  }

  test("control: a well-formed assertion from the trusted issuer is exchanged", async () => {
    const response = await exchange(signed(header(), JSON.stringify(claims())));
    assert.equal(response.statusCode, 200, response.body);
  });

  test("a critical header extension (crit) is refused as malformed, the issuer never contacted", async () => {
    assertRefused(await exchange(signed(header({ crit: ["exp"] }), JSON.stringify(claims()))), 50027);
    assert.deepEqual(fetches, []);
  });

  test("an unencoded-payload header (b64, RFC 7797) that would change what the signature covers is refused", async () => {
    const token = signed(header({ b64: false, crit: ["b64"] }), JSON.stringify(claims()));
    assertRefused(await exchange(token), 50027);
    assertRefused(await exchange(signed(header({ b64: true }), JSON.stringify(claims()))), 50027);
    assert.deepEqual(fetches, []);
  });

  test(`an assertion longer than ${MAX_ASSERTION_LENGTH} characters is refused before it is decoded`, async () => {
    const padded = signed(header(), JSON.stringify(claims({ padding: "x".repeat(MAX_ASSERTION_LENGTH) })));
    assertRefused(await exchange(padded), 50027);
    assert.deepEqual(fetches, []);
  });

  test(`claims nested deeper than ${MAX_CLAIM_DEPTH} levels are refused`, async () => {
    let nested: unknown = "bottom";
    for (let level = 0; level < MAX_CLAIM_DEPTH; level += 1) nested = [nested];
    assertRefused(await exchange(signed(header(), JSON.stringify(claims({ nested })))), 50027);
    assert.deepEqual(fetches, []);
  });

  test("claims nested as deep as kube-apiserver's are taken", async () => {
    const kubernetes = {
      namespace: "payments",
      pod: { name: "api-1", uid: "u1" },
      serviceaccount: { name: "api" },
    };
    const response = await exchange(
      signed(header(), JSON.stringify(claims({ "kubernetes.io": kubernetes }))),
    );
    assert.equal(response.statusCode, 200, response.body);
  });

  for (const name of ["exp", "nbf", "iat"] as const) {
    test(`an ${name} claim that is not a finite number (string, boolean, array, null, overflow) is refused`, async () => {
      for (const value of ['"9999999999"', "true", "[9999999999]", "null", "1e400"]) {
        const payload = JSON.stringify(claims({ [name]: 0 })).replace(`"${name}":0`, `"${name}":${value}`);
        assertRefused(await exchange(signed(header(), payload)), 50027);
      }
      assert.deepEqual(fetches, []);
    });
  }

  test("an iat in the future beyond the clock-skew leeway is AADSTS700024; within it, the token is taken", async () => {
    const now = Math.floor(Date.now() / 1000);
    const early = claims({ iat: now + SKEW_SECONDS + 60, nbf: now });
    assertRefused(await exchange(signed(header(), JSON.stringify(early))), 700024, 401);
    const withinSkew = claims({ iat: now + SKEW_SECONDS - 60, nbf: now });
    assert.equal((await exchange(signed(header(), JSON.stringify(withinSkew)))).statusCode, 200);
  });

  test("an aud that is neither a string nor an array of strings is AADSTS90014", async () => {
    for (const aud of [42, { value: AUDIENCE }, [AUDIENCE, 42], [null], true]) {
      assertRefused(await exchange(signed(header(), JSON.stringify(claims({ aud })))), 90014);
    }
    assert.deepEqual(fetches, []);
  });

  test("a request body over the size cap gets Entra's error body, not the framework's", async () => {
    const response = await postForm(
      sts.app,
      `/${sts.tenant.tenantId}/oauth2/v2.0/token`,
      v2Form(sts.identity.clientId, { client_assertion: "x".repeat(2 * 1024 * 1024) }),
    );
    assertRefused(response, 50027);
    assert.equal(response.headers["cache-control"], "no-store, no-cache");
  });

  test("a signature by another key under the trusted kid is AADSTS700027", async () => {
    const { privateKey: stranger } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    assertRefused(await exchange(signed(header(), JSON.stringify(claims()), stranger)), 700027, 401);
  });
});
