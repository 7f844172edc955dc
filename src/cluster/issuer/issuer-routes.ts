import type { FastifyInstance } from "fastify";
import type { SigningKeyRing } from "../../signing-keys/key-ring.ts";
import { issuerDiscoveryDocument } from "./discovery.ts";

const CACHE_CONTROL = "public, max-age=3600";

/**
 * Serves an issuer's discovery document and JWKS under `pathPrefix` (the issuer URL's path), with
 * kube-apiserver's content types and caching.
 */
export function registerIssuerRoutes(
  app: FastifyInstance,
  pathPrefix: string,
  issuer: () => string,
  keys: SigningKeyRing,
): void {
  const base = pathPrefix.replace(/\/$/, "");
  app.get(`${base}/.well-known/openid-configuration`, async (_request, reply) => {
    reply.header("cache-control", CACHE_CONTROL).type("application/json");
    return issuerDiscoveryDocument(issuer(), keys.publicJwks());
  });
  app.get(`${base}/openid/v1/jwks`, async (_request, reply) => {
    reply.header("cache-control", CACHE_CONTROL).type("application/jwk-set+json");
    return { keys: keys.publicJwks() };
  });
}
