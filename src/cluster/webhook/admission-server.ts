// The webhook's listeners: HTTPS `POST /mutate-v1-pod` for the API server, plain-HTTP health checks for the
// kubelet, and plain-HTTP Prometheus metrics.
//
// The HTTPS listener opens once a serving certificate can be read from the certificate directory and takes
// each later certificate without a restart. Until then, `/healthz` and `/readyz` answer
// `certs are not ready yet`; afterwards they check that the listener completes a TLS handshake, and `/readyz`
// also waits for the ServiceAccount cache and fails again once a shutdown is announced. The admission route
// itself is admission-handler.ts.

import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { Server as NetServer } from "node:net";
import type { SecureVersion } from "node:tls";
import { connect } from "node:tls";
import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import type { Logger } from "pino";
import { AdmissionHandler } from "./admission-handler.ts";
import { AdmissionMetrics } from "./admission-metrics.ts";
import { CERTS_NOT_READY_MESSAGE, WEBHOOK_PATH } from "./constants.ts";
import type { MutationConfig } from "./mutation.ts";
import type { ServiceAccountLookup } from "./service-account-cache.ts";
import { type ServingCertificate, ServingCertificateWatcher } from "./serving-certificate-watcher.ts";
import type { ListenAddress } from "./webhook-config.ts";

export interface AdmissionServerOptions {
  mutation: MutationConfig;
  serviceAccounts: ServiceAccountLookup;
  /** Directory holding tls.crt and tls.key. */
  certDir: string;
  tlsMinVersion: SecureVersion;
  /** The HTTPS listener; an empty host listens on every interface. */
  webhookAddress: ListenAddress;
  /** Undefined: no health listener. */
  healthAddress?: ListenAddress;
  /** Undefined: no metrics listener. */
  metricsAddress?: ListenAddress;
  logger: Logger;
  /** How often the certificate files are read again. Default 10 s. */
  certificatePollIntervalMs?: number;
  metrics?: AdmissionMetrics;
}

export interface AdmissionServer {
  /** Port of each listener, once it listens. */
  readonly ports: { webhook?: number; health?: number; metrics?: number };
  /** Settles with the HTTPS port once the first certificate is loaded and the listener is open. */
  readonly webhookListening: Promise<number>;
  readonly metrics: AdmissionMetrics;
  /** Reads the certificate files now; true when a new certificate was taken into service. */
  reloadCertificates(): Promise<boolean>;
  /** From now on `/readyz` fails, so that the cluster stops sending requests; admissions are still answered. */
  announceShutdown(): void;
  /** Stops accepting requests, lets those in flight finish, and closes every listener. */
  close(): Promise<void>;
}

const TLS_CHECK_TIMEOUT_MS = 2000;
const SHUTTING_DOWN_MESSAGE = "shutting down";
/** Idle keep-alive connections stay open this long (as under Fastify): closing them sooner races their reuse. */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

/** Opens the health and metrics listeners at once, and the HTTPS listener when its certificate is ready. */
export async function startAdmissionServer(options: AdmissionServerOptions): Promise<AdmissionServer> {
  const { logger } = options;
  const metrics = options.metrics ?? new AdmissionMetrics();
  const ports: { webhook?: number; health?: number; metrics?: number } = {};
  let webhook: AdmissionListener | undefined;
  let closing = false;
  let shutdownAnnounced = false;
  let resolveListening: (port: number) => void = () => {};
  let rejectListening: (error: Error) => void = () => {};
  const webhookListening = new Promise<number>((resolve, reject) => {
    resolveListening = resolve;
    rejectListening = reject;
  });
  webhookListening.catch(() => {});

  const useCertificate = async (certificate: ServingCertificate) => {
    if (closing) return;
    if (webhook !== undefined) {
      // New connections get the new certificate; open ones keep the one they negotiated.
      webhook.server.setSecureContext({ ...certificate, minVersion: options.tlsMinVersion });
      return;
    }
    const listener = admissionListener(options, metrics, certificate);
    try {
      ports.webhook = await listen(listener.server, options.webhookAddress);
    } catch (error) {
      // Fatal (the port is taken, say): no retry on later certificates.
      certificates.stop();
      closing = true;
      await listener.close();
      rejectListening(error as Error);
      throw error;
    }
    if (closing) {
      await listener.close(); // closed while it was starting to listen
      return;
    }
    webhook = listener;
    logger.info({ port: ports.webhook, path: WEBHOOK_PATH }, "admission webhook listening");
    resolveListening(ports.webhook);
  };
  const certificates = new ServingCertificateWatcher({
    certDir: options.certDir,
    onCertificate: useCertificate,
    logger,
    ...(options.certificatePollIntervalMs === undefined
      ? {}
      : { pollIntervalMs: options.certificatePollIntervalMs }),
  });

  const plain: FastifyInstance[] = [];
  try {
    if (options.healthAddress) {
      const health = buildHealthApp(
        () => webhookHealth(webhook, options.webhookAddress),
        options.serviceAccounts,
        () => shutdownAnnounced,
      );
      plain.push(health);
      ports.health = await listenFastify(health, options.healthAddress);
      logger.info({ port: ports.health, paths: ["/healthz", "/readyz"] }, "health checks listening");
    }
    if (options.metricsAddress) {
      const exposition = buildMetricsApp(metrics);
      plain.push(exposition);
      ports.metrics = await listenFastify(exposition, options.metricsAddress);
      logger.info({ port: ports.metrics, path: "/metrics" }, "metrics listening");
    }
  } catch (error) {
    await Promise.all(plain.map((app) => app.close()));
    throw error;
  }
  await certificates.start().catch((error: unknown) => {
    logger.error({ error: (error as Error).message }, "cannot open the admission webhook listener");
  });

  return {
    ports,
    webhookListening,
    metrics,
    reloadCertificates: () => certificates.check(),
    announceShutdown() {
      shutdownAnnounced = true;
    },
    async close() {
      closing = true;
      certificates.stop();
      rejectListening(new Error("the admission server was closed before it listened"));
      await Promise.all([webhook?.close(), ...plain.map((app) => app.close())]);
    },
  };
}

// ---- Admission listener ---------------------------------------------------------------------------------

interface AdmissionListener {
  server: HttpsServer;
  /** Stops accepting connections, closes idle ones, and settles once the requests in flight are answered. */
  close(): Promise<void>;
}

function admissionListener(
  options: AdmissionServerOptions,
  metrics: AdmissionMetrics,
  certificate: ServingCertificate,
): AdmissionListener {
  const handler = new AdmissionHandler({
    dependencies: { serviceAccounts: options.serviceAccounts, config: options.mutation },
    metrics,
    logger: options.logger,
  });
  const server = createHttpsServer(
    { ...certificate, minVersion: options.tlsMinVersion, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS },
    handler.handle,
  );
  // No overall limit on one request: the body limit bounds it, and the API server has its own timeout.
  server.requestTimeout = 0;
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        handler.drain();
        if (!server.listening) return resolve();
        // close() also ends the idle keep-alive connections; busy ones end with their answer (drain).
        server.close(() => resolve());
      }),
  };
}

// ---- Health and metrics listeners -----------------------------------------------------------------------

type Health = { ok: true } | { ok: false; reason: string };

function buildHealthApp(
  webhookHealthCheck: () => Promise<Health>,
  serviceAccounts: Pick<ServiceAccountLookup, "ready">,
  shuttingDown: () => boolean,
): FastifyInstance {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const answer = (reply: FastifyReply, health: Health) =>
    reply
      .code(health.ok ? 200 : 500)
      .type("text/plain; charset=utf-8")
      .send(health.ok ? "ok" : health.reason);
  app.get("/healthz", async (_request, reply) => answer(reply, await webhookHealthCheck()));
  app.get("/readyz", async (_request, reply) => {
    if (shuttingDown()) return answer(reply, { ok: false, reason: SHUTTING_DOWN_MESSAGE });
    const health = await webhookHealthCheck();
    if (!health.ok) return answer(reply, health);
    if (!serviceAccounts.ready)
      return answer(reply, { ok: false, reason: "service account cache has not synced yet" });
    return answer(reply, health);
  });
  return app;
}

/** Before the certificate: not ready. After: the listener must complete a TLS handshake. */
async function webhookHealth(
  webhook: AdmissionListener | undefined,
  address: ListenAddress,
): Promise<Health> {
  const port = webhook?.server.address();
  if (webhook === undefined || port === null || typeof port !== "object") {
    return { ok: false, reason: CERTS_NOT_READY_MESSAGE };
  }
  const host = ["", "::", "0.0.0.0"].includes(address.host) ? "127.0.0.1" : address.host;
  return new Promise<Health>((resolve) => {
    const socket = connect({
      host,
      port: port.port,
      rejectUnauthorized: false,
      timeout: TLS_CHECK_TIMEOUT_MS,
    });
    const finish = (health: Health) => {
      socket.destroy();
      resolve(health);
    };
    socket.once("secureConnect", () => finish({ ok: true }));
    socket.once("error", (error) =>
      finish({ ok: false, reason: `webhook server TLS check failed: ${error.message}` }),
    );
    socket.once("timeout", () => finish({ ok: false, reason: "webhook server TLS check timed out" }));
  });
}

function buildMetricsApp(metrics: AdmissionMetrics): FastifyInstance {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  app.get("/metrics", async (_request, reply) => {
    const { contentType, text } = await metrics.exposition();
    return reply.type(contentType).send(text);
  });
  return app;
}

// ---- Listening ------------------------------------------------------------------------------------------

/** Listens and returns the port; an empty host means every interface (IPv6 and IPv4, or IPv4 alone). */
async function listen(server: NetServer, address: ListenAddress): Promise<number> {
  const listenOn = (host: string) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(address.port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  await listenOnAddress(address, listenOn);
  return boundPort(server, address);
}

async function listenFastify(app: FastifyInstance, address: ListenAddress): Promise<number> {
  await listenOnAddress(address, (host) => app.listen({ host, port: address.port }).then(() => {}));
  return boundPort(app.server, address);
}

async function listenOnAddress(
  address: ListenAddress,
  listenOn: (host: string) => Promise<void>,
): Promise<void> {
  if (address.host !== "") return listenOn(address.host);
  try {
    await listenOn("::");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EAFNOSUPPORT") throw error;
    await listenOn("0.0.0.0");
  }
}

function boundPort(server: NetServer, address: ListenAddress): number {
  const bound = server.address();
  return bound !== null && typeof bound === "object" ? bound.port : address.port;
}
