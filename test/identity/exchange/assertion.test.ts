import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  type CryptoKey,
  exportSPKI,
  type GenerateKeyPairResult,
  generateKeyPair,
  type JWTPayload,
  type KeyObject,
  SignJWT,
  UnsecuredJWT,
} from "jose";
import { AadstsError } from "../../../src/identity/exchange/aadsts-errors.ts";
import { validateClientAssertion } from "../../../src/identity/exchange/assertion.ts";
import type { FederatedCredential, FederatedIdentity } from "../../../src/identity/exchange/fic-match.ts";
import {
  type IssuerKeySource,
  IssuerMetadataClient,
} from "../../../src/identity/exchange/issuer-metadata.ts";
import { SERVICE_ACCOUNT_TOKEN_TEXT } from "../../fixtures/kubernetes.ts";
import { type IssuerServer, startIssuerServer } from "./issuer-server.ts";

// Real kube-apiserver v1.20.2 tokens, with the discovery document and JWKS of their issuer.
const fixture = JSON.parse(SERVICE_ACCOUNT_TOKEN_TEXT);

const ISSUER = "https://issuer.test/cluster-1/";
const SUBJECT = "system:serviceaccount:payments:api";
const AUDIENCE = "api://AzureADTokenExchange";
const NOW_MS = Date.parse("2030-01-01T00:00:00Z");
const NOW = NOW_MS / 1000;

const credential: FederatedCredential = {
  name: "aks",
  issuer: ISSUER,
  subject: SUBJECT,
  audiences: [AUDIENCE],
};
const identity: FederatedIdentity = {
  clientId: "11111111-2222-3333-4444-555555555555",
  displayName: "payments-api",
  credentials: [credential],
};

/** A key source that serves fixed keys by kid and records every request, so tests can see what was fetched. */
function keySource(keys: Record<string, CryptoKey | KeyObject>) {
  const calls: Array<{ issuer: string; kid?: string }> = [];
  const source: IssuerKeySource = {
    async getKey(issuer, header) {
      calls.push({ issuer, kid: header.kid });
      const key = header.kid === undefined ? undefined : keys[header.kid];
      if (key === undefined) throw new AadstsError(7000272, { kid: String(header.kid), issuer });
      return key;
    },
  };
  return { source, calls };
}

async function rejectsWith(promise: Promise<unknown>, code: number): Promise<AadstsError> {
  const error = await promise.then(
    () => assert.fail(`expected AADSTS${code}, but the assertion was accepted`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AadstsError, `expected an AadstsError, got ${error}`);
  assert.equal(error.code, code, error.description);
  return error;
}

describe("validateClientAssertion", () => {
  let rs256: GenerateKeyPairResult;
  let rs512: GenerateKeyPairResult;
  let impostor: GenerateKeyPairResult;
  let es256: GenerateKeyPairResult;
  let keys: ReturnType<typeof keySource>;

  before(async () => {
    [rs256, rs512, impostor, es256] = await Promise.all([
      generateKeyPair("RS256"),
      generateKeyPair("RS512"),
      generateKeyPair("RS256"),
      generateKeyPair("ES256"),
    ]);
  });

  const baseClaims = (): JWTPayload => ({
    iss: ISSUER,
    sub: SUBJECT,
    aud: [AUDIENCE],
    iat: NOW - 60,
    nbf: NOW - 60,
    exp: NOW + 3600,
  });

  function mint(
    claims: JWTPayload = baseClaims(),
    header: { alg: string; kid?: string } = { alg: "RS256", kid: "key-1" },
    key: CryptoKey | Uint8Array = rs256.privateKey,
  ) {
    return new SignJWT(claims).setProtectedHeader(header).sign(key);
  }

  function validate(assertion: string, target: FederatedIdentity = identity, clockSkewSeconds?: number) {
    keys = keySource({ "key-1": rs256.publicKey, "key-512": rs512.publicKey });
    return validateClientAssertion(assertion, target, {
      metadata: keys.source,
      now: () => NOW_MS,
      clockSkewSeconds,
    });
  }

  test("accepts a well-formed assertion and returns the credential it satisfies with its claims", async () => {
    const result = await validate(await mint());
    assert.equal(result.credential, credential);
    assert.equal(result.claims.sub, SUBJECT);
    assert.deepEqual(keys.calls, [{ issuer: ISSUER, kid: "key-1" }]);
  });

  test("accepts RS384 and RS512 as well as RS256", async () => {
    await validate(await mint(baseClaims(), { alg: "RS512", kid: "key-512" }, rs512.privateKey));
    const rs384 = await generateKeyPair("RS384");
    const viaRs384 = keySource({ k: rs384.publicKey });
    await validateClientAssertion(
      await mint(baseClaims(), { alg: "RS384", kid: "k" }, rs384.privateKey),
      identity,
      {
        metadata: viaRs384.source,
        now: () => NOW_MS,
      },
    );
  });

  test("trims whitespace and newlines around the assertion (token files sent verbatim)", async () => {
    const token = await mint();
    for (const padded of [`${token}\n`, `${token}\r\n`, `  ${token}\t`, `\n${token}\n`])
      await validate(padded);
  });

  test("accepts the same token again and again: jti is never treated as one-time", async () => {
    const token = await mint({ ...baseClaims(), jti: "7c0e7a52-55a2-4a38-9d3f-2a2d3a1b0c11" });
    for (let i = 0; i < 3; i++) await validate(token);
  });

  test("puts no cap on assertion lifetime or iat age", async () => {
    await validate(await mint({ ...baseClaims(), iat: NOW - 86400 * 365, nbf: NOW - 86400 * 365 }));
  });

  describe("shape", () => {
    test("anything but a compact JWS with a JSON object payload is AADSTS50027", async () => {
      const token = await mint();
      const [head, , signature] = token.split(".");
      const malformed = [
        "",
        "not-a-jwt",
        "a.b",
        `${head}.!!!.${signature}`,
        `${head}.${Buffer.from("[1,2]").toString("base64url")}.${signature}`,
        `!!!.${token.split(".")[1]}.${signature}`,
        `${token}.x.y`, // five parts: a JWE shape
      ];
      for (const assertion of malformed) await rejectsWith(validate(assertion), 50027);
      assert.equal(keys.calls.length, 0);
    });
  });

  describe("algorithm and key selection", () => {
    test("refuses alg none (AADSTS5002738) without contacting the issuer", async () => {
      const unsecured = new UnsecuredJWT(baseClaims()).encode();
      const error = await rejectsWith(validate(unsecured), 5002738);
      assert.match(error.description, /'none' is not a supported signature algorithm/);
      assert.equal(error.status, 401);
      assert.equal(keys.calls.length, 0);
    });

    test("refuses HS256 signed with the issuer's public key as the HMAC secret (algorithm confusion)", async () => {
      const secret = new TextEncoder().encode(await exportSPKI(rs256.publicKey));
      const confused = await mint(baseClaims(), { alg: "HS256", kid: "key-1" }, secret);
      await rejectsWith(validate(confused), 5002738);
      assert.equal(keys.calls.length, 0);
    });

    test("refuses ES256 and other algorithms outside RS256/RS384/RS512", async () => {
      await rejectsWith(
        validate(await mint(baseClaims(), { alg: "ES256", kid: "key-1" }, es256.privateKey)),
        5002738,
      );
      const ps256 = await generateKeyPair("PS256");
      await rejectsWith(
        validate(await mint(baseClaims(), { alg: "PS256", kid: "key-1" }, ps256.privateKey)),
        5002738,
      );
    });

    test("refuses a header without kid (AADSTS5002723)", async () => {
      const noKid = await new SignJWT(baseClaims())
        .setProtectedHeader({ alg: "RS256" })
        .sign(rs256.privateKey);
      await rejectsWith(validate(noKid), 5002723);
      assert.equal(keys.calls.length, 0);
    });

    test("passes the key source's own AADSTS errors through (e.g. 7000272 for an unknown kid)", async () => {
      await rejectsWith(validate(await mint(baseClaims(), { alg: "RS256", kid: "rotated-away" })), 7000272);
    });
  });

  describe("claims required before any lookup", () => {
    test("a missing or non-string iss is AADSTS90014 naming 'iss'", async () => {
      for (const iss of [undefined, 42]) {
        const error = await rejectsWith(validate(await mint({ ...baseClaims(), iss } as JWTPayload)), 90014);
        assert.match(error.description, /The required field 'iss' is missing/);
      }
    });

    test("a missing or empty aud is AADSTS90014 naming 'aud'", async () => {
      for (const aud of [undefined, [], ""]) {
        const error = await rejectsWith(validate(await mint({ ...baseClaims(), aud })), 90014);
        assert.match(error.description, /'aud'/);
      }
    });

    test("an identity with no federated credentials is AADSTS70025, before any fetch", async () => {
      await rejectsWith(validate(await mint(), { ...identity, credentials: [] }), 70025);
      assert.equal(keys.calls.length, 0);
    });

    test("an issuer no credential names is AADSTS700211 and is never contacted", async () => {
      const attacker = await mint({ ...baseClaims(), iss: "https://attacker.example" });
      await rejectsWith(validate(attacker), 700211);
      const slashless = await mint({ ...baseClaims(), iss: ISSUER.slice(0, -1) });
      await rejectsWith(validate(slashless), 700211);
      assert.equal(keys.calls.length, 0);
    });

    test("a legacy Secret-based token (iss kubernetes/serviceaccount, no aud, no exp) is rejected offline", async () => {
      const legacy = await mint({
        iss: "kubernetes/serviceaccount",
        sub: SUBJECT,
        "kubernetes.io/serviceaccount/namespace": "payments",
        "kubernetes.io/serviceaccount/service-account.name": "api",
      });
      await rejectsWith(validate(legacy), 90014);
      await rejectsWith(
        validate(await mint({ iss: "kubernetes/serviceaccount", sub: SUBJECT, aud: AUDIENCE })),
        700211,
      );
      assert.equal(keys.calls.length, 0);
    });
  });

  describe("signature", () => {
    test("a token signed by another key under a known kid is AADSTS700027 (invalid_client, 401)", async () => {
      const forged = await mint(baseClaims(), { alg: "RS256", kid: "key-1" }, impostor.privateKey);
      const error = await rejectsWith(validate(forged), 700027);
      assert.equal(error.error, "invalid_client");
      assert.equal(error.status, 401);
    });

    test("a tampered payload is AADSTS700027", async () => {
      const [head, , signature] = (await mint()).split(".");
      const payload = Buffer.from(
        JSON.stringify({ ...baseClaims(), sub: "system:serviceaccount:kube-system:admin" }),
      );
      await rejectsWith(validate(`${head}.${payload.toString("base64url")}.${signature}`), 700027);
    });

    test("the signature is checked before time and subject claims are believed", async () => {
      const forgedExpired = await mint(
        { ...baseClaims(), exp: NOW - 86400, sub: "system:serviceaccount:x:y" },
        { alg: "RS256", kid: "key-1" },
        impostor.privateKey,
      );
      await rejectsWith(validate(forgedExpired), 700027);
    });
  });

  describe("time", () => {
    test("an assertion expired beyond the skew is AADSTS700024, stating the current time and the window", async () => {
      const error = await rejectsWith(
        validate(await mint({ ...baseClaims(), nbf: NOW - 3600, exp: NOW - 600 })),
        700024,
      );
      assert.equal(error.status, 401);
      assert.match(
        error.description,
        /^AADSTS700024: Client assertion is not within its valid time range\. Current time: 2030-01-01T00:00:00\.0000000Z, assertion valid from 2029-12-31T23:00:00\.0000000Z, expiry time of assertion 2029-12-31T23:50:00\.0000000Z\./,
      );
    });

    test("allows five minutes of clock skew on exp and nbf by default", async () => {
      await validate(await mint({ ...baseClaims(), exp: NOW - 299 }));
      await validate(await mint({ ...baseClaims(), nbf: NOW + 299 }));
    });

    test("an assertion not yet valid beyond the skew is AADSTS700024", async () => {
      await rejectsWith(validate(await mint({ ...baseClaims(), nbf: NOW + 301 })), 700024);
    });

    test("honours a configured skew", async () => {
      await rejectsWith(validate(await mint({ ...baseClaims(), exp: NOW - 1 }), identity, 0), 700024);
    });

    test("an assertion without exp is AADSTS700024, its expiry printed as 1970-01-01T00:00:00.0000000Z", async () => {
      const { exp: _, ...withoutExp } = baseClaims();
      const error = await rejectsWith(validate(await mint(withoutExp)), 700024);
      assert.match(error.description, /expiry time of assertion 1970-01-01T00:00:00\.0000000Z\./);
    });
  });

  describe("credential matching after verification", () => {
    test("a subject mismatch is AADSTS700213, a case-only mismatch AADSTS7002138", async () => {
      await rejectsWith(
        validate(await mint({ ...baseClaims(), sub: "system:serviceaccount:payments:worker" })),
        700213,
      );
      await rejectsWith(validate(await mint({ ...baseClaims(), sub: SUBJECT.toUpperCase() })), 7002138);
    });

    test("an audience mismatch is AADSTS700212; aud may be a string", async () => {
      await rejectsWith(
        validate(await mint({ ...baseClaims(), aud: "api://AzureADTokenExchangeChina" })),
        700212,
      );
      await validate(await mint({ ...baseClaims(), aud: AUDIENCE }));
    });
  });

  describe("real kube-apiserver tokens, over HTTPS from their issuer's discovery and JWKS", () => {
    let server: IssuerServer;
    const kubernetesIdentity: FederatedIdentity = {
      clientId: "11111111-2222-3333-4444-555555555555",
      displayName: "wi-probe",
      credentials: [
        {
          name: "kind",
          issuer: fixture.claims.iss,
          subject: fixture.claims.sub,
          audiences: fixture.claims.aud,
        },
      ],
    };

    before(async () => {
      server = await startIssuerServer();
      server.serveJson("/.well-known/openid-configuration", fixture.openidConfiguration, {
        "cache-control": "public, max-age=3600",
      });
      server.serveJson("/openid/v1/jwks", fixture.jwks, { "cache-control": "public, max-age=3600" });
    });
    after(() => server.close());

    /** The fixture's issuer is https://127.0.0.1:6443; its documents are served from the test server's port. */
    function metadataFor(nowMs: number) {
      return new IssuerMetadataClient({
        ca: server.caPem,
        allowPrivateNetworks: true,
        now: () => nowMs,
        connectTo: (host, port) =>
          host === "127.0.0.1" && port === 6443 ? { host: "127.0.0.1", port: server.port } : undefined,
      });
    }

    test("the unbound and the pod-bound token both verify, with the clock pinned to iat", async () => {
      for (const [token, claims] of [
        [fixture.token, fixture.claims],
        [fixture.podBoundToken, fixture.podBoundClaims],
      ]) {
        const nowMs = claims.iat * 1000;
        const result = await validateClientAssertion(token, kubernetesIdentity, {
          metadata: metadataFor(nowMs),
          now: () => nowMs,
        });
        assert.equal(result.credential.name, "kind");
        assert.deepEqual(result.claims, claims);
      }
      assert.deepEqual(server.requests.slice(0, 2), [
        "127.0.0.1:6443/.well-known/openid-configuration",
        "127.0.0.1:6443/openid/v1/jwks",
      ]);
    });

    test("the same token is refused once it has expired", async () => {
      const nowMs = (fixture.claims.exp + 301) * 1000;
      await rejectsWith(
        validateClientAssertion(fixture.token, kubernetesIdentity, {
          metadata: metadataFor(nowMs),
          now: () => nowMs,
        }),
        700024,
      );
    });

    test("a token re-signed with another key under the fixture's kid is refused", async () => {
      const { privateKey } = await generateKeyPair("RS256");
      const forged = await new SignJWT(fixture.claims).setProtectedHeader(fixture.header).sign(privateKey);
      const nowMs = fixture.claims.iat * 1000;
      await rejectsWith(
        validateClientAssertion(forged, kubernetesIdentity, {
          metadata: metadataFor(nowMs),
          now: () => nowMs,
        }),
        700027,
      );
    });
  });
});
