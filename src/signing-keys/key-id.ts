import { createHash, createPublicKey, type KeyObject } from "node:crypto";

/**
 * The key ID kube-apiserver and `azwi jwks` give a signing key: base64url (no padding) of the SHA-256
 * of the public key's DER SubjectPublicKeyInfo. Always 43 characters.
 */
export function keyIdOf(key: KeyObject | string): string {
  const publicKey = typeof key !== "string" && key.type === "public" ? key : createPublicKey(key);
  const spki = publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("base64url");
}
