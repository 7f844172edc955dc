// Server mode as it runs on a cluster: three `wikit serve` processes on one real PostgreSQL, behind a balancer.
// What one replica writes, the others serve; the official SDKs read a secret through each; a replica killed during
// a thousand concurrent writes loses none it acknowledged; a PostgreSQL restart is answered with 503s and
// Retry-After, then service resumes by itself; two replicas racing for the 20th place do not both get it. Last, no
// log line of any replica holds a secret value or a token used along the way.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { decodeJwt } from "jose";
import {
  federatedTokenRequest,
  freePort,
  initIssuer,
  signWithKeyFile,
  startIssuerServe,
} from "../compat/issuer-host.ts";
import { pythonWithAzure, repoRoot } from "../compat/local-stack.ts";
import { PostgresTestServer } from "../store/postgres-server.ts";
import { provisionVaultReader, ServerReplicas } from "./server-replicas.ts";

const ARM = "api-version=2023-01-31";
const VAULT_API = "api-version=7.4";
const GROUP = "rg-server";
const VAULT = "kv-server";
const SECRET_NAME = "app-secret";
const SECRET_VALUE = `server-secret-${randomUUID()}`;
const jsApp = join(repoRoot, "examples", "js", "read-secret.mjs");
const pyApp = join(repoRoot, "examples", "python", "read_secret.py");

/** Runs a process to its end without blocking this one; its exit code and output. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(command, args, { env, timeout: 120_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("wikit serve: three replicas on one PostgreSQL", { timeout: 1_200_000 }, () => {
  let postgres: PostgresTestServer;
  let replicas: ServerReplicas;
  let issuerServe: ChildProcess;
  let issuer: string;
  let issuerKeyFile: string;
  let tenantId: string;
  let clientId: string;
  let principalId: string;
  let identityId: string;
  let _vaultId: string;
  const work = mkdtempSync(join(tmpdir(), "wikit-replicas-"));
  /** Every secret value and token used: none may appear in any log line. */
  const neverLogged = new Set<string>([SECRET_VALUE]);

  const serviceAccountToken = async () => {
    const token = await signWithKeyFile(issuerKeyFile, issuer, "app-sa");
    neverLogged.add(token);
    return token;
  };

  /** The vaults' resource, as Key Vault's challenge names it to clients: the public URL's port included. */
  const vaultScope = () => `https://vault.localhost:${replicas.balancer.port}/.default`;
  /** Exchanges a service-account token at replica `index`; the response. */
  const exchange = async (index: number, scope = vaultScope()) =>
    replicas.request(
      index,
      `/${tenantId}/oauth2/v2.0/token`,
      federatedTokenRequest(clientId, await serviceAccountToken(), scope),
    );

  const vaultAccessToken = async (index: number) => {
    const response = await exchange(index);
    assert.equal(response.status, 200, response.body);
    const token = String(JSON.parse(response.body).access_token);
    neverLogged.add(token);
    return token;
  };

  const arm = (index: number, method: string, path: string, body?: unknown) =>
    replicas.request(index, `${path}${path.includes("?") ? "&" : "?"}${ARM}`, {
      method,
      headers: {
        authorization: `Bearer ${replicas.adminToken}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  before(async () => {
    postgres = await PostgresTestServer.start();
    const issuerData = join(work, "issuer-data");
    const issuerPort = await freePort();
    issuer = `https://localhost:${issuerPort}/cluster/`;
    const issuerDir = join(work, "issuer");
    initIssuer(issuer, issuerDir);
    issuerKeyFile = join(issuerDir, "sa.key");
    issuerServe = await startIssuerServe(issuerDir, issuerPort, issuerData);
    replicas = await ServerReplicas.start(await postgres.createDatabase(), 3, [
      "--allow-private-issuers",
      "--issuer-ca-file",
      join(issuerData, "ca.crt"),
    ]);
    neverLogged.add(replicas.adminToken);

    const made = await provisionVaultReader(replicas, {
      group: GROUP,
      identity: "mi-app",
      issuer,
      serviceAccount: "app-sa",
      vault: VAULT,
      secret: SECRET_NAME,
      value: SECRET_VALUE,
    });
    ({ clientId, principalId, tenantId } = made.identity);
    identityId = made.identity.id;
    _vaultId = made.vaultId;
  });

  after(async () => {
    await replicas?.close();
    issuerServe?.kill();
    await postgres?.destroy();
  });

  test("an identity made through one replica is used for an exchange through each of the others", async () => {
    for (const index of [0, 1, 2]) {
      const response = await exchange(index);
      assert.equal(response.status, 200, `replica ${index}: ${response.body}`);
      const claims = decodeJwt(JSON.parse(response.body).access_token);
      assert.equal(claims.appid, clientId);
      assert.equal(claims.oid, principalId);
    }
  });

  test("every replica serves the same key set, and verifies tokens any replica signed", async () => {
    const keySets = await Promise.all(
      [0, 1, 2].map(
        async (index) => (await replicas.request(index, `/${tenantId}/discovery/v2.0/keys`)).body,
      ),
    );
    assert.equal(new Set(keySets).size, 1, "the replicas publish different keys");
    const token = await vaultAccessToken(0);
    for (const index of [1, 2]) {
      const read = await replicas.request(index, `/secrets/${SECRET_NAME}?${VAULT_API}`, {
        hostname: `${VAULT}.vault.localhost`,
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(read.status, 200, read.body);
      assert.equal(JSON.parse(read.body).value, SECRET_VALUE);
    }
  });

  test("the official JS SDK reads the secret through each replica, and the Python SDK through the balancer", async () => {
    const tokenFile = join(work, "sa-token");
    writeFileSync(tokenFile, await serviceAccountToken());
    const env = (port: number) => ({
      ...process.env,
      AZURE_CLIENT_ID: clientId,
      AZURE_TENANT_ID: tenantId,
      AZURE_FEDERATED_TOKEN_FILE: tokenFile,
      AZURE_AUTHORITY_HOST: `https://localhost:${port}/`,
      KEYVAULT_URL: `https://${VAULT}.vault.localhost:${port}/`,
      SECRET_NAME,
      NODE_EXTRA_CA_CERTS: replicas.caFile,
      REQUESTS_CA_BUNDLE: replicas.caFile,
      SSL_CERT_FILE: replicas.caFile,
    });
    for (const replica of replicas.replicas) {
      const result = await run(process.execPath, [jsApp], env(replica.port));
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`secret=${SECRET_VALUE}`));
    }
    const python = pythonWithAzure();
    assert.ok(python, "the Azure SDK for Python is missing: .ci/run installs python3-azure");
    const result = await run(python, [pyApp], env(replicas.balancer.port));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`secret=${SECRET_VALUE}`));
  });

  test("two replicas racing to add the 20th and 21st credential: exactly one succeeds, every round", async () => {
    const identity = `${identityId.replace(/\/mi-app$/, "")}/mi-race`;
    const made = await arm(0, "PUT", identity, { location: "westeurope" });
    assert.ok(made.status < 300, made.body);
    const credential = (name: string) => `${identity}/federatedIdentityCredentials/${name}`;
    const body = (subject: string) => ({
      properties: { issuer, subject, audiences: ["api://AzureADTokenExchange"] },
    });
    for (let i = 1; i <= 19; i++) {
      const made = await arm(
        i % 3,
        "PUT",
        credential(`fic-${i}`),
        body(`system:serviceaccount:race:sa-${i}`),
      );
      assert.ok(made.status < 300, made.body);
    }
    for (let round = 0; round < 5; round++) {
      const [a, b] = await Promise.all([
        arm(1, "PUT", credential(`fic-a${round}`), body(`system:serviceaccount:race:a-${round}`)),
        arm(2, "PUT", credential(`fic-b${round}`), body(`system:serviceaccount:race:b-${round}`)),
      ]);
      const statuses = [a.status, b.status].sort();
      assert.ok(statuses[0] !== undefined && statuses[0] < 300, `round ${round}: neither succeeded`);
      assert.equal(statuses[1], 400, `round ${round}: both succeeded (${a.body} / ${b.body})`);
      assert.match(a.status === 400 ? a.body : b.body, /already has 20 federated identity credentials/);
      const listed = await arm(0, "GET", `${identity}/federatedIdentityCredentials`);
      assert.equal(JSON.parse(listed.body).value.length, 20);
      // Free the 20th place for the next round.
      const winner = a.status < 300 ? `fic-a${round}` : `fic-b${round}`;
      const deleted = await arm(0, "DELETE", credential(winner));
      assert.ok(deleted.status < 300, deleted.body);
    }
  });

  test("kill -9 of a replica during 1,000 concurrent writes: every acknowledged write is read back, none half-applied", async () => {
    const token = await vaultAccessToken(0);
    const agent = new Agent({ keepAlive: true, maxSockets: 12, ca: replicas.ca });
    const put = (index: number, name: string, value: string) =>
      new Promise<number>((resolve) => {
        const body = JSON.stringify({ value, contentType: `text/${name}`, tags: { name } });
        const outgoing = request(
          {
            host: "127.0.0.1",
            port: replicas.replicas[index]?.port,
            servername: "localhost",
            agent,
            method: "PUT",
            path: `/secrets/${name}?${VAULT_API}`,
            headers: {
              host: `${VAULT}.vault.localhost:${replicas.balancer.port}`,
              authorization: `Bearer ${token}`,
              "content-type": "application/json",
              "content-length": Buffer.byteLength(body),
            },
          },
          (response) => {
            response.resume();
            response.once("end", () => resolve(response.statusCode ?? 0));
          },
        );
        outgoing.once("error", () => resolve(0));
        outgoing.end(body);
      });
    const acknowledged = new Map<string, string>();
    let failed = 0;
    let killed = false;
    const writes = Array.from({ length: 1000 }, async (_, i) => {
      const name = `w-${i}`;
      const value = `v-${i}-${randomUUID()}`;
      neverLogged.add(value);
      const status = await put(i % 3, name, value);
      if (status === 200) acknowledged.set(name, value);
      else failed++;
      if (!killed && acknowledged.size >= 250) {
        killed = true;
        await replicas.stopReplica(2, "SIGKILL");
      }
    });
    // Exchanges go on at the surviving replicas while the writes run.
    const exchanges = (async () => {
      const statuses: number[] = [];
      while (!killed) await sleep(20);
      for (let i = 0; i < 10; i++) statuses.push((await exchange(i % 2)).status);
      return statuses;
    })();
    await Promise.all(writes);
    assert.ok(killed, "the replica was never killed");
    assert.deepEqual(await exchanges, Array(10).fill(200));
    agent.destroy();
    assert.ok(
      acknowledged.size >= 600,
      `only ${acknowledged.size} writes were acknowledged (${failed} failed)`,
    );

    let lost = 0;
    for (let i = 0; i < 1000; i++) {
      const name = `w-${i}`;
      const read = await replicas.request(i % 2, `/secrets/${name}?${VAULT_API}`, {
        hostname: `${VAULT}.vault.localhost`,
        headers: { authorization: `Bearer ${token}` },
      });
      const wanted = acknowledged.get(name);
      if (read.status === 404) {
        if (wanted !== undefined) lost++;
        continue;
      }
      assert.equal(read.status, 200, read.body);
      const secret = JSON.parse(read.body);
      // Written whole or not at all: value, content type and tags belong to the same request.
      assert.match(secret.value, new RegExp(`^v-${i}-`));
      assert.equal(secret.contentType, `text/${name}`);
      assert.deepEqual(secret.tags, { name });
      if (wanted !== undefined) assert.equal(secret.value, wanted);
    }
    assert.equal(lost, 0, `${lost} acknowledged writes were lost`);
    await replicas.startReplica(2);
  });

  test("PostgreSQL restarted under load: clean 503s with Retry-After meanwhile, then service resumes by itself", async () => {
    const token = await vaultAccessToken(0);
    const outcomes = new Map<string, number>();
    let running = true;
    const load = (async () => {
      let i = 0;
      while (running) {
        const index = i++ % 3;
        const response =
          i % 2 === 0
            ? await exchange(index)
            : await replicas.request(index, `/secrets/${SECRET_NAME}?${VAULT_API}`, {
                hostname: `${VAULT}.vault.localhost`,
                headers: { authorization: `Bearer ${token}` },
              });
        const key = `${response.status} retry-after=${response.headers["retry-after"] ?? "none"}`;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        if (response.status === 503 && i % 2 === 0) {
          assert.equal(JSON.parse(response.body).error, "temporarily_unavailable");
        }
      }
    })();
    let resumed = false;
    try {
      await sleep(1000);
      await postgres.stop();
      await sleep(3000);
      const ready = await replicas.request(0, "/readyz");
      assert.equal(ready.status, 503, "a replica whose store is down says it is not ready");
      await postgres.startAgain();
      // Resumes without a restart of any replica: the next requests succeed again.
      for (let attempt = 0; attempt < 300 && !resumed; attempt++) {
        resumed = (await exchange(attempt % 3)).status === 200;
        if (!resumed) await sleep(200);
      }
    } finally {
      running = false;
      await load;
    }
    assert.ok(resumed, `service did not resume: ${JSON.stringify([...outcomes])}`);
    const statuses = [...outcomes.keys()];
    assert.ok(
      statuses.every((key) => key.startsWith("200 ") || key === "503 retry-after=2"),
      `answers other than 200 or 503 with Retry-After: ${JSON.stringify([...outcomes])}`,
    );
    assert.ok(outcomes.has("503 retry-after=2"), "the outage was never seen");
    for (const index of [0, 1, 2]) assert.equal((await replicas.request(index, "/readyz")).status, 200);
  });

  test("no log line of any replica holds a secret value or a token used", async () => {
    const logs = replicas.logs();
    assert.ok(logs.split("\n").length > 1000, "the replicas logged their requests");
    const found = [...neverLogged].filter((value) => logs.includes(value));
    assert.deepEqual(found, []);
  });
});
