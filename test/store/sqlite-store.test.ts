import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, test } from "node:test";
import { openStore } from "../../src/store/open-store.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import { describeStoreContract, serviceAccount } from "./store-contract.ts";

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
