// `wikit doctor --repair`: what gets unmutated pods mutated. Deployments, StatefulSets and DaemonSets are
// restarted as `kubectl rollout restart` does it, by stamping their pod template, so the new pods pass the
// webhook; other pods can only be recreated, and the plan says how.

import type { WorkloadRef } from "./cluster-objects.ts";
import type { WorkloadRow } from "./labelled-pods.ts";

/** The pod-template annotation `kubectl rollout restart` sets; changing it rolls the workload's pods. */
export const RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt";
export const RESTARTABLE_KINDS: readonly string[] = ["Deployment", "StatefulSet", "DaemonSet"];

export interface ManualRepair {
  namespace: string;
  pod: string;
  instruction: string;
}

export interface RepairPlan {
  /** Each workload once, in table order. */
  restarts: WorkloadRef[];
  /** Pods a restart cannot reach. */
  manual: ManualRepair[];
}

export function repairPlan(rows: readonly WorkloadRow[]): RepairPlan {
  const restarts: WorkloadRef[] = [];
  const manual: ManualRepair[] = [];
  for (const row of rows) {
    if (row.mutated !== "no" || !row.repairable) continue;
    const owner = row.owner;
    if (owner && RESTARTABLE_KINDS.includes(owner.kind)) {
      const known = restarts.some(
        (entry) =>
          entry.kind === owner.kind && entry.namespace === owner.namespace && entry.name === owner.name,
      );
      if (!known) restarts.push(owner);
      continue;
    }
    manual.push({ namespace: row.namespace, pod: row.pod, instruction: recreateInstruction(row) });
  }
  return { restarts, manual };
}

function recreateInstruction(row: WorkloadRow): string {
  const owner = row.owner;
  const inNamespace = `-n ${row.namespace}`;
  if (owner === undefined) {
    return `a bare pod must be recreated: kubectl ${inNamespace} get pod ${row.pod} -o yaml > pod.yaml, delete it, and create it again from its manifest`;
  }
  switch (owner.kind) {
    case "CronJob":
      return `the CronJob's next run is mutated; to run one now: kubectl ${inNamespace} create job --from=cronjob/${owner.name} ${owner.name}-rerun`;
    case "Job":
      return `a Job's pods are not restarted: delete the Job ${owner.name} and create it again`;
    default:
      return `delete the pod (kubectl ${inNamespace} delete pod ${row.pod}); its ${owner.kind} ${owner.name} creates a mutated one`;
  }
}

/** The strategic-merge patch `kubectl rollout restart` sends, stamped with `now` in RFC 3339. */
export function restartPatch(now: Date): Record<string, unknown> {
  const restartedAt = now.toISOString().replace(/\.\d{3}Z$/, "Z");
  return { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: restartedAt } } } } };
}
