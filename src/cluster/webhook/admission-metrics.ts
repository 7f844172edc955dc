// The webhook's Prometheus metrics: upstream's latency histogram `azwi_mutation_request` (seconds, labels
// `namespace` and `service_name="webhook"`, upstream's buckets), recorded for every request whatever its
// outcome, and wikit's count of requests by result. Each server owns its registry, so that several servers
// in one process (tests, benchmarks) never share counts.

import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import {
  ADMISSION_REQUESTS_METRIC,
  METRICS_SERVICE_NAME,
  MUTATION_REQUEST_BUCKETS,
  MUTATION_REQUEST_METRIC,
} from "./constants.ts";

/** allowed and denied are decisions about the pod; error means no decision could be made. */
export type AdmissionResult = "allowed" | "denied" | "error";

export interface AdmissionMetricsOptions {
  /** Also export the Node.js process metrics (CPU, memory, event loop). Default true. */
  processMetrics?: boolean;
}

export class AdmissionMetrics {
  readonly registry = new Registry();
  readonly #latency: Histogram<"namespace" | "service_name">;
  readonly #requests: Counter<"result">;

  constructor(options: AdmissionMetricsOptions = {}) {
    this.#latency = new Histogram({
      name: MUTATION_REQUEST_METRIC,
      help: "Time taken to answer one admission request, in seconds",
      labelNames: ["namespace", "service_name"],
      buckets: [...MUTATION_REQUEST_BUCKETS],
      registers: [this.registry],
    });
    this.#requests = new Counter({
      name: ADMISSION_REQUESTS_METRIC,
      help: "Admission requests answered, by result: allowed, denied, or error when no decision could be made",
      labelNames: ["result"],
      registers: [this.registry],
    });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Records one answered request; `namespace` is empty when the body was not a readable review. */
  record(namespace: string, seconds: number, result: AdmissionResult): void {
    this.#latency.observe({ namespace, service_name: METRICS_SERVICE_NAME }, seconds);
    this.#requests.inc({ result });
  }

  /** The exposition text and its content type. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
