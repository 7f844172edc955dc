import { createPrivateKey, X509Certificate } from "node:crypto";
import { type CertificateWithKey, createCertificateAuthority, pemFile } from "../../pki/certificates.ts";
import { keyIdOf } from "../../signing-keys/key-id.ts";
import type { Store, StoredSigningKey } from "../../store/store.ts";

/** The CA is kept as a signing key of this purpose, its certificate in the JWK's `x5c`: sealed like other keys. */
const CA_PURPOSE = "tls-ca";
const CA_VALIDITY_DAYS = 3650;

/**
 * The CA that `wikit serve`'s replicas issue their serving certificates from, kept in the shared store so that
 * every replica's certificate chains to one CA that clients trust once. Made by the first replica to start (under
 * the start-up lease); should two ever be stored, the first made is the CA.
 */
export async function loadOrCreateStoreCa(store: Store, now = new Date()): Promise<CertificateWithKey> {
  const [stored] = await store.listSigningKeys(CA_PURPOSE);
  if (stored) return caOf(stored);
  const ca = await createCertificateAuthority("wikit server CA", CA_VALIDITY_DAYS, now);
  const privateKey = createPrivateKey(ca.keyPem);
  const der = new X509Certificate(ca.certPem).raw.toString("base64");
  await store.putSigningKey({
    purpose: CA_PURPOSE,
    kid: keyIdOf(privateKey),
    alg: "ES256",
    privateJwk: { ...(privateKey.export({ format: "jwk" }) as Record<string, unknown>), x5c: [der] },
    created: Math.floor(now.getTime() / 1000),
  });
  const [first] = await store.listSigningKeys(CA_PURPOSE);
  return caOf(first as StoredSigningKey);
}

function caOf(stored: StoredSigningKey): CertificateWithKey {
  const { x5c, ...jwk } = stored.privateJwk as { x5c?: string[] } & Record<string, unknown>;
  const der = x5c?.[0];
  if (!der) throw new Error(`the stored CA (${stored.kid}) has no certificate`);
  const certPem = new X509Certificate(Buffer.from(der, "base64")).toString();
  const keyPem = createPrivateKey({ key: jwk as { kty: string }, format: "jwk" })
    .export({ type: "pkcs8", format: "pem" })
    .toString();
  return { certPem: pemFile(certPem), keyPem: pemFile(keyPem) };
}
