// `wikit jwks` as azwi's: the reference's kid vectors (RSA-2048, EC P-256, the real kube-apiserver key) and its exact
// output, every kind of PEM block that carries a key, blocks skipped, and the errors azwi gives.

import assert from "node:assert/strict";
import { createPublicKey, generateKeyPairSync, X509Certificate } from "node:crypto";
import { describe, test } from "node:test";
import type { JWK } from "jose";
import { JwksError, jwksOfPemFiles } from "../../../src/cluster/issuer/public-key-jwks.ts";
import { createClientCertificate } from "../../../src/pki/certificates.ts";
import { EC_VECTOR, RSA_VECTOR } from "../../fixtures/kid-vectors.ts";
import { SERVICE_ACCOUNT_TOKEN_TEXT } from "../../fixtures/kubernetes.ts";

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
      "kid": "${RSA_VECTOR.kid}",
      "alg": "RS256",
      "n": "${RSA_VECTOR.n}",
      "e": "AQAB"
    }
  ]
}`;
    assert.equal(jwksOfPemFiles([{ path: "sa.pub", pem: RSA_VECTOR.pem }]), expected);
  });

  test("vector 2: the EC P-256 key, members in azwi's order", () => {
    const [key] = jwks(EC_VECTOR.pem).keys;
    assert.deepEqual(Object.keys(key ?? {}), ["use", "kty", "kid", "crv", "alg", "x", "y"]);
    assert.deepEqual(key, {
      use: "sig",
      kty: "EC",
      kid: EC_VECTOR.kid,
      crv: EC_VECTOR.crv,
      alg: "ES256",
      x: EC_VECTOR.x,
      y: EC_VECTOR.y,
    });
  });

  test("vector 3: the real kube-apiserver key yields the kid of its tokens", () => {
    const fixture = JSON.parse(SERVICE_ACCOUNT_TOKEN_TEXT) as {
      header: { kid: string };
      jwks: { keys: JWK[] };
    };
    const [published] = fixture.jwks.keys;
    assert.ok(published, "the fixture's JWKS key");
    const pem = createPublicKey({ key: published as JWK & { kty: string }, format: "jwk" })
      .export({ type: "spki", format: "pem" })
      .toString();
    assert.equal(jwks(pem).keys[0]?.kid, "1rom-GRejqxqm1eNDWrPKYFbqkGmVydMjEepaBGTT3E");
    assert.equal(jwks(pem).keys[0]?.kid, fixture.header.kid);
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
