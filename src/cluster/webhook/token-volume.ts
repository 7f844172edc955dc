// The projected volume that carries the pod's service-account token (and a custom endpoint's CA), and the
// read-only mount of it in each container.

import { isDeepStrictEqual } from "node:util";
import { isPlainObject, type JsonObject, type JsonValue } from "../../json/json-value.ts";
import { SERVER_DEFAULT_PROJECTED_MODE, TOKEN_SUB_PATH } from "./constants.ts";
import { type CustomTokenEndpointConfig, caProjection } from "./custom-token-endpoint.ts";
import type { ReservedNames } from "./pod-facts.ts";

/** Read-only, at the per-identity mount path. */
export function tokenVolumeMount(reserved: ReservedNames): JsonObject {
  return { name: reserved.volumeName, readOnly: true, mountPath: reserved.mountPath };
}

/** The token for `audience`, plus the custom endpoint's CA when it has a ConfigMap or ClusterTrustBundle. */
export function tokenVolume(
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

/** Equal, or equal once the API server has defaulted `defaultMode` — which it does after the first pass. */
export function isSameTokenVolume(existing: JsonValue, wanted: JsonObject): boolean {
  if (isDeepStrictEqual(existing, wanted)) return true;
  const { projected } = wanted;
  const defaulted = {
    ...wanted,
    projected: { ...(isPlainObject(projected) ? projected : {}), defaultMode: SERVER_DEFAULT_PROJECTED_MODE },
  };
  return isDeepStrictEqual(existing, defaulted);
}
