import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { resolveDataDir } from "../../server/data-dir.ts";
import { CliError } from "../cli-error.ts";
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

function wikit(dataDir: string, args: string[], options: { show?: boolean } = {}): string {
  if (options.show !== false) showCommand(args);
  const result = spawnSync(process.execPath, [cliEntry, ...args, "--data-dir", dataDir], {
    encoding: "utf8",
  });
  if (options.show !== false) process.stdout.write(result.stdout);
  if (result.status !== 0) {
    throw new CliError(`step failed: wikit ${args.join(" ")}\n${result.stderr}`);
  }
  return result.stdout;
}

/** The first interpreter that has Debian's python3-azure (or the same packages from PyPI). */
function pythonWithAzure(): string | undefined {
  for (const candidate of ["python3", "/usr/bin/python3"]) {
    const probe = spawnSync(candidate, ["-c", "import azure.identity, azure.keyvault.secrets"], {
      stdio: "ignore",
    });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

function runApp(dataDir: string, vaultUrl: string, command: string[]): void {
  const args = [
    "run",
    "--namespace",
    names.namespace,
    "--service-account",
    names.serviceAccount,
    "--env",
    `KEYVAULT_URL=${vaultUrl}`,
    "--env",
    `SECRET_NAME=${names.secret}`,
    "--",
    ...command,
  ];
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
    .option("--data-dir <dir>", "state directory of the running wikit (default: $WIKIT_HOME or .wikit)")
    .option("--vault <name>", "vault name (global; default derived from the tenant)")
    .action(async (options: { dataDir?: string; vault?: string }) => {
      const dataDir = resolveDataDir(options.dataDir);
      const client = await WikitClient.connect(dataDir);
      const vaultName = options.vault ?? `demo-${client.info.tenantId.slice(0, 8)}`;
      process.stdout.write("# W3: a pod reads a Key Vault secret with workload identity, on this machine.\n");

      wikit(dataDir, ["group", "create", "--name", names.group]);
      const identity = JSON.parse(
        wikit(dataDir, ["identity", "create", "--resource-group", names.group, "--name", names.identity]),
      );
      const cluster = JSON.parse(wikit(dataDir, ["cluster", "show"]));
      const issuer: string = cluster.oidcIssuerProfile.issuerUrl;
      wikit(dataDir, [
        "serviceaccount",
        "create",
        "--namespace",
        names.namespace,
        "--name",
        names.serviceAccount,
        "--client-id",
        identity.clientId,
      ]);
      wikit(dataDir, [
        "identity",
        "federated-credential",
        "create",
        "--name",
        names.namespace,
        "--identity-name",
        names.identity,
        "--resource-group",
        names.group,
        "--issuer",
        issuer,
        "--subject",
        `system:serviceaccount:${names.namespace}:${names.serviceAccount}`,
        "--audiences",
        "api://AzureADTokenExchange",
      ]);
      const vault = JSON.parse(
        wikit(dataDir, ["keyvault", "create", "--resource-group", names.group, "--name", vaultName]),
      );
      wikit(dataDir, [
        "keyvault",
        "secret",
        "set",
        "--vault-name",
        vaultName,
        "--name",
        names.secret,
        "--value",
        names.value,
      ]);
      const assignments = JSON.parse(
        wikit(
          dataDir,
          ["role", "assignment", "list", "--assignee", identity.principalId, "--scope", vault.id],
          { show: false },
        ),
      );
      if (assignments.length === 0) {
        wikit(dataDir, [
          "role",
          "assignment",
          "create",
          "--role",
          "Key Vault Secrets User",
          "--assignee-object-id",
          identity.principalId,
          "--scope",
          vault.id,
        ]);
      }
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
