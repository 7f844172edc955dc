// The custom token endpoint pods opt into with an annotation: another audience for their token, and the
// endpoint's address, TLS name and CA, which the container reads from variables and the token volume.

import type { JsonObject } from "../../json/json-value.ts";
import { CA_CONFIG_MAP_KEY, CA_SUB_PATH, customTokenEndpointAnnotation } from "./constants.ts";
import { annotation } from "./pod-facts.ts";

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

/** The configuration when it is enabled (suffix and audience non-empty) and the pod opts in, else undefined. */
export function customTokenEndpointFor(
  pod: unknown,
  custom: CustomTokenEndpointConfig | undefined,
): CustomTokenEndpointConfig | undefined {
  if (!custom?.annotationSuffix || !custom.audience) return undefined;
  const optIn = annotation(pod, customTokenEndpointAnnotation(custom.annotationSuffix));
  return optIn !== undefined && /^true$/i.test(optIn) ? custom : undefined;
}

/** The custom endpoint's CA as a projected source; the configuration allows at most one kind. */
export function caProjection(custom: CustomTokenEndpointConfig): JsonObject | undefined {
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
