// Client assertions signed with an app registration's own certificate (Entra's certificate credentials): the
// assertion names the certificate by thumbprint (`x5t`, SHA-1, or `x5t#S256`), its `iss` and `sub` are the client
// ID, its `aud` is the token endpoint it is sent to, and it is signed with the certificate's private key. This is
// how MSAL and `az login --service-principal -p cert.pem` sign in with a certificate.

import { createHash, type KeyObject, X509Certificate } from "node:crypto";
import { compactVerify, type JWTPayload } from "jose";
import { AadstsError } from "./aadsts-errors.ts";

/** What MSAL signs certificate assertions with: RS256 with a SHA-1 thumbprint, PS256 with a SHA-256 one. */
const CERTIFICATE_ALGORITHMS = ["RS256", "PS256"];

/** A certificate an application may sign its assertions with: its public half, named by thumbprint. */
export interface CertificateCredential {
  keyId: string;
  displayName: string;
  /** base64url of the DER certificate's SHA-1 digest, as `x5t` carries it. */
  x5t: string;
  /** base64url of its SHA-256 digest, as `x5t#S256` carries it. */
  x5tS256: string;
  publicKey: KeyObject;
  /** Epoch milliseconds. */
  notBefore: number;
  notAfter: number;
}

/** The credential a base64 DER certificate (Graph's `keyCredentials[].key`) stands for. */
export function certificateCredential(
  keyId: string,
  displayName: string,
  derBase64: string,
): CertificateCredential {
  const der = Buffer.from(derBase64, "base64");
  const certificate = new X509Certificate(der);
  return {
    keyId,
    displayName,
    x5t: createHash("sha1").update(der).digest("base64url"),
    x5tS256: createHash("sha256").update(der).digest("base64url"),
    publicKey: certificate.publicKey,
    notBefore: Date.parse(certificate.validFrom),
    notAfter: Date.parse(certificate.validTo),
  };
}

/** Whether a decoded assertion is a certificate assertion of `clientId` rather than a federated token. */
export function isCertificateAssertion(
  header: Record<string, unknown>,
  claims: JWTPayload,
  clientId: string,
): boolean {
  const namesCertificate = typeof header.x5t === "string" || typeof header["x5t#S256"] === "string";
  return (
    namesCertificate && typeof claims.iss === "string" && claims.iss.toLowerCase() === clientId.toLowerCase()
  );
}

export interface CertificateAssertionContext {
  token: string;
  header: Record<string, unknown>;
  claims: JWTPayload;
  clientId: string;
  certificates: readonly CertificateCredential[];
  /** The tenant as the request's path names it (an ID or a domain), and the tenant's ID. */
  tenantPath: string;
  tenantId: string;
  nowMs: number;
}

/**
 * Checks a certificate assertion: the certificate is one of the app's and current, the signature is its, `iss` and
 * `sub` are the client ID, and `aud` is this tenant's token endpoint (any host: wikit answers to several names).
 * Resolves to the certificate; rejects with an AadstsError. Time claims are the caller's to check.
 */
export async function validateCertificateAssertion(
  context: CertificateAssertionContext,
): Promise<CertificateCredential> {
  const { header, claims } = context;
  if (typeof header.alg !== "string" || !CERTIFICATE_ALGORITHMS.includes(header.alg)) {
    throw new AadstsError(5002738, { alg: String(header.alg ?? "") });
  }
  // MSAL for Python pads the thumbprint's base64url ('='); compare without padding.
  const thumbprint = (value: unknown) =>
    typeof value === "string"
      ? value.replace(/=+$/, "").replaceAll("+", "-").replaceAll("/", "_")
      : undefined;
  const certificate = context.certificates.find(
    (candidate) =>
      candidate.x5t === thumbprint(header.x5t) || candidate.x5tS256 === thumbprint(header["x5t#S256"]),
  );
  if (!certificate) {
    throw new AadstsError(
      700027,
      {},
      {
        cause: new Error(
          `no certificate of the application has thumbprint ${String(header.x5t ?? header["x5t#S256"])}`,
        ),
      },
    );
  }
  if (context.nowMs < certificate.notBefore || context.nowMs > certificate.notAfter) {
    throw new AadstsError(
      700027,
      {},
      { cause: new Error(`certificate ${certificate.keyId} is not within its validity`) },
    );
  }
  try {
    await compactVerify(context.token, certificate.publicKey, { algorithms: CERTIFICATE_ALGORITHMS });
  } catch (cause) {
    throw new AadstsError(700027, {}, { cause });
  }
  if (typeof claims.sub !== "string" || claims.sub.toLowerCase() !== context.clientId.toLowerCase()) {
    throw new AadstsError(700021);
  }
  if (!namesTokenEndpoint(claims.aud, [context.tenantPath, context.tenantId])) {
    throw new AadstsError(
      50027,
      {},
      { cause: new Error("the assertion's aud is not this tenant's token endpoint") },
    );
  }
  return certificate;
}

/** Whether `aud` is one of the tenant's token endpoints (v2.0 or v1), by path: its host may be any of wikit's names. */
function namesTokenEndpoint(aud: unknown, tenants: readonly string[]): boolean {
  const endpoints = new Set(
    tenants.flatMap((tenant) =>
      [`/${tenant}/oauth2/v2.0/token`, `/${tenant}/oauth2/token`].map((path) => path.toLowerCase()),
    ),
  );
  const audiences: unknown[] = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : [];
  return audiences.some(
    (audience) =>
      typeof audience === "string" &&
      URL.canParse(audience) &&
      endpoints.has(new URL(audience).pathname.toLowerCase().replace(/\/$/, "")),
  );
}
