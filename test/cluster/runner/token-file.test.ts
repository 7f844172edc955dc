// The token file `wikit run` maintains as a projected volume would: rewritten at 80 % of the token's lifetime
// (at least daily), replaced atomically, the bare JWT without a trailing newline, readable by its owner only.

import assert from "node:assert/strict";
import { mkdtemp, open, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { refreshDelaySeconds, writeTokenFile } from "../../../src/cluster/runner/token-file.ts";

describe("refreshDelaySeconds", () => {
  const table: Array<[lifetime: number, delay: number]> = [
    [3600, 2880],
    [7200, 5760],
    [86400, 69120],
    [108000, 86400],
    [200000, 86400],
    [601, 480],
    [1, 0],
  ];
  for (const [lifetime, delay] of table) {
    test(`${lifetime} s → ${delay} s`, () => {
      assert.equal(refreshDelaySeconds(lifetime), delay);
    });
  }

  test("property: whole seconds, at most 80 % of the lifetime, at most a day, never shorter for a longer token", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        (lifetime, more) => {
          const delay = refreshDelaySeconds(lifetime);
          assert.ok(Number.isInteger(delay));
          assert.ok(delay <= lifetime * 0.8);
          assert.ok(delay > lifetime * 0.8 - 1 || delay === 24 * 3600);
          assert.ok(delay <= 24 * 3600);
          assert.ok(refreshDelaySeconds(lifetime + more) >= delay);
        },
      ),
    );
  });
});

describe("writeTokenFile", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wikit-token-file-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test("creates the missing directories and writes the bare token, no trailing newline, mode 0600", async () => {
    const path = join(dir, "fresh", "var/run/secrets/azure/wi/abc/token/azure-identity-token");
    await writeTokenFile(path, "eyJ.header.sig");
    assert.equal(await readFile(path, "utf8"), "eyJ.header.sig");
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, "fresh"))).mode & 0o777, 0o700);
  });

  test("replaces atomically: a reader that opened the old file keeps the whole old token", async () => {
    const path = join(dir, "atomic", "token");
    await writeTokenFile(path, "old-token");
    const before = await stat(path);
    const reader = await open(path, "r");
    try {
      await writeTokenFile(path, "new-token-that-is-longer");
      assert.equal(await reader.readFile("utf8"), "old-token");
    } finally {
      await reader.close();
    }
    assert.equal(await readFile(path, "utf8"), "new-token-that-is-longer");
    assert.notEqual((await stat(path)).ino, before.ino, "a new file is renamed over the old one");
  });

  test("leaves no temporary files beside the token", async () => {
    const path = join(dir, "tidy", "token");
    for (const token of ["one", "two", "three"]) await writeTokenFile(path, token);
    assert.deepEqual(await readdir(join(dir, "tidy")), ["token"]);
  });

  test("a replaced file that was world-readable becomes 0600", async () => {
    const path = join(dir, "loose-token");
    await writeFile(path, "old", { mode: 0o644 });
    await writeTokenFile(path, "new");
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal(await readFile(path, "utf8"), "new");
  });

  test("a shorter token replaces a longer one without leftovers", async () => {
    const path = join(dir, "shrink", "token");
    await writeTokenFile(path, "a-rather-long-token-value");
    await writeTokenFile(path, "short");
    assert.equal(await readFile(path, "utf8"), "short");
  });
});
