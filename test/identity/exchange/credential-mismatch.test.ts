// Explanations of "no matching credential": the nearest credential, and for each field how exactly it differs.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseClaimsExpression } from "../../../src/identity/exchange/claims-expression.ts";
import {
  describeMismatch,
  nearestCredentialMismatch,
} from "../../../src/identity/exchange/credential-mismatch.ts";
import type { FederatedCredential } from "../../../src/identity/exchange/fic-match.ts";

const ISSUER = "https://oidc.example.test/cluster-1/";
const AUDIENCE = "api://AzureADTokenExchange";
const credential = (
  name: string,
  subject: string,
  issuer = ISSUER,
  audience = AUDIENCE,
): FederatedCredential => ({
  name,
  issuer,
  subject,
  audiences: [audience],
});
const token = (overrides: { iss?: string; sub?: string; aud?: string[] } = {}) => ({
  iss: ISSUER,
  sub: "system:serviceaccount:payments:api",
  aud: [AUDIENCE],
  ...overrides,
});

function howOf(claims: ReturnType<typeof token>, credentials: FederatedCredential[]): string[] {
  return (
    nearestCredentialMismatch(claims, credentials)?.differences.map(({ field, how }) => `${field}: ${how}`) ??
    []
  );
}

describe("credential mismatch explanations", () => {
  test("the issuer's trailing slash, either way round", () => {
    assert.deepEqual(howOf(token({ iss: ISSUER.slice(0, -1) }), [credential("c", token().sub)]), [
      `issuer: the credential's issuer '${ISSUER}' ends in '/', the token's '${ISSUER.slice(0, -1)}' does not`,
    ]);
    assert.deepEqual(howOf(token(), [credential("c", token().sub, ISSUER.slice(0, -1))]), [
      `issuer: the token's issuer '${ISSUER}' ends in '/', the credential's '${ISSUER.slice(0, -1)}' does not`,
    ]);
  });

  test("an issuer differing in case or in scheme", () => {
    assert.match(
      howOf(token(), [credential("c", token().sub, ISSUER.toUpperCase())])[0] ?? "",
      /differ only in case/,
    );
    assert.match(
      howOf(token(), [credential("c", token().sub, ISSUER.replace("https:", "http:"))])[0] ?? "",
      /differ in scheme/,
    );
  });

  test("a service-account subject names the namespace or the account that differs", () => {
    assert.deepEqual(howOf(token(), [credential("c", "system:serviceaccount:billing:api")]), [
      "subject: namespace 'payments' in the token, 'billing' in the credential",
    ]);
    assert.deepEqual(howOf(token(), [credential("c", "system:serviceaccount:payments:web")]), [
      "subject: service account 'api' in the token, 'web' in the credential",
    ]);
    assert.match(
      howOf(token(), [credential("c", "system:serviceaccount:Payments:api")])[0] ?? "",
      /only in case/,
    );
  });

  test("an audience the credential does not accept", () => {
    assert.deepEqual(howOf(token({ aud: ["api://other"] }), [credential("c", token().sub)]), [
      `audience: the token is for 'api://other', the credential accepts '${AUDIENCE}'`,
    ]);
  });

  test("the nearest credential is the one differing in the fewest fields", () => {
    const credentials = [
      credential("far", "system:serviceaccount:other:x", "https://elsewhere.test/", "api://x"),
      credential("near", "system:serviceaccount:payments:web"),
    ];
    const mismatch = nearestCredentialMismatch(token(), credentials);
    assert.equal(mismatch?.credential, "near");
    assert.equal(
      describeMismatch(mismatch ?? { credential: "", differences: [] }),
      "wikit: the nearest federated credential, 'near', differs in subject: service account 'api' in the token, 'web' in the credential.",
    );
  });

  test("a flexible credential differs in the subject when the token's claims do not satisfy its expression", () => {
    const flexible: FederatedCredential = {
      name: "ns",
      issuer: ISSUER,
      claimsMatchingExpression: parseClaimsExpression("claims['sub'] matches 'x:*'"),
      audiences: ["api://x"],
    };
    assert.deepEqual(
      nearestCredentialMismatch(token(), [flexible])?.differences.map(({ field }) => field),
      ["subject", "audience"],
    );
    const satisfied = {
      ...flexible,
      claimsMatchingExpression: parseClaimsExpression("claims['sub'] matches '*:api'"),
    };
    assert.deepEqual(
      nearestCredentialMismatch(token(), [satisfied])?.differences.map(({ field }) => field),
      ["audience"],
    );
  });
});
