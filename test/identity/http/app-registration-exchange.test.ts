// Token exchange by an app registration, with the real assertion validator: the app's own federated credential,
// its service principal in the tenant asked (home or, for a multi-tenant app, another), and the errors Entra gives
// when the tenant, the app or its service principal is wrong.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { createLocalJWKSet, decodeJwt, jwtVerify } from "jose";
import {
  serviceAccountTokenClaims,
  signServiceAccountToken,
} from "../../../src/cluster/tokens/service-account-token.ts";
import { SigningKeyRing } from "../../../src/signing-keys/key-ring.ts";
import { SqliteStore } from "../../../src/store/sqlite-store.ts";
import {
  AUDIENCE,
  CLUSTER_ISSUER,
  postForm,
  ringKeySource,
  type StsApp,
  startStsApp,
  v2Form,
} from "./sts-app.ts";

const SUBJECT = "system:serviceaccount:default:wi-demo-account";

describe("exchange by an app registration", () => {
  const clusterStore = new SqliteStore(":memory:");
  let cluster: SigningKeyRing;
  let sts: StsApp;
  let home: string;
  let other: string;
  let app: { id: string; appId: string };

  const assertion = async () =>
    signServiceAccountToken(
      serviceAccountTokenClaims({
        issuer: CLUSTER_ISSUER,
        namespace: "default",
        serviceAccount: { name: "wi-demo-account", uid: randomUUID() },
        audiences: [AUDIENCE],
        expirationSeconds: 3600,
      }),
      cluster.active,
    );
  const exchange = async (tenant: string, clientId = app.appId) =>
    postForm(
      sts.app,
      `/${tenant}/oauth2/v2.0/token`,
      v2Form(clientId, { client_assertion: await assertion() }),
    );
  const assertAadsts = (response: { statusCode: number; json(): unknown }, status: number, code: number) => {
    const body = response.json() as { error: string; error_codes: number[]; error_description: string };
    assert.equal(response.statusCode, status, body.error_description);
    assert.deepEqual(body.error_codes, [code], body.error_description);
    return body;
  };

  before(async () => {
    cluster = await SigningKeyRing.open(clusterStore, "cluster:test");
    sts = await startStsApp({ issuerKeys: ringKeySource(CLUSTER_ISSUER, cluster) });
    home = sts.tenant.tenantId;
    other = sts.foreign.tenantId;
    const created = await sts.directory.apps.createApplication(home, { displayName: "wi-demo" });
    app = { id: created.id, appId: String(created.appId) };
    await sts.directory.apps.putApplicationCredential(home, app.id, {
      name: "aks-wi-demo",
      issuer: CLUSTER_ISSUER,
      subject: SUBJECT,
      audiences: [AUDIENCE],
    });
  });
  after(async () => {
    await sts.close();
    await clusterStore.close();
  });

  test("without a service principal in its home tenant the app gets AADSTS7000229", async () => {
    const body = assertAadsts(await exchange(home), 401, 7000229);
    assert.match(
      body.error_description,
      new RegExp(`${app.appId} is missing service principal in the tenant ${home}`),
    );
  });

  test("through its service principal it gets a token whose oid is the service principal, with no xms_mirid", async () => {
    const servicePrincipal = await sts.directory.apps.createServicePrincipal(home, { appId: app.appId });
    const response = await exchange(home);
    assert.equal(response.statusCode, 200, response.body);
    const { access_token: token } = response.json() as { access_token: string };
    await jwtVerify(token, createLocalJWKSet({ keys: sts.keys.publicJwks() }));
    const claims = decodeJwt(token);
    assert.equal(claims.appid, app.appId);
    assert.equal(claims.oid, servicePrincipal.id);
    assert.equal(claims.sub, servicePrincipal.id);
    assert.equal(claims.tid, home);
    assert.equal(claims.xms_mirid, undefined);
  });

  test("a single-tenant app is unknown in another tenant: no service principal can be made there, and AADSTS700016", async () => {
    await assert.rejects(
      sts.directory.apps.createServicePrincipal(other, { appId: app.appId }),
      /single-tenant.*AzureADMultipleOrgs/,
    );
    const body = assertAadsts(await exchange(other), 400, 700016);
    assert.equal(body.error, "unauthorized_client");
  });

  test("a multi-tenant app signs in to another tenant through its service principal there: tid and oid are that tenant's", async () => {
    await sts.directory.apps.updateApplication(home, app.id, { signInAudience: "AzureADMultipleOrgs" });
    assertAadsts(await exchange(other), 400, 700016);
    const foreignPrincipal = await sts.directory.apps.createServicePrincipal(other, { appId: app.appId });
    const response = await exchange(other);
    assert.equal(response.statusCode, 200, response.body);
    const claims = decodeJwt((response.json() as { access_token: string }).access_token);
    assert.equal(claims.tid, other);
    assert.equal(claims.oid, foreignPrincipal.id);
    assert.equal(claims.iss, `https://sts.windows.net/${other}/`);
  });

  test("the credential is the application's: a subject it does not name gets AADSTS700213 in every tenant", async () => {
    await sts.directory.apps.putApplicationCredential(
      home,
      app.id,
      { subject: "system:serviceaccount:default:other" },
      "aks-wi-demo",
    );
    for (const tenant of [home, other]) assertAadsts(await exchange(tenant), 401, 700213);
    await sts.directory.apps.putApplicationCredential(home, app.id, { subject: SUBJECT }, "aks-wi-demo");
    assert.equal((await exchange(other)).statusCode, 200);
  });

  test("a disabled service principal gets AADSTS7000112 in its tenant only", async () => {
    const [principal] = (await sts.directory.apps.listServicePrincipals(other)).filter(
      (sp) => sp.appId === app.appId,
    );
    assert.ok(principal);
    await sts.directory.apps.updateServicePrincipal(other, principal.id, { accountEnabled: false });
    assertAadsts(await exchange(other), 400, 7000112);
    assert.equal((await exchange(home)).statusCode, 200);
    await sts.directory.apps.updateServicePrincipal(other, principal.id, { accountEnabled: true });
  });

  test("an unknown tenant is AADSTS90002; an unknown app AADSTS700016", async () => {
    assertAadsts(await exchange(randomUUID()), 400, 90002);
    assertAadsts(await exchange(home, randomUUID()), 400, 700016);
  });

  test("a credential named as azwi names it (a padded base64url hash) is accepted on an app, as Graph accepts it", async () => {
    const credential = await sts.directory.apps.putApplicationCredential(home, app.id, {
      name: "1sUs5TM-y3pfWUdKH8mrTcrWW7KnDERBF1z4t2li9c4=",
      issuer: CLUSTER_ISSUER,
      subject: "system:serviceaccount:default:azwi-sa",
      audiences: [AUDIENCE],
    });
    assert.equal(credential.name, "1sUs5TM-y3pfWUdKH8mrTcrWW7KnDERBF1z4t2li9c4=");
    await sts.directory.apps.deleteApplicationCredential(home, app.id, String(credential.name));
  });

  test("deleting the app deletes its home service principal; the app is then unknown everywhere", async () => {
    await sts.directory.apps.deleteApplication(home, app.id);
    assert.equal(
      (await sts.directory.apps.listServicePrincipals(home)).some((sp) => sp.appId === app.appId),
      false,
    );
    assertAadsts(await exchange(home), 400, 700016);
    assertAadsts(await exchange(other), 400, 700016);
  });
});
