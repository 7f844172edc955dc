// The CLI's HMAC signer for App Configuration requests, checked against the reference's string-to-sign and against
// the store's own verifier (an implementation of its own), and the connection strings it reads.

import assert from "node:assert/strict";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import fc from "fast-check";
import { hmacHeaders, parseConnectionString } from "../../src/cli/appconfig-hmac-signing.ts";
import { CliError } from "../../src/cli/cli-error.ts";
import { verifyHmacRequest } from "../../src/resources/app-configuration/hmac-authentication.ts";

const SECRET = randomBytes(32);
const KEY = { id: "Ab3-xyz_9", secret: SECRET.toString("base64") };
const NOW = new Date("2026-12-05T10:00:00Z");
const HOST = "settings.azconfig.localhost:8443";

describe("hmacHeaders", () => {
  test("signs METHOD, path and query, and x-ms-date;host;x-ms-content-sha256 as the reference's sample does", () => {
    const pathAndQuery = "/kv?key=myapp%3A%2A&label=prd&api-version=1.0";
    const headers = hmacHeaders({ method: "get", pathAndQuery, host: HOST, body: "" }, KEY, NOW);
    const date = "Sat, 05 Dec 2026 10:00:00 GMT";
    const emptyHash = createHash("sha256").update("").digest("base64");
    const expected = createHmac("sha256", SECRET)
      .update(`GET\n${pathAndQuery}\n${date};${HOST};${emptyHash}`)
      .digest("base64");
    assert.deepEqual(headers, {
      "x-ms-date": date,
      "x-ms-content-sha256": emptyHash,
      authorization: `HMAC-SHA256 Credential=${KEY.id}&SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${expected}`,
    });
  });

  test("a request ID is sent and signed after the required headers, so two identical requests differ", () => {
    const request = { method: "GET", pathAndQuery: "/kv/a?api-version=1.0", host: HOST, body: "" };
    const first = hmacHeaders({ ...request, requestId: "one" }, KEY, NOW);
    const second = hmacHeaders({ ...request, requestId: "two" }, KEY, NOW);
    assert.match(
      first.authorization ?? "",
      /SignedHeaders=x-ms-date;host;x-ms-content-sha256;x-ms-client-request-id&/,
    );
    assert.equal(first["x-ms-client-request-id"], "one");
    assert.notEqual(first.authorization, second.authorization);
  });

  test("the store's verifier accepts what the CLI signs, for any method, path, body and request ID", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("GET", "PUT", "DELETE", "POST"),
        fc.string(),
        fc.string(),
        fc.option(fc.uuid(), { nil: undefined }),
        (method, key, body, requestId) => {
          const pathAndQuery = `/kv/${encodeURIComponent(key)}?api-version=1.0`;
          const headers = hmacHeaders({ method, pathAndQuery, host: HOST, body, requestId }, KEY, NOW);
          const outcome = verifyHmacRequest(
            { method, pathAndQuery, headers: { ...headers, host: HOST }, body: Buffer.from(body) },
            (credential) => (credential === KEY.id ? SECRET : undefined),
            NOW.getTime(),
          );
          assert.deepEqual(outcome.ok, true, JSON.stringify(outcome));
        },
      ),
      { numRuns: 300 },
    );
  });

  test("a body changed after signing, or another key's secret, is refused by the verifier", () => {
    const pathAndQuery = "/kv/color?api-version=1.0";
    const headers = hmacHeaders(
      { method: "PUT", pathAndQuery, host: HOST, body: '{"value":"red"}' },
      KEY,
      NOW,
    );
    const verify = (body: string, secret: Buffer) =>
      verifyHmacRequest(
        { method: "PUT", pathAndQuery, headers: { ...headers, host: HOST }, body: Buffer.from(body) },
        () => secret,
        NOW.getTime(),
      );
    assert.equal(verify('{"value":"red"}', SECRET).ok, true);
    assert.equal(verify('{"value":"blue"}', SECRET).ok, false);
    assert.equal(verify('{"value":"red"}', randomBytes(32)).ok, false);
  });
});

describe("parseConnectionString", () => {
  const secret = "c2VjcmV0/+=";
  test("takes Endpoint, Id and Secret in any order and case, the secret's '=' padding kept", () => {
    for (const text of [
      `Endpoint=https://appcs.azconfig.localhost:8443;Id=k1;Secret=${secret}`,
      `secret=${secret};ENDPOINT=https://appcs.azconfig.localhost:8443;id=k1;`,
    ]) {
      const parsed = parseConnectionString(text);
      assert.equal(parsed.endpoint.origin, "https://appcs.azconfig.localhost:8443");
      assert.equal(parsed.id, "k1");
      assert.equal(parsed.secret, secret);
    }
  });

  test("a part missing, repeated or unknown, or an endpoint that is not https, is refused with the form it must have", () => {
    for (const text of [
      "",
      "Endpoint=https://appcs.azconfig.localhost;Id=k1",
      `Endpoint=https://appcs.azconfig.localhost;Id=k1;Id=k2;Secret=${secret}`,
      `Endpoint=https://appcs.azconfig.localhost;Id=k1;Secret=${secret};Extra=1`,
      `Endpoint=http://appcs.azconfig.localhost;Id=k1;Secret=${secret}`,
      `Endpoint=appcs;Id=k1;Secret=${secret}`,
    ]) {
      assert.throws(
        () => parseConnectionString(text),
        (error: unknown) =>
          error instanceof CliError &&
          /must read Endpoint=https:\/\/<store>.*;Id=<key ID>;Secret=<secret>/.test(error.message),
        text,
      );
    }
  });
});
