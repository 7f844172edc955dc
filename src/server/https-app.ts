import Fastify, { type FastifyInstance, LogController } from "fastify";
import { StoreUnavailableError } from "../store/store-unavailable-error.ts";

export interface HttpsAppOptions {
  tls: { keyPem: string; certPem: string };
  logLevel?: string;
  /** Where logs go (default stdout). */
  logStream?: NodeJS.WritableStream;
}

/**
 * The HTTPS server `wikit up` and `wikit serve` mount their routes on: one concise log line per request (method,
 * path without its query, status, time; never a header or body, where tokens and secret values travel), and a
 * store outage answered as 503 with Retry-After wherever a route does not answer it itself.
 */
export function createHttpsApp(options: HttpsAppOptions): FastifyInstance {
  const app = Fastify({
    https: { key: options.tls.keyPem, cert: options.tls.certPem },
    logger: { level: options.logLevel ?? "info", stream: options.logStream ?? process.stdout },
    // One concise line per request (the hook below) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: false },
    bodyLimit: 1024 * 1024,
    forceCloseConnections: true,
    return503OnClosing: true,
  });
  app.addHook("onResponse", async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        path: request.url.split("?")[0],
        host: request.headers.host,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      "request",
    );
  });
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof StoreUnavailableError) {
      request.log.warn({ cause: error.message }, "store unavailable");
      return reply
        .code(503)
        .header("retry-after", String(error.retryAfterSeconds))
        .send({
          error: {
            code: "ServiceUnavailable",
            message: "The service is unavailable for a moment. Try again.",
          },
        });
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) return reply.send(error);
    request.log.error({ err: error }, "request failed");
    return reply
      .code(500)
      .send({ error: { code: "InternalServerError", message: "The server failed to answer the request." } });
  });
  return app;
}
