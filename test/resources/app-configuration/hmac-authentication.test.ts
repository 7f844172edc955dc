import assert from "node:assert/strict";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import {
  ALLOWED_SKEW_MS,
  type SignedRequest,
  verifyHmacRequest,
} from "../../../src/resources/app-configuration/hmac-authentication.ts";

const SECRET = randomBytes(32);
const CREDENTIAL = "0-l0-s0:key1";
const NOW = Date.parse("2026-12-05T10:00:00Z");
const secretOf = (credential: string) => (credential === CREDENTIAL ? SECRET : undefined);

/** A request signed as the reference's samples sign it (and the SDKs: x-ms-date;host;x-ms-content-sha256). */
function signed(
  options: {
    method?: string;
    path?: string;
    body?: string;
    date?: number;
    secret?: Buffer;
    separator?: string;
  } = {},
): SignedRequest {
  const method = options.method ?? "GET";
  const pathAndQuery = options.path ?? "/kv?key=myapp%3A%2A&label=prd&api-version=2023-11-01";
  const body = Buffer.from(options.body ?? "");
  const date = new Date(options.date ?? NOW).toUTCString();
  const host = "settings.azconfig.localhost:8443";
  const contentHash = createHash("sha256").update(body).digest("base64");
  const signature = createHmac("sha256", options.secret ?? SECRET)
    .update(`${method}\n${pathAndQuery}\n${date};${host};${contentHash}`)
    .digest("base64");
  const separator = options.separator ?? "&";
  return {
    method,
    pathAndQuery,
    body,
    headers: {
      host,
      "x-ms-date": date,
      "x-ms-content-sha256": contentHash,
      authorization: `HMAC-SHA256 Credential=${CREDENTIAL}${separator}SignedHeaders=x-ms-date;host;x-ms-content-sha256${separator}Signature=${signature}`,
    },
  };
}

const descriptionOf = (request: SignedRequest, now = NOW) => {
  const outcome = verifyHmacRequest(request, secretOf, now);
  return outcome.ok ? "ok" : outcome.description;
};

describe("App Configuration HMAC authentication", () => {
  test("a request signed with the access key passes, with either parameter separator", () => {
    const outcome = verifyHmacRequest(signed(), secretOf, NOW);
    assert.equal(outcome.ok, true);
    assert.equal(outcome.ok && outcome.credential, CREDENTIAL);
    assert.match(outcome.ok ? outcome.signature : "", /^[A-Za-z0-9+/]{43}=$/);
    assert.equal(descriptionOf(signed({ separator: ", " })), "ok");
    assert.equal(
      descriptionOf(signed({ method: "PUT", path: "/kv/myapp%3Acolor?label=prd", body: '{"value":"blue"}' })),
      "ok",
    );
  });

  test("each failure gets the service's 401 with its error_description", () => {
    const request = signed({ method: "PUT", body: '{"value":"blue"}' });
    assert.equal(descriptionOf({ ...request, method: "DELETE" }), "Invalid Signature");
    assert.equal(descriptionOf(signed({ secret: randomBytes(32) })), "Invalid Signature");
    assert.equal(
      descriptionOf({ ...request, body: Buffer.from('{"value":"red"}') }),
      "The request body does not match x-ms-content-sha256",
    );
    assert.equal(
      descriptionOf(signed({ date: NOW - ALLOWED_SKEW_MS - 1000 })),
      "The access token has expired",
    );
    assert.equal(
      descriptionOf(signed({ date: NOW + ALLOWED_SKEW_MS + 1000 })),
      "The access token has expired",
    );
    assert.equal(descriptionOf(signed({ date: NOW - ALLOWED_SKEW_MS + 1000 })), "ok");
    const headers = signed().headers;
    assert.equal(
      descriptionOf({ ...signed(), headers: { ...headers, "x-ms-date": "yesterday" } }),
      "Invalid access token date",
    );
    assert.equal(
      descriptionOf({
        ...signed(),
        headers: { ...headers, authorization: headers.authorization?.replace(CREDENTIAL, "other") },
      }),
      "Invalid Credential",
    );
    assert.equal(
      descriptionOf({
        ...signed(),
        headers: { ...headers, authorization: "HMAC-SHA256 Credential=x&Signature=y" },
      }),
      "SignedHeaders is required",
    );
    assert.equal(
      descriptionOf({
        ...signed(),
        headers: {
          ...headers,
          authorization: "HMAC-SHA256 Credential=x&SignedHeaders=x-ms-date;host&Signature=y",
        },
      }),
      "x-ms-content-sha256 is required as a signed header",
    );
    const { "x-ms-date": _date, ...withoutDate } = headers;
    assert.equal(
      descriptionOf({ ...signed(), headers: withoutDate }),
      "Signed request header 'x-ms-date' is not provided",
    );
  });

  test("without the scheme the challenge is bare; with it, it carries invalid_token", () => {
    const bare = verifyHmacRequest(
      { ...signed(), headers: { ...signed().headers, authorization: "Bearer abc" } },
      secretOf,
      NOW,
    );
    assert.deepEqual(bare.ok ? undefined : bare.wwwAuthenticate, "HMAC-SHA256, Bearer");
    const expired = verifyHmacRequest(signed({ date: 0 }), secretOf, NOW);
    assert.equal(
      expired.ok ? undefined : expired.wwwAuthenticate,
      'HMAC-SHA256 error="invalid_token" error_description="The access token has expired", Bearer',
    );
  });
});
