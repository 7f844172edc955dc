import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { request } from "node:https";
import { rootCertificates } from "node:tls";
import type { Command } from "commander";
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from "jose";
import { ACCEPT_DISCOVERY, ACCEPT_JWKS } from "../../names/oidc-media-types.ts";
import { dataDirFiles, resolveDataDir } from "../../server/data-dir.ts";
import { CliError } from "../cli-error.ts";
import { printResult } from "../output.ts";
import { compareSideBySide, comparisonTable, type Inspected, inspect, timesOf } from "../token-inspection.ts";

// `wikit token decode` and `wikit token compare`: what a service-account token, a federated credential or an
// access token says, for finding out why an exchange fails. Tokens are read from files (or stdin), never from
// the command line, where they would end up in the shell's history.

const FETCH_TIMEOUT_MS = 5_000;

async function readSource(source: string): Promise<string> {
  try {
    if (source === "-") {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    }
    return await readFile(source, "utf8");
  } catch (error) {
    throw new CliError(`cannot read ${source}: ${(error as Error).message}`);
  }
}

/** What a file (or stdin) holds, and its text. */
async function inspectSource(source: string): Promise<{ inspected: Inspected; text: string }> {
  const text = await readSource(source);
  try {
    return { inspected: inspect(text, source === "-" ? "stdin" : source), text: text.trim() };
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}

/** GET of a JSON document over HTTPS, trusting the system roots and wikit's CA. */
function getJson(url: string, ca: string[], accept: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    if (target.protocol !== "https:") {
      reject(new Error(`${url} is not HTTPS`));
      return;
    }
    const req = request(target, { ca, headers: { accept }, timeout: FETCH_TIMEOUT_MS }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        if (response.statusCode !== 200) {
          reject(new Error(`${url}: HTTP ${response.statusCode}`));
          return;
        }
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        } catch {
          reject(new Error(`${url} is not JSON`));
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error(`${url}: no answer within ${FETCH_TIMEOUT_MS} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/** The signature checked against the issuer's published keys, as far as they can be reached from here. */
async function signatureStatus(token: string, issuer: unknown, ca: string[]): Promise<string> {
  if (typeof issuer !== "string") return "not checked: the token names no issuer";
  let jwksUri: string;
  try {
    const discovery = (await getJson(
      `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`,
      ca,
      ACCEPT_DISCOVERY,
    )) as { jwks_uri?: unknown };
    if (typeof discovery.jwks_uri !== "string")
      return "not checked: the issuer's discovery document has no jwks_uri";
    jwksUri = discovery.jwks_uri;
  } catch (error) {
    return `not checked: the issuer cannot be reached (${(error as Error).message})`;
  }
  try {
    const jwks = (await getJson(jwksUri, ca, ACCEPT_JWKS)) as JSONWebKeySet;
    await compactVerify(token, createLocalJWKSet(jwks));
    return `valid: signed by a key the issuer publishes at ${jwksUri}`;
  } catch (error) {
    return `INVALID: ${(error as Error).message} (keys from ${jwksUri})`;
  }
}

export function registerTokenCommands(program: Command): void {
  const token = program.command("token").description("look inside tokens and federated credentials");
  token
    .command("decode")
    .description(
      "a token's header and claims, its times in local time and relative to now, its signature checked",
    )
    .argument("<file>", "file holding the token, e.g. the one AZURE_FEDERATED_TOKEN_FILE names; - for stdin")
    .option(
      "--data-dir <dir>",
      "trust the CA of the wikit running from here (default: $WIKIT_HOME or ~/.wikit)",
    )
    .action(async (file: string, options: { dataDir?: string }) => {
      const { inspected, text } = await inspectSource(file);
      if (inspected.kind !== "token")
        throw new CliError(`${inspected.source} holds a federated credential, not a token`);
      const caFile = dataDirFiles.caCert(resolveDataDir(options.dataDir));
      const ca = [...rootCertificates, ...(existsSync(caFile) ? [await readFile(caFile, "utf8")] : [])];
      printResult({
        header: inspected.header,
        claims: inspected.claims,
        times: timesOf(inspected.claims, Date.now() / 1000),
        signature: await signatureStatus(text, inspected.claims.iss, ca),
      });
    });
  token
    .command("compare")
    .description("tokens and federated credentials side by side, marking the fields an exchange matches")
    .argument(
      "<a>",
      "a token file or a credential's JSON (wikit identity federated-credential show > fic.json)",
    )
    .argument("<b>", "another")
    .argument("[c]", "a third, e.g. the access token")
    .action(async (a: string, b: string, c: string | undefined) => {
      const sources = [a, b, ...(c === undefined ? [] : [c])];
      const items = (await Promise.all(sources.map(inspectSource))).map(({ inspected }) => inspected);
      process.stdout.write(`${comparisonTable(items, compareSideBySide(items))}\n`);
    });
}
