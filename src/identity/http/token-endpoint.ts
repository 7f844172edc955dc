// `POST /{tenant}/oauth2/v2.0/token` and `POST /{tenant}/oauth2/token` (reference/entra.md §2, §4): the
// client-credentials grant with a federated client assertion. The request is checked in Entra's order, so a
// request with several faults gets the code Entra gives; every fault is an AadstsError, answered by the
// service's error handler. Every request, answered or refused, is handed to the sign-in log.

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { SigningKeyRing } from "../../signing-keys/key-ring.ts";
import type { FederatedPrincipal, PrincipalSearch, Tenant } from "../directory/directory-rows.ts";
import { AadstsError } from "../exchange/aadsts-errors.ts";
import type { PendingSignIn } from "../sign-ins/sign-in-log.ts";
import { issueAccessToken } from "../tokens/access-token.ts";
import { NO_STORE } from "./entra-error-reply.ts";
import { resourceFromScope, resourceKey } from "./requested-resource.ts";
import { type SignInAttempt, signInRecord } from "./sign-in-record.ts";
import { resolveTenant, type TenantLookup } from "./tenant-lookup.ts";

const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const FORM_CONTENT_TYPE = "application/x-www-form-urlencoded";

export interface FederatedPrincipalLookup {
  /** The principal a token request names by `client_id`, as it signs in to the tenant its URL names. */
  findFederatedPrincipal(tenantId: string, clientId: string): Promise<PrincipalSearch>;
}

/**
 * Checks the client assertion against the principal's federated credentials: resolves to the credential it
 * satisfies, or rejects with an AadstsError.
 */
export type AssertionValidator = (
  assertion: string,
  principal: FederatedPrincipal,
  /** The tenant the request's path names, and its ID: a certificate assertion's audience names one. */
  tenant: { path: string; id: string },
) => Promise<{ credential: { name: string } }>;

/** Where every token request is recorded (see sign-in-log.ts). */
export interface SignInRecorder {
  record(entry: PendingSignIn): void;
}

export interface TokenEndpointDeps {
  tenants: TenantLookup<Tenant>;
  principals: FederatedPrincipalLookup;
  signingKeys: SigningKeyRing;
  validateAssertion: AssertionValidator;
  /**
   * Resource identifiers tokens are issued for (compared case-insensitively, trailing `/` ignored), or patterns
   * that match them lower-cased (App Configuration's per-store endpoints).
   */
  knownResources(): readonly (string | RegExp)[];
  accessTokenLifetimeSeconds?: number;
  signIns?: SignInRecorder;
}

type TokenForm = Record<string, string | undefined>;
type EndpointVersion = "v1" | "v2";

export function registerTokenEndpoint(app: FastifyInstance, deps: TokenEndpointDeps): void {
  const handler = (version: EndpointVersion) => (request: FastifyRequest, reply: FastifyReply) => {
    const attempt: SignInAttempt = {};
    const issuing = issueToken(request, reply, version, deps, attempt);
    const { signIns } = deps;
    if (signIns === undefined) return issuing;
    return issuing.then(
      (response) => {
        signIns.record(signInRecord(request, attempt));
        return response;
      },
      (error: unknown) => {
        signIns.record(signInRecord(request, attempt, error));
        throw error;
      },
    );
  };
  app.post("/:tenant/oauth2/v2.0/token", handler("v2"));
  app.post("/:tenant/oauth2/token", handler("v1"));
}

async function issueToken(
  request: FastifyRequest,
  reply: FastifyReply,
  version: EndpointVersion,
  deps: TokenEndpointDeps,
  attempt: SignInAttempt,
) {
  const { tenant: tenantPath = "" } = request.params as { tenant?: string };
  attempt.tenant = tenantPath;
  const form = (request.body ?? {}) as TokenForm;
  // Anything but a form reaches here as text and is answered as Entra does: a missing form field.
  if (typeof form !== "object" || request.headers["content-type"]?.startsWith(FORM_CONTENT_TYPE) !== true) {
    throw new AadstsError(900144, { name: "grant_type" });
  }
  attempt.clientId = form.client_id;
  attempt.assertion = form.client_assertion;
  const tenant = await resolveTenant(deps.tenants, tenantPath);
  attempt.tenant = tenant.tenantId;
  if (!form.grant_type) throw new AadstsError(900144, { name: "grant_type" });
  if (form.grant_type !== "client_credentials") throw new AadstsError(70003, { grantType: form.grant_type });
  if (!form.client_id) throw new AadstsError(900144, { name: "client_id" });
  const resource = requestedResource(form, version);
  attempt.resource = resource;
  const principal = principalOrRefusal(
    await deps.principals.findFederatedPrincipal(tenant.tenantId, form.client_id),
    form.client_id,
    tenantPath,
    tenant.tenantId,
  );
  attempt.identityId = principal.credentialOwnerId;
  const assertion = form.client_assertion;
  if (!assertion) {
    if (form.client_secret) throw new AadstsError(7000215, { clientId: form.client_id });
    throw new AadstsError(7000218);
  }
  if (form.client_assertion_type !== JWT_BEARER) {
    throw new AadstsError(900144, { name: "client_assertion_type" });
  }
  const { credential } = await deps.validateAssertion(assertion, principal, {
    path: tenantPath,
    id: tenant.tenantId,
  });
  attempt.credential = credential.name;
  const wanted = resourceKey(resource);
  const known = deps
    .knownResources()
    .some((entry) => (typeof entry === "string" ? resourceKey(entry) === wanted : entry.test(wanted)));
  if (!known) {
    throw new AadstsError(500011, { name: resource, tenant: tenant.tenantId });
  }
  const issued = await issueAccessToken(
    {
      tenantId: tenant.tenantId,
      clientId: principal.clientId,
      principalId: principal.principalId,
      managedIdentityResourceId: principal.managedIdentityResourceId,
    },
    resource,
    deps.signingKeys.active,
    {
      lifetimeSeconds: deps.accessTokenLifetimeSeconds,
      clientCapabilities: clientCapabilitiesOf(form.claims),
    },
  );
  reply.headers(NO_STORE).type("application/json; charset=utf-8");
  return tokenResponse(version, issued, resource);
}

/** The principal found, or the AADSTS error Entra gives for why the client cannot sign in to this tenant. */
function principalOrRefusal(
  search: PrincipalSearch,
  clientId: string,
  tenantPath: string,
  tenantId: string,
): FederatedPrincipal {
  if ("principal" in search) return search.principal;
  switch (search.refusal) {
    case "noServicePrincipal":
      throw new AadstsError(7000229, { clientId, tenant: tenantId });
    case "disabled":
      throw new AadstsError(7000112, { clientId, displayName: search.displayName ?? clientId });
    default:
      throw new AadstsError(700016, { clientId, tenant: tenantPath });
  }
}

/** v2.0 names the resource in `scope` (`{resource}/.default`) and refuses `resource`; v1 takes `resource`. */
function requestedResource(form: TokenForm, version: EndpointVersion): string {
  if (version === "v2") {
    if (form.resource !== undefined) throw new AadstsError(901002);
    return resourceFromScope(form.scope);
  }
  if (!form.resource) throw new AadstsError(900144, { name: "resource" });
  return form.resource;
}

/** v2.0 answers numbers; v1 answers strings and names the resource and validity window. */
function tokenResponse(
  version: EndpointVersion,
  issued: Awaited<ReturnType<typeof issueAccessToken>>,
  resource: string,
) {
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
