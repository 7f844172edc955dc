// A self-managed issuer's signing key rotated with `wikit issuer rotate`, end to end, against a real `wikit up` and a
// real `wikit issuer serve`: at every step (before, published, signing, retiring, done) service-account tokens
// signed with whatever key the cluster signs with at that step, and the tokens of earlier steps, are exchanged at
// the token service, which fetches the keys from `issuer serve` as Entra fetches them from the static host. Each
// step is its own `issuer rotate` process, told the time with its hidden --now, so no wait is slept through.
// Where the rotation waits for caches to expire, `wikit up` is restarted instead, which empties its key cache.
// `issuer serve` is restarted in the middle; the first step is interrupted mid-way and the last one after its
// files, and both are re-run.

import assert from "node:assert/strict";
import { type ChildProcess, execFile } from "node:child_process";
import { createPublicKey } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ServerInfo } from "../../src/server/data-dir.ts";
import { keyIdOf } from "../../src/signing-keys/key-id.ts";
import {
  exchangeAtTokenService,
  signWithKeyFile,
  startIssuerBesideWikitUp,
  startIssuerServe,
} from "./issuer-host.ts";
import { cliEntry, httpsRequest, newDataDir, repoRoot, startWikitUp, wikit, wikitOk } from "./local-stack.ts";

/** `wikit issuer rotate ARGS` as its own process, at the given time; its exit code and output. */
function rotate(dir: string, at: number, ...args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [cliEntry, "issuer", "rotate", "--dir", dir, "--now", new Date(at).toISOString(), ...args],
      { cwd: repoRoot, encoding: "utf8" },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const MAX_AGE_MS = 300_000;
const LIFETIME_MS = 24 * 3600_000;

describe("rotating a self-managed issuer's signing key: every step's tokens at wikit's token service", {
  timeout: 600_000,
}, () => {
  const dataDir = newDataDir();
  let work = "";
  let dir = "";
  let issuer = "";
  let port = 0;
  let info: ServerInfo;
  let ca = "";
  let served: ChildProcess | undefined;
  let clientId = "";
  let oldKid = "";
  let newKid = "";
  const tokens: Record<string, string> = {};

  const ok = (args: string[]) => wikitOk(dataDir, args);

  async function startStack(): Promise<void> {
    ({ info, ca } = await startWikitUp(dataDir));
  }

  /** What waiting out the documents' max-age does to the token service: its cached keys are gone. */
  async function restartStack(): Promise<void> {
    ok(["down"]);
    await startStack();
  }

  async function startServe(): Promise<void> {
    served = await startIssuerServe(dir, port, dataDir);
  }

  async function stopServe(): Promise<void> {
    const child = served;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }

  /** A token as the cluster's apiserver signs it with the private key in `file`. */
  const signWith = (file: string) => signWithKeyFile(file, issuer, "rotation-sa");

  async function exchange(token: string) {
    const response = await exchangeAtTokenService(info, ca, clientId, token);
    return { status: response.status, body: JSON.parse(response.body) as Record<string, unknown> };
  }

  /** Every named token is exchanged: those listed as refused fail with AADSTS7000272 (kid not published). */
  async function assertExchanges(step: string, refused: readonly string[] = []): Promise<void> {
    for (const [name, token] of Object.entries(tokens)) {
      const result = await exchange(token);
      if (refused.includes(name)) {
        assert.equal(result.status, 401, `${step}: the token ${name} must be refused`);
        assert.match(
          String(result.body.error_description),
          /^AADSTS7000272: The certificate with identifier /,
        );
      } else {
        assert.equal(result.status, 200, `${step}: the token ${name}: ${JSON.stringify(result.body)}`);
        assert.equal(typeof result.body.access_token, "string");
      }
    }
  }

  async function servedKids(): Promise<string[]> {
    const jwks = await httpsRequest(`${issuer}openid/v1/jwks`, { ca });
    assert.equal(jwks.status, 200);
    return (JSON.parse(jwks.body) as { keys: { kid: string }[] }).keys.map((key) => key.kid);
  }

  const kidOf = (file: string) => keyIdOf(createPublicKey(readFileSync(join(dir, file), "utf8")));

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "wikit-rotation-"));
    dir = join(work, "issuer");
    ({ info, ca, port, issuer, served, clientId } = await startIssuerBesideWikitUp(
      dataDir,
      dir,
      "rotation",
      "rotation",
    ));
    oldKid = kidOf("sa.pub");
  });

  after(async () => {
    await stopServe();
    wikit(dataDir, ["down"]);
    await rm(work, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  });

  // One clock for every `issuer rotate` run; the tokens themselves use the real time the token service checks.
  const T0 = Date.parse("2026-06-01T08:00:00Z");
  const SWITCH_AT = T0 + MAX_AGE_MS;
  const RETIRE_AT = SWITCH_AT + LIFETIME_MS + MAX_AGE_MS;
  const DONE_AT = RETIRE_AT + MAX_AGE_MS;

  test("before: the cluster signs with sa.key, and its tokens are exchanged", async () => {
    const status = await rotate(dir, T0, "--status");
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /Step: idle\. No rotation is under way\./);
    assert.match(status.stdout, new RegExp(`Signing: {3}${oldKid} \\(sa\\.key\\)`));
    tokens.before = await signWith(join(dir, "sa.key"));
    await assertExchanges("before");
  });

  test("published: the next key is made and served beside the old one, which keeps signing", async () => {
    // The first run is interrupted mid-step: the next key is made, then its public key cannot be written (a folder
    // is in its place). The re-run takes that key instead of making another, and finishes the step.
    mkdirSync(join(dir, "sa-next.pub"));
    const interrupted = await rotate(dir, T0);
    assert.notEqual(interrupted.code, 0, "the step fails after the next key is written");
    assert.ok(existsSync(join(dir, "sa-next.key")) && !existsSync(join(dir, "rotation.json")));
    const madeKid = kidOf("sa-next.key");
    rmdirSync(join(dir, "sa-next.pub"));

    const step = await rotate(dir, T0);
    assert.equal(step.code, 0, step.stderr);
    assert.match(step.stdout, /^Took the step idle → published\./);
    newKid = kidOf("sa-next.pub");
    assert.equal(newKid, madeKid, "the interrupted run's key is kept");
    assert.notEqual(newKid, oldKid);
    assert.match(step.stdout, new RegExp(`Published: ${oldKid} \\(old\\), ${newKid} \\(new\\)`));
    assert.match(step.stdout, /Nothing to restart: the cluster keeps signing with the old key\./);
    assert.deepEqual(await servedKids(), [oldKid, newKid], "issuer serve serves the new documents at once");

    // Too early for the next step: refused, saying when, and nothing changes.
    const rotationFile = readFileSync(join(dir, "rotation.json"), "utf8");
    const early = await rotate(dir, T0 + 60_000);
    assert.equal(early.code, 1);
    assert.match(
      early.stderr,
      /the next step, signing, is due at 2026-06-01T08:05:00\.000Z \(in 4m\): until then a cache may hold a JWKS without the new key/,
    );
    assert.equal(readFileSync(join(dir, "rotation.json"), "utf8"), rotationFile);

    // issuer serve restarted mid-rotation serves the same documents.
    await stopServe();
    await startServe();
    assert.deepEqual(await servedKids(), [oldKid, newKid]);

    tokens.published = await signWith(join(dir, "sa.key"));
    await assertExchanges("published");
  });

  test("signing: after the cache time the new key signs; tokens of both keys are exchanged", async () => {
    await restartStack();
    const step = await rotate(dir, SWITCH_AT);
    assert.equal(step.code, 0, step.stderr);
    assert.match(step.stdout, /^Took the step published → signing\./);
    assert.match(step.stdout, new RegExp(`Signing: {3}${newKid} \\(sa-next\\.key\\)`));
    assert.match(
      step.stdout,
      /--extra-config=apiserver\.service-account-signing-key-file=\/var\/lib\/minikube\/certs\/sa-next\.key/,
    );
    assert.match(
      step.stdout,
      /--extra-config=apiserver\.service-account-key-file=\/var\/lib\/minikube\/certs\/sa\.pub/,
    );
    assert.match(
      step.stdout,
      /--extra-config=apiserver\.service-account-key-file=\/var\/lib\/minikube\/certs\/sa-next\.pub/,
    );
    assert.match(step.stdout, /Next: retiring, due at 2026-06-02T08:10:00\.000Z \(in 1d 5m/);
    assert.deepEqual(await servedKids(), [oldKid, newKid], "the old key stays published");

    tokens.signing = await signWith(join(dir, "sa-next.key"));
    await assertExchanges("signing");
  });

  test("retiring: once old tokens have expired the old key is unpublished; its tokens are refused", async () => {
    const early = await rotate(dir, SWITCH_AT + 3600_000);
    assert.equal(early.code, 1);
    assert.match(early.stderr, /the next step, retiring, is due at 2026-06-02T08:10:00\.000Z \(in 23h 5m\)/);
    assert.match(early.stderr, /--force takes the step now, which is dangerous/);

    await restartStack();
    const step = await rotate(dir, RETIRE_AT);
    assert.equal(step.code, 0, step.stderr);
    assert.match(step.stdout, /^Took the step signing → retiring\./);
    assert.match(step.stdout, new RegExp(`${oldKid} is no longer published`));
    assert.deepEqual(await servedKids(), [newKid]);
    assert.ok(existsSync(join(dir, "sa.key")), "the old key's files stay until the last step");

    tokens.retiring = await signWith(join(dir, "sa-next.key"));
    await assertExchanges("retiring", ["before", "published"]);
  });

  test("done: the old key goes to retired/, the new one becomes sa.key; an interrupted last step is finished by a re-run", async () => {
    const early = await rotate(dir, RETIRE_AT + 60_000, "--status");
    assert.equal(early.code, 0);
    assert.match(early.stdout, /Next: done, due at 2026-06-02T08:15:00\.000Z \(in 4m\)/);

    await stopServe();
    const retiringState = readFileSync(join(dir, "rotation.json"), "utf8");
    const step = await rotate(dir, DONE_AT);
    assert.equal(step.code, 0, step.stderr);
    assert.match(step.stdout, /^Took the step retiring → done\./);
    // A crash after the step's files and before its state leaves exactly this: the state of the step before.
    writeFileSync(join(dir, "rotation.json"), retiringState);
    const rerun = await rotate(dir, DONE_AT + 1000);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(rerun.stdout, /^Took the step retiring → done\./);
    await startServe();

    assert.equal(kidOf("sa.key"), newKid);
    assert.equal(kidOf("sa.pub"), newKid);
    assert.ok(!existsSync(join(dir, "sa-next.key")) && !existsSync(join(dir, "sa-next.pub")));
    assert.equal(kidOf(join("retired", `${oldKid}.key`)), oldKid);
    assert.equal(kidOf(join("retired", `${oldKid}.pub`)), oldKid);
    assert.deepEqual(await servedKids(), [newKid]);
    const state = JSON.parse(readFileSync(join(dir, "rotation.json"), "utf8"));
    assert.deepEqual(state.lastRotation, {
      completedAt: new Date(DONE_AT + 1000).toISOString(),
      retiredKid: oldKid,
      signingKid: newKid,
    });
    // The flags are issuer init's again: one key signs and verifies.
    assert.match(
      rerun.stdout,
      /--extra-config=apiserver\.service-account-signing-key-file=\/var\/lib\/minikube\/certs\/sa\.key/,
    );
    assert.equal(rerun.stdout.match(/--extra-config=apiserver\.service-account-key-file=/g)?.length, 1);

    const again = await rotate(dir, DONE_AT + 2000, "--status");
    assert.match(again.stdout, /Step: done\. The rotation finished at /);

    tokens.done = await signWith(join(dir, "sa.key"));
    tokens.retired = await signWith(join(dir, "retired", `${oldKid}.key`));
    await assertExchanges("done", ["before", "published", "retired"]);
  });
});
