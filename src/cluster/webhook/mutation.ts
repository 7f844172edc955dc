// The webhook's decision, without I/O: the pod exactly as the API server sent it, its ServiceAccount and the
// webhook's configuration go in; a denial, or the mutated pod plus the JSON Patch that produces it, comes out.
//
// Every change is made through a PatchRecorder (pod-editor.ts): as a JSON Patch operation applied to the
// received JSON, copy-on-write, so the received pod is never modified, fields this code does not know survive
// untouched, the patch holds only `add`/`replace`, and replaying it on the received pod gives the returned pod.

import { isDeepStrictEqual } from "node:util";
import { isPlainObject, type JsonObject } from "../../json/json-value.ts";
import {
  AZURE_AUTHORITY_HOST,
  AZURE_CLIENT_ID,
  AZURE_FEDERATED_TOKEN_FILE,
  AZURE_KUBERNETES_CA_DATA,
  AZURE_KUBERNETES_CA_FILE,
  AZURE_KUBERNETES_SNI_NAME,
  AZURE_KUBERNETES_TOKEN_PROXY,
  AZURE_TENANT_ID,
  CA_SUB_PATH,
  CLIENT_ID_ANNOTATION,
  DEFAULT_AUDIENCE,
  INJECT_PROXY_SIDECAR_ANNOTATION,
  TENANT_ID_ANNOTATION,
  TOKEN_SUB_PATH,
} from "./constants.ts";
import { type CustomTokenEndpointConfig, customTokenEndpointFor } from "./custom-token-endpoint.ts";
import { type EmulationConfig, injectEmulation } from "./emulation.ts";
import { arrayOf, cloneJson, member, text } from "./json-access.ts";
import { podDecodeError } from "./pod-decoding.ts";
import { type JsonPatchOperation, PatchRecorder, type PodEditor } from "./pod-editor.ts";
import {
  annotation,
  podIdentityString,
  proxySidecarPort,
  reservedNames,
  type ServiceAccountLike,
  serviceAccountName,
  skippedContainers,
  tokenExpirationSeconds,
} from "./pod-facts.ts";
import { injectProxyContainers, type ProxySidecarConfig } from "./proxy-sidecar.ts";
import { isSameTokenVolume, tokenVolume, tokenVolumeMount } from "./token-volume.ts";

export interface MutationConfig extends ProxySidecarConfig {
  /** The webhook's AZURE_TENANT_ID, used unless the ServiceAccount has a tenant-id annotation. */
  tenantId: string;
  /** Injected as AZURE_AUTHORITY_HOST, trailing slash included (see authorityHostForCloud). */
  authorityHost: string;
  /** Token audience; empty means `api://AzureADTokenExchange`. */
  audience?: string;
  /** Enabled only when both the annotation suffix and the audience are non-empty. */
  customTokenEndpoint?: CustomTokenEndpointConfig;
  /** wikit addition: pods reach wikit under Microsoft's host names (hostAliases + CA bundle). */
  emulation?: EmulationConfig;
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

type EnvVar = { name: string; value: string };

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
  if (!isPlainObject(pod.spec)) editor.addMember(["spec"], {});

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
  const customEndpoint = customTokenEndpointFor(pod, config.customTokenEndpoint);
  const env = injectedEnv(reserved.mountPath, serviceAccount, config, customEndpoint);
  const mount = tokenVolumeMount(reserved);
  const skipped = skippedContainers(pod);
  // Runs after proxy injection, so the proxy containers get their identity the same way.
  for (const list of ["initContainers", "containers"] as const) {
    injectIntoContainers(editor, list, skipped, env, mount);
  }
  const audience = customEndpoint?.audience ?? (config.audience || DEFAULT_AUDIENCE);
  const volume = tokenVolume(reserved.volumeName, expiration.value, audience, customEndpoint);
  editor.upsertByName(["spec", "volumes"], volume, isSameTokenVolume);
  if (config.emulation !== undefined) injectEmulation(editor, config.emulation, skipped);
  return { allowed: true, editor };
}

/** Every denial the handler produces is a client error (400). */
function deny(message: string): Denial {
  return { allowed: false, code: 400, message };
}

function injectIntoContainers(
  editor: PodEditor,
  list: "initContainers" | "containers",
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
    editor.upsertByName([...path, "volumeMounts"], mount, isDeepStrictEqual);
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
