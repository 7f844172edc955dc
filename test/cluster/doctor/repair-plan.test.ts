// What --repair does with unmutated pods: a rollout restart (kubectl's patch) of each Deployment, StatefulSet and
// DaemonSet once, and how to recreate everything else.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { WorkloadRow } from "../../../src/cluster/doctor/labelled-pods.ts";
import {
  RESTARTED_AT_ANNOTATION,
  repairPlan,
  restartPatch,
} from "../../../src/cluster/doctor/repair-plan.ts";

function row(
  pod: string,
  owner: { kind: string; name: string } | undefined,
  changes: Partial<WorkloadRow> = {},
): WorkloadRow {
  return {
    namespace: "wlipoc",
    workload: owner ? `${owner.kind}/${owner.name}` : "-",
    pod,
    serviceAccount: "sa",
    clientId: "",
    mutated: "no",
    problem: "not mutated",
    issues: [],
    ...(owner ? { owner: { ...owner, namespace: "wlipoc" } } : {}),
    repairable: true,
    ...changes,
  };
}

describe("repair plan", () => {
  test("each restartable workload once; bare pods, Jobs, CronJobs and ReplicaSets get instructions", () => {
    const plan = repairPlan([
      row("api-1", { kind: "Deployment", name: "api" }),
      row("api-2", { kind: "Deployment", name: "api" }),
      row("db-0", { kind: "StatefulSet", name: "db" }),
      row("agent-x", { kind: "DaemonSet", name: "agent" }),
      row("fine", { kind: "Deployment", name: "fine" }, { mutated: "yes" }),
      row("blocked", { kind: "Deployment", name: "blocked" }, { repairable: false }),
      row("debug", undefined),
      row("once-x", { kind: "Job", name: "once" }),
      row("nightly-x", { kind: "CronJob", name: "nightly" }),
      row("orphan-x", { kind: "ReplicaSet", name: "orphan" }),
    ]);
    assert.deepEqual(
      plan.restarts.map((workload) => `${workload.kind}/${workload.name}`),
      ["Deployment/api", "StatefulSet/db", "DaemonSet/agent"],
    );
    assert.deepEqual(
      plan.manual.map((entry) => entry.pod),
      ["debug", "once-x", "nightly-x", "orphan-x"],
    );
    assert.match(plan.manual[0]?.instruction ?? "", /a bare pod must be recreated/);
    assert.match(plan.manual[1]?.instruction ?? "", /delete the Job once and create it again/);
    assert.match(plan.manual[2]?.instruction ?? "", /create job --from=cronjob\/nightly/);
    assert.match(plan.manual[3]?.instruction ?? "", /its ReplicaSet orphan creates a mutated one/);
  });

  test("the patch is kubectl rollout restart's: the pod template's restartedAt in RFC 3339", () => {
    assert.deepEqual(restartPatch(new Date("2026-12-04T21:05:09.123Z")), {
      spec: {
        template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: "2026-12-04T21:05:09Z" } } },
      },
    });
    assert.equal(RESTARTED_AT_ANNOTATION, "kubectl.kubernetes.io/restartedAt");
  });
});
