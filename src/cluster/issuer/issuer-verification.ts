// `wikit issuer verify`: an issuer checked as a token service checks it — discovery document, JWKS, and optionally a
// token — with every problem reported, not only the first. The fetching is the caller's (`fetchDocument`), so the
// checks stay pure over what came back.

import { compactVerify, decodeJwt, decodeProtectedHeader, importJWK, type JWK } from "jose";
import { discoveryUrlOf } from "./discovery.ts";

/** What one fetch returned, or why it failed. */
export type Fetched =
  | { ok: true; status: number; contentType: string; body: string }
  | { ok: false; error: string };

export type FetchDocument = (url: string, accept: string) => Promise<Fetched>;

export interface Finding {
  /** `problem`: a token service would refuse; `warning`: some clients would; `ok`: checked and fine. */
  level: "ok" | "warning" | "problem";
  message: string;
}

/** How a finding's level is printed, one column wide, by the commands that report findings. */
export const FINDING_MARKS: Readonly<Record<Finding["level"], string>> = {
  ok: "ok     ",
  warning: "warning",
  problem: "PROBLEM",
};

const JSON_TYPE = /^application\/(json|jwk-set\+json)\b/i;

/** Every finding about the issuer at `issuer`, and about `token` when given. */
export async function verifyIssuer(
  issuer: string,
  fetchDocument: FetchDocument,
  token?: string,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const ok = (message: string) => findings.push({ level: "ok", message });
  const warn = (message: string) => findings.push({ level: "warning", message });
  const problem = (message: string) => findings.push({ level: "problem", message });

  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    problem(`'${issuer}' is not a URL`);
    return findings;
  }
  if (url.protocol !== "https:")
    problem(`the issuer uses ${url.protocol.replace(":", "")}: token services fetch keys over https only`);
  if (url.search || url.hash)
    problem("the issuer has a query or fragment; kube-apiserver serves no discovery for it");

  const discoveryUrl = discoveryUrlOf(issuer);
  const discovery = await fetchJson(discoveryUrl, "application/json", fetchDocument, { ok, warn, problem });
  if (!discovery) return findings;
  const named = discovery.issuer;
  if (named === issuer) ok(`the discovery document names the issuer exactly: ${issuer}`);
  else if (typeof named === "string" && named.replace(/\/$/, "") === issuer.replace(/\/$/, "")) {
    problem(
      `the discovery document names '${named}', the issuer is '${issuer}': they differ in the trailing '/', and tokens, documents and federated credentials must agree byte for byte`,
    );
  } else problem(`the discovery document names the issuer '${String(named)}', not '${issuer}'`);
  const jwksUri = discovery.jwks_uri;
  if (typeof jwksUri !== "string") {
    problem("the discovery document has no jwks_uri");
    return findings;
  }
  if (!jwksUri.startsWith("https://")) problem(`jwks_uri ${jwksUri} is not https`);

  const jwks = await fetchJson(jwksUri, "application/jwk-set+json, application/json", fetchDocument, {
    ok,
    warn,
    problem,
  });
  const narrow = await fetchDocument(jwksUri, "application/json");
  if (narrow.ok && narrow.status === 406) {
    problem(
      `${jwksUri} answers 406 to 'Accept: application/json'; clients that ask for it cannot read the keys`,
    );
  }
  const keys = Array.isArray(jwks?.keys) ? (jwks.keys as JWK[]) : undefined;
  if (jwks && !keys) problem("the JWKS has no 'keys' list");
  if (keys) {
    if (keys.length === 0) problem("the JWKS holds no key");
    for (const key of keys) {
      const name = `key ${key.kid ?? "(no kid)"}`;
      if (!key.kid) problem(`${name}: no 'kid', so tokens cannot name it`);
      if (key.use === undefined) warn(`${name}: no 'use' (kube-apiserver publishes "sig")`);
      else if (key.use !== "sig") problem(`${name}: 'use' is '${key.use}', not "sig"`);
      if (key.alg === undefined) warn(`${name}: no 'alg'; some clients need it to pick the algorithm`);
    }
    if (keys.length > 0)
      ok(
        `the JWKS holds ${keys.length} key${keys.length === 1 ? "" : "s"}: ${keys.map((key) => key.kid).join(", ")}`,
      );
  }
  if (token !== undefined) await verifyToken(token.trim(), issuer, keys ?? [], { ok, problem });
  return findings;
}

async function fetchJson(
  url: string,
  accept: string,
  fetchDocument: FetchDocument,
  report: { ok(message: string): void; warn(message: string): void; problem(message: string): void },
): Promise<Record<string, unknown> | undefined> {
  const fetched = await fetchDocument(url, accept);
  if (!fetched.ok) {
    report.problem(`${url} is unreachable: ${fetched.error}`);
    return undefined;
  }
  if (fetched.status !== 200) {
    report.problem(`${url} answers ${fetched.status}`);
    return undefined;
  }
  if (!JSON_TYPE.test(fetched.contentType)) {
    report.warn(
      `${url} is served as '${fetched.contentType || "(no type)"}', not application/json; Entra and wikit read it, stricter clients may not`,
    );
  }
  try {
    const parsed = JSON.parse(fetched.body) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new Error("not an object");
    report.ok(`${url} is served (${fetched.contentType})`);
    return parsed as Record<string, unknown>;
  } catch {
    report.problem(`${url} is not a JSON object`);
    return undefined;
  }
}

async function verifyToken(
  token: string,
  issuer: string,
  keys: readonly JWK[],
  report: { ok(message: string): void; problem(message: string): void },
): Promise<void> {
  let kid: unknown;
  let iss: unknown;
  try {
    kid = decodeProtectedHeader(token).kid;
    iss = decodeJwt(token).iss;
  } catch {
    report.problem("the token is not a JWT");
    return;
  }
  if (iss !== issuer) report.problem(`the token's iss is '${String(iss)}', not the issuer '${issuer}'`);
  const key = keys.find((candidate) => candidate.kid === kid);
  if (!key) {
    report.problem(
      `the token's kid '${String(kid)}' is not in the JWKS: the cluster signs with a key it does not publish`,
    );
    return;
  }
  try {
    await compactVerify(token, await importJWK(key, key.alg ?? (key.kty === "EC" ? "ES256" : "RS256")));
    report.ok(`the token's signature verifies with key ${String(kid)}`);
  } catch {
    report.problem(
      `the token's signature does not verify with key ${String(kid)}: the published key is not the signing key's`,
    );
  }
}
