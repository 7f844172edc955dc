// The IDs that tie a token request to its answer and to its sign-in record: the caller's correlation ID (its
// `client-request-id`, or one made up) and a trace ID of the service's own, the same wherever they are read.

import { randomUUID } from "node:crypto";
import type { FastifyRequest } from "fastify";

export interface RequestIds {
  traceId: string;
  correlationId: string;
}

const idsOf = new WeakMap<FastifyRequest, RequestIds>();

export function requestIds(request: FastifyRequest): RequestIds {
  let ids = idsOf.get(request);
  if (ids === undefined) {
    const form = request.body as Record<string, string | undefined> | string | undefined;
    const correlationId =
      (request.headers["client-request-id"] as string | undefined) ??
      (typeof form === "object" ? form?.["client-request-id"] : undefined) ??
      randomUUID();
    ids = { traceId: randomUUID(), correlationId };
    idsOf.set(request, ids);
  }
  return ids;
}
