// Walkthrough W4's issuer, the wikit way, against a real `wikit up`: `wikit issuer init` makes the signing key and the
// documents, `wikit issuer serve` publishes them over HTTPS, and a service-account token signed with the generated
// key — as the self-managed cluster's apiserver would sign it — is exchanged at wikit's token service, which fetches
// the discovery document and JWKS from that server, as Entra would.

import assert from "node:assert/strict";
import { type ChildProcess, spawnSync } from "node:child_process";
import { createPublicKey } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { decodeJwt } from "jose";
import type { ServerInfo } from "../../src/server/data-dir.ts";
import { keyIdOf } from "../../src/signing-keys/key-id.ts";
import { exchangeAtTokenService, signWithKeyFile, startIssuerBesideWikitUp } from "./issuer-host.ts";
import { cliEntry, httpsRequest, newDataDir, repoRoot, wikit } from "./local-stack.ts";

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

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "wikit-issuer-"));
    // Issuer tooling runs where the cluster is made: no data directory.
    let initOutput = "";
    ({ info, ca, issuer, served, clientId, initOutput } = await startIssuerBesideWikitUp(
      dataDir,
      join(work, "issuer"),
      "oidc-test",
      "w4",
    ));
    assert.match(
      initOutput,
      /--extra-config=apiserver\.service-account-issuer=https:\/\/localhost:\d+\/oidc-test\//,
    );
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
    const token = await signWithKeyFile(join(work, "issuer", "sa.key"), issuer, "w4-sa");
    const exchange = await exchangeAtTokenService(info, ca, clientId, token);
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
