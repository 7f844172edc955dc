// `--explain-errors`: a failed match says in the error description which field of the nearest credential differs;
// without it the description is Entra's alone, as a server that must not reveal its credentials answers.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CLUSTER_KID, clusterIssuerKeys, signedToken } from "./cluster-signer.ts";
import { AUDIENCE, CLUSTER_ISSUER, postForm, type StsApp, startStsApp, v2Form } from "./sts-app.ts";

function assertion(sub: string): string {
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: CLUSTER_ISSUER, sub, aud: [AUDIENCE], iat: now, nbf: now, exp: now + 3600 };
  return signedToken(JSON.stringify({ alg: "RS256", kid: CLUSTER_KID }), JSON.stringify(claims));
}

describe("explained exchange errors", () => {
  let explaining: StsApp;
  let quiet: StsApp;
  before(async () => {
    explaining = await startStsApp({ issuerKeys: clusterIssuerKeys(), explainErrors: true });
    quiet = await startStsApp({ issuerKeys: clusterIssuerKeys() });
  });
  after(async () => {
    await explaining.close();
    await quiet.close();
  });

  const descriptionLines = async (sts: StsApp, sub: string) => {
    const response = await postForm(
      sts.app,
      `/${sts.tenant.tenantId}/oauth2/v2.0/token`,
      v2Form(sts.identity.clientId, { client_assertion: assertion(sub) }),
    );
    assert.equal(response.statusCode, 401, response.body);
    return String(response.json().error_description).split("\r\n");
  };

  test("with explanations, the line after Entra's names the nearest credential and the differing account", async () => {
    const lines = await descriptionLines(explaining, "system:serviceaccount:payments:web");
    assert.match(lines[0] ?? "", /^AADSTS700213: /);
    assert.equal(
      lines[1],
      "wikit: the nearest federated credential, 'payments-cluster', differs in subject: service account 'web' in the token, 'api' in the credential.",
    );
    assert.match(lines[2] ?? "", /^Trace ID: /);
  });

  test("without, the description is Entra's four lines", async () => {
    const lines = await descriptionLines(quiet, "system:serviceaccount:payments:web");
    assert.equal(lines.length, 4);
    assert.match(lines[1] ?? "", /^Trace ID: /);
  });
});

describe("the nearest credential, once the issuer is trusted", () => {
  test("is one that trusts the token's issuer, not one of another issuer that happens to name the subject", async () => {
    const sts = await startStsApp({ issuerKeys: clusterIssuerKeys(), explainErrors: true });
    try {
      // Listed first, and as near by count: it differs in the issuer alone.
      await sts.directory.identities.putFederatedCredential(sts.identity.resourceId, "a-other-cluster", {
        properties: {
          issuer: "https://oidc.other-cluster.test/",
          subject: "system:serviceaccount:payments:web",
          audiences: [AUDIENCE],
        },
      });
      const response = await postForm(
        sts.app,
        `/${sts.tenant.tenantId}/oauth2/v2.0/token`,
        v2Form(sts.identity.clientId, { client_assertion: assertion("system:serviceaccount:payments:web") }),
      );
      const lines = String(response.json().error_description).split("\r\n");
      assert.match(lines[0] ?? "", /^AADSTS700213: /);
      assert.equal(
        lines[1],
        "wikit: the nearest federated credential, 'payments-cluster', differs in subject: service account 'web' in the token, 'api' in the credential.",
      );
    } finally {
      await sts.close();
    }
  });
});
