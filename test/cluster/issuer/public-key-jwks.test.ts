// `wikit jwks` as azwi's: the reference's kid vectors (RSA-2048, EC P-256, the real kube-apiserver key) and its exact
// output, every kind of PEM block that carries a key, blocks skipped, and the errors azwi gives.

import assert from "node:assert/strict";
import { createPublicKey, generateKeyPairSync, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { JwksError, jwksOfPemFiles } from "../../../src/cluster/issuer/public-key-jwks.ts";
import { createClientCertificate } from "../../../src/pki/certificates.ts";

const RSA_PUBLIC = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxwDBvBcWewYcOxR3Ihmz
Uu4kCLmEFkTbL/FvY4TtOcr9f2D/h/vExGN+yLx+5XxGaL11E/eEWiLXtUJEwweQ
gLqQGp5vKalY4f8W7nMceLQBDPmzIl2qNIfhqIYHA4zxK+DGy2EYLVAW9z+cM++l
tLyyMQiHFk+vF1zEkzd2Q9jKpwAMf5QaSawjplWRHMNhrC8uKnnIyH0Ld/I4wtGw
a2A5J4Wue+LKk/aw/pmyFG239ZalYPO39zM3JfPB/8YycCvhERnMChUK8NhSECul
q7/IyYbBCWW98ZB2OoOzev8vKfUzryY17RfhsLLdyLAgchyPZLts8P9vMTjLSuwx
EwIDAQAB
-----END PUBLIC KEY-----
`;
const RSA_N =
  "xwDBvBcWewYcOxR3IhmzUu4kCLmEFkTbL_FvY4TtOcr9f2D_h_vExGN-yLx-5XxGaL11E_eEWiLXtUJEwweQgLqQGp5vKalY4f8W7nMceLQBDPmzIl2qNIfhqIYHA4zxK-DGy2EYLVAW9z-cM--ltLyyMQiHFk-vF1zEkzd2Q9jKpwAMf5QaSawjplWRHMNhrC8uKnnIyH0Ld_I4wtGwa2A5J4Wue-LKk_aw_pmyFG239ZalYPO39zM3JfPB_8YycCvhERnMChUK8NhSECulq7_IyYbBCWW98ZB2OoOzev8vKfUzryY17RfhsLLdyLAgchyPZLts8P9vMTjLSuwxEw";
const EC_PUBLIC = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEDQNIbaQkYBVSYnkWgWWuMDQe3in1
alD0cOecNul6nzlKVWOI+V3w19p6dgaJTQyjyMRt3TmwwjwGLXddk3ez2g==
-----END PUBLIC KEY-----
`;

const jwks = (...pems: string[]) =>
  JSON.parse(jwksOfPemFiles(pems.map((pem, index) => ({ path: `k${index}.pem`, pem })))) as {
    keys: Record<string, string>[];
  };

describe("wikit jwks", () => {
  test("vector 1: the RSA-2048 key, printed exactly as azwi prints it (2-space indent, no final newline)", () => {
    const expected = `{
  "keys": [
    {
      "use": "sig",
      "kty": "RSA",
      "kid": "bC-js4Vdd8poov5o1py-_vbgfmczRM3DEj29L0u4SZc",
      "alg": "RS256",
      "n": "${RSA_N}",
      "e": "AQAB"
    }
  ]
}`;
    assert.equal(jwksOfPemFiles([{ path: "sa.pub", pem: RSA_PUBLIC }]), expected);
  });

  test("vector 2: the EC P-256 key, members in azwi's order", () => {
    const [key] = jwks(EC_PUBLIC).keys;
    assert.deepEqual(Object.keys(key ?? {}), ["use", "kty", "kid", "crv", "alg", "x", "y"]);
    assert.deepEqual(key, {
      use: "sig",
      kty: "EC",
      kid: "uhIvFMgpMX5hE9lcp6VhMD2oom1DdiGrwZfuHP7kScc",
      crv: "P-256",
      alg: "ES256",
      x: "DQNIbaQkYBVSYnkWgWWuMDQe3in1alD0cOecNul6nzk",
      y: "SlVjiPld8NfaenYGiU0Mo8jEbd05sMI8Bi13XZN3s9o",
    });
  });

  test("vector 3: the real kube-apiserver key yields the kid of its tokens", () => {
    const fixture = JSON.parse(
      readFileSync(
        new URL("../../../../shared/fixtures/kubernetes/serviceaccount-token.json", import.meta.url),
        "utf8",
      ),
    );
    const jwk = JSON.stringify(fixture).match(/"n":"(uysWetzx[^"]+)"/)?.[1];
    assert.ok(jwk, "the fixture's JWKS key");
    const pem = createPublicKey({ key: { kty: "RSA", n: jwk, e: "AQAB" }, format: "jwk" })
      .export({ type: "spki", format: "pem" })
      .toString();
    assert.equal(jwks(pem).keys[0]?.kid, "1rom-GRejqxqm1eNDWrPKYFbqkGmVydMjEepaBGTT3E");
  });

  test("private keys (PKCS#1, PKCS#8, SEC 1) and certificates give their public half; other blocks are skipped; order kept", async () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const ec384 = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const ec521 = generateKeyPairSync("ec", { namedCurve: "P-521" });
    const certificate = await createClientCertificate("ci", 1);
    const pkcs1 = rsa.privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    const sec1 = ec384.privateKey.export({ type: "sec1", format: "pem" }).toString();
    const pkcs8 = ec521.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const parameters = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";
    const keys = jwks(`${parameters}${sec1}`, `${pkcs1}${pkcs8}`, certificate.certPem).keys;
    assert.deepEqual(
      keys.map((key) => key.alg),
      ["ES384", "RS256", "ES512", "RS256"],
    );
    assert.equal(
      keys[1]?.n,
      jwks(rsa.publicKey.export({ type: "spki", format: "pem" }).toString()).keys[0]?.n,
    );
    assert.equal(
      keys[3]?.n,
      (new X509Certificate(certificate.certPem).publicKey.export({ format: "jwk" }) as { n: string }).n,
    );
    for (const key of keys) assert.equal(key.kid?.length, 43);
  });

  test("azwi's errors: no files, a file with no usable key, an unknown curve", () => {
    const refused = (files: { path: string; pem: string }[], message: RegExp) =>
      assert.throws(
        () => jwksOfPemFiles(files),
        (error: unknown) => error instanceof JwksError && message.test(error.message),
      );
    refused([], /^no public keys provided$/);
    const ed25519 = generateKeyPairSync("ed25519")
      .publicKey.export({ type: "spki", format: "pem" })
      .toString();
    const pkcs1Public = generateKeyPairSync("rsa", { modulusLength: 2048 })
      .publicKey.export({ type: "pkcs1", format: "pem" })
      .toString();
    for (const pem of ["not a key", ed25519, pkcs1Public]) {
      refused(
        [{ path: "bad.pem", pem }],
        /^failed to read public key file: bad\.pem: data does not contain any valid RSA or ECDSA public keys$/,
      );
    }
    const k1 = generateKeyPairSync("ec", { namedCurve: "secp256k1" })
      .publicKey.export({ type: "spki", format: "pem" })
      .toString();
    refused([{ path: "k1.pem", pem: k1 }], /^unknown private key curve, must be 256, 384, or 521$/);
  });
});
