// The data plane's check of a Microsoft Entra access token: RS256 by the token service, within its lifetime, issued
// for the store's tenant and for one of the store's audiences. Refusals carry the descriptions App Configuration's
// REST reference gives: one for a token of another tenant, one for every other failure. Tokens are never logged.

import { errors, type JWTVerifyGetKey, jwtVerify } from "jose";

export type BearerCheck = { ok: true; principalId: string } | { ok: false; description: string };

const FAILED_VALIDATION = "Authorization token failed validation";
const WRONG_ISSUER =
  "The access token is from the wrong issuer. It must match the AD tenant associated with the subscription, to which the configuration store belongs. If you just transferred your subscription and see this error message, please try back later.";
/** As much clock skew as Entra's resources allow. */
const CLOCK_SKEW_SECONDS = 300;

export interface BearerTokenInput {
  authorization: string;
  getKey: JWTVerifyGetKey;
  audiences: readonly string[];
  tenantId: string;
  now: Date;
}

export async function checkBearerToken(input: BearerTokenInput): Promise<BearerCheck> {
  const token = /^Bearer +(\S+) *$/i.exec(input.authorization)?.[1];
  if (!token) return { ok: false, description: FAILED_VALIDATION };
  try {
    const { payload } = await jwtVerify(token, input.getKey, {
      algorithms: ["RS256"],
      audience: [...input.audiences],
      clockTolerance: CLOCK_SKEW_SECONDS,
      currentDate: input.now,
      requiredClaims: ["exp", "iss", "oid"],
    });
    const issuers = [
      `https://sts.windows.net/${input.tenantId}/`,
      `https://login.microsoftonline.com/${input.tenantId}/v2.0`,
    ];
    if (!issuers.includes(String(payload.iss))) return { ok: false, description: WRONG_ISSUER };
    if (typeof payload.oid !== "string" || payload.oid === "") {
      return { ok: false, description: FAILED_VALIDATION };
    }
    return { ok: true, principalId: payload.oid };
  } catch (error) {
    if (error instanceof errors.JOSEError) return { ok: false, description: FAILED_VALIDATION };
    // Anything else (the key source failing) is the service's problem, not the caller's.
    throw error;
  }
}
