// Which wikit the CLI talks to: the `wikit up` of the data directory, or a `wikit serve` named by `--server URL` or
// WIKIT_SERVER, reached with the admin credential given by WIKIT_ADMIN_TOKEN or WIKIT_ADMIN_TOKEN_FILE.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { CliError } from "./cli-error.ts";

export const SERVER_ENV = "WIKIT_SERVER";
const ADMIN_TOKEN_ENV = "WIKIT_ADMIN_TOKEN";
const ADMIN_TOKEN_FILE_ENV = "WIKIT_ADMIN_TOKEN_FILE";
/** A PEM file of the CA that issued the server's certificate, when the machine's roots do not hold it. */
const CA_FILE_ENV = "WIKIT_CA_FILE";

let configured: string | undefined;

/** Sets the server given by `--server`; the environment's WIKIT_SERVER applies when none is. */
export function configureServer(url: string | undefined): void {
  configured = url;
}

export interface RemoteServer {
  url: URL;
  adminToken: string;
  /** Extra CA (PEM) to trust, or undefined for the machine's roots. */
  ca?: string;
}

/** The remote server the CLI is pointed at, or undefined for the local `wikit up`. */
export async function remoteServer(env: NodeJS.ProcessEnv = process.env): Promise<RemoteServer | undefined> {
  const given = configured ?? env[SERVER_ENV];
  if (!given) return undefined;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new CliError(
      `--server / ${SERVER_ENV} must be a URL such as https://wikit.example.test, not '${given}'`,
    );
  }
  if (url.protocol !== "https:")
    throw new CliError(`--server / ${SERVER_ENV} must be an https:// URL, not '${given}'`);
  const tokenFile = env[ADMIN_TOKEN_FILE_ENV];
  const adminToken =
    env[ADMIN_TOKEN_ENV] ?? (tokenFile ? await readSecretFile(tokenFile, ADMIN_TOKEN_FILE_ENV) : "");
  if (!adminToken.trim()) {
    throw new CliError(
      `${url.origin} needs the admin credential: set ${ADMIN_TOKEN_ENV}, or ${ADMIN_TOKEN_FILE_ENV} to the file given to \`wikit serve --admin-token-file\``,
    );
  }
  const caFile = env[CA_FILE_ENV];
  return {
    url,
    adminToken: adminToken.trim(),
    ca: caFile ? await readSecretFile(caFile, CA_FILE_ENV) : undefined,
  };
}

async function readSecretFile(file: string, variable: string): Promise<string> {
  if (!existsSync(file)) throw new CliError(`${variable} names ${file}, which does not exist`);
  return readFile(file, "utf8");
}
