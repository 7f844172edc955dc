// `wikit token decode` and `wikit token compare`, without I/O: what a token or a federated credential says, its
// times in local time and relative to now, and the fields that must agree for an exchange to succeed — the
// service-account token's issuer, subject and audience against the credential's.

import { decodeJwt, decodeProtectedHeader } from "jose";

export interface InspectedToken {
  kind: "token";
  source: string;
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

export interface InspectedCredential {
  kind: "credential";
  source: string;
  name?: string;
  issuer: string;
  subject?: string;
  /** The expression's text, for a flexible credential. */
  claimsMatchingExpression?: string;
  audiences: string[];
}

export type Inspected = InspectedToken | InspectedCredential;

/** A token (compact JWS, as a token file holds it) or a credential (JSON, as `wikit … federated-credential show` prints it). */
export function inspect(text: string, source: string): Inspected {
  const trimmed = text.trim();
  if (trimmed === "")
    throw new Error(`${source} is empty: it should hold a token or a federated credential's JSON`);
  if (trimmed.startsWith("{")) return credentialOf(trimmed, source);
  try {
    return {
      kind: "token",
      source,
      header: decodeProtectedHeader(trimmed) as Record<string, unknown>,
      claims: decodeJwt(trimmed) as Record<string, unknown>,
    };
  } catch (error) {
    throw new Error(
      `${source} is neither a token nor a federated credential's JSON: ${(error as Error).message}`,
    );
  }
}

function credentialOf(text: string, source: string): InspectedCredential {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  // Either az's flattened shape or ARM's, with the members under `properties`.
  const fields = (
    typeof parsed.properties === "object" && parsed.properties !== null ? parsed.properties : parsed
  ) as Record<string, unknown>;
  const expression = fields.claimsMatchingExpression as { value?: unknown } | undefined;
  if (typeof fields.issuer !== "string" || !Array.isArray(fields.audiences)) {
    throw new Error(`${source} is JSON but not a federated credential: it needs 'issuer' and 'audiences'`);
  }
  return {
    kind: "credential",
    source,
    ...(typeof parsed.name === "string" ? { name: parsed.name } : {}),
    issuer: fields.issuer,
    ...(typeof fields.subject === "string" ? { subject: fields.subject } : {}),
    ...(typeof expression?.value === "string" ? { claimsMatchingExpression: expression.value } : {}),
    audiences: fields.audiences.map(String),
  };
}

export interface TimeClaim {
  epoch: number;
  /** ISO 8601 in the local time zone, e.g. `2026-12-04T16:20:00+01:00`. */
  local: string;
  /** E.g. `in 59 min` or `3 h 2 min ago`. */
  relative: string;
}

/** `exp`, `nbf` and `iat` of a token, each in local time and relative to `nowSeconds`. */
export function timesOf(claims: Record<string, unknown>, nowSeconds: number): Record<string, TimeClaim> {
  const times: Record<string, TimeClaim> = {};
  for (const name of ["iat", "nbf", "exp"]) {
    const epoch = claims[name];
    if (typeof epoch !== "number" || !Number.isFinite(epoch)) continue;
    times[name] = { epoch, local: localIso(epoch), relative: relativeTo(epoch, nowSeconds) };
  }
  return times;
}

function localIso(epochSeconds: number): string {
  const date = new Date(epochSeconds * 1000);
  const offset = -date.getTimezoneOffset();
  const pad = (value: number) => String(Math.trunc(Math.abs(value))).padStart(2, "0");
  const local = new Date(date.getTime() + offset * 60_000).toISOString().slice(0, 19);
  return `${local}${offset >= 0 ? "+" : "-"}${pad(offset / 60)}:${pad(offset % 60)}`;
}

export function relativeTo(epochSeconds: number, nowSeconds: number): string {
  const seconds = Math.round(epochSeconds - nowSeconds);
  const magnitude = Math.abs(seconds);
  const days = Math.floor(magnitude / 86400);
  const hours = Math.floor((magnitude % 86400) / 3600);
  const minutes = Math.floor((magnitude % 3600) / 60);
  const text =
    magnitude < 60
      ? `${magnitude} s`
      : [days ? `${days} d` : "", hours ? `${hours} h` : "", minutes ? `${minutes} min` : ""]
          .filter(Boolean)
          .join(" ");
  if (seconds === 0) return "now";
  return seconds > 0 ? `in ${text}` : `${text} ago`;
}

export interface ComparisonRow {
  field: string;
  /** One cell per input, in order; empty where the input says nothing of the field. */
  values: string[];
  /** For the fields an exchange matches: whether every token and credential that names it agrees. */
  agrees?: boolean;
}

/** Whether a token is one the token service issued (an access token), rather than one presented to it. */
function isAccessToken(item: Inspected): boolean {
  return (
    item.kind === "token" && typeof item.claims.appid === "string" && typeof item.claims.tid === "string"
  );
}

type MatchedField = "issuer" | "subject" | "audience";
const CLAIM_OF: Record<MatchedField, string> = { issuer: "iss", subject: "sub", audience: "aud" };

/** The values an input names for a matched field; undefined when it takes no part in that match. */
function matchedValues(item: Inspected, field: MatchedField): string[] | undefined {
  if (item.kind === "credential") {
    if (field === "issuer") return [item.issuer];
    if (field === "audience") return item.audiences;
    return item.subject === undefined ? undefined : [item.subject];
  }
  if (isAccessToken(item)) return undefined;
  const value = item.claims[CLAIM_OF[field]];
  return value === undefined ? [] : [value].flat().map(String);
}

/**
 * Side by side: issuer, subject and audience, which must agree between the presented token and the credential
 * (an audience agrees when they share a value), then what an access token says of the caller and the resource.
 */
export function compareSideBySide(items: readonly Inspected[]): ComparisonRow[] {
  const rows: ComparisonRow[] = (["issuer", "subject", "audience"] as const).map((field) => {
    const named = items.map((item) => matchedValues(item, field));
    const values = items.map((item, index) =>
      item.kind === "credential" && field === "subject" && item.claimsMatchingExpression !== undefined
        ? `expression: ${item.claimsMatchingExpression}`
        : (named[index]?.join(", ") ?? ""),
    );
    const compared = named.filter((set): set is string[] => set !== undefined);
    if (compared.length < 2) return { field, values };
    const agrees = (compared[0] ?? []).some((value) => compared.every((set) => set.includes(value)));
    return { field, values, agrees };
  });
  if (items.some(isAccessToken)) {
    for (const [field, claim] of [
      ["client (appid)", "appid"],
      ["principal (oid)", "oid"],
      ["resource (aud)", "aud"],
      ["identity (xms_mirid)", "xms_mirid"],
    ] as const) {
      const values = items.map((item) =>
        item.kind === "token" && isAccessToken(item) ? String(item.claims[claim] ?? "") : "",
      );
      rows.push({ field, values });
    }
  }
  return rows;
}

/** The rows as an aligned text table, a ✓ or ✗ before each field that must agree. */
export function comparisonTable(items: readonly Inspected[], rows: readonly ComparisonRow[]): string {
  const header = ["", ...items.map((item) => item.source)];
  const body = rows.map((row) => [
    `${row.agrees === undefined ? " " : row.agrees ? "✓" : "✗"} ${row.field}`,
    ...row.values,
  ]);
  const widths = header.map((_, column) =>
    Math.max(...[header, ...body].map((line) => (line[column] ?? "").length)),
  );
  return [header, ...body]
    .map((line) =>
      line
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
