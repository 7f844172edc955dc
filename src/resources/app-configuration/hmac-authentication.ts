// App Configuration's HMAC-SHA256 request authentication (access keys), checked without I/O:
//   Authorization: HMAC-SHA256 Credential=<key id>&SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<b64>
// The signature is HMAC-SHA256, under the base64-decoded key value, of
//   METHOD + "\n" + path_and_query + "\n" + the signed headers' values joined by ";".
// Refusals are 401s whose WWW-Authenticate carries the service's error_description.

import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** A request as the check sees it: header names lower-cased, the body as received. */
export interface SignedRequest {
  method: string;
  /** The path and query exactly as requested (still percent-encoded). */
  pathAndQuery: string;
  headers: Readonly<Record<string, string | undefined>>;
  body: Buffer;
}

export type HmacOutcome =
  | { ok: true; credential: string; signature: string }
  | { ok: false; wwwAuthenticate: string; description: string };

/** How far a request's date may be from the server's clock, either way. */
export const ALLOWED_SKEW_MS = 15 * 60 * 1000;
const SCHEME = "HMAC-SHA256";

const refused = (description: string): HmacOutcome => ({
  ok: false,
  description,
  // The service names Bearer too: either scheme would do.
  wwwAuthenticate: `${SCHEME} error="invalid_token" error_description="${description}", Bearer`,
});

/**
 * Checks a request's HMAC authentication: the parameters, the signed headers, the date within the allowed skew,
 * the credential (`secretOf` gives the decoded key value of a key ID, or undefined), the body against
 * x-ms-content-sha256, and the signature.
 */
export function verifyHmacRequest(
  request: SignedRequest,
  secretOf: (credential: string) => Buffer | undefined,
  now: number,
): HmacOutcome {
  const authorization = request.headers.authorization ?? "";
  const [scheme, ...rest] = authorization.trim().split(/\s+/);
  if (scheme?.toUpperCase() !== SCHEME) {
    return {
      ok: false,
      description: "HMAC-SHA256 authorization is required",
      wwwAuthenticate: `${SCHEME}, Bearer`,
    };
  }
  const parameters = parseParameters(rest.join(" "));
  for (const name of ["Credential", "SignedHeaders", "Signature"]) {
    if (!parameters.get(name.toLowerCase())) return refused(`${name} is required`);
  }
  const credential = parameters.get("credential") as string;
  const signedHeaders = (parameters.get("signedheaders") as string)
    .split(";")
    .map((h) => h.trim().toLowerCase());
  for (const required of ["host", "x-ms-content-sha256"]) {
    if (!signedHeaders.includes(required)) return refused(`${required} is required as a signed header`);
  }
  const dateHeader = signedHeaders.includes("x-ms-date")
    ? "x-ms-date"
    : signedHeaders.includes("date")
      ? "date"
      : "";
  if (!dateHeader) return refused("x-ms-date or date is required as a signed header");
  const values: string[] = [];
  for (const name of signedHeaders) {
    const value = request.headers[name];
    if (value === undefined) return refused(`Signed request header '${name}' is not provided`);
    values.push(value);
  }

  // x-ms-date takes precedence over Date when both are sent.
  const dated = Date.parse(request.headers["x-ms-date"] ?? request.headers.date ?? "");
  if (Number.isNaN(dated)) return refused("Invalid access token date");
  if (Math.abs(now - dated) > ALLOWED_SKEW_MS) return refused("The access token has expired");

  const secret = secretOf(credential);
  if (!secret) return refused("Invalid Credential");
  const bodyHash = createHash("sha256").update(request.body).digest("base64");
  if (request.headers["x-ms-content-sha256"] !== bodyHash) {
    // wikit's wording: the reference does not document the service's text for a body that does not match.
    return refused("The request body does not match x-ms-content-sha256");
  }
  const stringToSign = `${request.method.toUpperCase()}\n${request.pathAndQuery}\n${values.join(";")}`;
  const expected = createHmac("sha256", secret).update(stringToSign, "utf8").digest();
  const presented = Buffer.from(parameters.get("signature") as string, "base64");
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    return refused("Invalid Signature");
  }
  return { ok: true, credential, signature: parameters.get("signature") as string };
}

/** `Credential=…&SignedHeaders=…&Signature=…`; some clients separate them with ", " instead. Names compare case-insensitively. */
function parseParameters(text: string): Map<string, string> {
  const parameters = new Map<string, string>();
  for (const part of text.split(/&|,\s*/)) {
    const equals = part.indexOf("=");
    if (equals > 0) parameters.set(part.slice(0, equals).trim().toLowerCase(), part.slice(equals + 1).trim());
  }
  return parameters;
}
