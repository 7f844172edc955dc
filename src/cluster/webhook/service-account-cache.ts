// ServiceAccounts for the admission handler (webhook.md §11): a cluster-wide informer keeps every
// ServiceAccount in memory, so that admitting a pod normally costs no API call. A miss is read directly from
// the API server — a ServiceAccount created a moment before its pod may not have reached the cache yet — and
// only a NotFound from the API server means "no such ServiceAccount". Misses are never remembered, so a
// ServiceAccount that appears later is found at once. Any other failure is thrown, for the handler to deny
// the pod with its text.

import {
  ApiException,
  CoreV1Api,
  type Informer,
  type KubeConfig,
  makeInformer,
  type ObjectCache,
  type V1ServiceAccount,
} from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { ServiceAccountLike } from "./pod-facts.ts";

/** Where the admission handler gets ServiceAccounts from. */
export interface ServiceAccountLookup {
  /** The ServiceAccount, or undefined when the API server has none; throws on any other failure. */
  get(namespace: string, name: string): Promise<ServiceAccountLike | undefined>;
  /** Whether the initial list has been loaded (the webhook is not ready before). */
  readonly ready: boolean;
}

/** A lookup that failed for another reason than NotFound; its message is the API server's text. */
export class ServiceAccountLookupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ServiceAccountLookupError";
  }
}

export interface ServiceAccountCacheOptions {
  kubeConfig: KubeConfig;
  logger?: Pick<Logger, "info" | "warn">;
  /** First delay before the informer is restarted after an error; doubles up to 30 s. Default 1 s. */
  restartDelayMs?: number;
  /** Longest wait for a direct read on a cache miss. Default 5 s (the API server gives the webhook 10 s). */
  requestTimeoutMs?: number;
}

const SERVICE_ACCOUNTS_PATH = "/api/v1/serviceaccounts";
const MAX_RESTART_DELAY_MS = 30_000;

export class ServiceAccountCache implements ServiceAccountLookup {
  readonly #api: CoreV1Api;
  readonly #informer: Informer<V1ServiceAccount> & ObjectCache<V1ServiceAccount>;
  readonly #logger: Pick<Logger, "info" | "warn"> | undefined;
  readonly #firstRestartDelayMs: number;
  readonly #requestTimeoutMs: number;
  #restartDelayMs: number;
  #restartTimer: NodeJS.Timeout | undefined;
  #started = false;
  #stopped = false;
  #ready = false;
  readonly #whenReady: Promise<void>;
  #resolveReady: () => void = () => {};

  constructor(options: ServiceAccountCacheOptions) {
    this.#api = options.kubeConfig.makeApiClient(CoreV1Api);
    this.#logger = options.logger;
    this.#firstRestartDelayMs = options.restartDelayMs ?? 1000;
    this.#restartDelayMs = this.#firstRestartDelayMs;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.#whenReady = new Promise((resolve) => {
      this.#resolveReady = resolve;
    });
    this.#informer = makeInformer(options.kubeConfig, SERVICE_ACCOUNTS_PATH, async () => {
      const list = await this.#api.listServiceAccountForAllNamespaces();
      // The informer stores the items right after this promise settles; report readiness after that.
      setImmediate(() => this.#listed(list.items.length));
      return list;
    });
    // The informer stops at the first error; it is restarted here, resuming from its last resourceVersion.
    this.#informer.on("error", (error: unknown) => this.#failed(error));
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** Settles once the initial list has been loaded. */
  whenReady(): Promise<void> {
    return this.#whenReady;
  }

  /** Starts listing and watching; returns at once (failures are logged and retried). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
    await this.#informer.stop();
  }

  /** The cached ServiceAccount, without asking the API server. */
  peek(namespace: string, name: string): V1ServiceAccount | undefined {
    return this.#informer.get(name, namespace);
  }

  async get(namespace: string, name: string): Promise<ServiceAccountLike | undefined> {
    const cached = this.#informer.get(name, namespace);
    if (cached !== undefined) return cached as ServiceAccountLike;
    try {
      return (await this.#readWithTimeout(namespace, name)) as ServiceAccountLike;
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return undefined;
      throw new ServiceAccountLookupError(kubeErrorMessage(error), { cause: error });
    }
  }

  #readWithTimeout(namespace: string, name: string): Promise<V1ServiceAccount> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `timed out after ${this.#requestTimeoutMs} ms reading serviceaccount ${namespace}/${name} from the API server`,
            ),
          ),
        this.#requestTimeoutMs,
      );
    });
    return Promise.race([this.#api.readNamespacedServiceAccount({ namespace, name }), timeout]).finally(() =>
      clearTimeout(timer),
    );
  }

  #run(): void {
    if (this.#stopped) return;
    this.#informer.start().catch((error: unknown) => this.#failed(error));
  }

  #listed(count: number): void {
    this.#restartDelayMs = this.#firstRestartDelayMs;
    if (this.#ready) return;
    this.#ready = true;
    this.#logger?.info({ serviceAccounts: count }, "service account cache synced");
    this.#resolveReady();
  }

  #failed(error: unknown): void {
    if (this.#stopped || this.#restartTimer !== undefined) return;
    const delay = this.#restartDelayMs;
    this.#restartDelayMs = Math.min(delay * 2, MAX_RESTART_DELAY_MS);
    this.#logger?.warn(
      { error: kubeErrorMessage(error), retryInMs: delay },
      "service account list/watch failed; restarting",
    );
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      this.#run();
    }, delay);
    this.#restartTimer.unref();
  }
}

/**
 * The text of a failed API call as a user should see it: the API server's Status message when there is
 * one (`serviceaccounts "x" is forbidden: …`), else the HTTP status, else the transport error.
 */
export function kubeErrorMessage(error: unknown): string {
  if (error instanceof ApiException) {
    const body: unknown = error.body;
    if (typeof body === "string" && body.trim() !== "") {
      try {
        const status = JSON.parse(body) as { message?: unknown };
        if (typeof status.message === "string" && status.message !== "") return status.message;
      } catch {
        // not JSON: reported below
      }
      return `the API server answered HTTP ${error.code}: ${body.slice(0, 200)}`;
    }
    return `the API server answered HTTP ${error.code}`;
  }
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? error.cause.message : undefined;
    return cause && !error.message.includes(cause) ? `${error.message}: ${cause}` : error.message;
  }
  return String(error);
}
