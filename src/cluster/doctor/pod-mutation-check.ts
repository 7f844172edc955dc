// Whether a running pod carries the mutation the webhook gives a labelled pod (webhook.md §5–§8): the projected
// token volume (audience, lifetime), and in every container not named in skip-containers the AZURE_* variables
// and the read-only mount of that volume. The pod is read as stored, after admission: controller-made pods were
// mutated under their generateName, so the reserved volume is recognised by its prefix and content, not by a
// hash of the final name.

import type { Finding } from "../issuer/issuer-verification.ts";
import {
  AZURE_AUTHORITY_HOST,
  AZURE_CLIENT_ID,
  AZURE_FEDERATED_TOKEN_FILE,
  AZURE_TENANT_ID,
  CLIENT_ID_ANNOTATION,
  DEFAULT_AUDIENCE,
  MOUNT_PATH_BASE,
  RESERVED_VOLUME_NAME_PREFIX,
  TOKEN_SUB_PATH,
} from "../webhook/constants.ts";
import { arrayOf, member, text } from "../webhook/json-access.ts";
import { annotation, skippedContainers, tokenExpirationSeconds } from "../webhook/pod-facts.ts";
import type { ClusterObject } from "./cluster-objects.ts";

export type MutationState = "yes" | "no" | "partly";

export interface PodMutation {
  state: MutationState;
  /** AZURE_CLIENT_ID as injected into the first mutated container, when it was. */
  injectedClientId?: string;
  /** The projected token's audience, when the pod has the token volume. */
  audience?: string;
  issues: Finding[];
}

interface TokenVolume {
  name: string;
  mountPath: string;
  audience: string | undefined;
  expirationSeconds: number | undefined;
}

/** The mutation state of `pod`, given its ServiceAccount as it is now (undefined when it does not exist). */
export function podMutation(pod: ClusterObject, serviceAccount: ClusterObject | undefined): PodMutation {
  const issues: Finding[] = [];
  const problem = (message: string) => issues.push({ level: "problem", message });
  const warn = (message: string) => issues.push({ level: "warning", message });
  const volume = reservedTokenVolume(pod);
  const skipped = skippedContainers(pod);
  const containers = [
    ...arrayOf(member(pod.spec, "initContainers")),
    ...arrayOf(member(pod.spec, "containers")),
  ]
    .map((container) => ({ name: text(member(container, "name")) ?? "", container }))
    .filter(({ name }) => !skipped.has(name));
  const tokenFiles = containers.map(({ container }) => envValue(container, AZURE_FEDERATED_TOKEN_FILE));
  if (volume === undefined && tokenFiles.every((file) => file === undefined)) return { state: "no", issues };

  if (volume === undefined) {
    problem(
      "AZURE_FEDERATED_TOKEN_FILE is set but the pod has no projected token volume: remove any hand-made copy of the webhook's variables and let the webhook mutate the pod",
    );
    return { state: "partly", issues };
  }
  const audience = volume.audience === undefined ? {} : { audience: volume.audience };
  const tokenFile = `${volume.mountPath}/${TOKEN_SUB_PATH}`;
  if (volume.audience !== DEFAULT_AUDIENCE) {
    warn(
      `the token's audience is '${volume.audience ?? ""}', not ${DEFAULT_AUDIENCE}: the federated credential must name the same audience`,
    );
  }
  const wantedLifetime = tokenExpirationSeconds(pod, serviceAccount);
  if (wantedLifetime.ok && volume.expirationSeconds !== wantedLifetime.value) {
    warn(
      `the token lives ${volume.expirationSeconds ?? "?"} s, the annotations now ask for ${wantedLifetime.value} s: restart the workload to apply them`,
    );
  }

  const clientIdNow = annotation(serviceAccount, CLIENT_ID_ANNOTATION);
  let injectedClientId: string | undefined;
  let unmutatedContainers = 0;
  for (const { name, container } of containers) {
    const mounted = arrayOf(member(container, "volumeMounts")).some(
      (mount) =>
        member(mount, "name") === volume.name &&
        member(mount, "mountPath") === volume.mountPath &&
        member(mount, "readOnly") === true,
    );
    const file = envValue(container, AZURE_FEDERATED_TOKEN_FILE);
    if (!mounted || file === undefined) {
      unmutatedContainers += 1;
      problem(
        `container '${name}' has no ${file === undefined ? AZURE_FEDERATED_TOKEN_FILE : "read-only mount of the token volume"}: it was added after admission (by another webhook?); list it in the skip-containers annotation if it needs no identity`,
      );
      continue;
    }
    if (file !== tokenFile) {
      warn(
        `container '${name}' has ${AZURE_FEDERATED_TOKEN_FILE}=${file}, not the token volume's ${tokenFile}: a preset value wins over the webhook's`,
      );
    }
    const clientId = envValue(container, AZURE_CLIENT_ID);
    injectedClientId ??= clientId;
    if (clientIdNow && clientId === undefined) {
      warn(
        `container '${name}' has no ${AZURE_CLIENT_ID}: the service account had no client-id annotation when the pod was created; restart the workload`,
      );
    } else if (clientIdNow && clientId !== clientIdNow) {
      warn(
        `container '${name}' has ${AZURE_CLIENT_ID}=${clientId}, the service account now names ${clientIdNow}: restart the workload`,
      );
    }
    if (envValue(container, AZURE_AUTHORITY_HOST) === undefined)
      problem(`container '${name}' has no ${AZURE_AUTHORITY_HOST}: the SDKs cannot find the token service`);
    if (envValue(container, AZURE_TENANT_ID) === undefined)
      warn(
        `container '${name}' has no ${AZURE_TENANT_ID}: set the webhook's tenant or the service account's tenant-id annotation`,
      );
  }
  const state: MutationState = unmutatedContainers === 0 ? "yes" : "partly";
  return { state, ...(injectedClientId === undefined ? {} : { injectedClientId }), ...audience, issues };
}

/** The webhook's projected volume: reserved name prefix, a service-account token at the webhook's path. */
function reservedTokenVolume(pod: ClusterObject): TokenVolume | undefined {
  for (const volume of arrayOf(member(pod.spec, "volumes"))) {
    const name = text(member(volume, "name")) ?? "";
    if (!name.startsWith(RESERVED_VOLUME_NAME_PREFIX)) continue;
    const token = arrayOf(member(member(volume, "projected"), "sources"))
      .map((source) => member(source, "serviceAccountToken"))
      .find((source) => member(source, "path") === TOKEN_SUB_PATH);
    if (token === undefined) continue;
    const expiration = member(token, "expirationSeconds");
    return {
      name,
      mountPath: `${MOUNT_PATH_BASE}/${name.slice(RESERVED_VOLUME_NAME_PREFIX.length)}`,
      audience: text(member(token, "audience")),
      expirationSeconds: typeof expiration === "number" ? expiration : undefined,
    };
  }
  return undefined;
}

/** The literal value of an env entry (valueFrom entries count as present, with an empty value). */
function envValue(container: unknown, name: string): string | undefined {
  const entry = arrayOf(member(container, "env")).find((candidate) => member(candidate, "name") === name);
  if (entry === undefined) return undefined;
  return text(member(entry, "value")) ?? "";
}
