// `wikit issuer serve`: the documents `wikit issuer init` wrote (DIR/public/), served over HTTPS at exactly the paths
// token services fetch, under the issuer URL's path: the discovery document as application/json and the JWKS as
// application/jwk-set+json. Files are read on each request, so a rotation step that republishes them takes effect
// at once; caches may keep them five minutes (what a rotation waits for). Requests for another host name are
// refused, so the server answers only for the issuer it publishes.

import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import { join } from "node:path";
import { DISCOVERY_PATH, JWKS_PATH } from "./issuer-files.ts";

/** How long clients and caches may keep the documents; key rotation keeps an old key published longer than this. */
export const ISSUER_DOCUMENT_MAX_AGE_SECONDS = 300;

export interface StaticIssuerOptions {
  /** The folder `issuer init` wrote: its `public/` holds the documents. */
  dir: string;
  /** Host names the server answers for (compared without port, case-insensitively). */
  hosts: readonly string[];
  tls: { certPem: string; keyPem: string };
  port: number;
  bindAddress: string;
}

export interface StaticIssuer {
  server: Server;
  /** The issuer URL the discovery document names. */
  issuer: string;
  port: number;
  close(): Promise<void>;
}

const DOCUMENTS: readonly { path: string; type: string }[] = [
  { path: DISCOVERY_PATH, type: "application/json" },
  { path: JWKS_PATH, type: "application/jwk-set+json" },
];

export async function startStaticIssuer(options: StaticIssuerOptions): Promise<StaticIssuer> {
  const discovery = JSON.parse(await readFile(join(options.dir, "public", DISCOVERY_PATH), "utf8")) as {
    issuer?: unknown;
  };
  if (typeof discovery.issuer !== "string") {
    throw new Error(
      `${join(options.dir, "public", DISCOVERY_PATH)} names no issuer; run \`wikit issuer init\` first`,
    );
  }
  const issuer = discovery.issuer;
  const base = new URL(issuer).pathname.replace(/\/?$/, "/");
  const hosts = new Set(options.hosts.map((host) => host.toLowerCase()));

  const server = createServer({ cert: options.tls.certPem, key: options.tls.keyPem }, (request, response) => {
    const host = (request.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
    const path = (request.url ?? "").split("?")[0] ?? "";
    const document = DOCUMENTS.find((candidate) => path === `${base}${candidate.path}`);
    const refuse = (status: number, message: string) => {
      response.writeHead(status, { "content-type": "text/plain; charset=utf-8" }).end(`${message}\n`);
    };
    if (!hosts.has(host)) return refuse(421, `this server publishes the issuer ${issuer} only`);
    if (request.method !== "GET" && request.method !== "HEAD") return refuse(405, "only GET and HEAD");
    if (!document) return refuse(404, "not found");
    readFile(join(options.dir, "public", document.path)).then(
      (body) => {
        response.writeHead(200, {
          "content-type": document.type,
          "content-length": body.length,
          "cache-control": `public, max-age=${ISSUER_DOCUMENT_MAX_AGE_SECONDS}`,
        });
        response.end(request.method === "HEAD" ? undefined : body);
      },
      () => refuse(404, "not found"),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.bindAddress, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return {
    server,
    issuer,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
