// A soak of `wikit serve`: two replicas (separate processes on one private PostgreSQL, bench/served-replicas.ts)
// under a steady mixed load for a long time, to show that nothing fails and nothing leaks. The load is an open loop
// of `--rate` requests a second, each sent when due whatever the others are doing, of which
//
//   a quarter  exchanges: POST /{tenant}/oauth2/v2.0/token with a service-account assertion;
//   a half     vault reads: GET /secrets/{name} with the access token;
//   a quarter  vault writes: PUT /secrets/{name}, a new version of one of 100 secrets each time,
//
// every kind spread over both replicas in turn (the service-account token and the access token are renewed every 20
// minutes, as a pod's are, so that a soak may last longer than they do). After `--warmup` seconds of the same load, the replicas' resident
// memory (process_resident_memory_bytes from each one's /metrics) is taken as the start; then the load runs for
// `--duration` seconds, memory sampled `--samples` times along the way. Reported: every request that was not
// answered 200 (by kind and status), latency by kind (from when each request was due), and each replica's memory
// at the start, at the end and at its peak, with the growth.
//
//   node bench/soak.ts [--duration 600] [--rate 200] [--warmup 60] [--samples 10]

import * as https from "node:https";
import { openLoop, option, percentile, type Sample } from "./load.ts";
import { BenchCluster, type MetricSample, metricSum, type ServedVault } from "./served-replicas.ts";

const WRITTEN_SECRETS = 100;
/** Well within the hour that the service-account token and the access token last. */
const TOKEN_RENEWAL_MS = 20 * 60_000;
type Kind = "exchange" | "read" | "write";
/** The mix, by request index: one in four an exchange, one a write, two reads. */
const MIX: Kind[] = ["exchange", "read", "write", "read"];
const KIND_LABEL: Record<Kind, string> = {
  exchange: "exchanges",
  read: "vault reads",
  write: "vault writes",
};
const kindOf = (index: number) => MIX[index % MIX.length] as Kind;

interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const detail = (memory: Memory) => `heap ${mib(memory.heapUsed)}, external ${mib(memory.external)}`;

/** Each replica's memory, from its own /metrics. */
async function memory(set: ServedVault): Promise<Memory[]> {
  const replicas = await set.metrics();
  return replicas.map((samples: MetricSample[]) => ({
    rss: metricSum([samples], "process_resident_memory_bytes"),
    heapUsed: metricSum([samples], "nodejs_heap_size_used_bytes"),
    external: metricSum([samples], "nodejs_external_memory_bytes"),
  }));
}

/** The mixed load's requests, each kind to the replicas in turn; failures counted by kind and status. */
function mixedLoad(set: ServedVault) {
  const agent = new https.Agent({ keepAlive: true });
  const failures = new Map<string, number>();
  const turns: Record<Kind, number> = { exchange: 0, read: 0, write: 0 };
  let writes = 0;
  const send = async (index: number): Promise<boolean> => {
    const kind = kindOf(index);
    const port = set.ports[turns[kind]++ % set.ports.length] as number;
    const status =
      kind === "exchange"
        ? await set.exchange(agent, port)
        : kind === "read"
          ? await set.readSecret(agent, port)
          : await set.writeSecret(agent, port, `soak-${writes++ % WRITTEN_SECRETS}`);
    if (status === 200) return true;
    const key = `${KIND_LABEL[kind]}: ${status === 0 ? "connection failed" : status}`;
    failures.set(key, (failures.get(key) ?? 0) + 1);
    return false;
  };
  return { agent, failures, send };
}

async function main(): Promise<void> {
  const duration = option("duration", 600);
  const perSecond = option("rate", 200);
  const warmup = option("warmup", 60);
  const samples = option("samples", 10);
  const startedAt = performance.now();
  const cluster = await BenchCluster.start();
  try {
    const set = await cluster.replicaSet(2);
    const load = mixedLoad(set);
    const renewal = setInterval(
      () =>
        void set
          .renewTokens()
          .catch((error: Error) => console.error(`token renewal failed: ${error.message}`)),
      TOKEN_RENEWAL_MS,
    ).unref();
    console.error(`replicas started and provisioned; warming up for ${warmup} s at ${perSecond} requests/s`);
    await openLoop(load.send, { perSecond, seconds: warmup });
    const warmupFailures = new Map(load.failures);
    load.failures.clear();
    const start = await memory(set);
    console.error(`start: RSS ${start.map((m) => mib(m.rss)).join(", ")}; soaking for ${duration} s`);

    const peak = start.map((m) => m.rss);
    const soakStarted = performance.now();
    const sampler = setInterval(
      () =>
        void memory(set).then(
          (now) => {
            now.forEach((m, replica) => {
              peak[replica] = Math.max(peak[replica] ?? 0, m.rss);
            });
            const elapsed = (performance.now() - soakStarted) / 1000;
            const failed = [...load.failures.values()].reduce((sum, count) => sum + count, 0);
            console.error(
              `${elapsed.toFixed(0)} s: ${now.map((m) => `RSS ${mib(m.rss)} (${detail(m)})`).join("; ")}; ${failed} failed so far`,
            );
          },
          (error: Error) => console.error(`memory sample failed: ${error.message}`),
        ),
      (duration * 1000) / samples,
    );
    let soaked: Sample;
    try {
      soaked = await openLoop(load.send, { perSecond, seconds: duration });
    } finally {
      clearInterval(sampler);
    }
    const end = await memory(set);
    end.forEach((m, replica) => {
      peak[replica] = Math.max(peak[replica] ?? 0, m.rss);
    });
    clearInterval(renewal);
    load.agent.destroy();
    report({
      duration,
      perSecond,
      warmup,
      warmupFailures,
      soaked,
      failures: load.failures,
      start,
      end,
      peak,
    });
    console.log(
      `\nNode ${process.version}; ${((performance.now() - startedAt) / 1000).toFixed(0)} s in all.`,
    );
  } finally {
    await cluster.close();
  }
}

interface Results {
  duration: number;
  perSecond: number;
  warmup: number;
  warmupFailures: Map<string, number>;
  soaked: Sample;
  failures: Map<string, number>;
  start: Memory[];
  end: Memory[];
  peak: number[];
}

function report(results: Results): void {
  const { soaked, start, end, peak } = results;
  const sent = soaked.ok + soaked.failed;
  console.log(
    `\`wikit serve\`, 2 replicas on one PostgreSQL, HTTPS keep-alive on loopback: ${results.perSecond} requests/s (open loop) for ${results.duration} s after ${results.warmup} s of warm-up; ${sent} requests sent at ${(sent / soaked.seconds).toFixed(1)}/s.\n`,
  );
  console.log("| Requests | sent | p50 ms | p99 ms | failed |");
  console.log("|---|---|---|---|---|");
  const row = (label: string, latencies: number[], failed: number) =>
    console.log(
      `| ${label} | ${latencies.length} | ${percentile(latencies, 50).toFixed(2)} | ${percentile(latencies, 99).toFixed(2)} | ${failed} |`,
    );
  for (const kind of ["exchange", "read", "write"] as Kind[]) {
    const latencies = soaked.latenciesMs.filter((_, index) => kindOf(index) === kind);
    const failed = [...results.failures]
      .filter(([key]) => key.startsWith(`${KIND_LABEL[kind]}:`))
      .reduce((sum, [, count]) => sum + count, 0);
    row(KIND_LABEL[kind], latencies, failed);
  }
  row("all", soaked.latenciesMs, soaked.failed);

  console.log(
    "\nResident memory of each replica (process_resident_memory_bytes; V8's heap used and external memory in brackets):\n",
  );
  console.log("| Replica | at start (after warm-up) | at end | growth | peak |");
  console.log("|---|---|---|---|---|");
  const growths = start.map((before, replica) => {
    const after = end[replica] as Memory;
    const growth = (after.rss - before.rss) / before.rss;
    console.log(
      `| ${replica} | ${mib(before.rss)} (${detail(before)}) | ${mib(after.rss)} (${detail(after)}) | ${(100 * growth).toFixed(1)} % | ${mib(peak[replica] ?? 0)} |`,
    );
    return growth;
  });

  const errors = [...results.failures].map(([key, count]) => `${key} × ${count}`);
  const warmupErrors = [...results.warmupFailures].map(([key, count]) => `${key} × ${count}`);
  console.log("");
  console.log(`- **Errors: ${soaked.failed}** (target 0)${errors.length ? `: ${errors.join("; ")}` : ""}.`);
  if (warmupErrors.length) console.log(`- During the warm-up: ${warmupErrors.join("; ")}.`);
  console.log(
    `- **RSS growth: ${growths.map((growth) => `${(100 * growth).toFixed(1)} %`).join(", ")}** (target < 10 %).`,
  );
  console.log(
    `- Latency of all requests: p50 ${percentile(soaked.latenciesMs, 50).toFixed(2)} ms, p99 ${percentile(soaked.latenciesMs, 99).toFixed(2)} ms.`,
  );
}

await main();
