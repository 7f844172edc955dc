// `wikit serve --workers N`: N processes share one port, the primary restarts a worker that dies and sums the
// workers' metrics, and SIGTERM stops them all. Configuration comes from flags or from WIKIT_* variables.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../compat/issuer-host.ts";
import { cliEntry, repoRoot, runWikit } from "../compat/local-stack.ts";
import { getInsecure } from "./server-replicas.ts";

async function waitReady(port: number, child: ChildProcess, logFile: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    assert.equal(child.exitCode, null, readFileSync(logFile, "utf8"));
    const ready = await getInsecure(port, "/readyz").catch(() => ({ status: 0 }));
    if (ready.status === 200) return;
    await sleep(200);
  }
  assert.fail(`not ready:\n${readFileSync(logFile, "utf8")}`);
}

/** The primary's children (ps exits 1 when there are none). */
const workerPids = (primary: number) =>
  spawnSync("ps", ["-o", "pid=", "--ppid", String(primary)], { encoding: "utf8" })
    .stdout.split("\n")
    .map((line) => Number(line.trim()))
    .filter((pid) => pid > 0);

describe("wikit serve --workers", { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "wikit-workers-"));
  let primary: ChildProcess | undefined;
  after(() => {
    primary?.kill("SIGKILL");
  });

  test("two workers answer on one port, one set of metrics sums them, a dead worker is replaced, SIGTERM stops all", async () => {
    const port = await freePort();
    const logFile = join(dir, "serve.log");
    const { openSync } = await import("node:fs");
    const log = openSync(logFile, "a");
    // Configured through the environment alone, as a container is.
    primary = spawn(process.execPath, [cliEntry, "serve"], {
      cwd: repoRoot,
      stdio: ["ignore", log, log],
      env: {
        ...process.env,
        WIKIT_HOME: dir,
        WIKIT_STORE: join(dir, "server.db"),
        WIKIT_PORT: String(port),
        WIKIT_LISTEN_ADDRESS: "127.0.0.1",
        WIKIT_WORKERS: "2",
      },
    });
    await waitReady(port, primary, logFile);
    const pid = primary.pid as number;
    assert.equal(workerPids(pid).length, 2);

    for (let i = 0; i < 20; i++) assert.equal((await getInsecure(port, "/healthz")).status, 200);
    const metrics = (await getInsecure(port, "/metrics")).body;
    const healthz =
      /wikit_http_requests_total\{method="GET",route="\/healthz",status="200",aadsts=""\} (\d+)/.exec(
        metrics,
      );
    assert.equal(Number(healthz?.[1]), 20, "the scrape sums every worker's count");
    assert.match(metrics, /wikit_signing_key_age_seconds \d+/);

    const [victim] = workerPids(pid);
    process.kill(victim as number, "SIGKILL");
    let replaced = false;
    for (let attempt = 0; attempt < 200 && !replaced; attempt++) {
      const pids = workerPids(pid);
      replaced = pids.length === 2 && !pids.includes(victim as number);
      if (!replaced) await sleep(100);
    }
    assert.ok(replaced, "the primary did not start a worker in place of the dead one");
    await waitReady(port, primary, logFile);

    const exited = new Promise<number | null>((resolve) => primary?.once("exit", resolve));
    primary.kill("SIGTERM");
    assert.equal(await exited, 0);
    assert.deepEqual(workerPids(pid), []);
  });

  test("refused flags are named with the fix", async () => {
    const noKey = await runWikit(["serve", "--data-dir", dir, "--tls-cert", join(dir, "tls.crt")]);
    assert.notEqual(noKey.code, 0);
    assert.match(noKey.stderr, /--tls-cert and --tls-key go together/);
    const workers = await runWikit(["serve", "--data-dir", dir, "--workers", "two"]);
    assert.match(workers.stderr, /--workers must be a whole number from 0 to 256, not 'two'/);
    const publicUrl = await runWikit([
      "serve",
      "--data-dir",
      dir,
      "--port",
      "0",
      "--public-url",
      "http://wikit.example.test/path",
    ]);
    assert.notEqual(publicUrl.code, 0);
    assert.match(publicUrl.stderr, /--public-url must be an https:\/\/ URL with no path/);
  });
});
