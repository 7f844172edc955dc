// The Kubernetes objects `wikit doctor` reads, as plain JSON (what the API server sends), and the few facts it
// takes from their metadata. Only the members the checks read are typed; everything else passes through.

export interface OwnerReference {
  apiVersion?: string;
  kind: string;
  name: string;
  uid?: string;
  controller?: boolean;
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface ClusterObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  data?: Record<string, string>;
  webhooks?: Record<string, unknown>[];
}

/** A workload by kind, namespace and name, as `kubectl` names it: `Deployment/api`. */
export interface WorkloadRef {
  kind: string;
  namespace: string;
  name: string;
}

export function nameOf(object: ClusterObject | undefined): string {
  return object?.metadata?.name ?? "";
}

export function namespaceOf(object: ClusterObject | undefined): string {
  return object?.metadata?.namespace ?? "";
}

export function labelsOf(object: ClusterObject | undefined): Record<string, string> {
  return object?.metadata?.labels ?? {};
}

/** Milliseconds since the epoch, or undefined when the object carries no (readable) creation time. */
export function createdAt(object: ClusterObject | undefined): number | undefined {
  const stamp = object?.metadata?.creationTimestamp;
  const time = stamp === undefined ? Number.NaN : Date.parse(stamp);
  return Number.isNaN(time) ? undefined : time;
}

/** The owner that manages the object (the one marked `controller`), if any. */
export function controllerOf(object: ClusterObject | undefined): OwnerReference | undefined {
  return object?.metadata?.ownerReferences?.find((owner) => owner.controller === true);
}

export function workloadLabel(workload: WorkloadRef): string {
  return `${workload.kind}/${workload.name}`;
}

/** The object called `name` in `namespace` among `objects`. */
export function findObject(
  objects: readonly ClusterObject[],
  namespace: string,
  name: string,
): ClusterObject | undefined {
  return objects.find((object) => nameOf(object) === name && namespaceOf(object) === namespace);
}
