import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "commander";
import {
  DEFAULT_APPCONFIG_DOMAIN,
  DEFAULT_PORT,
  DEFAULT_VAULT_DOMAIN,
} from "../../names/local-stack-names.ts";
import {
  dataDirFiles,
  isProcessAlive,
  readServerInfo,
  resolveDataDir,
  type ServerInfo,
} from "../../server/data-dir.ts";
import { CliError } from "../cli-error.ts";
import { note } from "../output.ts";

const STARTUP_TIMEOUT_MS = 60_000;
const SHUTDOWN_TIMEOUT_MS = 15_000;

interface UpOptions {
  port?: string;
  dataDir?: string;
  detach?: boolean;
  vaultDomain: string;
  appconfigDomain: string;
  logLevel: string;
  explainErrors: boolean;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliError(`--port must be a port number between 0 and 65535, not '${value}'`);
  }
  return port;
}

export function endpointsBanner(info: ServerInfo, dataDir: string): string {
  return [
    `wikit is up (pid ${info.pid}), data in ${dataDir}`,
    `  token service    ${info.url}/${info.tenantId}/oauth2/v2.0/token   (AZURE_AUTHORITY_HOST=${info.url}/)`,
    `  cluster issuer   ${info.issuerUrl}`,
    `  vaults           https://<name>.${info.vaultDomain}:${info.port}/`,
    `  app config       https://<name>.${info.appConfigDomain}:${info.port}`,
    `  management       ${info.url}/subscriptions/${info.subscriptionId}?api-version=2023-01-31`,
    `  admin            the principal of ${dataDirFiles.adminPrincipal(dataDir)} (certificate ${dataDirFiles.adminCertificate(dataDir)}), or the bearer in ${dataDirFiles.adminToken(dataDir)}`,
    `  tenant           ${info.tenantId}`,
    `  subscription     ${info.subscriptionId}`,
    `  trust            ${info.caFile}`,
    "Stop it with `wikit down`.",
  ].join("\n");
}

async function runInForeground(dataDir: string, options: UpOptions): Promise<void> {
  // Loaded here so that every other command starts without the server's modules.
  const { startLocalStack, vaultNamesResolve } = await import("../../server/local-stack.ts");
  const vaultDomain = options.vaultDomain.toLowerCase();
  const stack = await startLocalStack({
    dataDir,
    port: options.port === undefined ? undefined : parsePort(options.port),
    vaultDomain: options.vaultDomain,
    appConfigDomain: options.appconfigDomain,
    logLevel: options.logLevel,
    explainErrors: options.explainErrors,
  });
  process.stderr.write(`${endpointsBanner(stack.info, dataDir)}\n`);
  if (!(await vaultNamesResolve(vaultDomain))) {
    note(
      `note: names under ${vaultDomain} do not resolve to this machine. \`wikit run\` gives its command wikit's names\n` +
        "  itself; for other clients (curl, az, an IDE) install libnss-myhostname or add /etc/hosts lines\n" +
        '  (docs/local-development.md, "Names").',
    );
  }
  const stop = (signal: NodeJS.Signals) => {
    stack.app.log.info({ signal }, "shutting down");
    stack.close().then(
      () => process.exit(0),
      (error: unknown) => {
        stack.app.log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

/** Starts `wikit up` as a background process logging to the data directory, and waits until it serves. */
async function runDetached(dataDir: string): Promise<void> {
  const running = await readServerInfo(dataDir);
  if (running && isProcessAlive(running.pid)) {
    throw new CliError(`wikit is already running from ${dataDir} (pid ${running.pid}, ${running.url}).`);
  }
  const logFile = dataDirFiles.log(dataDir);
  const { mkdir } = await import("node:fs/promises");
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const log = openSync(logFile, "a", 0o600);
  const args = process.argv.slice(1).filter((arg) => arg !== "--detach");
  const child = spawn(process.execPath, [...process.execArgv, ...args], {
    detached: true,
    stdio: ["ignore", log, log],
    env: { ...process.env, WIKIT_HOME: dataDir },
  });
  closeSync(log);
  let exited: number | null | undefined;
  child.once("exit", (code) => {
    exited = code;
  });
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const info = await readServerInfo(dataDir);
    if (info && info.pid === child.pid) {
      child.unref();
      process.stderr.write(`${endpointsBanner(info, dataDir)}\nLogs: ${logFile}\n`);
      return;
    }
    if (exited !== undefined) {
      const tail = (await readFile(logFile, "utf8")).split("\n").slice(-15).join("\n");
      throw new CliError(`wikit up exited during start-up (code ${exited}). Last log lines:\n${tail}`);
    }
    await sleep(100);
  }
  child.kill("SIGTERM");
  throw new CliError(`wikit up did not start within ${STARTUP_TIMEOUT_MS / 1000} s; see ${logFile}`);
}

export function registerUpDown(program: Command): void {
  program
    .command("up")
    .description("run the local stack: cluster issuer, token service, vaults and management API over HTTPS")
    .option(
      "--port <n>",
      `HTTPS port on 127.0.0.1; 0 picks a free one (default: the previous start's, else ${DEFAULT_PORT})`,
    )
    .option("--data-dir <dir>", "state directory (default: $WIKIT_HOME or ~/.wikit)")
    .option("--detach", "run in the background, logging to <data-dir>/wikit.log")
    .option("--vault-domain <domain>", "parent domain of the vault host names", DEFAULT_VAULT_DOMAIN)
    .option(
      "--appconfig-domain <domain>",
      "parent domain of the App Configuration store host names",
      DEFAULT_APPCONFIG_DOMAIN,
    )
    .option("--log-level <level>", "fatal, error, warn, info, debug or trace", "info")
    .option(
      "--no-explain-errors",
      "do not say in a failed exchange which field of the nearest federated credential differs",
    )
    .action(async (options: UpOptions) => {
      const dataDir = resolveDataDir(options.dataDir);
      if (options.detach) await runDetached(dataDir);
      else await runInForeground(dataDir, options);
    });

  program
    .command("down")
    .description("stop the `wikit up` running from the data directory")
    .option("--data-dir <dir>", "state directory (default: $WIKIT_HOME or ~/.wikit)")
    .action(async (options: { dataDir?: string }) => {
      const dataDir = resolveDataDir(options.dataDir);
      const info = await readServerInfo(dataDir);
      if (!info || !isProcessAlive(info.pid)) {
        note(`wikit is not running from ${dataDir}.`);
        return;
      }
      process.kill(info.pid, "SIGTERM");
      const deadline = Date.now() + SHUTDOWN_TIMEOUT_MS;
      while (isProcessAlive(info.pid)) {
        if (Date.now() > deadline) {
          throw new CliError(`wikit (pid ${info.pid}) did not stop within ${SHUTDOWN_TIMEOUT_MS / 1000} s.`);
        }
        await sleep(50);
      }
      note(`wikit (pid ${info.pid}) stopped.`);
    });
}
