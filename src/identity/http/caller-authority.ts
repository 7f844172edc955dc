import type { FastifyRequest } from "fastify";

/** The authority the caller used: scheme + Host header, so documents name the host the client knows. */
export function authorityOf(request: FastifyRequest): string {
  return `https://${request.headers.host ?? "localhost"}`;
}
