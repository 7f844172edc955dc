import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, test } from "node:test";
import { Worker } from "node:worker_threads";
import { openStore } from "../../src/store/open-store.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import { CONFIG_STORE_TYPE, describeStoreContract, GROUP, serviceAccount } from "./store-contract.ts";

const tempDirs: string[] = [];
function tempDatabase(): string {
  const dir = mkdtempSync(join(tmpdir(), "wikit-store-"));
  tempDirs.push(dir);
  return join(dir, "nested", "wikit.db");
}
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describeStoreContract("sqlite", {
  async newLocation() {
    const path = tempDatabase();
    return async () => new SqliteStore(path);
  },
});

/**
 * Runs in a worker thread with a connection of its own: adds one to the counter key-value `increments` times, each
 * a read and a write in one change, as other processes sharing the data file would.
 */
const INCREMENTER = `
const { workerData, parentPort } = require("node:worker_threads");
(async () => {
  const { SqliteStore } = await import(workerData.module);
  const store = new SqliteStore(workerData.path);
  const sequences = [];
  for (let i = 0; i < workerData.increments; i++) {
    const { sequence } = await store.changeKeyValue(workerData.configStore, "counter", null, (current) => ({
      put: {
        key: "counter", label: null, value: String(Number(current?.value ?? 0) + 1), contentType: null, tags: {},
        locked: false, etag: workerData.name + "-" + i, lastModified: i,
      },
    }));
    sequences.push(sequence);
  }
  await store.close();
  parentPort.postMessage(sequences);
})().catch((error) => parentPort.postMessage({ error: String(error) }));
`;

describe("sqlite store: processes sharing the data file", () => {
  test("read-modify-write changes of one key-value from parallel connections lose no update", async () => {
    const path = tempDatabase();
    const configStore = `${GROUP}/providers/${CONFIG_STORE_TYPE}/shared`;
    await new SqliteStore(path).close();
    const increments = 100;
    const results = await Promise.all(
      ["w1", "w2", "w3"].map(
        (name) =>
          new Promise<unknown>((resolve, reject) => {
            const worker = new Worker(INCREMENTER, {
              eval: true,
              workerData: {
                module: new URL("../../src/store/sqlite-store.ts", import.meta.url).href,
                path,
                configStore,
                increments,
                name,
              },
            });
            worker.once("message", resolve);
            worker.once("error", reject);
          }),
      ),
    );
    for (const result of results) assert.ok(Array.isArray(result), JSON.stringify(result));
    const sequences = (results as number[][]).flat();
    assert.equal(new Set(sequences).size, 3 * increments, "every change has a sequence of its own");

    const store = new SqliteStore(path);
    try {
      assert.equal((await store.getKeyValue(configStore, "counter", null))?.value, String(3 * increments));
      const revisions = await store.listKeyValueRevisions(configStore);
      // In sequence order each revision counts one more than the one before: no two changes saw the same value.
      assert.deepEqual(
        revisions.map((revision) => revision.written?.value),
        revisions.map((_, i) => String(i + 1)),
      );
    } finally {
      await store.close();
    }
  });
});

describe("sqlite store: schema", () => {
  test("a schema-1 store is migrated: its Kubernetes objects become the local cluster's, nothing else changes", async () => {
    const path = tempDatabase();
    mkdirSync(dirname(path), { recursive: true });
    const old = new DatabaseSync(path);
    old.exec(`CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO settings VALUES ('schema', '1'), ('default.tenant', 't-1');
      CREATE TABLE kube_objects (kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (kind, namespace, name));`);
    old
      .prepare("INSERT INTO kube_objects VALUES ('ServiceAccount', 'default', 'sa', ?)")
      .run(JSON.stringify(serviceAccount("default", "sa")));
    old.close();
    const migrated = new SqliteStore(path);
    try {
      assert.equal(await migrated.getSetting("schema"), "2");
      assert.equal(await migrated.getSetting("default.tenant"), "t-1");
      assert.equal(
        (await migrated.getKubeObject("local", "ServiceAccount", "default", "sa"))?.metadata.uid,
        "uid-sa",
      );
    } finally {
      await migrated.close();
    }
    const reopened = new SqliteStore(path);
    await reopened.close();
  });

  test("key-values and their revisions are found by configuration store and key range through indexes", async () => {
    const path = tempDatabase();
    await new SqliteStore(path).close();
    const db = new DatabaseSync(path);
    try {
      const plan = (sql: string): string =>
        JSON.stringify(db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all("s", "a", "b"));
      const keyValues = plan(
        "SELECT body FROM key_values WHERE store_key = ? AND key >= ? AND key < ? ORDER BY key, label",
      );
      assert.match(
        keyValues,
        /USING INDEX sqlite_autoindex_key_values_1 \(store_key=\? AND key>\? AND key<\?\)/,
      );
      assert.doesNotMatch(keyValues, /TEMP B-TREE/, "listed in index order, without a sort");
      assert.match(
        plan(
          "SELECT seq, key, label, at, body FROM key_value_revisions WHERE store_key = ? AND key >= ? AND key < ? ORDER BY seq",
        ),
        /USING INDEX key_value_revisions_by_key \(store_key=\? AND key>\? AND key<\?\)/,
      );
    } finally {
      db.close();
    }
  });

  test("a data file written by another storage schema is refused with a message naming both", async () => {
    const path = tempDatabase();
    const store = new SqliteStore(path);
    await store.putSetting("schema", "999");
    await store.close();
    assert.throws(() => new SqliteStore(path), /storage schema 999.*understands 2/);
  });
});

describe("openStore", () => {
  test("a file path opens the embedded SQLite store", async () => {
    const store = await openStore(tempDatabase());
    try {
      assert.ok(store instanceof SqliteStore);
    } finally {
      await store.close();
    }
  });
});
