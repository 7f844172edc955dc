// A flexible federated credential end to end: one credential whose claims-matching expression covers a namespace
// lets every service account of that namespace exchange its token, and no other — the way around the limit of
// 20 credentials per identity.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CLUSTER_KID, clusterIssuerKeys, signedToken } from "./cluster-signer.ts";
import {
  AUDIENCE,
  CLUSTER_ISSUER,
  postForm,
  RESOURCE_GROUP,
  type StsApp,
  startStsApp,
  v2Form,
} from "./sts-app.ts";

describe("exchange with a claims-matching credential", () => {
  let sts: StsApp;
  let clientId: string;

  before(async () => {
    sts = await startStsApp({ issuerKeys: clusterIssuerKeys() });
    const subscription = sts.identity.resourceId.split("/")[2] ?? "";
    const identity = await sts.directory.identities.put(subscription, RESOURCE_GROUP, "team-a-workloads", {});
    await sts.directory.identities.putFederatedCredential(identity.id, "team-a-namespace", {
      properties: {
        issuer: CLUSTER_ISSUER,
        claimsMatchingExpression: {
          value: "claims['sub'] matches 'system:serviceaccount:team-a:*'",
          languageVersion: 1,
        },
        audiences: [AUDIENCE],
      },
    });
    clientId = String(identity.properties.clientId);
  });
  after(() => sts.close());

  const exchange = (subject: string) => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: CLUSTER_ISSUER,
      sub: subject,
      aud: [AUDIENCE],
      iat: now,
      nbf: now,
      exp: now + 3600,
    };
    const assertion = signedToken(JSON.stringify({ alg: "RS256", kid: CLUSTER_KID }), JSON.stringify(claims));
    return postForm(
      sts.app,
      `/${sts.tenant.tenantId}/oauth2/v2.0/token`,
      v2Form(clientId, { client_assertion: assertion }),
    );
  };

  test("every service account of the namespace gets a token", async () => {
    for (const account of ["api", "worker", "nightly-report"]) {
      const response = await exchange(`system:serviceaccount:team-a:${account}`);
      assert.equal(response.statusCode, 200, response.body);
    }
  });

  test("a service account of another namespace is refused with AADSTS700213", async () => {
    const response = await exchange("system:serviceaccount:team-b:api");
    assert.equal(response.statusCode, 401, response.body);
    assert.deepEqual(response.json().error_codes, [700213]);
  });
});
