import assert from "node:assert/strict";
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { describe, test } from "node:test";
import type { JWK } from "jose";
import { discoveryUrlOf, issuerDiscoveryDocument, jwksUrlOf } from "../../../src/cluster/issuer/discovery.ts";
import { keyIdOf } from "../../../src/signing-keys/key-id.ts";
import { publishedJwk } from "../../../src/signing-keys/published-jwk.ts";
import { SERVICE_ACCOUNT_TOKEN_TEXT } from "../../fixtures/kubernetes.ts";

const fixture = JSON.parse(SERVICE_ACCOUNT_TOKEN_TEXT) as {
  openidConfiguration: Record<string, unknown>;
  jwks: { keys: JWK[] };
};

const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

describe("issuer discovery document", () => {
  test("is kube-apiserver's document: same members, same order, same values", () => {
    const document = issuerDiscoveryDocument("https://127.0.0.1:6443", fixture.jwks.keys);
    assert.equal(JSON.stringify(document), JSON.stringify(fixture.openidConfiguration));
  });

  test("has no authorization or token endpoint", () => {
    const document = issuerDiscoveryDocument(
      "https://127.0.0.1:6443",
      fixture.jwks.keys,
    ) as unknown as Record<string, unknown>;
    assert.deepEqual(Object.keys(document), [
      "issuer",
      "jwks_uri",
      "response_types_supported",
      "subject_types_supported",
      "id_token_signing_alg_values_supported",
    ]);
  });

  test("keeps an issuer's trailing slash verbatim and drops it before appending paths", () => {
    const issuer = "https://oidc.example.test/tenant/6f1c2d3e/";
    const document = issuerDiscoveryDocument(issuer, fixture.jwks.keys);
    assert.equal(document.issuer, issuer);
    assert.equal(document.jwks_uri, "https://oidc.example.test/tenant/6f1c2d3e/openid/v1/jwks");
    assert.equal(
      discoveryUrlOf(issuer),
      "https://oidc.example.test/tenant/6f1c2d3e/.well-known/openid-configuration",
    );
    assert.equal(
      discoveryUrlOf("https://127.0.0.1:6443"),
      "https://127.0.0.1:6443/.well-known/openid-configuration",
    );
    assert.equal(jwksUrlOf("https://127.0.0.1:6443"), "https://127.0.0.1:6443/openid/v1/jwks");
  });

  test("a configured jwks_uri is used as given", () => {
    const document = issuerDiscoveryDocument("https://a.test", [], "https://static.example.test/jwks.json");
    assert.equal(document.jwks_uri, "https://static.example.test/jwks.json");
  });

  test("lists the sorted set of the published keys' algorithms", () => {
    const keys: JWK[] = [{ alg: "RS256" }, { alg: "ES256" }, { alg: "RS256" }, { kty: "RSA" }];
    assert.deepEqual(issuerDiscoveryDocument("https://a.test", keys).id_token_signing_alg_values_supported, [
      "ES256",
      "RS256",
    ]);
  });
});

describe("published JWKS keys", () => {
  test("an RSA key has exactly use, kty, kid, alg, n, e in that order, as kube-apiserver publishes it", () => {
    const [expected] = fixture.jwks.keys;
    assert.ok(expected);
    const publicJwk = createPublicKey({ key: expected as JWK & { kty: string }, format: "jwk" }).export({
      format: "jwk",
    }) as JWK;
    const published = publishedJwk(publicJwk, String(expected.kid), "RS256");
    assert.equal(JSON.stringify(published), JSON.stringify(expected));
  });

  test("nothing private is published, even when given a private JWK", () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const privateJwk = privateKey.export({ format: "jwk" }) as JWK;
    assert.ok(privateJwk.d, "the input really is private");
    const published = publishedJwk(privateJwk, keyIdOf(privateKey), "RS256");
    assert.deepEqual(Object.keys(published), ["use", "kty", "kid", "alg", "n", "e"]);
    for (const member of PRIVATE_MEMBERS) assert.equal(member in published, false, member);
  });

  test("an EC key has use, kty, kid, crv, alg, x, y and nothing private", () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const published = publishedJwk(privateKey.export({ format: "jwk" }) as JWK, keyIdOf(privateKey), "ES256");
    assert.deepEqual(Object.keys(published), ["use", "kty", "kid", "crv", "alg", "x", "y"]);
    assert.equal(published.use, "sig");
    for (const member of PRIVATE_MEMBERS) assert.equal(member in published, false, member);
  });

  test("symmetric and other key types are refused", () => {
    assert.throws(
      () => publishedJwk({ kty: "oct", k: "c2VjcmV0" }, "kid", "HS256"),
      /unsupported key type oct/,
    );
    assert.throws(() => publishedJwk({ kty: "OKP", crv: "Ed25519", x: "AA" }, "kid", "EdDSA"), /unsupported/);
  });
});
