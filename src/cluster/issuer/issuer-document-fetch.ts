// GETs of an issuer's documents as a token service makes them: one request, no redirects followed, a time bound,
// at most 1 MiB read. Shared by `wikit issuer verify` and `wikit doctor`, whose findings come from
// issuer-verification.ts.

import * as http from "node:http";
import * as https from "node:https";
import { rootCertificates } from "node:tls";
import type { Fetched } from "./issuer-verification.ts";

const REQUEST_TIMEOUT_MS = 10_000;
const MAX_BODY_CHARACTERS = 1024 * 1024;

/** One anonymous GET of a public issuer document; `extraCa` is trusted besides the system's roots. */
export function fetchIssuerDocument(
  url: string,
  accept: string,
  extraCa: string | undefined,
): Promise<Fetched> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.resolve({ ok: false, error: "not a URL" });
  }
  const options: https.RequestOptions = { headers: { accept } };
  if (extraCa && target.protocol === "https:") options.ca = [...rootCertificates, extraCa];
  return getDocument(target, options);
}

/** One GET with the given options (credentials, CA, agent); a failure to connect or answer is `ok: false`. */
export function getDocument(url: URL, options: https.RequestOptions): Promise<Fetched> {
  return new Promise((resolve) => {
    const request = (url.protocol === "https:" ? https : http).get(
      url,
      { ...options, timeout: REQUEST_TIMEOUT_MS },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          if (body.length < MAX_BODY_CHARACTERS) body += chunk;
        });
        response.on("end", () =>
          resolve({
            ok: true,
            status: response.statusCode ?? 0,
            contentType: String(response.headers["content-type"] ?? ""),
            body,
          }),
        );
      },
    );
    request.on("timeout", () =>
      request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)),
    );
    request.on("error", (error) => resolve({ ok: false, error: error.message }));
  });
}
