// The rotation's file adapter takes one lock per directory, so that two `wikit issuer rotate` runs never interleave
// their file actions: a live holder stops the second run with its pid, a holder that is gone (a killed run) is taken
// over, and a finished step leaves no lock behind.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DISCOVERY_PATH, issuerDocuments, JWKS_PATH } from "../../../src/cluster/issuer/issuer-files.ts";
import { ROTATION_FILES, RotationError } from "../../../src/cluster/issuer/key-rotation.ts";
import { takeNextStep } from "../../../src/cluster/issuer/key-rotation-files.ts";

const SETTINGS = { maxAgeSeconds: 300, force: false };

/** A folder as `wikit issuer init` lays it out. */
async function initIssuerDir(dir: string): Promise<void> {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const documents = issuerDocuments("https://oidc.example.com/lock/", [publicKey]);
  await mkdir(join(dir, "public", ".well-known"), { recursive: true });
  await mkdir(join(dir, "public", "openid", "v1"), { recursive: true });
  await writeFile(join(dir, "sa.key"), privateKey.export({ type: "pkcs8", format: "pem" }).toString(), {
    mode: 0o600,
  });
  await writeFile(join(dir, "sa.pub"), publicKey.export({ type: "spki", format: "pem" }).toString());
  await writeFile(join(dir, "public", DISCOVERY_PATH), documents.discovery);
  await writeFile(join(dir, "public", JWKS_PATH), documents.jwks);
}

/** The pid of a process that has exited: no process holds it now. */
function exitedPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
    encoding: "utf8",
  });
  return Number(child.stdout);
}

describe("issuer rotate's lock", () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "wikit-rotation-lock-"));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test("a live holder stops a second run with its pid, and nothing changes", async () => {
    const dir = join(root, "held");
    await initIssuerDir(dir);
    const lock = join(dir, ROTATION_FILES.lock);
    await writeFile(lock, `${process.pid}\n`);
    await assert.rejects(
      takeNextStep(dir, Date.now(), SETTINGS),
      (error: unknown) =>
        error instanceof RotationError &&
        error.message.includes(
          `another \`wikit issuer rotate\` (pid ${process.pid}) is taking a step in ${dir}`,
        ),
    );
    assert.equal(existsSync(join(dir, ROTATION_FILES.nextSigningKey)), false);
    assert.equal(existsSync(join(dir, ROTATION_FILES.state)), false);
    assert.equal(await readFile(lock, "utf8"), `${process.pid}\n`, "the holder's lock is left alone");
  });

  test("a lock being written (no pid yet) is treated as held", async () => {
    const dir = join(root, "fresh");
    await initIssuerDir(dir);
    await writeFile(join(dir, ROTATION_FILES.lock), "");
    await assert.rejects(takeNextStep(dir, Date.now(), SETTINGS), /is taking a step in/);
  });

  test("the lock of a run that is gone is taken over; the step is taken and the lock released", async () => {
    const dir = join(root, "stale");
    await initIssuerDir(dir);
    await writeFile(join(dir, ROTATION_FILES.lock), `${exitedPid()}\n`);
    const outcome = await takeNextStep(dir, Date.now(), SETTINGS);
    assert.equal(outcome.kind, "taken");
    assert.equal(outcome.kind === "taken" && outcome.state.step, "published");
    assert.equal(existsSync(join(dir, ROTATION_FILES.nextSigningKey)), true);
    assert.equal(existsSync(join(dir, ROTATION_FILES.lock)), false);
  });

  test("a step refused as early releases the lock too", async () => {
    const dir = join(root, "early");
    await initIssuerDir(dir);
    assert.equal((await takeNextStep(dir, Date.now(), SETTINGS)).kind, "taken");
    assert.equal((await takeNextStep(dir, Date.now(), SETTINGS)).kind, "wait");
    assert.equal(existsSync(join(dir, ROTATION_FILES.lock)), false);
  });
});
