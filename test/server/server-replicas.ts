// `wikit serve` replicas for tests: separate processes on loopback sharing one real PostgreSQL, one key ring and
// one admin token, behind a TCP balancer whose address is their public URL, as pods behind a Service. Each
// replica's log goes to its own file, so that tests can read every line any of them wrote.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { get } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../compat/issuer-host.ts";
import { cliEntry, httpsRequest, repoRoot, runWikit } from "../compat/local-stack.ts";
import { TcpBalancer } from "./tcp-balancer.ts";

export interface Replica {
  port: number;
  url: string;
  logFile: string;
  process?: ChildProcess;
}

export class ServerReplicas {
  readonly dir: string;
  readonly store: string;
  readonly replicas: Replica[];
  readonly balancer: TcpBalancer;
  readonly adminTokenFile: string;
  readonly adminToken: string;
  readonly caFile: string;
  #ca = "";
  readonly #extraArgs: string[];

  private constructor(
    dir: string,
    store: string,
    replicas: Replica[],
    balancer: TcpBalancer,
    extraArgs: string[],
  ) {
    this.dir = dir;
    this.store = store;
    this.replicas = replicas;
    this.balancer = balancer;
    this.#extraArgs = extraArgs;
    this.adminTokenFile = join(dir, "admin-token");
    this.adminToken = randomBytes(32).toString("base64url");
    writeFileSync(this.adminTokenFile, `${this.adminToken}\n`, { mode: 0o600 });
    const keyId = "k1";
    writeFileSync(
      join(dir, "secret-keys.json"),
      JSON.stringify({ current: keyId, keys: { [keyId]: randomBytes(32).toString("base64") } }),
      { mode: 0o600 },
    );
    this.caFile = join(dir, "ca.crt");
  }

  /** Starts `count` replicas on `store` (a PostgreSQL URL) at once, as a Deployment's pods start. */
  static async start(store: string, count: number, extraArgs: string[] = []): Promise<ServerReplicas> {
    const dir = mkdtempSync(join(tmpdir(), "wikit-serve-"));
    const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
    const replicas = ports.map((port, index) => ({
      port,
      url: `https://localhost:${port}`,
      logFile: join(dir, `replica-${index}.log`),
    }));
    const balancer = await TcpBalancer.start(ports);
    const set = new ServerReplicas(dir, store, replicas, balancer, extraArgs);
    await Promise.all(replicas.map((_, index) => set.startReplica(index)));
    const fetched = await getInsecure(ports[0] as number, "/wikit/ca.crt");
    assert.equal(fetched.status, 200, fetched.body);
    const ca = fetched.body;
    writeFileSync(set.caFile, ca);
    set.#ca = ca;
    return set;
  }

  get ca(): string {
    return this.#ca;
  }

  /** The URL clients use: the balancer's. */
  get publicUrl(): string {
    return `https://localhost:${this.balancer.port}`;
  }

  /** Starts replica `index` (again) and resolves once it answers /readyz. */
  async startReplica(index: number): Promise<void> {
    const replica = this.replicas[index] as Replica;
    const log = openSync(replica.logFile, "a");
    const child = spawn(
      process.execPath,
      [
        cliEntry,
        "serve",
        "--store",
        this.store,
        "--port",
        String(replica.port),
        "--listen-address",
        "::",
        "--public-url",
        this.publicUrl,
        "--secret-key-file",
        join(this.dir, "secret-keys.json"),
        "--admin-token-file",
        this.adminTokenFile,
        "--data-dir",
        this.dir,
        ...this.#extraArgs,
      ],
      { cwd: repoRoot, stdio: ["ignore", log, log] },
    );
    closeSync(log);
    replica.process = child;
    const deadline = Date.now() + 120_000;
    for (;;) {
      assert.equal(
        child.exitCode,
        null,
        `replica ${index} exited:\n${readFileSync(replica.logFile, "utf8")}`,
      );
      const { status } = await getInsecure(replica.port, "/readyz").catch(() => ({ status: 0 }));
      if (status === 200) return;
      assert.ok(
        Date.now() < deadline,
        `replica ${index} did not become ready:\n${readFileSync(replica.logFile, "utf8")}`,
      );
      await sleep(200);
    }
  }

  /** Sends `signal` to replica `index` and waits for it to end. */
  async stopReplica(index: number, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.replicas[index]?.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    await exited;
  }

  /** Everything every replica has logged. */
  logs(): string {
    return this.replicas.map((replica) => readFileSync(replica.logFile, "utf8")).join("");
  }

  /** Runs the CLI against replica `index` with `--server`, as an operator would. */
  cli(index: number, args: string[]) {
    return runWikit(args, {
      env: {
        ...process.env,
        WIKIT_HOME: join(this.dir, "cli"),
        WIKIT_SERVER: this.replicas[index]?.url,
        WIKIT_ADMIN_TOKEN_FILE: this.adminTokenFile,
        WIKIT_CA_FILE: this.caFile,
      },
      timeout: 60_000,
    });
  }

  /** The CLI's output, after asserting that it succeeded. */
  async cliOk(index: number, args: string[]): Promise<string> {
    const result = await this.cli(index, args);
    assert.equal(result.code, 0, `wikit ${args.join(" ")} failed: ${result.stderr}`);
    return result.stdout.trim();
  }

  /**
   * An HTTPS request to replica `index` as the balancer would pass it on: to the public URL's host and port
   * (`hostname` names a vault, else localhost).
   */
  request(
    index: number,
    path: string,
    options: { method?: string; hostname?: string; body?: string; headers?: Record<string, string> } = {},
  ) {
    const { hostname = "localhost", ...rest } = options;
    const replica = this.replicas[index] as Replica;
    return httpsRequest(`${replica.url}${path}`, {
      ca: this.#ca,
      host: `${hostname}:${this.balancer.port}`,
      ...rest,
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map((_, index) => this.stopReplica(index)));
    await this.balancer.close();
  }
}

/**
 * A GET to a server on loopback that does not check its certificate (how a client first fetches the CA it will
 * trust, and how a probe asks whether it is ready): its status and body.
 */
export function getInsecure(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = get(
      { host: "127.0.0.1", port, path, rejectUnauthorized: false, servername: "localhost" },
      (response) => {
        let body = "";
        response.on("data", (chunk: Buffer) => {
          body += chunk.toString();
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    request.once("error", reject);
    request.setTimeout(5000, () => request.destroy(new Error(`${path}: timed out`)));
  });
}

/** What `provisionVaultReader` makes: names of its pieces and the secret the vault holds. */
export interface VaultReaderPlan {
  group: string;
  identity: string;
  issuer: string;
  /** The service account the credential trusts, in namespace `default`. */
  serviceAccount: string;
  vault: string;
  secret: string;
  value: string;
}

/**
 * Through the CLI with `--server`, step k through replica k (modulo their number), as an operator's calls land
 * behind a Service: a group, an identity trusting the issuer's service account, a vault holding one secret, and
 * the identity's Key Vault Secrets Officer role on it. The identity as `identity create` printed it, and the vault's ID.
 */
export async function provisionVaultReader(replicas: ServerReplicas, plan: VaultReaderPlan) {
  let step = 0;
  const cli = (args: string[]) => replicas.cliOk(step++ % replicas.replicas.length, args);
  await cli(["group", "create", "-n", plan.group, "-l", "westeurope", "-o", "none"]);
  const identity = JSON.parse(await cli(["identity", "create", "-g", plan.group, "-n", plan.identity])) as {
    id: string;
    clientId: string;
    principalId: string;
    tenantId: string;
  };
  await cli([
    "identity",
    "federated-credential",
    "create",
    "-g",
    plan.group,
    "--identity-name",
    plan.identity,
    "-n",
    `${plan.identity}-fic`,
    "--issuer",
    plan.issuer,
    "--subject",
    `system:serviceaccount:default:${plan.serviceAccount}`,
    "-o",
    "none",
  ]);
  const vaultId = String(
    JSON.parse(await cli(["keyvault", "create", "-g", plan.group, "-n", plan.vault])).id,
  );
  await cli([
    "keyvault",
    "secret",
    "set",
    "--vault-name",
    plan.vault,
    "-n",
    plan.secret,
    "--value",
    plan.value,
    "-o",
    "none",
  ]);
  await cli([
    "role",
    "assignment",
    "create",
    "--role",
    "Key Vault Secrets Officer",
    "--assignee-object-id",
    identity.principalId,
    "--scope",
    vaultId,
    "-o",
    "none",
  ]);
  return { identity, vaultId };
}
