import { createServer, type IncomingMessage, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import { MICROSOFT_AUTHORITY_HOSTS } from "../../names/microsoft-hosts.ts";

export interface AuthorityProxy {
  /** `http://127.0.0.1:<port>`, for HTTPS_PROXY. */
  url: string;
  close(): Promise<void>;
}

/**
 * A loopback CONNECT proxy for one `wikit run`, giving the process wikit's host names without any
 * DNS set-up: tunnels to Microsoft's authority hosts (port 443) and to `localNames` — wikit's own
 * names, e.g. `localhost` and `.vault.localhost` suffixes, on any port — end at wikit. wikit holds
 * certificates for them from its local CA, trusted only where that CA is trusted. Every other tunnel
 * goes straight to its destination, so the process's own traffic is unchanged.
 */
export async function startAuthorityProxy(
  wikit: { host: string; port: number },
  localNames: readonly string[] = [],
): Promise<AuthorityProxy> {
  const answeredHere = new Set<string>(MICROSOFT_AUTHORITY_HOSTS);
  const isLocalName = (host: string) =>
    localNames.some((name) => (name.startsWith(".") ? host.endsWith(name) : host === name));
  // Tunnelled sockets leave the HTTP server's bookkeeping, so close() must end them itself.
  const tunnels = new Set<Socket>();
  const server: Server = createServer((_request, response) => {
    response
      .writeHead(405, { "content-type": "text/plain" })
      .end("this proxy only tunnels HTTPS (CONNECT)\n");
  });
  server.on("connect", (request: IncomingMessage, client: Socket, head: Buffer) => {
    const target = parseAuthority(request.url ?? "");
    if (!target) {
      client.end("HTTP/1.1 400 Bad Request\r\n\r\n");
      return;
    }
    const host = target.host.toLowerCase();
    const destination =
      answeredHere.has(host) && target.port === 443
        ? wikit
        : isLocalName(host)
          ? { host: wikit.host, port: target.port }
          : target;
    let established = false;
    const upstream = connect(destination.port, destination.host, () => {
      established = true;
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const socket of [client, upstream]) {
      tunnels.add(socket);
      socket.once("close", () => tunnels.delete(socket));
    }
    // Before the tunnel is up the client still speaks HTTP and gets a status; after, only a closed stream.
    upstream.on("error", () =>
      established ? client.destroy() : client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n"),
    );
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of tunnels) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function parseAuthority(authority: string): { host: string; port: number } | undefined {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(authority);
  if (!match?.[1] || !match[2]) return undefined;
  const port = Number(match[2]);
  return port > 0 && port < 65536 ? { host: match[1], port } : undefined;
}
