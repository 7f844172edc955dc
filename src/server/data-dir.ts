import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { writeFileDurably } from "../store/durable-file.ts";

// The data directory holds everything `wikit up` keeps: the SQLite database, the local CA, the
// admin credential and, while a server runs, the file that tells the CLI where to find it.

export const DATA_DIR_ENV = "WIKIT_HOME";
/** Per user, like `~/.azure` and `~/.kube`, so that commands find the running wikit from any directory. */
export const DEFAULT_DATA_DIR = join(homedir(), ".wikit");

export function resolveDataDir(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(option ?? env[DATA_DIR_ENV] ?? DEFAULT_DATA_DIR);
}

export const dataDirFiles = {
  database: (dir: string) => join(dir, "wikit.db"),
  adminToken: (dir: string) => join(dir, "admin-token"),
  server: (dir: string) => join(dir, "server.json"),
  log: (dir: string) => join(dir, "wikit.log"),
  caCert: (dir: string) => join(dir, "ca.crt"),
  runs: (dir: string) => join(dir, "runs"),
  profile: (dir: string) => join(dir, "profile.json"),
  /** The admin principal: who it is (`admin.json`), and its certificate with the private key (`admin.pem`). */
  adminPrincipal: (dir: string) => join(dir, "admin.json"),
  adminCertificate: (dir: string) => join(dir, "admin.pem"),
  /** The key-encryption keys that seal secret values in the database (owner-only). */
  secretKeyRing: (dir: string) => join(dir, "secret-keys.json"),
  /** The CLI's access tokens as the admin principal, until they expire. */
  tokenCache: (dir: string) => join(dir, "tokens.json"),
};

/**
 * The CLI's own state, kept between commands like az's azureProfile.json: the current subscription, and the
 * service principal `wikit login` signed in (with the federated token it presents, so the file is the owner's only).
 */
export interface CliProfile {
  subscription?: string;
  /** The cluster `serviceaccount` and `run` use without --cluster (`wikit aks get-credentials`). */
  cluster?: { subscription: string; resourceGroup: string; name: string };
  login?: { clientId: string; tenant: string; federatedToken: string };
}

export async function readCliProfile(dir: string): Promise<CliProfile> {
  const file = dataDirFiles.profile(dir);
  if (!existsSync(file)) return {};
  const profile = JSON.parse(await readFile(file, "utf8")) as CliProfile;
  return typeof profile === "object" && profile !== null ? profile : {};
}

export async function writeCliProfile(dir: string, profile: CliProfile): Promise<void> {
  await writeFileDurably(dataDirFiles.profile(dir), `${JSON.stringify(profile, null, 2)}\n`, 0o600);
}

/** The admin credential that the management API demands; created once, readable by the owner only. */
export async function loadOrCreateAdminToken(dir: string): Promise<string> {
  const file = dataDirFiles.adminToken(dir);
  if (existsSync(file)) {
    const token = (await readFile(file, "utf8")).trim();
    if (token.length >= ADMIN_TOKEN_MIN_LENGTH) return token;
  }
  return createAdminTokenFile(file);
}

const ADMIN_TOKEN_MIN_LENGTH = 32;

/**
 * A server's admin credential, from `file` (given to every replica, e.g. a mounted Secret): made when the file does
 * not exist; refused, never replaced, when it is shorter than 32 characters.
 */
export async function loadAdminTokenFile(file: string): Promise<string> {
  if (!existsSync(file)) return createAdminTokenFile(file);
  const token = (await readFile(file, "utf8")).trim();
  if (token.length < ADMIN_TOKEN_MIN_LENGTH) {
    throw new Error(
      `the admin token in ${file} is ${token.length} characters long; it must be at least ${ADMIN_TOKEN_MIN_LENGTH} (e.g. head -c 32 /dev/urandom | base64)`,
    );
  }
  return token;
}

async function createAdminTokenFile(file: string): Promise<string> {
  const token = randomBytes(32).toString("base64url");
  await writeFileDurably(file, `${token}\n`, 0o600);
  return token;
}

export async function readAdminToken(dir: string): Promise<string | undefined> {
  const file = dataDirFiles.adminToken(dir);
  return existsSync(file) ? (await readFile(file, "utf8")).trim() : undefined;
}

/** What a running `wikit up` announces to the CLI. */
export interface ServerInfo {
  pid: number;
  /** Base URL of every endpoint but the vaults, e.g. `https://localhost:8443`. */
  url: string;
  port: number;
  caFile: string;
  tenantId: string;
  subscriptionId: string;
  issuerUrl: string;
  /** Vaults answer at `https://{name}.{vaultDomain}:{port}`. */
  vaultDomain: string;
  /** App Configuration stores answer at `https://{name}.{appConfigDomain}:{port}`. */
  appConfigDomain: string;
  startedAt: string;
}

export async function writeServerInfo(dir: string, info: ServerInfo): Promise<void> {
  await writeFileDurably(dataDirFiles.server(dir), `${JSON.stringify(info, null, 2)}\n`, 0o600);
}

export async function readServerInfo(dir: string): Promise<ServerInfo | undefined> {
  try {
    return JSON.parse(await readFile(dataDirFiles.server(dir), "utf8")) as ServerInfo;
  } catch {
    return undefined;
  }
}

export async function removeServerInfo(dir: string, pid: number): Promise<void> {
  const info = await readServerInfo(dir);
  if (info?.pid === pid) await rm(dataDirFiles.server(dir), { force: true });
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The app ID of the admin principal `wikit up` made (admin.json), or undefined before the first start. */
export async function readAdminClientId(dir: string): Promise<string | undefined> {
  const file = dataDirFiles.adminPrincipal(dir);
  if (!existsSync(file)) return undefined;
  const { clientId } = JSON.parse(await readFile(file, "utf8")) as { clientId?: unknown };
  return typeof clientId === "string" ? clientId : undefined;
}

/** An access token the CLI keeps until shortly before it expires (`expiresOn`, epoch seconds). */
export interface CachedToken {
  accessToken: string;
  expiresOn: number;
}

/** The CLI's cached access tokens by key; empty when there are none or the file is damaged. */
export async function readTokenCache(dir: string): Promise<Record<string, CachedToken>> {
  const file = dataDirFiles.tokenCache(dir);
  if (!existsSync(file)) return {};
  try {
    const cache = JSON.parse(await readFile(file, "utf8")) as unknown;
    return typeof cache === "object" && cache !== null ? (cache as Record<string, CachedToken>) : {};
  } catch {
    return {};
  }
}

/** Replaces the token cache; the owner's only, as it holds bearer tokens. */
export async function writeTokenCache(dir: string, cache: Record<string, CachedToken>): Promise<void> {
  await writeFileDurably(dataDirFiles.tokenCache(dir), `${JSON.stringify(cache)}\n`, 0o600);
}
