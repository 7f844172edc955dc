// The workload a pod belongs to, found as the controllers found it: through each object's controller owner
// reference. Pod → ReplicaSet → Deployment and Pod → Job → CronJob are walked up; StatefulSet and DaemonSet pods
// name their workload directly. What the walk cannot see (an owner not read, an operator's own kind) is returned
// as the last owner known.

import {
  type ClusterObject,
  controllerOf,
  findObject,
  namespaceOf,
  type WorkloadRef,
} from "./cluster-objects.ts";

/** The ReplicaSets and Jobs read, to walk from a pod's direct owner up to the object a user manages. */
export interface OwnerIndex {
  replicaSets: readonly ClusterObject[];
  jobs: readonly ClusterObject[];
}

/** The pod's top-level workload, or undefined for a bare pod (no controller). */
export function owningWorkload(pod: ClusterObject, index: OwnerIndex): WorkloadRef | undefined {
  const namespace = namespaceOf(pod);
  let owner = controllerOf(pod);
  if (owner === undefined) return undefined;
  const parents: Record<string, readonly ClusterObject[]> = {
    ReplicaSet: index.replicaSets,
    Job: index.jobs,
  };
  // Two levels at most: ReplicaSet → Deployment, Job → CronJob.
  for (let depth = 0; depth < 2; depth++) {
    const candidates = parents[owner.kind];
    if (candidates === undefined) break;
    const parent = controllerOf(findObject(candidates, namespace, owner.name));
    if (parent === undefined) break;
    owner = parent;
  }
  return { kind: owner.kind, namespace, name: owner.name };
}
