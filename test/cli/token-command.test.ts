// `wikit token decode` and `wikit token compare` as a user runs them: the decode checks the signature against the
// keys an HTTPS issuer publishes (trusting the CA in the data directory), and says so when it cannot.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { exportJWK, SignJWT } from "jose";
import { type IssuerServer, startIssuerServer } from "../identity/exchange/issuer-server.ts";

const CLI = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts");
const SUBJECT = "system:serviceaccount:payments:api";

/** Runs the CLI without blocking this process, whose issuer server must answer it meanwhile. */
function wikit(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { encoding: "utf8", timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ status: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr });
      },
    );
  });
}

describe("wikit token", () => {
  let server: IssuerServer;
  let dataDir: string;
  let issuer: string;
  const key = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 });

  const tokenFile = async (name: string, signer = key.privateKey, iss = issuer) => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ sub: SUBJECT, aud: ["api://AzureADTokenExchange"] })
      .setProtectedHeader({ alg: "RS256", kid: "k1" })
      .setIssuer(iss)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(signer);
    const file = join(dataDir, name);
    writeFileSync(file, `${token}\n`);
    return file;
  };

  before(async () => {
    server = await startIssuerServer();
    dataDir = mkdtempSync(join(tmpdir(), "wikit-token-"));
    writeFileSync(join(dataDir, "ca.crt"), server.caPem);
    issuer = `https://localhost:${server.port}/cluster`;
    server.serveJson("/cluster/.well-known/openid-configuration", {
      issuer,
      jwks_uri: `${issuer}/openid/v1/jwks`,
    });
    const jwk = { ...(await exportJWK(key.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    server.serveJson("/cluster/openid/v1/jwks", { keys: [jwk] });
  });
  after(async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("decode shows header, claims and times, and a signature valid against the issuer's published keys", async () => {
    const result = await wikit(["token", "decode", await tokenFile("good.jwt"), "--data-dir", dataDir]);
    assert.equal(result.status, 0, result.stderr);
    const decoded = JSON.parse(result.stdout);
    assert.equal(decoded.header.kid, "k1");
    assert.equal(decoded.claims.sub, SUBJECT);
    assert.match(decoded.times.exp.relative, /^in (59 min|1 h)$/);
    assert.match(
      decoded.signature,
      /^valid: signed by a key the issuer publishes at https:\/\/localhost:\d+\/cluster\/openid\/v1\/jwks$/,
    );
  });

  test("decode calls a token signed by another key INVALID, and says when the issuer cannot be reached", async () => {
    const forgedFile = await tokenFile("forged.jwt", stranger.privateKey);
    const forged = JSON.parse((await wikit(["token", "decode", forgedFile, "--data-dir", dataDir])).stdout);
    assert.match(forged.signature, /^INVALID: /);
    const unreachable = await tokenFile("elsewhere.jwt", key.privateKey, "https://127.0.0.1:1/nowhere");
    const result = await wikit(["token", "decode", unreachable, "--data-dir", dataDir]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(JSON.parse(result.stdout).signature, /^not checked: the issuer cannot be reached/);
  });

  test("compare marks what the token and a credential disagree on", async () => {
    const credential = join(dataDir, "fic.json");
    writeFileSync(
      credential,
      JSON.stringify({
        name: "kube",
        issuer: `${issuer}/`,
        subject: SUBJECT,
        audiences: ["api://AzureADTokenExchange"],
      }),
    );
    const result = await wikit(["token", "compare", await tokenFile("compare.jwt"), credential]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^✗ issuer /m);
    assert.match(result.stdout, /^✓ subject /m);
    assert.match(result.stdout, /^✓ audience /m);
  });

  test("a file that is neither a token nor a credential is a clear error", async () => {
    const junk = join(dataDir, "junk.txt");
    writeFileSync(junk, "hello");
    const result = await wikit(["token", "decode", junk]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^wikit: .*junk\.txt is neither a token nor a federated credential's JSON/);
  });
});
