// Walkthrough W4's issuer, the wikit way, against a real `wikit up`: `wikit issuer init` makes the signing key and the
// documents, `wikit issuer serve` publishes them over HTTPS, and a service-account token signed with the generated
// key — as the self-managed cluster's apiserver would sign it — is exchanged at wikit's token service, which fetches
// the discovery document and JWKS from that server, as Entra would.

import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createPrivateKey, createPublicKey, randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { decodeJwt } from "jose";
import {
  serviceAccountTokenClaims,
  signServiceAccountToken,
} from "../../src/cluster/tokens/service-account-token.ts";
import { readServerInfo, type ServerInfo } from "../../src/server/data-dir.ts";
import { keyIdOf } from "../../src/signing-keys/key-id.ts";
import { cliEntry, newDataDir, repoRoot, wikit } from "./local-stack.ts";

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });

function httpsRequest(
  url: string,
  options: { ca: string; method?: string; host?: string; body?: string; headers?: Record<string, string> },
) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const target = new URL(url);
      const outgoing = request(
        {
          host: "127.0.0.1",
          port: target.port,
          servername: "localhost",
          ca: options.ca,
          method: options.method ?? "GET",
          path: `${target.pathname}${target.search}`,
          headers: { host: options.host ?? target.host, ...options.headers },
        },
        (response) => {
          let body = "";
          response.on("data", (chunk: Buffer) => {
            body += chunk.toString();
          });
          response.on("end", () =>
            resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
          );
        },
      );
      outgoing.once("error", reject);
      outgoing.end(options.body);
    },
  );
}

describe("a self-managed cluster's issuer: issuer init, issuer serve, and an exchange at wikit's token service", {
  timeout: 300_000,
}, () => {
  const dataDir = newDataDir();
  let work = "";
  let issuer = "";
  let info: ServerInfo;
  let ca = "";
  let served: ChildProcess | undefined;
  let clientId = "";

  const ok = (args: string[]) => {
    const result = wikit(dataDir, args);
    assert.equal(result.status, 0, `wikit ${args.join(" ")}: ${result.stderr}`);
    return result.stdout.trimEnd();
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "wikit-issuer-"));
    ok(["up", "--port", "0", "--detach"]);
    const current = await readServerInfo(dataDir);
    assert.ok(current);
    info = current;
    ca = readFileSync(info.caFile, "utf8");
    const port = await freePort();
    issuer = `https://localhost:${port}/oidc-test/`;
    // Issuer tooling runs where the cluster is made: no data directory.
    const init = spawnSync(
      process.execPath,
      [cliEntry, "issuer", "init", "--issuer-url", issuer, "--out", join(work, "issuer")],
      { cwd: repoRoot, encoding: "utf8" },
    );
    assert.equal(init.status, 0, init.stderr);
    assert.match(
      init.stdout,
      /--extra-config=apiserver\.service-account-issuer=https:\/\/localhost:\d+\/oidc-test\//,
    );
    served = spawn(
      process.execPath,
      [
        cliEntry,
        "issuer",
        "serve",
        "--dir",
        join(work, "issuer"),
        "--port",
        String(port),
        "--data-dir",
        dataDir,
      ],
      { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"] },
    );
    await new Promise<void>((resolve, reject) => {
      served?.stderr?.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("serving ")) resolve();
      });
      served?.once("exit", (code) => reject(new Error(`issuer serve exited with ${code}`)));
    });
    ok(["group", "create", "-n", "rg-w4", "-o", "none"]);
    clientId = ok(["identity", "create", "-g", "rg-w4", "-n", "mi-w4", "--query", "clientId", "-o", "tsv"]);
    ok([
      "identity",
      "federated-credential",
      "create",
      "-g",
      "rg-w4",
      "--identity-name",
      "mi-w4",
      "-n",
      "w4-fic",
      "--issuer",
      issuer,
      "--subject",
      "system:serviceaccount:default:w4-sa",
      "-o",
      "none",
    ]);
  });
  after(async () => {
    served?.kill("SIGTERM");
    wikit(dataDir, ["down"]);
    await rm(work, { recursive: true, force: true });
  });

  test("the served documents: the discovery document names the issuer exactly, the JWKS holds the key by its kid", async () => {
    const discovery = await httpsRequest(`${issuer}.well-known/openid-configuration`, { ca });
    assert.equal(discovery.status, 200);
    assert.match(String(discovery.headers["content-type"]), /^application\/json/);
    assert.equal(discovery.headers["cache-control"], "public, max-age=300");
    assert.equal(JSON.parse(discovery.body).issuer, issuer);
    const jwks = await httpsRequest(`${issuer}openid/v1/jwks`, { ca });
    assert.equal(jwks.headers["content-type"], "application/jwk-set+json");
    const publicKey = createPublicKey(readFileSync(join(work, "issuer", "sa.pub"), "utf8"));
    assert.deepEqual(
      JSON.parse(jwks.body).keys.map((key: { kid: string }) => key.kid),
      [keyIdOf(publicKey)],
    );
    const elsewhere = await httpsRequest(`${issuer}openid/v1/jwks`, { ca, host: "evil.example" });
    assert.equal(elsewhere.status, 421, "another host name is refused");
  });

  test("a token signed with the generated key is exchanged at wikit's token service, which fetched the served keys", async () => {
    const privateKey = createPrivateKey(readFileSync(join(work, "issuer", "sa.key"), "utf8"));
    const publicKey = createPublicKey(privateKey);
    const token = await signServiceAccountToken(
      serviceAccountTokenClaims({
        issuer,
        namespace: "default",
        serviceAccount: { name: "w4-sa", uid: randomUUID() },
        audiences: ["api://AzureADTokenExchange"],
        expirationSeconds: 3600,
      }),
      { kid: keyIdOf(publicKey), alg: "RS256", privateKey, publicKey },
    );
    const exchange = await httpsRequest(`${info.url}/${info.tenantId}/oauth2/v2.0/token`, {
      ca,
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: clientId,
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: token,
        scope: "https://vault.azure.net/.default",
      }).toString(),
    });
    assert.equal(exchange.status, 200, exchange.body);
    assert.equal(decodeJwt(JSON.parse(exchange.body).access_token).appid, clientId);

    // issuer verify agrees: the served documents and this token pass every check a token service makes.
    const tokenFile = join(work, "token.jwt");
    writeFileSync(tokenFile, token);
    const verify = spawnSync(
      process.execPath,
      [cliEntry, "issuer", "verify", "--issuer-url", issuer, "--token", tokenFile, "--ca-file", info.caFile],
      { cwd: repoRoot, encoding: "utf8" },
    );
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /the token's signature verifies/);
    assert.match(verify.stdout, /The issuer is ready for token exchange\.\n$/);
  });
});
