// `wikit doctor`'s verdict over what was read from the cluster: the issuer, the webhook and every labelled pod,
// each finding naming its fix, plus the table of workloads and what --repair would do.

import type { FetchDocument, Finding } from "../issuer/issuer-verification.ts";
import { credentialIssues, type WikitPrincipal } from "./credential-check.ts";
import { type ApiServerIssuerDocuments, checkClusterIssuer } from "./issuer-check.ts";
import { type LabelledPodsSnapshot, labelledPodRows, type WorkloadRow } from "./labelled-pods.ts";
import { type RepairPlan, repairPlan } from "./repair-plan.ts";
import { checkWebhook, type WebhookSnapshot } from "./webhook-check.ts";

export interface ClusterSnapshot {
  /** The namespace looked at; undefined for all. */
  namespace?: string;
  issuer: ApiServerIssuerDocuments;
  webhook: WebhookSnapshot;
  workloads: LabelledPodsSnapshot;
}

/** A finding with the part of the set-up it concerns. */
export interface DoctorFinding extends Finding {
  area: "issuer" | "webhook" | "workloads" | "credentials";
}

export interface Diagnosis {
  /** The issuer string the cluster's tokens carry, when the API server said. */
  clusterIssuer?: string;
  findings: DoctorFinding[];
  workloads: WorkloadRow[];
  repair: RepairPlan;
  /** Problems in findings and rows together: the command exits 1 when there is one. */
  problems: number;
}

export interface DiagnoseOptions {
  /** The issuer URL federated credentials name; default: the API server's own issuer. */
  publicIssuerUrl?: string;
  /** Fetches the public issuer's documents anonymously, as a token service does. */
  fetchDocument: FetchDocument;
  now: Date;
  /** A running wikit's identities and apps: each labelled pod's federated credential is checked against them. */
  wikit?: { dataDir: string; principals: readonly WikitPrincipal[] };
}

export async function diagnoseCluster(
  snapshot: ClusterSnapshot,
  options: DiagnoseOptions,
): Promise<Diagnosis> {
  const issuerCheck = await checkClusterIssuer(
    snapshot.issuer,
    options.publicIssuerUrl,
    options.fetchDocument,
  );
  const webhook = checkWebhook(snapshot.webhook, options.now);
  const workloads = labelledPodRows(snapshot.workloads, webhook.context);
  const findings: DoctorFinding[] = [
    ...issuerCheck.findings.map((finding) => ({ area: "issuer" as const, ...finding })),
    ...webhook.findings.map((finding) => ({ area: "webhook" as const, ...finding })),
  ];
  const scope = snapshot.namespace === undefined ? "in any namespace" : `in namespace ${snapshot.namespace}`;
  const unmutated = workloads.filter((row) => row.mutated !== "yes").length;
  if (workloads.length === 0) {
    findings.push({ area: "workloads", level: "ok", message: `no labelled pod or workload ${scope}` });
  } else if (unmutated === 0) {
    findings.push({
      area: "workloads",
      level: "ok",
      message: `${workloads.length} labelled pod${workloads.length === 1 ? "" : "s"} ${scope}, all mutated`,
    });
  } else {
    findings.push({
      area: "workloads",
      level: "problem",
      message: `${unmutated} of ${workloads.length} labelled pods or workloads ${scope} lack the webhook's mutation (see the table)`,
    });
  }
  if (options.wikit !== undefined) {
    const issuer = issuerCheck.clusterIssuer ?? options.publicIssuerUrl;
    findings.push(checkCredentials(workloads, issuer, options.wikit));
  }
  const rowProblems = workloads.filter((row) => row.issues.some((issue) => issue.level === "problem")).length;
  const problems = findings.filter((finding) => finding.level === "problem").length + rowProblems;
  return {
    ...(issuerCheck.clusterIssuer === undefined ? {} : { clusterIssuer: issuerCheck.clusterIssuer }),
    findings,
    workloads,
    repair: repairPlan(workloads),
    problems,
  };
}

/** Adds each labelled pod's credential problems to its row; one finding sums them up. */
function checkCredentials(
  rows: WorkloadRow[],
  issuer: string | undefined,
  wikit: NonNullable<DiagnoseOptions["wikit"]>,
): DoctorFinding {
  if (issuer === undefined) {
    return {
      area: "credentials",
      level: "warning",
      message: `federated credentials in wikit (${wikit.dataDir}) were not checked: the cluster's issuer is unknown; give --issuer-url`,
    };
  }
  let failing = 0;
  let checked = 0;
  for (const row of rows) {
    if (row.pod === "-" || row.clientId === "") continue;
    checked += 1;
    const issues = credentialIssues(row, issuer, wikit.principals);
    if (issues.length === 0) continue;
    failing += 1;
    row.issues.push(...issues);
    row.problem = row.issues.map((issue) => issue.message).join("; ");
  }
  return failing === 0
    ? {
        area: "credentials",
        level: "ok",
        message: `${checked} labelled pod${checked === 1 ? "" : "s"} with a client ID, each with a matching federated credential in wikit (${wikit.dataDir})`,
      }
    : {
        area: "credentials",
        level: "problem",
        message: `${failing} of ${checked} labelled pods with a client ID would fail the token exchange at wikit (${wikit.dataDir}): see the table`,
      };
}
