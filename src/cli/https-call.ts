// One HTTPS request from the CLI to wikit (the management API, a vault, a store): the body sent as given, the
// answer read whole and parsed as JSON when it is JSON, one `--verbose` line per request.

import type { IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import type { CliError } from "./cli-error.ts";
import { verbose } from "./output.ts";

export interface HttpsCall {
  /** Where to connect; `servername` is the name the certificate must carry. */
  address: string;
  port: number;
  servername: string;
  ca: string | undefined;
  method: string;
  /** Path and query, as sent. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** What the `--verbose` line names before the path, e.g. the store's origin. */
  verboseOrigin?: string;
  /** The error to give when the server cannot be reached. */
  unreachable(error: Error): CliError;
}

export interface HttpsAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body parsed as JSON; its text when it is not JSON; undefined when empty. */
  body: unknown;
}

export function callHttps(call: HttpsCall): Promise<HttpsAnswer> {
  const started = performance.now();
  return new Promise<HttpsAnswer>((resolve, reject) => {
    const outgoing = httpsRequest(
      {
        host: call.address,
        port: call.port,
        servername: call.servername,
        ca: call.ca,
        method: call.method,
        path: call.path,
        headers: {
          ...call.headers,
          ...(call.body === undefined ? {} : { "content-length": Buffer.byteLength(call.body) }),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: the text is kept for the error message
          }
          verbose(
            `wikit: ${call.method} ${call.verboseOrigin ?? ""}${call.path.split("?")[0]} -> ${response.statusCode} (${Math.round(performance.now() - started)} ms)`,
          );
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: parsed });
        });
      },
    );
    outgoing.on("error", (error) => reject(call.unreachable(error)));
    outgoing.end(call.body);
  });
}
