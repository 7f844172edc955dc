// The webhook's decision, without I/O: the pod exactly as the API server sent it, its ServiceAccount and the
// webhook's configuration go in; a denial, or the mutated pod plus the JSON Patch that produces it, comes out.
//
// Every change is made as a JSON Patch operation applied to the received JSON, copy-on-write: only the objects
// and arrays on the path of an edit are copied, the received pod is never modified. So fields this code does
// not know survive untouched, the patch holds only `add`/`replace`, every operation is valid against the
// object as sent, and replaying the patch on the received pod gives exactly the returned pod.

import { hash } from "node:crypto";
import {
  AZURE_AUTHORITY_HOST,
  AZURE_CLIENT_ID,
  AZURE_FEDERATED_TOKEN_FILE,
  AZURE_KUBERNETES_CA_DATA,
  AZURE_KUBERNETES_CA_FILE,
  AZURE_KUBERNETES_SNI_NAME,
  AZURE_KUBERNETES_TOKEN_PROXY,
  AZURE_TENANT_ID,
  CA_CONFIG_MAP_KEY,
  CA_SUB_PATH,
  CLIENT_ID_ANNOTATION,
  customTokenEndpointAnnotation,
  DEFAULT_AUDIENCE,
  DEFAULT_PROXY_IMAGE,
  DEFAULT_PROXY_INIT_IMAGE,
  DEFAULT_PROXY_PORT,
  DEFAULT_SERVICE_ACCOUNT_NAME,
  DEFAULT_TOKEN_EXPIRATION_SECONDS,
  IDENTITY_HASH_LENGTH,
  INJECT_PROXY_SIDECAR_ANNOTATION,
  MAX_TOKEN_EXPIRATION_SECONDS,
  MIN_TOKEN_EXPIRATION_SECONDS,
  MOUNT_PATH_BASE,
  NATIVE_SIDECAR_MIN_KUBERNETES_VERSION,
  PROXY_CONTAINER_NAME,
  PROXY_INIT_CONTAINER_NAME,
  PROXY_PORT_ENV,
  PROXY_SIDECAR_PORT_ANNOTATION,
  RESERVED_VOLUME_NAME_PREFIX,
  SERVER_DEFAULT_PROJECTED_MODE,
  SKIP_CONTAINERS_ANNOTATION,
  TENANT_ID_ANNOTATION,
  TOKEN_EXPIRATION_ANNOTATION,
  TOKEN_SUB_PATH,
} from "./constants.ts";
import { type EmulationConfig, injectEmulation } from "./emulation.ts";

// ---- Types ----------------------------------------------------------------------------------------------

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export type JsonObject = { [member: string]: JsonValue };
export type JsonPatchOperation = { op: "add" | "replace"; path: string; value: JsonValue };

export interface CustomTokenEndpointConfig {
  /** Pods opt in with the annotation `azure.workload.identity/use-<annotationSuffix>: "true"`. */
  annotationSuffix: string;
  /** Token audience for pods that opt in, instead of the default audience. */
  audience: string;
  tokenProxy?: string;
  sniName?: string;
  /** Inline CA bundle, handed over as AZURE_KUBERNETES_CA_DATA. */
  caData?: string;
  /** ConfigMap (key `ca.crt`) projected into the token volume. */
  caConfigMapName?: string;
  /** ClusterTrustBundle signer projected into the token volume. */
  caClusterTrustBundleSignerName?: string;
  /** Parsed LabelSelector for the ClusterTrustBundle source. */
  caClusterTrustBundleLabelSelector?: JsonObject;
}

export interface MutationConfig {
  /** The webhook's AZURE_TENANT_ID, used unless the ServiceAccount has a tenant-id annotation. */
  tenantId: string;
  /** Injected as AZURE_AUTHORITY_HOST, trailing slash included (see authorityHostForCloud). */
  authorityHost: string;
  /** Token audience; empty means `api://AzureADTokenExchange`. */
  audience?: string;
  /** The webhook's own log level, passed on to the proxy sidecar. */
  logLevel?: string;
  /** The API server's gitVersion (e.g. `v1.32.1`); decides where the proxy sidecar goes. */
  kubernetesVersion?: string;
  proxyImage?: string;
  proxyInitImage?: string;
  /** Enabled only when both the annotation suffix and the audience are non-empty. */
  customTokenEndpoint?: CustomTokenEndpointConfig;
  /** wikit addition: pods reach wikit under Microsoft's host names (hostAliases + CA bundle). */
  emulation?: EmulationConfig;
}

export interface ServiceAccountLike {
  metadata?: { name?: string; annotations?: Record<string, string> };
}

export interface MutationInput {
  /** `request.object` of the AdmissionReview, as decoded from JSON. */
  pod: unknown;
  /** The pod's ServiceAccount (see serviceAccountName), or undefined when neither cache nor API has it. */
  serviceAccount: ServiceAccountLike | undefined;
  /** `request.namespace`: controller-created pods arrive without `metadata.namespace`, which is never read. */
  namespace: string;
  config: MutationConfig;
}

export type Denial = { allowed: false; code: number; message: string };

/** The mutated pod shares nothing with the received one. */
export type MutationOutcome = { allowed: true; pod: JsonObject; patch: JsonPatchOperation[] } | Denial;

/** The decision without the mutated pod: all that the admission handler answers with. */
export type PatchOutcome = { allowed: true; patch: JsonPatchOperation[] } | Denial;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

type EnvVar = { name: string; value: string };
type ContainerList = "initContainers" | "containers";
/** One step of a path into a document: a member name or an array index. */
export type PathSegment = string | number;

// ---- The mutation ---------------------------------------------------------------------------------------

/** Decides the admission of one pod and returns the patch and the mutated pod. */
export function mutatePod(input: MutationInput): MutationOutcome {
  const outcome = decide(input);
  if (!outcome.allowed) return outcome;
  // The recorder's document shares what it did not edit with the received pod: the caller gets its own.
  return { allowed: true, pod: cloneJson(outcome.editor.doc), patch: outcome.editor.patch };
}

/** Decides the admission of one pod and returns the patch, without building the mutated pod. */
export function podPatch(input: MutationInput): PatchOutcome {
  const outcome = decide(input);
  return outcome.allowed ? { allowed: true, patch: outcome.editor.patch } : outcome;
}

/** Follows the upstream handler's order: the first failing step denies. */
function decide(input: MutationInput): { allowed: true; editor: PatchRecorder } | Denial {
  const { serviceAccount, config } = input;
  const decodeError = podDecodeError(input.pod);
  if (decodeError !== undefined) return deny(decodeError);
  const pod = input.pod as JsonObject;
  if (serviceAccount === undefined) return deny(`serviceaccounts "${serviceAccountName(pod)}" not found`);

  const editor = new PatchRecorder(pod);
  if (!isObject(pod.spec)) editor.addMember(["spec"], {});

  if (annotation(pod, INJECT_PROXY_SIDECAR_ANNOTATION) !== undefined) {
    if (member(pod.spec, "hostNetwork") === true) {
      return deny("hostNetwork is set to true, cannot inject proxy sidecar");
    }
    const port = proxySidecarPort(pod);
    if (!port.ok) return deny(`failed to parse proxy sidecar port: ${port.error}`);
    injectProxyContainers(editor, port.value, config);
  }

  const expiration = tokenExpirationSeconds(pod, serviceAccount);
  if (!expiration.ok) return deny(expiration.error);

  const reserved = reservedNames(podIdentityString(pod));
  const customEndpoint = customTokenEndpointFor(pod, config);
  const env = injectedEnv(reserved.mountPath, serviceAccount, config, customEndpoint);
  const mount = reservedVolumeMount(reserved);
  const skipped = skippedContainers(pod);
  // Runs after proxy injection, so the proxy containers get their identity the same way.
  for (const list of ["initContainers", "containers"] as const) {
    injectIntoContainers(editor, list, skipped, env, mount);
  }
  const audience = customEndpoint?.audience ?? (config.audience || DEFAULT_AUDIENCE);
  const volume = reservedVolume(reserved.volumeName, expiration.value, audience, customEndpoint);
  editor.upsertByName(["spec", "volumes"], volume, isSameVolume);
  if (config.emulation !== undefined) injectEmulation(editor, config.emulation, skipped);
  return { allowed: true, editor };
}

/** Every denial the handler produces is a client error (400). */
function deny(message: string): Denial {
  return { allowed: false, code: 400, message };
}

function injectIntoContainers(
  editor: PatchRecorder,
  list: ContainerList,
  skipped: ReadonlySet<string>,
  env: readonly EnvVar[],
  mount: JsonObject,
): void {
  const containers = editor.read(["spec", list]);
  if (!Array.isArray(containers)) return;
  containers.forEach((container, index) => {
    if (skipped.has(text(member(container, "name")) ?? "")) return;
    const path = ["spec", list, index];
    // Existing entries win, even valueFrom ones; envFrom is deliberately not consulted.
    const present = new Set(arrayOf(member(container, "env")).map((entry) => member(entry, "name")));
    editor.append(
      [...path, "env"],
      env.filter((variable) => !present.has(variable.name)),
    );
    editor.upsertByName([...path, "volumeMounts"], mount, deepEqual);
  });
}

/** The variables every mutated container should have, in injection order, empty values left out. */
function injectedEnv(
  mountPath: string,
  serviceAccount: ServiceAccountLike,
  config: MutationConfig,
  customEndpoint: CustomTokenEndpointConfig | undefined,
): EnvVar[] {
  const candidates: [string, string | undefined][] = [
    [AZURE_CLIENT_ID, annotation(serviceAccount, CLIENT_ID_ANNOTATION)],
    // The annotation key wins even when its value is empty.
    [AZURE_TENANT_ID, annotation(serviceAccount, TENANT_ID_ANNOTATION) ?? config.tenantId],
    [AZURE_FEDERATED_TOKEN_FILE, `${mountPath}/${TOKEN_SUB_PATH}`],
    [AZURE_AUTHORITY_HOST, config.authorityHost],
  ];
  if (customEndpoint !== undefined) {
    candidates.push(
      [AZURE_KUBERNETES_TOKEN_PROXY, customEndpoint.tokenProxy],
      [AZURE_KUBERNETES_SNI_NAME, customEndpoint.sniName],
      // Set even when the CA travels inline and the file therefore does not exist.
      [AZURE_KUBERNETES_CA_FILE, `${mountPath}/${CA_SUB_PATH}`],
      [AZURE_KUBERNETES_CA_DATA, customEndpoint.caData],
    );
  }
  // An empty variable would shadow the same name coming from envFrom.
  const env: EnvVar[] = [];
  for (const [name, value] of candidates) if (value) env.push({ name, value });
  return env;
}

function skippedContainers(pod: unknown): Set<string> {
  const listed = annotation(pod, SKIP_CONTAINERS_ANNOTATION);
  return new Set(listed === undefined ? [] : listed.split(";").map((name) => name.trim()));
}

function customTokenEndpointFor(pod: unknown, config: MutationConfig): CustomTokenEndpointConfig | undefined {
  const custom = config.customTokenEndpoint;
  if (!custom?.annotationSuffix || !custom.audience) return undefined;
  const optIn = annotation(pod, customTokenEndpointAnnotation(custom.annotationSuffix));
  return optIn !== undefined && /^true$/i.test(optIn) ? custom : undefined;
}

// ---- Projected volume and mount -------------------------------------------------------------------------

function reservedVolumeMount(reserved: ReservedNames): JsonObject {
  return { name: reserved.volumeName, readOnly: true, mountPath: reserved.mountPath };
}

function reservedVolume(
  volumeName: string,
  expirationSeconds: number,
  audience: string,
  customEndpoint: CustomTokenEndpointConfig | undefined,
): JsonObject {
  const sources: JsonValue[] = [
    { serviceAccountToken: { path: TOKEN_SUB_PATH, expirationSeconds, audience } },
  ];
  const caSource = customEndpoint && caProjection(customEndpoint);
  if (caSource) sources.push(caSource);
  return { name: volumeName, projected: { sources } };
}

/** The custom endpoint's CA as a projected source; the configuration allows at most one kind. */
function caProjection(custom: CustomTokenEndpointConfig): JsonObject | undefined {
  if (custom.caConfigMapName) {
    const items = [{ key: CA_CONFIG_MAP_KEY, path: CA_SUB_PATH }];
    return { configMap: { name: custom.caConfigMapName, items, optional: false } };
  }
  if (custom.caClusterTrustBundleSignerName) {
    const selector = custom.caClusterTrustBundleLabelSelector;
    return {
      clusterTrustBundle: {
        signerName: custom.caClusterTrustBundleSignerName,
        ...(selector === undefined ? {} : { labelSelector: selector }),
        path: CA_SUB_PATH,
        optional: false,
      },
    };
  }
  return undefined; // inline CA data travels in AZURE_KUBERNETES_CA_DATA
}

/** Equal, or equal once the API server has defaulted `defaultMode` — which it does after the first pass. */
function isSameVolume(existing: JsonValue, wanted: JsonObject): boolean {
  if (deepEqual(existing, wanted)) return true;
  const { projected } = wanted;
  const defaulted = {
    ...wanted,
    projected: { ...(isObject(projected) ? projected : {}), defaultMode: SERVER_DEFAULT_PROJECTED_MODE },
  };
  return deepEqual(existing, defaulted);
}

// ---- Proxy sidecar --------------------------------------------------------------------------------------

const PROXY_LOG_LEVELS = ["all", "trace", "debug", "info"];

function injectProxyContainers(editor: PatchRecorder, port: number, config: MutationConfig): void {
  if (!hasContainerNamed(editor, "initContainers", PROXY_INIT_CONTAINER_NAME)) {
    editor.append(["spec", "initContainers"], [proxyInitContainer(port, config)]);
  }
  const native = supportsNativeSidecars(config.kubernetesVersion);
  const list = native ? "initContainers" : "containers";
  if (!hasContainerNamed(editor, list, PROXY_CONTAINER_NAME)) {
    editor.prepend(["spec", list], proxyContainer(port, config, native));
  }
}

function hasContainerNamed(editor: PatchRecorder, list: ContainerList, name: string): boolean {
  return arrayOf(editor.read(["spec", list])).some((container) => member(container, "name") === name);
}

function proxyInitContainer(port: number, config: MutationConfig): JsonObject {
  return {
    name: PROXY_INIT_CONTAINER_NAME,
    image: config.proxyInitImage || DEFAULT_PROXY_INIT_IMAGE,
    imagePullPolicy: "IfNotPresent",
    securityContext: {
      capabilities: { add: ["NET_ADMIN"], drop: ["ALL"] },
      privileged: true,
      runAsNonRoot: false,
      runAsUser: 0,
    },
    env: [{ name: PROXY_PORT_ENV, value: String(port) }],
  };
}

function proxyContainer(port: number, config: MutationConfig, native: boolean): JsonObject {
  const portFlag = `--proxy-port=${port}`;
  const logLevelFlag = `--log-level=${proxyLogLevel(config.logLevel)}`;
  return {
    name: PROXY_CONTAINER_NAME,
    image: config.proxyImage || DEFAULT_PROXY_IMAGE,
    imagePullPolicy: "IfNotPresent",
    args: [portFlag, logLevelFlag],
    ports: [{ containerPort: port }],
    lifecycle: { postStart: { exec: { command: ["/proxy", portFlag, "--probe", logLevelFlag] } } },
    // No runAsUser: the image's own UID 1501 is what proxy-init exempts from the redirect.
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
    },
    ...(native ? { restartPolicy: "Always" } : {}),
  };
}

/** The proxy logs at the webhook's own level; an empty or unrecognised level means warnings only. */
function proxyLogLevel(level = ""): string {
  const normalized = level.toLowerCase();
  return PROXY_LOG_LEVELS.includes(normalized) ? normalized : "warning";
}

/**
 * Whether an API server of this gitVersion runs the proxy as a native sidecar. Compared as semver, so a
 * pre-release of the minimum (`v1.32.0-rc.1`) does not qualify; an unreadable version does not either.
 */
export function supportsNativeSidecars(kubernetesVersion: string | undefined): boolean {
  const server = parseKubernetesVersion(kubernetesVersion ?? "");
  const minimum = parseKubernetesVersion(NATIVE_SIDECAR_MIN_KUBERNETES_VERSION);
  if (server === undefined || minimum === undefined) return false;
  const order = server.major - minimum.major || server.minor - minimum.minor || server.patch - minimum.patch;
  return order > 0 || (order === 0 && !server.preRelease);
}

function parseKubernetesVersion(version: string) {
  const match = /^v?(\d+)\.(\d+)(?:\.(\d+))?(-)?/.exec(version.trim());
  if (match === null) return undefined;
  return {
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: Number(match[3] ?? 0),
    preRelease: match[4] !== undefined,
  };
}

// ---- Pod facts ------------------------------------------------------------------------------------------

/** `metadata.name`, or for pods still waiting for a generated name, `<generateName> (prefix)`. */
export function podIdentityString(pod: unknown): string {
  const metadata = member(pod, "metadata");
  const name = text(member(metadata, "name"));
  if (name) return name;
  return `${text(member(metadata, "generateName")) ?? ""} (prefix)`;
}

/** First 30 hex characters of SHA-256: the volume name then fills a DNS label exactly. */
function identityHash(identity: string): string {
  return hash("sha256", identity, "hex").slice(0, IDENTITY_HASH_LENGTH);
}

interface ReservedNames {
  volumeName: string;
  /** Per-identity, so a second pass after the pod got its final name never reuses a mount path. */
  mountPath: string;
}

/** The reserved volume's name and mount path for this identity, from one hash. */
function reservedNames(identity: string): ReservedNames {
  const hash = identityHash(identity);
  return { volumeName: `${RESERVED_VOLUME_NAME_PREFIX}${hash}`, mountPath: `${MOUNT_PATH_BASE}/${hash}` };
}

export function reservedVolumeName(identity: string): string {
  return reservedNames(identity).volumeName;
}

export function tokenMountPath(identity: string): string {
  return reservedNames(identity).mountPath;
}

/** The value of AZURE_FEDERATED_TOKEN_FILE for a pod with this identity. */
export function federatedTokenFile(identity: string): string {
  return `${tokenMountPath(identity)}/${TOKEN_SUB_PATH}`;
}

/** `spec.serviceAccountName`, or `default`; the deprecated `spec.serviceAccount` is never read. */
export function serviceAccountName(pod: unknown): string {
  return text(member(member(pod, "spec"), "serviceAccountName")) || DEFAULT_SERVICE_ACCOUNT_NAME;
}

/** Token lifetime: the pod's annotation if non-empty, else the ServiceAccount's, else 3600; within [3600, 86400]. */
export function tokenExpirationSeconds(
  pod: unknown,
  serviceAccount: ServiceAccountLike | undefined,
): Parsed<number> {
  const configured =
    annotation(pod, TOKEN_EXPIRATION_ANNOTATION) || annotation(serviceAccount, TOKEN_EXPIRATION_ANNOTATION);
  if (!configured) return { ok: true, value: DEFAULT_TOKEN_EXPIRATION_SECONDS };
  const parsed = parseGoInt(configured, 64);
  if (!parsed.ok) return parsed;
  const seconds = parsed.value;
  if (seconds < MIN_TOKEN_EXPIRATION_SECONDS || seconds > MAX_TOKEN_EXPIRATION_SECONDS) {
    return {
      ok: false,
      error: `token expiration ${seconds} not valid. Expected value to be between ${MIN_TOKEN_EXPIRATION_SECONDS} and ${MAX_TOKEN_EXPIRATION_SECONDS}`,
    };
  }
  return { ok: true, value: Number(seconds) };
}

/** The proxy port annotation (default 8000) as a signed 32-bit integer; no range check, as upstream. */
export function proxySidecarPort(pod: unknown): Parsed<number> {
  const configured = annotation(pod, PROXY_SIDECAR_PORT_ANNOTATION);
  if (configured === undefined) return { ok: true, value: DEFAULT_PROXY_PORT };
  const parsed = parseGoInt(configured, 32);
  return parsed.ok ? { ok: true, value: Number(parsed.value) } : parsed;
}

function annotation(object: unknown, key: string): string | undefined {
  return text(member(member(member(object, "metadata"), "annotations"), key));
}

// ---- Go integer parsing (the error texts users see) ------------------------------------------------------

/**
 * Base-10 integer with Go's strconv.ParseInt grammar and error texts: an optional sign, then ASCII digits
 * only. Like Go, an overflow is reported as soon as it happens, even if an invalid character follows.
 */
function parseGoInt(input: string, bitSize: 32 | 64): Parsed<bigint> {
  const failure = (reason: string): Parsed<bigint> => ({
    ok: false,
    error: `strconv.ParseInt: parsing ${goQuote(input)}: ${reason}`,
  });
  const negative = input.startsWith("-");
  const digits = /^[+-]/.test(input) ? input.slice(1) : input;
  if (digits === "") return failure("invalid syntax");
  // The usual case: few enough digits that a double holds them exactly and no bit size can overflow.
  if (digits.length <= 9 && /^[0-9]+$/.test(digits)) {
    const magnitude = BigInt(Number(digits));
    return { ok: true, value: negative ? -magnitude : magnitude };
  }
  const unsignedMax = (1n << BigInt(bitSize)) - 1n;
  let magnitude = 0n;
  for (const char of digits) {
    if (char < "0" || char > "9") return failure("invalid syntax");
    magnitude = magnitude * 10n + BigInt(char);
    if (magnitude > unsignedMax) return failure("value out of range");
  }
  const signedLimit = 1n << BigInt(bitSize - 1);
  if (negative ? magnitude > signedLimit : magnitude >= signedLimit) return failure("value out of range");
  return { ok: true, value: negative ? -magnitude : magnitude };
}

const GO_NAMED_ESCAPES: Readonly<Record<string, string>> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
  '"': '\\"',
  "\\": "\\\\",
};

/** Go's strconv.Quote: printable runes (letters, marks, numbers, punctuation, symbols, space) stay as is. */
function goQuote(input: string): string {
  let quoted = "";
  for (const char of input) quoted += GO_NAMED_ESCAPES[char] ?? goEscapeRune(char);
  return `"${quoted}"`;
}

function goEscapeRune(char: string): string {
  if (/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(char)) return char;
  const code = char.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f) return `\\x${code.toString(16).padStart(2, "0")}`;
  // A lone surrogate reaches Go as U+FFFD, which is printable.
  if (code >= 0xd800 && code <= 0xdfff) return "\ufffd";
  return code < 0x10000
    ? `\\u${code.toString(16).padStart(4, "0")}`
    : `\\U${code.toString(16).padStart(8, "0")}`;
}

// ---- Decoding: the fields the mutation reads must have the types a Pod decoder expects ----------------------

type Shape =
  | "string"
  | "boolean"
  | { readonly fields: Readonly<Record<string, Shape>> }
  | { readonly items: Shape }
  | { readonly values: Shape };

const NAMED_ITEM: Shape = { fields: { name: "string" } };
const CONTAINER: Shape = {
  fields: { name: "string", env: { items: NAMED_ITEM }, volumeMounts: { items: NAMED_ITEM } },
};
const POD: Shape = {
  fields: {
    metadata: { fields: { name: "string", generateName: "string", annotations: { values: "string" } } },
    spec: {
      fields: {
        serviceAccountName: "string",
        hostNetwork: "boolean",
        hostAliases: { items: { fields: { ip: "string", hostnames: { items: "string" } } } },
        volumes: { items: NAMED_ITEM },
        initContainers: { items: CONTAINER },
        containers: { items: CONTAINER },
      },
    },
  },
};

/** Why `pod` cannot be decoded as a Pod (the handler's first step), or undefined when it can. */
export function podDecodeError(pod: unknown): string | undefined {
  if (!isObject(pod)) {
    return `couldn't get version/kind; json parse error: expected a JSON object, got ${jsonType(pod)}`;
  }
  const misfit = shapeMisfit(pod, POD);
  // Paths are built from the root's members down, so they start with a dot.
  return misfit === undefined
    ? undefined
    : `cannot decode the pod: ${misfit.where.slice(1)} ${misfit.problem}`;
}

/**
 * The first place where `value` does not fit `shape`, its path relative to `value`; a null or missing field
 * counts as unset, as in Go. The path is built only on the way back from a misfit: a pod that fits, the
 * usual case, costs no allocation.
 */
function shapeMisfit(value: unknown, shape: Shape): { where: string; problem: string } | undefined {
  if (typeof shape === "string") {
    return typeof value === shape
      ? undefined
      : { where: "", problem: `must be a ${shape}, got ${jsonType(value)}` };
  }
  if ("items" in shape) {
    if (!Array.isArray(value)) return { where: "", problem: `must be an array, got ${jsonType(value)}` };
    for (let index = 0; index < value.length; index += 1) {
      const misfit = shapeMisfit(value[index], shape.items);
      if (misfit !== undefined) return { where: `[${index}]${misfit.where}`, problem: misfit.problem };
    }
    return undefined;
  }
  if (!isObject(value)) return { where: "", problem: `must be an object, got ${jsonType(value)}` };
  if ("values" in shape) {
    for (const key of Object.keys(value)) {
      const misfit = shapeMisfit(value[key], shape.values);
      if (misfit !== undefined) {
        return { where: `[${JSON.stringify(key)}]${misfit.where}`, problem: misfit.problem };
      }
    }
    return undefined;
  }
  for (const field of Object.keys(shape.fields)) {
    const child = member(value, field);
    if (child == null) continue;
    const misfit = shapeMisfit(child, shape.fields[field] as Shape);
    if (misfit !== undefined) return { where: `.${field}${misfit.where}`, problem: misfit.problem };
  }
  return undefined;
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

// ---- JSON Patch (RFC 6902, add and replace only) ----------------------------------------------------------

/** The edits a mutation step makes: each is applied to the pod at once and recorded in the patch. */
export interface PodEditor {
  read(path: readonly PathSegment[]): JsonValue | undefined;
  /** Appends to the array at `path`, creating the whole array with one `add` when it is missing. */
  append(path: readonly PathSegment[], items: readonly JsonValue[]): void;
  /** Replaces the first element with the same name in place unless it is already equivalent, else appends. */
  upsertByName(
    path: readonly PathSegment[],
    item: JsonObject,
    isEquivalent: (existing: JsonValue, wanted: JsonObject) => boolean,
  ): void;
}

/**
 * Applies edits to the received document and records each one, so that the recorded patch replays them
 * exactly. Copy-on-write: the objects and arrays on an edit's path are copied the first time they are written,
 * everything else stays shared with the received document, which is never modified. Recorded values are
 * shared with the document too; a later edit inside one copies it first, so the patch keeps what it said.
 */
class PatchRecorder implements PodEditor {
  #doc: JsonObject;
  readonly patch: JsonPatchOperation[] = [];
  /** The copies this recorder made: the only nodes it may change in place. */
  readonly #copies = new Set<JsonObject | JsonValue[]>();

  constructor(received: JsonObject) {
    this.#doc = received;
  }

  /** The received document with every edit applied. */
  get doc(): JsonObject {
    return this.#doc;
  }

  read(path: readonly PathSegment[]): JsonValue | undefined {
    let node: JsonValue | undefined = this.#doc;
    for (const segment of path) {
      node =
        Array.isArray(node) && typeof segment === "number"
          ? node[segment]
          : (member(node, String(segment)) as JsonValue | undefined);
    }
    return node;
  }

  /** Adds the member at `path` to the object holding it. */
  addMember(path: readonly PathSegment[], value: JsonValue): void {
    const parent = this.#writable(path.slice(0, -1));
    if (Array.isArray(parent))
      throw new Error(`cannot add a member at "${jsonPointer(path)}": not an object`);
    setMember(parent, String(path[path.length - 1]), value);
    this.patch.push({ op: "add", path: jsonPointer(path), value });
  }

  /** Appends to the array at `path`, creating the whole array with one `add` when it is missing. */
  append(path: readonly PathSegment[], items: readonly JsonValue[]): void {
    if (items.length === 0) return;
    if (!Array.isArray(this.read(path))) {
      this.addMember(path, [...items]);
      return;
    }
    const list = this.#writableArray(path);
    const pointer = `${jsonPointer(path)}/-`;
    for (const item of items) {
      list.push(item);
      this.patch.push({ op: "add", path: pointer, value: item });
    }
  }

  /** Inserts at the front of the array at `path`, creating the array when it is missing. */
  prepend(path: readonly PathSegment[], item: JsonValue): void {
    if (!Array.isArray(this.read(path))) {
      this.addMember(path, [item]);
      return;
    }
    this.#writableArray(path).unshift(item);
    this.patch.push({ op: "add", path: `${jsonPointer(path)}/0`, value: item });
  }

  /** Replaces the first element with the same name in place unless it is already equivalent, else appends. */
  upsertByName(
    path: readonly PathSegment[],
    item: JsonObject,
    isEquivalent: (existing: JsonValue, wanted: JsonObject) => boolean,
  ): void {
    const list = arrayOf(this.read(path));
    const index = list.findIndex((existing) => member(existing, "name") === item.name);
    if (index === -1) {
      this.append(path, [item]);
    } else if (!isEquivalent(list[index] as JsonValue, item)) {
      this.#writableArray(path)[index] = item;
      this.patch.push({ op: "replace", path: `${jsonPointer(path)}/${index}`, value: item });
    }
  }

  #writableArray(path: readonly PathSegment[]): JsonValue[] {
    const node = this.#writable(path);
    if (!Array.isArray(node)) throw new Error(`cannot edit "${jsonPointer(path)}": not an array`);
    return node;
  }

  /** The node at `path`, which may be changed in place: it and every node above it are copies of this recorder's. */
  #writable(path: readonly PathSegment[]): JsonObject | JsonValue[] {
    this.#doc = this.#own(this.#doc);
    let node: JsonObject | JsonValue[] = this.#doc;
    for (const segment of path) {
      const child: unknown = Array.isArray(node) ? node[segment as number] : member(node, String(segment));
      if (typeof child !== "object" || child === null) {
        throw new Error(`cannot edit "${jsonPointer(path)}": "${segment}" is not an object or array`);
      }
      const copy = this.#own(child as JsonObject | JsonValue[]);
      if (copy !== child) {
        if (Array.isArray(node)) node[segment as number] = copy;
        else setMember(node, String(segment), copy);
      }
      node = copy;
    }
    return node;
  }

  #own<T extends JsonObject | JsonValue[]>(node: T): T {
    if (this.#copies.has(node)) return node;
    // Spreading defines members, so that one called "__proto__" stays plain data.
    const copy = (Array.isArray(node) ? node.slice() : { ...node }) as T;
    this.#copies.add(copy);
    return copy;
  }
}

/** Applies `add`/`replace` operations to a copy of `doc`; throws on any other operation or an invalid path. */
export function applyJsonPatch(doc: JsonValue, operations: readonly JsonPatchOperation[]): JsonValue {
  let result = cloneJson(doc);
  for (const operation of operations) result = applyOperation(result, operation);
  return result;
}

/** Applies one operation in place and returns the (possibly new) root. */
function applyOperation(root: JsonValue, operation: JsonPatchOperation): JsonValue {
  const { op, path } = operation;
  const fail = (reason: string) => new Error(`cannot apply JSON Patch "${op}" at "${path}": ${reason}`);
  if (op !== "add" && op !== "replace") throw fail("only add and replace are supported");
  const tokens = parsePointer(path);
  const value = cloneJson(operation.value);
  const key = tokens.pop();
  if (key === undefined) return value;
  let parent: JsonValue = root;
  for (const token of tokens) {
    const next = childAt(parent, token);
    if (next === undefined) throw fail(`"${token}" does not exist`);
    parent = next;
  }
  if (Array.isArray(parent)) {
    const index = op === "add" && key === "-" ? parent.length : arrayIndex(key);
    const last = op === "add" ? parent.length : parent.length - 1;
    if (index === undefined || index > last) {
      throw fail(`"${key}" is not a valid index into an array of ${parent.length}`);
    }
    if (op === "add") parent.splice(index, 0, value);
    else parent[index] = value;
    return root;
  }
  if (!isObject(parent)) throw fail("the parent is neither an object nor an array");
  if (op === "replace" && !Object.hasOwn(parent, key)) throw fail(`member "${key}" does not exist`);
  setMember(parent, key, value);
  return root;
}

/** Sets an object member; one called "__proto__" stays plain data instead of replacing the prototype. */
function setMember(parent: JsonObject, key: string, value: JsonValue): void {
  if (key === "__proto__") {
    Object.defineProperty(parent, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    parent[key] = value;
  }
}

function childAt(parent: JsonValue, token: string): JsonValue | undefined {
  if (Array.isArray(parent)) {
    const index = arrayIndex(token);
    return index === undefined ? undefined : parent[index];
  }
  return member(parent, token) as JsonValue | undefined;
}

function arrayIndex(token: string): number | undefined {
  return /^(0|[1-9][0-9]*)$/.test(token) ? Number(token) : undefined;
}

function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/") || /~([^01]|$)/.test(pointer)) {
    throw new Error(`invalid JSON pointer "${pointer}"`);
  }
  return pointer
    .slice(1)
    .split("/")
    .map((token) => token.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/** RFC 6901: `~` becomes `~0` and `/` becomes `~1` inside each reference token. */
export function jsonPointer(path: readonly PathSegment[]): string {
  let pointer = "";
  for (const segment of path) {
    const token = String(segment);
    const escaped =
      token.includes("~") || token.includes("/") ? token.replaceAll("~", "~0").replaceAll("/", "~1") : token;
    pointer += `/${escaped}`;
  }
  return pointer;
}

// ---- Plain JSON access ----------------------------------------------------------------------------------

/**
 * A deep copy of decoded JSON. Several times faster than structuredClone for this job (it dominated the
 * admission latency); a member named `__proto__` is copied as plain data, never as a prototype.
 */
function cloneJson<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = cloneJson((value as Record<string, unknown>)[key]);
    if (key === "__proto__") {
      Object.defineProperty(copy, key, { value: item, writable: true, enumerable: true, configurable: true });
    } else {
      copy[key] = item;
    }
  }
  return copy as T;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An own member of an object, or undefined for anything else (never a prototype property). */
function member(value: unknown, key: string): unknown {
  return isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function arrayOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, index) => deepEqual(item, b[index]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length &&
    keys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key], b[key]))
  );
}
