import { randomBytes, randomUUID } from "node:crypto";
import type { JsonObject } from "../../json/json-value.ts";
import { AZURE_FEDERATED_TOKEN_FILE, USE_LABEL, USE_LABEL_VALUE } from "../webhook/constants.ts";

// How `wikit run` sees a local process as a pod: it builds the pod a user would deploy (labelled,
// using the service account), lets the webhook's mutation decide, then reads back what the pod got.

export const RUN_CONTAINER = "app";

export interface StandInPod {
  name: string;
  uid: string;
  manifest: JsonObject;
}

/** A pod labelled for workload identity running `serviceAccount`, with the container's own env. */
export function standInPod(
  namespace: string,
  serviceAccount: string,
  env: Record<string, string>,
): StandInPod {
  const name = `wikit-run-${randomBytes(3).toString("hex")}`;
  return {
    name,
    uid: randomUUID(),
    manifest: {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace, labels: { [USE_LABEL]: USE_LABEL_VALUE } },
      spec: {
        serviceAccountName: serviceAccount,
        containers: [
          {
            name: RUN_CONTAINER,
            image: "local-process",
            ...(Object.keys(env).length > 0
              ? { env: Object.entries(env).map(([n, value]) => ({ name: n, value })) }
              : {}),
          },
        ],
      },
    },
  };
}

export interface ProjectedToken {
  audience: string;
  expirationSeconds: number;
  /** Where the pod mounts the volume, e.g. `/var/run/secrets/azure/wi/<h>`. */
  mountPath: string;
  /** The token's path inside the volume, e.g. `token/azure-identity-token`. */
  path: string;
}

export interface PodView {
  env: Record<string, string>;
  token: ProjectedToken;
}

type Container = {
  name?: string;
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
};
type Volume = {
  name: string;
  projected?: {
    sources?: { serviceAccountToken?: { audience?: string; expirationSeconds?: number; path: string } }[];
  };
};

/** What the mutated pod's container received: its literal env and the projected token it mounts. */
export function podView(pod: JsonObject): PodView {
  const spec = pod.spec as { containers?: Container[]; volumes?: Volume[] } | undefined;
  const container = spec?.containers?.find((candidate) => candidate.name === RUN_CONTAINER);
  if (!container) throw new Error("the mutated pod lost its container");
  const env = Object.fromEntries(
    (container.env ?? [])
      .filter((entry) => entry.value !== undefined)
      .map((entry) => [entry.name, entry.value ?? ""]),
  );
  for (const mount of container.volumeMounts ?? []) {
    const volume = spec?.volumes?.find((candidate) => candidate.name === mount.name);
    const source = volume?.projected?.sources?.find(
      (candidate) => candidate.serviceAccountToken,
    )?.serviceAccountToken;
    if (source && env[AZURE_FEDERATED_TOKEN_FILE]?.startsWith(`${mount.mountPath}/`)) {
      return {
        env,
        token: {
          audience: source.audience ?? "",
          expirationSeconds: source.expirationSeconds ?? 3600,
          mountPath: mount.mountPath,
          path: source.path,
        },
      };
    }
  }
  throw new Error("the mutated pod has no projected service-account token behind AZURE_FEDERATED_TOKEN_FILE");
}
