// Drives a real `wikit up` and the `wikit` CLI as separate processes, as a user would.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const cliEntry = join(repoRoot, "src", "cli", "main.ts");

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function newDataDir(): string {
  return mkdtempSync(join(tmpdir(), "wikit-compat-"));
}

/** Runs `wikit ARGS --data-dir DIR` (data dir appended unless `args` has a `--`). */
export function wikit(dataDir: string, args: string[], env: NodeJS.ProcessEnv = process.env): CliResult {
  const separator = args.indexOf("--");
  const withDir =
    separator === -1
      ? [...args, "--data-dir", dataDir]
      : [...args.slice(0, separator), "--data-dir", dataDir, ...args.slice(separator)];
  const result = spawnSync(process.execPath, [cliEntry, ...withDir], {
    cwd: repoRoot,
    encoding: "utf8",
    env,
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs a command that must succeed and returns its JSON output. */
export function wikitJson<T = Record<string, unknown>>(dataDir: string, args: string[]): T {
  const result = wikit(dataDir, args);
  if (result.status !== 0) {
    throw new Error(`wikit ${args.join(" ")} failed (${result.status}):\n${result.stderr}${result.stdout}`);
  }
  return JSON.parse(result.stdout) as T;
}

export { pythonWithAzure } from "../../src/cli/walkthrough.ts";
