// How the CLI signs in as the data directory's admin principal, as az does with a service principal's certificate:
// a client assertion signed with admin.pem's key (x5t, RS256, iss = sub = the app ID, aud = the token endpoint)
// exchanged at wikit's token service for an access token, kept in the data directory until five minutes before it
// expires (tokens.json, the owner's only), one per tenant and resource.

import { createHash, createPrivateKey, randomUUID, X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { SignJWT } from "jose";
import { type CachedToken, dataDirFiles, readTokenCache, writeTokenCache } from "../server/data-dir.ts";
import { CliError } from "./cli-error.ts";

const RENEW_BEFORE_SECONDS = 300;
const ASSERTION_LIFETIME_SECONDS = 600;

export interface AdminPrincipalFiles {
  clientId: string;
  tenantId: string;
  /** PEM: the private key and the certificate. */
  pem: string;
}

/** admin.json and admin.pem, or undefined when the data directory has none (a wikit up older than them). */
export async function readAdminPrincipalFiles(dataDir: string): Promise<AdminPrincipalFiles | undefined> {
  const file = dataDirFiles.adminPrincipal(dataDir);
  if (!existsSync(file)) return undefined;
  const { clientId, tenantId, certificateFile } = JSON.parse(await readFile(file, "utf8")) as Record<
    string,
    string
  >;
  if (!clientId || !tenantId || !certificateFile)
    throw new CliError(`${file} does not name the admin principal`);
  try {
    return { clientId, tenantId, pem: await readFile(certificateFile, "utf8") };
  } catch (error) {
    throw new CliError(`cannot read the admin principal's certificate: ${(error as Error).message}`);
  }
}

/** The assertion the token endpoint at `tokenEndpoint` takes from the admin principal. */
export async function adminAssertion(admin: AdminPrincipalFiles, tokenEndpoint: string): Promise<string> {
  const certificate = new X509Certificate(admin.pem);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({
      alg: "RS256",
      typ: "JWT",
      x5t: createHash("sha1").update(certificate.raw).digest("base64url"),
    })
    .setIssuer(admin.clientId)
    .setSubject(admin.clientId)
    .setAudience(tokenEndpoint)
    .setNotBefore(now)
    .setExpirationTime(now + ASSERTION_LIFETIME_SECONDS)
    .sign(createPrivateKey(admin.pem));
}

/** A token from the cache while it has more than five minutes left; else `fetch`'s, cached. */
export async function cachedAccessToken(
  dataDir: string,
  key: string,
  fetch: () => Promise<CachedToken>,
): Promise<string> {
  const cache = await readTokenCache(dataDir);
  const now = Math.floor(Date.now() / 1000);
  const cached = cache[key];
  if (cached && cached.expiresOn - RENEW_BEFORE_SECONDS > now) return cached.accessToken;
  const fresh = await fetch();
  const kept = Object.fromEntries(Object.entries(cache).filter(([, token]) => token.expiresOn > now));
  await writeTokenCache(dataDir, { ...kept, [key]: fresh });
  return fresh.accessToken;
}
