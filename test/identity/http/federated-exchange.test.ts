// The whole federated exchange through the token route with the real assertion validator: a service-account
// token signed by a cluster key ring goes in as client_assertion, the validator checks it against the identity's
// federated credential (keys from an in-memory issuer key source), and the access token that comes out verifies
// against the STS's own published keys.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { createLocalJWKSet, jwtVerify } from "jose";
import {
  type ServiceAccountTokenRequest,
  serviceAccountTokenClaims,
  signServiceAccountToken,
} from "../../../src/cluster/tokens/service-account-token.ts";
import { SigningKeyRing } from "../../../src/signing-keys/key-ring.ts";
import { SqliteStore } from "../../../src/store/sqlite-store.ts";
import {
  AUDIENCE,
  CLUSTER_ISSUER,
  getJson,
  IDENTITY_NAME,
  postForm,
  RESOURCE_GROUP,
  ringKeySource,
  type StsApp,
  startStsApp,
  v1Form,
  v2Form,
} from "./sts-app.ts";

describe("federated exchange with the real assertion validator", () => {
  const clusterStore = new SqliteStore(":memory:");
  let cluster: SigningKeyRing;
  let stranger: SigningKeyRing;
  let keySource: ReturnType<typeof ringKeySource>;
  let sts: StsApp;
  let v2: string;

  const serviceAccountToken = (overrides: Partial<ServiceAccountTokenRequest> = {}, ring = cluster) =>
    signServiceAccountToken(
      serviceAccountTokenClaims({
        issuer: CLUSTER_ISSUER,
        namespace: "payments",
        serviceAccount: { name: "api", uid: randomUUID() },
        pod: { name: "api-7d9f8", uid: randomUUID() },
        audiences: [AUDIENCE],
        expirationSeconds: 3600,
        ...overrides,
      }),
      ring.active,
    );

  before(async () => {
    cluster = await SigningKeyRing.open(clusterStore, "cluster:test");
    stranger = await SigningKeyRing.open(clusterStore, "cluster:stranger");
    keySource = ringKeySource(CLUSTER_ISSUER, cluster);
    sts = await startStsApp({ issuerKeys: keySource });
    v2 = `/${sts.tenant.tenantId}/oauth2/v2.0/token`;
  });
  after(async () => {
    await sts.close();
    await clusterStore.close();
  });

  test("a projected service-account token is exchanged for an access token that verifies against the STS keys", async () => {
    const assertion = await serviceAccountToken();
    const response = await postForm(
      sts.app,
      v2,
      v2Form(sts.identity.clientId, { client_assertion: assertion }),
    );
    assert.equal(response.statusCode, 200, response.body);
    const jwks = createLocalJWKSet((await getJson(sts.app, "/common/discovery/keys")).json());
    const { payload, protectedHeader } = await jwtVerify(response.json().access_token, jwks, {
      algorithms: ["RS256"],
      issuer: `https://sts.windows.net/${sts.tenant.tenantId}/`,
      audience: "https://vault.azure.net",
    });
    assert.equal(protectedHeader.kid, sts.keys.active.kid);
    assert.equal(payload.appid, sts.identity.clientId);
    assert.equal(payload.oid, sts.identity.principalId);
    assert.equal(payload.sub, sts.identity.principalId);
    assert.match(
      String(payload.xms_mirid),
      new RegExp(
        `/resourcegroups/${RESOURCE_GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${IDENTITY_NAME}$`,
      ),
    );
    assert.deepEqual(keySource.fetches.at(-1), CLUSTER_ISSUER);
  });

  test("the v1 endpoint exchanges the same token", async () => {
    const response = await postForm(
      sts.app,
      `/${sts.tenant.tenantId}/oauth2/token`,
      v1Form(sts.identity.clientId, { client_assertion: await serviceAccountToken() }),
    );
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().resource, "https://vault.azure.net");
  });

  test("a token file sent verbatim with a trailing newline is accepted (whitespace around the assertion is trimmed)", async () => {
    const assertion = `${await serviceAccountToken()}\n`;
    const response = await postForm(
      sts.app,
      v2,
      v2Form(sts.identity.clientId, { client_assertion: assertion }),
    );
    assert.equal(response.statusCode, 200, response.body);
  });

  const refusals: Array<{
    name: string;
    token: () => Promise<string>;
    code: number;
  }> = [
    {
      name: "another service account (subject mismatch)",
      token: () => serviceAccountToken({ serviceAccount: { name: "billing", uid: randomUUID() } }),
      code: 700213,
    },
    {
      name: "another audience",
      token: () => serviceAccountToken({ audiences: ["https://kubernetes.default.svc"] }),
      code: 700212,
    },
    {
      name: "an issuer no credential trusts",
      token: () => serviceAccountToken({ issuer: "https://oidc.elsewhere.test/" }),
      code: 700211,
    },
    {
      name: "a key the issuer does not publish",
      token: () => serviceAccountToken({}, stranger),
      code: 7000272,
    },
    {
      name: "an expired token",
      token: () => serviceAccountToken({ issuedAt: Math.floor(Date.now() / 1000) - 3 * 3600 }),
      code: 700024,
    },
  ];
  for (const { name, token, code } of refusals) {
    test(`${name} → 401 invalid_client AADSTS${code}, no token`, async () => {
      const response = await postForm(
        sts.app,
        v2,
        v2Form(sts.identity.clientId, { client_assertion: await token() }),
      );
      assert.equal(response.statusCode, 401, response.body);
      const body = response.json();
      assert.equal(body.error, "invalid_client");
      assert.deepEqual(body.error_codes, [code]);
      assert.equal(body.access_token, undefined);
    });
  }

  test("a token for this identity is refused for an identity of another tenant", async () => {
    const response = await postForm(
      sts.app,
      `/${sts.foreign.tenantId}/oauth2/v2.0/token`,
      v2Form(sts.foreign.clientId, {
        client_assertion: await serviceAccountToken({
          serviceAccount: { name: "billing", uid: randomUUID() },
        }),
      }),
    );
    assert.equal(response.statusCode, 401);
    assert.deepEqual(response.json().error_codes, [700213]);
  });

  test("a malformed assertion → 400 invalid_request AADSTS50027", async () => {
    const response = await postForm(
      sts.app,
      v2,
      v2Form(sts.identity.clientId, { client_assertion: "not-a-jwt" }),
    );
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json().error_codes, [50027]);
  });
});
