// One `wikit serve` replica in this process, on SQLite: what it refuses at start, and a renewed certificate served
// without a restart.
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { connect, type PeerCertificate } from "node:tls";
import { createCertificateAuthority, issueServingCertificate } from "../../src/pki/certificates.ts";
import {
  defaultAppConfigDomain,
  type RunningServer,
  type ServerOptions,
  startServer,
} from "../../src/server/server-stack.ts";

const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });

function options(dir: string, overrides: Partial<ServerOptions> = {}): ServerOptions {
  return {
    store: join(dir, "server.db"),
    port: 0,
    listenAddress: "127.0.0.1",
    publicUrl: "https://localhost:8443",
    vaultDomain: "vault.localhost",
    secretKeyFile: join(dir, "secret-keys.json"),
    adminTokenFile: join(dir, "admin-token"),
    logStream: quiet,
    ...overrides,
  };
}

/** The serial number of the certificate the server presents. */
function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: "127.0.0.1", port, servername: "localhost", rejectUnauthorized: false },
      () => {
        resolve(socket.getPeerCertificate().serialNumber);
        socket.end();
      },
    );
    socket.once("error", reject);
  });
}

describe("wikit serve, one replica", () => {
  const servers: RunningServer[] = [];
  after(async () => {
    for (const server of servers) await server.close();
  });

  test("a public URL that is not https:// without a path, or an admin token under 32 characters, stops the start", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wikit-serve-"));
    await assert.rejects(
      startServer(options(dir, { publicUrl: "https://wikit.example.test/tenant" })),
      /--public-url must be an https:\/\/ URL with no path/,
    );
    await assert.rejects(
      startServer(options(dir, { publicUrl: "wikit.example.test" })),
      /--public-url must be/,
    );
    writeFileSync(join(dir, "short-token"), "too-short\n");
    await assert.rejects(
      startServer(options(dir, { adminTokenFile: join(dir, "short-token") })),
      /the admin token in .*short-token is 9 characters long; it must be at least 32/,
    );
  });

  test("given certificate files are served, and served again once they are replaced, without a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wikit-serve-"));
    const ca = await createCertificateAuthority("test CA", 1);
    const certFile = join(dir, "tls.crt");
    const keyFile = join(dir, "tls.key");
    const write = async () => {
      const serving = await issueServingCertificate(ca, ["localhost", "*.vault.localhost"], 1);
      writeFileSync(certFile, serving.certPem);
      writeFileSync(keyFile, serving.keyPem);
    };
    await write();
    const server = await startServer(options(dir, { tls: { certFile, keyFile }, certificateCheckMs: 50 }));
    servers.push(server);
    assert.equal(server.caCertPem, undefined, "with its own certificate, the store's CA is not offered");
    const first = await servedSerial(server.port);
    await write();
    let renewed = first;
    for (let attempt = 0; attempt < 200 && renewed === first; attempt++) {
      await sleep(50);
      renewed = await servedSerial(server.port);
    }
    assert.notEqual(renewed, first, "the renewed certificate was never served");
  });

  test("after drain, /readyz says it is shutting down while requests are still answered", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wikit-serve-"));
    const server = await startServer(options(dir));
    servers.push(server);
    assert.equal((await server.app.inject({ url: "/readyz" })).statusCode, 200);
    server.drain();
    const ready = await server.app.inject({ url: "/readyz" });
    assert.equal(ready.statusCode, 503);
    assert.equal(ready.json().reason, "shutting down");
    assert.equal((await server.app.inject({ url: "/healthz" })).statusCode, 200);
  });

  test("an App Configuration store answers at <name>.<appconfig domain>, under the served certificate", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wikit-serve-"));
    const server = await startServer(options(dir, { appConfigDomain: "settings.example.test" }));
    servers.push(server);
    const admin = { authorization: `Bearer ${readFileSync(join(dir, "admin-token"), "utf8").trim()}` };
    const subscriptions = (
      await server.app.inject({ url: "/subscriptions?api-version=2022-12-01", headers: admin })
    ).json();
    const group = `/subscriptions/${subscriptions.value[0].subscriptionId}/resourceGroups/apps`;
    const storePath = `${group}/providers/Microsoft.AppConfiguration/configurationStores/team-settings`;
    await server.app.inject({
      method: "PUT",
      url: `${group}?api-version=2022-09-01`,
      headers: admin,
      payload: {},
    });
    const created = await server.app.inject({
      method: "PUT",
      url: `${storePath}?api-version=2024-05-01`,
      headers: admin,
      payload: {},
    });
    assert.equal(created.json().properties.endpoint, "https://team-settings.settings.example.test:8443");
    const certificate = await servedCertificate(server.port, "team-settings.settings.example.test");
    assert.match(certificate.subjectaltname ?? "", /DNS:\*\.settings\.example\.test/);

    const [key] = (
      await server.app.inject({
        method: "POST",
        url: `${storePath}/listKeys?api-version=2024-05-01`,
        headers: admin,
      })
    ).json().value;
    const host = "team-settings.settings.example.test:8443";
    const date = new Date().toUTCString();
    const emptyHash = createHash("sha256").update("").digest("base64");
    const signature = createHmac("sha256", Buffer.from(key.value, "base64"))
      .update(`GET\n/kv?api-version=1.0\n${date};${host};${emptyHash}`)
      .digest("base64");
    const listed = await server.app.inject({
      url: "/kv?api-version=1.0",
      headers: {
        host,
        "x-ms-date": date,
        "x-ms-content-sha256": emptyHash,
        authorization: `HMAC-SHA256 Credential=${key.id}&SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`,
      },
    });
    assert.equal(listed.statusCode, 200, listed.body);
    assert.deepEqual(listed.json().items, []);
  });

  test("the App Configuration domain defaults to azconfig. beside the vault domain", () => {
    assert.equal(defaultAppConfigDomain("vault.example.test"), "azconfig.example.test");
    assert.equal(defaultAppConfigDomain("vaults.example.test"), "azconfig.vaults.example.test");
  });
});

/** The certificate the server presents for a server name. */
function servedCertificate(port: number, servername: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, servername, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate());
      socket.end();
    });
    socket.once("error", reject);
  });
}
