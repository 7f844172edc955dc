// The sign-in log's own rules: records reach the store in batches yet every reader sees them, retention drops the
// oldest (by count and by age), a credential's usage outlives the records and goes with the credential, and a
// store that fails costs records, never an exchange.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { SignInLog } from "../../../src/identity/sign-ins/sign-in-log.ts";
import { SqliteStore } from "../../../src/store/sqlite-store.ts";
import type { SignInRecord, Store } from "../../../src/store/store.ts";

const IDENTITY =
  "/subscriptions/8d7c6b5a-0000-4000-8000-000000000001/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/api";
const CREDENTIAL = `${IDENTITY}/federatedIdentityCredentials/cluster`;

function record(overrides: Partial<SignInRecord> = {}): SignInRecord {
  return {
    id: randomUUID(),
    time: Date.now(),
    tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47",
    clientId: "c0ffee00-0000-4000-8000-000000000001",
    errorCode: 0,
    correlationId: randomUUID(),
    traceId: randomUUID(),
    ...overrides,
  };
}

describe("sign-in log", () => {
  test("a record is listed as soon as it is made, though written in a batch", async () => {
    const store = new SqliteStore(":memory:");
    const log = new SignInLog(store);
    log.record({ record: record({ subject: "system:serviceaccount:a:b" }) });
    assert.deepEqual(await store.listSignIns({}), [], "not yet written");
    const [listed] = await log.list({});
    assert.equal(listed?.subject, "system:serviceaccount:a:b");
    await store.close();
  });

  test("queued records are written within a fraction of a second without anyone asking", async () => {
    const store = new SqliteStore(":memory:");
    const log = new SignInLog(store);
    log.record({ record: record() });
    const deadline = Date.now() + 5_000;
    while ((await store.listSignIns({})).length === 0) {
      assert.ok(Date.now() < deadline, "the record was never written");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await store.close();
  });

  test("retention keeps the newest records up to the count", async () => {
    const store = new SqliteStore(":memory:");
    const log = new SignInLog(store, { retention: { maxRecords: 3, maxAgeMs: 3_600_000 } });
    for (let index = 0; index < 5; index++) log.record({ record: record({ clientId: `client-${index}` }) });
    const kept = await log.list({});
    assert.deepEqual(
      kept.map((kept) => kept.clientId),
      ["client-4", "client-3", "client-2"],
    );
    await store.close();
  });

  test("retention drops records older than the age", async () => {
    const store = new SqliteStore(":memory:");
    const log = new SignInLog(store, { retention: { maxRecords: 100, maxAgeMs: 60_000 } });
    log.record({ record: record({ clientId: "old", time: Date.now() - 120_000 }) });
    log.record({ record: record({ clientId: "new" }) });
    assert.deepEqual(
      (await log.list({})).map((kept) => kept.clientId),
      ["new"],
    );
    await store.close();
  });

  test("usage counts successes per credential, outlives the records and goes when the credential goes", async () => {
    const store = new SqliteStore(":memory:");
    const log = new SignInLog(store, { retention: { maxRecords: 1, maxAgeMs: 3_600_000 } });
    log.record({ record: record({ time: 1_000 + Date.now() }), credentialId: CREDENTIAL });
    log.record({ record: record({ time: 2_000 + Date.now() }), credentialId: CREDENTIAL });
    log.record({ record: record({ errorCode: 700213 }), credentialId: CREDENTIAL });
    const [usage] = await log.credentialUsage(IDENTITY.toUpperCase());
    assert.equal(usage?.credentialId, CREDENTIAL);
    assert.equal(usage?.signIns, 2);
    assert.equal((await log.list({})).length, 1, "only one record kept");
    await store.deleteResource(CREDENTIAL);
    assert.deepEqual(await log.credentialUsage(IDENTITY), []);
    await store.close();
  });

  test("usage goes with the identity", async () => {
    const store = new SqliteStore(":memory:");
    const log = new SignInLog(store);
    log.record({ record: record(), credentialId: CREDENTIAL });
    await log.flush();
    await store.putResource({
      id: IDENTITY,
      name: "api",
      type: "Microsoft.ManagedIdentity/userAssignedIdentities",
      properties: {},
    });
    await store.deleteResource(IDENTITY);
    assert.deepEqual(await log.credentialUsage(IDENTITY), []);
    await store.close();
  });

  test("a store that fails loses the batch and says so; recording never throws", async () => {
    const store = new SqliteStore(":memory:");
    const failing: Store = Object.assign(Object.create(store), {
      appendSignIns: async () => {
        throw new Error("disk full");
      },
    });
    const reported: [string, number][] = [];
    const log = new SignInLog(failing, {
      onWriteError: (error, lost) => reported.push([(error as Error).message, lost]),
    });
    log.record({ record: record() });
    log.record({ record: record() });
    await log.flush();
    assert.deepEqual(reported, [["disk full", 2]]);
    await store.close();
  });
});
