import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { AadstsError } from "../../../src/identity/exchange/aadsts-errors.ts";
import { parseClaimsExpression } from "../../../src/identity/exchange/claims-expression.ts";
import {
  credentialsForIssuer,
  type FederatedCredential,
  type FederatedIdentity,
  matchFederatedCredential,
} from "../../../src/identity/exchange/fic-match.ts";

const AKS_ISSUER =
  "https://westeurope.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000001/cluster-1/";
const SUBJECT = "system:serviceaccount:payments:api";
const AUDIENCE = "api://AzureADTokenExchange";

const aks: FederatedCredential = { name: "aks", issuer: AKS_ISSUER, subject: SUBJECT, audiences: [AUDIENCE] };
const local: FederatedCredential = {
  name: "local",
  issuer: "https://127.0.0.1:6443",
  subject: "system:serviceaccount:wi-probe:workload-sa",
  audiences: ["api://AKSIdentityBinding"],
};

function identity(...credentials: FederatedCredential[]): FederatedIdentity {
  return { clientId: "11111111-2222-3333-4444-555555555555", displayName: "payments-api", credentials };
}

function codeOf(run: () => unknown): number | "matched" {
  try {
    run();
    return "matched";
  } catch (error) {
    assert.ok(error instanceof AadstsError);
    return error.code;
  }
}

describe("matchFederatedCredential", () => {
  test("matches on exact issuer, subject and an audience, with aud as a string or an array", () => {
    const both = identity(local, aks);
    assert.equal(matchFederatedCredential({ iss: AKS_ISSUER, sub: SUBJECT, aud: AUDIENCE }, both), aks);
    assert.equal(
      matchFederatedCredential({ iss: AKS_ISSUER, sub: SUBJECT, aud: ["other", AUDIENCE] }, both),
      aks,
    );
  });

  const rejections: Array<
    [string, Parameters<typeof matchFederatedCredential>[0], FederatedIdentity, number]
  > = [
    [
      "an identity without credentials is AADSTS70025",
      { iss: AKS_ISSUER, sub: SUBJECT, aud: AUDIENCE },
      identity(),
      70025,
    ],
    [
      "an issuer missing its trailing slash is AADSTS700211 (the commonest misconfiguration)",
      { iss: AKS_ISSUER.slice(0, -1), sub: SUBJECT, aud: AUDIENCE },
      identity(aks),
      700211,
    ],
    [
      "an issuer differing only in case is AADSTS700211",
      { iss: AKS_ISSUER.replace("westeurope", "WestEurope"), sub: SUBJECT, aud: AUDIENCE },
      identity(aks),
      700211,
    ],
    [
      "a legacy Secret-based token's issuer matches nothing",
      { iss: "kubernetes/serviceaccount", sub: SUBJECT, aud: AUDIENCE },
      identity(aks),
      700211,
    ],
    [
      "another subject is AADSTS700213",
      { iss: AKS_ISSUER, sub: "system:serviceaccount:payments:worker", aud: AUDIENCE },
      identity(aks),
      700213,
    ],
    ["a missing subject is AADSTS700213", { iss: AKS_ISSUER, aud: AUDIENCE }, identity(aks), 700213],
    [
      "a subject matching only case-insensitively is AADSTS7002138",
      { iss: AKS_ISSUER, sub: SUBJECT.toUpperCase(), aud: AUDIENCE },
      identity(aks),
      7002138,
    ],
    [
      "an audience the credential does not list is AADSTS700212",
      { iss: AKS_ISSUER, sub: SUBJECT, aud: ["api://AzureADTokenExchangeUSGov"] },
      identity(aks),
      700212,
    ],
    [
      "an audience differing only in case is AADSTS700212",
      { iss: AKS_ISSUER, sub: SUBJECT, aud: AUDIENCE.toLowerCase() },
      identity(aks),
      700212,
    ],
    [
      "subject and audience must hold on the same credential",
      { iss: AKS_ISSUER, sub: SUBJECT, aud: "api://AKSIdentityBinding" },
      identity(aks, { ...local, issuer: AKS_ISSUER, subject: "system:serviceaccount:other:sa" }),
      700212,
    ],
  ];
  for (const [name, claims, target, code] of rejections) {
    test(name, () =>
      assert.equal(
        codeOf(() => matchFederatedCredential(claims, target)),
        code,
      ),
    );
  }

  test("each error names the value that failed", () => {
    const messages = [
      { iss: "https://wrong.example", sub: SUBJECT, aud: AUDIENCE },
      { iss: AKS_ISSUER, sub: "system:serviceaccount:x:y", aud: AUDIENCE },
      { iss: AKS_ISSUER, sub: SUBJECT, aud: ["api://one", "api://two"] },
    ].map((claims) => {
      try {
        matchFederatedCredential(claims, identity(aks));
        return "";
      } catch (error) {
        return (error as AadstsError).description;
      }
    });
    assert.match(messages[0] ?? "", /^AADSTS700211: .*issuer 'https:\/\/wrong\.example'/);
    assert.match(messages[1] ?? "", /^AADSTS700213: .*subject 'system:serviceaccount:x:y'/);
    assert.match(messages[2] ?? "", /^AADSTS700212: .*audience 'api:\/\/one,api:\/\/two'/);
  });

  test("AADSTS70025 names the client and its display name", () => {
    assert.throws(() => credentialsForIssuer(AKS_ISSUER, identity()), {
      description:
        "AADSTS70025: The client '11111111-2222-3333-4444-555555555555'(payments-api) has no configured federated identity credentials.",
    });
  });

  test("property: a credential is returned exactly when one matches all three exactly; checks run issuer, subject, audience", () => {
    const token = fc.constantFrom("a", "A", "b", "a/");
    const credential = fc.record({
      name: fc.constant("fic"),
      issuer: token,
      subject: token,
      audiences: fc.array(token, { minLength: 1, maxLength: 1 }),
    });
    const claims = fc.record({
      iss: token,
      sub: token,
      aud: fc.oneof(token, fc.array(token, { maxLength: 3 })),
    });
    fc.assert(
      fc.property(fc.array(credential, { maxLength: 4 }), claims, (credentials, presented) => {
        const auds: string[] = typeof presented.aud === "string" ? [presented.aud] : presented.aud;
        const byIssuer = credentials.filter((c) => c.issuer === presented.iss);
        const bySubject = byIssuer.filter((c) => c.subject === presented.sub);
        const expected =
          credentials.length === 0
            ? 70025
            : byIssuer.length === 0
              ? 700211
              : bySubject.length === 0
                ? byIssuer.some((c) => c.subject.toLowerCase() === presented.sub.toLowerCase())
                  ? 7002138
                  : 700213
                : bySubject.some((c) => c.audiences.some((a) => auds.includes(a)))
                  ? "matched"
                  : 700212;
        const target = identity(...credentials);
        assert.equal(
          codeOf(() => matchFederatedCredential(presented, target)),
          expected,
        );
        if (expected === "matched") {
          const match = matchFederatedCredential(presented, target);
          assert.ok(match.issuer === presented.iss && match.subject === presented.sub);
          assert.ok(match.audiences.some((a) => auds.includes(a)));
        }
      }),
    );
  });
});

describe("flexible credentials (claims-matching expressions)", () => {
  const ISSUER = "https://oidc.example.test/cluster-1/";
  const namespaceWide: FederatedIdentity = {
    clientId: "00000000-0000-4000-8000-000000000001",
    displayName: "team-a",
    credentials: [
      {
        name: "team-a",
        issuer: ISSUER,
        claimsMatchingExpression: parseClaimsExpression(
          "claims['sub'] matches 'system:serviceaccount:team-a:*'",
        ),
        audiences: ["api://AzureADTokenExchange"],
      },
    ],
  };
  const aud = ["api://AzureADTokenExchange"];

  test("one credential serves every service account of a namespace", () => {
    for (const account of ["api", "worker", "cron-7"]) {
      const sub = `system:serviceaccount:team-a:${account}`;
      assert.equal(matchFederatedCredential({ iss: ISSUER, sub, aud }, namespaceWide).name, "team-a");
    }
  });

  test("a subject outside the expression is AADSTS700213, the audience still checked", () => {
    assert.throws(
      () =>
        matchFederatedCredential(
          { iss: ISSUER, sub: "system:serviceaccount:team-b:api", aud },
          namespaceWide,
        ),
      (error: unknown) => error instanceof AadstsError && error.code === 700213,
    );
    assert.throws(
      () =>
        matchFederatedCredential(
          { iss: ISSUER, sub: "system:serviceaccount:team-a:api", aud: ["other"] },
          namespaceWide,
        ),
      (error: unknown) => error instanceof AadstsError && error.code === 700212,
    );
  });

  test("an expression may test any claim of the token", () => {
    const byClaim: FederatedIdentity = {
      ...namespaceWide,
      credentials: [
        {
          ...(namespaceWide.credentials[0] as FederatedIdentity["credentials"][number]),
          claimsMatchingExpression: parseClaimsExpression("claims['team'] eq 'a'"),
        },
      ],
    };
    assert.equal(matchFederatedCredential({ iss: ISSUER, sub: "x", aud, team: "a" }, byClaim).name, "team-a");
    assert.throws(() => matchFederatedCredential({ iss: ISSUER, sub: "x", aud, team: "b" }, byClaim));
  });
});
