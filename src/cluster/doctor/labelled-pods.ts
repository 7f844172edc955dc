// Every pod that asks for workload identity (it carries the use label) with its top-level workload, its service
// account, the client ID it got, and whether it was mutated; for a pod admitted without mutation, the likely
// cause and whether restarting its workload would fix it. Workloads labelled on their own metadata but not on
// their pod template get a row too: that label selects nothing (webhook.md §18).

import type { Finding } from "../issuer/issuer-verification.ts";
import { CLIENT_ID_ANNOTATION, USE_LABEL, USE_LABEL_VALUE } from "../webhook/constants.ts";
import { member } from "../webhook/json-access.ts";
import { annotation, serviceAccountName } from "../webhook/pod-facts.ts";
import {
  type ClusterObject,
  controllerOf,
  createdAt,
  findObject,
  labelsOf,
  nameOf,
  namespaceOf,
  type WorkloadRef,
  workloadLabel,
} from "./cluster-objects.ts";
import { type OwnerIndex, owningWorkload } from "./owning-workload.ts";
import { type MutationState, podMutation } from "./pod-mutation-check.ts";
import { matchesLabelSelector, namespaceLabels, type WebhookContext } from "./webhook-check.ts";

export interface LabelledPodsSnapshot extends OwnerIndex {
  /** Pods carrying the use label, whatever its value. */
  pods: readonly ClusterObject[];
  serviceAccounts: readonly ClusterObject[];
  /** The namespaces, for the webhook's namespaceSelector; undefined when they could not be read. */
  namespaces?: readonly ClusterObject[];
  /** Deployments, StatefulSets, DaemonSets, Jobs and CronJobs (with `kind` set) whose metadata has the use label. */
  labelledWorkloads: readonly ClusterObject[];
}

/** One row of the table: a labelled pod, or a workload whose pods are not labelled. */
export interface WorkloadRow {
  namespace: string;
  /** `Deployment/api`, or `-` for a bare pod. */
  workload: string;
  /** The pod's name, or `-` for a workload whose pods are not labelled. */
  pod: string;
  serviceAccount: string;
  clientId: string;
  /** The projected token's audience, when the pod has the token volume. */
  audience?: string;
  mutated: MutationState;
  /** The warnings and problems, joined; empty when all is well. */
  problem: string;
  issues: Finding[];
  /** The workload to restart or recreate (absent for a bare pod). */
  owner?: WorkloadRef;
  /** Unmutated, and recreating the pod would get it mutated now. */
  repairable: boolean;
}

export function labelledPodRows(snapshot: LabelledPodsSnapshot, webhook: WebhookContext): WorkloadRow[] {
  const rows = snapshot.pods.map((pod) => podRow(pod, snapshot, webhook));
  for (const workload of snapshot.labelledWorkloads) {
    const row = unlabelledTemplateRow(workload);
    if (row) rows.push(row);
  }
  return rows.sort(
    (a, b) =>
      a.namespace.localeCompare(b.namespace) ||
      a.workload.localeCompare(b.workload) ||
      a.pod.localeCompare(b.pod),
  );
}

function podRow(pod: ClusterObject, snapshot: LabelledPodsSnapshot, webhook: WebhookContext): WorkloadRow {
  const namespace = namespaceOf(pod);
  const saName = serviceAccountName(pod);
  const serviceAccount = findObject(snapshot.serviceAccounts, namespace, saName);
  const owner = owningWorkload(pod, snapshot);
  const mutation = podMutation(pod, serviceAccount);
  const issues: Finding[] = [];
  const problem = (message: string) => issues.push({ level: "problem", message });
  const clientId = annotation(serviceAccount, CLIENT_ID_ANNOTATION) ?? "";
  // A bare pod cannot be restarted, only deleted and created again.
  const restart = owner ? `restart the ${owner.kind} ${owner.name}` : "recreate the pod";

  if (serviceAccount === undefined) {
    problem(
      `service account ${saName} does not exist: create it with the ${CLIENT_ID_ANNOTATION} annotation, then ${restart}`,
    );
  } else if (clientId === "") {
    problem(
      `service account ${saName} has no ${CLIENT_ID_ANNOTATION} annotation: the pod gets no AZURE_CLIENT_ID; annotate it with the identity's client ID, then ${restart}`,
    );
  }
  let repairable = false;
  if (mutation.state === "no") {
    const cause = unmutatedCause(pod, serviceAccount, snapshot, webhook, restart);
    problem(`not mutated: ${cause.message}`);
    repairable = cause.repairable;
  }
  issues.push(...mutation.issues);
  return {
    namespace,
    workload: owner ? workloadLabel(owner) : "-",
    pod: nameOf(pod),
    serviceAccount: saName,
    clientId: mutation.injectedClientId ?? clientId,
    ...(mutation.audience === undefined ? {} : { audience: mutation.audience }),
    mutated: mutation.state,
    problem: issues.map((issue) => issue.message).join("; "),
    issues,
    ...(owner ? { owner } : {}),
    repairable,
  };
}

/** Why the API server admitted a labelled pod without mutation, most certain cause first. */
function unmutatedCause(
  pod: ClusterObject,
  serviceAccount: ClusterObject | undefined,
  snapshot: LabelledPodsSnapshot,
  webhook: WebhookContext,
  restart: string,
): { message: string; repairable: boolean } {
  const value = labelsOf(pod)[USE_LABEL];
  if (value !== USE_LABEL_VALUE) {
    return {
      message: `its label is ${USE_LABEL}=${JSON.stringify(value)}, and the webhook selects exactly "${USE_LABEL_VALUE}": label the pod template with "${USE_LABEL_VALUE}"`,
      repairable: false,
    };
  }
  if (!webhook.configured) {
    return { message: "no webhook receives labelled pods: install it, then restart", repairable: false };
  }
  const namespace = namespaceOf(pod);
  if (snapshot.namespaces !== undefined) {
    const labels = namespaceLabels(namespace, findObject(snapshot.namespaces, "", namespace));
    if (!matchesLabelSelector(webhook.namespaceSelector, labels)) {
      return {
        message: `namespace ${namespace} is excluded by ${webhook.configurationName}'s namespaceSelector: run the workload elsewhere or change the selector`,
        repairable: false,
      };
    }
  }
  if (serviceAccount === undefined) {
    return { message: "its service account is missing (see above)", repairable: false };
  }
  const podCreated = createdAt(pod);
  const accountCreated = createdAt(serviceAccount);
  if (podCreated !== undefined && accountCreated !== undefined && accountCreated > podCreated) {
    return {
      message: `service account ${nameOf(serviceAccount)} was created (${iso(accountCreated)}) after the pod (${iso(podCreated)}); ${restart}`,
      repairable: true,
    };
  }
  const configured = webhook.configurationCreatedAt;
  if (podCreated !== undefined && configured !== undefined && podCreated < configured) {
    return {
      message: `the pod (${iso(podCreated)}) is older than the webhook configuration (${iso(configured)}); ${restart}`,
      repairable: true,
    };
  }
  if (webhook.failurePolicy === "Ignore") {
    return {
      message: `the webhook was likely unreachable when the pod was created, and failurePolicy Ignore let it in unmutated; ${webhook.ready ? restart : `get the webhook ready, then ${restart}`}`,
      repairable: webhook.ready,
    };
  }
  const logs = webhook.deployment
    ? ` (kubectl -n ${webhook.deployment.replace("/", " logs deployment/")})`
    : "";
  return {
    message: `the webhook selects it but did not mutate it: check the webhook's logs${logs}, then ${restart}`,
    repairable: webhook.ready,
  };
}

/** A workload labelled on its metadata whose pod template lacks the label: its pods never reach the webhook. */
function unlabelledTemplateRow(workload: ClusterObject): WorkloadRow | undefined {
  const kind = workload.kind ?? "Workload";
  // A CronJob's Jobs repeat its labels; the CronJob's row says it once.
  if (kind === "Job" && controllerOf(workload)?.kind === "CronJob") return undefined;
  const templateSpec =
    kind === "CronJob" ? member(member(workload.spec, "jobTemplate"), "spec") : workload.spec;
  const templateLabels = member(member(member(templateSpec, "template"), "metadata"), "labels");
  if (member(templateLabels, USE_LABEL) !== undefined) return undefined;
  const path =
    kind === "CronJob" ? "spec.jobTemplate.spec.template.metadata.labels" : "spec.template.metadata.labels";
  const message = `the ${kind}'s metadata has the label ${USE_LABEL}, its pod template does not: label the pod template (${path}), not the ${kind} or its selector; the rollout then recreates the pods`;
  const namespace = namespaceOf(workload);
  const saName = serviceAccountName(member(templateSpec, "template"));
  return {
    namespace,
    workload: `${kind}/${nameOf(workload)}`,
    pod: "-",
    serviceAccount: saName,
    clientId: "",
    mutated: "no",
    problem: message,
    issues: [{ level: "problem", message }],
    owner: { kind, namespace, name: nameOf(workload) },
    repairable: false,
  };
}

function iso(time: number): string {
  return new Date(time).toISOString().replace(/\.000Z$/, "Z");
}
