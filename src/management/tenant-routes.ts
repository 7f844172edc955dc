// Tenants over the management API: ARM's `GET /tenants` (each caller sees the tenants it may work in) and wikit's
// own `POST /wikit/tenants`, admin only, which makes a tenant with one subscription — real Entra tenants are made
// outside ARM, but a cross-tenant setup needs a second one.

import type { FastifyInstance, FastifyRequest } from "fastify";
import { badRequest } from "../identity/directory/directory-error.ts";
import type { Tenant } from "../identity/directory/directory-rows.ts";
import type { Tenants } from "../identity/directory/tenants.ts";
import { isPlainObject } from "../json/json-value.ts";
import { MANAGEMENT_PATHS } from "../names/local-stack-names.ts";
import { armHandler } from "./arm-handler.ts";

export interface TenantRouteDeps {
  tenants: Tenants;
  /** Whether the request's caller sees a tenant in `GET /tenants`. */
  tenantVisible(request: FastifyRequest, tenantId: string): Promise<boolean>;
  onTenantCreated?(made: { tenantId: string; subscriptionId: string }): Promise<void>;
}

export function registerTenantRoutes(app: FastifyInstance, deps: TenantRouteDeps): void {
  app.get(
    "/tenants",
    armHandler(async (_params, request) => {
      const shown = [];
      for (const tenant of await deps.tenants.listTenants()) {
        if (await deps.tenantVisible(request, tenant.tenantId)) shown.push(tenantBody(tenant));
      }
      return { value: shown };
    }),
  );
  app.post(
    MANAGEMENT_PATHS.tenants,
    armHandler(async (_params, request, reply) => {
      const body = request.body;
      const { displayName, defaultDomain } = isPlainObject(body) ? body : {};
      if (
        typeof displayName !== "string" ||
        (defaultDomain !== undefined && typeof defaultDomain !== "string")
      ) {
        throw badRequest(
          "InvalidRequestContent",
          'The body must be {"displayName": "<name>", "defaultDomain": "<optional domain>"}.',
        );
      }
      const { tenant, subscription } = await deps.tenants.create(displayName, defaultDomain);
      await deps.onTenantCreated?.({
        tenantId: tenant.tenantId,
        subscriptionId: subscription.subscriptionId,
      });
      reply.code(201);
      return { ...tenantBody(tenant), subscriptionId: subscription.subscriptionId };
    }),
  );
}

/** A tenant as ARM's `GET /tenants` shows it. */
function tenantBody(tenant: Tenant) {
  return {
    id: `/tenants/${tenant.tenantId}`,
    tenantId: tenant.tenantId,
    countryCode: "US",
    displayName: tenant.displayName,
    domains: [tenant.defaultDomain],
    defaultDomain: tenant.defaultDomain,
    tenantCategory: "Home",
    tenantType: "AAD",
  };
}
