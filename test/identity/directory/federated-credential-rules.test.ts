import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DirectoryError } from "../../../src/identity/directory/directory-error.ts";
import {
  checkCredentialFitsIdentity,
  checkFederatedCredential,
  type FederatedCredentialProperties,
  MAX_FEDERATED_CREDENTIALS,
} from "../../../src/identity/directory/federated-credential-rules.ts";

const ISSUER = "https://oidc.example.test/tenant/cluster-1/";
const SUBJECT = "system:serviceaccount:apps:workload";
const AUDIENCE = "api://AzureADTokenExchange";
const VALID = { issuer: ISSUER, subject: SUBJECT, audiences: [AUDIENCE] };

function assertBadRequest(input: Record<string, unknown>, message: RegExp): void {
  assert.throws(
    () => checkFederatedCredential(input),
    (error: unknown) => {
      assert.ok(error instanceof DirectoryError);
      assert.equal(error.status, 400);
      assert.equal(error.code, "BadRequest");
      assert.match(error.message, message);
      return true;
    },
  );
}

describe("federated credential properties", () => {
  test("a valid credential comes back normalised, issuer and subject verbatim", () => {
    assert.deepEqual(checkFederatedCredential({ ...VALID, unknown: "dropped" }), VALID);
    assert.deepEqual(checkFederatedCredential({ ...VALID, description: "cluster 1" }), {
      ...VALID,
      description: "cluster 1",
    });
  });

  test("the trailing slash of an issuer is kept: matching is exact", () => {
    assert.equal(
      checkFederatedCredential({ ...VALID, issuer: "https://a.test/x/" }).issuer,
      "https://a.test/x/",
    );
    assert.equal(
      checkFederatedCredential({ ...VALID, issuer: "https://a.test/x" }).issuer,
      "https://a.test/x",
    );
  });

  const audienceCases: [string, unknown][] = [
    ["missing", undefined],
    ["empty", []],
    ["two values", [AUDIENCE, "api://other"]],
    ["a bare string", AUDIENCE],
    ["an empty string", [""]],
    ["a non-string", [42]],
  ];
  for (const [label, audiences] of audienceCases) {
    test(`exactly one audience is required: ${label} is refused`, () =>
      assertBadRequest({ ...VALID, audiences }, /exactly one value/));
  }

  const issuerCases: [string, unknown, RegExp][] = [
    ["missing", undefined, /needs an 'issuer'/],
    ["empty", "", /needs an 'issuer'/],
    ["plain http", "http://oidc.example.test/", /must use https/],
    ["another scheme", "ftp://oidc.example.test/", /must use https/],
    ["not a URL", "oidc.example.test", /not a valid URL/],
    ["leading whitespace", ` ${ISSUER}`, /leading or trailing whitespace/],
    ["trailing whitespace", `${ISSUER} `, /leading or trailing whitespace/],
    ["trailing newline", `${ISSUER}\n`, /leading or trailing whitespace/],
    ["inner whitespace", "https://oidc example.test/", /not a valid URL/],
  ];
  for (const [label, issuer, message] of issuerCases) {
    test(`an issuer that could never match is refused: ${label}`, () =>
      assertBadRequest({ ...VALID, issuer }, message));
  }

  test("a subject is required and cannot be blank", () => {
    assertBadRequest({ ...VALID, subject: undefined }, /needs a 'subject'/);
    assertBadRequest({ ...VALID, subject: "   " }, /needs a 'subject'/);
  });

  test("issuer, subject and audience are each at most 600 characters", () => {
    const issuerAt = (length: number) => `https://a.test/${"x".repeat(length - "https://a.test/".length)}`;
    assert.equal(checkFederatedCredential({ ...VALID, issuer: issuerAt(600) }).issuer.length, 600);
    assertBadRequest({ ...VALID, issuer: issuerAt(601) }, /issuer is longer than 600/);

    assert.doesNotThrow(() => checkFederatedCredential({ ...VALID, subject: "s".repeat(600) }));
    assertBadRequest({ ...VALID, subject: "s".repeat(601) }, /subject is longer than 600/);

    assert.doesNotThrow(() => checkFederatedCredential({ ...VALID, audiences: ["a".repeat(600)] }));
    assertBadRequest({ ...VALID, audiences: ["a".repeat(601)] }, /audience is longer than 600/);
  });

  test("a description must be a string", () => {
    assertBadRequest({ ...VALID, description: 7 }, /'description' must be a string/);
  });
});

describe("a credential among the identity's others", () => {
  const credential = (index: number): { name: string; properties: FederatedCredentialProperties } => ({
    name: `fic-${index}`,
    properties: { ...VALID, subject: `system:serviceaccount:apps:sa-${index}` },
  });
  const full = Array.from({ length: MAX_FEDERATED_CREDENTIALS }, (_, index) => credential(index));

  test("the cap is 20 credentials per identity", () => {
    assert.equal(MAX_FEDERATED_CREDENTIALS, 20);
  });

  test("a 20th credential fits; a 21st is refused with 400", () => {
    assert.doesNotThrow(() => checkCredentialFitsIdentity("fic-new", VALID, full.slice(0, 19)));
    assert.throws(
      () => checkCredentialFitsIdentity("fic-new", VALID, full),
      (error: unknown) =>
        error instanceof DirectoryError &&
        error.status === 400 &&
        /already has 20 federated identity credentials/.test(error.message),
    );
  });

  test("updating a credential in place does not count against the cap, whatever the name's case", () => {
    const update = { ...VALID, subject: "system:serviceaccount:apps:renamed" };
    assert.doesNotThrow(() => checkCredentialFitsIdentity("fic-3", update, full));
    assert.doesNotThrow(() => checkCredentialFitsIdentity("FIC-3", update, full));
  });

  test("issuer + subject must be unique on the identity: a twin under another name is a 409", () => {
    const existing = [credential(1)];
    assert.throws(
      () =>
        checkCredentialFitsIdentity(
          "fic-other",
          { ...credential(1).properties, audiences: ["api://x"] },
          existing,
        ),
      (error: unknown) => {
        assert.ok(error instanceof DirectoryError);
        assert.equal(error.status, 409);
        assert.match(error.message, /'fic-1'.*must be unique/);
        return true;
      },
    );
  });

  test("the same subject under another issuer, or re-putting the twin itself, is fine", () => {
    const existing = [credential(1)];
    const otherIssuer = { ...credential(1).properties, issuer: "https://other.example.test/" };
    assert.doesNotThrow(() => checkCredentialFitsIdentity("fic-other", otherIssuer, existing));
    assert.doesNotThrow(() => checkCredentialFitsIdentity("fic-1", credential(1).properties, existing));
  });
});

describe("flexible credentials: a claims-matching expression instead of a subject", () => {
  const NAMESPACE = { value: "claims['sub'] matches 'system:serviceaccount:apps:*'", languageVersion: 1 };

  test("an expression replaces the subject and comes back as given", () => {
    const { subject: _, ...withoutSubject } = VALID;
    assert.deepEqual(checkFederatedCredential({ ...withoutSubject, claimsMatchingExpression: NAMESPACE }), {
      issuer: ISSUER,
      claimsMatchingExpression: NAMESPACE,
      audiences: [AUDIENCE],
    });
  });

  test("a subject and an expression together are refused: one or the other", () => {
    assertBadRequest(
      { ...VALID, claimsMatchingExpression: NAMESPACE },
      /both a 'subject' and a 'claimsMatchingExpression'/,
    );
  });

  test("a malformed expression is refused with the position and what was expected", () => {
    const { subject: _, ...withoutSubject } = VALID;
    assertBadRequest(
      {
        ...withoutSubject,
        claimsMatchingExpression: { value: "claims['sub'] like 'x'", languageVersion: 1 },
      },
      /not valid at character 15: expected 'eq' or 'matches', found 'like'/,
    );
  });

  test("an expression must say its language version, 1, and be text", () => {
    const { subject: _, ...withoutSubject } = VALID;
    for (const claimsMatchingExpression of [
      { value: NAMESPACE.value },
      { value: 1, languageVersion: 1 },
      "x",
    ]) {
      assertBadRequest({ ...withoutSubject, claimsMatchingExpression }, /"languageVersion": 1/);
    }
  });

  test("issuer + expression must be unique on the identity, as issuer + subject is", () => {
    const flexible = { issuer: ISSUER, claimsMatchingExpression: NAMESPACE, audiences: [AUDIENCE] };
    const existing = [{ name: "team-apps", properties: flexible }];
    assert.throws(
      () => checkCredentialFitsIdentity("again", flexible, existing),
      (error: unknown) => error instanceof DirectoryError && error.status === 409,
    );
    // A subject that happens to equal the expression's text is another credential.
    const { claimsMatchingExpression: _, ...rest } = flexible;
    assert.doesNotThrow(() =>
      checkCredentialFitsIdentity("exact", { ...rest, subject: NAMESPACE.value }, existing),
    );
  });
});
