// How `wikit serve` scales out: token exchanges and vault reads per second with one replica and with two (separate
// processes on one PostgreSQL), measured in the same run, and their ratio. Each replica set runs on a private
// PostgreSQL (bench/served-replicas.ts), provisioned through the CLI; the requests are those of a pod:
//
//   exchange  POST /{tenant}/oauth2/v2.0/token, a service-account token of the cluster's issuer as the client
//             assertion (RS256), answered with an RS256 access token for the vault;
//   read      GET /secrets/{name} at the vault's host with that access token.
//
// Per configuration and round, for each request: a closed loop of `--connections` requests in flight for `--seconds`
// (saturation), spread over the configuration's replicas in turn, then an open loop of `--rate` requests a second
// for `--rate-seconds` (latency at a fixed load, queueing aside). The configurations:
//
//   1 replica            one `wikit serve` process (a second one, for the next configuration, is up and idle);
//   2 replicas           the same two processes, both loaded;
//   1 replica, 2 workers one `wikit serve --workers 2` on a database of its own (skipped with --no-workers).
//
// Rounds rotate which configuration goes first, so that drift in the machine's speed hits all alike. Reported beside
// each figure: the replicas' CPU (process_cpu_seconds_total from their /metrics), this load generator's own CPU
// (process.cpuUsage(), as a share of one core: it shares the machine's cores with the replicas and PostgreSQL), how
// busy the whole machine was (/proc/stat), and the store's share of the requests' latency: the time the replicas'
// store calls took (wikit_store_operation_duration_seconds_sum, background writes such as the sign-in log's
// included) over the time their requests took (wikit_http_request_duration_seconds_sum of the route).
//
//   node bench/scale-out.ts [--seconds 8] [--connections 16] [--rate 100] [--rate-seconds 5] [--rounds 2]
//                           [--no-workers]

import * as https from "node:https";
import { closedLoop, median, openLoop, option, percentile, type Sample } from "./load.ts";
import {
  BenchCluster,
  type MetricSample,
  machineCpu,
  metricSum,
  ROUTES,
  type ServedVault,
} from "./served-replicas.ts";

interface Options {
  seconds: number;
  connections: number;
  rate: number;
  rateSeconds: number;
  rounds: number;
  workers: boolean;
}

interface Configuration {
  label: string;
  set: ServedVault;
  /** Indexes of the replicas the load goes to. */
  targets: number[];
  postgresCpuSeconds: () => number | undefined;
}

type Kind = "exchange" | "readSecret";
const KINDS: Kind[] = ["exchange", "readSecret"];
const KIND_LABEL: Record<Kind, string> = { exchange: "exchanges", readSecret: "vault reads" };

interface Snapshot {
  at: number;
  generatorCpuUs: number;
  postgresCpuSeconds: number | undefined;
  machine: ReturnType<typeof machineCpu>;
  metrics: MetricSample[][];
}

interface Saturation {
  sample: Sample;
  replicaCores: number;
  postgresCores: number | undefined;
  generatorCoreShare: number;
  generatorUsPerRequest: number;
  machineBusy: number | undefined;
  storeShare: number;
}

interface FixedRate {
  sample: Sample;
  storeShare: number;
  storeCallsPerRequest: number;
}

interface Measurement {
  saturation: Saturation;
  fixedRate: FixedRate;
}

async function snapshot(configuration: Configuration): Promise<Snapshot> {
  const metrics = await configuration.set.metrics(configuration.targets);
  const { user, system } = process.cpuUsage();
  return {
    at: performance.now(),
    generatorCpuUs: user + system,
    postgresCpuSeconds: configuration.postgresCpuSeconds(),
    machine: machineCpu(),
    metrics,
  };
}

/** Between two snapshots: the store's time over the route's request time, and store calls per request. */
function storeUse(kind: Kind, before: Snapshot, after: Snapshot): { share: number; callsPerRequest: number } {
  const delta = (name: string, labels?: Record<string, string>) =>
    metricSum(after.metrics, name, labels) - metricSum(before.metrics, name, labels);
  const route = { route: ROUTES[kind] };
  return {
    share:
      delta("wikit_store_operation_duration_seconds_sum") /
      delta("wikit_http_request_duration_seconds_sum", route),
    callsPerRequest:
      delta("wikit_store_operation_duration_seconds_count") /
      delta("wikit_http_request_duration_seconds_count", route),
  };
}

/** A request of `kind` to the configuration's replicas in turn; true when answered 200. */
function sender(configuration: Configuration, kind: Kind, agent: https.Agent): () => Promise<boolean> {
  const ports = configuration.targets.map((index) => configuration.set.ports[index] as number);
  const send = configuration.set[kind];
  let next = 0;
  return async () => (await send(agent, ports[next++ % ports.length] as number)) === 200;
}

async function saturate(configuration: Configuration, kind: Kind, options: Options): Promise<Saturation> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: options.connections });
  let before: Snapshot | undefined;
  const sample = await closedLoop(
    agent,
    sender(configuration, kind, agent),
    { connections: options.connections, seconds: options.seconds, warmup: options.connections * 10 },
    async () => {
      before = await snapshot(configuration);
    },
  );
  const after = await snapshot(configuration);
  if (!before) throw new Error("the closed loop never warmed up");
  const seconds = (after.at - before.at) / 1000;
  const generatorUs = after.generatorCpuUs - before.generatorCpuUs;
  const cpuSeconds =
    metricSum(after.metrics, "process_cpu_seconds_total") -
    metricSum(before.metrics, "process_cpu_seconds_total");
  const machineBusy =
    before.machine && after.machine
      ? (after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total)
      : undefined;
  const postgresSeconds =
    before.postgresCpuSeconds !== undefined && after.postgresCpuSeconds !== undefined
      ? after.postgresCpuSeconds - before.postgresCpuSeconds
      : undefined;
  return {
    sample,
    replicaCores: cpuSeconds / seconds,
    postgresCores: postgresSeconds === undefined ? undefined : postgresSeconds / seconds,
    generatorCoreShare: generatorUs / 1e6 / seconds,
    generatorUsPerRequest: generatorUs / Math.max(1, sample.ok),
    machineBusy,
    storeShare: storeUse(kind, before, after).share,
  };
}

async function fixedRate(configuration: Configuration, kind: Kind, options: Options): Promise<FixedRate> {
  const agent = new https.Agent({ keepAlive: true });
  const send = sender(configuration, kind, agent);
  const before = await snapshot(configuration);
  const sample = await openLoop(send, { perSecond: options.rate, seconds: options.rateSeconds });
  const after = await snapshot(configuration);
  agent.destroy();
  const store = storeUse(kind, before, after);
  return { sample, storeShare: store.share, storeCallsPerRequest: store.callsPerRequest };
}

const rate = (sample: Sample) => sample.ok / sample.seconds;

async function main(): Promise<void> {
  const options: Options = {
    seconds: option("seconds", 8),
    connections: option("connections", 16),
    rate: option("rate", 100),
    rateSeconds: option("rate-seconds", 5),
    rounds: option("rounds", 2),
    workers: !process.argv.includes("--no-workers"),
  };
  const startedAt = performance.now();
  const cluster = await BenchCluster.start();
  try {
    const pair = await cluster.replicaSet(2);
    const postgresCpuSeconds = () => cluster.postgresCpuSeconds();
    const configurations: Configuration[] = [
      { label: "1 replica", set: pair, targets: [0], postgresCpuSeconds },
      { label: "2 replicas", set: pair, targets: [0, 1], postgresCpuSeconds },
    ];
    if (options.workers) {
      configurations.push({
        label: "1 replica, --workers 2",
        set: await cluster.replicaSet(1, ["--workers", "2"]),
        targets: [0],
        postgresCpuSeconds,
      });
    }
    console.error(
      `replicas started and provisioned in ${((performance.now() - startedAt) / 1000).toFixed(0)} s`,
    );

    const results = new Map<string, Measurement[]>();
    for (let round = 0; round < options.rounds; round += 1) {
      const line: string[] = [];
      for (let step = 0; step < configurations.length; step += 1) {
        const configuration = configurations[(round + step) % configurations.length] as Configuration;
        for (const kind of KINDS) {
          const saturation = await saturate(configuration, kind, options);
          const fixed = await fixedRate(configuration, kind, options);
          const key = `${configuration.label}|${kind}`;
          results.set(key, [...(results.get(key) ?? []), { saturation, fixedRate: fixed }]);
          line.push(`${configuration.label} ${kind} ${rate(saturation.sample).toFixed(0)}/s`);
        }
      }
      console.error(`round ${round + 1}: ${line.join("; ")}`);
    }
    report(options, configurations, results);
    console.log(
      `\nNode ${process.version}; ${((performance.now() - startedAt) / 1000).toFixed(0)} s in all.`,
    );
  } finally {
    await cluster.close();
  }
}

function report(
  options: Options,
  configurations: Configuration[],
  results: Map<string, Measurement[]>,
): void {
  const measured = (label: string, kind: Kind) => results.get(`${label}|${kind}`) ?? [];
  const spread = (values: number[], digits = 0) =>
    values.length > 1
      ? ` (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`
      : "";
  const percent = (value: number | undefined) => (value === undefined ? "" : `${(100 * value).toFixed(0)} %`);

  console.log(
    `\`wikit serve\` on one PostgreSQL, HTTPS keep-alive on loopback, ${options.rounds} round(s), medians (range in brackets): ${options.connections} requests in flight for ${options.seconds} s, then ${options.rate} requests/s for ${options.rateSeconds} s.\n`,
  );
  console.log(
    "| Requests | Configuration | requests/s | p50 ms | p99 ms | replicas' CPU, cores | PostgreSQL CPU, cores | generator CPU, share of a core | generator µs/request | machine busy | store share | failed |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const kind of KINDS) {
    for (const { label } of configurations) {
      const rounds = measured(label, kind).map((m) => m.saturation);
      const rates = rounds.map((r) => rate(r.sample));
      const busy = rounds.map((r) => r.machineBusy).filter((value) => value !== undefined);
      const postgres = rounds.map((r) => r.postgresCores).filter((value) => value !== undefined);
      console.log(
        `| ${KIND_LABEL[kind]} | ${label} | ${median(rates).toFixed(0)}${spread(rates)} | ${median(rounds.map((r) => percentile(r.sample.latenciesMs, 50))).toFixed(1)} | ${median(rounds.map((r) => percentile(r.sample.latenciesMs, 99))).toFixed(1)} | ${median(rounds.map((r) => r.replicaCores)).toFixed(2)} | ${postgres.length ? median(postgres).toFixed(2) : "n/a"} | ${percent(median(rounds.map((r) => r.generatorCoreShare)))} | ${median(rounds.map((r) => r.generatorUsPerRequest)).toFixed(0)} | ${busy.length ? percent(median(busy)) : "n/a"} | ${percent(median(rounds.map((r) => r.storeShare)))} | ${rounds.reduce((sum, r) => sum + r.sample.failed, 0)} |`,
      );
    }
  }

  console.log(`\nAt a fixed ${options.rate} requests/s (open loop):\n`);
  console.log(
    "| Requests | Configuration | p50 ms | p99 ms | store share | store calls / request | failed |",
  );
  console.log("|---|---|---|---|---|---|---|");
  for (const kind of KINDS) {
    for (const { label } of configurations) {
      const rounds = measured(label, kind).map((m) => m.fixedRate);
      const p99s = rounds.map((r) => percentile(r.sample.latenciesMs, 99));
      console.log(
        `| ${KIND_LABEL[kind]} | ${label} | ${median(rounds.map((r) => percentile(r.sample.latenciesMs, 50))).toFixed(2)} | ${median(p99s).toFixed(2)}${spread(p99s, 2)} | ${percent(median(rounds.map((r) => r.storeShare)))} | ${median(rounds.map((r) => r.storeCallsPerRequest)).toFixed(1)} | ${rounds.reduce((sum, r) => sum + r.sample.failed, 0)} |`,
      );
    }
  }

  console.log(
    "\nScale-out, requests/s of a configuration over 1 replica's, per round (target for 2 replicas: ≥ 1.6×):\n",
  );
  const [single, ...others] = configurations;
  if (!single) return;
  for (const kind of KINDS) {
    const base = measured(single.label, kind).map((m) => rate(m.saturation.sample));
    for (const { label } of others) {
      const ratios = measured(label, kind).map(
        (m, round) => rate(m.saturation.sample) / (base[round] as number),
      );
      console.log(
        `- ${KIND_LABEL[kind]}, ${label} ÷ 1 replica: **${median(ratios).toFixed(2)}×** (rounds: ${ratios.map((r) => r.toFixed(2)).join(", ")})`,
      );
    }
  }
}

await main();
