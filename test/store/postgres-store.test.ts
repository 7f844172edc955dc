import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { inspect } from "node:util";
import pg from "pg";
import { openStore } from "../../src/store/open-store.ts";
import { PostgresStore } from "../../src/store/postgres-store.ts";
import { StoreUnavailableError } from "../../src/store/store-unavailable-error.ts";
import { PostgresTestServer } from "./postgres-server.ts";
import { describeStoreContract, GROUP, IDENTITY_TYPE, secret, signIn, VAULT_TYPE } from "./store-contract.ts";

let server: PostgresTestServer;
before(async () => {
  server = await PostgresTestServer.start();
});
after(async () => {
  await server?.destroy();
});

const KEEP_ALL = { maxRecords: 100_000, maxAgeMs: Number.MAX_SAFE_INTEGER };

describeStoreContract("postgres", {
  async newLocation() {
    const url = await server.createDatabase();
    return () => PostgresStore.open(url, { poolSize: 4 });
  },
});

/** Runs `work` with stores open on one new database, as replicas would be, and closes them after. */
async function withStores(count: number, work: (stores: PostgresStore[], url: string) => Promise<void>) {
  const url = await server.createDatabase();
  const stores = await Promise.all(
    Array.from({ length: count }, () => PostgresStore.open(url, { poolSize: 4 })),
  );
  try {
    await work(stores, url);
  } finally {
    await Promise.all(stores.map((store) => store.close()));
  }
}

async function querySql<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("postgres store: replicas sharing one database", () => {
  const identity = `${GROUP}/providers/${IDENTITY_TYPE}/id1`;
  const fic = (n: string): string => `${identity}/federatedIdentityCredentials/${n}`;

  test("concurrent credential-usage counts from two stores add up exactly", async () => {
    await withStores(2, async ([a, b]) => {
      assert.ok(a && b);
      const batches = 40;
      const appends = [a, b].flatMap((store, replica) =>
        Array.from({ length: batches }, (_, n) =>
          store.appendSignIns(
            // The two replicas name the credentials in opposite orders, the way deadlocks are made.
            (replica === 0 ? ["x", "y"] : ["y", "x"]).map((name, i) => ({
              record: signIn(`${replica}-${n}-${i}`, 1000 + n),
              credentialId: fic(name),
            })),
            KEEP_ALL,
          ),
        ),
      );
      await Promise.all(appends);

      assert.deepEqual(await b.listCredentialUsage(identity), [
        { credentialId: fic("x"), signIns: 2 * batches, lastSignIn: 1000 + batches - 1 },
        { credentialId: fic("y"), signIns: 2 * batches, lastSignIn: 1000 + batches - 1 },
      ]);
      assert.equal((await a.listSignIns({})).length, 2 * 2 * batches);
    });
  });

  test("serialization failures are retried until every increment commits", async () => {
    // Under SERIALIZABLE, concurrent upserts of one counter fail with 40001 instead of waiting: each must be
    // retried by the store, and the count still come out exact.
    const url = `${await server.createDatabase()}?options=${encodeURIComponent("-c default_transaction_isolation=serializable")}`;
    const stores = await Promise.all(
      [0, 1].map(() => PostgresStore.open(url, { poolSize: 4, conflictRetries: 100 })),
    );
    try {
      const perStore = 30;
      await Promise.all(
        stores.flatMap((store, replica) =>
          Array.from({ length: perStore }, (_, n) =>
            store.appendSignIns(
              [{ record: signIn(`${replica}-${n}`, 1000), credentialId: fic("x") }],
              KEEP_ALL,
            ),
          ),
        ),
      );
      assert.deepEqual(
        (await stores[0]?.listCredentialUsage(identity))?.map((u) => u.signIns),
        [2 * perStore],
      );
      // Only this test runs SERIALIZABLE: any serialization failure the server logged was one of its own.
      const conflicts = server.log().match(/could not serialize access/g) ?? [];
      assert.ok(conflicts.length > 0, "no transaction conflicted: the test proves nothing");
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  test("concurrent secret versions from two stores are all kept, and both agree which is the latest", async () => {
    await withStores(2, async ([a, b]) => {
      assert.ok(a && b);
      const vault = `${GROUP}/providers/${VAULT_TYPE}/kv1`;
      const perStore = 25;
      await Promise.all(
        [a, b].flatMap((store, replica) =>
          Array.from({ length: perStore }, (_, n) =>
            store.putSecretVersion(secret(vault, "s", `v-${replica}-${n}`, `${replica}/${n}`)),
          ),
        ),
      );

      const versions = await a.listSecretVersions(vault, "s");
      assert.equal(new Set(versions.map((v) => v.version)).size, 2 * perStore);
      const latest = versions.at(-1)?.version;
      assert.equal((await a.getSecretVersion(vault, "s"))?.version, latest);
      assert.equal((await b.getSecretVersion(vault, "s"))?.version, latest);
      assert.deepEqual(
        (await b.listLatestSecrets(vault)).map((v) => v.version),
        [latest],
      );
    });
  });

  test("kube resourceVersions from two stores never repeat", async () => {
    await withStores(2, async (stores) => {
      const written = await Promise.all(
        stores.flatMap((store, replica) =>
          Array.from({ length: 20 }, (_, n) =>
            store.putKubeObject("local", {
              apiVersion: "v1",
              kind: "ServiceAccount",
              metadata: { name: `sa-${replica}-${n}`, namespace: "default", uid: "u", creationTimestamp: "" },
            }),
          ),
        ),
      );
      assert.equal(new Set(written.map((o) => o.metadata.resourceVersion)).size, written.length);
    });
  });
});

describe("postgres store: schema migrations", () => {
  test("stores opened at once on a new database migrate it exactly once", async () => {
    await withStores(6, async (stores, url) => {
      const rows = await querySql<{ version: number; applied: string }>(
        url,
        "SELECT version, count(*) AS applied FROM schema_migrations GROUP BY version ORDER BY version",
      );
      assert.ok(rows.length > 0);
      assert.deepEqual(
        rows.map((row) => Number(row.applied)),
        rows.map(() => 1),
      );
      await stores[0]?.putSetting("k", "v");
      assert.equal(await stores[5]?.getSetting("k"), "v");
    });
  });

  test("reopening a migrated database keeps its data and applies nothing again", async () => {
    const url = await server.createDatabase();
    const first = await PostgresStore.open(url);
    await first.putSetting("default.tenant", "t-1");
    await first.close();
    const before = await querySql<{ version: number }>(url, "SELECT version FROM schema_migrations");
    const second = await PostgresStore.open(url);
    try {
      assert.equal(await second.getSetting("default.tenant"), "t-1");
    } finally {
      await second.close();
    }
    assert.deepEqual(await querySql(url, "SELECT version FROM schema_migrations"), before);
  });

  test("a database of a newer schema is refused with a message naming both versions", async () => {
    const url = await server.createDatabase();
    await (await PostgresStore.open(url)).close();
    await querySql(url, "INSERT INTO schema_migrations (version) VALUES (999)");
    await assert.rejects(PostgresStore.open(url), /storage schema 999, this wikit understands up to 3/);
  });

  test("lookups by client ID use the expression index", async () => {
    await withStores(1, async (_, url) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        // The table is empty: forbid the sequential scan a planner would rightly prefer, to see the index apply.
        await client.query("SET enable_seqscan = off");
        const { rows } = await client.query(`EXPLAIN SELECT body FROM resources
          WHERE type = 'x' AND (body::jsonb) -> 'properties' -> 'clientId' = to_jsonb('c'::text)`);
        assert.match(JSON.stringify(rows), /resources_by_client_id/);
      } finally {
        await client.end();
      }
    });
  });

  test("key-values and their revisions are found by configuration store and key range through indexes", async () => {
    await withStores(1, async (_, url) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query("SET enable_seqscan = off");
        const plan = async (sql: string): Promise<string> =>
          JSON.stringify((await client.query(`EXPLAIN ${sql}`, ["s", "a", "b"])).rows);
        const keyValues = await plan(
          "SELECT body FROM key_values WHERE store_key = $1 AND key >= $2 AND key < $3 ORDER BY key, label",
        );
        assert.match(keyValues, /key_values_pkey/);
        assert.doesNotMatch(keyValues, /Sort/, "listed in index order, without a sort");
        assert.match(
          await plan(
            "SELECT seq, key, label, at, body FROM key_value_revisions WHERE store_key = $1 AND key >= $2 AND key < $3 ORDER BY seq",
          ),
          /key_value_revisions_by_key/,
        );
      } finally {
        await client.end();
      }
    });
  });
});

describe("postgres store: an unavailable server", () => {
  const password = "s3cret-Pa55word-never-printed";

  test("a server that went away fails calls with StoreUnavailableError, and the store works again once it is back", async () => {
    const url = await server.createDatabase();
    const store = await PostgresStore.open(url, { poolSize: 2, connectTimeoutMs: 2000 });
    try {
      await store.putSetting("before", "1");
      await server.stop();
      try {
        await assert.rejects(store.getSetting("before"), StoreUnavailableError);
        await assert.rejects(store.putSetting("during", "1"), StoreUnavailableError);
      } finally {
        await server.startAgain();
      }
      assert.equal(await store.getSetting("before"), "1");
      await store.putSetting("after", "1");
      assert.equal(await store.getSetting("after"), "1");
      assert.equal(await store.getSetting("during"), undefined);
    } finally {
      await store.close();
    }
  });

  test("the URL's password appears in no error: unreachable server", async () => {
    const url = server.url("postgres", password).replace(`:${server.port}/`, ":1/");
    const error = await PostgresStore.open(url, { connectTimeoutMs: 2000 }).then(
      () => assert.fail("opened a store on a closed port"),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof StoreUnavailableError, inspect(error));
    assert.match(error.message, /PostgreSQL at 127\.0\.0\.1:1\/postgres is unavailable/);
    assert.ok(!inspect(error, { depth: 10 }).includes(password), inspect(error, { depth: 10 }));
  });

  test("the URL's password appears in no error: unparseable URL", async () => {
    const error = await openStore(`postgres://wikit:${password}@[not-a-host/db`).then(
      () => assert.fail("opened a store on an unparseable URL"),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof Error);
    assert.match(error.message, /cannot be parsed/);
    assert.ok(!inspect(error, { depth: 10 }).includes(password), inspect(error, { depth: 10 }));
  });

  test("the URL's password appears in no error: unknown database", async () => {
    const url = server.url("no_such_database", password);
    const error = await openStore(url).then(
      () => assert.fail("opened a store on a missing database"),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof Error);
    assert.match(error.message, /no_such_database/);
    assert.ok(!inspect(error, { depth: 10 }).includes(password), inspect(error, { depth: 10 }));
  });
});

describe("openStore", () => {
  test("a postgres:// URL opens the PostgreSQL store", async () => {
    const store = await openStore(await server.createDatabase());
    try {
      assert.ok(store instanceof PostgresStore);
    } finally {
      await store.close();
    }
  });
});
