// The token proxy sidecar that pods opt into with an annotation: an init container that redirects the
// instance-metadata traffic, and the proxy itself, as a native sidecar where the API server supports one.

import type { JsonObject } from "../../json/json-value.ts";
import {
  DEFAULT_PROXY_IMAGE,
  DEFAULT_PROXY_INIT_IMAGE,
  NATIVE_SIDECAR_MIN_KUBERNETES_VERSION,
  PROXY_CONTAINER_NAME,
  PROXY_INIT_CONTAINER_NAME,
  PROXY_PORT_ENV,
} from "./constants.ts";
import { arrayOf, member } from "./json-access.ts";
import type { PodEditor } from "./pod-editor.ts";

export interface ProxySidecarConfig {
  /** The webhook's own log level, passed on to the proxy sidecar. */
  logLevel?: string;
  /** The API server's gitVersion (e.g. `v1.32.1`); decides where the proxy sidecar goes. */
  kubernetesVersion?: string;
  proxyImage?: string;
  proxyInitImage?: string;
}

const PROXY_LOG_LEVELS = ["all", "trace", "debug", "info"];

/** Adds the proxy containers the pod does not have yet, by name; the init container goes last, the proxy first. */
export function injectProxyContainers(editor: PodEditor, port: number, config: ProxySidecarConfig): void {
  if (!hasContainerNamed(editor, "initContainers", PROXY_INIT_CONTAINER_NAME)) {
    editor.append(["spec", "initContainers"], [proxyInitContainer(port, config)]);
  }
  const native = supportsNativeSidecars(config.kubernetesVersion);
  const list = native ? "initContainers" : "containers";
  if (!hasContainerNamed(editor, list, PROXY_CONTAINER_NAME)) {
    editor.prepend(["spec", list], proxyContainer(port, config, native));
  }
}

function hasContainerNamed(editor: PodEditor, list: "initContainers" | "containers", name: string): boolean {
  return arrayOf(editor.read(["spec", list])).some((container) => member(container, "name") === name);
}

function proxyInitContainer(port: number, config: ProxySidecarConfig): JsonObject {
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

function proxyContainer(port: number, config: ProxySidecarConfig, native: boolean): JsonObject {
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
