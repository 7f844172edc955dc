// The sign-in log over the management API: admin only, filters checked with ARM errors, times in ISO 8601.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { SignInRecord } from "../../src/store/store.ts";
import { API, assertArmError, startManagement } from "./management-fixture.ts";

const IDENTITY =
  "/subscriptions/8d7c6b5a-0000-4000-8000-000000000001/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/api";

function record(overrides: Partial<SignInRecord>): SignInRecord {
  return {
    id: randomUUID(),
    time: Date.parse("2026-12-04T10:00:00Z"),
    tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47",
    errorCode: 0,
    correlationId: randomUUID(),
    traceId: randomUUID(),
    ...overrides,
  };
}

describe("sign-in routes", () => {
  let management: Awaited<ReturnType<typeof startManagement>>;
  before(async () => {
    management = await startManagement();
    const { signIns } = management;
    signIns.record({
      record: record({ clientId: "client-a" }),
      credentialId: `${IDENTITY}/federatedIdentityCredentials/ci`,
    });
    signIns.record({
      record: record({ clientId: "client-a", errorCode: 700213, time: Date.parse("2026-12-04T11:00:00Z") }),
    });
    signIns.record({
      record: record({ clientId: "client-b", errorCode: 700016, time: Date.parse("2026-12-04T12:00:00Z") }),
    });
  });
  after(() => management.app.close());

  test("lists records newest first with ISO times", async () => {
    const response = await management.call("GET", "/wikit/signIns");
    assert.equal(response.statusCode, 200, response.body);
    const { value } = response.json();
    assert.deepEqual(
      value.map((entry: { createdDateTime: string }) => entry.createdDateTime),
      ["2026-12-04T12:00:00.000Z", "2026-12-04T11:00:00.000Z", "2026-12-04T10:00:00.000Z"],
    );
    assert.equal(value[0].time, undefined);
  });

  test("filters combine: failed, client ID, since, top", async () => {
    const codes = async (query: string) =>
      (await management.call("GET", `/wikit/signIns?${query}&${API}`))
        .json()
        .value.map((entry: { errorCode: number }) => entry.errorCode);
    assert.deepEqual(await codes("failed=true"), [700016, 700213]);
    assert.deepEqual(await codes("clientId=CLIENT-A"), [700213, 0]);
    assert.deepEqual(await codes("since=2026-12-04T10:30:00Z"), [700016, 700213]);
    assert.deepEqual(await codes("top=1"), [700016]);
  });

  for (const [query, message] of [
    ["failed=yes", /failed must be true or false/],
    ["since=10m", /since must be an ISO 8601 time/],
    ["top=0", /top must be a whole number from 1 to 10000/],
    ["top=1e3", /top must be a whole number/],
  ] as const) {
    test(`a bad filter (${query}) is a 400 InvalidParameter that says what it takes`, async () => {
      const error = assertArmError(
        await management.call("GET", `/wikit/signIns?${query}&${API}`),
        400,
        "InvalidParameter",
      );
      assert.match(error.message, message);
    });
  }

  test("credential activity: sign-ins and the last one, per credential of an identity", async () => {
    const response = await management.call(
      "GET",
      `/wikit/signInActivity?identityId=${encodeURIComponent(IDENTITY)}&${API}`,
    );
    assert.deepEqual(response.json(), {
      value: [
        {
          credentialId: `${IDENTITY}/federatedIdentityCredentials/ci`,
          signIns: 1,
          lastSignInDateTime: "2026-12-04T10:00:00.000Z",
        },
      ],
    });
    assertArmError(await management.call("GET", "/wikit/signInActivity"), 400, "InvalidParameter");
  });

  test("without the admin token the log is not shown", async () => {
    const response = await management.app.inject({ method: "GET", url: `/wikit/signIns?${API}` });
    assert.equal(response.statusCode, 401);
  });
});
