// Every token request leaves a sign-in record: who asked, the claims the assertion presented, the result, and
// for a failure the AADSTS code, the nearest credential and how it differs, whatever `--explain-errors` says.
// The record never holds the assertion, and it carries the IDs the client's error body shows.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { federatedCredentialId } from "../../../src/names/arm-resource-ids.ts";
import { CLUSTER_KID, clusterIssuerKeys, signedToken } from "./cluster-signer.ts";
import { AUDIENCE, CLUSTER_ISSUER, postForm, type StsApp, SUBJECT, startStsApp, v2Form } from "./sts-app.ts";

function assertion(sub: string, aud: string | string[] = [AUDIENCE]): string {
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: CLUSTER_ISSUER, sub, aud, iat: now, nbf: now, exp: now + 3600 };
  return signedToken(JSON.stringify({ alg: "RS256", kid: CLUSTER_KID }), JSON.stringify(claims));
}

describe("sign-in records", () => {
  let sts: StsApp;
  before(async () => {
    // As a server runs: no explanations in error bodies, yet the record explains.
    sts = await startStsApp({ issuerKeys: clusterIssuerKeys(), explainErrors: false });
  });
  after(() => sts.close());

  const exchange = (clientId: string, token: string, headers: Record<string, string> = {}) =>
    postForm(
      sts.app,
      `/${sts.tenant.tenantId}/oauth2/v2.0/token`,
      v2Form(clientId, { client_assertion: token }),
      headers,
    );
  const latest = async () => {
    const [record] = await sts.signIns.list({ limit: 1 });
    assert.ok(record, "a sign-in was recorded");
    return record;
  };

  test("a successful exchange records tenant, client, identity, presented claims, resource and credential", async () => {
    const response = await exchange(sts.identity.clientId, assertion(SUBJECT), {
      "client-request-id": "0c4d9a4e-6a53-4a6e-9a49-3f5b2f0d7c11",
    });
    assert.equal(response.statusCode, 200, response.body);
    const record = await latest();
    assert.equal(record.errorCode, 0);
    assert.equal(record.tenant, sts.tenant.tenantId);
    assert.equal(record.clientId, sts.identity.clientId);
    assert.equal(record.identityId, sts.identity.resourceId);
    assert.equal(record.issuer, CLUSTER_ISSUER);
    assert.equal(record.subject, SUBJECT);
    assert.deepEqual(record.audiences, [AUDIENCE]);
    assert.equal(record.resource, "https://vault.azure.net");
    assert.equal(record.credential, "payments-cluster");
    assert.equal(record.correlationId, "0c4d9a4e-6a53-4a6e-9a49-3f5b2f0d7c11");
    assert.equal(record.failureReason, undefined);
    assert.ok(Math.abs(record.time - Date.now()) < 60_000);
  });

  test("a subject mismatch records the code, the nearest credential and how it differs, with explanations off", async () => {
    const response = await exchange(sts.identity.clientId, assertion("system:serviceaccount:payments:web"));
    assert.equal(response.statusCode, 401);
    const body = response.json();
    assert.ok(!String(body.error_description).includes("nearest"), "the client is told nothing more");
    const record = await latest();
    assert.equal(record.errorCode, 700213);
    assert.match(record.failureReason ?? "", /^AADSTS700213: /);
    assert.equal(record.subject, "system:serviceaccount:payments:web");
    assert.equal(record.credential, undefined);
    assert.equal(record.nearestCredential, "payments-cluster");
    assert.equal(
      record.explanation,
      "wikit: the nearest federated credential, 'payments-cluster', differs in subject: service account 'web' in the token, 'api' in the credential.",
    );
    assert.equal(record.traceId, body.trace_id, "the record is found by the trace ID the client saw");
    assert.equal(record.correlationId, body.correlation_id);
  });

  test("an unknown client ID is recorded with the client ID and no identity", async () => {
    const response = await exchange("6f1b8a52-4a0c-4a51-8d7e-7f0e9a1b2c3d", assertion(SUBJECT));
    assert.equal(response.statusCode, 400);
    const record = await latest();
    assert.equal(record.errorCode, 700016);
    assert.equal(record.clientId, "6f1b8a52-4a0c-4a51-8d7e-7f0e9a1b2c3d");
    assert.equal(record.identityId, undefined);
    assert.equal(record.subject, SUBJECT, "the presented claims are kept even when unverified");
  });

  test("no record holds the assertion", async () => {
    const token = assertion(SUBJECT);
    await exchange(sts.identity.clientId, token);
    await exchange(sts.identity.clientId, `${token}x`);
    const [, payload = "", signature = ""] = token.split(".");
    const text = JSON.stringify(await sts.signIns.list({}));
    assert.ok(!text.includes(payload) && !text.includes(signature));
  });

  test("caller-chosen text is cut to 512 characters in the record", async () => {
    const clientId = "c".repeat(10_000);
    await exchange(clientId, assertion(`system:serviceaccount:${"n".repeat(5_000)}:api`));
    const record = await latest();
    assert.equal(record.clientId?.length, 513);
    assert.ok(record.clientId?.endsWith("…"));
    assert.equal(record.subject?.length, 513);
  });

  test("a request that is not a form is recorded with its tenant and code", async () => {
    await sts.app.inject({
      method: "POST",
      url: `/${sts.tenant.tenantId}/oauth2/v2.0/token`,
      headers: { "content-type": "application/json" },
      payload: "{}",
    });
    const record = await latest();
    assert.equal(record.errorCode, 900144);
    assert.equal(record.tenant, sts.tenant.tenantId);
  });

  test("each success counts against its credential, failures do not", async () => {
    const credentialId = federatedCredentialId(sts.identity.resourceId, "payments-cluster");
    const usageBefore = await sts.signIns.credentialUsage(sts.identity.resourceId);
    const before = usageBefore.find((usage) => usage.credentialId === credentialId)?.signIns ?? 0;
    await exchange(sts.identity.clientId, assertion(SUBJECT));
    await exchange(sts.identity.clientId, assertion(SUBJECT));
    await exchange(sts.identity.clientId, assertion("system:serviceaccount:payments:web"));
    const [usage] = await sts.signIns.credentialUsage(sts.identity.resourceId);
    assert.equal(usage?.credentialId, credentialId);
    assert.equal(usage?.signIns, before + 2);
    assert.ok(Math.abs((usage?.lastSignIn ?? 0) - Date.now()) < 60_000);
  });

  test("filters: failed only, by client ID (any case), since a time", async () => {
    const start = Date.now();
    await exchange(sts.identity.clientId, assertion(SUBJECT));
    await exchange(sts.identity.clientId, assertion("system:serviceaccount:payments:web"));
    await exchange(sts.foreign.clientId, assertion(SUBJECT));
    const mine = await sts.signIns.list({ since: start, clientId: sts.identity.clientId.toUpperCase() });
    assert.deepEqual(
      mine.map((record) => record.errorCode),
      [700213, 0],
      "newest first",
    );
    const failed = await sts.signIns.list({ since: start, failedOnly: true });
    assert.deepEqual(
      failed.map((record) => record.errorCode),
      [700016, 700213],
      "the foreign identity is unknown in this tenant",
    );
  });
});

describe("a fault of the token service", () => {
  test("is answered in Entra's shape with AADSTS50000 and recorded", async () => {
    const sts = await startStsApp();
    try {
      sts.rejectWith = new Error("the store is unavailable");
      const response = await postForm(
        sts.app,
        `/${sts.tenant.tenantId}/oauth2/v2.0/token`,
        v2Form(sts.identity.clientId, { client_assertion: "a.b.c" }),
      );
      assert.equal(response.statusCode, 500);
      const body = response.json();
      assert.equal(body.error, "server_error");
      assert.deepEqual(body.error_codes, [50000]);
      assert.match(body.error_description, /^AADSTS50000: /);
      assert.ok(!response.body.includes("the store is unavailable"), "internals stay in the server's log");
      const [record] = await sts.signIns.list({ limit: 1 });
      assert.equal(record?.errorCode, 50000);
      assert.equal(record?.cause, "the store is unavailable", "the operator sees the cause");
    } finally {
      await sts.close();
    }
  });
});
