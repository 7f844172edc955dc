// A Kubernetes API server on loopback for tests of code that talks to one through @kubernetes/client-node
// (informers, direct reads, Secrets, webhook configurations). It keeps the wire contract that such code
// relies on: objects by apiVersion/kind/namespace/name with one increasing resourceVersion for the whole
// store; GET, LIST with the list's resourceVersion, WATCH from a resourceVersion (newline-delimited events,
// an ERROR event with code 410 once that version has been compacted away), POST (409 AlreadyExists), PUT
// (409 Conflict on a stale resourceVersion), PATCH (merge, JSON and — approximated as merge — strategic
// merge patches), DELETE, and metav1.Status error bodies. Label and field selectors support equality,
// inequality and existence. Workload kinds (apps/v1, batch/v1) get `metadata.generation`, raised when their spec
// changes. The service-account issuer's discovery document and JWKS are served at the API server's own paths
// when a test configures them (content negotiation as kube-apiserver's: a JWKS request accepting only
// application/json gets 406). Not modelled: namespace existence, finalizers, paging (`limit` is ignored),
// subresources, server-side apply, admission, controllers (a Deployment makes no ReplicaSet or pods).
//
// Tests can also reach behind the API: seed or change objects directly (watchers see those changes),
// hold back watch events, drop watch connections, compact history, inject failures, and read the log
// of requests received.

import { randomBytes, randomUUID } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { isDeepStrictEqual } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";

export interface ResourceType {
  /** "" for the core group. */
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

export const BUILT_IN_RESOURCES: readonly ResourceType[] = [
  { group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false },
  { group: "", version: "v1", plural: "serviceaccounts", kind: "ServiceAccount", namespaced: true },
  { group: "", version: "v1", plural: "secrets", kind: "Secret", namespaced: true },
  { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true },
  { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true },
  { group: "", version: "v1", plural: "services", kind: "Service", namespaced: true },
  { group: "apps", version: "v1", plural: "deployments", kind: "Deployment", namespaced: true },
  { group: "apps", version: "v1", plural: "replicasets", kind: "ReplicaSet", namespaced: true },
  { group: "apps", version: "v1", plural: "statefulsets", kind: "StatefulSet", namespaced: true },
  { group: "apps", version: "v1", plural: "daemonsets", kind: "DaemonSet", namespaced: true },
  { group: "batch", version: "v1", plural: "jobs", kind: "Job", namespaced: true },
  { group: "batch", version: "v1", plural: "cronjobs", kind: "CronJob", namespaced: true },
  {
    group: "admissionregistration.k8s.io",
    version: "v1",
    plural: "mutatingwebhookconfigurations",
    kind: "MutatingWebhookConfiguration",
    namespaced: false,
  },
  {
    group: "admissionregistration.k8s.io",
    version: "v1",
    plural: "validatingwebhookconfigurations",
    kind: "ValidatingWebhookConfiguration",
    namespaced: false,
  },
];

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    generateName?: string;
    namespace?: string;
    resourceVersion?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

/** A metav1.Status failure, as the API server sends it with every error. */
export interface KubeStatus {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure";
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string };
  code: number;
}

export type Verb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "other";

export interface RecordedRequest {
  method: string;
  /** Path without the query. */
  path: string;
  query: URLSearchParams;
  verb: Verb;
}

export interface RequestMatcher {
  method?: string;
  verb?: Verb;
  /** Exact path, or a pattern tested against it. */
  path?: string | RegExp;
}

export interface FakeKubeApiOptions {
  /** Serve HTTPS with this certificate (its CA goes into kubeConfig()); plain HTTP without it. */
  tls?: { certPem: string; keyPem: string; caPem: string };
  /** Require `Authorization: Bearer <token>`; kubeConfig() presents it. */
  token?: string;
  /** What `/version` reports as gitVersion (default v1.31.4). */
  gitVersion?: string;
  /** Resource types in addition to BUILT_IN_RESOURCES. */
  resources?: readonly ResourceType[];
  /** The service-account issuer documents the API server serves (unset: both paths answer 404). */
  serviceAccountIssuer?: ServiceAccountIssuerDocuments;
}

/** What kube-apiserver serves at `/.well-known/openid-configuration` and `/openid/v1/jwks`. */
export interface ServiceAccountIssuerDocuments {
  discovery: Record<string, unknown>;
  jwks: { keys: Record<string, unknown>[] };
}

/** API groups whose objects carry `metadata.generation` (raised on every spec change), as workloads do. */
const GENERATION_GROUPS: ReadonlySet<string> = new Set(["apps", "batch"]);
const DISCOVERY_PATH = "/.well-known/openid-configuration";
const JWKS_PATH = "/openid/v1/jwks";

type EventType = "ADDED" | "MODIFIED" | "DELETED";
interface StoredEvent {
  resourceVersion: number;
  type: EventType;
  resource: ResourceType;
  object: KubeObject;
  /** The object before a modification, so that filtered watches can turn it into ADDED or DELETED. */
  previous?: KubeObject;
}

interface Watcher {
  resource: ResourceType;
  namespace: string | undefined;
  selectors: Selectors;
  response: http.ServerResponse;
  timer?: NodeJS.Timeout;
}

interface Selectors {
  label: (object: KubeObject) => boolean;
  field: (object: KubeObject) => boolean;
}

interface Failure {
  matcher: RequestMatcher;
  status: KubeStatus;
  remaining: number;
}

/** An error answered with a Status body. */
class StatusError extends Error {
  readonly status: KubeStatus;
  constructor(code: number, reason: string, message: string, details?: KubeStatus["details"]) {
    super(message);
    this.status = kubeStatus(code, reason, message, details);
  }
}

export function kubeStatus(
  code: number,
  reason: string,
  message: string,
  details?: KubeStatus["details"],
): KubeStatus {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

export class FakeKubeApi {
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[] = [];
  readonly #server: http.Server;
  readonly #options: FakeKubeApiOptions;
  readonly #resources: readonly ResourceType[];
  readonly #objects = new Map<string, KubeObject>();
  readonly #events: StoredEvent[] = [];
  readonly #watchers = new Set<Watcher>();
  readonly #failures: Failure[] = [];
  #resourceVersion = 1;
  /** Events up to and including this version have been forgotten. */
  #compactedThrough = 0;
  #held: { watcher: Watcher; line: string }[] | undefined;
  #serviceAccountIssuer: ServiceAccountIssuerDocuments | undefined;

  private constructor(server: http.Server, url: string, options: FakeKubeApiOptions) {
    this.#server = server;
    this.url = url;
    this.#options = options;
    this.#resources = [...BUILT_IN_RESOURCES, ...(options.resources ?? [])];
    this.#serviceAccountIssuer = options.serviceAccountIssuer;
  }

  static async start(options: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
    let api: FakeKubeApi | undefined;
    const handler = (request: http.IncomingMessage, response: http.ServerResponse) => {
      api?.handle(request, response);
    };
    const server = options.tls
      ? https.createServer({ cert: options.tls.certPem, key: options.tls.keyPem }, handler)
      : http.createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    api = new FakeKubeApi(server, `${options.tls ? "https" : "http"}://127.0.0.1:${port}`, options);
    return api;
  }

  /** A KubeConfig whose current context points at this server. */
  kubeConfig(): KubeConfig {
    const config = new KubeConfig();
    const tls = this.#options.tls;
    config.loadFromOptions({
      clusters: [
        {
          name: "fake",
          server: this.url,
          // client-node refuses plain HTTP unless TLS verification is off.
          skipTLSVerify: !tls,
          ...(tls ? { caData: Buffer.from(tls.caPem).toString("base64") } : {}),
        },
      ],
      users: [{ name: "fake", ...(this.#options.token ? { token: this.#options.token } : {}) }],
      contexts: [{ name: "fake", cluster: "fake", user: "fake", namespace: "default" }],
      currentContext: "fake",
    });
    return config;
  }

  /** Watches currently streaming. */
  get openWatches(): number {
    return this.#watchers.size;
  }

  /** The store's current resourceVersion. */
  get resourceVersion(): number {
    return this.#resourceVersion;
  }

  // ---- Behind the API -------------------------------------------------------------------------------------

  /** The stored object, or undefined. */
  get(apiVersion: string, kind: string, namespace: string, name: string): KubeObject | undefined {
    const stored = this.#objects.get(objectKey(apiVersion, kind, namespace, name));
    return stored && structuredClone(stored);
  }

  /** Serves these issuer documents from now on (undefined: both paths answer 404 again). */
  setServiceAccountIssuer(documents: ServiceAccountIssuerDocuments | undefined): void {
    this.#serviceAccountIssuer = documents && structuredClone(documents);
  }

  /**
   * Creates or replaces an object (watchers see ADDED or MODIFIED); returns it as stored. Behind the API, a new
   * object keeps a `metadata.creationTimestamp` it is given, so that tests can seed objects of different ages.
   */
  put(object: KubeObject): KubeObject {
    const resource = this.#resourceFor(object.apiVersion, object.kind);
    const namespace = resource.namespaced ? (object.metadata?.namespace ?? "default") : "";
    const name = object.metadata?.name;
    if (!name) throw new Error("put: metadata.name is required");
    const existing = this.#objects.get(this.#key(resource, namespace, name));
    return existing
      ? this.#write(resource, namespace, name, object, existing)
      : this.#write(resource, namespace, name, object, undefined, true);
  }

  /** Deletes an object (watchers see DELETED); returns whether it existed. */
  remove(apiVersion: string, kind: string, namespace: string, name: string): boolean {
    const resource = this.#resourceFor(apiVersion, kind);
    return this.#delete(resource, resource.namespaced ? namespace : "", name) !== undefined;
  }

  /** Queues watch events instead of sending them, until the returned function is called. */
  holdWatchEvents(): () => void {
    this.#held ??= [];
    return () => {
      const held = this.#held ?? [];
      this.#held = undefined;
      for (const { watcher, line } of held) if (this.#watchers.has(watcher)) watcher.response.write(line);
    };
  }

  /** Ends every open watch, as an API server restart or a load balancer timeout would. */
  disconnectWatches(): void {
    for (const watcher of this.#watchers) this.#endWatch(watcher);
  }

  /** Forgets the event history: watches from any older resourceVersion get 410 Gone. */
  compact(): void {
    this.#events.length = 0;
    this.#compactedThrough = this.#resourceVersion;
  }

  /** Answers matching requests with this error, `times` times (default: until removed). */
  fail(
    matcher: RequestMatcher,
    error: { code: number; reason: string; message: string },
    times = Number.POSITIVE_INFINITY,
  ): () => void {
    const failure: Failure = {
      matcher,
      status: kubeStatus(error.code, error.reason, error.message),
      remaining: times,
    };
    this.#failures.push(failure);
    return () => {
      const index = this.#failures.indexOf(failure);
      if (index !== -1) this.#failures.splice(index, 1);
    };
  }

  /** The requests received that match. */
  requestsMatching(matcher: RequestMatcher): RecordedRequest[] {
    return this.requests.filter((request) => matches(matcher, request));
  }

  async close(): Promise<void> {
    for (const watcher of this.#watchers) this.#endWatch(watcher);
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  // ---- HTTP -----------------------------------------------------------------------------------------------

  handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      try {
        this.#route(request, response, Buffer.concat(chunks).toString("utf8"));
      } catch (error) {
        const status =
          error instanceof StatusError
            ? error.status
            : kubeStatus(500, "InternalError", `fake API server: ${(error as Error).message}`);
        if (!response.headersSent) sendJson(response, status.code, status);
        else response.end();
      }
    });
  }

  #route(request: http.IncomingMessage, response: http.ServerResponse, body: string): void {
    const url = new URL(request.url ?? "/", "http://fake");
    const method = request.method ?? "GET";
    const target = this.#parsePath(url.pathname);
    const watch = url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1";
    const verb = verbOf(method, target, watch);
    const recorded: RecordedRequest = { method, path: url.pathname, query: url.searchParams, verb };
    this.requests.push(recorded);

    const token = this.#options.token;
    if (token && request.headers.authorization !== `Bearer ${token}`) {
      throw new StatusError(401, "Unauthorized", "Unauthorized");
    }
    const failure = this.#failures.find((candidate) => matches(candidate.matcher, recorded));
    if (failure) {
      failure.remaining -= 1;
      if (failure.remaining <= 0) this.#failures.splice(this.#failures.indexOf(failure), 1);
      sendJson(response, failure.status.code, failure.status);
      return;
    }
    if (url.pathname === "/version" && method === "GET") {
      sendJson(response, 200, versionInfo(this.#options.gitVersion ?? "v1.31.4"));
      return;
    }
    if ((url.pathname === DISCOVERY_PATH || url.pathname === JWKS_PATH) && method === "GET") {
      this.#serveIssuerDocument(url.pathname, request.headers.accept ?? "", response);
      return;
    }
    if (target === undefined) {
      throw new StatusError(404, "NotFound", "the server could not find the requested resource");
    }
    const { resource, namespace, name } = target;
    const selectors = parseSelectors(url.searchParams);
    switch (verb) {
      case "get":
        sendJson(response, 200, this.#read(resource, namespace ?? "", name ?? ""));
        return;
      case "list":
        sendJson(response, 200, this.#list(resource, namespace, selectors));
        return;
      case "watch":
        this.#watch(response, resource, namespace, selectors, url.searchParams);
        return;
      case "create":
        sendJson(response, 201, this.#create(resource, namespace ?? "", parseBody(body)));
        return;
      case "update":
        sendJson(response, 200, this.#update(resource, namespace ?? "", name ?? "", parseBody(body)));
        return;
      case "patch":
        sendJson(
          response,
          200,
          this.#patch(resource, namespace ?? "", name ?? "", request.headers["content-type"] ?? "", body),
        );
        return;
      case "delete":
        sendJson(response, 200, this.#deleteRequest(resource, namespace ?? "", name ?? "", body));
        return;
      default:
        throw new StatusError(
          405,
          "MethodNotAllowed",
          `the server does not allow this method on the requested resource`,
        );
    }
  }

  /** kube-apiserver's issuer routes: compact JSON, cacheable, and a JWKS only for clients that accept its type. */
  #serveIssuerDocument(path: string, accept: string, response: http.ServerResponse): void {
    const documents = this.#serviceAccountIssuer;
    if (documents === undefined) {
      throw new StatusError(404, "NotFound", "the server could not find the requested resource");
    }
    const isJwks = path === JWKS_PATH;
    const type = isJwks ? "application/jwk-set+json" : "application/json";
    const accepted = accept
      .split(",")
      .map((range) => range.split(";")[0]?.trim().toLowerCase() ?? "")
      .filter(Boolean);
    const acceptable =
      accepted.length === 0 || accepted.some((range) => ["*/*", "application/*", type].includes(range));
    if (!acceptable) {
      throw new StatusError(406, "NotAcceptable", `only the following media types are accepted: ${type}`);
    }
    const text = JSON.stringify(isJwks ? documents.jwks : documents.discovery);
    response.writeHead(200, {
      "Content-Type": type,
      "Cache-Control": "public, max-age=3600",
      "Content-Length": Buffer.byteLength(text),
    });
    response.end(text);
  }

  /** `/api/v1/…` or `/apis/<group>/<version>/…`, then `[namespaces/<ns>/]<plural>[/<name>]`. */
  #parsePath(pathname: string): { resource: ResourceType; namespace?: string; name?: string } | undefined {
    const segments = pathname.split("/").filter(Boolean).map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (segments[0] === "api" && segments.length >= 2) {
      group = "";
      version = segments[1] ?? "";
      rest = segments.slice(2);
    } else if (segments[0] === "apis" && segments.length >= 3) {
      group = segments[1] ?? "";
      version = segments[2] ?? "";
      rest = segments.slice(3);
    } else {
      return undefined;
    }
    const find = (plural: string | undefined) =>
      this.#resources.find((r) => r.group === group && r.version === version && r.plural === plural);
    if (rest[0] === "namespaces" && rest.length >= 3) {
      const resource = find(rest[2]);
      if (!resource?.namespaced || rest.length > 4) return undefined;
      return { resource, namespace: rest[1], ...(rest[3] === undefined ? {} : { name: rest[3] }) };
    }
    const resource = find(rest[0]);
    if (resource === undefined || rest.length > 2) return undefined;
    if (rest.length === 2 && resource.namespaced) return undefined;
    return { resource, ...(rest[1] === undefined ? {} : { name: rest[1] }) };
  }

  // ---- Verbs ----------------------------------------------------------------------------------------------

  #read(resource: ResourceType, namespace: string, name: string): KubeObject {
    const stored = this.#objects.get(this.#key(resource, namespace, name));
    if (!stored) throw notFound(resource, name);
    return structuredClone(stored);
  }

  #list(resource: ResourceType, namespace: string | undefined, selectors: Selectors) {
    const items = this.#matching(resource, namespace, selectors).map((object) => {
      const { apiVersion: _apiVersion, kind: _kind, ...item } = structuredClone(object);
      return item;
    });
    return {
      apiVersion: apiVersionOf(resource),
      kind: `${resource.kind}List`,
      metadata: { resourceVersion: String(this.#resourceVersion) },
      items,
    };
  }

  #watch(
    response: http.ServerResponse,
    resource: ResourceType,
    namespace: string | undefined,
    selectors: Selectors,
    query: URLSearchParams,
  ): void {
    response.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
    // The API server sends the headers at once, events or not; clients wait for them before watching.
    response.flushHeaders();
    const watcher: Watcher = { resource, namespace, selectors, response };
    const from = query.get("resourceVersion") ?? "";
    if (from === "" || from === "0") {
      // No version, or "any": the current state as ADDED events, then what follows.
      for (const object of this.#matching(resource, namespace, selectors)) {
        response.write(eventLine("ADDED", object));
      }
    } else {
      const since = Number(from);
      if (!Number.isInteger(since) || since < 0) {
        response.end(eventLine("ERROR", kubeStatus(400, "BadRequest", `invalid resourceVersion "${from}"`)));
        return;
      }
      if (since < this.#compactedThrough) {
        const message = `too old resource version: ${since} (${this.#compactedThrough})`;
        response.end(eventLine("ERROR", kubeStatus(410, "Expired", message)));
        return;
      }
      for (const event of this.#events) {
        if (event.resourceVersion > since) this.#deliver(watcher, event, false);
      }
    }
    this.#watchers.add(watcher);
    response.on("close", () => this.#endWatch(watcher));
    const timeoutSeconds = Number(query.get("timeoutSeconds") ?? "");
    if (timeoutSeconds > 0) watcher.timer = setTimeout(() => this.#endWatch(watcher), timeoutSeconds * 1000);
  }

  #create(resource: ResourceType, namespace: string, body: KubeObject): KubeObject {
    this.#checkTypeMeta(resource, body);
    const metadata = body.metadata ?? {};
    if (resource.namespaced && metadata.namespace && metadata.namespace !== namespace) {
      throw new StatusError(
        400,
        "BadRequest",
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    }
    let name = metadata.name;
    if (!name && metadata.generateName)
      name = `${metadata.generateName}${randomBytes(3).toString("hex").slice(0, 5)}`;
    if (!name) {
      throw new StatusError(
        422,
        "Invalid",
        `${resource.kind} "" is invalid: metadata.name: Required value: name or generateName is required`,
        { kind: resource.kind },
      );
    }
    if (this.#objects.has(this.#key(resource, namespace, name))) {
      throw new StatusError(
        409,
        "AlreadyExists",
        `${qualified(resource)} "${name}" already exists`,
        details(resource, name),
      );
    }
    return structuredClone(this.#write(resource, namespace, name, body, undefined));
  }

  #update(resource: ResourceType, namespace: string, name: string, body: KubeObject): KubeObject {
    this.#checkTypeMeta(resource, body);
    const bodyName = body.metadata?.name;
    if (bodyName && bodyName !== name) {
      throw new StatusError(
        400,
        "BadRequest",
        `the name of the object (${bodyName}) does not match the name on the URL (${name})`,
      );
    }
    const existing = this.#objects.get(this.#key(resource, namespace, name));
    if (!existing) throw notFound(resource, name);
    this.#checkResourceVersion(resource, name, existing, body.metadata?.resourceVersion);
    return structuredClone(this.#write(resource, namespace, name, body, existing));
  }

  #patch(
    resource: ResourceType,
    namespace: string,
    name: string,
    contentType: string,
    body: string,
  ): KubeObject {
    const existing = this.#objects.get(this.#key(resource, namespace, name));
    if (!existing) throw notFound(resource, name);
    const mediaType = contentType.split(";")[0]?.trim().toLowerCase();
    let patched: unknown;
    if (
      mediaType === "application/merge-patch+json" ||
      mediaType === "application/strategic-merge-patch+json"
    ) {
      patched = mergePatch(structuredClone(existing), parseBody(body));
    } else if (mediaType === "application/json-patch+json") {
      const operations = parseJson(body);
      if (!Array.isArray(operations))
        throw new StatusError(400, "BadRequest", "a JSON patch must be an array");
      patched = applyJsonPatchDocument(structuredClone(existing), operations);
    } else {
      throw new StatusError(
        415,
        "UnsupportedMediaType",
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`,
      );
    }
    if (!isObject(patched)) throw new StatusError(422, "Invalid", "the patched object is not an object");
    const object = patched as KubeObject;
    const wanted = object.metadata?.resourceVersion;
    if (wanted !== existing.metadata?.resourceVersion)
      this.#checkResourceVersion(resource, name, existing, wanted);
    if (object.metadata?.name !== name || (resource.namespaced && object.metadata?.namespace !== namespace)) {
      throw new StatusError(
        422,
        "Invalid",
        `${resource.kind} "${name}" is invalid: metadata.name: the name cannot change`,
      );
    }
    return structuredClone(this.#write(resource, namespace, name, object, existing));
  }

  #deleteRequest(resource: ResourceType, namespace: string, name: string, body: string): KubeObject {
    const existing = this.#objects.get(this.#key(resource, namespace, name));
    if (!existing) throw notFound(resource, name);
    const options = body.trim() ? parseBody(body) : {};
    const preconditions = isObject(options.preconditions) ? options.preconditions : {};
    const wanted = preconditions.resourceVersion;
    if (typeof wanted === "string" && wanted !== existing.metadata?.resourceVersion) {
      throw new StatusError(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${qualified(resource)} "${name}": the ResourceVersion in the precondition (${wanted}) does not match the ResourceVersion in record (${existing.metadata?.resourceVersion}). The object might have been modified`,
        details(resource, name),
      );
    }
    return structuredClone(this.#delete(resource, namespace, name) as KubeObject);
  }

  // ---- Store ----------------------------------------------------------------------------------------------

  #write(
    resource: ResourceType,
    namespace: string,
    name: string,
    body: KubeObject,
    existing: KubeObject | undefined,
    seeded = false,
  ): KubeObject {
    this.#resourceVersion += 1;
    const object = normalize(resource, structuredClone(body));
    object.apiVersion = apiVersionOf(resource);
    object.kind = resource.kind;
    const metadata = { ...object.metadata };
    delete metadata.generateName;
    metadata.name = name;
    if (resource.namespaced) metadata.namespace = namespace;
    else delete metadata.namespace;
    metadata.uid = existing?.metadata?.uid ?? randomUUID();
    const given = seeded ? body.metadata?.creationTimestamp : undefined;
    metadata.creationTimestamp =
      existing?.metadata?.creationTimestamp ??
      (typeof given === "string" ? given : new Date().toISOString().replace(/\.\d+Z$/, "Z"));
    metadata.resourceVersion = String(this.#resourceVersion);
    if (GENERATION_GROUPS.has(resource.group)) {
      const previous = Number(existing?.metadata?.generation ?? 0);
      const specChanged = existing === undefined || !isDeepStrictEqual(existing.spec, object.spec);
      metadata.generation = specChanged ? previous + 1 : previous;
    }
    object.metadata = metadata;
    this.#objects.set(this.#key(resource, namespace, name), object);
    this.#record({
      resourceVersion: this.#resourceVersion,
      type: existing ? "MODIFIED" : "ADDED",
      resource,
      object: structuredClone(object),
      ...(existing ? { previous: structuredClone(existing) } : {}),
    });
    return object;
  }

  #delete(resource: ResourceType, namespace: string, name: string): KubeObject | undefined {
    const key = this.#key(resource, namespace, name);
    const existing = this.#objects.get(key);
    if (!existing) return undefined;
    this.#objects.delete(key);
    this.#resourceVersion += 1;
    const object = structuredClone(existing);
    if (object.metadata) object.metadata.resourceVersion = String(this.#resourceVersion);
    this.#record({ resourceVersion: this.#resourceVersion, type: "DELETED", resource, object });
    return object;
  }

  #record(event: StoredEvent): void {
    this.#events.push(event);
    for (const watcher of this.#watchers) this.#deliver(watcher, event, true);
  }

  /** Sends one event to a watcher, translated for its filter (a modification can enter or leave it). */
  #deliver(watcher: Watcher, event: StoredEvent, live: boolean): void {
    if (event.resource !== watcher.resource) return;
    const inScope = (object: KubeObject | undefined) =>
      object !== undefined &&
      (watcher.namespace === undefined || object.metadata?.namespace === watcher.namespace) &&
      watcher.selectors.label(object) &&
      watcher.selectors.field(object);
    const now = inScope(event.object);
    let type: EventType | undefined = event.type;
    if (event.type === "MODIFIED") {
      const before = inScope(event.previous);
      type = now ? (before ? "MODIFIED" : "ADDED") : before ? "DELETED" : undefined;
    } else if (!now) {
      type = undefined;
    }
    if (type === undefined) return;
    const line = eventLine(type, event.object);
    if (live && this.#held) this.#held.push({ watcher, line });
    else watcher.response.write(line);
  }

  #endWatch(watcher: Watcher): void {
    if (!this.#watchers.delete(watcher)) return;
    clearTimeout(watcher.timer);
    watcher.response.end();
  }

  #matching(resource: ResourceType, namespace: string | undefined, selectors: Selectors): KubeObject[] {
    const prefix = `${apiVersionOf(resource)}/${resource.kind}/`;
    return [...this.#objects.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([, object]) => object)
      .filter(
        (object) =>
          (namespace === undefined || object.metadata?.namespace === namespace) &&
          selectors.label(object) &&
          selectors.field(object),
      );
  }

  #checkResourceVersion(
    resource: ResourceType,
    name: string,
    existing: KubeObject,
    wanted: string | undefined,
  ): void {
    if (wanted && wanted !== existing.metadata?.resourceVersion) {
      throw new StatusError(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${qualified(resource)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        details(resource, name),
      );
    }
  }

  #checkTypeMeta(resource: ResourceType, body: KubeObject): void {
    if (body.kind !== undefined && body.kind !== resource.kind) {
      throw new StatusError(
        400,
        "BadRequest",
        `the kind of the object (${String(body.kind)}) does not match ${resource.kind}`,
      );
    }
    if (body.apiVersion !== undefined && body.apiVersion !== apiVersionOf(resource)) {
      throw new StatusError(
        400,
        "BadRequest",
        `the apiVersion of the object (${String(body.apiVersion)}) does not match ${apiVersionOf(resource)}`,
      );
    }
  }

  #resourceFor(apiVersion: string | undefined, kind: string | undefined): ResourceType {
    const resource = this.#resources.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
    if (!resource) throw new Error(`the fake API server has no resource ${apiVersion} ${kind}`);
    return resource;
  }

  #key(resource: ResourceType, namespace: string, name: string): string {
    return objectKey(apiVersionOf(resource), resource.kind, resource.namespaced ? namespace : "", name);
  }
}

// ---- Wire helpers -----------------------------------------------------------------------------------------

function objectKey(apiVersion: string, kind: string, namespace: string, name: string): string {
  return `${apiVersion}/${kind}/${namespace}/${name}`;
}

function apiVersionOf(resource: ResourceType): string {
  return resource.group ? `${resource.group}/${resource.version}` : resource.version;
}

function qualified(resource: ResourceType): string {
  return resource.group ? `${resource.plural}.${resource.group}` : resource.plural;
}

function details(resource: ResourceType, name: string): KubeStatus["details"] {
  return { name, ...(resource.group ? { group: resource.group } : {}), kind: resource.plural };
}

function notFound(resource: ResourceType, name: string): StatusError {
  return new StatusError(
    404,
    "NotFound",
    `${qualified(resource)} "${name}" not found`,
    details(resource, name),
  );
}

function verbOf(method: string, target: { name?: string } | undefined, watch: boolean): Verb {
  if (target === undefined) return "other";
  const named = target.name !== undefined;
  switch (method) {
    case "GET":
      return watch ? "watch" : named ? "get" : "list";
    case "POST":
      return named ? "other" : "create";
    case "PUT":
      return named ? "update" : "other";
    case "PATCH":
      return named ? "patch" : "other";
    case "DELETE":
      return named ? "delete" : "other";
    default:
      return "other";
  }
}

function matches(matcher: RequestMatcher, request: RecordedRequest): boolean {
  if (matcher.method !== undefined && matcher.method !== request.method) return false;
  if (matcher.verb !== undefined && matcher.verb !== request.verb) return false;
  if (typeof matcher.path === "string" && matcher.path !== request.path) return false;
  if (matcher.path instanceof RegExp && !matcher.path.test(request.path)) return false;
  return true;
}

function sendJson(response: http.ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  response.end(text);
}

function eventLine(type: EventType | "ERROR", object: unknown): string {
  return `${JSON.stringify({ type, object })}\n`;
}

function versionInfo(gitVersion: string) {
  const match = /^v(\d+)\.(\d+)/.exec(gitVersion);
  return {
    major: match?.[1] ?? "1",
    minor: match?.[2] ?? "31",
    gitVersion,
    gitCommit: "0000000000000000000000000000000000000000",
    gitTreeState: "clean",
    buildDate: "2026-01-01T00:00:00Z",
    goVersion: "go1.24.0",
    compiler: "gc",
    platform: "linux/amd64",
  };
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new StatusError(
      400,
      "BadRequest",
      `the body of the request is not valid JSON: ${(error as Error).message}`,
    );
  }
}

function parseBody(body: string): KubeObject {
  const parsed = parseJson(body);
  if (!isObject(parsed))
    throw new StatusError(400, "BadRequest", "the body of the request must be a JSON object");
  return parsed as KubeObject;
}

/** What the API server does on write for a few kinds: Secret `stringData` folded into `data`, default type. */
function normalize(resource: ResourceType, object: KubeObject): KubeObject {
  if (resource.group === "" && resource.kind === "Secret") {
    const stringData = object.stringData;
    if (isObject(stringData)) {
      const data = isObject(object.data) ? { ...object.data } : {};
      for (const [key, value] of Object.entries(stringData))
        data[key] = Buffer.from(String(value)).toString("base64");
      object.data = data;
    }
    delete object.stringData;
    object.type ??= "Opaque";
  }
  return object;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ---- Selectors --------------------------------------------------------------------------------------------

function parseSelectors(query: URLSearchParams): Selectors {
  return {
    label: selectorPredicate(
      query.get("labelSelector") ?? "",
      (object, key) => object.metadata?.labels?.[key],
    ),
    field: selectorPredicate(query.get("fieldSelector") ?? "", fieldValue),
  };
}

function fieldValue(object: KubeObject, path: string): string | undefined {
  let node: unknown = object;
  for (const part of path.split(".")) node = isObject(node) ? node[part] : undefined;
  return node === undefined || node === null ? undefined : String(node);
}

/** `a=b`, `a==b`, `a!=b`, `a`, `!a`, comma-separated; every requirement must hold. */
function selectorPredicate(
  selector: string,
  valueAt: (object: KubeObject, key: string) => string | undefined,
): (object: KubeObject) => boolean {
  const requirements = selector
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part): ((object: KubeObject) => boolean) => {
      const inequality = /^([^!=]+)!=(.*)$/.exec(part);
      if (inequality)
        return (object) => valueAt(object, inequality[1]?.trim() ?? "") !== inequality[2]?.trim();
      const equality = /^([^!=]+)==?(.*)$/.exec(part);
      if (equality) return (object) => valueAt(object, equality[1]?.trim() ?? "") === equality[2]?.trim();
      if (part.startsWith("!")) return (object) => valueAt(object, part.slice(1)) === undefined;
      return (object) => valueAt(object, part) !== undefined;
    });
  return (object) => requirements.every((requirement) => requirement(object));
}

// ---- Patches ------------------------------------------------------------------------------------------------

/** RFC 7386: objects merge recursively, null removes a member, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isObject(target) ? target : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** RFC 6902, all six operations; a failed operation (or `test`) rejects the whole patch with 422. */
function applyJsonPatchDocument(document: unknown, operations: unknown[]): unknown {
  let root = document;
  const invalid = (message: string) =>
    new StatusError(422, "Invalid", `the JSON patch could not be applied: ${message}`);
  const tokens = (pointer: unknown): string[] => {
    if (typeof pointer !== "string" || (pointer !== "" && !pointer.startsWith("/"))) {
      throw invalid(`invalid JSON pointer ${JSON.stringify(pointer)}`);
    }
    return pointer === ""
      ? []
      : pointer
          .slice(1)
          .split("/")
          .map((token) => token.replaceAll("~1", "/").replaceAll("~0", "~"));
  };
  const parentOf = (path: string[]): { parent: unknown; key: string } => {
    let node = root;
    for (const token of path.slice(0, -1)) {
      node = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
      if (node === undefined) throw invalid(`path ${JSON.stringify(`/${path.join("/")}`)} does not exist`);
    }
    return { parent: node, key: path.at(-1) ?? "" };
  };
  const read = (path: string[]): unknown => {
    if (path.length === 0) return root;
    const { parent, key } = parentOf(path);
    const value = Array.isArray(parent) ? parent[Number(key)] : isObject(parent) ? parent[key] : undefined;
    if (value === undefined) throw invalid(`path ${JSON.stringify(`/${path.join("/")}`)} does not exist`);
    return value;
  };
  const remove = (path: string[]): unknown => {
    const value = read(path);
    const { parent, key } = parentOf(path);
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete (parent as Record<string, unknown>)[key];
    return value;
  };
  const add = (path: string[], value: unknown, replace: boolean): void => {
    if (path.length === 0) {
      root = value;
      return;
    }
    const { parent, key } = parentOf(path);
    if (Array.isArray(parent)) {
      const index = key === "-" && !replace ? parent.length : Number(key);
      if (!Number.isInteger(index) || index < 0 || index > parent.length - (replace ? 1 : 0)) {
        throw invalid(`index ${key} is out of range`);
      }
      parent.splice(index, replace ? 1 : 0, value);
    } else if (isObject(parent)) {
      if (replace && !Object.hasOwn(parent, key))
        throw invalid(`member ${JSON.stringify(key)} does not exist`);
      parent[key] = value;
    } else {
      throw invalid("the parent is neither an object nor an array");
    }
  };
  for (const operation of operations) {
    if (!isObject(operation)) throw invalid("each operation must be an object");
    const path = tokens(operation.path);
    switch (operation.op) {
      case "add":
        add(path, structuredClone(operation.value), false);
        break;
      case "replace":
        add(path, structuredClone(operation.value), true);
        break;
      case "remove":
        remove(path);
        break;
      case "move":
        add(path, remove(tokens(operation.from)), false);
        break;
      case "copy":
        add(path, structuredClone(read(tokens(operation.from))), false);
        break;
      case "test":
        if (!isDeepStrictEqual(read(path), operation.value))
          throw invalid(`test failed at ${String(operation.path)}`);
        break;
      default:
        throw invalid(`unsupported operation ${JSON.stringify(operation.op)}`);
    }
  }
  return root;
}
