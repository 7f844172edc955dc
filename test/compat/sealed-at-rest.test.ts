// Secret values at rest, through a real `wikit up` and its CLI: the database never holds a value (nor a private
// signing key) in plaintext — not one set through the vault, not one stored before sealing existed (resealed at the
// next start) — and a new current key-encryption key in secret-keys.json takes every value over at the next start,
// after which the old key can go.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { dataDirFiles } from "../../src/server/data-dir.ts";
import { openLocalStore } from "../../src/server/local-store.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import { newDataDir, startWikitUp, wikitOk } from "./local-stack.ts";

const VALUE = `plaintext-${randomBytes(6).toString("hex")}`;
const LEGACY = `legacy-${randomBytes(6).toString("hex")}`;

/** Whether any of the database's files (the WAL too) holds the text. */
function databaseHolds(dataDir: string, text: string): boolean {
  const database = dataDirFiles.database(dataDir);
  return [database, `${database}-wal`].some(
    (file) => existsSync(file) && readFileSync(file).includes(Buffer.from(text)),
  );
}

describe("secret values sealed at rest under wikit up", { timeout: 300_000 }, () => {
  const dataDir = newDataDir();
  let vaultId: string;
  /** The plaintext of a secret, read with the data directory's key ring while wikit is down. */
  const opened = async (name: string) => {
    const store = await openLocalStore(dataDir);
    try {
      return (await store.getSecretVersion(vaultId, name))?.value;
    } finally {
      await store.close();
    }
  };

  before(async () => {
    await startWikitUp(dataDir);
    wikitOk(dataDir, ["group", "create", "-n", "rg-sealed", "-o", "none"]);
    vaultId = wikitOk(dataDir, [
      "keyvault",
      "create",
      "-g",
      "rg-sealed",
      "-n",
      "kv-sealed",
      "--query",
      "id",
      "-o",
      "tsv",
    ]);
  });
  after(() => {
    wikitOk(dataDir, ["down"]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("a value set through the vault is in no database file; the key ring is the owner's only", async () => {
    wikitOk(dataDir, [
      "keyvault",
      "secret",
      "set",
      "--vault-name",
      "kv-sealed",
      "--name",
      "api-key",
      "--value",
      VALUE,
      "-o",
      "none",
    ]);
    wikitOk(dataDir, ["down"]);
    assert.equal(databaseHolds(dataDir, VALUE), false);
    assert.equal(await opened("api-key"), VALUE);
    assert.equal(statSync(dataDirFiles.secretKeyRing(dataDir)).mode & 0o777, 0o600);
    // The token service's and the cluster's private signing keys are sealed the same way.
    const raw = new SqliteStore(dataDirFiles.database(dataDir));
    try {
      for (const purpose of ["sts", "cluster:local"]) {
        const keys = await raw.listSigningKeys(purpose);
        assert.ok(keys.length > 0, purpose);
        for (const key of keys) assert.equal(key.privateJwk.d, undefined, `${purpose} ${key.kid}`);
      }
    } finally {
      await raw.close();
    }
  });

  test("a value stored before sealing is read, and sealed at the next start", async () => {
    const plain = new SqliteStore(dataDirFiles.database(dataDir));
    const now = Date.now();
    await plain.putSecretVersion({
      vaultId,
      name: "legacy",
      version: "0123456789abcdef0123456789abcdef",
      value: LEGACY,
      tags: {},
      enabled: true,
      created: now,
      updated: now,
    });
    await plain.close();
    assert.equal(databaseHolds(dataDir, LEGACY), true, "the test put the value in plaintext");
    await startWikitUp(dataDir);
    wikitOk(dataDir, ["down"]);
    assert.equal(databaseHolds(dataDir, LEGACY), false);
    assert.equal(await opened("legacy"), LEGACY);
  });

  test("a new current key-encryption key takes every value over; then the old key can go", async () => {
    const file = dataDirFiles.secretKeyRing(dataDir);
    const ring = JSON.parse(readFileSync(file, "utf8")) as { current: string; keys: Record<string, string> };
    const old = ring.current;
    writeFileSync(
      file,
      JSON.stringify({ current: "next", keys: { ...ring.keys, next: randomBytes(32).toString("base64") } }),
    );
    await startWikitUp(dataDir);
    wikitOk(dataDir, ["down"]);

    const rotated = JSON.parse(readFileSync(file, "utf8")) as { keys: Record<string, string> };
    delete rotated.keys[old];
    writeFileSync(file, JSON.stringify({ current: "next", keys: rotated.keys }));
    // Without the old key, every value still opens: the start before resealed them all under the new one.
    assert.equal(await opened("api-key"), VALUE);
    assert.equal(await opened("legacy"), LEGACY);
    await startWikitUp(dataDir);
  });
});
