// The webhook's listeners: HTTPS `POST /mutate-v1-pod` for the API server, plain-HTTP health checks for the
// kubelet, and plain-HTTP Prometheus metrics.
//
// The HTTPS listener opens once a serving certificate can be read from the certificate directory and takes
// each later certificate without a restart. Until then, `/healthz` and `/readyz` answer
// `certs are not ready yet`; afterwards they check that the listener completes a TLS handshake, and `/readyz`
// also waits for the ServiceAccount cache. Every request that reaches the admission route is answered with an
// AdmissionReview — HTTP 200 for reviews, 400/413 for bodies that cannot be reviewed — counted in the
// metrics, and logged as one JSON line without the pod's spec or environment.

import type { Server as HttpsServer } from "node:https";
import type { SecureVersion } from "node:tls";
import { connect } from "node:tls";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from "fastify";
import type { Logger } from "pino";
import { AdmissionMetrics } from "./admission-metrics.ts";
import { unreviewableResponse } from "./admission-review.ts";
import { CERTS_NOT_READY_MESSAGE, MAX_ADMISSION_REVIEW_BYTES, WEBHOOK_PATH } from "./constants.ts";
import type { MutationConfig } from "./mutation.ts";
import { admitPod, type PodAdmission } from "./pod-admission.ts";
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
  /** Stops accepting requests, lets those in flight finish, and closes every listener. */
  close(): Promise<void>;
}

const JSON_CONTENT_TYPE = "application/json";
const TLS_CHECK_TIMEOUT_MS = 2000;

/** Opens the health and metrics listeners at once, and the HTTPS listener when its certificate is ready. */
export async function startAdmissionServer(options: AdmissionServerOptions): Promise<AdmissionServer> {
  const { logger } = options;
  const metrics = options.metrics ?? new AdmissionMetrics();
  const ports: { webhook?: number; health?: number; metrics?: number } = {};
  let webhook: FastifyInstance | undefined;
  let closing = false;
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
      (webhook.server as unknown as HttpsServer).setSecureContext({
        ...certificate,
        minVersion: options.tlsMinVersion,
      });
      return;
    }
    const app = buildWebhookApp(options, metrics, certificate);
    try {
      ports.webhook = await listen(app, options.webhookAddress);
    } catch (error) {
      // Fatal (the port is taken, say): no retry on later certificates.
      certificates.stop();
      closing = true;
      await app.close();
      rejectListening(error as Error);
      throw error;
    }
    if (closing) {
      await app.close(); // closed while it was starting to listen
      return;
    }
    webhook = app;
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
      );
      plain.push(health);
      ports.health = await listen(health, options.healthAddress);
      logger.info({ port: ports.health, paths: ["/healthz", "/readyz"] }, "health checks listening");
    }
    if (options.metricsAddress) {
      const exposition = buildMetricsApp(metrics);
      plain.push(exposition);
      ports.metrics = await listen(exposition, options.metricsAddress);
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
    async close() {
      closing = true;
      certificates.stop();
      rejectListening(new Error("the admission server was closed before it listened"));
      await Promise.all([webhook?.close(), ...plain.map((app) => app.close())]);
    },
  };
}

// ---- Admission listener ---------------------------------------------------------------------------------

function buildWebhookApp(
  options: AdmissionServerOptions,
  metrics: AdmissionMetrics,
  certificate: ServingCertificate,
): FastifyInstance {
  const { logger } = options;
  const app = Fastify({
    https: { ...certificate, minVersion: options.tlsMinVersion },
    logger: false,
    bodyLimit: MAX_ADMISSION_REVIEW_BYTES,
    forceCloseConnections: "idle",
    return503OnClosing: true,
  });
  // The body stays raw: the content type is checked exactly, and the review parsed, in the handler.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));

  const dependencies = { serviceAccounts: options.serviceAccounts, config: options.mutation };
  const refuse = (reply: FastifyReply, code: number, message: string) => {
    const seconds = reply.elapsedTime / 1000;
    metrics.record("", seconds, "error");
    logger.warn({ code, message, latencyMs: round(reply.elapsedTime) }, "admission request refused");
    return sendJson(reply, code, unreviewableResponse(code, message));
  };

  app.post(WEBHOOK_PATH, async (request, reply) => {
    const body = request.body as Buffer | undefined;
    if (body === undefined || body.length === 0) return refuse(reply, 400, "request body is empty");
    const contentType = request.headers["content-type"] ?? "";
    if (contentType !== JSON_CONTENT_TYPE) {
      return refuse(reply, 400, `contentType=${contentType}, expected ${JSON_CONTENT_TYPE}`);
    }
    const admission = await admitPod(body.toString("utf8"), dependencies);
    metrics.record(admission.namespace, reply.elapsedTime / 1000, admission.result);
    logAdmission(logger, admission, reply.elapsedTime);
    return sendJson(reply, admission.httpStatus, admission.review);
  });

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return refuse(reply, 413, `request entity is too large; limit is ${MAX_ADMISSION_REVIEW_BYTES} bytes`);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return refuse(reply, status, error.message);
    logger.error({ error: error.message, stack: error.stack }, "admission request failed");
    return refuse(reply, 500, "internal error while reading the admission request");
  });
  return app;
}

function logAdmission(logger: Logger, admission: PodAdmission, elapsedMs: number): void {
  const line = {
    uid: admission.uid,
    namespace: admission.namespace,
    pod: admission.pod,
    serviceAccount: admission.serviceAccount,
    operation: admission.operation,
    allowed: admission.allowed,
    code: admission.code,
    result: admission.result,
    patchOperations: admission.patchOperations,
    latencyMs: round(elapsedMs),
    ...(admission.message === undefined ? {} : { message: admission.message }),
  };
  if (admission.result === "error") logger.warn(line, "admission");
  else logger.info(line, "admission");
}

/** The body goes out as bytes, so that the content type stays exactly `application/json`, as upstream's. */
function sendJson(reply: FastifyReply, code: number, body: unknown): FastifyReply {
  return reply
    .code(code)
    .header("content-type", JSON_CONTENT_TYPE)
    .send(Buffer.from(JSON.stringify(body)));
}

function round(milliseconds: number): number {
  return Math.round(milliseconds * 1000) / 1000;
}

// ---- Health and metrics listeners -----------------------------------------------------------------------

type Health = { ok: true } | { ok: false; reason: string };

function buildHealthApp(
  webhookHealthCheck: () => Promise<Health>,
  serviceAccounts: Pick<ServiceAccountLookup, "ready">,
): FastifyInstance {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const answer = (reply: FastifyReply, health: Health) =>
    reply
      .code(health.ok ? 200 : 500)
      .type("text/plain; charset=utf-8")
      .send(health.ok ? "ok" : health.reason);
  app.get("/healthz", async (_request, reply) => answer(reply, await webhookHealthCheck()));
  app.get("/readyz", async (_request, reply) => {
    const health = await webhookHealthCheck();
    if (!health.ok) return answer(reply, health);
    if (!serviceAccounts.ready)
      return answer(reply, { ok: false, reason: "service account cache has not synced yet" });
    return answer(reply, health);
  });
  return app;
}

/** Before the certificate: not ready. After: the listener must complete a TLS handshake. */
async function webhookHealth(webhook: FastifyInstance | undefined, address: ListenAddress): Promise<Health> {
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
async function listen(app: FastifyInstance, address: ListenAddress): Promise<number> {
  if (address.host !== "") {
    await app.listen({ host: address.host, port: address.port });
  } else {
    try {
      await app.listen({ host: "::", port: address.port });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAFNOSUPPORT") throw error;
      await app.listen({ host: "0.0.0.0", port: address.port });
    }
  }
  const bound = app.server.address();
  return bound !== null && typeof bound === "object" ? bound.port : address.port;
}
