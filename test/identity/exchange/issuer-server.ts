// A throwaway HTTPS server on 127.0.0.1 that plays an OIDC issuer for tests: its own CA (made fresh per
// server), a serving certificate for a few test names and 127.0.0.1, programmable routes, and a log of
// every request so tests can assert what was (and was not) fetched.

import { once } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { x509 } from "../../../src/pki/x509.ts";

export const SERVED_NAMES = ["issuer.test", "keys.test", "localhost"];

export type Route = (request: IncomingMessage, response: ServerResponse) => void;

export interface IssuerServer {
  port: number;
  /** PEM of the CA that signed the serving certificate; pass it as the client's `ca`. */
  caPem: string;
  /** `host` header + path of every request received, in order. */
  requests: string[];
  /** The TLS server name (SNI) each of those requests arrived with, `false` when none was sent. */
  serverNames: Array<string | false>;
  routes: Map<string, Route>;
  /** Answers GET `path` with `document` as JSON and the given extra headers. */
  serveJson(path: string, document: unknown, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

const ecdsa = { name: "ECDSA", namedCurve: "P-256" };
const signingAlgorithm = { name: "ECDSA", hash: "SHA-256" };

async function createCertificates(): Promise<{ caPem: string; certPem: string; keyPem: string }> {
  const caKeys = await crypto.subtle.generateKey(ecdsa, true, ["sign", "verify"]);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: "CN=wikit test issuer CA",
    keys: caKeys,
    signingAlgorithm,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3600_000),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
    ],
  });
  const serverKeys = await crypto.subtle.generateKey(ecdsa, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.create({
    subject: "CN=issuer.test",
    issuer: ca.subject,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3600_000),
    extensions: [
      new x509.BasicConstraintsExtension(false),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.SubjectAlternativeNameExtension([
        ...SERVED_NAMES.map((value) => ({ type: "dns" as const, value })),
        { type: "ip", value: "127.0.0.1" },
      ]),
    ],
  });
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", serverKeys.privateKey);
  return {
    caPem: ca.toString("pem"),
    certPem: cert.toString("pem"),
    keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY"),
  };
}

export async function startIssuerServer(): Promise<IssuerServer> {
  const { caPem, certPem, keyPem } = await createCertificates();
  const requests: string[] = [];
  const serverNames: Array<string | false> = [];
  const routes = new Map<string, Route>();
  const server = createServer({ key: keyPem, cert: certPem }, (request, response) => {
    requests.push(`${request.headers.host}${request.url}`);
    serverNames.push((request.socket as TLSSocket).servername ?? false);
    const route = routes.get(request.url ?? "");
    if (route === undefined) {
      response.writeHead(404).end();
      return;
    }
    route(request, response);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");

  return {
    port: (server.address() as AddressInfo).port,
    caPem,
    requests,
    serverNames,
    routes,
    serveJson(path, document, headers = {}) {
      routes.set(path, (_, response) => {
        response
          .writeHead(200, { "content-type": "application/json", ...headers })
          .end(JSON.stringify(document));
      });
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}
