import { webcrypto } from "node:crypto";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

import { isIP } from "node:net";
import { x509 } from "./x509.ts";

// Certificate authority and serving certificates for wikit's HTTPS endpoints. ECDSA P-256 keys: quick
// to generate, accepted by every client wikit serves (Node, Python/OpenSSL, Go, curl).

const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING_ALGORITHM = { name: "ECDSA", hash: "SHA-256" } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface CertificateWithKey {
  certPem: string;
  keyPem: string;
}

async function newKeyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", key);
  return pemFile(x509.PemConverter.encode(pkcs8, "PRIVATE KEY"));
}

async function importPrivateKeyPem(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return webcrypto.subtle.importKey("pkcs8", der, KEY_ALGORITHM, false, ["sign"]);
}

export async function createCertificateAuthority(
  commonName: string,
  validityDays: number,
  now = new Date(),
): Promise<CertificateWithKey> {
  const keys = await newKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${commonName}`,
    keys,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + validityDays * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: pemFile(cert.toString("pem")), keyPem: await privateKeyPem(keys.privateKey) };
}

const CLIENT_KEY_ALGORITHM = {
  name: "RSASSA-PKCS1-v1_5",
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: "SHA-256",
} as const;

/**
 * A self-signed RSA certificate for a client to sign its assertions with (Entra's certificate credentials take RSA
 * only): the certificate, its base64 DER (Graph's `keyCredentials[].key`), and its PKCS#8 key.
 */
export async function createClientCertificate(
  commonName: string,
  validityDays: number,
  now = new Date(),
): Promise<CertificateWithKey & { derBase64: string }> {
  const keys = (await webcrypto.subtle.generateKey(CLIENT_KEY_ALGORITHM, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${commonName}`,
    keys,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + validityDays * DAY_MS),
    signingAlgorithm: CLIENT_KEY_ALGORITHM,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  return {
    certPem: pemFile(cert.toString("pem")),
    keyPem: await privateKeyPem(keys.privateKey),
    derBase64: Buffer.from(cert.rawData).toString("base64"),
  };
}

/** A serving certificate for the given host names and IP addresses, signed by the CA. */
export async function issueServingCertificate(
  ca: CertificateWithKey,
  names: readonly string[],
  validityDays: number,
  now = new Date(),
): Promise<CertificateWithKey> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const keys = await newKeyPair();
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${names[0] ?? "wikit"}`,
    issuer: caCert.subject,
    publicKey: keys.publicKey,
    signingKey: await importPrivateKeyPem(ca.keyPem),
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + validityDays * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        names.map((name) => ({ type: isIP(name) ? ("ip" as const) : ("dns" as const), value: name })),
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: pemFile(cert.toString("pem")), keyPem: await privateKeyPem(keys.privateKey) };
}

/**
 * Whether a serving certificate can be kept: signed by this CA, naming exactly these hosts, and
 * valid for at least `renewBeforeDays` more days.
 */
export async function isServingCertificateCurrent(
  certPem: string,
  caCertPem: string,
  names: readonly string[],
  renewBeforeDays: number,
  now = new Date(),
): Promise<boolean> {
  try {
    const cert = new x509.X509Certificate(certPem);
    const caCert = new x509.X509Certificate(caCertPem);
    if (!(await cert.verify({ publicKey: caCert.publicKey, signatureOnly: true }))) return false;
    if (cert.notAfter.getTime() - now.getTime() < renewBeforeDays * DAY_MS) return false;
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    const present = new Set(san?.names.items.map((item) => item.value.toLowerCase()) ?? []);
    return present.size === names.length && names.every((name) => present.has(name.toLowerCase()));
  } catch {
    return false;
  }
}

// ---- Inspection: what a stored certificate and key say, for deciding whether to keep them ----------------

/** What a certificate states, as far as keeping or renewing it is concerned. */
export interface CertificateFacts {
  notBefore: Date;
  notAfter: Date;
  /** The basic-constraints extension marks it as a certificate authority. */
  isCertificateAuthority: boolean;
  /** DNS names and IP addresses of the subject alternative name extension, lower-cased. */
  subjectAltNames: string[];
}

/** The PEM certificates of a bundle, each re-encoded on its own; throws when the text holds none. */
export function splitCertificateBundle(pem: string): string[] {
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new Error("no PEM certificate found");
  return x509.PemConverter.decode(pem).map((der) => pemFile(new x509.X509Certificate(der).toString("pem")));
}

/** The facts of one PEM certificate; throws when it cannot be parsed. */
export function readCertificateFacts(certPem: string): CertificateFacts {
  const cert = new x509.X509Certificate(certPem);
  const constraints = cert.getExtension(x509.BasicConstraintsExtension);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return {
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    isCertificateAuthority: constraints?.ca === true,
    subjectAltNames: (san?.names.items ?? [])
      .filter((item) => item.type === "dns" || item.type === "ip")
      .map((item) => item.value.toLowerCase()),
  };
}

/** Whether `certPem` carries a signature made with the key of `issuerCertPem` (signature only, no dates). */
export async function isSignedBy(certPem: string, issuerCertPem: string): Promise<boolean> {
  try {
    const cert = new x509.X509Certificate(certPem);
    const issuer = new x509.X509Certificate(issuerCertPem);
    return await cert.verify({ publicKey: issuer.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}

/** Whether the PKCS#8 key is the private half of the certificate's ECDSA P-256 public key. */
export async function privateKeyMatchesCertificate(keyPem: string, certPem: string): Promise<boolean> {
  try {
    const privateKey = await webcrypto.subtle.importKey(
      "pkcs8",
      x509.PemConverter.decodeFirst(keyPem),
      KEY_ALGORITHM,
      true,
      ["sign"],
    );
    const publicKey = await new x509.X509Certificate(certPem).publicKey.export(KEY_ALGORITHM, ["verify"]);
    const privateJwk = await webcrypto.subtle.exportKey("jwk", privateKey);
    const publicJwk = await webcrypto.subtle.exportKey("jwk", publicKey);
    return typeof privateJwk.x === "string" && privateJwk.x === publicJwk.x && privateJwk.y === publicJwk.y;
  } catch {
    return false;
  }
}

/** PEM as a file holds it: ending in a newline, so that certificates concatenate into bundles. */
export function pemFile(pem: string): string {
  return pem.endsWith("\n") ? pem : `${pem}\n`;
}
