// A TCP load balancer for tests, as a Kubernetes Service spreads connections over a Deployment's pods: each new
// connection goes to the next backend in turn; a backend that refuses (a killed replica) is skipped for the next.
import { createConnection, createServer, type Server, type Socket } from "node:net";

export class TcpBalancer {
  readonly port: number;
  readonly #server: Server;
  readonly #backends: number[];
  readonly #sockets = new Set<Socket>();
  #next = 0;

  private constructor(server: Server, port: number, backends: number[]) {
    this.#server = server;
    this.port = port;
    this.#backends = backends;
  }

  /** Listens on every address (IPv4 and IPv6: `*.localhost` may resolve to ::1) and forwards to 127.0.0.1. */
  static async start(backends: number[]): Promise<TcpBalancer> {
    let balancer: TcpBalancer | undefined;
    const server = createServer((client) => {
      if (balancer) balancer.#forward(client, balancer.#backends.length);
      else client.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, "::", resolve));
    const address = server.address();
    if (!address || typeof address === "string") throw new Error("the balancer has no port");
    balancer = new TcpBalancer(server, address.port, backends);
    return balancer;
  }

  #forward(client: Socket, triesLeft: number): void {
    const port = this.#backends[this.#next++ % this.#backends.length] as number;
    const upstream = createConnection({ host: "127.0.0.1", port });
    this.#sockets.add(client).add(upstream);
    client.pause();
    let connected = false;
    const onClientClose = () => upstream.destroy();
    upstream.once("connect", () => {
      connected = true;
      client.pipe(upstream).pipe(client);
      client.resume();
    });
    upstream.once("error", () => {
      if (connected) return client.destroy();
      client.off("close", onClientClose);
      if (triesLeft > 1) this.#forward(client, triesLeft - 1);
      else client.destroy();
    });
    client.once("error", () => upstream.destroy());
    client.once("close", onClientClose);
    client.once("close", () => this.#sockets.delete(client));
    upstream.once("close", () => {
      this.#sockets.delete(upstream);
      if (connected) client.end();
    });
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}
