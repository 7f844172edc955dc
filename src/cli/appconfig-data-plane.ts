// The CLI's client of an App Configuration store's data plane (`/kv`, `/locks`): requests authorised by an access
// key's HMAC signature or by a bearer token, as the SDKs send them, and the store's refusals turned into one line
// that names the fix.

import { randomUUID } from "node:crypto";
import { type AccessKeyCredential, hmacHeaders } from "./appconfig-hmac-signing.ts";
import type { WireKeyValue } from "./appconfig-key-values.ts";
import { CliError } from "./cli-error.ts";
import { callHttps, type HttpsAnswer } from "./https-call.ts";

const API_VERSION = "1.0";
const KV_MEDIA_TYPE = "application/vnd.microsoft.appconfig.kv+json";
const KVSET_MEDIA_TYPE = "application/vnd.microsoft.appconfig.kvset+json";
const PROBLEM_MEDIA_TYPE = "application/problem+json";

/** How requests are authorised, and what to tell the user when the store refuses them. */
export type StoreCredential =
  | { kind: "access-key"; key: AccessKeyCredential; storeName: string }
  | { kind: "bearer"; token: string; principal: string; storeName: string };

export type DataPlaneResponse = HttpsAnswer;

/** A problem+json body, as the store sends its refusals. */
interface Problem {
  type?: string;
  title?: string;
  detail?: string;
}

/** A refusal from the store: its status and problem type, so that a command can name its own fix. */
export class StoreRequestError extends CliError {
  readonly status: number;
  readonly problemType: string | undefined;

  constructor(message: string, status: number, problemType?: string) {
    super(message);
    this.status = status;
    this.problemType = problemType;
  }
}

/** What a list asks for: az's key and label filters, the fields to return, and a past instant. */
export interface KeyValueQuery {
  key?: string;
  label?: string;
  fields?: readonly string[];
  /** Accept-Datetime: the key-values as they were then. */
  datetime?: string;
}

export class AppConfigDataPlane {
  readonly endpoint: URL;
  readonly #credential: StoreCredential;
  readonly #ca: string | undefined;

  constructor(endpoint: URL, credential: StoreCredential, ca?: string) {
    this.endpoint = endpoint;
    this.#credential = credential;
    this.#ca = ca;
  }

  /** The key-value of `key` and `label` (null: no label); undefined when there is none. */
  async getKeyValue(key: string, label: string | null, datetime?: string): Promise<WireKeyValue | undefined> {
    const response = await this.#send(
      "GET",
      keyValuePath("/kv", key, label),
      undefined,
      datetime ? { "accept-datetime": acceptDatetime(datetime) } : {},
    );
    if (response.status === 404) return undefined;
    return this.#expect(response, "read") as WireKeyValue;
  }

  /** The key-values a query matches, following the store's `Link` pages until `limit` are read. */
  async listKeyValues(query: KeyValueQuery, limit = Number.POSITIVE_INFINITY): Promise<WireKeyValue[]> {
    const parameters = [
      ...(query.key === undefined ? [] : [`key=${encodeURIComponent(query.key)}`]),
      ...(query.label === undefined ? [] : [`label=${encodeURIComponent(query.label)}`]),
      ...(query.fields?.length ? [`$select=${query.fields.join(",")}`] : []),
      `api-version=${API_VERSION}`,
    ];
    const headers: Record<string, string> = query.datetime
      ? { "accept-datetime": acceptDatetime(query.datetime) }
      : {};
    const items: WireKeyValue[] = [];
    for (let path: string | undefined = `/kv?${parameters.join("&")}`; path && items.length < limit; ) {
      const response = await this.#send("GET", path, undefined, { accept: KVSET_MEDIA_TYPE, ...headers });
      const page = this.#expect(response, "read") as { items?: WireKeyValue[] };
      items.push(...(page.items ?? []));
      path = nextLink(response.headers.link);
    }
    return items.slice(0, limit);
  }

  /**
   * Sets a key-value. `etag`: only if it is still that one (a changed or new one answers 412); `"*"` with
   * `ifNoneMatch`: only if there is none.
   */
  async putKeyValue(
    key: string,
    label: string | null,
    body: { value: string; content_type: string | null; tags: Record<string, string> },
    condition: { ifMatch?: string; ifNoneMatch?: string } = {},
  ): Promise<WireKeyValue> {
    const response = await this.#send("PUT", keyValuePath("/kv", key, label), JSON.stringify(body), {
      "content-type": KV_MEDIA_TYPE,
      ...conditionHeaders(condition),
    });
    return this.#expect(response, "write") as WireKeyValue;
  }

  /** Deletes a key-value (only if its ETag is still `ifMatch`, when given); the deleted one, or undefined. */
  async deleteKeyValue(
    key: string,
    label: string | null,
    ifMatch?: string,
  ): Promise<WireKeyValue | undefined> {
    const response = await this.#send("DELETE", keyValuePath("/kv", key, label), undefined, {
      ...conditionHeaders({ ifMatch }),
    });
    if (response.status === 204) return undefined;
    return this.#expect(response, "write") as WireKeyValue;
  }

  /** Locks (read-only) or unlocks a key-value, only if its ETag is still `ifMatch`. */
  async setLocked(
    key: string,
    label: string | null,
    locked: boolean,
    ifMatch?: string,
  ): Promise<WireKeyValue> {
    const response = await this.#send(
      locked ? "PUT" : "DELETE",
      keyValuePath("/locks", key, label),
      undefined,
      conditionHeaders({ ifMatch }),
    );
    return this.#expect(response, "write") as WireKeyValue;
  }

  /** A 2xx response's body; any other status becomes one line saying what was refused and what to do. */
  #expect(response: DataPlaneResponse, access: "read" | "write"): unknown {
    if (response.status >= 200 && response.status < 300) return response.body;
    throw this.#refusal(response, access);
  }

  #refusal(response: DataPlaneResponse, access: "read" | "write"): StoreRequestError {
    const { status } = response;
    const credential = this.#credential;
    const store = credential.storeName;
    const problem = (
      typeof response.body === "object" && response.body !== null ? response.body : {}
    ) as Problem;
    if (status === 401) {
      const description =
        /error_description="([^"]*)"/.exec(String(response.headers["www-authenticate"] ?? ""))?.[1] ??
        problem.detail ??
        "Unauthorized";
      return new StoreRequestError(
        credential.kind === "access-key"
          ? `the store refused the access key '${credential.key.id}' (401 Unauthorized: ${description}); it may have been regenerated: take a current one with \`wikit appconfig credential list -n ${store}\``
          : `the store refused the access token (401 Unauthorized: ${description}); sign in again with \`wikit login\``,
        status,
      );
    }
    if (status === 403) {
      const role = access === "read" ? "App Configuration Data Reader" : "App Configuration Data Owner";
      return new StoreRequestError(
        credential.kind === "access-key"
          ? `the access key '${credential.key.id}' may not ${access} key-values (403 Forbidden): it is a read-only key; use a read-write one (Primary or Secondary) from \`wikit appconfig credential list -n ${store}\``
          : `the signed-in principal ${credential.principal} may not ${access} key-values of store '${store}' (403 Forbidden): grant it the role with \`wikit role assignment create --role "${role}" --assignee ${credential.principal} --scope $(wikit appconfig show -n ${store} --query id -o tsv)\``,
        status,
      );
    }
    const summary = problem.title
      ? `${problem.title}${problem.detail ? `: ${problem.detail}` : ""}`
      : typeof response.body === "string" && response.body
        ? response.body
        : `the store answered ${status}`;
    return new StoreRequestError(`(${status}) ${summary}`, status, problem.type);
  }

  async #send(
    method: string,
    pathAndQuery: string,
    body: string | undefined,
    headers: Record<string, string>,
  ): Promise<DataPlaneResponse> {
    const { endpoint } = this;
    const credential = this.#credential;
    const authorization =
      credential.kind === "access-key"
        ? hmacHeaders(
            { method, pathAndQuery, host: endpoint.host, body: body ?? "", requestId: randomUUID() },
            credential.key,
            new Date(),
          )
        : { authorization: `Bearer ${credential.token}` };
    return callHttps({
      // `*.localhost` is this machine (RFC 6761), where `wikit up` listens on IPv4.
      address: isLocalhost(endpoint.hostname) ? "127.0.0.1" : endpoint.hostname,
      port: Number(endpoint.port) || 443,
      servername: endpoint.hostname,
      ca: this.#ca,
      method,
      path: pathAndQuery,
      headers: {
        host: endpoint.host,
        accept: `${KV_MEDIA_TYPE}, ${PROBLEM_MEDIA_TYPE}`,
        ...headers,
        ...authorization,
      },
      body,
      verboseOrigin: endpoint.origin,
      unreachable: (error) =>
        new CliError(
          `cannot reach the store at ${endpoint.origin}: ${error.message}. Is wikit running, and the endpoint right (\`wikit appconfig show -n ${credential.storeName} --query endpoint -o tsv\`)?`,
        ),
    });
  }
}

function isLocalhost(hostname: string): boolean {
  return hostname === "localhost" || hostname.endsWith(".localhost");
}

/** `/kv/{key}?label=…&api-version=1.0`; no `label` for the null label, which is what its absence means. */
function keyValuePath(collection: "/kv" | "/locks", key: string, label: string | null): string {
  const labelParameter = label === null ? "" : `label=${encodeURIComponent(label)}&`;
  return `${collection}/${encodeURIComponent(key)}?${labelParameter}api-version=${API_VERSION}`;
}

function conditionHeaders(condition: { ifMatch?: string; ifNoneMatch?: string }): Record<string, string> {
  return {
    ...(condition.ifMatch ? { "if-match": quoted(condition.ifMatch) } : {}),
    ...(condition.ifNoneMatch ? { "if-none-match": quoted(condition.ifNoneMatch) } : {}),
  };
}

/** ETags travel quoted; `*` stays bare. */
function quoted(etag: string): string {
  return etag === "*" || etag.startsWith('"') ? etag : `"${etag}"`;
}

/** The path of the `rel="next"` page in a Link header, if any. */
export function nextLink(link: string | string[] | undefined): string | undefined {
  for (const value of [link ?? []].flat().flatMap((header) => header.split(/,(?=\s*<)/))) {
    const match = /<([^>]*)>\s*;\s*rel="?next"?/i.exec(value);
    if (match?.[1]) {
      const target = new URL(match[1], "https://store.invalid");
      return `${target.pathname}${target.search}`;
    }
  }
  return undefined;
}

/** az's `--datetime` (`YYYY-MM-DDThh:mm:ssZ`, UTC when no zone is given) as an HTTP date. */
export function acceptDatetime(given: string): string {
  const zoned = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(given) ? given : `${given}Z`;
  const time = Date.parse(zoned);
  if (Number.isNaN(time)) {
    throw new CliError(`--datetime '${given}' is not a date and time; give it as YYYY-MM-DDThh:mm:ssZ`);
  }
  return new Date(time).toUTCString();
}
