// How long a `wikit` command takes, start to exit, as a user types it: `bin/wikit` (the launcher `npm link` puts on
// PATH) for `--version`, and for commands that call a running `wikit up` over HTTPS (`account show`, `identity show
// … --query clientId -o tsv`, `ad app list`). Baselines in the same run: the pinned Node starting and exiting (`node
// -e 0`, the floor of any command), and Debian's `az --version` when azure-cli is installed (what an az user waits).
// Runs alternate between commands so that drift in the machine's speed hits all alike; medians and p90 are reported.
//
//   node bench/cli.ts [--runs 15]

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = fileURLToPath(new URL("../", import.meta.url));
const launcher = join(root, "bin", "wikit");
const pinnedNode = join(root, "node_modules", "node", "bin", "node");
const AZ = "/usr/bin/az";

const { values } = parseArgs({ options: { runs: { type: "string", default: "15" } } });
const runs = Number(values.runs);

interface Case {
  name: string;
  command: string[];
}

function timed(command: string[], env: NodeJS.ProcessEnv): number {
  const started = performance.now();
  const result = spawnSync(command[0] ?? "", command.slice(1), { env, encoding: "utf8" });
  const elapsed = performance.now() - started;
  if (result.status !== 0) throw new Error(`${command.join(" ")} failed: ${result.stderr}`);
  return elapsed;
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

const dataDir = await mkdtemp(join(tmpdir(), "wikit-bench-cli-"));
const env = { ...process.env, WIKIT_HOME: dataDir, AZURE_CORE_COLLECT_TELEMETRY: "false" };
try {
  const wikit = (...args: string[]) => [launcher, ...args];
  const setup = (...args: string[]) => timed(wikit(...args), env);
  setup("up", "--port", "0", "--detach");
  setup("group", "create", "-n", "rg-bench", "-o", "none");
  setup("identity", "create", "-g", "rg-bench", "-n", "mi-bench", "-o", "none");

  const cases: Case[] = [
    {
      name: "node -e 0 (pinned Node, the floor)",
      command: [existsSync(pinnedNode) ? pinnedNode : process.execPath, "-e", "0"],
    },
    { name: "wikit --version", command: wikit("--version") },
    {
      name: "wikit account show --query id -o tsv",
      command: wikit("account", "show", "--query", "id", "-o", "tsv"),
    },
    {
      name: "wikit identity show -g RG -n MI --query clientId -o tsv",
      command: wikit(
        "identity",
        "show",
        "-g",
        "rg-bench",
        "-n",
        "mi-bench",
        "--query",
        "clientId",
        "-o",
        "tsv",
      ),
    },
    {
      name: "wikit ad app list -o tsv",
      command: wikit("ad", "app", "list", "--query", "[].appId", "-o", "tsv"),
    },
    ...(existsSync(AZ) ? [{ name: "az --version (Debian's azure-cli)", command: [AZ, "--version"] }] : []),
  ];
  // One unmeasured run each: caches (Node's compile cache, the OS's file cache) warm as a user's would be.
  for (const each of cases) timed(each.command, env);
  const samples = new Map<string, number[]>(cases.map((each) => [each.name, []]));
  for (let run = 0; run < runs; run += 1) {
    const order = run % 2 === 0 ? cases : [...cases].reverse();
    for (const each of order) samples.get(each.name)?.push(timed(each.command, env));
  }
  const floor = quantile(
    [...(samples.get(cases[0]?.name ?? "") ?? [])].sort((a, b) => a - b),
    0.5,
  );
  console.log(`| Command | median | p90 | median ÷ node start |`);
  console.log(`|---|---|---|---|`);
  for (const each of cases) {
    const sorted = [...(samples.get(each.name) ?? [])].sort((a, b) => a - b);
    const median = quantile(sorted, 0.5);
    console.log(
      `| ${each.name} | ${median.toFixed(0)} ms | ${quantile(sorted, 0.9).toFixed(0)} ms | ${(median / floor).toFixed(2)}× |`,
    );
  }
  console.log(
    `\n${runs} runs each, Node ${process.version} driving, ${new Date().toISOString().slice(0, 10)}`,
  );
} finally {
  spawnSync(launcher, ["down"], { env });
  await rm(dataDir, { recursive: true, force: true });
}
