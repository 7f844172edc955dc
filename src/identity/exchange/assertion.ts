// Validation of the client assertion in a federated credential exchange (reference/entra.md §4, §5): the
// Kubernetes service-account token a workload presents as `client_assertion`. Checks run cheapest and most
// security-relevant first: shape and algorithm, then an issuer one of the identity's credentials trusts (before
// any network traffic), then the signature, and only then are the time and subject claims believed.
// Token values are never logged; errors name claims, not tokens.

import { compactVerify, decodeJwt, decodeProtectedHeader, type JWTPayload } from "jose";
import { AadstsError, entraInstant } from "./aadsts-errors.ts";
import {
  credentialsForIssuer,
  type FederatedCredential,
  type FederatedIdentity,
  matchTrustingCredential,
} from "./fic-match.ts";
import type { IssuerKeySource } from "./issuer-metadata.ts";

/** What Entra's client-assertion validator accepts (§5.1). */
const ALLOWED_ALGORITHMS = ["RS256", "RS384", "RS512"];
const DEFAULT_CLOCK_SKEW_SECONDS = 300;

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
  // Token files written by hand often end in a newline, and some SDKs send the file verbatim.
  const token = assertion.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, "");

  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: JWTPayload;
  try {
    claims = decodeJwt(token);
    header = decodeProtectedHeader(token);
  } catch (cause) {
    throw new AadstsError(50027, {}, { cause });
  }

  const alg = header.alg;
  if (typeof alg !== "string" || !ALLOWED_ALGORITHMS.includes(alg)) {
    throw new AadstsError(5002738, { alg: String(alg ?? "") });
  }
  const kid = header.kid;
  if (typeof kid !== "string" || kid === "") throw new AadstsError(5002723);

  const { iss, aud, sub } = claims;
  if (typeof iss !== "string" || iss === "") throw new AadstsError(90014, { name: "iss" });
  if (!isAudience(aud)) throw new AadstsError(90014, { name: "aud" });

  // Only issuers the identity trusts are ever contacted; any other `iss` fails here, offline.
  const trusting = credentialsForIssuer(iss, identity);

  try {
    await compactVerify(token, (protectedHeader) => deps.metadata.getKey(iss, protectedHeader), {
      algorithms: ALLOWED_ALGORITHMS,
    });
  } catch (cause) {
    if (cause instanceof AadstsError) throw cause;
    throw new AadstsError(700027, {}, { cause });
  }

  assertWithinValidity(claims, (deps.now ?? Date.now)(), deps.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS);

  const credential = matchTrustingCredential(
    { sub: typeof sub === "string" ? sub : undefined, aud },
    trusting,
  );
  return { credential, claims };
}

/** `exp` is required (a token without one is reported as expired at the epoch, as Entra does); `nbf` is optional. */
function assertWithinValidity(claims: JWTPayload, nowMs: number, skewSeconds: number): void {
  const exp = typeof claims.exp === "number" ? claims.exp : undefined;
  const nbf = typeof claims.nbf === "number" ? claims.nbf : undefined;
  const nowSeconds = nowMs / 1000;
  const expired = exp === undefined || nowSeconds > exp + skewSeconds;
  const notYetValid = nbf !== undefined && nowSeconds < nbf - skewSeconds;
  if (!expired && !notYetValid) return;
  throw new AadstsError(700024, {
    now: entraInstant(nowMs),
    nbf: entraInstant((nbf ?? 0) * 1000),
    exp: entraInstant((exp ?? 0) * 1000),
  });
}

function isAudience(aud: unknown): aud is string | string[] {
  if (typeof aud === "string") return aud !== "";
  return Array.isArray(aud) && aud.length > 0 && aud.every((value) => typeof value === "string");
}
