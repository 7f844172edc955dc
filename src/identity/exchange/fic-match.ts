// Federated identity credential matching (reference/entra.md §4, steps 2–5). Pure: claims in, credential out,
// or an AadstsError thrown that names the value that failed. Every comparison is exact: no normalisation, no
// wildcards, the issuer's trailing slash is significant.

import { AadstsError } from "./aadsts-errors.ts";
import { type ClaimsExpression, claimsMatch } from "./claims-expression.ts";

export interface FederatedCredential {
  name: string;
  issuer: string;
  /** The one subject trusted; a flexible credential has a claims-matching expression instead. */
  subject?: string;
  claimsMatchingExpression?: ClaimsExpression;
  /** Exactly one value in a valid credential. */
  audiences: string[];
}

/** The identity named by `client_id`: an app registration or a user-assigned managed identity. */
export interface FederatedIdentity {
  clientId: string;
  displayName: string;
  credentials: readonly FederatedCredential[];
}

/** The claims a credential is matched against once its issuer is known. */
export interface MatchedClaims {
  sub?: string;
  aud: string | readonly string[];
  /** Every other claim, for claims-matching expressions. */
  readonly [claim: string]: unknown;
}

export interface AssertionSubjectClaims extends MatchedClaims {
  iss: string;
}

/**
 * Steps 2–3: the identity's credentials that trust `iss`. Cheap and offline, so callers run it before fetching
 * anything from the issuer: an issuer no credential names is never contacted.
 */
export function credentialsForIssuer(iss: string, identity: FederatedIdentity): FederatedCredential[] {
  if (identity.credentials.length === 0) {
    throw new AadstsError(70025, { clientId: identity.clientId, displayName: identity.displayName });
  }
  const trusting = identity.credentials.filter((credential) => credential.issuer === iss);
  if (trusting.length === 0) throw new AadstsError(700211, { iss });
  return trusting;
}

/** Steps 2–5 in order: issuer, then subject, then audience. */
export function matchFederatedCredential(
  claims: AssertionSubjectClaims,
  identity: FederatedIdentity,
): FederatedCredential {
  return matchTrustingCredential(claims, credentialsForIssuer(claims.iss, identity));
}

/**
 * Steps 4–5 among the credentials `credentialsForIssuer` found for the token's issuer, so that an exchange
 * looks the issuer's credentials up once: subject, then audience.
 */
export function matchTrustingCredential(
  claims: MatchedClaims,
  trusting: readonly FederatedCredential[],
): FederatedCredential {
  const sub = claims.sub ?? "";
  const forSubject = trusting.filter((credential) =>
    credential.claimsMatchingExpression === undefined
      ? credential.subject === sub
      : claimsMatch(credential.claimsMatchingExpression, claims),
  );
  if (forSubject.length === 0) {
    // A case-only difference gets its own code: it is a typo worth pointing at, never a match.
    const caseOnly = trusting.some((credential) => credential.subject?.toUpperCase() === sub.toUpperCase());
    throw new AadstsError(caseOnly ? 7002138 : 700213, { sub });
  }

  const presented: readonly string[] = typeof claims.aud === "string" ? [claims.aud] : claims.aud;
  const match = forSubject.find((credential) =>
    credential.audiences.some((audience) => presented.includes(audience)),
  );
  if (match === undefined) throw new AadstsError(700212, { aud: presented.join(",") });
  return match;
}
