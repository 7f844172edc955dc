// `wikit jwks` on the command line, as W4 runs `azwi jwks`: files by comma or repeated flag, the JWKS on stdout or in
// an owner-only file (also when the file was there before), and azwi's errors with a failing exit code.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { cliEntry, repoRoot } from "../compat/local-stack.ts";

const execFileAsync = promisify(execFile);

describe("wikit jwks", () => {
  let dir = "";
  const wikit = async (args: string[]) => {
    try {
      const { stdout, stderr } = await execFileAsync(process.execPath, [cliEntry, ...args], {
        cwd: dir || repoRoot,
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };
  const pem = (type: "rsa" | "ec") =>
    (type === "rsa"
      ? generateKeyPairSync("rsa", { modulusLength: 2048 })
      : generateKeyPairSync("ec", { namedCurve: "P-256" })
    ).publicKey
      .export({ type: "spki", format: "pem" })
      .toString();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wikit-jwks-"));
    await writeFile(join(dir, "a.pub"), pem("rsa"));
    await writeFile(join(dir, "b.pub"), pem("ec"));
    await writeFile(join(dir, "c.pub"), pem("rsa"));
    await writeFile(join(dir, "empty.pem"), "nothing here\n");
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test("comma-separated and repeated --public-keys, in order, on stdout without a final newline", async () => {
    const result = await wikit(["jwks", "--public-keys", "a.pub,b.pub", "--public-keys", "c.pub"]);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.stdout.endsWith("}") && !result.stdout.endsWith("\n"));
    assert.deepEqual(
      JSON.parse(result.stdout).keys.map((key: { alg: string }) => key.alg),
      ["RS256", "ES256", "RS256"],
    );
  });

  test("--output-file writes an owner-only file, also over an existing one", async () => {
    const target = join(dir, "jwks.json");
    await writeFile(target, "old", { mode: 0o644 });
    const result = await wikit(["jwks", "--public-keys", "a.pub", "--output-file", target]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "");
    assert.equal((await stat(target)).mode & 0o777, 0o600);
    assert.equal(JSON.parse(await readFile(target, "utf8")).keys.length, 1);
  });

  test("no keys, a file without a key and a missing file fail with azwi's words", async () => {
    const none = await wikit(["jwks"]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no public keys provided/);
    const empty = await wikit(["jwks", "--public-keys", "empty.pem"]);
    assert.equal(empty.code, 1);
    assert.match(
      empty.stderr,
      /failed to read public key file: empty\.pem: data does not contain any valid RSA or ECDSA public keys/,
    );
    const missing = await wikit(["jwks", "--public-keys", "missing.pem"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /failed to read public key file: .*missing\.pem/);
  });
});
