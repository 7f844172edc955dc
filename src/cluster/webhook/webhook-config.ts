// The webhook server's configuration from its flags and environment, without I/O (webhook.md §14.1–§14.3):
// the same flags, variables, defaults and start-up error texts as azure-workload-identity, plus wikit's
// `--port`, `--authority-host` and emulation settings. The first problem found is reported, as upstream stops
// at the first one.

import { isIP } from "node:net";
import type { SecureVersion } from "node:tls";
import { isPlainObject, type JsonObject } from "../../json/json-value.ts";
import {
  AUTHORITY_HOST_ENV,
  AZURE_ENVIRONMENT,
  AZURE_ENVIRONMENT_FILEPATH,
  AZURE_KUBERNETES_CA_CONFIGMAP_NAME,
  AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR,
  AZURE_KUBERNETES_CA_CTB_SIGNER_NAME,
  AZURE_KUBERNETES_CA_DATA,
  AZURE_KUBERNETES_SNI_NAME,
  AZURE_KUBERNETES_TOKEN_PROXY,
  AZURE_STACK_CLOUD,
  AZURE_TENANT_ID,
  authorityHostForCloud,
  customTokenEndpointAnnotation,
  DEFAULT_AUDIENCE,
  DEFAULT_CERT_DIR,
  DEFAULT_HEALTH_ADDRESS,
  DEFAULT_METRICS_ADDRESS,
  DEFAULT_METRICS_BACKEND,
  DEFAULT_TLS_MIN_VERSION,
  DEFAULT_WEBHOOK_NAMESPACE,
  EMULATION_ADDRESS_ENV,
  EMULATION_CA_CONFIGMAP_ENV,
  EMULATION_DEFAULT_HOST_NAMES,
  EMULATION_HOST_NAMES_ENV,
  MUTATING_WEBHOOK_CONFIGURATION_NAME,
  POD_NAMESPACE_ENV,
  PROXY_IMAGE_ENV,
  PROXY_INIT_IMAGE_ENV,
  unknownCloudMessage,
  WEBHOOK_CERT_SECRET_NAME,
  WEBHOOK_SERVER_PORT,
  WEBHOOK_SERVICE_NAME,
} from "./constants.ts";
import type { CustomTokenEndpointConfig } from "./custom-token-endpoint.ts";
import type { EmulationConfig } from "./emulation.ts";
import type { MutationConfig } from "./mutation.ts";
import type { Parsed } from "./parsed.ts";

/** Flag values as given on the command line; undefined when the flag was not given. */
export interface WebhookFlags {
  audience?: string;
  webhookCertDir?: string;
  disableCertRotation?: boolean;
  tlsMinVersion?: string;
  healthAddr?: string;
  metricsAddr?: string;
  metricsBackend?: string;
  logLevel?: string;
  /** wikit addition: the admission server's port (upstream fixes it at 9443). */
  port?: string;
  /** wikit addition: the address the admission server listens on (upstream: every interface). */
  bindAddress?: string;
  /** wikit addition: whole seconds to keep answering after SIGTERM, not ready, before closing. */
  shutdownDelaySeconds?: string;
  customTokenEndpointAnnotationSuffix?: string;
  customTokenEndpointAudience?: string;
  /** wikit additions: the objects the certificate rotator keeps current (default: upstream's names). */
  certSecretName?: string;
  serviceName?: string;
  webhookConfigurationName?: string;
  /** `wikit webhook mutate` only: wins over AZURE_TENANT_ID. */
  tenantId?: string;
  emulationAddress?: string;
  /** Comma-separated. */
  emulationHostNames?: string;
  emulationCaConfigmap?: string;
  /** wikit addition: injected as AZURE_AUTHORITY_HOST instead of the cloud's (e.g. a `wikit serve`). */
  authorityHost?: string;
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** Where a listener binds; an empty host means every interface. */
export interface ListenAddress {
  host: string;
  port: number;
}

export const WEBHOOK_LOG_LEVELS = ["", "info", "debug", "trace", "all"] as const;
export type WebhookLogLevel = (typeof WEBHOOK_LOG_LEVELS)[number];

export interface WebhookConfig {
  /** Everything the mutation needs except the API server version, which is discovered at start-up. */
  mutation: MutationConfig;
  certDir: string;
  disableCertRotation: boolean;
  tlsMinVersion: SecureVersion;
  /** Undefined when disabled with `0`. */
  healthAddress: ListenAddress | undefined;
  metricsAddress: ListenAddress | undefined;
  metricsBackend: "prometheus";
  logLevel: WebhookLogLevel;
  /** The level the server's own JSON logs are written at. */
  loggerLevel: "info" | "debug" | "trace";
  port: number;
  /** The address the admission server listens on; empty for every interface. */
  bindAddress: string;
  /**
   * After SIGTERM, how long the webhook keeps answering admissions while `/readyz` fails, before it closes:
   * the time the cluster needs to stop sending it requests. 0 closes at once, as upstream does.
   */
  shutdownDelayMs: number;
  /** Namespace of the certificate Secret and of the webhook's Service. */
  namespace: string;
  /** Secret holding the CA and the serving certificate, in `namespace`. */
  certSecretName: string;
  /** The webhook's Service; the serving certificate names `<service>.<namespace>.svc`. */
  serviceName: string;
  /** The MutatingWebhookConfiguration whose caBundle the rotator keeps current. */
  webhookConfigurationName: string;
}

export interface WebhookConfigOptions {
  /** Reads AZURE_ENVIRONMENT_FILEPATH for AzureStackCloud; without it that cloud cannot be used. */
  readFile?: (path: string) => string;
}

/** Ten minutes: anything longer is a typo rather than a choice. */
const MAX_SHUTDOWN_DELAY_SECONDS = 600;

const TLS_VERSIONS: Readonly<Record<string, SecureVersion>> = {
  "1.0": "TLSv1",
  "1.1": "TLSv1.1",
  "1.2": "TLSv1.2",
  "1.3": "TLSv1.3",
};

const LOGGER_LEVELS: Readonly<Record<WebhookLogLevel, WebhookConfig["loggerLevel"]>> = {
  "": "info",
  info: "info",
  debug: "debug",
  trace: "trace",
  all: "trace",
};

/** Builds the configuration, or the start-up error text of the first invalid setting. */
export function buildWebhookConfig(
  flags: WebhookFlags,
  env: Environment,
  options: WebhookConfigOptions = {},
): Parsed<WebhookConfig> {
  try {
    return { ok: true, value: build(flags, env, options) };
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, error: error.message };
    throw error;
  }
}

class ConfigError extends Error {}

function build(flags: WebhookFlags, env: Environment, options: WebhookConfigOptions): WebhookConfig {
  const logLevel = flags.logLevel ?? "";
  if (!(WEBHOOK_LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`invalid --log-level set: ${logLevel}; use one of "", info, debug, trace or all`);
  }
  const tlsMinVersion = TLS_VERSIONS[flags.tlsMinVersion ?? DEFAULT_TLS_MIN_VERSION];
  if (tlsMinVersion === undefined) {
    throw new ConfigError("invalid TLS version. Must be one of: 1.0, 1.1, 1.2, 1.3");
  }
  const metricsBackend = flags.metricsBackend ?? DEFAULT_METRICS_BACKEND;
  if (metricsBackend.toLowerCase() !== "prometheus") {
    throw new ConfigError(`unsupported metrics backend: ${metricsBackend}`);
  }
  const healthAddress = listenAddress("--health-addr", flags.healthAddr ?? DEFAULT_HEALTH_ADDRESS);
  const metricsAddress = listenAddress("--metrics-addr", flags.metricsAddr ?? DEFAULT_METRICS_ADDRESS);
  const port = portNumber("--port", flags.port ?? String(WEBHOOK_SERVER_PORT));
  const bindAddress = flags.bindAddress ?? "";
  if (bindAddress !== "" && isIP(bindAddress) === 0) {
    throw new ConfigError(
      `invalid --bind-address "${bindAddress}": must be an IP address, e.g. 127.0.0.1 or 0.0.0.0`,
    );
  }
  const shutdownDelayMs = shutdownDelay(flags.shutdownDelaySeconds ?? "0");

  const tenantId = flags.tenantId ?? envValue(env, AZURE_TENANT_ID);
  if (tenantId === undefined) throw new ConfigError(`required key ${AZURE_TENANT_ID} missing value`);
  const authorityHost =
    customAuthorityHost(flags, env) ?? authorityHostFor(envValue(env, AZURE_ENVIRONMENT) ?? "", env, options);

  const mutation: MutationConfig = { tenantId, authorityHost, logLevel };
  if (flags.audience) mutation.audience = flags.audience;
  const proxyImage = envValue(env, PROXY_IMAGE_ENV);
  if (proxyImage) mutation.proxyImage = proxyImage;
  const proxyInitImage = envValue(env, PROXY_INIT_IMAGE_ENV);
  if (proxyInitImage) mutation.proxyInitImage = proxyInitImage;
  const customTokenEndpoint = customTokenEndpointConfig(flags, env);
  if (customTokenEndpoint) mutation.customTokenEndpoint = customTokenEndpoint;
  const emulation = emulationConfig(flags, env);
  if (emulation) mutation.emulation = emulation;

  return {
    mutation,
    certDir: flags.webhookCertDir || DEFAULT_CERT_DIR,
    disableCertRotation: flags.disableCertRotation ?? false,
    tlsMinVersion,
    healthAddress,
    metricsAddress,
    metricsBackend: "prometheus",
    logLevel: logLevel as WebhookLogLevel,
    loggerLevel: LOGGER_LEVELS[logLevel as WebhookLogLevel],
    port,
    bindAddress,
    shutdownDelayMs,
    namespace: env[POD_NAMESPACE_ENV] || DEFAULT_WEBHOOK_NAMESPACE,
    certSecretName: objectName("--cert-secret-name", flags.certSecretName, WEBHOOK_CERT_SECRET_NAME),
    serviceName: objectName("--service-name", flags.serviceName, WEBHOOK_SERVICE_NAME),
    webhookConfigurationName: objectName(
      "--webhook-configuration-name",
      flags.webhookConfigurationName,
      MUTATING_WEBHOOK_CONFIGURATION_NAME,
    ),
  };
}

function objectName(flag: string, value: string | undefined, fallback: string): string {
  if (!value) return fallback;
  if (value.length > 253 || !DNS_SUBDOMAIN.test(value)) {
    throw new ConfigError(
      `invalid ${flag} "${value}": must be a lowercase DNS subdomain, as object names are`,
    );
  }
  return value;
}

/** `CONFIG_<NAME>` wins over `<NAME>` when present, even empty (upstream's env-config prefix). */
export function envValue(env: Environment, name: string): string | undefined {
  return env[`CONFIG_${name}`] ?? env[name];
}

// ---- Listeners ------------------------------------------------------------------------------------------

/** `[host]:port` as Go's listeners take it (`:9440`, `127.0.0.1:0`, `[::1]:8095`); `0` disables. */
export function listenAddress(flag: string, value: string): ListenAddress | undefined {
  if (value === "0") return undefined;
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):([0-9]+)$/.exec(value);
  if (match === null) {
    throw new ConfigError(
      `invalid ${flag} "${value}": expected [host]:port, for example :9440, or 0 to disable`,
    );
  }
  return { host: match[1] ?? match[2] ?? "", port: portNumber(flag, match[3] ?? "") };
}

function portNumber(flag: string, value: string): number {
  const port = /^[0-9]{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new ConfigError(`invalid ${flag} port "${value}": must be an integer from 0 to 65535`);
  }
  return port;
}

function shutdownDelay(value: string): number {
  const seconds = /^[0-9]{1,4}$/.test(value) ? Number(value) : Number.NaN;
  if (!(seconds <= MAX_SHUTDOWN_DELAY_SECONDS)) {
    throw new ConfigError(
      `invalid --shutdown-delay-seconds "${value}": must be a whole number of seconds from 0 to ${MAX_SHUTDOWN_DELAY_SECONDS}`,
    );
  }
  return seconds * 1000;
}

// ---- Cloud ----------------------------------------------------------------------------------------------

function authorityHostFor(cloud: string, env: Environment, options: WebhookConfigOptions): string {
  const known = authorityHostForCloud(cloud);
  if (known !== undefined) return known;
  if (cloud.toUpperCase() !== AZURE_STACK_CLOUD.toUpperCase())
    throw new ConfigError(unknownCloudMessage(cloud));
  const path = envValue(env, AZURE_ENVIRONMENT_FILEPATH);
  const prefix = "failed to get AAD endpoint";
  if (!path) {
    throw new ConfigError(
      `${prefix}: ${AZURE_STACK_CLOUD} needs ${AZURE_ENVIRONMENT_FILEPATH}, the path of its JSON definition`,
    );
  }
  if (options.readFile === undefined) throw new ConfigError(`${prefix}: cannot read ${path} here`);
  let definition: unknown;
  try {
    definition = JSON.parse(options.readFile(path));
  } catch (error) {
    throw new ConfigError(`${prefix}: cannot read the cloud definition ${path}: ${(error as Error).message}`);
  }
  const endpoint = isPlainObject(definition) ? definition.activeDirectoryEndpoint : undefined;
  if (typeof endpoint !== "string" || !/^https:\/\/[^/]+/.test(endpoint)) {
    throw new ConfigError(`${prefix}: ${path} has no https activeDirectoryEndpoint`);
  }
  return endpoint.endsWith("/") ? endpoint : `${endpoint}/`;
}

/**
 * The authority host given instead of the cloud's, as the SDKs take it: `https://<host>[:port]/`. The cloud is
 * then not consulted, so a deployment that names its own authority needs no cloud definition file.
 */
function customAuthorityHost(flags: WebhookFlags, env: Environment): string | undefined {
  const given = (flags.authorityHost ?? envValue(env, AUTHORITY_HOST_ENV) ?? "").trim();
  if (!given) return undefined;
  const refuse = (why: string) =>
    new ConfigError(
      `invalid --authority-host "${given}": ${why}; give the token service's https URL, e.g. https://wikit.example.test/`,
    );
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw refuse("not a URL");
  }
  if (url.protocol !== "https:") throw refuse("the SDKs reach the authority over https only");
  if (url.username || url.password) throw refuse("credentials do not belong in the authority host");
  // The SDKs append /<tenant>/oauth2/v2.0/token to the host, so a path, query or fragment would be lost or mangled.
  if (url.pathname !== "/" || url.search || url.hash) throw refuse("only a scheme, a host and a port");
  return `${url.origin}/`;
}

// ---- Custom token endpoint (§14.3, §15) -------------------------------------------------------------------

function customTokenEndpointConfig(
  flags: WebhookFlags,
  env: Environment,
): CustomTokenEndpointConfig | undefined {
  const annotationSuffix = flags.customTokenEndpointAnnotationSuffix ?? "";
  const audience = flags.customTokenEndpointAudience ?? "";
  const caData = envValue(env, AZURE_KUBERNETES_CA_DATA) ?? "";
  const caConfigMapName = envValue(env, AZURE_KUBERNETES_CA_CONFIGMAP_NAME) ?? "";
  const signerName = envValue(env, AZURE_KUBERNETES_CA_CTB_SIGNER_NAME) ?? "";
  const selectorJson = envValue(env, AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR) ?? "";

  if ([caData, caConfigMapName, signerName].filter(Boolean).length > 1) {
    throw new ConfigError(
      `only one of ${AZURE_KUBERNETES_CA_DATA}, ${AZURE_KUBERNETES_CA_CONFIGMAP_NAME} or ${AZURE_KUBERNETES_CA_CTB_SIGNER_NAME} can be set`,
    );
  }
  if (selectorJson && !signerName) {
    throw new ConfigError(
      `${AZURE_KUBERNETES_CA_CTB_SIGNER_NAME} needs to be set when ${AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR} is set`,
    );
  }
  const labelSelector = selectorJson ? decodeLabelSelector(selectorJson) : undefined;

  if (audience && !annotationSuffix) {
    throw new ConfigError("custom token endpoint annotation suffix cannot be empty when audience is set");
  }
  if (annotationSuffix && !audience) {
    throw new ConfigError("custom token endpoint audience cannot be empty when annotation suffix is set");
  }
  if (!annotationSuffix) return undefined;
  if (audience.toLowerCase() === DEFAULT_AUDIENCE.toLowerCase()) {
    throw new ConfigError(
      `custom token endpoint audience cannot be equal to default audience "${DEFAULT_AUDIENCE}"`,
    );
  }
  const key = customTokenEndpointAnnotation(annotationSuffix);
  const reasons = qualifiedNameErrors(key.toLowerCase());
  if (reasons.length > 0) {
    throw new ConfigError(
      `custom token endpoint annotation key "${key}" is not valid: ${reasons.join("; ")}`,
    );
  }

  const config: CustomTokenEndpointConfig = { annotationSuffix, audience };
  const tokenProxy = envValue(env, AZURE_KUBERNETES_TOKEN_PROXY);
  if (tokenProxy) config.tokenProxy = tokenProxy;
  const sniName = envValue(env, AZURE_KUBERNETES_SNI_NAME);
  if (sniName) config.sniName = sniName;
  if (caData) config.caData = caData;
  if (caConfigMapName) config.caConfigMapName = caConfigMapName;
  if (signerName) config.caClusterTrustBundleSignerName = signerName;
  if (labelSelector) config.caClusterTrustBundleLabelSelector = labelSelector;
  return config;
}

const SELECTOR_OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"];

/** A metav1.LabelSelector in JSON: `matchLabels` and `matchExpressions`, checked as the API server would. */
function decodeLabelSelector(text: string): JsonObject {
  const fail = (reason: string) => new ConfigError(`failed to decode LabelSelector: ${reason}`);
  let selector: unknown;
  try {
    selector = JSON.parse(text);
  } catch (error) {
    throw fail((error as Error).message);
  }
  if (!isPlainObject(selector)) throw fail("expected a JSON object with matchLabels and/or matchExpressions");
  for (const field of Object.keys(selector)) {
    if (field !== "matchLabels" && field !== "matchExpressions") throw fail(`unknown field "${field}"`);
  }
  const { matchLabels, matchExpressions } = selector;
  if (matchLabels != null) {
    if (
      !isPlainObject(matchLabels) ||
      Object.values(matchLabels).some((value) => typeof value !== "string")
    ) {
      throw fail("matchLabels must map label keys to string values");
    }
  }
  if (matchExpressions != null) {
    if (!Array.isArray(matchExpressions)) throw fail("matchExpressions must be an array");
    matchExpressions.forEach((expression: unknown, index) => {
      const where = `matchExpressions[${index}]`;
      if (!isPlainObject(expression) || typeof expression.key !== "string" || expression.key === "") {
        throw fail(`${where}.key must be a non-empty string`);
      }
      const { operator, values } = expression;
      if (typeof operator !== "string" || !SELECTOR_OPERATORS.includes(operator)) {
        throw fail(`${where}.operator must be one of ${SELECTOR_OPERATORS.join(", ")}`);
      }
      if (values != null && (!Array.isArray(values) || values.some((value) => typeof value !== "string"))) {
        throw fail(`${where}.values must be an array of strings`);
      }
      const count = Array.isArray(values) ? values.length : 0;
      if ((operator === "In" || operator === "NotIn") && count === 0) {
        throw fail(`${where}: for 'In' and 'NotIn' operators, values set can't be empty`);
      }
      if ((operator === "Exists" || operator === "DoesNotExist") && count > 0) {
        throw fail(`${where}: for 'Exists' and 'DoesNotExist' operators, values set must be empty`);
      }
    });
  }
  return selector as JsonObject;
}

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `key` is not a Kubernetes qualified name (`[prefix/]name`); empty when it is one. */
export function qualifiedNameErrors(key: string): string[] {
  const parts = key.split("/");
  if (parts.length > 2) {
    return ["a qualified name must be a name with an optional DNS subdomain prefix and one '/'"];
  }
  const name = parts.at(-1) ?? "";
  const prefix = parts.length === 2 ? (parts[0] ?? "") : undefined;
  const errors: string[] = [];
  if (prefix !== undefined) {
    if (prefix === "") errors.push("prefix part must be non-empty");
    else if (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) {
      errors.push("prefix part must be a lowercase DNS subdomain of at most 253 characters");
    }
  }
  if (name === "") errors.push("name part must be non-empty");
  else {
    if (name.length > 63) errors.push("name part must be no more than 63 characters");
    if (!QUALIFIED_NAME.test(name)) {
      errors.push(
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
      );
    }
  }
  return errors;
}

// ---- Emulation (wikit) ----------------------------------------------------------------------------------

function emulationConfig(flags: WebhookFlags, env: Environment): EmulationConfig | undefined {
  const address = (flags.emulationAddress ?? envValue(env, EMULATION_ADDRESS_ENV) ?? "").trim();
  const hostNamesText = flags.emulationHostNames ?? envValue(env, EMULATION_HOST_NAMES_ENV) ?? "";
  const caConfigMap = (flags.emulationCaConfigmap ?? envValue(env, EMULATION_CA_CONFIGMAP_ENV) ?? "").trim();
  if (!address) {
    if (hostNamesText.trim() || caConfigMap) {
      throw new ConfigError(
        "--emulation-host-names and --emulation-ca-configmap need --emulation-address, the IP address of wikit's service",
      );
    }
    return undefined;
  }
  if (isIP(address) === 0) {
    throw new ConfigError(
      `invalid --emulation-address "${address}": must be an IP address, since hostAliases map names to addresses`,
    );
  }
  const listed = hostNamesText
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  const hostNames = listed.length > 0 ? [...new Set(listed)] : [...EMULATION_DEFAULT_HOST_NAMES];
  for (const name of hostNames) {
    if (name.includes("*")) {
      throw new ConfigError(
        `invalid --emulation-host-names entry "${name}": /etc/hosts has no wildcards; list each vault host name`,
      );
    }
    if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
      throw new ConfigError(`invalid --emulation-host-names entry "${name}": must be a DNS name`);
    }
  }
  if (!caConfigMap) {
    throw new ConfigError(
      "--emulation-ca-configmap is required with --emulation-address: pods must trust wikit's CA to reach it",
    );
  }
  if (caConfigMap.length > 253 || !DNS_SUBDOMAIN.test(caConfigMap)) {
    throw new ConfigError(`invalid --emulation-ca-configmap "${caConfigMap}": must be a ConfigMap name`);
  }
  return { address, hostNames, caConfigMap };
}
