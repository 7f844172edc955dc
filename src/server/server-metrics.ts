import cluster from "node:cluster";
import type { FastifyInstance } from "fastify";
import { AggregatorRegistry, Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Store } from "../store/store.ts";

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** The AADSTS code of a token service error body (`"error_codes":[70021]`). */
const AADSTS_CODE = /"error_codes":\[(\d+)/;
const METRICS_REQUEST = "wikit:metrics-request";
const METRICS_RESPONSE = "wikit:metrics-response";

/**
 * What `wikit serve` exposes at /metrics: requests by route, status and AADSTS code, their latency, the store's
 * latency by operation, and the signing key's age. Under `--workers N` each worker counts its own and the primary
 * sums them (serveClusterMetrics), so that a scrape of any worker sees the whole pod.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly #requests = new Counter({
    name: "wikit_http_requests_total",
    help: "Requests answered, by method, route, status and AADSTS code (token service errors).",
    labelNames: ["method", "route", "status", "aadsts"] as const,
    registers: [this.registry],
  });
  readonly #requestSeconds = new Histogram({
    name: "wikit_http_request_duration_seconds",
    help: "Time to answer a request, by method and route.",
    labelNames: ["method", "route"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly #storeSeconds = new Histogram({
    name: "wikit_store_operation_duration_seconds",
    help: "Time the store took per operation, successful or not.",
    labelNames: ["operation"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  constructor(signingKeyAgeSeconds: () => number) {
    new Gauge({
      name: "wikit_signing_key_age_seconds",
      help: "Age of the token service's signing key.",
      registers: [this.registry],
      // Every worker sees the same key: summing their views would be wrong.
      aggregator: "max",
      collect() {
        this.set(signingKeyAgeSeconds());
      },
    });
    collectDefaultMetrics({ register: this.registry });
    if (cluster.isWorker) {
      // Making an aggregator is what starts a worker's answering the primary's requests for its metrics.
      new AggregatorRegistry();
      AggregatorRegistry.setRegistries([this.registry]);
    }
  }

  /** Counts and times every request of `app`; serves /metrics. */
  instrument(app: FastifyInstance): void {
    const aadstsCodes = new WeakMap<object, string>();
    app.addHook("onSend", async (request, reply, payload) => {
      if (reply.statusCode >= 400 && typeof payload === "string") {
        const code = AADSTS_CODE.exec(payload)?.[1];
        if (code) aadstsCodes.set(request, code);
      }
      return payload;
    });
    app.addHook("onResponse", async (request, reply) => {
      const route = request.routeOptions.url ?? "unmatched";
      this.#requests.inc({
        method: request.method,
        route,
        status: String(reply.statusCode),
        aadsts: aadstsCodes.get(request) ?? "",
      });
      this.#requestSeconds.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    });
    app.get("/metrics", async (_request, reply) => {
      const text = cluster.isWorker ? await metricsOfAllWorkers() : await this.registry.metrics();
      return reply.type(this.registry.contentType).send(text);
    });
  }

  /** `store`, with every call timed. */
  timed(store: Store): Store {
    const histogram = this.#storeSeconds;
    return new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        // Called on the store itself: its private fields are not the proxy's.
        if (property === "close") return value.bind(target);
        return async (...args: unknown[]) => {
          const stop = histogram.startTimer({ operation: String(property) });
          try {
            return await value.apply(target, args);
          } finally {
            stop();
          }
        };
      },
    });
  }
}

/** In a worker: the metrics of every worker of the pod, summed by the primary. */
function metricsOfAllWorkers(): Promise<string> {
  const id = `${process.pid}-${Math.random()}`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.off("message", onMessage);
      reject(new Error("the primary process did not answer with the workers' metrics"));
    }, 5000);
    const onMessage = (message: { type?: string; id?: string; text?: string; error?: string }) => {
      if (message?.type !== METRICS_RESPONSE || message.id !== id) return;
      clearTimeout(timer);
      process.off("message", onMessage);
      if (message.error !== undefined) reject(new Error(message.error));
      else resolve(message.text ?? "");
    };
    process.on("message", onMessage);
    process.send?.({ type: METRICS_REQUEST, id });
  });
}

/** In the primary of `--workers N`: answers a worker's request for the pod's metrics with all workers' sum. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on("message", (worker, message: { type?: string; id?: string }) => {
    if (message?.type !== METRICS_REQUEST) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: METRICS_RESPONSE, id: message.id, text }),
      (error: Error) => worker.send({ type: METRICS_RESPONSE, id: message.id, error: error.message }),
    );
  });
}
