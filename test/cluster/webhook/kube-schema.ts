// Checks Kubernetes objects against the API's schemas, for tests of generated manifests: types, enums and
// required fields through kubernetes-models' per-kind validators, and unknown fields (a misspelt
// `readOnlyRootFileSystem` passes those validators) through @kubernetes/client-node's typed models, which keep
// only the fields the API defines.

import { isDeepStrictEqual } from "node:util";
// Internal module of client-node: its serializer knows every field of every built-in type.
import { ObjectSerializer } from "@kubernetes/client-node/dist/gen/models/ObjectSerializer.js";
import { MutatingWebhookConfiguration } from "kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ClusterRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole";
import { ClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding";
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";

interface Validatable {
  validate(): void;
}

const KINDS: Record<string, { model: new (data: never) => Validatable; serializerType: string }> = {
  "v1/Namespace": { model: Namespace, serializerType: "V1Namespace" },
  "v1/ServiceAccount": { model: ServiceAccount, serializerType: "V1ServiceAccount" },
  "v1/ConfigMap": { model: ConfigMap, serializerType: "V1ConfigMap" },
  "v1/Secret": { model: Secret, serializerType: "V1Secret" },
  "v1/Service": { model: Service, serializerType: "V1Service" },
  "apps/v1/Deployment": { model: Deployment, serializerType: "V1Deployment" },
  "policy/v1/PodDisruptionBudget": { model: PodDisruptionBudget, serializerType: "V1PodDisruptionBudget" },
  "autoscaling/v2/HorizontalPodAutoscaler": {
    model: HorizontalPodAutoscaler,
    serializerType: "V2HorizontalPodAutoscaler",
  },
  "rbac.authorization.k8s.io/v1/Role": { model: Role, serializerType: "V1Role" },
  "rbac.authorization.k8s.io/v1/ClusterRole": { model: ClusterRole, serializerType: "V1ClusterRole" },
  "rbac.authorization.k8s.io/v1/RoleBinding": { model: RoleBinding, serializerType: "V1RoleBinding" },
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": {
    model: ClusterRoleBinding,
    serializerType: "V1ClusterRoleBinding",
  },
  "admissionregistration.k8s.io/v1/MutatingWebhookConfiguration": {
    model: MutatingWebhookConfiguration,
    serializerType: "V1MutatingWebhookConfiguration",
  },
};

/** Paths present in `original` but missing from `kept` (what the typed models dropped as unknown). */
function droppedPaths(original: unknown, kept: unknown, path = ""): string[] {
  if (Array.isArray(original)) {
    if (!Array.isArray(kept)) return [path || "/"];
    return original.flatMap((item, index) => droppedPaths(item, kept[index], `${path}/${index}`));
  }
  if (original !== null && typeof original === "object") {
    if (kept === null || typeof kept !== "object") return [path || "/"];
    return Object.entries(original).flatMap(([key, value]) =>
      key in kept
        ? droppedPaths(value, (kept as Record<string, unknown>)[key], `${path}/${key}`)
        : [`${path}/${key}`],
    );
  }
  return [];
}

/** The problems of one object: empty when the API server would accept its shape. */
export function kubeSchemaProblems(object: { apiVersion?: unknown; kind?: unknown }): string[] {
  const key = `${String(object.apiVersion)}/${String(object.kind)}`;
  const entry = KINDS[key];
  if (!entry) return [`no schema registered for ${key}`];
  const problems: string[] = [];
  try {
    new entry.model(structuredClone(object) as never).validate();
  } catch (error) {
    problems.push(`${key}: ${(error as Error).message}`);
  }
  const plain = JSON.parse(JSON.stringify(object));
  const kept = ObjectSerializer.serialize(
    ObjectSerializer.deserialize(plain, entry.serializerType, ""),
    entry.serializerType,
    "",
  );
  if (!isDeepStrictEqual(JSON.parse(JSON.stringify(kept)), plain)) {
    const unknown = droppedPaths(plain, kept);
    problems.push(`${key}: fields the API does not define: ${unknown.join(", ") || "(values changed)"}`);
  }
  return problems;
}
