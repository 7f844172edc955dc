// Who may call the management API, and what: the admin — the admin credential that `wikit up` wrote into the data
// directory, or an access token of the admin principal it made (admin.pem) — may do everything; any other access
// token for Azure Resource Manager from wikit's own token service — what `az login` and `wikit login` hold — is
// authorised by Azure RBAC on the ARM action and scope of the request (arm-action.ts), with ARM's 401 and 403
// bodies. Tokens are never logged.

import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import { actionMatches, scopeCovers } from "../resources/vault/rbac.ts";
import { armRequirement } from "./arm-action.ts";

/** The audiences ARM accepts (its own 401 names these four). */
export const ARM_AUDIENCES = [
  "https://management.core.windows.net/",
  "https://management.core.windows.net",
  "https://management.azure.com/",
  "https://management.azure.com",
];
const CLOCK_SKEW_SECONDS = 300;
const REALM = 'Bearer realm="wikit management"';

export type Caller =
  | { kind: "admin" }
  | { kind: "principal"; principalId: string; tenantId: string; clientId: string };

export interface ControlPlaneAssignment {
  scope: string;
  roleDefinitionId: string;
}

export interface ControlPlaneRole {
  actions: readonly string[];
  notActions: readonly string[];
}

export interface ManagementAuthDeps {
  adminToken: string;
  /** The admin principal's client ID: an access token of it counts as the admin credential. */
  adminClientId?: string;
  /** The token service's public keys: ARM access tokens are its own. */
  accessTokenKey: JWTVerifyGetKey;
  roleAssignmentsOf(principalId: string): Promise<readonly ControlPlaneAssignment[]>;
  roleDefinitionOf(roleDefinitionId: string): ControlPlaneRole | undefined;
  now?: () => Date;
}

const callers = new WeakMap<FastifyRequest, Caller>();

/** The caller the management API authenticated for this request; never a default, so never the admin by mistake. */
function callerOf(request: FastifyRequest): Caller {
  const caller = callers.get(request);
  if (caller === undefined)
    throw new Error("the management API's authentication did not run for this request");
  return caller;
}

const digest = (value: string) => createHash("sha256").update(value).digest();

function armError(reply: FastifyReply, status: 401 | 403, code: string, message: string, challenge?: string) {
  if (challenge) reply.header("www-authenticate", challenge);
  return reply.code(status).send({ error: { code, message } });
}

/**
 * The management API's access control: `authenticate`, its onRequest hook, and what `GET /subscriptions` and
 * `GET /tenants` show the authenticated caller.
 */
export function managementAccess(deps: ManagementAuthDeps) {
  return {
    authenticate: managementAuthentication(deps),
    async subscriptionVisible(request: FastifyRequest, subscriptionId: string): Promise<boolean> {
      const caller = callerOf(request);
      return (
        caller.kind === "admin" || visibleTo(await deps.roleAssignmentsOf(caller.principalId), subscriptionId)
      );
    },
    /** What `GET /tenants` shows the caller: every tenant to the admin, its own to a principal. */
    async tenantVisible(request: FastifyRequest, tenantId: string): Promise<boolean> {
      const caller = callerOf(request);
      return caller.kind === "admin" || caller.tenantId === tenantId;
    },
  };
}

/** The onRequest hook of the management API: authenticate, then authorise the request's ARM action. */
function managementAuthentication(deps: ManagementAuthDeps) {
  const isAdmin = adminCredential(deps.adminToken);
  return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization;
    if (!header) {
      return armError(
        reply,
        401,
        "AuthenticationFailed",
        "Authentication failed. The 'Authorization' header is missing. Send an access token for Azure Resource Manager from wikit's token service (wikit login, az login), or the admin credential from the data directory's admin-token file, as a Bearer token.",
        REALM,
      );
    }
    const presented = bearerToken(header);
    if (isAdmin(presented)) {
      callers.set(request, { kind: "admin" });
      return;
    }
    const verified = await verifyArmToken(presented, deps);
    if (!verified.ok)
      return armError(reply, 401, verified.code, verified.message, `${REALM}, error="invalid_token"`);
    const caller = verified.caller;
    if (isAdminPrincipal(deps, caller)) {
      callers.set(request, { kind: "admin" });
      return;
    }
    callers.set(request, caller);

    const requirement = armRequirement(request.method, request.url.split("?")[0] ?? "");
    if (requirement.kind === "anyCaller") return;
    if (requirement.kind === "admin") {
      return armError(
        reply,
        403,
        "AuthorizationFailed",
        `The client '${caller.clientId}' with object id '${caller.principalId}' may not call ${request.method} ${request.url.split("?")[0]}: only the admin credential of wikit's data directory may.`,
      );
    }
    const assignments = await deps.roleAssignmentsOf(caller.principalId);
    const granted = assignments.some((assignment) => {
      if (!scopeCovers(assignment.scope, requirement.scope)) return false;
      const role = deps.roleDefinitionOf(assignment.roleDefinitionId);
      return role !== undefined && roleAllows(role, requirement.action);
    });
    if (!granted) {
      return armError(
        reply,
        403,
        "AuthorizationFailed",
        `The client '${caller.clientId}' with object id '${caller.principalId}' does not have authorization to perform action '${requirement.action}' over scope '${requirement.scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
      );
    }
  };
}

/** Whether a verified caller is the admin principal `wikit up` made (its home tenant's or any other's token). */
export function isAdminPrincipal(deps: { adminClientId?: string }, caller: PrincipalCaller): boolean {
  return (
    deps.adminClientId !== undefined && caller.clientId.toLowerCase() === deps.adminClientId.toLowerCase()
  );
}

/** Checks a presented bearer value against the admin credential, in constant time. */
export function adminCredential(adminToken: string): (presented: string) => boolean {
  const admin = digest(adminToken);
  return (presented) => timingSafeEqual(digest(presented), admin);
}

/** The token of an `Authorization: Bearer …` header; empty when the header has another form. */
export function bearerToken(header: string): string {
  return /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? "";
}

/** A role allows a control-plane action its actions match, unless one of its not-actions also matches. */
export function roleAllows(role: ControlPlaneRole, action: string): boolean {
  const matches = (pattern: string) => actionMatches(pattern, action);
  return role.actions.some(matches) && !role.notActions.some(matches);
}

/** Whether a principal sees a subscription: it holds a role at, above or beneath it (ARM's subscription list). */
function visibleTo(assignments: readonly ControlPlaneAssignment[], subscriptionId: string): boolean {
  const subscription = `/subscriptions/${subscriptionId}`;
  return assignments.some(
    (assignment) =>
      scopeCovers(assignment.scope, subscription) || scopeCovers(subscription, assignment.scope),
  );
}

/** Why a bearer token was refused; each API words it in its own vocabulary. */
export type TokenRefusal =
  | { reason: "expired"; expiredAt: string; now: string }
  | { reason: "invalid" }
  | { reason: "audience"; audience: string }
  | { reason: "noCaller" };

export type PrincipalCaller = Extract<Caller, { kind: "principal" }>;

/**
 * Verifies an access token from wikit's token service for one of `audiences` (compared exactly): the caller it
 * names, or why it is refused.
 */
export async function verifyAccessToken(
  token: string,
  deps: Pick<ManagementAuthDeps, "accessTokenKey" | "now">,
  audiences: readonly string[],
): Promise<{ caller: PrincipalCaller } | TokenRefusal> {
  const now = (deps.now ?? (() => new Date()))();
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, deps.accessTokenKey, {
      algorithms: ["RS256"],
      clockTolerance: CLOCK_SKEW_SECONDS,
      currentDate: now,
      requiredClaims: ["exp", "iss", "aud"],
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) {
      const expiredAt = new Date(Number(error.payload.exp) * 1000).toISOString();
      return { reason: "expired", expiredAt, now: now.toISOString() };
    }
    if (error instanceof errors.JOSEError) return { reason: "invalid" };
    throw error;
  }
  const audience = typeof payload.aud === "string" ? payload.aud : "";
  if (!audiences.includes(audience)) return { reason: "audience", audience };
  const { oid, tid, appid, azp } = payload as Record<string, unknown>;
  const issuers = [`https://sts.windows.net/${tid}/`, `https://login.microsoftonline.com/${tid}/v2.0`];
  if (
    typeof oid !== "string" ||
    oid === "" ||
    typeof tid !== "string" ||
    !issuers.includes(String(payload.iss))
  ) {
    return { reason: "noCaller" };
  }
  const clientId = typeof appid === "string" ? appid : typeof azp === "string" ? azp : oid;
  return { caller: { kind: "principal", principalId: oid, tenantId: tid, clientId } };
}

type Verification = { ok: true; caller: PrincipalCaller } | { ok: false; code: string; message: string };

/** An ARM access token, or ARM's code and text for why not. */
async function verifyArmToken(token: string, deps: ManagementAuthDeps): Promise<Verification> {
  const verified = await verifyAccessToken(token, deps, ARM_AUDIENCES);
  if ("caller" in verified) return { ok: true, caller: verified.caller };
  switch (verified.reason) {
    case "expired":
      return {
        ok: false,
        code: "ExpiredAuthenticationToken",
        message: `The access token expiry UTC time '${verified.expiredAt}' is earlier than current UTC time '${verified.now}'.`,
      };
    case "audience":
      return {
        ok: false,
        code: "InvalidAuthenticationTokenAudience",
        message: `The access token has been obtained for wrong audience or resource '${verified.audience}'. It should exactly match with one of the allowed audiences ${ARM_AUDIENCES.map((value) => `'${value}'`).join(",")}.`,
      };
    case "noCaller":
      return {
        ok: false,
        code: "InvalidAuthenticationToken",
        message: "The access token is invalid: it names no caller and tenant.",
      };
    default:
      return {
        ok: false,
        code: "InvalidAuthenticationToken",
        message:
          "The access token is invalid: it is not this server's admin credential, nor a token wikit's token service signed.",
      };
  }
}
