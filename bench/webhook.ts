// Admission throughput and latency of `wikit webhook serve`'s HTTPS server, against a baseline measured in the
// same run: a minimal node:https server that reads the body and answers a constant AdmissionReview of the same
// size. A third server, the parse floor, is the baseline plus one JSON.parse of each request body: no
// webhook that decodes the review with JSON.parse can be faster, so it shows how much of the gap is the decoding
// alone. Each server runs in its own process; this process is the client (node:https, keep-alive agent) and
// posts the real AdmissionReview fixture, byte for byte as a kube-apiserver sent it. The webhook runs as in
// production: TLS 1.3, the ServiceAccount from the informer cache (fed by a fake API server), the mutation,
// metrics, and logs at the default level (where admitted pods, unlike denials and errors, are not logged).
//
// Two measurements per server: closed-loop saturation (`--connections` requests in flight for `--seconds`, the
// same window for every server), and latency at a fixed 500 requests/s (open loop, `--rate-seconds` long).
// Rounds rotate which server goes first, so that drift in the machine's speed hits all alike; medians are
// reported with their spread. Server and client CPU per request are measured after the warm-up: client and
// servers share the machine's cores, so a client that needs more CPU per request than a server caps that
// server's throughput.
//
//   node bench/webhook.ts [--rounds 5] [--seconds 5] [--connections 16] [--rate-seconds 5]

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pino } from "pino";
import { startAdmissionServer } from "../src/cluster/webhook/admission-server.ts";
import { webhookLogDestination } from "../src/cluster/webhook/log-destination.ts";
import { admitPod } from "../src/cluster/webhook/pod-admission.ts";
import { ServiceAccountCache } from "../src/cluster/webhook/service-account-cache.ts";
import { createCertificateAuthority, issueServingCertificate } from "../src/pki/certificates.ts";
import { FakeKubeApi } from "../test/cluster/webhook/fake-kube-api.ts";
import { ADMISSION_REVIEW_TEXT as FIXTURE } from "../test/fixtures/kubernetes.ts";
import { closedLoop, median, openLoop, option, percentile, type Sample } from "./load.ts";

const MUTATION = {
  tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
  authorityHost: "https://login.microsoftonline.com/",
};
const SERVICE_ACCOUNT = {
  apiVersion: "v1",
  kind: "ServiceAccount",
  metadata: {
    name: "workload-sa",
    namespace: "wi-probe",
    annotations: { "azure.workload.identity/client-id": "8a0e4b52-31c1-4f4b-9b5e-4c6a4a7f1d20" },
  },
};

const SERVERS = [
  { role: "baseline", label: "baseline: node:https, constant answer" },
  { role: "parse-floor", label: "parse floor: baseline + JSON.parse of the request" },
  { role: "webhook", label: "wikit webhook" },
] as const;
type Role = (typeof SERVERS)[number]["role"];

// ---- Server processes -------------------------------------------------------------------------------------

/** The webhook as `wikit webhook serve` runs it, minus rotation (the certificate files are given). */
async function serveWebhook(certDir: string): Promise<number> {
  const api = await FakeKubeApi.start();
  api.put(SERVICE_ACCOUNT);
  // As `wikit webhook serve` logs, to /dev/null instead of stdout.
  const logger = pino(
    { level: "info", timestamp: pino.stdTimeFunctions.isoTime },
    webhookLogDestination("/dev/null"),
  );
  const serviceAccounts = new ServiceAccountCache({ kubeConfig: api.kubeConfig(), logger });
  serviceAccounts.start();
  await serviceAccounts.whenReady();
  const server = await startAdmissionServer({
    mutation: MUTATION,
    serviceAccounts,
    certDir,
    tlsMinVersion: "TLSv1.3",
    webhookAddress: { host: "127.0.0.1", port: 0 },
    logger,
  });
  return server.webhookListening;
}

/**
 * The baseline: read the body, answer a constant review as long as the webhook's answer to the fixture. With
 * `parseRequest`, the parse floor: the body is also decoded with JSON.parse, and nothing else is done with it.
 */
async function serveBaseline(certDir: string, parseRequest: boolean): Promise<number> {
  const answer = await admitPod(FIXTURE, {
    serviceAccounts: { get: async () => SERVICE_ACCOUNT },
    config: MUTATION,
  });
  const body = Buffer.from(JSON.stringify(answer.review));
  const server = https.createServer(
    {
      cert: readFileSync(join(certDir, "tls.crt")),
      key: readFileSync(join(certDir, "tls.key")),
      minVersion: "TLSv1.3",
    },
    (request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => {
        if (parseRequest) chunks.push(chunk);
      });
      request.on("end", () => {
        if (parseRequest) JSON.parse(Buffer.concat(chunks).toString("utf8"));
        response.writeHead(200, { "content-type": "application/json", "content-length": body.length });
        response.end(body);
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return typeof address === "object" && address !== null ? address.port : 0;
}

const role = process.argv[process.argv.indexOf("--serve") + 1];
if (process.argv.includes("--serve")) {
  const certDir = process.argv[process.argv.indexOf("--cert-dir") + 1] ?? "";
  const port =
    role === "webhook" ? await serveWebhook(certDir) : await serveBaseline(certDir, role === "parse-floor");
  process.stdout.write(`READY ${port}\n`);
  // "cpu" on stdin: report this process's CPU time so far (µs), so that the client can divide by requests.
  createInterface(process.stdin).on("line", (line) => {
    if (line === "cpu") {
      const { user, system } = process.cpuUsage();
      process.stdout.write(`CPU ${user + system}\n`);
    }
  });
  process.stdin.on("end", () => process.exit(0));
} else {
  await main();
}

// ---- Client ---------------------------------------------------------------------------------------------

function post(agent: https.Agent, port: number, ca: string, body: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const request = https.request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/mutate-v1-pod?timeout=10s",
        ca,
        agent,
        headers: { "content-type": "application/json", "content-length": body.length },
      },
      (response) => {
        response.on("data", () => {});
        response.on("end", () => resolve(response.statusCode === 200));
      },
    );
    request.on("error", () => resolve(false));
    request.end(body);
  });
}

/** Closed loop: `connections` requests in flight for `seconds`, after a warm-up that `onWarm` follows. */
async function saturate(
  port: number,
  ca: string,
  seconds: number,
  connections: number,
  onWarm: () => Promise<void>,
): Promise<Sample> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: connections });
  const body = Buffer.from(FIXTURE);
  return closedLoop(
    agent,
    () => post(agent, port, ca, body),
    { connections, seconds, warmup: connections * 50 },
    onWarm,
  );
}

async function fixedRate(port: number, ca: string, perSecond: number, seconds: number): Promise<Sample> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 64 });
  const body = Buffer.from(FIXTURE);
  await Promise.all(Array.from({ length: 200 }, () => post(agent, port, ca, body)));
  const sample = await openLoop(() => post(agent, port, ca, body), { perSecond, seconds });
  agent.destroy();
  return sample;
}

interface ServerProcess {
  port: number;
  /** The server process's CPU time so far, in µs. */
  cpu(): Promise<number>;
  stop(): void;
}

async function startServer(which: string, certDir: string): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [new URL(import.meta.url).pathname, "--serve", which, "--cert-dir", certDir],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  const cpuWaiters: ((microseconds: number) => void)[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    createInterface(child.stdout).on("line", (line) => {
      const ready = /^READY (\d+)$/.exec(line);
      if (ready) resolve(Number(ready[1]));
      const cpu = /^CPU (\d+)$/.exec(line);
      if (cpu) cpuWaiters.shift()?.(Number(cpu[1]));
    });
    child.on("exit", (code) => reject(new Error(`${which} server exited with ${code}`)));
  });
  return {
    port,
    cpu: () =>
      new Promise((resolve) => {
        cpuWaiters.push(resolve);
        child.stdin.write("cpu\n");
      }),
    stop: () => child.stdin.end(),
  };
}

/** µs of one JSON.parse of the review in a hot loop. */
function jsonParseMicroseconds(): number {
  for (let index = 0; index < 2000; index += 1) JSON.parse(FIXTURE);
  const runs = 20_000;
  const started = performance.now();
  for (let index = 0; index < runs; index += 1) JSON.parse(FIXTURE);
  return ((performance.now() - started) / runs) * 1000;
}

/** µs of one admission decision (parse, look up, mutate, encode) in a hot loop, without any I/O. */
async function admissionCoreMicroseconds(): Promise<number> {
  const serviceAccounts = { get: async () => SERVICE_ACCOUNT };
  for (let index = 0; index < 2000; index += 1)
    await admitPod(FIXTURE, { serviceAccounts, config: MUTATION });
  const runs = 10_000;
  const started = performance.now();
  for (let index = 0; index < runs; index += 1)
    await admitPod(FIXTURE, { serviceAccounts, config: MUTATION });
  return ((performance.now() - started) / runs) * 1000;
}

interface Round {
  saturated: Sample;
  paced: Sample;
  /** Server CPU per answered request during saturation, in µs. */
  cpuPerRequestUs: number;
  /** This process's CPU per answered request during saturation, in µs. */
  clientCpuPerRequestUs: number;
}

async function measure(server: ServerProcess, ca: string, options: MeasureOptions): Promise<Round> {
  let serverBefore = 0;
  let clientBefore = process.cpuUsage();
  const saturated = await saturate(server.port, ca, options.seconds, options.connections, async () => {
    serverBefore = await server.cpu();
    clientBefore = process.cpuUsage();
  });
  const client = process.cpuUsage(clientBefore);
  const cpuPerRequestUs = ((await server.cpu()) - serverBefore) / saturated.ok;
  const clientCpuPerRequestUs = (client.user + client.system) / saturated.ok;
  const paced = await fixedRate(server.port, ca, 500, options.rateSeconds);
  return { saturated, paced, cpuPerRequestUs, clientCpuPerRequestUs };
}

interface MeasureOptions {
  seconds: number;
  connections: number;
  rateSeconds: number;
}

async function main(): Promise<void> {
  const options: MeasureOptions = {
    seconds: option("seconds", 5),
    connections: option("connections", 16),
    rateSeconds: option("rate-seconds", 5),
  };
  const rounds = option("rounds", 5);
  const certDir = await mkdtemp(join(tmpdir(), "wikit-bench-webhook-"));
  const running: ServerProcess[] = [];
  try {
    const ca = await createCertificateAuthority("bench CA", 1);
    const serving = await issueServingCertificate(ca, ["127.0.0.1"], 1);
    await writeFile(join(certDir, "tls.crt"), serving.certPem);
    await writeFile(join(certDir, "tls.key"), serving.keyPem);
    const servers = new Map<Role, ServerProcess>();
    for (const { role } of SERVERS) {
      const server = await startServer(role, certDir);
      running.push(server);
      servers.set(role, server);
    }

    // Each round starts with the next server, so that drift in the machine's speed hits every server alike.
    const results: Record<Role, Round>[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const result: Partial<Record<Role, Round>> = {};
      for (let step = 0; step < SERVERS.length; step += 1) {
        const { role } = SERVERS[(round + step) % SERVERS.length] as (typeof SERVERS)[number];
        result[role] = await measure(servers.get(role) as ServerProcess, ca.certPem, options);
      }
      const complete = result as Record<Role, Round>;
      results.push(complete);
      const line = (r: Round) =>
        `${(r.saturated.ok / r.saturated.seconds).toFixed(0)} requests/s, server ${r.cpuPerRequestUs.toFixed(0)} µs CPU, client ${r.clientCpuPerRequestUs.toFixed(0)} µs CPU`;
      console.error(
        `round ${round + 1}: ${SERVERS.map(({ role }) => `${role} ${line(complete[role])}`).join("; ")}`,
      );
    }

    const rate = (sample: Sample) => sample.ok / sample.seconds;
    const summary = (role: Role) => {
      const picked = results.map((result) => result[role]);
      const rates = picked.map((r) => rate(r.saturated));
      return {
        rate: median(rates),
        rateSpread: `${Math.min(...rates).toFixed(0)}–${Math.max(...rates).toFixed(0)}`,
        clientCpu: median(picked.map((r) => r.clientCpuPerRequestUs)),
        p50: median(picked.map((r) => percentile(r.saturated.latenciesMs, 50))),
        p99: median(picked.map((r) => percentile(r.saturated.latenciesMs, 99))),
        cpu: median(picked.map((r) => r.cpuPerRequestUs)),
        pacedP50: median(picked.map((r) => percentile(r.paced.latenciesMs, 50))),
        pacedP99: median(picked.map((r) => percentile(r.paced.latenciesMs, 99))),
        failed: picked.reduce((sum, r) => sum + r.saturated.failed + r.paced.failed, 0),
      };
    };
    /** Per-round throughput of `role` over the baseline's in the same round: median and the rounds' values. */
    const ratioOf = (role: Role) => {
      const ratios = results.map((result) => rate(result[role].saturated) / rate(result.baseline.saturated));
      return { median: median(ratios), rounds: ratios.map((r) => r.toFixed(2)).join(", ") };
    };
    const responseBytes = JSON.stringify(
      (await admitPod(FIXTURE, { serviceAccounts: { get: async () => SERVICE_ACCOUNT }, config: MUTATION }))
        .review,
    ).length;
    console.log(
      `Admission over HTTPS keep-alive on loopback, ${rounds} rounds (medians, range in brackets): ${options.connections} connections for ${options.seconds} s; then 500 requests/s for ${options.rateSeconds} s.`,
    );
    console.log(
      `Request ${Buffer.byteLength(FIXTURE)} bytes (the real AdmissionReview), response ${responseBytes} bytes.\n`,
    );
    console.log(
      "| Server | requests/s | p50 ms | p99 ms | server CPU µs/request | client CPU µs/request | p50 ms @500/s | p99 ms @500/s | failed |",
    );
    console.log("|---|---|---|---|---|---|---|---|---|");
    const summaries = new Map(SERVERS.map(({ role }) => [role, summary(role)] as const));
    for (const { role, label } of SERVERS) {
      const s = summaries.get(role) as ReturnType<typeof summary>;
      console.log(
        `| ${label} | ${s.rate.toFixed(0)} (${s.rateSpread}) | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${s.cpu.toFixed(0)} | ${s.clientCpu.toFixed(0)} | ${s.pacedP50.toFixed(2)} | ${s.pacedP99.toFixed(2)} | ${s.failed} |`,
      );
    }
    const webhook = ratioOf("webhook");
    const floor = ratioOf("parse-floor");
    const webhookPacedP99 = (summaries.get("webhook") as ReturnType<typeof summary>).pacedP99;
    console.log(
      `\nthroughput vs. baseline: ${webhook.median.toFixed(2)}× (rounds: ${webhook.rounds}; target ≥ 0.7×) ${webhook.median >= 0.7 ? "met" : "NOT met"}`,
    );
    console.log(`parse floor vs. baseline: ${floor.median.toFixed(2)}× (rounds: ${floor.rounds})`);
    console.log(
      `p99 at 500 requests/s: ${webhookPacedP99.toFixed(2)} ms (target < 5 ms) ${webhookPacedP99 < 5 ? "met" : "NOT met"}`,
    );
    console.log(
      `in-process hot loops: JSON.parse of the review ${jsonParseMicroseconds().toFixed(0)} µs; whole admission decision (parse, cached ServiceAccount, mutate, encode) ${(await admissionCoreMicroseconds()).toFixed(0)} µs`,
    );
    console.log(`Node ${process.version}`);
  } finally {
    for (const server of running) server.stop();
    await rm(certDir, { recursive: true, force: true });
  }
}
