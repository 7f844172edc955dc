import cluster, { type Worker } from "node:cluster";
import { setTimeout as sleep } from "node:timers/promises";
import pino from "pino";
import { loadAdminTokenFile } from "./data-dir.ts";
import { loadOrCreateSecretKeyRing } from "./secret-key-ring-file.ts";
import { serveClusterMetrics } from "./server-metrics.ts";
import { type RunningServer, type ServerOptions, startServer } from "./server-stack.ts";

/** A worker that dies sooner than this after its start is not restarted at once again (a crash loop). */
const RESTART_BACKOFF_MS = 1000;

export interface RunOptions {
  /** Processes sharing the port; 1 runs the server in this process. */
  workers: number;
  /** After SIGTERM, how long to go on answering while /readyz fails, so load balancers stop sending first. */
  shutdownDelayMs: number;
}

/**
 * Runs `wikit serve` until SIGTERM or SIGINT: in this process, or as `workers` processes sharing its port
 * (node:cluster), so that one pod uses its cores. The primary restarts a worker that dies and sums the workers'
 * metrics; each worker is a whole replica of its own on the shared store.
 */
export async function runServer(options: ServerOptions, run: RunOptions): Promise<void> {
  const { workers } = run;
  if (workers <= 1 || cluster.isWorker) {
    stopOnSignal(await startServer(options), run.shutdownDelayMs);
    return;
  }
  // Made here, before any worker starts: workers making them at the same moment would each make their own, and
  // seal the store's keys under a key ring the others do not have.
  await loadOrCreateSecretKeyRing(options.secretKeyFile);
  await loadAdminTokenFile(options.adminTokenFile);
  superviseWorkers(options, workers);
}

function stopOnSignal(server: RunningServer, shutdownDelayMs: number): void {
  const stop = (signal: string) => {
    server.app.log.info({ signal, drainMs: shutdownDelayMs }, "wikit serve stopping");
    server.drain();
    sleep(shutdownDelayMs)
      .then(() => server.close())
      .then(
        () => process.exit(0),
        (error: Error) => {
          server.app.log.error({ err: error }, "wikit serve did not stop cleanly");
          process.exit(1);
        },
      );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

function superviseWorkers(options: ServerOptions, workers: number): void {
  const log = pino({ level: options.logLevel ?? "info" }, options.logStream ?? process.stdout);
  serveClusterMetrics();
  let stopping = false;
  const started = new Map<Worker, number>();
  const fork = () => started.set(cluster.fork(), Date.now());
  cluster.on("exit", (worker, code, signal) => {
    const ranMs = Date.now() - (started.get(worker) ?? 0);
    started.delete(worker);
    if (stopping) {
      if (started.size === 0) process.exit(0);
      return;
    }
    log.error({ pid: worker.process.pid, code, signal }, "a wikit serve worker died; starting another");
    setTimeout(fork, ranMs < RESTART_BACKOFF_MS ? RESTART_BACKOFF_MS : 0);
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, workers: started.size }, "wikit serve stopping its workers");
    if (started.size === 0) process.exit(0);
    for (const worker of started.keys()) worker.process.kill("SIGTERM");
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  for (let i = 0; i < workers; i++) fork();
  log.info({ workers, port: options.port }, "wikit serve started its workers");
}
