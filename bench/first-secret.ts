// Time to first secret: how long an unmodified SDK app takes, from `wikit run` to the secret printed,
// against a real `wikit up`. The baseline, measured in the same run, is the same JavaScript app with
// `--no-authority-proxy`, i.e. what the Azure SDK does when Microsoft's instance discovery cannot be
// answered (names then come from DNS: run this where *.localhost resolves, e.g. with libnss-myhostname).
//
//   node bench/first-secret.ts [--runs 5]
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import {
  createFederatedIdentity,
  createVaultWithSecret,
  pythonWithAzure,
  type RunWikit,
  runAppArgs,
} from "../src/cli/walkthrough.ts";
import { readServerInfo } from "../src/server/data-dir.ts";
import { vaultNamesResolve } from "../src/server/local-stack.ts";
import { newDataDir, repoRoot, wikit, wikitJson } from "../test/compat/local-stack.ts";

const runs = Number(process.argv[process.argv.indexOf("--runs") + 1]) || 5;
const dataDir = newDataDir();
const started = wikit(dataDir, ["up", "--port", "0", "--detach"]);
if (started.status !== 0) throw new Error(started.stderr);

try {
  const info = await readServerInfo(dataDir);
  if (!info) throw new Error("wikit up did not start");
  const run: RunWikit = (args) => wikitJson(dataDir, args);
  run(["group", "create", "--name", "bench"]);
  const identity = createFederatedIdentity(run, {
    group: "bench",
    identity: "bench",
    namespace: "bench",
    serviceAccount: "app",
    issuer: info.issuerUrl,
  });
  const vault = createVaultWithSecret(run, {
    group: "bench",
    vault: `bench-${randomUUID().slice(0, 8)}`,
    secret: "my-secret",
    value: "x",
    readerPrincipalId: identity.principalId,
  });

  const timeRun = (extra: string[], command: string[]): number => {
    const [subcommand = "run", ...rest] = runAppArgs(
      "bench",
      "app",
      vault.properties.vaultUri,
      "my-secret",
      command,
    );
    const args = [subcommand, "--data-dir", dataDir, ...extra, ...rest];
    const start = performance.now();
    const result = spawnSync(process.execPath, [join(repoRoot, "src", "cli", "main.ts"), ...args], {
      encoding: "utf8",
    });
    const elapsed = performance.now() - start;
    if (result.status !== 0) throw new Error(`run failed: ${result.stderr}`);
    return elapsed;
  };
  const median = (values: number[]) =>
    values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  const measure = (extra: string[], command: string[]) =>
    median(Array.from({ length: runs }, () => timeRun(extra, command)));

  const jsApp = [process.execPath, join(repoRoot, "examples", "js", "read-secret.mjs")];
  const rows: [string, number][] = [["JavaScript (DefaultAzureCredential)", measure([], jsApp)]];
  const python = pythonWithAzure();
  if (python)
    rows.push([
      "Python (DefaultAzureCredential)",
      measure([], [python, join(repoRoot, "examples", "python", "read_secret.py")]),
    ]);
  const baseline = (await vaultNamesResolve(info.vaultDomain))
    ? measure(["--no-authority-proxy"], jsApp)
    : undefined;

  console.log(
    `time to first secret, median of ${runs} runs (wikit run + interpreter start + token exchange + read):`,
  );
  for (const [name, ms] of rows) {
    const ratio = baseline ? `  ${(ms / baseline).toFixed(2)}x the baseline` : "";
    console.log(`  ${name.padEnd(40)} ${(ms / 1000).toFixed(2)} s${ratio}`);
  }
  if (baseline)
    console.log(
      `  ${"baseline: JavaScript, no authority proxy".padEnd(40)} ${(baseline / 1000).toFixed(2)} s`,
    );
  else console.log("  (baseline skipped: names under the vault domain do not resolve here)");
} finally {
  wikit(dataDir, ["down"]);
}
