// The HTTPS listener's request handler: `POST /mutate-v1-pod` (any query) answered with an AdmissionReview,
// everything else 404. Written on node:http's own request and response objects, without a framework: at the
// API server's request rate the routing, hooks and reply machinery of one cost more CPU than the admission.
//
// Every request that reaches the route is answered with an AdmissionReview — HTTP 200 for reviews, 400/413
// for bodies that cannot be reviewed — counted in the metrics, and logged as one JSON line without the pod's
// spec or environment: errors as warnings, denials at info, admitted pods at debug.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { AdmissionMetrics } from "./admission-metrics.ts";
import { type AdmissionReviewResponse, unreviewableResponse } from "./admission-review.ts";
import { MAX_ADMISSION_REVIEW_BYTES, WEBHOOK_PATH } from "./constants.ts";
import { admitPod, type PodAdmission, type PodAdmissionDependencies } from "./pod-admission.ts";

export interface AdmissionHandlerOptions {
  dependencies: PodAdmissionDependencies;
  metrics: AdmissionMetrics;
  logger: Logger;
}

const JSON_CONTENT_TYPE = "application/json";
const TOO_LARGE_MESSAGE = `request entity is too large; limit is ${MAX_ADMISSION_REVIEW_BYTES} bytes`;
const NOT_FOUND_STATUS = 404;
const UNAVAILABLE_BODY = '{"error":"Service Unavailable","message":"Service Unavailable","statusCode":503}';

export class AdmissionHandler {
  readonly #options: AdmissionHandlerOptions;
  #draining = false;

  constructor(options: AdmissionHandlerOptions) {
    this.#options = options;
  }

  /**
   * The server is closing: requests that arrive from now on get 503, and every answer closes its connection,
   * so that keep-alive connections end with the request they carry instead of idling until their timeout.
   */
  drain(): void {
    this.#draining = true;
  }

  readonly handle = (request: IncomingMessage, response: ServerResponse): void => {
    const started = performance.now();
    if (request.method !== "POST" || pathOf(request.url ?? "") !== WEBHOOK_PATH) {
      notFound(request, response);
      return;
    }
    if (this.#draining) {
      response.writeHead(503, { "content-type": JSON_CONTENT_TYPE, connection: "close" });
      response.end(UNAVAILABLE_BODY);
      return;
    }
    // A declared length over the limit is refused before a byte is read; the connection is then closed, since
    // the client may still be sending.
    if (Number(request.headers["content-length"]) > MAX_ADMISSION_REVIEW_BYTES) {
      this.#refuse(response, started, 413, TOO_LARGE_MESSAGE, true);
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received <= MAX_ADMISSION_REVIEW_BYTES) {
        chunks.push(chunk);
        return;
      }
      request.off("data", onData).off("end", onEnd);
      request.resume(); // the rest is discarded
      this.#refuse(response, started, 413, TOO_LARGE_MESSAGE, true);
    };
    const onEnd = () => {
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received);
      this.#review(request, response, started, body).catch((error: unknown) => {
        // admitPod answers every failure itself: this is a defect, and still gets an answer.
        const { message, stack } = error instanceof Error ? error : new Error(String(error));
        this.#options.logger.error({ error: message, stack }, "admission request failed");
        this.#refuse(response, started, 500, "internal error while reading the admission request");
      });
    };
    request.on("data", onData).on("end", onEnd);
    // A client that goes away mid-body: nobody is left to answer, but the request is still counted and logged.
    request.on("error", (error) => {
      if (!request.complete && !response.headersSent) {
        this.#refuse(response, started, 400, error.message, true);
      }
    });
  };

  async #review(
    request: IncomingMessage,
    response: ServerResponse,
    started: number,
    body: Buffer,
  ): Promise<void> {
    if (body.length === 0) {
      this.#refuse(response, started, 400, "request body is empty");
      return;
    }
    const contentType = request.headers["content-type"] ?? "";
    if (contentType !== JSON_CONTENT_TYPE) {
      this.#refuse(response, started, 400, `contentType=${contentType}, expected ${JSON_CONTENT_TYPE}`);
      return;
    }
    const { dependencies, metrics, logger } = this.#options;
    const admission = await admitPod(body.toString("utf8"), dependencies);
    const elapsedMs = performance.now() - started;
    metrics.record(admission.namespace, elapsedMs / 1000, admission.result);
    logAdmission(logger, admission, elapsedMs);
    this.#send(response, admission.httpStatus, admission.review);
  }

  #refuse(response: ServerResponse, started: number, code: number, message: string, close = false): void {
    const elapsedMs = performance.now() - started;
    this.#options.metrics.record("", elapsedMs / 1000, "error");
    this.#options.logger.warn({ code, message, latencyMs: round(elapsedMs) }, "admission request refused");
    this.#send(response, code, unreviewableResponse(code, message), close);
  }

  /** The body goes out as UTF-8 with an exact `application/json` content type, as upstream's. */
  #send(response: ServerResponse, code: number, review: AdmissionReviewResponse, close = false): void {
    if (response.headersSent || response.destroyed) return;
    const body = JSON.stringify(review);
    const headers: Record<string, string | number> = {
      "content-type": JSON_CONTENT_TYPE,
      "content-length": Buffer.byteLength(body),
    };
    if (close || this.#draining) headers.connection = "close";
    response.writeHead(code, headers);
    response.end(body);
  }
}

/** The request target without its query: the API server appends `?timeout=…`. */
function pathOf(url: string): string {
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

/** As the listener answered unknown routes before it was written on node:http directly. */
function notFound(request: IncomingMessage, response: ServerResponse): void {
  const body = JSON.stringify({
    message: `Route ${request.method}:${request.url} not found`,
    error: "Not Found",
    statusCode: NOT_FOUND_STATUS,
  });
  response.writeHead(NOT_FOUND_STATUS, {
    "content-type": `${JSON_CONTENT_TYPE}; charset=utf-8`,
    "content-length": Buffer.byteLength(body),
  });
  response.end(body);
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
  // As upstream, a pod admitted as asked is not news at the default level: metrics count it, debug logs it.
  if (admission.result === "error") logger.warn(line, "admission");
  else if (admission.result === "denied") logger.info(line, "admission");
  else logger.debug(line, "admission");
}

function round(milliseconds: number): number {
  return Math.round(milliseconds * 1000) / 1000;
}
