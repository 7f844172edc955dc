// A self-managed cluster's issuer beside a real `wikit up`: `wikit issuer init` and `wikit issuer serve` run as
// separate processes, service-account tokens signed as that cluster's apiserver signs them, and their exchange at
// wikit's token service.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createPrivateKey, createPublicKey, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import {
  serviceAccountTokenClaims,
  signServiceAccountToken,
} from "../../src/cluster/tokens/service-account-token.ts";
import type { ServerInfo } from "../../src/server/data-dir.ts";
import { keyIdOf } from "../../src/signing-keys/key-id.ts";
import {
  cliEntry,
  httpsRequest,
  identityWithCredential,
  repoRoot,
  startWikitUp,
  wikitOk,
} from "./local-stack.ts";

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });

/** Runs `wikit issuer init` for `issuer` into `out` (no data directory, as where a cluster is made); its stdout. */
export function initIssuer(issuer: string, out: string): string {
  const init = spawnSync(
    process.execPath,
    [cliEntry, "issuer", "init", "--issuer-url", issuer, "--out", out],
    {
      cwd: repoRoot,
      encoding: "utf8",
    },
  );
  assert.equal(init.status, 0, init.stderr);
  return init.stdout;
}

/** Starts `wikit issuer serve` of the folder `dir` on `port`; the child process, once it says it is serving. */
export async function startIssuerServe(dir: string, port: number, dataDir: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [cliEntry, "issuer", "serve", "--dir", dir, "--port", String(port), "--data-dir", dataDir],
    { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("serving ")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`issuer serve exited with ${code}`)));
  });
  return child;
}

/** A token for `default/{serviceAccount}` as the cluster's apiserver signs it with the private key in `keyFile`. */
export async function signWithKeyFile(
  keyFile: string,
  issuer: string,
  serviceAccount: string,
): Promise<string> {
  const privateKey = createPrivateKey(readFileSync(keyFile, "utf8"));
  const publicKey = createPublicKey(privateKey);
  return signServiceAccountToken(
    serviceAccountTokenClaims({
      issuer,
      namespace: "default",
      serviceAccount: { name: serviceAccount, uid: randomUUID() },
      audiences: ["api://AzureADTokenExchange"],
      expirationSeconds: 3600,
    }),
    { kid: keyIdOf(publicKey), alg: "RS256", privateKey, publicKey },
  );
}

/** Exchanges `token` for a Key Vault token of `clientId` at the token service of the running wikit. */
export function exchangeAtTokenService(info: ServerInfo, ca: string, clientId: string, token: string) {
  return httpsRequest(`${info.url}/${info.tenantId}/oauth2/v2.0/token`, {
    ca,
    ...federatedTokenRequest(clientId, token, "https://vault.azure.net/.default"),
  });
}

/** The POST a workload makes to exchange a service-account `token` for an access token for `scope`. */
export function federatedTokenRequest(clientId: string, token: string, scope: string) {
  return {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: clientId,
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: token,
      scope,
    }).toString(),
  };
}

/** Starts `wikit up`, an issuer in `dir` served at https://localhost:PORT/{path}/, and identity mi-{name} trusting it. */
export async function startIssuerBesideWikitUp(dataDir: string, dir: string, path: string, name: string) {
  const { info, ca } = await startWikitUp(dataDir);
  const port = await freePort();
  const issuer = `https://localhost:${port}/${path}/`;
  const initOutput = initIssuer(issuer, dir);
  const served = await startIssuerServe(dir, port, dataDir);
  wikitOk(dataDir, ["group", "create", "-n", `rg-${name}`, "-o", "none"]);
  const clientId = identityWithCredential(
    dataDir,
    { group: `rg-${name}`, identity: `mi-${name}`, credential: `${name}-fic` },
    issuer,
    `system:serviceaccount:default:${name}-sa`,
  );
  return { info, ca, port, issuer, initOutput, served, clientId };
}
