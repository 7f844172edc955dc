import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { resolveDataDir } from "../../server/data-dir.ts";
import { CliError } from "../cli-error.ts";
import {
  createFederatedIdentity,
  createVaultWithSecret,
  pythonWithAzure,
  type RunWikit,
  runAppArgs,
} from "../walkthrough.ts";
import { WikitClient } from "../wikit-client.ts";

// `wikit demo`: walkthrough W3 (a pod reads a Key Vault secret with workload identity) against the
// running stack, one visible `wikit` command at a time, ending with unmodified SDK apps.

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const cliEntry = join(repoRoot, "src", "cli", "main.ts");

const names = {
  group: "wikit-demo",
  identity: "demo-identity",
  namespace: "wlipoc",
  serviceAccount: "workload-identity-sa",
  secret: "my-secret",
  value: "Hello from wikit",
};

function showCommand(args: string[]): void {
  const quoted = args.map((arg) =>
    /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`,
  );
  process.stdout.write(`\n$ wikit ${quoted.join(" ")}\n`);
}

function wikit(dataDir: string, args: string[]): string {
  showCommand(args);
  const result = spawnSync(process.execPath, [cliEntry, ...args, "--data-dir", dataDir], {
    encoding: "utf8",
  });
  process.stdout.write(result.stdout);
  if (result.status !== 0) {
    throw new CliError(`step failed: wikit ${args.join(" ")}\n${result.stderr}`);
  }
  return result.stdout;
}

function runApp(dataDir: string, vaultUrl: string, command: string[]): void {
  const args = runAppArgs(names.namespace, names.serviceAccount, vaultUrl, names.secret, command);
  showCommand(args);
  const [subcommand = "run", ...rest] = args;
  const result = spawnSync(process.execPath, [cliEntry, subcommand, "--data-dir", dataDir, ...rest], {
    stdio: "inherit",
    cwd: repoRoot,
  });
  if (result.status !== 0) throw new CliError(`the app exited with code ${result.status}`);
}

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description(
      "walk through W3: an identity, its federated credential, a vault secret, and SDK apps reading it",
    )
    .option("--data-dir <dir>", "state directory of the running wikit (default: $WIKIT_HOME or ~/.wikit)")
    .option("--vault <name>", "vault name (global; default derived from the tenant)")
    .action(async (options: { dataDir?: string; vault?: string }) => {
      const dataDir = resolveDataDir(options.dataDir);
      const client = await WikitClient.connect(dataDir);
      const vaultName = options.vault ?? `demo-${client.info.tenantId.slice(0, 8)}`;
      process.stdout.write("# W3: a pod reads a Key Vault secret with workload identity, on this machine.\n");

      const run: RunWikit = (args) => JSON.parse(wikit(dataDir, args));
      run(["group", "create", "--name", names.group]);
      const cluster = run(["cluster", "show"]) as { oidcIssuerProfile: { issuerUrl: string } };
      const identity = createFederatedIdentity(run, {
        group: names.group,
        identity: names.identity,
        namespace: names.namespace,
        serviceAccount: names.serviceAccount,
        issuer: cluster.oidcIssuerProfile.issuerUrl,
      });
      const vault = createVaultWithSecret(run, {
        group: names.group,
        vault: vaultName,
        secret: names.secret,
        value: names.value,
        readerPrincipalId: identity.principalId,
      });
      const vaultUrl: string = vault.properties.vaultUri;

      process.stdout.write("\n# An unmodified JavaScript app (DefaultAzureCredential + SecretClient):\n");
      runApp(dataDir, vaultUrl, [process.execPath, join(repoRoot, "examples", "js", "read-secret.mjs")]);
      const python = pythonWithAzure();
      if (python && existsSync(join(repoRoot, "examples", "python", "read_secret.py"))) {
        process.stdout.write("\n# An unmodified Python app (DefaultAzureCredential + SecretClient):\n");
        runApp(dataDir, vaultUrl, [python, join(repoRoot, "examples", "python", "read_secret.py")]);
      } else {
        process.stdout.write("\n# (Python app skipped: install Debian's python3-azure to run it.)\n");
      }
      process.stdout.write(
        "\nDone: both reads went through the token exchange and the vault's RBAC check.\n",
      );
    });
}
