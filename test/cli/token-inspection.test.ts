// What `wikit token decode` and `wikit token compare` make of tokens and credentials, without I/O.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  compareSideBySide,
  comparisonTable,
  inspect,
  relativeTo,
  timesOf,
} from "../../src/cli/token-inspection.ts";

const ISSUER = "https://oidc.example.test/cluster-1/";
const SUBJECT = "system:serviceaccount:payments:api";
const AUDIENCE = "api://AzureADTokenExchange";
const NOW = 1_800_000_000;

const unsigned = (claims: Record<string, unknown>) =>
  `${Buffer.from('{"alg":"RS256","kid":"k"}').toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.c2ln`;
const serviceAccountToken = (overrides: Record<string, unknown> = {}) =>
  unsigned({
    iss: ISSUER,
    sub: SUBJECT,
    aud: [AUDIENCE],
    iat: NOW - 60,
    nbf: NOW - 60,
    exp: NOW + 3540,
    ...overrides,
  });
const credentialJson = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({ name: "kube", issuer: ISSUER, subject: SUBJECT, audiences: [AUDIENCE], ...overrides });
const accessToken = unsigned({
  aud: "https://vault.azure.net",
  iss: "https://sts.windows.net/t/",
  appid: "client-1",
  oid: "principal-1",
  tid: "t",
  xms_mirid:
    "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id",
});

describe("token inspection", () => {
  test("a token file is read as header and claims; a credential as az or ARM prints it", () => {
    const token = inspect(`${serviceAccountToken()}\n`, "token");
    assert.equal(token.kind, "token");
    assert.equal(token.kind === "token" && token.header.kid, "k");
    const flat = inspect(credentialJson(), "fic.json");
    const arm = inspect(
      JSON.stringify({ name: "kube", properties: JSON.parse(credentialJson()) }),
      "arm.json",
    );
    for (const credential of [flat, arm]) {
      assert.equal(credential.kind, "credential");
      assert.equal(credential.kind === "credential" && credential.subject, SUBJECT);
    }
  });

  test("anything else is refused with what it lacks", () => {
    assert.throws(() => inspect("hello", "x"), /x is neither a token nor a federated credential's JSON/);
    assert.throws(() => inspect('{"issuer": 1}', "y"), /y is JSON but not a federated credential/);
    assert.throws(() => inspect("{oops", "z"), /z is not valid JSON/);
    assert.throws(() => inspect("\n", "empty.json"), /empty\.json is empty: it should hold a token/);
  });

  test("times are shown in local time and relative to now", () => {
    const times = timesOf({ iat: NOW - 60, exp: NOW + 3540, nbf: "soon" }, NOW);
    assert.deepEqual(Object.keys(times), ["iat", "exp"]);
    assert.equal(times.exp?.relative, "in 59 min");
    assert.equal(times.iat?.relative, "1 min ago");
    assert.match(times.exp?.local ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    assert.equal(relativeTo(NOW + 90061, NOW), "in 1 d 1 h 1 min");
    assert.equal(relativeTo(NOW - 5, NOW), "5 s ago");
  });

  test("a token and the credential it should match agree on issuer, subject and audience", () => {
    const items = [inspect(serviceAccountToken(), "token"), inspect(credentialJson(), "fic.json")];
    const rows = compareSideBySide(items);
    assert.deepEqual(
      rows.map(({ field, agrees }) => [field, agrees]),
      [
        ["issuer", true],
        ["subject", true],
        ["audience", true],
      ],
    );
  });

  test("the fields that differ are marked: a trailing slash, another service account, another audience", () => {
    const items = [
      inspect(serviceAccountToken({ iss: ISSUER.slice(0, -1), aud: ["api://other"] }), "token"),
      inspect(credentialJson({ subject: "system:serviceaccount:payments:web" }), "fic.json"),
    ];
    const table = comparisonTable(items, compareSideBySide(items));
    assert.match(
      table,
      /^✗ issuer +https:\/\/oidc\.example\.test\/cluster-1 +https:\/\/oidc\.example\.test\/cluster-1\/$/m,
    );
    assert.match(
      table,
      /^✗ subject +system:serviceaccount:payments:api +system:serviceaccount:payments:web$/m,
    );
    assert.match(table, /^✗ audience +api:\/\/other +api:\/\/AzureADTokenExchange$/m);
  });

  test("an access token shows the caller and the resource, and takes no part in the matched fields", () => {
    const items = [
      inspect(serviceAccountToken(), "token"),
      inspect(credentialJson(), "fic.json"),
      inspect(accessToken, "access"),
    ];
    const rows = compareSideBySide(items);
    assert.equal(rows.find((row) => row.field === "issuer")?.agrees, true);
    assert.deepEqual(rows.find((row) => row.field === "client (appid)")?.values, ["", "", "client-1"]);
    assert.deepEqual(rows.find((row) => row.field === "resource (aud)")?.values, [
      "",
      "",
      "https://vault.azure.net",
    ]);
  });

  test("a flexible credential's expression is shown, not compared", () => {
    const items = [
      inspect(serviceAccountToken(), "token"),
      inspect(
        credentialJson({
          subject: undefined,
          claimsMatchingExpression: { value: "claims['sub'] matches '*'", languageVersion: 1 },
        }),
        "fic.json",
      ),
    ];
    const subject = compareSideBySide(items).find((row) => row.field === "subject");
    assert.equal(subject?.agrees, undefined);
    assert.equal(subject?.values[1], "expression: claims['sub'] matches '*'");
  });
});
