// When the issuer's documents cannot be fetched (AADSTS90061) or used (AADSTS900612), the client gets Entra's
// terse error and the operator gets the cause in the server's log and the sign-in record — URL, status, content
// type — and never the token that was presented.

import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { after, before, describe, test } from "node:test";
import { AadstsError } from "../../../src/identity/exchange/aadsts-errors.ts";
import type { IssuerKeySource } from "../../../src/identity/exchange/issuer-metadata.ts";
import { AUDIENCE, CLUSTER_ISSUER, postForm, type StsApp, SUBJECT, startStsApp, v2Form } from "./sts-app.ts";

const CAUSE =
  "https://oidc.cluster.test/3f2a9c1e/openid/v1/jwks: HTTP 406 (text/plain; charset=utf-8); only 200 is accepted and redirects are not followed";

/** A well-formed assertion for the fixture's credential; its signature is never reached. */
function assertion(): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: CLUSTER_ISSUER, sub: SUBJECT, aud: [AUDIENCE], iat: now, nbf: now, exp: now + 3600 };
  return `${part({ alg: "RS256", kid: "cluster-key" })}.${part(claims)}.${"s".repeat(342)}`;
}

describe("issuer failures are explained in the server's log", () => {
  let sts: StsApp;
  let failure: AadstsError;
  const lines: Record<string, unknown>[] = [];
  const logStream = new PassThrough();
  logStream.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) lines.push(JSON.parse(line));
  });
  const issuerKeys: IssuerKeySource = {
    getKey: async () => {
      throw failure;
    },
  };

  before(async () => {
    sts = await startStsApp({ issuerKeys, logStream });
  });
  after(() => sts.close());

  for (const code of [90061, 900612] as const) {
    test(`AADSTS${code}: the cause is logged as a warning, the assertion is not`, async () => {
      lines.length = 0;
      failure = new AadstsError(code, {}, { cause: new Error(CAUSE) });
      const token = assertion();
      const response = await postForm(
        sts.app,
        `/${sts.tenant.tenantId}/oauth2/v2.0/token`,
        v2Form(sts.identity.clientId, { client_assertion: token }),
      );
      assert.equal(response.statusCode, 400);
      assert.deepEqual(response.json().error_codes, [code]);
      assert.ok(!response.body.includes("HTTP 406"), "the client's body does not carry the cause");
      await new Promise((resolve) => setImmediate(resolve));
      const warning = lines.find((line) => line.msg === "issuer metadata unavailable");
      assert.ok(warning, `no warning among ${JSON.stringify(lines)}`);
      assert.equal(warning.level, 40);
      assert.equal(warning.aadsts, code);
      assert.equal(warning.cause, CAUSE);
      const [record] = await sts.signIns.list({ limit: 1 });
      assert.equal(record?.errorCode, code);
      assert.equal(record?.cause, CAUSE, "the sign-in record carries the cause too");
      const [header = "", payload = ""] = token.split(".");
      assert.ok(!JSON.stringify(record).includes(payload), "the sign-in record does not carry the assertion");
      for (const line of lines) {
        const text = JSON.stringify(line);
        assert.ok(!text.includes(payload) && !text.includes(header), "no log line carries the assertion");
      }
    });
  }

  test("a client error such as a bad signature is not logged as an issuer failure", async () => {
    lines.length = 0;
    failure = new AadstsError(700027);
    await postForm(
      sts.app,
      `/${sts.tenant.tenantId}/oauth2/v2.0/token`,
      v2Form(sts.identity.clientId, { client_assertion: assertion() }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(lines.filter((line) => line.msg === "issuer metadata unavailable").length, 0);
  });
});
