// Who may call the Graph-shaped routes (`/v1.0/…`), and in which tenant. The admin credential works in any tenant:
// the default one, or the one its `Wikit-Tenant` header names. An access token from wikit's token service for
// Microsoft Graph works in the tenant it was issued by; what it may do there is decided by the caller's roles on
// that tenant's subscriptions — Entra's directory roles are not modelled — so Owner and Contributor may write,
// Reader may read: actions `Microsoft.Graph/{collection}/{read|write|delete}`. The admin principal's tokens may do
// anything in their tenant. Graph's 401 and 403 bodies.

import { randomUUID } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { GRAPH_TENANT_HEADER } from "../names/local-stack-names.ts";
import { scopeCovers } from "../resources/vault/rbac.ts";
import {
  adminCredential,
  bearerToken,
  type ControlPlaneAssignment,
  type ControlPlaneRole,
  isAdminPrincipal,
  roleAllows,
  verifyAccessToken,
} from "./management-auth.ts";

export interface GraphAccessDeps {
  adminToken: string;
  /** The admin principal's client ID: its Graph tokens may do anything in their tenant. */
  adminClientId?: string;
  accessTokenKey: Parameters<typeof verifyAccessToken>[1]["accessTokenKey"];
  /** Audiences a Graph token may carry: Microsoft Graph's, and wikit's own URL when a tool uses it as Graph's. */
  graphAudiences(): readonly string[];
  roleAssignmentsOf(principalId: string): Promise<readonly ControlPlaneAssignment[]>;
  roleDefinitionOf(roleDefinitionId: string): ControlPlaneRole | undefined;
  /** The tenant's ID, from its ID or domain; undefined when there is none. */
  resolveTenant(reference: string): Promise<string | undefined>;
  defaultTenant(): string;
  subscriptionsOf(tenantId: string): Promise<readonly string[]>;
  now?: () => Date;
}

const VERBS: Readonly<Record<string, string>> = {
  GET: "read",
  HEAD: "read",
  POST: "write",
  PATCH: "write",
  PUT: "write",
  DELETE: "delete",
};

/** Graph's error body; `innerError` carries the request's IDs and date, as Graph's does. */
export function graphErrorBody(request: FastifyRequest, code: string, message: string) {
  const clientRequestId = request.headers["client-request-id"];
  return {
    error: {
      code,
      message,
      innerError: {
        date: new Date().toISOString().replace(/\.\d{3}Z$/, ""),
        "request-id": randomUUID(),
        ...(typeof clientRequestId === "string" ? { "client-request-id": clientRequestId } : {}),
      },
    },
  };
}

const tenants = new WeakMap<FastifyRequest, string>();

export function graphAccess(deps: GraphAccessDeps) {
  const isAdmin = adminCredential(deps.adminToken);
  const refuse = (
    request: FastifyRequest,
    reply: FastifyReply,
    status: 401 | 403,
    code: string,
    message: string,
  ) => reply.code(status).send(graphErrorBody(request, code, message));

  return {
    /** The tenant the request works in; set by `authenticate`. */
    tenantOf(request: FastifyRequest): string {
      const tenant = tenants.get(request);
      if (tenant === undefined)
        throw new Error("the Graph routes' authentication did not run for this request");
      return tenant;
    },

    /** The onRequest hook of the Graph routes. */
    async authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const header = request.headers.authorization;
      if (!header) return refuse(request, reply, 401, "InvalidAuthenticationToken", "Access token is empty.");
      const presented = bearerToken(header);
      if (isAdmin(presented)) {
        const named = request.headers[GRAPH_TENANT_HEADER];
        if (typeof named !== "string") {
          tenants.set(request, deps.defaultTenant());
          return;
        }
        const tenant = await deps.resolveTenant(named);
        if (!tenant) {
          return reply
            .code(400)
            .send(
              graphErrorBody(
                request,
                "Request_BadRequest",
                `The tenant '${named}' named by the ${GRAPH_TENANT_HEADER} header does not exist.`,
              ),
            );
        }
        tenants.set(request, tenant);
        return;
      }
      const verified = await verifyAccessToken(presented, deps, deps.graphAudiences());
      if (!("caller" in verified)) {
        const message =
          verified.reason === "expired"
            ? "Lifetime validation failed, the token is expired."
            : verified.reason === "audience"
              ? "Access token validation failure. Invalid audience."
              : "Access token validation failure.";
        return refuse(request, reply, 401, "InvalidAuthenticationToken", message);
      }
      const { caller } = verified;
      tenants.set(request, caller.tenantId);
      if (isAdminPrincipal(deps, caller)) return;
      const collection = request.url.split("?")[0]?.split("/")[2] ?? "";
      const action = `Microsoft.Graph/${collection}/${VERBS[request.method] ?? "write"}`;
      const subscriptions = (await deps.subscriptionsOf(caller.tenantId)).map((id) => `/subscriptions/${id}`);
      const assignments = await deps.roleAssignmentsOf(caller.principalId);
      const granted = assignments.some((assignment) => {
        const role = deps.roleDefinitionOf(assignment.roleDefinitionId);
        return (
          role !== undefined &&
          roleAllows(role, action) &&
          subscriptions.some((subscription) => scopeCovers(assignment.scope, subscription))
        );
      });
      if (!granted) {
        return refuse(
          request,
          reply,
          403,
          "Authorization_RequestDenied",
          "Insufficient privileges to complete the operation.",
        );
      }
    },
  };
}
