import assert from "node:assert/strict";
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { describe, test } from "node:test";
import type { JWK } from "jose";
import { keyIdOf } from "../../src/signing-keys/key-id.ts";
import { publishedJwk } from "../../src/signing-keys/published-jwk.ts";
import { SERVICE_ACCOUNT_TOKEN_TEXT } from "../fixtures/kubernetes.ts";

// Test vectors of kubernetes.md §3: kid = base64url(SHA-256(DER SubjectPublicKeyInfo)), as kube-apiserver
// and `azwi jwks` compute it.

const RSA_PEM = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxwDBvBcWewYcOxR3Ihmz
Uu4kCLmEFkTbL/FvY4TtOcr9f2D/h/vExGN+yLx+5XxGaL11E/eEWiLXtUJEwweQ
gLqQGp5vKalY4f8W7nMceLQBDPmzIl2qNIfhqIYHA4zxK+DGy2EYLVAW9z+cM++l
tLyyMQiHFk+vF1zEkzd2Q9jKpwAMf5QaSawjplWRHMNhrC8uKnnIyH0Ld/I4wtGw
a2A5J4Wue+LKk/aw/pmyFG239ZalYPO39zM3JfPB/8YycCvhERnMChUK8NhSECul
q7/IyYbBCWW98ZB2OoOzev8vKfUzryY17RfhsLLdyLAgchyPZLts8P9vMTjLSuwx
EwIDAQAB
-----END PUBLIC KEY-----
`;

const EC_PEM = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEDQNIbaQkYBVSYnkWgWWuMDQe3in1
alD0cOecNul6nzlKVWOI+V3w19p6dgaJTQyjyMRt3TmwwjwGLXddk3ez2g==
-----END PUBLIC KEY-----
`;

const fixture = JSON.parse(SERVICE_ACCOUNT_TOKEN_TEXT) as { header: { kid: string }; jwks: { keys: JWK[] } };

describe("kid derivation (kubernetes.md §3 test vectors)", () => {
  test("vector 1: RSA-2048 public key", () => {
    const kid = keyIdOf(RSA_PEM);
    assert.equal(kid, "bC-js4Vdd8poov5o1py-_vbgfmczRM3DEj29L0u4SZc");
    const jwk = publishedJwk(createPublicKey(RSA_PEM).export({ format: "jwk" }) as JWK, kid, "RS256");
    assert.equal(jwk.e, "AQAB");
    assert.equal(
      jwk.n,
      "xwDBvBcWewYcOxR3IhmzUu4kCLmEFkTbL_FvY4TtOcr9f2D_h_vExGN-yLx-5XxGaL11E_eEWiLXtUJEwweQgLqQGp5vKalY4f8W7nMceLQBDPmzIl2qNIfhqIYHA4zxK-DGy2EYLVAW9z-cM--ltLyyMQiHFk-vF1zEkzd2Q9jKpwAMf5QaSawjplWRHMNhrC8uKnnIyH0Ld_I4wtGwa2A5J4Wue-LKk_aw_pmyFG239ZalYPO39zM3JfPB_8YycCvhERnMChUK8NhSECulq7_IyYbBCWW98ZB2OoOzev8vKfUzryY17RfhsLLdyLAgchyPZLts8P9vMTjLSuwxEw",
    );
  });

  test("vector 2: EC P-256 public key", () => {
    const kid = keyIdOf(EC_PEM);
    assert.equal(kid, "uhIvFMgpMX5hE9lcp6VhMD2oom1DdiGrwZfuHP7kScc");
    const jwk = publishedJwk(createPublicKey(EC_PEM).export({ format: "jwk" }) as JWK, kid, "ES256");
    assert.equal(jwk.crv, "P-256");
    assert.equal(jwk.x, "DQNIbaQkYBVSYnkWgWWuMDQe3in1alD0cOecNul6nzk");
    assert.equal(jwk.y, "SlVjiPld8NfaenYGiU0Mo8jEbd05sMI8Bi13XZN3s9o");
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
    assert.notEqual(keyIdOf(RSA_PEM), keyIdOf(EC_PEM));
    const one = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
    const two = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
    assert.notEqual(keyIdOf(one), keyIdOf(two));
  });
});
