// Why no federated credential matched, in words a person can act on: the identity's credential nearest to the
// presented token and each field where they differ, and how (a trailing slash, case, scheme, namespace, service
// account name, audience). Pure; the token service adds it to its answer only where that is safe to show
// (`wikit up --explain-errors`, on by default locally), since it reveals how the identity's credentials are set up.

import { claimsMatch } from "./claims-expression.ts";
import type { FederatedCredential, MatchedClaims } from "./fic-match.ts";

export type MismatchedField = "issuer" | "subject" | "audience";

export interface FieldDifference {
  field: MismatchedField;
  /** What the token says. */
  presented: string;
  /** What the credential says. */
  expected: string;
  /** How they differ, e.g. "the credential's issuer ends in '/', the token's does not". */
  how: string;
}

export interface CredentialMismatch {
  credential: string;
  differences: FieldDifference[];
}

const SERVICE_ACCOUNT_SUBJECT = /^system:serviceaccount:([^:]*):([^:]*)$/;

/** The credential differing from the token in the fewest fields (the first such), with those differences. */
export function nearestCredentialMismatch(
  claims: MatchedClaims & { iss: string },
  credentials: readonly FederatedCredential[],
): CredentialMismatch | undefined {
  let nearest: CredentialMismatch | undefined;
  for (const credential of credentials) {
    const differences = differencesOf(claims, credential);
    if (nearest === undefined || differences.length < nearest.differences.length) {
      nearest = { credential: credential.name, differences };
    }
  }
  return nearest;
}

/** One line for an error description: the nearest credential and how each field differs. */
export function describeMismatch(mismatch: CredentialMismatch): string {
  const details = mismatch.differences.map(({ field, how }) => `${field}: ${how}`).join("; ");
  return `wikit: the nearest federated credential, '${mismatch.credential}', differs in ${details}.`;
}

function differencesOf(
  claims: MatchedClaims & { iss: string },
  credential: FederatedCredential,
): FieldDifference[] {
  const differences: FieldDifference[] = [];
  if (claims.iss !== credential.issuer) {
    differences.push({
      field: "issuer",
      presented: claims.iss,
      expected: credential.issuer,
      how: issuerDifference(claims.iss, credential.issuer),
    });
  }
  const sub = claims.sub ?? "";
  if (credential.claimsMatchingExpression !== undefined) {
    if (!claimsMatch(credential.claimsMatchingExpression, claims)) {
      differences.push({
        field: "subject",
        presented: sub,
        expected: "(a claims-matching expression)",
        how: `the token's claims (subject '${sub}') do not satisfy the credential's claims-matching expression`,
      });
    }
  } else if (credential.subject !== undefined && sub !== credential.subject) {
    differences.push({
      field: "subject",
      presented: sub,
      expected: credential.subject,
      how: subjectDifference(sub, credential.subject),
    });
  }
  const audiences = typeof claims.aud === "string" ? [claims.aud] : [...claims.aud];
  if (!credential.audiences.some((audience) => audiences.includes(audience))) {
    const expected = credential.audiences[0] ?? "";
    differences.push({
      field: "audience",
      presented: audiences.join(","),
      expected,
      how: `the token is for '${audiences.join("', '")}', the credential accepts '${expected}'`,
    });
  }
  return differences;
}

function issuerDifference(presented: string, expected: string): string {
  const withoutSlash = (url: string) => url.replace(/\/$/, "");
  if (withoutSlash(presented) === withoutSlash(expected)) {
    return expected.endsWith("/")
      ? `the credential's issuer '${expected}' ends in '/', the token's '${presented}' does not`
      : `the token's issuer '${presented}' ends in '/', the credential's '${expected}' does not`;
  }
  if (presented.toLowerCase() === expected.toLowerCase()) {
    return `'${presented}' and '${expected}' differ only in case; issuers are compared exactly`;
  }
  const scheme = (url: string) => /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme(presented) !== scheme(expected)) {
    return `the token's issuer '${presented}' and the credential's '${expected}' differ in scheme`;
  }
  return `the token was issued by '${presented}', the credential trusts '${expected}'`;
}

function subjectDifference(presented: string, expected: string): string {
  if (presented.toLowerCase() === expected.toLowerCase()) {
    return `'${presented}' and '${expected}' differ only in case; subjects are compared exactly`;
  }
  const token = SERVICE_ACCOUNT_SUBJECT.exec(presented);
  const trusted = SERVICE_ACCOUNT_SUBJECT.exec(expected);
  if (token && trusted) {
    const [, tokenNamespace, tokenAccount] = token;
    const [, trustedNamespace, trustedAccount] = trusted;
    const parts: string[] = [];
    if (tokenNamespace !== trustedNamespace) {
      parts.push(`namespace '${tokenNamespace}' in the token, '${trustedNamespace}' in the credential`);
    }
    if (tokenAccount !== trustedAccount) {
      parts.push(`service account '${tokenAccount}' in the token, '${trustedAccount}' in the credential`);
    }
    return parts.join(", and ");
  }
  return `the token's subject is '${presented}', the credential trusts '${expected}'`;
}
