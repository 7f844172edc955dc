// The vault's check of a bearer access token: RS256 signature by the token service, lifetime, then the
// audience and issuer that bind the token to this vault's resource and tenant. Tokens are never logged.

import { errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import { MESSAGES, TOKEN_CLOCK_SKEW_SECONDS } from "./constants.ts";

/** The claims the vault relies on (entra.md §7.3); the rest of the payload is passed along. */
export interface VaultAccessClaims extends JWTPayload {
  iss: string;
  /** Object ID of the caller's service principal: the principal role assignments name. */
  oid: string;
  tid?: string;
  /** The caller's client ID in v1 tokens (`azp` in v2 tokens). */
  appid?: string;
  azp?: string;
}

export interface AccessTokenCheckInput {
  /** The request's `Authorization` header. */
  authorization: string | undefined;
  /** The token service's public signing keys. */
  getKey: JWTVerifyGetKey;
  /** The vault's resource string, which the token's `aud` must equal. */
  resource: string;
  /** The vault's tenant, which the token's issuer must name. */
  tenantId: string;
  now: Date;
}

export type AccessTokenCheck = { ok: true; claims: VaultAccessClaims } | { ok: false; message: string };

/** The issuers of v1 and v2 access tokens for a tenant. */
export function acceptedIssuers(tenantId: string): string[] {
  return [`https://sts.windows.net/${tenantId}/`, `https://login.microsoftonline.com/${tenantId}/v2.0`];
}

export async function checkAccessToken(input: AccessTokenCheckInput): Promise<AccessTokenCheck> {
  const token = bearerToken(input.authorization);
  if (!token) return { ok: false, message: MESSAGES.missingToken };

  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, input.getKey, {
      algorithms: ["RS256"],
      clockTolerance: TOKEN_CLOCK_SKEW_SECONDS,
      currentDate: input.now,
      requiredClaims: ["exp"],
    }));
  } catch (error) {
    return { ok: false, message: rejectionMessage(error) };
  }

  if (payload.aud !== input.resource) {
    return { ok: false, message: MESSAGES.invalidAudience(input.resource, describeClaim(payload.aud)) };
  }
  const issuers = acceptedIssuers(input.tenantId);
  if (typeof payload.iss !== "string" || !issuers.includes(payload.iss)) {
    return { ok: false, message: MESSAGES.invalidIssuer(issuers, describeClaim(payload.iss)) };
  }
  if (typeof payload.oid !== "string" || payload.oid === "")
    return { ok: false, message: MESSAGES.tokenWithoutCaller };
  return { ok: true, claims: payload as VaultAccessClaims };
}

/** The token of an `Authorization: Bearer <token>` header; the scheme name is case-insensitive. */
function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(authorization ?? "");
  return match?.[1];
}

function rejectionMessage(error: unknown): string {
  if (error instanceof errors.JWTExpired) {
    return MESSAGES.tokenExpired(epochToIso(error.payload.exp));
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "nbf") return MESSAGES.tokenNotYetValid(epochToIso(error.payload.nbf));
    if (error.claim === "exp") return MESSAGES.tokenWithoutExpiry;
    return MESSAGES.tokenMalformed;
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return MESSAGES.tokenAlgorithm;
  }
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return MESSAGES.tokenSignature;
  }
  if (
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JWTInvalid ||
    error instanceof errors.JWKInvalid
  ) {
    return MESSAGES.tokenMalformed;
  }
  // Anything else (e.g. the key source failing) is the vault's problem, not the caller's.
  throw error;
}

function epochToIso(seconds: unknown): string {
  return typeof seconds === "number" ? new Date(seconds * 1000).toISOString() : "(unknown)";
}

function describeClaim(value: unknown): string {
  if (value === undefined) return "(none)";
  return typeof value === "string" ? value : JSON.stringify(value);
}
