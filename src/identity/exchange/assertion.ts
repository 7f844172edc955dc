// Validation of the client assertion in a federated credential exchange (reference/entra.md §4, §5): the
// Kubernetes service-account token a workload presents as `client_assertion`. Checks run cheapest and most
// security-relevant first: shape and algorithm, then an issuer one of the identity's credentials trusts (before
// any network traffic), then the signature, and only then are the time and subject claims believed.
// Token values are never logged; errors name claims, not tokens.

import { compactVerify, decodeJwt, decodeProtectedHeader, type JWTPayload } from "jose";
import { AadstsError, entraInstant } from "./aadsts-errors.ts";
import {
  type CertificateCredential,
  isCertificateAssertion,
  validateCertificateAssertion,
} from "./certificate-assertion.ts";
import { describeMismatch, nearestCredentialMismatch } from "./credential-mismatch.ts";
import {
  credentialsForIssuer,
  type FederatedCredential,
  type FederatedIdentity,
  type MatchedClaims,
  matchTrustingCredential,
} from "./fic-match.ts";
import type { IssuerKeySource } from "./issuer-metadata.ts";

/** What Entra's client-assertion validator accepts (§5.1). */
const ALLOWED_ALGORITHMS = ["RS256", "RS384", "RS512"];
const DEFAULT_CLOCK_SKEW_SECONDS = 300;
/**
 * Largest assertion taken, in characters. A service-account token is one to two kilobytes; the cap keeps a
 * hostile token from costing more than a few microseconds to refuse.
 */
export const MAX_ASSERTION_LENGTH = 16 * 1024;
/** Deepest nesting of claim objects and arrays taken; kube-apiserver's own claims go three levels deep. */
export const MAX_CLAIM_DEPTH = 8;
const TIME_CLAIMS = ["exp", "nbf", "iat"] as const;
/** The codes of "no federated credential matches": issuer, subject (and its case-only variant), audience. */
const NO_MATCH: ReadonlySet<number> = new Set([700211, 700213, 7002138, 700212]);

export interface AssertionValidationDeps {
  metadata: IssuerKeySource;
  /** Clock in epoch milliseconds. */
  now?: () => number;
  /** Tolerance applied to `exp` and `nbf`. Default 300 (five minutes). */
  clockSkewSeconds?: number;
}

export interface ValidatedAssertion {
  credential: FederatedCredential;
  claims: JWTPayload;
}

/**
 * Validates `assertion` for `identity`: resolves to the federated credential it satisfies and its (verified)
 * claims, or rejects with an AadstsError. The same token may be presented any number of times until it
 * expires (§5.3): `jti` is never tracked.
 */
export async function validateClientAssertion(
  assertion: string,
  identity: FederatedIdentity,
  deps: AssertionValidationDeps,
): Promise<ValidatedAssertion> {
  const token = trimmedAssertion(assertion);

  const { header, claims } = decodeAssertion(token);

  const alg = header.alg;
  if (typeof alg !== "string" || !ALLOWED_ALGORITHMS.includes(alg)) {
    throw new AadstsError(5002738, { alg: String(alg ?? "") });
  }
  const kid = header.kid;
  if (typeof kid !== "string" || kid === "") throw new AadstsError(5002723);

  const { iss, aud, sub } = claims;
  if (typeof iss !== "string" || iss === "") throw new AadstsError(90014, { name: "iss" });
  if (!isAudience(aud)) throw new AadstsError(90014, { name: "aud" });

  const presented = { ...claims, iss, sub: typeof sub === "string" ? sub : undefined, aud };
  // Only issuers the identity trusts are ever contacted; any other `iss` fails here, offline.
  const trusting = explainingMismatch(presented, identity.credentials, () =>
    credentialsForIssuer(iss, identity),
  );

  try {
    await compactVerify(token, (protectedHeader) => deps.metadata.getKey(iss, protectedHeader), {
      algorithms: ALLOWED_ALGORITHMS,
    });
  } catch (cause) {
    if (cause instanceof AadstsError) throw cause;
    throw new AadstsError(700027, {}, { cause });
  }

  assertWithinValidity(claims, (deps.now ?? Date.now)(), deps.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS);

  // Past the issuer, the nearest credential is one that trusts it: the one the user meant for this token.
  const credential = explainingMismatch(presented, trusting, () =>
    matchTrustingCredential(presented, trusting),
  );
  return { credential, claims };
}

/**
 * When `assertion` is signed with one of the application's certificates (it names a thumbprint and its `iss` is the
 * client ID), validates it as such and resolves to that certificate; resolves undefined for any other assertion,
 * which is then a federated one. Rejects with an AadstsError.
 */
export async function validateCertificateClientAssertion(
  assertion: string,
  identity: { clientId: string; certificates?: readonly CertificateCredential[] },
  tenant: { path: string; id: string },
  deps: Omit<AssertionValidationDeps, "metadata">,
): Promise<CertificateCredential | undefined> {
  if (!identity.certificates?.length) return undefined;
  const token = trimmedAssertion(assertion);
  const { header, claims } = decodeAssertion(token);
  if (!isCertificateAssertion(header, claims, identity.clientId)) return undefined;
  const nowMs = (deps.now ?? Date.now)();
  const certificate = await validateCertificateAssertion({
    token,
    header,
    claims,
    clientId: identity.clientId,
    certificates: identity.certificates,
    tenantPath: tenant.path,
    tenantId: tenant.id,
    nowMs,
  });
  assertWithinValidity(claims, nowMs, deps.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS);
  return certificate;
}

/** The assertion without the whitespace hand-written token files end in, refused when over-long. */
function trimmedAssertion(assertion: string): string {
  // Token files written by hand often end in a newline, and some SDKs send the file verbatim.
  const token = assertion.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, "");
  if (token.length > MAX_ASSERTION_LENGTH) {
    throw new AadstsError(
      50027,
      {},
      { cause: new Error(`the assertion is longer than ${MAX_ASSERTION_LENGTH}`) },
    );
  }
  return token;
}

/** Header and claims, decoded without trusting them, and refused when malformed (see checkShape). */
function decodeAssertion(token: string): { header: Record<string, unknown>; claims: JWTPayload } {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: JWTPayload;
  try {
    claims = decodeJwt(token);
    header = decodeProtectedHeader(token);
  } catch (cause) {
    throw new AadstsError(50027, {}, { cause });
  }
  checkShape(header, claims);
  return { header, claims };
}

/**
 * Runs a matching step; when no credential matches, the error says which field of the nearest of `candidates`
 * differs.
 */
function explainingMismatch<T>(
  claims: MatchedClaims & { iss: string },
  candidates: readonly FederatedCredential[],
  step: () => T,
): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof AadstsError && NO_MATCH.has(error.code)) {
      const mismatch = nearestCredentialMismatch(claims, candidates);
      if (mismatch !== undefined && mismatch.differences.length > 0) {
        error.explanation = describeMismatch(mismatch);
        error.nearestCredential = mismatch.credential;
      }
    }
    throw error;
  }
}

/**
 * What no honest token has, refused as malformed before anything else is believed: JWS extensions (`crit`, and
 * RFC 7797's `b64`, which would change what the signature covers), time claims that are not finite numbers
 * (strings, booleans, arrays, null, or a number too large to represent), and claims nested deeper than any
 * issuer writes them.
 */
function checkShape(header: Record<string, unknown>, claims: JWTPayload): void {
  for (const member of ["crit", "b64"]) {
    if (Object.hasOwn(header, member)) {
      throw new AadstsError(50027, {}, { cause: new Error(`the header has a '${member}' member`) });
    }
  }
  for (const name of TIME_CLAIMS) {
    const value = claims[name];
    if (value !== undefined && !(typeof value === "number" && Number.isFinite(value))) {
      throw new AadstsError(50027, {}, { cause: new Error(`'${name}' is not a number of seconds`) });
    }
  }
  if (nestingDepth(claims) > MAX_CLAIM_DEPTH) {
    throw new AadstsError(
      50027,
      {},
      { cause: new Error(`claims nest deeper than ${MAX_CLAIM_DEPTH} levels`) },
    );
  }
}

/** How deep objects and arrays nest in `value` (a scalar is 0), counted without recursion. */
function nestingDepth(value: unknown): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [node, depth] = next;
    if (typeof node !== "object" || node === null) continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > MAX_CLAIM_DEPTH) return deepest;
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * `exp` is required (a token without one is reported as expired at the epoch, as Entra does); `nbf` is optional;
 * an `iat` in the future is as suspect as an `nbf` there, so it opens the window when it is the later of the two.
 */
function assertWithinValidity(claims: JWTPayload, nowMs: number, skewSeconds: number): void {
  const { exp, nbf, iat } = claims;
  const validFrom = Math.max(nbf ?? Number.NEGATIVE_INFINITY, iat ?? Number.NEGATIVE_INFINITY);
  const nowSeconds = nowMs / 1000;
  const expired = exp === undefined || nowSeconds > exp + skewSeconds;
  const notYetValid = nowSeconds < validFrom - skewSeconds;
  if (!expired && !notYetValid) return;
  throw new AadstsError(700024, {
    now: entraInstant(nowMs),
    nbf: entraInstant((notYetValid ? validFrom : (nbf ?? 0)) * 1000),
    exp: entraInstant((exp ?? 0) * 1000),
  });
}

function isAudience(aud: unknown): aud is string | string[] {
  if (typeof aud === "string") return aud !== "";
  return Array.isArray(aud) && aud.length > 0 && aud.every((value) => typeof value === "string");
}
