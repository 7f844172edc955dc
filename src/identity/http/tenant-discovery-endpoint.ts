// `GET /{tenant}/v2.0/.well-known/openid-configuration` and `GET /{tenant}/.well-known/openid-configuration`
// (reference/entra.md §8.1, §8.2), on the host and port the caller used.

import type { FastifyInstance, FastifyRequest } from "fastify";
import { authorityOf } from "./caller-authority.ts";
import { INVALID_TENANT_ERRORS } from "./entra-error-reply.ts";
import { resolveTenant, type TenantLookup } from "./tenant-lookup.ts";
import { isMultiTenantAlias, v1TenantDiscovery, v2TenantDiscovery } from "./tenant-metadata.ts";

export function registerTenantDiscoveryEndpoint(
  app: FastifyInstance,
  tenants: TenantLookup<{ tenantId: string }>,
) {
  const discovery = (version: "v1" | "v2") => async (request: FastifyRequest) => {
    const { tenant: tenantPath = "" } = request.params as { tenant?: string };
    const tenantId = isMultiTenantAlias(tenantPath)
      ? "{tenantid}"
      : (await resolveTenant(tenants, tenantPath)).tenantId;
    const authority = authorityOf(request);
    return version === "v2"
      ? v2TenantDiscovery(authority, tenantPath, tenantId)
      : v1TenantDiscovery(authority, tenantPath, tenantId);
  };
  app.get(
    "/:tenant/v2.0/.well-known/openid-configuration",
    { config: INVALID_TENANT_ERRORS },
    discovery("v2"),
  );
  app.get("/:tenant/.well-known/openid-configuration", { config: INVALID_TENANT_ERRORS }, discovery("v1"));
}
