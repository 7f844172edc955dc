import type { FastifyInstance } from "fastify";
import type { SigningKeyRing } from "../../signing-keys/key-ring.ts";
import { issuerDiscoveryDocument } from "./discovery.ts";

const CACHE_CONTROL = "public, max-age=3600";

/** An issuer a route serves: its URL and its signing keys. */
export interface ServedIssuer {
  issuer: string;
  keys: SigningKeyRing;
}

/**
 * Serves issuers' discovery documents and JWKS under `pathPrefix` (the issuer URLs' path, with parameters such as
 * `/oidc/:issuerId`), with kube-apiserver's content types and caching; `issuerOf` finds the issuer a path names.
 */
export function registerIssuerRoutes(
  app: FastifyInstance,
  pathPrefix: string,
  issuerOf: (params: Record<string, string>) => ServedIssuer | undefined,
): void {
  const base = pathPrefix.replace(/\/$/, "");
  const notFound = { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 };
  app.get(`${base}/.well-known/openid-configuration`, async (request, reply) => {
    const served = issuerOf(request.params as Record<string, string>);
    if (!served) return reply.code(404).send(notFound);
    reply.header("cache-control", CACHE_CONTROL).type("application/json");
    return issuerDiscoveryDocument(served.issuer, served.keys.publicJwks());
  });
  app.get(`${base}/openid/v1/jwks`, async (request, reply) => {
    const served = issuerOf(request.params as Record<string, string>);
    if (!served) return reply.code(404).send(notFound);
    reply.header("cache-control", CACHE_CONTROL).type("application/jwk-set+json");
    return { keys: served.keys.publicJwks() };
  });
}
