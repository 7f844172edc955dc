// `GET /{tenant}/discovery/keys` and `GET /{tenant}/discovery/v2.0/keys` (reference/entra.md §8.3): the public
// keys access tokens are signed with, retired keys included until they are removed.

import type { FastifyInstance, FastifyRequest } from "fastify";
import type { SigningKeyRing } from "../../signing-keys/key-ring.ts";
import { authorityOf } from "./caller-authority.ts";
import { INVALID_TENANT_ERRORS } from "./entra-error-reply.ts";
import { resolveTenant, type TenantLookup } from "./tenant-lookup.ts";
import { isMultiTenantAlias } from "./tenant-metadata.ts";

export function registerKeysEndpoint(
  app: FastifyInstance,
  tenants: TenantLookup<{ tenantId: string }>,
  signingKeys: SigningKeyRing,
) {
  const keys = (version: "v1" | "v2") => async (request: FastifyRequest) => {
    const { tenant: tenantPath = "common" } = request.params as { tenant?: string };
    if (!isMultiTenantAlias(tenantPath)) await resolveTenant(tenants, tenantPath);
    return {
      keys: signingKeys.publicJwks().map(({ kty, kid, n, e }) => ({
        kty,
        use: "sig",
        kid,
        x5t: kid,
        n,
        e,
        ...(version === "v2" ? { issuer: `${authorityOf(request)}/{tenantid}/v2.0` } : {}),
      })),
    };
  };
  app.get("/:tenant/discovery/keys", { config: INVALID_TENANT_ERRORS }, keys("v1"));
  app.get("/:tenant/discovery/v2.0/keys", { config: INVALID_TENANT_ERRORS }, keys("v2"));
}
