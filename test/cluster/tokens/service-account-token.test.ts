import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import {
  MIN_TOKEN_EXPIRATION_SECONDS,
  type ServiceAccountTokenRequest,
  serviceAccountTokenClaims,
  signServiceAccountToken,
} from "../../../src/cluster/tokens/service-account-token.ts";
import { SigningKeyRing } from "../../../src/signing-keys/key-ring.ts";
import { SqliteStore } from "../../../src/store/sqlite-store.ts";
import { SERVICE_ACCOUNT_TOKEN_TEXT } from "../../fixtures/kubernetes.ts";

interface FixtureClaims {
  aud: string[];
  exp: number;
  iat: number;
  iss: string;
  "kubernetes.io": {
    namespace: string;
    serviceaccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
  };
  nbf: number;
  sub: string;
}

const fixture = JSON.parse(SERVICE_ACCOUNT_TOKEN_TEXT) as {
  claims: FixtureClaims;
  podBoundClaims: FixtureClaims;
  token: string;
};

/** The request that reproduces one of the fixture's real tokens. */
function requestFor(claims: FixtureClaims): ServiceAccountTokenRequest {
  const kube = claims["kubernetes.io"];
  return {
    issuer: claims.iss,
    namespace: kube.namespace,
    serviceAccount: kube.serviceaccount,
    audiences: claims.aud,
    expirationSeconds: claims.exp - claims.iat,
    ...(kube.pod ? { pod: kube.pod } : {}),
    issuedAt: claims.iat,
  };
}

/** The 1.30+ key order: the fixture's (≤1.28) members plus `jti`, alphabetically. */
const withJti = (keys: string[]) => [...keys, "jti"].sort();

const ring = await SigningKeyRing.open(new SqliteStore(":memory:"), "cluster:test");

function decodePayloadJson(token: string): string {
  return Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8");
}

describe("service-account token claims", () => {
  test("an unbound token has exactly kube-apiserver's claims, in its order, plus jti", () => {
    const claims = serviceAccountTokenClaims(requestFor(fixture.claims));
    assert.deepEqual(Object.keys(claims), withJti(Object.keys(fixture.claims)));
    assert.deepEqual(Object.keys(claims), ["aud", "exp", "iat", "iss", "jti", "kubernetes.io", "nbf", "sub"]);
    assert.deepEqual(Object.keys(claims["kubernetes.io"]), Object.keys(fixture.claims["kubernetes.io"]));
    const { jti, ...rest } = claims;
    assert.deepEqual(rest, fixture.claims);
    assert.match(jti, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test("a pod-bound token adds kubernetes.io.pod in kube-apiserver's place", () => {
    const claims = serviceAccountTokenClaims(requestFor(fixture.podBoundClaims));
    assert.deepEqual(Object.keys(claims), withJti(Object.keys(fixture.podBoundClaims)));
    assert.deepEqual(Object.keys(claims["kubernetes.io"]), ["namespace", "pod", "serviceaccount"]);
    const { jti: _, ...rest } = claims;
    assert.deepEqual(rest, fixture.podBoundClaims);
  });

  test("a node binding sits between namespace and pod, as in 1.30+ tokens", () => {
    const claims = serviceAccountTokenClaims({
      ...requestFor(fixture.podBoundClaims),
      node: { name: "node-1", uid: "0f4e4d1c-1111-4222-8333-444455556666" },
    });
    assert.deepEqual(Object.keys(claims["kubernetes.io"]), ["namespace", "node", "pod", "serviceaccount"]);
  });

  test("aud is always an array, even with one audience, and a copy of the request's", () => {
    const audiences = ["api://AzureADTokenExchange"];
    const claims = serviceAccountTokenClaims({ ...requestFor(fixture.claims), audiences });
    assert.ok(Array.isArray(claims.aud));
    assert.deepEqual(claims.aud, ["api://AzureADTokenExchange"]);
    audiences.push("later");
    assert.deepEqual(claims.aud, ["api://AzureADTokenExchange"]);
  });

  test("nbf equals iat and exp is iat + expirationSeconds", () => {
    for (const expirationSeconds of [600, 3600, 86400]) {
      const claims = serviceAccountTokenClaims({
        ...requestFor(fixture.claims),
        issuedAt: 1_750_000_000,
        expirationSeconds,
      });
      assert.equal(claims.iat, 1_750_000_000);
      assert.equal(claims.nbf, claims.iat);
      assert.equal(claims.exp, claims.iat + expirationSeconds);
    }
  });

  test("iat defaults to the current second", () => {
    const before = Math.floor(Date.now() / 1000);
    const { issuedAt: _, ...request } = requestFor(fixture.claims);
    const claims = serviceAccountTokenClaims(request);
    const after = Math.floor(Date.now() / 1000);
    assert.ok(Number.isInteger(claims.iat));
    assert.ok(claims.iat >= before && claims.iat <= after);
  });

  test("the subject names the namespace and service account; the issuer is kept verbatim", () => {
    const claims = serviceAccountTokenClaims({
      ...requestFor(fixture.claims),
      issuer: "https://oidc.example.test/cluster/",
      namespace: "apps",
      serviceAccount: { name: "web", uid: "u" },
    });
    assert.equal(claims.sub, "system:serviceaccount:apps:web");
    assert.equal(claims.iss, "https://oidc.example.test/cluster/");
  });

  test("every token gets its own jti", () => {
    const request = requestFor(fixture.claims);
    assert.notEqual(serviceAccountTokenClaims(request).jti, serviceAccountTokenClaims(request).jti);
  });

  test(`a lifetime under ${MIN_TOKEN_EXPIRATION_SECONDS} seconds is refused; exactly 600 is accepted`, () => {
    assert.equal(MIN_TOKEN_EXPIRATION_SECONDS, 600);
    const request = requestFor(fixture.claims);
    for (const expirationSeconds of [599, 0, -3600]) {
      assert.throws(() => serviceAccountTokenClaims({ ...request, expirationSeconds }), RangeError);
    }
    assert.doesNotThrow(() => serviceAccountTokenClaims({ ...request, expirationSeconds: 600 }));
  });

  test("a lifetime that is not a whole number of seconds is refused rather than giving a broken exp", () => {
    const request = requestFor(fixture.claims);
    for (const expirationSeconds of [Number.NaN, 3600.5, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => serviceAccountTokenClaims({ ...request, expirationSeconds }),
        RangeError,
        String(expirationSeconds),
      );
    }
  });

  test("a token without an audience is refused", () => {
    assert.throws(
      () => serviceAccountTokenClaims({ ...requestFor(fixture.claims), audiences: [] }),
      RangeError,
    );
  });
});

describe("signed service-account tokens", () => {
  test("the header is exactly {alg, kid}, in that order, with no typ", async () => {
    const token = await signServiceAccountToken(
      serviceAccountTokenClaims(requestFor(fixture.claims)),
      ring.active,
    );
    const headerJson = Buffer.from(token.split(".")[0] ?? "", "base64url").toString("utf8");
    assert.equal(headerJson, JSON.stringify({ alg: "RS256", kid: ring.active.kid }));
    assert.equal(decodeProtectedHeader(token).typ, undefined);
    // Same shape as the real token's header.
    const realHeader = Buffer.from(fixture.token.split(".")[0] ?? "", "base64url").toString("utf8");
    assert.deepEqual(Object.keys(JSON.parse(realHeader)), Object.keys(JSON.parse(headerJson)));
  });

  test("the payload is serialised in kube-apiserver's member order", async () => {
    const claims = serviceAccountTokenClaims(requestFor(fixture.podBoundClaims));
    const token = await signServiceAccountToken(claims, ring.active);
    assert.equal(decodePayloadJson(token), JSON.stringify(claims));
    assert.deepEqual(
      Object.keys(JSON.parse(decodePayloadJson(token))),
      withJti(Object.keys(fixture.podBoundClaims)),
    );
  });

  test("a signed token verifies with jose against the published JWKS and carries the claims unchanged", async () => {
    const claims = serviceAccountTokenClaims({ ...requestFor(fixture.podBoundClaims), issuedAt: undefined });
    const token = await signServiceAccountToken(claims, ring.active);
    const { payload, protectedHeader } = await jwtVerify(
      token,
      createLocalJWKSet({ keys: ring.publicJwks() }),
      {
        algorithms: ["RS256"],
        issuer: claims.iss,
        audience: "api://AzureADTokenExchange",
        subject: "system:serviceaccount:wi-probe:workload-sa",
      },
    );
    assert.deepEqual(payload, claims);
    assert.equal(protectedHeader.kid, ring.active.kid);
  });

  test("a token altered after signing does not verify", async () => {
    const token = await signServiceAccountToken(
      serviceAccountTokenClaims({ ...requestFor(fixture.claims), issuedAt: undefined }),
      ring.active,
    );
    const [header, , signature] = token.split(".");
    const forgedPayload = Buffer.from(
      decodePayloadJson(token).replace(
        "system:serviceaccount:wi-probe:workload-sa",
        "system:serviceaccount:kube-system:admin",
      ),
    ).toString("base64url");
    await assert.rejects(
      jwtVerify(`${header}.${forgedPayload}.${signature}`, createLocalJWKSet({ keys: ring.publicJwks() })),
      (error: Error & { code?: string }) => error.code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    );
  });
});
