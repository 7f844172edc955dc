import assert from "node:assert/strict";
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { describe, test } from "node:test";
import type { JWK } from "jose";
import { keyIdOf } from "../../src/signing-keys/key-id.ts";
import { publishedJwk } from "../../src/signing-keys/published-jwk.ts";
import { EC_VECTOR, RSA_VECTOR } from "../fixtures/kid-vectors.ts";
import { SERVICE_ACCOUNT_TOKEN_TEXT } from "../fixtures/kubernetes.ts";

// Test vectors of kubernetes.md §3: kid = base64url(SHA-256(DER SubjectPublicKeyInfo)), as kube-apiserver
// and `azwi jwks` compute it.

const fixture = JSON.parse(SERVICE_ACCOUNT_TOKEN_TEXT) as { header: { kid: string }; jwks: { keys: JWK[] } };

describe("kid derivation (kubernetes.md §3 test vectors)", () => {
  test("vector 1: RSA-2048 public key", () => {
    const kid = keyIdOf(RSA_VECTOR.pem);
    assert.equal(kid, RSA_VECTOR.kid);
    const jwk = publishedJwk(createPublicKey(RSA_VECTOR.pem).export({ format: "jwk" }) as JWK, kid, "RS256");
    assert.equal(jwk.e, RSA_VECTOR.e);
    assert.equal(jwk.n, RSA_VECTOR.n);
  });

  test("vector 2: EC P-256 public key", () => {
    const kid = keyIdOf(EC_VECTOR.pem);
    assert.equal(kid, EC_VECTOR.kid);
    const jwk = publishedJwk(createPublicKey(EC_VECTOR.pem).export({ format: "jwk" }) as JWK, kid, "ES256");
    assert.equal(jwk.crv, EC_VECTOR.crv);
    assert.equal(jwk.x, EC_VECTOR.x);
    assert.equal(jwk.y, EC_VECTOR.y);
  });

  test("vector 3: the real kube-apiserver key recomputes the kid of its tokens", () => {
    const [published] = fixture.jwks.keys;
    assert.ok(published);
    const kid = keyIdOf(createPublicKey({ key: published as JWK & { kty: string }, format: "jwk" }));
    assert.equal(kid, "1rom-GRejqxqm1eNDWrPKYFbqkGmVydMjEepaBGTT3E");
    assert.equal(kid, fixture.header.kid);
    assert.equal(kid, published.kid);
  });

  test("a private key gives the kid of its public half, and every kid is 43 characters", () => {
    for (const type of ["rsa", "ec"] as const) {
      const { privateKey, publicKey } =
        type === "rsa"
          ? generateKeyPairSync("rsa", { modulusLength: 2048 })
          : generateKeyPairSync("ec", { namedCurve: "P-384" });
      const kid = keyIdOf(publicKey);
      assert.equal(keyIdOf(privateKey), kid);
      assert.equal(keyIdOf(privateKey.export({ type: "pkcs8", format: "pem" }) as string), kid);
      assert.match(kid, /^[A-Za-z0-9_-]{43}$/);
    }
  });

  test("different keys give different kids", () => {
    assert.notEqual(keyIdOf(RSA_VECTOR.pem), keyIdOf(EC_VECTOR.pem));
    const one = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
    const two = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
    assert.notEqual(keyIdOf(one), keyIdOf(two));
  });
});
