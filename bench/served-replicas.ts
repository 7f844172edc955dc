// What the `wikit serve` benchmarks share: a private PostgreSQL, a cluster's issuer (`wikit issuer init` and
// `wikit issuer serve` in their own process), and sets of `wikit serve` replicas on that PostgreSQL, each started by
// the tests' helper (test/server/server-replicas.ts: separate processes, one log file each) on a database of its own
// and provisioned through the CLI as an operator would: an identity trusting the issuer's service-account tokens, a
// vault holding a secret, and the identity's role on the vault.
//
// Requests go straight to the replicas' ports, each to the next targeted replica in turn, as a Service's
// kernel-level balancing spreads a client's connections: the tests' TCP balancer would copy every byte in this
// process and bill it to the load generator.

import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import * as https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, initIssuer, signWithKeyFile, startIssuerServe } from "../test/compat/issuer-host.ts";
import { provisionVaultReader, ServerReplicas } from "../test/server/server-replicas.ts";
import { PostgresTestServer } from "../test/store/postgres-server.ts";

const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const VAULT_API = "api-version=7.4";
const GROUP = "rg-bench";
const IDENTITY = "mi-bench";
const VAULT = "kv-bench";
const SERVICE_ACCOUNT = "bench-sa";
/** The secret every read asks for: 64 characters, a typical connection string's password. */
export const READ_SECRET = "bench-secret";

/** The PostgreSQL server and the issuer that every replica set of a run shares. */
export class BenchCluster {
  readonly #work: string;
  readonly #postgres: PostgresTestServer;
  readonly #issuerServe: ChildProcess;
  readonly issuer: string;
  readonly #issuerKeyFile: string;
  readonly #issuerCaFile: string;
  readonly #sets: ServedVault[] = [];

  private constructor(
    work: string,
    postgres: PostgresTestServer,
    issuerServe: ChildProcess,
    issuer: string,
    issuerDir: string,
    issuerData: string,
  ) {
    this.#work = work;
    this.#postgres = postgres;
    this.#issuerServe = issuerServe;
    this.issuer = issuer;
    this.#issuerKeyFile = join(issuerDir, "sa.key");
    this.#issuerCaFile = join(issuerData, "ca.crt");
  }

  static async start(): Promise<BenchCluster> {
    const work = await mkdtemp(join(tmpdir(), "wikit-bench-serve-"));
    const postgres = await PostgresTestServer.start();
    const issuerPort = await freePort();
    const issuer = `https://localhost:${issuerPort}/bench-cluster/`;
    const issuerDir = join(work, "issuer");
    const issuerData = join(work, "issuer-data");
    initIssuer(issuer, issuerDir);
    const issuerServe = await startIssuerServe(issuerDir, issuerPort, issuerData);
    return new BenchCluster(work, postgres, issuerServe, issuer, issuerDir, issuerData);
  }

  /** `count` replicas (with `extraArgs`, e.g. `--workers 2`) on a new database, provisioned and checked. */
  async replicaSet(count: number, extraArgs: string[] = []): Promise<ServedVault> {
    const replicas = await ServerReplicas.start(await this.#postgres.createDatabase(), count, [
      "--allow-private-issuers",
      "--issuer-ca-file",
      this.#issuerCaFile,
      ...extraArgs,
    ]);
    const set = new ServedVault(replicas);
    this.#sets.push(set);
    await set.provision(this.issuer, () =>
      signWithKeyFile(this.#issuerKeyFile, this.issuer, SERVICE_ACCOUNT),
    );
    return set;
  }

  /** The CPU seconds PostgreSQL has used so far (undefined where /proc is missing). */
  postgresCpuSeconds(): number | undefined {
    return postgresCpuSeconds(this.#postgres.port);
  }

  async close(): Promise<void> {
    for (const set of this.#sets) await set.close();
    this.#issuerServe.kill();
    await this.#postgres.destroy();
    await rm(this.#work, { recursive: true, force: true });
  }
}

type Send = (agent: https.Agent, port: number) => Promise<number>;

/** A provisioned replica set and the three requests the benchmarks make of it; each resolves to the status. */
export class ServedVault {
  readonly replicas: ServerReplicas;
  #tenantId = "";
  #clientId = "";
  #mintAssertion: () => Promise<string> = async () => "";
  #exchangeBody = Buffer.alloc(0);
  #accessToken = "";
  #vaultHost = "";

  constructor(replicas: ServerReplicas) {
    this.replicas = replicas;
  }

  /** The replicas' ports, in order: what a load spreads its requests over. */
  get ports(): number[] {
    return this.replicas.replicas.map((replica) => replica.port);
  }

  /** Through the CLI, as an operator: the directory, the vault, the secret and the role assignment. */
  async provision(issuer: string, mintAssertion: () => Promise<string>): Promise<void> {
    const value = randomBytes(48).toString("base64");
    const { identity } = await provisionVaultReader(this.replicas, {
      group: GROUP,
      identity: IDENTITY,
      issuer,
      serviceAccount: SERVICE_ACCOUNT,
      vault: VAULT,
      secret: READ_SECRET,
      value,
    });
    this.#tenantId = identity.tenantId;
    this.#clientId = identity.clientId;
    this.#mintAssertion = mintAssertion;
    this.#vaultHost = `${VAULT}.vault.localhost:${this.replicas.balancer.port}`;

    // Every replica answers the exchange, and the token it gives reads the secret back at every replica.
    for (const port of this.ports) await this.renewTokens(port);
    const agent = new https.Agent({ keepAlive: true });
    try {
      for (const port of this.ports) {
        const read = await this.#call(agent, port, this.#readRequest(READ_SECRET));
        if (read.status !== 200 || JSON.parse(read.body).value !== value) {
          throw new Error(`the secret did not read back at :${port}: ${read.status} ${read.body}`);
        }
      }
    } finally {
      agent.destroy();
    }
  }

  /**
   * A new service-account token for the exchanges and a new access token for the vault, got at `port`. Both last an
   * hour: a longer load renews them, as the kubelet renews a pod's projected token and the SDK its access token.
   */
  async renewTokens(port = this.ports[0] as number): Promise<void> {
    // One assertion for every exchange until then, as a pod's SDK presents its projected token.
    this.#exchangeBody = Buffer.from(
      new URLSearchParams({
        grant_type: "client_credentials",
        client_id: this.#clientId,
        client_assertion_type: JWT_BEARER,
        client_assertion: await this.#mintAssertion(),
        // The vault resource as this server names it: its vault domain at the public URL's port.
        scope: `https://vault.localhost:${this.replicas.balancer.port}/.default`,
      }).toString(),
    );
    const agent = new https.Agent({ keepAlive: false });
    try {
      const exchanged = await this.#call(agent, port, this.#exchangeRequest());
      if (exchanged.status !== 200) throw new Error(`the exchange failed at :${port}: ${exchanged.body}`);
      this.#accessToken = String(JSON.parse(exchanged.body).access_token);
    } finally {
      agent.destroy();
    }
  }

  /** POST /{tenant}/oauth2/v2.0/token with the service-account assertion. */
  readonly exchange: Send = (agent, port) => this.#status(agent, port, this.#exchangeRequest());

  /** GET /secrets/{READ_SECRET} with the access token. */
  readonly readSecret: Send = (agent, port) => this.#status(agent, port, this.#readRequest(READ_SECRET));

  /** PUT /secrets/{name}: a new version holding a fresh 64-character value. */
  writeSecret(agent: https.Agent, port: number, name: string): Promise<number> {
    const body = Buffer.from(
      JSON.stringify({ value: randomBytes(48).toString("base64"), tags: { by: "bench" } }),
    );
    return this.#status(agent, port, {
      method: "PUT",
      path: `/secrets/${name}?${VAULT_API}`,
      headers: {
        host: this.#vaultHost,
        authorization: `Bearer ${this.#accessToken}`,
        "content-type": "application/json",
        "content-length": String(body.length),
      },
      body,
    });
  }

  /** The replicas' /metrics (`indexes`, default all), each scraped at its own port. */
  async metrics(indexes = this.ports.map((_, index) => index)): Promise<MetricSample[][]> {
    const agent = new https.Agent({ keepAlive: false });
    try {
      return await Promise.all(
        indexes.map(async (index) => {
          const port = this.ports[index] as number;
          const scraped = await this.#call(agent, port, {
            method: "GET",
            path: "/metrics",
            headers: { host: `localhost:${this.replicas.balancer.port}` },
          });
          if (scraped.status !== 200) {
            const errors = readFileSync(this.replicas.replicas[index]?.logFile ?? "", "utf8")
              .split("\n")
              .filter((line) => line.includes('"level":50'));
            throw new Error(
              `/metrics at :${port} answered ${scraped.status}; its last error: ${errors.at(-1)}`,
            );
          }
          return parseMetrics(scraped.body);
        }),
      );
    } finally {
      agent.destroy();
    }
  }

  async close(): Promise<void> {
    await this.replicas.close();
    await rm(this.replicas.dir, { recursive: true, force: true });
  }

  #exchangeRequest(): OutgoingRequest {
    return {
      method: "POST",
      path: `/${this.#tenantId}/oauth2/v2.0/token`,
      headers: {
        host: `localhost:${this.replicas.balancer.port}`,
        "content-type": "application/x-www-form-urlencoded",
        "content-length": String(this.#exchangeBody.length),
      },
      body: this.#exchangeBody,
    };
  }

  #readRequest(name: string): OutgoingRequest {
    return {
      method: "GET",
      path: `/secrets/${name}?${VAULT_API}`,
      headers: { host: this.#vaultHost, authorization: `Bearer ${this.#accessToken}` },
    };
  }

  /** The status only: the body is read and dropped (0 when the connection failed). */
  #status(agent: https.Agent, port: number, outgoing: OutgoingRequest): Promise<number> {
    return new Promise((resolve) => {
      const request = https.request(
        { host: "127.0.0.1", port, servername: "localhost", ca: this.replicas.ca, agent, ...outgoing },
        (response) => {
          response.on("data", () => {});
          response.on("end", () => resolve(response.statusCode ?? 0));
          response.on("error", () => resolve(0));
        },
      );
      request.on("error", () => resolve(0));
      request.end(outgoing.body);
    });
  }

  #call(
    agent: https.Agent,
    port: number,
    outgoing: OutgoingRequest,
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const request = https.request(
        { host: "127.0.0.1", port, servername: "localhost", ca: this.replicas.ca, agent, ...outgoing },
        (response) => {
          let body = "";
          response.setEncoding("utf8").on("data", (chunk: string) => {
            body += chunk;
          });
          response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        },
      );
      request.on("error", reject);
      request.end(outgoing.body);
    });
  }
}

interface OutgoingRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

// ---- /metrics -------------------------------------------------------------------------------------------

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of Prometheus' text format (comments skipped). */
export function parseMetrics(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split("\n")) {
    const match = SAMPLE_LINE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(LABEL)) labels[key as string] = value as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of metric `name` over every replica's samples whose labels match `labels`. */
export function metricSum(
  replicas: MetricSample[][],
  name: string,
  labels: Record<string, string> = {},
): number {
  let sum = 0;
  for (const samples of replicas) {
    for (const sample of samples) {
      if (sample.name !== name) continue;
      if (Object.entries(labels).every(([key, value]) => sample.labels[key] === value)) sum += sample.value;
    }
  }
  return sum;
}

/** The request's route as the server's metrics name it (Fastify's pattern). */
export const ROUTES = {
  exchange: "/:tenant/oauth2/v2.0/token",
  readSecret: "/secrets/:name",
} as const;

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on every Linux build in use). */
const CLOCK_TICKS = 100;

/** utime + stime (and, with `children`, cutime + cstime: ended children's) of /proc/<pid>/stat, in ticks. */
function processTicks(stat: string, children: boolean): number {
  // Fields after the command name, which is in parentheses and may hold spaces: state is field 3, utime 14.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = (field: number) => Number(fields[field - 3] ?? 0);
  return ticks(14) + ticks(15) + (children ? ticks(16) + ticks(17) : 0);
}

/** Field 4 of /proc/<pid>/stat: the parent's pid. */
const parentPid = (stat: string) => stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1];

/**
 * The CPU seconds the test PostgreSQL on `port` has used so far: its postmaster (found by its `-p PORT`), the
 * backends and workers it forked, and those that ended; undefined where /proc is missing.
 */
export function postgresCpuSeconds(port: number): number | undefined {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((entry) => /^\d+$/.test(entry));
  } catch {
    return undefined;
  }
  const read = (pid: string, file: string) => {
    try {
      return readFileSync(`/proc/${pid}/${file}`, "utf8");
    } catch {
      return undefined;
    }
  };
  const postmaster = pids.find((pid) => {
    const args = read(pid, "cmdline")?.split("\0") ?? [];
    return (
      args[0]?.endsWith("/postgres") && args.includes("-p") && args[args.indexOf("-p") + 1] === String(port)
    );
  });
  if (postmaster === undefined) return undefined;
  let ticks = 0;
  for (const pid of pids) {
    const stat = read(pid, "stat");
    if (stat === undefined) continue;
    if (pid === postmaster) ticks += processTicks(stat, true);
    else if (parentPid(stat) === postmaster) ticks += processTicks(stat, false);
  }
  return ticks / CLOCK_TICKS;
}

/** The CPU time of the whole machine so far (all cores), busy and in all, from /proc/stat; undefined elsewhere. */
export function machineCpu(): { busy: number; total: number } | undefined {
  try {
    const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "")
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const total = fields.reduce((sum, value) => sum + value, 0);
    // idle and iowait are the fourth and fifth fields.
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}
