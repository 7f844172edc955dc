// How the CLI signs an App Configuration data-plane request with an access key, as the SDKs do (the service's
// HMAC-SHA256 scheme), and reads the connection strings that carry those keys. Without I/O.
//
//   Authorization: HMAC-SHA256 Credential={key id}&SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={b64}
//
// The signature is HMAC-SHA256, keyed by the base64-decoded secret, of
// `METHOD\n{path and query}\n{x-ms-date};{host};{x-ms-content-sha256}`.
//
// The date has one-second resolution and the store refuses a signature it has seen before (a replay), so two
// identical requests within a second would collide: the CLI also signs `x-ms-client-request-id`, a new ID per
// request (the reference lets any further header be signed), which makes each signature its own.

import { createHash, createHmac } from "node:crypto";
import { CliError } from "./cli-error.ts";

/** An access key: its ID (the `Credential`) and its secret, base64 as listKeys and connection strings show it. */
export interface AccessKeyCredential {
  id: string;
  secret: string;
}

export interface RequestToSign {
  method: string;
  /** The path and query exactly as sent, percent-encoding included. */
  pathAndQuery: string;
  /** The Host header as sent: host name, and the port when it is not 443. */
  host: string;
  body: string;
  /** Sent as x-ms-client-request-id and signed with the rest; left out when undefined. */
  requestId?: string;
}

/** The headers that authenticate `request` with `key` at the instant `now`. */
export function hmacHeaders(
  request: RequestToSign,
  key: AccessKeyCredential,
  now: Date,
): Record<string, string> {
  const date = now.toUTCString();
  const contentHash = createHash("sha256").update(request.body, "utf8").digest("base64");
  const signed: [string, string][] = [
    ["x-ms-date", date],
    ["host", request.host],
    ["x-ms-content-sha256", contentHash],
    ...(request.requestId === undefined
      ? []
      : [["x-ms-client-request-id", request.requestId] as [string, string]]),
  ];
  const stringToSign = `${request.method.toUpperCase()}\n${request.pathAndQuery}\n${signed.map(([, value]) => value).join(";")}`;
  const signature = createHmac("sha256", Buffer.from(key.secret, "base64"))
    .update(stringToSign, "utf8")
    .digest("base64");
  const names = signed.map(([name]) => name).join(";");
  return {
    "x-ms-date": date,
    "x-ms-content-sha256": contentHash,
    ...(request.requestId === undefined ? {} : { "x-ms-client-request-id": request.requestId }),
    authorization: `HMAC-SHA256 Credential=${key.id}&SignedHeaders=${names}&Signature=${signature}`,
  };
}

export interface ConnectionString extends AccessKeyCredential {
  endpoint: URL;
}

const CONNECTION_STRING_FORM =
  "Endpoint=https://<store>.<domain>[:port];Id=<key ID>;Secret=<secret>, as `wikit appconfig credential list -n <store>` shows it";

/**
 * `Endpoint=…;Id=…;Secret=…`: exactly these three parts, in any order (names case-insensitive), as az accepts a
 * connection string. A wrong one is refused with the form it must have.
 */
export function parseConnectionString(text: string): ConnectionString {
  const parts = new Map<string, string>();
  for (const segment of text.trim().split(";")) {
    if (segment === "") continue;
    const equals = segment.indexOf("=");
    const name = equals > 0 ? segment.slice(0, equals).trim().toLowerCase() : "";
    if (!["endpoint", "id", "secret"].includes(name) || parts.has(name)) {
      throw new CliError(`the connection string is invalid: it must read ${CONNECTION_STRING_FORM}`);
    }
    parts.set(name, segment.slice(equals + 1).trim());
  }
  const endpoint = URL.parse(parts.get("endpoint") ?? "");
  const id = parts.get("id") ?? "";
  const secret = parts.get("secret") ?? "";
  if (endpoint?.protocol !== "https:" || !id || !secret) {
    throw new CliError(`the connection string is invalid: it must read ${CONNECTION_STRING_FORM}`);
  }
  return { endpoint, id, secret };
}
