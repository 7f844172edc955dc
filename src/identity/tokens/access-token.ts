import { randomBytes } from "node:crypto";
import { SignJWT } from "jose";
import type { SigningKey } from "../../signing-keys/key-ring.ts";

/** Entra back-dates `iat`/`nbf` by five minutes to absorb clock skew between it and resources. */
const BACKDATE_SECONDS = 300;

export const DEFAULT_ACCESS_TOKEN_LIFETIME_SECONDS = 3600;

export interface AccessTokenSubject {
  tenantId: string;
  /** The caller's client ID (`appid`). */
  clientId: string;
  /** The caller's service principal object ID (`oid`, `sub`). */
  principalId: string;
  /** ARM ID of a user-assigned identity, for `xms_mirid`. */
  managedIdentityResourceId?: string;
}

export interface IssuedAccessToken {
  token: string;
  /** Seconds until expiry, as the token response reports it. */
  expiresIn: number;
  expiresOn: number;
  notBefore: number;
}

/** `iss` of v1 access tokens, whatever host the token service runs on (resources compare it). */
export const v1Issuer = (tenantId: string) => `https://sts.windows.net/${tenantId}/`;
export const v2Issuer = (authority: string, tenantId: string) =>
  `${authority.replace(/\/$/, "")}/${tenantId}/v2.0`;

/**
 * Issues an app-only v1 access token — the format Key Vault and ARM (v1 resources) receive — with
 * Entra's claim set. `clientCapabilities` echoes CAE capabilities (`cp1`) as `xms_cc`.
 */
export async function issueAccessToken(
  subject: AccessTokenSubject,
  audience: string,
  key: SigningKey,
  options: { lifetimeSeconds?: number; now?: number; clientCapabilities?: string[] } = {},
): Promise<IssuedAccessToken> {
  const lifetime = options.lifetimeSeconds ?? DEFAULT_ACCESS_TOKEN_LIFETIME_SECONDS;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const issuer = v1Issuer(subject.tenantId);
  const notBefore = now - BACKDATE_SECONDS;
  const expiresOn = now + lifetime;
  const claims: Record<string, unknown> = {
    aud: audience,
    iss: issuer,
    iat: notBefore,
    nbf: notBefore,
    exp: expiresOn,
    aio: opaque(),
    appid: subject.clientId,
    appidacr: "2",
    idp: issuer,
    idtyp: "app",
    oid: subject.principalId,
    rh: opaque(),
    sub: subject.principalId,
    tid: subject.tenantId,
    uti: opaque(16),
    ver: "1.0",
  };
  if (subject.managedIdentityResourceId)
    claims.xms_mirid = lowerResourceGroupsSegment(subject.managedIdentityResourceId);
  if (options.clientCapabilities?.length) claims.xms_cc = options.clientCapabilities;
  const token = await new SignJWT(claims)
    .setProtectedHeader({ typ: "JWT", alg: key.alg, kid: key.kid, x5t: key.kid })
    .sign(key.privateKey);
  return { token, expiresIn: expiresOn - now - 1, expiresOn, notBefore };
}

function opaque(bytes = 24): string {
  return randomBytes(bytes).toString("base64url");
}

/** `xms_mirid` spells the segment `resourcegroups` in lower case, as Entra does. */
function lowerResourceGroupsSegment(id: string): string {
  return id.replace(/\/resourceGroups\//i, "/resourcegroups/");
}
