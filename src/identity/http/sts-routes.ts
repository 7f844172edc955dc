import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { SigningKeyRing } from "../../signing-keys/key-ring.ts";
import type { Directory, FederatedPrincipal, Tenant } from "../directory/directory.ts";
import { AadstsError, tokenErrorBody } from "../exchange/aadsts-errors.ts";
import { issueAccessToken } from "../tokens/access-token.ts";
import { resourceFromScope, resourceKey } from "./requested-resource.ts";
import {
  instanceDiscovery,
  isMultiTenantAlias,
  v1TenantDiscovery,
  v2TenantDiscovery,
} from "./tenant-metadata.ts";

const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const TENANT_SYNTAX = /^[0-9a-zA-Z.-]+$/;

/** What a token request is checked against and answered with. */
export interface StsDeps {
  directory: Directory;
  keys: SigningKeyRing;
  /** Validates the client assertion against the principal's federated credentials; rejects with AadstsError. */
  validateAssertion(assertion: string, principal: FederatedPrincipal): Promise<unknown>;
  /** Resource identifiers this token service issues tokens for (compared case-insensitively, `/` ignored). */
  knownResources(): readonly string[];
  /** The authority (origin) this server answers as for a host name, or undefined for hosts it does not serve. */
  authorityFor(hostname: string): string | undefined;
  accessTokenLifetimeSeconds?: number;
}

type TokenForm = Record<string, string | undefined>;

/** The authority the caller used: scheme + Host header, so documents name the host the client knows. */
function authorityOf(request: FastifyRequest): string {
  return `https://${request.headers.host ?? "localhost"}`;
}

const NO_STORE = { "cache-control": "no-store, no-cache", pragma: "no-cache", expires: "-1" };

/** Registers the Entra-compatible endpoints: token (v2.0 and v1), tenant discovery, keys, instance discovery. */
export function registerStsRoutes(app: FastifyInstance, deps: StsDeps): void {
  app.register(async (sts) => stsRoutes(sts, deps));
}

function stsRoutes(app: FastifyInstance, deps: StsDeps): void {
  // The token endpoint takes forms; any other body reaches the handler as text and is answered with an
  // AADSTS error (a missing form field), as Entra does, instead of a generic 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string", bodyLimit: 1024 * 1024 },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  app.addContentTypeParser("*", { parseAs: "string", bodyLimit: 1024 * 1024 }, (_request, body, done) =>
    done(null, body),
  );

  const sendError = (request: FastifyRequest, reply: FastifyReply, error: AadstsError, override?: string) => {
    const correlationId =
      (request.headers["client-request-id"] as string | undefined) ??
      (request.body as TokenForm | undefined)?.["client-request-id"] ??
      randomUUID();
    const body = tokenErrorBody(error, {
      traceId: randomUUID(),
      correlationId,
      now: new Date(),
      errorUri: `${authorityOf(request)}/error?code=${error.code}`,
    });
    return reply
      .code(error.status)
      .headers(NO_STORE)
      .type("application/json; charset=utf-8")
      .send(override ? { ...body, error: override } : body);
  };

  const resolveTenant = async (tenant: string): Promise<Tenant> => {
    if (!TENANT_SYNTAX.test(tenant)) throw new AadstsError(900023, { tenant });
    const found = await deps.directory.findTenant(tenant);
    if (!found) throw new AadstsError(90002, { tenant });
    return found;
  };

  const tokenHandler = (version: "v1" | "v2") => async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      const { tenant: tenantPath = "" } = request.params as { tenant?: string };
      const form = (request.body ?? {}) as TokenForm;
      if (
        typeof form !== "object" ||
        request.headers["content-type"]?.startsWith("application/x-www-form-urlencoded") !== true
      ) {
        throw new AadstsError(900144, { name: "grant_type" });
      }
      const tenant = await resolveTenant(tenantPath);
      if (!form.grant_type) throw new AadstsError(900144, { name: "grant_type" });
      if (form.grant_type !== "client_credentials")
        throw new AadstsError(70003, { grantType: form.grant_type });
      if (!form.client_id) throw new AadstsError(900144, { name: "client_id" });
      let resource: string;
      if (version === "v2") {
        if (form.resource !== undefined) throw new AadstsError(901002);
        resource = resourceFromScope(form.scope);
      } else {
        if (!form.resource) throw new AadstsError(900144, { name: "resource" });
        resource = form.resource;
      }
      const principal = await deps.directory.findFederatedPrincipal(tenant.tenantId, form.client_id);
      if (!principal) {
        throw new AadstsError(700016, { clientId: form.client_id, tenant: tenantPath });
      }
      const assertion = form.client_assertion;
      if (!assertion) {
        if (form.client_secret) throw new AadstsError(7000215, { clientId: form.client_id });
        throw new AadstsError(7000218);
      }
      if (form.client_assertion_type !== JWT_BEARER) {
        throw new AadstsError(900144, { name: "client_assertion_type" });
      }
      await deps.validateAssertion(assertion, principal);
      const known = new Set(deps.knownResources().map(resourceKey));
      if (!known.has(resourceKey(resource))) {
        throw new AadstsError(500011, { name: resource, tenant: tenant.tenantId });
      }
      const issued = await issueAccessToken(
        {
          tenantId: tenant.tenantId,
          clientId: principal.clientId,
          principalId: principal.principalId,
          managedIdentityResourceId: principal.resourceId,
        },
        resource,
        deps.keys.active,
        {
          lifetimeSeconds: deps.accessTokenLifetimeSeconds,
          clientCapabilities: clientCapabilitiesOf(form.claims),
        },
      );
      reply.headers(NO_STORE).type("application/json; charset=utf-8");
      if (version === "v2") {
        return {
          token_type: "Bearer",
          expires_in: issued.expiresIn,
          ext_expires_in: issued.expiresIn,
          access_token: issued.token,
        };
      }
      return {
        token_type: "Bearer",
        expires_in: String(issued.expiresIn),
        ext_expires_in: String(issued.expiresIn),
        expires_on: String(issued.expiresOn),
        not_before: String(issued.notBefore),
        resource,
        access_token: issued.token,
      };
    } catch (error) {
      if (error instanceof AadstsError) return sendError(request, reply, error);
      throw error;
    }
  };

  app.post("/:tenant/oauth2/v2.0/token", tokenHandler("v2"));
  app.post("/:tenant/oauth2/token", tokenHandler("v1"));

  const discovery = (version: "v1" | "v2") => async (request: FastifyRequest, reply: FastifyReply) => {
    const { tenant: tenantPath = "" } = request.params as { tenant?: string };
    try {
      const tenantId = isMultiTenantAlias(tenantPath)
        ? "{tenantid}"
        : (await resolveTenant(tenantPath)).tenantId;
      const authority = authorityOf(request);
      reply.type("application/json; charset=utf-8");
      return version === "v2"
        ? v2TenantDiscovery(authority, tenantPath, tenantId)
        : v1TenantDiscovery(authority, tenantPath, tenantId);
    } catch (error) {
      if (error instanceof AadstsError) return sendError(request, reply, error, "invalid_tenant");
      throw error;
    }
  };
  app.get("/:tenant/v2.0/.well-known/openid-configuration", discovery("v2"));
  app.get("/:tenant/.well-known/openid-configuration", discovery("v1"));

  const keys = (version: "v1" | "v2") => async (request: FastifyRequest, reply: FastifyReply) => {
    const { tenant: tenantPath = "common" } = request.params as { tenant?: string };
    try {
      if (!isMultiTenantAlias(tenantPath)) await resolveTenant(tenantPath);
      reply.type("application/json; charset=utf-8");
      return {
        keys: deps.keys.publicJwks().map(({ kty, kid, n, e }) => ({
          kty,
          use: "sig",
          kid,
          x5t: kid,
          n,
          e,
          ...(version === "v2" ? { issuer: `${authorityOf(request)}/{tenantid}/v2.0` } : {}),
        })),
      };
    } catch (error) {
      if (error instanceof AadstsError) return sendError(request, reply, error, "invalid_tenant");
      throw error;
    }
  };
  app.get("/:tenant/discovery/keys", keys("v1"));
  app.get("/:tenant/discovery/v2.0/keys", keys("v2"));

  app.get("/common/discovery/instance", async (request, reply) => {
    const { authorization_endpoint: endpoint = "" } = request.query as Record<string, string | undefined>;
    const answer = instanceDiscovery(endpoint, deps.authorityFor);
    if (!answer) return sendError(request, reply, new AadstsError(50049));
    reply.type("application/json; charset=utf-8");
    return answer;
  });

  app.get("/error", async (request) => {
    const { code } = request.query as { code?: string };
    return { code, description: `See the AADSTS${code ?? ""} entry in wikit's troubleshooting guide.` };
  });
}

/** CAE capabilities a request declared in its `claims` parameter (`{"access_token":{"xms_cc":{"values":["cp1"]}}}`). */
function clientCapabilitiesOf(claims: string | undefined): string[] | undefined {
  if (!claims) return undefined;
  try {
    const values = JSON.parse(claims)?.access_token?.xms_cc?.values;
    return Array.isArray(values)
      ? values.filter((value): value is string => typeof value === "string")
      : undefined;
  } catch {
    return undefined;
  }
}
