// The workloads table: each kind of labelled pod the doctor meets — mutated by the real webhook code, admitted
// without mutation for each likely cause, mutated only in part — and workloads labelled on their metadata alone.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ClusterObject } from "../../../src/cluster/doctor/cluster-objects.ts";
import {
  type LabelledPodsSnapshot,
  labelledPodRows,
  type WorkloadRow,
} from "../../../src/cluster/doctor/labelled-pods.ts";
import type { WebhookContext } from "../../../src/cluster/doctor/webhook-check.ts";
import {
  SKIP_CONTAINERS_ANNOTATION,
  TOKEN_EXPIRATION_ANNOTATION,
  USE_LABEL,
} from "../../../src/cluster/webhook/constants.ts";
import {
  CLIENT_ID,
  deployment,
  job,
  LABELS,
  NAMESPACE,
  pod,
  replicaSet,
  serviceAccount,
} from "./doctor-fixtures.ts";

const HEALTHY: WebhookContext = {
  configured: true,
  configurationName: "wikit-webhook",
  configurationCreatedAt: Date.parse("2026-01-01T00:00:00Z"),
  failurePolicy: "Fail",
  namespaceSelector: {
    matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system"] }],
  },
  ready: true,
  deployment: "wikit-system/wikit-webhook",
};
const SA = serviceAccount("workload-identity-sa");

function rows(
  objects: Partial<LabelledPodsSnapshot> & { pods: ClusterObject[] },
  webhook: WebhookContext = HEALTHY,
): WorkloadRow[] {
  return labelledPodRows(
    {
      serviceAccounts: [SA],
      replicaSets: [replicaSet("api-6b7c9d8f5", "api")],
      jobs: [],
      labelledWorkloads: [],
      ...objects,
    },
    webhook,
  );
}

function only(list: WorkloadRow[]): WorkloadRow {
  assert.equal(list.length, 1, JSON.stringify(list, null, 2));
  return list[0] as WorkloadRow;
}

const deploymentPod = (admittedWith?: ClusterObject, extra: Partial<Parameters<typeof pod>[0]> = {}) =>
  pod(
    {
      name: "api-6b7c9d8f5-q7w2e",
      generateName: "api-6b7c9d8f5-",
      serviceAccountName: "workload-identity-sa",
      owner: { kind: "ReplicaSet", name: "api-6b7c9d8f5" },
      ...extra,
    },
    admittedWith,
  );

describe("labelled pods", () => {
  test("a pod the webhook mutated under its generateName is mutated, with its Deployment and client ID", () => {
    const row = only(rows({ pods: [deploymentPod(SA)] }));
    assert.deepEqual(
      {
        namespace: row.namespace,
        workload: row.workload,
        pod: row.pod,
        serviceAccount: row.serviceAccount,
        clientId: row.clientId,
        mutated: row.mutated,
        problem: row.problem,
      },
      {
        namespace: NAMESPACE,
        workload: "Deployment/api",
        pod: "api-6b7c9d8f5-q7w2e",
        serviceAccount: "workload-identity-sa",
        clientId: CLIENT_ID,
        mutated: "yes",
        problem: "",
      },
    );
  });

  test("Job pods belong to their CronJob; StatefulSet and bare pods name themselves", () => {
    const list = rows({
      pods: [
        pod(
          {
            name: "nightly-1-x",
            serviceAccountName: "workload-identity-sa",
            owner: { kind: "Job", name: "nightly-1" },
          },
          SA,
        ),
        pod(
          {
            name: "once-x",
            serviceAccountName: "workload-identity-sa",
            owner: { kind: "Job", name: "once" },
          },
          SA,
        ),
        pod(
          {
            name: "db-0",
            serviceAccountName: "workload-identity-sa",
            owner: { kind: "StatefulSet", name: "db" },
          },
          SA,
        ),
        pod({ name: "debug", serviceAccountName: "workload-identity-sa" }, SA),
      ],
      jobs: [job("nightly-1", "nightly"), job("once", undefined)],
    });
    assert.deepEqual(
      list.map((row) => [row.workload, row.pod, row.mutated]),
      [
        ["-", "debug", "yes"],
        ["CronJob/nightly", "nightly-1-x", "yes"],
        ["Job/once", "once-x", "yes"],
        ["StatefulSet/db", "db-0", "yes"],
      ],
    );
  });

  const unmutated: {
    name: string;
    pod: ClusterObject;
    serviceAccounts?: ClusterObject[];
    namespaces?: ClusterObject[];
    webhook?: WebhookContext;
    cause: RegExp;
    repairable: boolean;
  }[] = [
    {
      name: "the service account was created after the pod",
      pod: deploymentPod(undefined, { created: "2026-06-01T00:00:00Z" }),
      serviceAccounts: [serviceAccount("workload-identity-sa", { created: "2026-06-02T00:00:00Z" })],
      cause:
        /service account workload-identity-sa was created \(2026-06-02T00:00:00Z\) after the pod \(2026-06-01T00:00:00Z\); restart the Deployment api/,
      repairable: true,
    },
    {
      name: "failurePolicy Ignore let it in while the webhook was down",
      pod: deploymentPod(),
      webhook: { ...HEALTHY, failurePolicy: "Ignore" },
      cause: /likely unreachable .* failurePolicy Ignore let it in unmutated; restart the Deployment api/,
      repairable: true,
    },
    {
      name: "failurePolicy Ignore and the webhook still down",
      pod: deploymentPod(),
      webhook: { ...HEALTHY, failurePolicy: "Ignore", ready: false },
      cause: /get the webhook ready, then restart/,
      repairable: false,
    },
    {
      name: "the pod is older than the webhook configuration",
      pod: deploymentPod(undefined, { created: "2025-12-01T00:00:00Z" }),
      serviceAccounts: [serviceAccount("workload-identity-sa", { created: "2025-01-01T00:00:00Z" })],
      cause: /older than the webhook configuration \(2026-01-01T00:00:00Z\)/,
      repairable: true,
    },
    {
      name: 'a label value other than "true"',
      pod: deploymentPod(undefined, { labels: { [USE_LABEL]: "True" } }),
      cause: /label is azure.workload.identity\/use="True", and the webhook selects exactly "true"/,
      repairable: false,
    },
    {
      name: "no webhook installed",
      pod: deploymentPod(),
      webhook: { configured: false, ready: false },
      cause: /no webhook receives labelled pods: install it/,
      repairable: false,
    },
    {
      name: "the namespace is excluded",
      pod: deploymentPod(undefined, { namespace: "kube-system" }),
      namespaces: [{ metadata: { name: "kube-system" } }],
      serviceAccounts: [serviceAccount("workload-identity-sa", { namespace: "kube-system" })],
      cause: /namespace kube-system is excluded by wikit-webhook's namespaceSelector/,
      repairable: false,
    },
    {
      name: "nothing explains it",
      pod: deploymentPod(),
      cause:
        /did not mutate it: check the webhook's logs \(kubectl -n wikit-system logs deployment\/wikit-webhook\)/,
      repairable: true,
    },
  ];
  for (const entry of unmutated) {
    test(`an unmutated pod: ${entry.name}`, () => {
      const row = only(
        rows(
          {
            pods: [entry.pod],
            ...(entry.serviceAccounts ? { serviceAccounts: entry.serviceAccounts } : {}),
            ...(entry.namespaces ? { namespaces: entry.namespaces } : {}),
          },
          entry.webhook,
        ),
      );
      assert.equal(row.mutated, "no");
      assert.match(row.problem, entry.cause);
      assert.equal(row.repairable, entry.repairable);
    });
  }

  test("a missing service account, or one without client-id, is a problem that names the fix", () => {
    const missing = only(rows({ pods: [deploymentPod()], serviceAccounts: [] }));
    assert.match(missing.problem, /service account workload-identity-sa does not exist: create it/);
    assert.equal(missing.repairable, false);
    const unannotated = serviceAccount("workload-identity-sa", { clientId: null });
    const row = only(rows({ pods: [deploymentPod(unannotated)], serviceAccounts: [unannotated] }));
    assert.equal(row.mutated, "yes");
    assert.match(
      row.problem,
      /has no azure.workload.identity\/client-id annotation: the pod gets no AZURE_CLIENT_ID/,
    );
  });

  test("a container added after admission leaves the pod mutated only in part; a skipped one does not", () => {
    const mutated = deploymentPod(SA, { containers: ["app"] });
    const spec = mutated.spec as { containers: unknown[] };
    spec.containers.push({ name: "late-sidecar", image: "busybox" });
    const row = only(rows({ pods: [mutated] }));
    assert.equal(row.mutated, "partly");
    assert.match(row.problem, /container 'late-sidecar' has no AZURE_FEDERATED_TOKEN_FILE/);

    const skipping = deploymentPod(SA, {
      containers: ["app", "istio-proxy"],
      annotations: { [SKIP_CONTAINERS_ANNOTATION]: "istio-proxy" },
    });
    assert.equal(only(rows({ pods: [skipping] })).mutated, "yes");
  });

  test("a client ID or token lifetime changed on the service account after the pod is a warning to restart", () => {
    const before = serviceAccount("workload-identity-sa", {
      clientId: "00000000-0000-0000-0000-000000000001",
    });
    const now = {
      ...serviceAccount("workload-identity-sa"),
      metadata: {
        ...serviceAccount("workload-identity-sa").metadata,
        annotations: {
          "azure.workload.identity/client-id": CLIENT_ID,
          [TOKEN_EXPIRATION_ANNOTATION]: "7200",
        },
      },
    };
    const row = only(rows({ pods: [deploymentPod(before)], serviceAccounts: [now] }));
    assert.equal(row.mutated, "yes");
    assert.equal(row.clientId, "00000000-0000-0000-0000-000000000001");
    assert.deepEqual(
      row.issues.map((issue) => issue.level),
      ["warning", "warning"],
    );
    assert.match(row.problem, /the token lives 3600 s, the annotations now ask for 7200 s/);
    assert.match(row.problem, new RegExp(`the service account now names ${CLIENT_ID}: restart the workload`));
  });

  test("a workload labelled on its metadata but not its pod template gets a row that says to label the template", () => {
    const list = rows({
      pods: [],
      labelledWorkloads: [
        { ...deployment("web", { metadata: LABELS }), kind: "Deployment" },
        { ...deployment("ok", { metadata: LABELS, template: LABELS }), kind: "Deployment" },
        {
          kind: "CronJob",
          metadata: { name: "report", namespace: NAMESPACE, labels: LABELS },
          spec: {
            jobTemplate: { spec: { template: { metadata: {}, spec: { serviceAccountName: "reporter" } } } },
          },
        },
      ],
    });
    assert.deepEqual(
      list.map((row) => [row.workload, row.pod, row.serviceAccount, row.mutated, row.repairable]),
      [
        ["CronJob/report", "-", "reporter", "no", false],
        ["Deployment/web", "-", "workload-identity-sa", "no", false],
      ],
    );
    assert.match(list[1]?.problem ?? "", /label the pod template \(spec.template.metadata.labels\)/);
    assert.match(list[0]?.problem ?? "", /spec.jobTemplate.spec.template.metadata.labels/);
  });
});
