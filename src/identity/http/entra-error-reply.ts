// One place where the token service's typed errors become Entra's error bodies (reference/entra.md §2.3), for every
// endpoint: AADSTS code, `error_codes`, trace and correlation IDs, the caller's authority in `error_uri`.

import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { StoreUnavailableError } from "../../store/store-unavailable-error.ts";
import { AadstsError, serviceFaultOf, tokenErrorBody } from "../exchange/aadsts-errors.ts";
import { authorityOf } from "./caller-authority.ts";
import { requestIds } from "./request-ids.ts";

/** Token responses and their errors must never be cached. */
export const NO_STORE = { "cache-control": "no-store, no-cache", pragma: "no-cache", expires: "-1" } as const;

/**
 * Codes whose cause is on the issuer's side (its documents could not be fetched or used): the operator needs the
 * cause — URL, status, content type, timeout — which the client's error body does not carry.
 */
const ISSUER_FAILURES: ReadonlySet<number> = new Set([90061, 900612]);

/** Per-route setting: the metadata endpoints answer tenant errors with `error: "invalid_tenant"`. */
export interface EntraRouteConfig {
  oauthError?: string;
}

/** The route setting of the tenant discovery and keys endpoints. */
export const INVALID_TENANT_ERRORS: EntraRouteConfig = { oauthError: "invalid_tenant" };

export interface EntraErrorOptions {
  /** Add an error's explanation (which field of the nearest credential differs) to its description. */
  explainErrors?: boolean;
}

/**
 * The token service's error handler: AADSTS errors as Entra bodies, the framework's refusals of a request (a body
 * over the size cap, an unreadable one) too, and the service's own faults as a 500 with Entra's AADSTS50000.
 */
export const entraErrorReply =
  ({ explainErrors = false }: EntraErrorOptions = {}) =>
  (failure: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) =>
    replyWithEntraError(failure, request, reply, explainErrors);

function replyWithEntraError(
  failure: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
  explainErrors: boolean,
) {
  const error = failure instanceof AadstsError ? failure : (refusalOf(failure) ?? serviceFaultOf(failure));
  if (error.status === 500) request.log.error({ err: failure }, "token service fault");
  if (failure instanceof StoreUnavailableError) {
    request.log.warn({ cause: failure.message }, "store unavailable");
    reply.header("retry-after", String(failure.retryAfterSeconds));
  }
  if (ISSUER_FAILURES.has(error.code)) {
    // The cause names documents and addresses, never the assertion, which is not logged.
    request.log.warn({ aadsts: error.code, cause: causeChain(error) }, "issuer metadata unavailable");
  }
  const { traceId, correlationId } = requestIds(request);
  const body = tokenErrorBody(error, {
    traceId,
    correlationId,
    now: new Date(),
    errorUri: `${authorityOf(request)}/error?code=${error.code}`,
    explanation: explainErrors ? error.explanation : undefined,
  });
  const { oauthError } = request.routeOptions.config as EntraRouteConfig;
  return reply
    .code(error.status)
    .headers(NO_STORE)
    .type("application/json; charset=utf-8")
    .send(oauthError ? { ...body, error: oauthError } : body);
}

/**
 * A request the framework refused before any endpoint saw it, as an AADSTS error: a body over the cap can only be
 * that large through its assertion (AADSTS50027, malformed; Entra's own answer is unverified), any other unreadable
 * body is answered as Entra answers a body that is not a form, a missing `grant_type`.
 */
function refusalOf(error: FastifyError | Error): AadstsError | undefined {
  const status = (error as FastifyError).statusCode;
  if (status === undefined || status < 400 || status >= 500) return undefined;
  if (status === 413) return new AadstsError(50027, {}, { cause: error });
  return new AadstsError(900144, { name: "grant_type" }, { cause: error });
}

/** The messages of an error's causes, outermost first. */
export function causeChain(error: Error): string {
  const messages: string[] = [];
  for (let cause = error.cause; cause instanceof Error; cause = cause.cause) messages.push(cause.message);
  return messages.join(": ");
}
