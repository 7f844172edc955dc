// Posting an AdmissionReview to a webhook over HTTPS, as the API server does, and reading its answer: shared by
// the admission server, `serveWebhook` and `wikit webhook serve` tests.

import * as https from "node:https";

export interface ReviewAnswer {
  status: number;
  contentType: string;
  text: string;
  /** The parsed body; undefined when it is not JSON. */
  json: {
    apiVersion: string;
    kind: string;
    response: Record<string, unknown> & {
      allowed: boolean;
      patch?: string;
      status: { code: number; message?: string };
    };
  };
  socketReused: boolean;
  /** The Connection header of the answer. */
  connection: string | undefined;
}

export interface PostOptions {
  headers?: Record<string, string>;
  path?: string;
  /** Default: a fresh connection for each request. */
  agent?: https.Agent;
  method?: string;
  /** The TLS server name, when the certificate is not for 127.0.0.1. */
  servername?: string;
}

/** POSTs `body` to `/mutate-v1-pod?timeout=10s` on 127.0.0.1 over HTTPS, trusting only `ca`. */
export function postReview(
  port: number,
  ca: string,
  body: string | Buffer,
  options: PostOptions = {},
): Promise<ReviewAnswer> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: "127.0.0.1",
        port,
        ...(options.servername === undefined ? {} : { servername: options.servername }),
        method: options.method ?? "POST",
        path: options.path ?? "/mutate-v1-pod?timeout=10s",
        ca,
        agent: options.agent ?? false,
        headers: { "content-type": "application/json", ...options.headers },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: ReviewAnswer["json"];
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined as never;
          }
          resolve({
            status: response.statusCode ?? 0,
            contentType: String(response.headers["content-type"]),
            text,
            json,
            socketReused: request.reusedSocket,
            connection: response.headers.connection,
          });
        });
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}
