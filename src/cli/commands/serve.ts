import { mkdir } from "node:fs/promises";
import { cpus } from "node:os";
import { type Command, Option } from "commander";
import { DEFAULT_PORT, DEFAULT_VAULT_DOMAIN } from "../../names/local-stack-names.ts";
import { dataDirFiles, resolveDataDir } from "../../server/data-dir.ts";
import { CliError } from "../cli-error.ts";

interface ServeOptions {
  store?: string;
  port: string;
  listenAddress: string;
  publicUrl?: string;
  vaultDomain: string;
  appconfigDomain?: string;
  dataDir?: string;
  secretKeyFile?: string;
  adminTokenFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  workers: string;
  logLevel: string;
  allowPrivateIssuers?: boolean;
  issuerCaFile?: string;
  keyRotationDays: string;
  explainErrors?: boolean;
  storePoolSize: string;
  shutdownDelay: string;
}

function wholeNumber(flag: string, value: string, min: number, max: number): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new CliError(`${flag} must be a whole number from ${min} to ${max}, not '${value}'`);
  }
  return number;
}

/** A flag that may also be set by an environment variable (12-factor): the flag wins. */
const flag = (flags: string, description: string, env: string) => new Option(flags, description).env(env);

/**
 * A switch: on when given, else as its variable says (`true`/`1`/`yes` or `false`/`0`/`no`, anything else refused),
 * so that `WIKIT_X=false` turns it off rather than on.
 */
function switchValue(given: boolean | undefined, variable: string, env = process.env): boolean {
  if (given) return true;
  const value = env[variable]?.trim().toLowerCase();
  if (value === undefined || value === "" || ["false", "0", "no"].includes(value)) return false;
  if (["true", "1", "yes"].includes(value)) return true;
  throw new CliError(`${variable} must be true or false, not '${env[variable]}'`);
}

export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description(
      "Run the token service, the vaults and the management API as a server: one replica of many on a shared PostgreSQL (docs/server.md)",
    )
    .addOption(
      flag(
        "--store <url>",
        "postgres://USER@HOST:PORT/DB (password from PGPASSWORD or the URL), or a SQLite file (default: DATA_DIR/wikit.db)",
        "WIKIT_STORE",
      ),
    )
    .addOption(flag("--port <n>", "HTTPS port to listen on", "WIKIT_PORT").default(String(DEFAULT_PORT)))
    .addOption(
      flag("--listen-address <address>", "address to listen on", "WIKIT_LISTEN_ADDRESS").default("0.0.0.0"),
    )
    .addOption(
      flag(
        "--public-url <url>",
        "the https:// URL clients reach the server by (default: https://localhost:PORT)",
        "WIKIT_PUBLIC_URL",
      ),
    )
    .addOption(
      flag("--vault-domain <domain>", "vaults answer as <name>.<domain>", "WIKIT_VAULT_DOMAIN").default(
        DEFAULT_VAULT_DOMAIN,
      ),
    )
    .addOption(
      flag(
        "--appconfig-domain <domain>",
        "App Configuration stores answer as <name>.<domain> (default: azconfig. beside the vault domain)",
        "WIKIT_APPCONFIG_DOMAIN",
      ),
    )
    .addOption(
      flag("--data-dir <dir>", "where the key ring and admin token are kept by default", "WIKIT_HOME"),
    )
    .addOption(
      flag(
        "--secret-key-file <file>",
        "key ring sealing secret values and private keys, shared by every replica (default: DATA_DIR/secret-keys.json, made if missing)",
        "WIKIT_SECRET_KEY_FILE",
      ),
    )
    .addOption(
      flag(
        "--admin-token-file <file>",
        "the admin bearer credential, shared by every replica (default: DATA_DIR/admin-token, made if missing)",
        "WIKIT_ADMIN_TOKEN_FILE",
      ),
    )
    .addOption(
      flag(
        "--tls-cert <file>",
        "serving certificate (PEM) for the public host and *.<vault domain>; default: issued from the CA kept in the store",
        "WIKIT_TLS_CERT",
      ),
    )
    .addOption(flag("--tls-key <file>", "the serving certificate's key (PEM)", "WIKIT_TLS_KEY"))
    .addOption(
      flag(
        "--workers <n>",
        "processes sharing the port, one per core (0: one per CPU)",
        "WIKIT_WORKERS",
      ).default("1"),
    )
    .addOption(flag("--log-level <level>", "pino log level", "WIKIT_LOG_LEVEL").default("info"))
    .option(
      "--allow-private-issuers",
      "accept cluster issuers on private addresses (an issuer inside the same network); env WIKIT_ALLOW_PRIVATE_ISSUERS=true",
    )
    .addOption(
      flag(
        "--issuer-ca-file <file>",
        "extra CA certificates (PEM) trusted for issuers' discovery documents",
        "WIKIT_ISSUER_CA_FILE",
      ),
    )
    .addOption(
      flag(
        "--key-rotation-days <n>",
        "age of the token service's signing key at which its successor is published; the successor signs a day later",
        "WIKIT_KEY_ROTATION_DAYS",
      ).default("30"),
    )
    .option(
      "--explain-errors",
      "say in failed exchanges which field of the nearest federated credential differs; env WIKIT_EXPLAIN_ERRORS=true",
    )
    .addOption(
      flag("--store-pool-size <n>", "connections to PostgreSQL per process", "WIKIT_STORE_POOL_SIZE").default(
        "10",
      ),
    )
    .addOption(
      flag(
        "--shutdown-delay <seconds>",
        "after SIGTERM, keep answering this long while /readyz fails, so load balancers stop sending first",
        "WIKIT_SHUTDOWN_DELAY",
      ).default("0"),
    )
    .action(async (options: ServeOptions) => {
      const port = wholeNumber("--port", options.port, 0, 65535);
      const workersAsked = wholeNumber("--workers", options.workers, 0, 256);
      const workers = workersAsked === 0 ? cpus().length : workersAsked;
      const dataDir = resolveDataDir(options.dataDir);
      if (Boolean(options.tlsCert) !== Boolean(options.tlsKey)) {
        throw new CliError("--tls-cert and --tls-key go together: give both, or neither");
      }
      if (!options.store || !options.secretKeyFile || !options.adminTokenFile) {
        await mkdir(dataDir, { recursive: true, mode: 0o700 });
      }
      // Loaded here so that every other command starts without the server's modules.
      const { runServer } = await import("../../server/serve-workers.ts");
      const serverOptions = {
        store: options.store ?? dataDirFiles.database(dataDir),
        port,
        listenAddress: options.listenAddress,
        publicUrl: options.publicUrl ?? `https://localhost:${port}`,
        vaultDomain: options.vaultDomain,
        appConfigDomain: options.appconfigDomain,
        secretKeyFile: options.secretKeyFile ?? dataDirFiles.secretKeyRing(dataDir),
        adminTokenFile: options.adminTokenFile ?? dataDirFiles.adminToken(dataDir),
        tls:
          options.tlsCert && options.tlsKey
            ? { certFile: options.tlsCert, keyFile: options.tlsKey }
            : undefined,
        logLevel: options.logLevel,
        allowPrivateIssuers: switchValue(options.allowPrivateIssuers, "WIKIT_ALLOW_PRIVATE_ISSUERS"),
        issuerCaFile: options.issuerCaFile,
        keyRotation: {
          rotateAfterSeconds: wholeNumber("--key-rotation-days", options.keyRotationDays, 1, 3650) * 86_400,
        },
        explainErrors: switchValue(options.explainErrors, "WIKIT_EXPLAIN_ERRORS"),
        storePoolSize: wholeNumber("--store-pool-size", options.storePoolSize, 1, 1000),
      };
      const shutdownDelayMs = wholeNumber("--shutdown-delay", options.shutdownDelay, 0, 3600) * 1000;
      try {
        await runServer(serverOptions, { workers, shutdownDelayMs });
      } catch (error) {
        // What stops a start (an unreachable database, a key ring that opens nothing) is told in one line.
        throw new CliError(`wikit serve could not start: ${(error as Error).message}`);
      }
    });
}
