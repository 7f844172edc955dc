// The JWKS of an issuer's verification keys, from PEM files, as `azwi jwks` writes it (reference/webhook.md §16.2):
// every PEM block that is an RSA or EC key or an X.509 certificate contributes its public half (other blocks, such
// as EC PARAMETERS, are skipped); each key becomes a JWK with `use: sig`, its `alg` from its type and curve, and the
// kid kube-apiserver gives it (kubernetes.md §3), members in azwi's order; the document is indented by two spaces
// with no newline at its end. Pure: PEM text in, JWKS text out, or a JwksError.

import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from "node:crypto";
import type { JWK } from "jose";
import { keyIdOf } from "../../signing-keys/key-id.ts";
import { publishedJwk } from "../../signing-keys/published-jwk.ts";

export class JwksError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JwksError";
  }
}

/** The JWS algorithm per EC curve; azwi knows no other curves. */
const EC_ALGORITHMS: Readonly<Record<string, string>> = {
  "P-256": "ES256",
  "P-384": "ES384",
  "P-521": "ES512",
};

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** The RSA and EC public keys of one file's PEM blocks, in order; refused when there is none. */
export function publicKeysOfPem(pem: string, file: string): KeyObject[] {
  const keys: KeyObject[] = [];
  for (const match of pem.matchAll(PEM_BLOCK)) {
    const key = publicKeyOfBlock(match[1] ?? "", match[0]);
    if (key && (key.asymmetricKeyType === "rsa" || key.asymmetricKeyType === "ec")) keys.push(key);
  }
  if (keys.length === 0) {
    throw new JwksError(
      `failed to read public key file: ${file}: data does not contain any valid RSA or ECDSA public keys`,
    );
  }
  return keys;
}

/** A block's public key: its own, its private key's public half, or its certificate's; none for other blocks. */
function publicKeyOfBlock(label: string, block: string): KeyObject | undefined {
  try {
    switch (label) {
      case "PUBLIC KEY":
        return createPublicKey(block);
      case "RSA PRIVATE KEY":
      case "EC PRIVATE KEY":
      case "PRIVATE KEY":
        return createPublicKey(createPrivateKey(block));
      case "CERTIFICATE":
        return new X509Certificate(block).publicKey;
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/** The JWK azwi publishes for a public key. */
export function verificationJwk(key: KeyObject): JWK {
  const jwk = key.export({ format: "jwk" }) as JWK;
  if (key.asymmetricKeyType === "rsa") return publishedJwk(jwk, keyIdOf(key), "RS256");
  const alg = EC_ALGORITHMS[String(jwk.crv)];
  if (!alg) throw new JwksError("unknown private key curve, must be 256, 384, or 521");
  return publishedJwk(jwk, keyIdOf(key), alg);
}

/** The JWKS document of the keys of several PEM files, in order, as `azwi jwks` prints it. */
export function jwksOfPemFiles(files: readonly { path: string; pem: string }[]): string {
  if (files.length === 0) throw new JwksError("no public keys provided");
  const keys = files.flatMap(({ path, pem }) => publicKeysOfPem(pem, path)).map(verificationJwk);
  return JSON.stringify({ keys }, null, 2);
}
