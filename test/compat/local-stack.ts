// Drives a real `wikit up` and the `wikit` CLI as separate processes, as a user would.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readServerInfo, type ServerInfo } from "../../src/server/data-dir.ts";

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

/** Runs `wikit ARGS --data-dir DIR`, which must succeed; its stdout without the trailing newline. */
export function wikitOk(dataDir: string, args: string[]): string {
  const result = wikit(dataDir, args);
  assert.equal(result.status, 0, `wikit ${args.join(" ")}: ${result.stderr}`);
  return result.stdout.trimEnd();
}

/** Runs `wikit ARGS` as a child process without blocking; its exit code (-1 when killed) and output. */
export function runWikit(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeout?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliEntry, ...args], {
      cwd: repoRoot,
      env: options.env,
      timeout: options.timeout,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Starts `wikit up --port 0 --detach` in `dataDir`; what it announced, and its CA certificate. */
export async function startWikitUp(dataDir: string): Promise<{ info: ServerInfo; ca: string }> {
  wikitOk(dataDir, ["up", "--port", "0", "--detach"]);
  const info = await readServerInfo(dataDir);
  assert.ok(info);
  return { info, ca: readFileSync(info.caFile, "utf8") };
}

/** Creates a managed identity in an existing group and a federated credential on it; the identity's client ID. */
export function identityWithCredential(
  dataDir: string,
  names: { group: string; identity: string; credential: string },
  issuer: string,
  subject: string,
): string {
  const clientId = wikitOk(dataDir, [
    "identity",
    "create",
    "-g",
    names.group,
    "-n",
    names.identity,
    "--query",
    "clientId",
    "-o",
    "tsv",
  ]);
  wikitOk(dataDir, [
    "identity",
    "federated-credential",
    "create",
    "-g",
    names.group,
    "--identity-name",
    names.identity,
    "-n",
    names.credential,
    "--issuer",
    issuer,
    "--subject",
    subject,
    "-o",
    "none",
  ]);
  return clientId;
}

/** An HTTPS request to a server on loopback that answers for localhost, trusting `ca`; its status, headers and body. */
export function httpsRequest(
  url: string,
  options: { ca: string; method?: string; host?: string; body?: string; headers?: Record<string, string> },
) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const target = new URL(url);
      const outgoing = request(
        {
          host: "127.0.0.1",
          port: target.port,
          servername: "localhost",
          ca: options.ca,
          method: options.method ?? "GET",
          path: `${target.pathname}${target.search}`,
          headers: { host: options.host ?? target.host, ...options.headers },
        },
        (response) => {
          let body = "";
          response.on("data", (chunk: Buffer) => {
            body += chunk.toString();
          });
          response.on("end", () =>
            resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
          );
        },
      );
      outgoing.once("error", reject);
      outgoing.end(options.body);
    },
  );
}

export { pythonWithAzure } from "../../src/cli/walkthrough.ts";
