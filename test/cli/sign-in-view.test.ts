// How the CLI shows sign-ins: --since, the table, and the one line `wikit run` prints for a failed exchange.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseSince, runHint, type SignInView, signInRows } from "../../src/cli/sign-in-view.ts";

const IDENTITY =
  "/subscriptions/8d7c6b5a-0000-4000-8000-000000000001/resourceGroups/rg-apps/providers/Microsoft.ManagedIdentity/userAssignedIdentities/payments";
const ISSUER = "https://localhost:8443/oidc/5c41add9-338b-4e08-9ef2-1f99dd02f9db/";

function view(overrides: Partial<SignInView>): SignInView {
  return {
    createdDateTime: "2026-12-04T10:00:00.000Z",
    tenant: "7a1e5c00-0000-4000-8000-00000000000f",
    clientId: "c0ffee00-0000-4000-8000-000000000001",
    identityId: IDENTITY,
    issuer: ISSUER,
    subject: "system:serviceaccount:team-a:api",
    audiences: ["api://AzureADTokenExchange"],
    errorCode: 0,
    ...overrides,
  };
}

describe("--since", () => {
  const now = Date.parse("2026-12-04T10:00:00Z");
  for (const [text, iso] of [
    ["30s", "2026-12-04T09:59:30.000Z"],
    ["10m", "2026-12-04T09:50:00.000Z"],
    ["2h", "2026-12-04T08:00:00.000Z"],
    ["7d", "2026-11-27T10:00:00.000Z"],
    ["2026-12-01T08:00:00Z", "2026-12-01T08:00:00.000Z"],
  ] as const) {
    test(`'${text}' is ${iso}`, () => assert.equal(parseSince(text, now), iso));
  }
  for (const text of ["10", "10 minutes", "yesterday", "-5m", ""]) {
    test(`'${text}' is refused with the forms it takes`, () =>
      assert.throws(() => parseSince(text, now), /--since takes a duration such as 30s, 10m/));
  }
});

describe("the sign-in table", () => {
  test("a success shows the credential and resource; a failure its code, nearest credential and explanation", () => {
    const rows = signInRows([
      view({ credential: "team-a", resource: "https://vault.azure.net" }),
      view({
        errorCode: 700213,
        nearestCredential: "team-a",
        explanation:
          "wikit: the nearest federated credential, 'team-a', differs in subject: namespace 'team-b' in the token, 'team-a' in the credential.",
      }),
      view({
        errorCode: 90061,
        failureReason: "AADSTS90061: Request to External OIDC endpoint failed. More text.",
        cause: "HTTP 406",
      }),
    ]);
    assert.equal(rows[0]?.Result, "Success");
    assert.equal(rows[0]?.Credential, "team-a");
    assert.equal(rows[0]?.Detail, "https://vault.azure.net");
    assert.equal(rows[1]?.Result, "AADSTS700213");
    assert.equal(rows[1]?.Credential, "(nearest: team-a)");
    assert.match(rows[1]?.Detail ?? "", /^the nearest federated credential, 'team-a', differs in subject/);
    assert.equal(rows[2]?.Detail, "Request to External OIDC endpoint failed. (HTTP 406)");
    assert.match(rows[0]?.Time ?? "", /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  });
});

describe("wikit run's hint", () => {
  test("a subject mismatch: what differs and a credential for exactly this token, beside the others", () => {
    assert.equal(
      runHint(
        view({
          errorCode: 700213,
          explanation:
            "wikit: the nearest federated credential, 'team-a', differs in subject: namespace 'team-b' in the token, 'team-a' in the credential.",
          subject: "system:serviceaccount:team-b:api",
        }),
      ),
      `wikit run: sign-in failed with AADSTS700213: the nearest federated credential, 'team-a', differs in subject: namespace 'team-b' in the token, 'team-a' in the credential. Fix: wikit identity federated-credential create -g rg-apps --identity-name payments -n team-b-api --issuer ${ISSUER} --subject system:serviceaccount:team-b:api`,
    );
  });

  test("an audience other than the default is carried into the fix; odd text is quoted for the shell", () => {
    const hint = runHint(
      view({
        errorCode: 700212,
        failureReason:
          "AADSTS700212: No matching federated identity record found for presented assertion audience 'x y'. Please check.",
        audiences: ["x y"],
        subject: "repo:org/app:ref:refs/heads/main",
      }),
    );
    assert.match(
      hint,
      /^wikit run: sign-in failed with AADSTS700212: No matching federated identity record found for presented assertion audience 'x y'\. Fix: /,
    );
    assert.match(hint, / -n wikit-run .*--subject repo:org\/app:ref:refs\/heads\/main --audiences 'x y'$/);
  });

  test("an unknown client ID says which and how to find the right one", () => {
    assert.match(
      runHint(view({ errorCode: 700016, identityId: undefined })),
      /AADSTS700016: nothing in tenant '7a1e5c00-0000-4000-8000-00000000000f' signs in with client ID 'c0ffee00-0000-4000-8000-000000000001' \(no identity there, nor an app with a service principal there\)\. Fix: find it with `wikit identity list`/,
    );
  });

  test("an app registration without a service principal at home is told to make one", () => {
    assert.match(
      runHint(view({ errorCode: 7000229, identityId: undefined })),
      /AADSTS7000229: the app has no service principal in its tenant\. Fix: wikit ad sp create --id c0ffee00-0000-4000-8000-000000000001$/,
    );
  });

  test("an app registration's failed match is fixed with a credential on the app, as --parameters JSON", () => {
    const hint = runHint(
      view({
        errorCode: 700213,
        identityId:
          "/tenants/7a1e5c00-0000-4000-8000-00000000000f/applications/0a0b0c0d-0000-4000-8000-000000000002",
      }),
    );
    assert.match(
      hint,
      /Fix: wikit ad app federated-credential create --id 0a0b0c0d-0000-4000-8000-000000000002 --parameters '/,
    );
    const parameters = JSON.parse(/--parameters '(.*)'$/.exec(hint)?.[1] ?? "{}");
    assert.deepEqual(parameters, {
      name: "team-a-api",
      issuer: ISSUER,
      subject: "system:serviceaccount:team-a:api",
      audiences: ["api://AzureADTokenExchange"],
    });
  });

  test("a client secret sent instead of the token says which variable to unset", () => {
    assert.match(
      runHint(view({ errorCode: 7000215, subject: undefined, issuer: undefined })),
      /^wikit run: sign-in failed with AADSTS7000215: the command sent a client secret, not its service-account token\. Fix: unset AZURE_CLIENT_SECRET/,
    );
  });

  test("an issuer failure names the cause", () => {
    assert.equal(
      runHint(
        view({
          errorCode: 90061,
          failureReason: "AADSTS90061: Request to External OIDC endpoint failed. Trace.",
          cause: "https://issuer.example/openid/v1/jwks: HTTP 406",
        }),
      ),
      "wikit run: sign-in failed with AADSTS90061: Request to External OIDC endpoint failed. Cause: https://issuer.example/openid/v1/jwks: HTTP 406",
    );
  });
});
