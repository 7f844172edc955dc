import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AADSTS_CATALOGUE,
  AadstsError,
  entraInstant,
  entraTimestamp,
  tokenErrorBody,
} from "../../../src/identity/exchange/aadsts-errors.ts";

// Every code in reference/entra.md §6.
const DOCUMENTED_CODES = [
  70021, 700211, 700212, 700213, 7002138, 70025, 700024, 5002738, 5002723, 7000272, 700027, 50013, 900612,
  90061, 50027, 90014, 700016, 90002, 900023, 7000215, 7000218, 700021, 900144, 901002, 1002012, 70011,
  500011, 70003, 50049, 700229, 50000, 7000229, 7000112,
  // Beyond §6: Entra's answer to a passing outage, which `wikit serve` gives while its database restarts.
  90033,
];

describe("AADSTS catalogue", () => {
  test("holds every documented code, and nothing else", () => {
    assert.deepEqual(Object.keys(AADSTS_CATALOGUE).map(Number).sort(), [...DOCUMENTED_CODES].sort());
  });

  test("invalid_client is always 401, the service's own fault 500, an outage 503 and every other error 400, as clients expect", () => {
    const statusOf = { invalid_client: 401, server_error: 500, temporarily_unavailable: 503 } as Record<
      string,
      number
    >;
    for (const [code, entry] of Object.entries(AADSTS_CATALOGUE)) {
      assert.equal(entry.status, statusOf[entry.error] ?? 400, `AADSTS${code}`);
    }
  });

  test("the FIC and assertion errors use the current invalid_client/401 form", () => {
    for (const code of [
      700211, 700212, 700213, 7002138, 70025, 700024, 5002738, 5002723, 7000272, 700027,
    ] as const) {
      assert.equal(AADSTS_CATALOGUE[code].error, "invalid_client", `AADSTS${code}`);
      assert.equal(AADSTS_CATALOGUE[code].status, 401, `AADSTS${code}`);
    }
  });

  test("request errors carry their OAuth error", () => {
    const cases: Array<[AadstsError, string]> = [
      [new AadstsError(900144, { name: "client_id" }), "invalid_request"],
      [new AadstsError(901002), "invalid_request"],
      [new AadstsError(1002012, { scope: "https://vault.azure.net" }), "invalid_scope"],
      [new AadstsError(70011, { scope: "/.default" }), "invalid_scope"],
      [new AadstsError(500011, { name: "https://unknown.example", tenant: "contoso" }), "invalid_resource"],
      [new AadstsError(700016, { clientId: "c", tenant: "t" }), "unauthorized_client"],
      [new AadstsError(70003, { grantType: "password" }), "unsupported_grant_type"],
      [new AadstsError(50049), "invalid_instance"],
      [new AadstsError(7000218), "invalid_client"],
    ];
    for (const [error, expected] of cases) assert.equal(error.error, expected, error.description);
  });

  test("substitutes the named values into the message", () => {
    const error = new AadstsError(900144, { name: "client_assertion" });
    assert.equal(
      error.description,
      "AADSTS900144: The request body must contain the following parameter: 'client_assertion'.",
    );
    assert.equal(
      new AadstsError(1002012, { scope: "https://vault.azure.net" }).description,
      "AADSTS1002012: The provided value for scope https://vault.azure.net is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
    );
  });

  test("is an Error whose message is the description and which keeps its cause", () => {
    const cause = new Error("connect ECONNREFUSED");
    const error = new AadstsError(90061, {}, { cause });
    assert.ok(error instanceof Error);
    assert.equal(error.name, "AadstsError");
    assert.equal(error.code, 90061);
    assert.equal(error.message, "AADSTS90061: Request to External OIDC endpoint failed.");
    assert.equal(error.cause, cause);
  });
});

describe("tokenErrorBody", () => {
  const context = {
    traceId: "0f9d1b9e-4a36-4e43-a0a5-2f1bb0d1a200",
    correlationId: "6a6c5c3e-3b86-4d3a-8d4e-9f3c2e1d0b7a",
    now: new Date("2024-01-01T00:00:00.123Z"),
  };

  test("reproduces Entra's error JSON exactly, members in order", () => {
    const error = new AadstsError(700211, { iss: "https://issuer.example/" });
    const body = tokenErrorBody(error, {
      ...context,
      errorUri: "https://sts.example.test/error?code=700211",
    });
    assert.equal(
      JSON.stringify(body),
      JSON.stringify({
        error: "invalid_client",
        error_description: `${error.description}\r\nTrace ID: ${context.traceId}\r\nCorrelation ID: ${context.correlationId}\r\nTimestamp: 2024-01-01 00:00:00Z`,
        error_codes: [700211],
        timestamp: "2024-01-01 00:00:00Z",
        trace_id: context.traceId,
        correlation_id: context.correlationId,
        error_uri: "https://sts.example.test/error?code=700211",
      }),
    );
  });

  test("omits error_uri when none is given, as real 90061 bodies do", () => {
    const body = tokenErrorBody(new AadstsError(90061), context);
    assert.equal("error_uri" in body, false);
    assert.equal(body.error, "invalid_request");
  });
});

describe("time formats", () => {
  test("timestamps are yyyy-MM-dd HH:mm:ssZ", () => {
    assert.equal(entraTimestamp(new Date("2025-07-09T08:07:06.999Z")), "2025-07-09 08:07:06Z");
  });

  test("instants carry seven fraction digits; the epoch prints as 1970-01-01T00:00:00.0000000Z", () => {
    assert.equal(entraInstant(0), "1970-01-01T00:00:00.0000000Z");
    assert.equal(entraInstant(Date.parse("2026-11-21T12:34:56.789Z")), "2026-11-21T12:34:56.7890000Z");
  });

  test("instants outside the printable calendar fall back to epoch seconds instead of throwing", () => {
    assert.equal(entraInstant(1e20), "100000000000000000");
  });
});
