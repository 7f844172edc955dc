// The loopback CONNECT proxy of `wikit run`: tunnels to Microsoft's authority hosts (port 443) and to wikit's own
// names (any port) end at wikit, every other tunnel goes to its own destination, anything but a well-formed
// CONNECT is refused, and close() ends tunnels. Plain TCP echo servers stand in for wikit and for the rest of
// the world; each greets with its own name. wikit's names here are under `.test`, which no resolver answers, so
// reaching an echo server through one proves the proxy routed it.

import assert from "node:assert/strict";
import { once } from "node:events";
import { request } from "node:http";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import { type AuthorityProxy, startAuthorityProxy } from "../../../src/cluster/runner/authority-proxy.ts";
import { MICROSOFT_AUTHORITY_HOSTS } from "../../../src/names/microsoft-hosts.ts";

const WAIT_MS = 5_000;
/** wikit's names as `wikit run` passes them: exact names, and suffixes starting with `.`. */
const LOCAL_NAMES = ["sts.wikit.test", ".vault.wikit.test"];

interface EchoServer {
  port: number;
  close(): Promise<void>;
}

/** Greets each connection with `<name>:` and echoes what it receives. */
async function startEchoServer(name: string): Promise<EchoServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.write(`${name}:`);
    socket.pipe(socket);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A raw socket to the proxy; `received()` resolves once the accumulated bytes satisfy `until`. */
async function rawClient(proxy: AuthorityProxy) {
  const { port } = new URL(proxy.url);
  const socket = connect(Number(port), "127.0.0.1");
  socket.on("error", () => {});
  await once(socket, "connect");
  let data = "";
  let waiter: (() => void) | undefined;
  socket.on("data", (chunk: Buffer) => {
    data += chunk.toString("latin1");
    waiter?.();
  });
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return {
    socket,
    closed,
    /** Every byte received so far. */
    all: () => data,
    /** Waits (bounded) until the bytes received so far satisfy `until`; returns them. */
    received(until: (text: string) => boolean): Promise<string> {
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting; received so far: ${JSON.stringify(data)}`)),
          WAIT_MS,
        );
        const check = () => {
          if (until(data)) {
            clearTimeout(timer);
            waiter = undefined;
            resolve(data);
          }
        };
        waiter = check;
        check();
        closed.then(() => {
          if (!until(data)) {
            clearTimeout(timer);
            reject(new Error(`closed; received: ${JSON.stringify(data)}`));
          }
        });
      });
    },
  };
}

const ESTABLISHED = "HTTP/1.1 200 Connection Established\r\n\r\n";

/** Opens a tunnel with one CONNECT and returns the client once the proxy answered. */
async function tunnel(proxy: AuthorityProxy, authority: string, head = "") {
  const client = await rawClient(proxy);
  client.socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n${head}`);
  return client;
}

describe("startAuthorityProxy", { timeout: 60_000 }, () => {
  let wikit: EchoServer;
  let elsewhere: EchoServer;
  let proxy: AuthorityProxy;

  before(async () => {
    wikit = await startEchoServer("wikit");
    elsewhere = await startEchoServer("elsewhere");
  });
  after(async () => {
    await wikit.close();
    await elsewhere.close();
  });
  beforeEach(async () => {
    proxy = await startAuthorityProxy({ host: "127.0.0.1", port: wikit.port }, LOCAL_NAMES);
  });
  afterEach(() => proxy.close());

  test("listens on loopback and names itself as an http:// proxy URL", () => {
    assert.match(proxy.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  for (const host of MICROSOFT_AUTHORITY_HOSTS) {
    test(`CONNECT ${host}:443 is tunnelled to wikit`, async () => {
      const client = await tunnel(proxy, `${host}:443`);
      const text = await client.received((data) => data.endsWith("wikit:"));
      assert.equal(text, `${ESTABLISHED}wikit:`);
      client.socket.write("ping");
      assert.equal(await client.received((data) => data.endsWith("ping")), `${ESTABLISHED}wikit:ping`);
      client.socket.destroy();
    });
  }

  test("the host name is matched case-insensitively", async () => {
    const client = await tunnel(proxy, "LOGIN.MicrosoftOnline.com:443");
    assert.equal(await client.received((data) => data.endsWith("wikit:")), `${ESTABLISHED}wikit:`);
    client.socket.destroy();
  });

  test("bytes sent right after the CONNECT (in the same packet) reach wikit", async () => {
    const client = await tunnel(proxy, "login.microsoftonline.com:443", "early-hello");
    const text = await client.received((data) => data.includes("early-hello"));
    assert.equal(text, `${ESTABLISHED}wikit:early-hello`);
    client.socket.destroy();
  });

  test("a CONNECT to one of wikit's exact names ends at wikit's host, on the port asked for", async () => {
    // The `elsewhere` server listens on wikit's host (127.0.0.1) too: its greeting proves the port was kept.
    const client = await tunnel(proxy, `sts.wikit.test:${elsewhere.port}`);
    assert.equal(await client.received((data) => data.endsWith("elsewhere:")), `${ESTABLISHED}elsewhere:`);
    client.socket.destroy();
  });

  test("a CONNECT to a name under one of wikit's suffixes ends at wikit, matched case-insensitively", async () => {
    for (const host of ["kv1.vault.wikit.test", "KV2.Vault.Wikit.TEST"]) {
      const client = await tunnel(proxy, `${host}:${wikit.port}`);
      assert.equal(await client.received((data) => data.endsWith("wikit:")), `${ESTABLISHED}wikit:`, host);
      client.socket.destroy();
    }
  });

  test("without local names only the authority hosts are wikit's", async () => {
    const plain = await startAuthorityProxy({ host: "127.0.0.1", port: wikit.port });
    try {
      const authority = await tunnel(plain, "login.windows.net:443");
      assert.equal(await authority.received((data) => data.endsWith("wikit:")), `${ESTABLISHED}wikit:`);
      authority.socket.destroy();
      const direct = await tunnel(plain, `127.0.0.1:${elsewhere.port}`);
      assert.equal(await direct.received((data) => data.endsWith("elsewhere:")), `${ESTABLISHED}elsewhere:`);
      direct.socket.destroy();
    } finally {
      await plain.close();
    }
  });

  test("a CONNECT anywhere else goes to that destination", async () => {
    const client = await tunnel(proxy, `127.0.0.1:${elsewhere.port}`);
    assert.equal(await client.received((data) => data.endsWith("elsewhere:")), `${ESTABLISHED}elsewhere:`);
    client.socket.write("pong");
    assert.equal(await client.received((data) => data.endsWith("pong")), `${ESTABLISHED}elsewhere:pong`);
    client.socket.destroy();
  });

  test("a CONNECT through Node's HTTP client works as SDK proxy agents use it", async () => {
    const { port } = new URL(proxy.url);
    const connecting = request({
      host: "127.0.0.1",
      port: Number(port),
      method: "CONNECT",
      path: `localhost:${elsewhere.port}`,
    });
    connecting.end();
    const [response, socket, head] = (await once(connecting, "connect", {
      signal: AbortSignal.timeout(WAIT_MS),
    })) as [{ statusCode: number }, Socket, Buffer];
    assert.equal(response.statusCode, 200);
    socket.write("via-agent");
    // Bytes that arrived with the proxy's answer come as `head`.
    let echoed = head.toString();
    for await (const chunk of socket) {
      echoed += String(chunk);
      if (echoed.endsWith("via-agent")) break;
    }
    assert.equal(echoed, "elsewhere:via-agent");
    socket.destroy();
  });

  test("a destination that refuses the connection → 502", async () => {
    const closedServer = await startEchoServer("gone");
    await closedServer.close();
    const client = await tunnel(proxy, `127.0.0.1:${closedServer.port}`);
    const text = await client.received((data) => data.includes("\r\n\r\n"));
    assert.match(text, /^HTTP\/1\.1 502 /);
  });

  test("a destination that fails after the tunnel is up closes the stream, with no HTTP written into it", async () => {
    // A destination that greets, then resets the connection (an error, not a clean close).
    const resetting = createServer((socket) => {
      socket.on("error", () => {});
      socket.write("hello:", () => setImmediate(() => socket.resetAndDestroy()));
    });
    await new Promise<void>((resolve) => resetting.listen(0, "127.0.0.1", resolve));
    try {
      const client = await tunnel(proxy, `127.0.0.1:${(resetting.address() as AddressInfo).port}`);
      const seen = await client.received((data) => data.endsWith("hello:"));
      await client.closed;
      assert.equal(seen, `${ESTABLISHED}hello:`);
      assert.doesNotMatch(client.all(), /502/);
    } finally {
      resetting.close();
    }
  });

  for (const authority of [
    "login.microsoftonline.com",
    "127.0.0.1:0",
    "127.0.0.1:65536",
    "host:port",
    ":443",
  ]) {
    test(`a malformed CONNECT (${authority}) → 400, nothing dialled`, async () => {
      const client = await tunnel(proxy, authority);
      const text = await client.received((data) => data.includes("\r\n\r\n"));
      assert.match(text, /^HTTP\/1\.1 400 /);
      await client.closed;
    });
  }

  test("a plain HTTP request (not CONNECT) → 405", async () => {
    const response = await fetch(`${proxy.url}/`, { signal: AbortSignal.timeout(WAIT_MS) });
    assert.equal(response.status, 405);
    assert.match(await response.text(), /only tunnels HTTPS \(CONNECT\)/);
  });

  test("close() ends open tunnels and stops listening", async () => {
    const toWikit = await tunnel(proxy, "login.microsoftonline.com:443");
    await toWikit.received((data) => data.endsWith("wikit:"));
    const toElsewhere = await tunnel(proxy, `127.0.0.1:${elsewhere.port}`);
    await toElsewhere.received((data) => data.endsWith("elsewhere:"));
    await proxy.close();
    await toWikit.closed;
    await toElsewhere.closed;
    const { port } = new URL(proxy.url);
    const refused = connect(Number(port), "127.0.0.1");
    const [error] = (await once(refused, "error")) as [NodeJS.ErrnoException];
    assert.equal(error.code, "ECONNREFUSED");
  });
});
