import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import type { Diagnosis } from "../../cluster/doctor/cluster-diagnosis.ts";
import { type WorkloadRef, workloadLabel } from "../../cluster/doctor/cluster-objects.ts";
import type { FederatedCredentialView, WikitPrincipal } from "../../cluster/doctor/credential-check.ts";
import type { WorkloadRow } from "../../cluster/doctor/labelled-pods.ts";
import { fetchIssuerDocument } from "../../cluster/issuer/issuer-document-fetch.ts";
import { FINDING_MARKS } from "../../cluster/issuer/issuer-verification.ts";
import { RESOURCE_TYPES } from "../../names/arm-resource-ids.ts";
import { resolveDataDir } from "../../server/data-dir.ts";
import { CliError } from "../cli-error.ts";
import { note, printResult } from "../output.ts";
import { WikitClient } from "../wikit-client.ts";

// `wikit doctor`: why a pod got no token. Reads the cluster through the kubeconfig, checks the issuer (the API
// server's documents against the public ones), the webhook (configuration, caBundle, Deployment) and every
// labelled pod (mutated or not, and why not), and with --repair restarts the workloads whose pods a restart fixes.
// When a wikit runs (--data-dir, or the default data directory), each pod's federated credential is checked there.

interface DoctorOptions {
  namespace?: string;
  kubeconfig?: string;
  context?: string;
  issuerUrl?: string;
  caFile?: string;
  repair?: boolean;
  yes?: boolean;
  dataDir?: string;
}

export function registerDoctorCommand(program: Command): void {
  program
    .command("doctor")
    .description("diagnose workload identity on a cluster: issuer, webhook, and every labelled pod")
    .option("-n, --namespace <namespace>", "only pods and workloads in this namespace (default: all)")
    .option("--kubeconfig <file>", "the kubeconfig to use (default: $KUBECONFIG or ~/.kube/config)")
    .option("--context <name>", "the kubeconfig context to use (default: its current context)")
    .option(
      "--issuer-url <url>",
      "the issuer URL federated credentials name (default: the API server's own issuer)",
    )
    .option("--ca-file <file>", "PEM certificates to trust for the public issuer besides the system's")
    .option("--repair", "restart the workloads whose pods were admitted without mutation")
    .option("--yes", "with --repair: do not ask for confirmation")
    .option(
      "--data-dir <dir>",
      "a running wikit's state directory: check each pod's federated credential there (default: $WIKIT_HOME or ~/.wikit, if wikit runs there)",
    )
    .addHelpText(
      "after",
      `
Checks, each reported as ok, warning or PROBLEM with the fix:
  issuer       the API server's discovery document and JWKS (read with the kubeconfig's credentials) against
               the public issuer's, fetched anonymously as a token service does: the same issuer string (a
               trailing '/' too), every key the API server publishes present in the public JWKS, https,
               reachability.
  webhook      the MutatingWebhookConfiguration for pods labelled azure.workload.identity/use=true: selectors,
               rules, failurePolicy, its caBundle (parses, not expired, not expiring within 30 days, the CA of
               the webhook's certificate Secret) and the webhook Deployment's ready replicas.
  workloads    every labelled pod with its workload, service account and client ID: mutated or not and, if
               not, the likely cause (service account created after the pod, webhook down with failurePolicy
               Ignore, a label value other than "true", an excluded namespace); and workloads labelled on their
               metadata but not on their pod template.
  credentials  with a running wikit (--data-dir, or the default data directory when wikit runs there): each
               labelled pod's client ID names an identity or app there whose federated credential matches the
               cluster's issuer, system:serviceaccount:<namespace>:<service account> and the token's audience;
               the nearest credential's differing field is named.

-o table shows the workloads (Namespace, Workload, Pod, ServiceAccount, ClientId, Mutated, Problem); -o json the
findings and the repair plan too. The findings are also written to stderr. Exits 1 when a problem was found.

--repair restarts each Deployment, StatefulSet and DaemonSet with an unmutated pod as 'kubectl rollout restart'
does; it asks first on a terminal, and needs --yes otherwise. Bare pods, Jobs and CronJobs are listed with how to
recreate them.

Examples:
  wikit doctor -o table
  wikit doctor --namespace wlipoc --issuer-url "https://oidc.example.com/cluster-1/"
  wikit doctor --context kind-wi --repair --yes
`,
    )
    .action(async (options: DoctorOptions) => {
      await doctor(options);
    });
}

async function doctor(options: DoctorOptions): Promise<void> {
  // The Kubernetes client loads only for this command, so that every other command starts fast.
  const [{ KubeConfig }, reader, { diagnoseCluster }] = await Promise.all([
    import("@kubernetes/client-node"),
    import("../../cluster/doctor/cluster-reader.ts"),
    import("../../cluster/doctor/cluster-diagnosis.ts"),
  ]);
  const kubeConfig = new KubeConfig();
  try {
    if (options.kubeconfig) kubeConfig.loadFromFile(options.kubeconfig);
    else kubeConfig.loadFromDefault();
  } catch (error) {
    throw new CliError(`cannot load the kubeconfig: ${(error as Error).message}`);
  }
  if (options.context !== undefined) {
    if (kubeConfig.getContextObject(options.context) === null) {
      const known = kubeConfig.getContexts().map((context) => context.name);
      throw new CliError(
        `the kubeconfig has no context '${options.context}'${known.length ? `; it has: ${known.join(", ")}` : ""}`,
      );
    }
    kubeConfig.setCurrentContext(options.context);
  }
  if (kubeConfig.getCurrentCluster() === null) {
    throw new CliError(
      "no Kubernetes cluster configured: give --kubeconfig, set KUBECONFIG, or pick a --context",
    );
  }
  const extraCa = options.caFile ? await readCaFile(options.caFile) : undefined;
  const wikit = await wikitPrincipals(options.dataDir);

  let diagnosis: Diagnosis;
  try {
    const snapshot = await reader.readClusterSnapshot(kubeConfig, options.namespace);
    diagnosis = await diagnoseCluster(snapshot, {
      ...(options.issuerUrl === undefined ? {} : { publicIssuerUrl: options.issuerUrl }),
      fetchDocument: (url, accept) => fetchIssuerDocument(url, accept, extraCa),
      now: new Date(),
      ...(wikit === undefined ? {} : { wikit }),
    });
  } catch (error) {
    if (error instanceof reader.ClusterReadError) throw new CliError(error.message);
    throw error;
  }
  for (const finding of diagnosis.findings)
    note(`${FINDING_MARKS[finding.level]}  ${finding.area}: ${finding.message}`);

  const restarted: WorkloadRef[] = [];
  if (options.repair) {
    const { restarts, manual } = diagnosis.repair;
    for (const item of manual) note(`recreate ${item.namespace}/${item.pod}: ${item.instruction}`);
    if (restarts.length === 0) {
      note("--repair: no workload to restart");
    } else {
      const names = restarts.map((workload) => `${workload.namespace}/${workloadLabel(workload)}`);
      if (!options.yes) await confirm(`Restart ${names.join(", ")}?`);
      const now = new Date();
      for (const workload of restarts) {
        await reader.restartWorkload(kubeConfig, workload, now).catch((error: Error) => {
          throw new CliError(error.message);
        });
        restarted.push(workload);
        note(`restarted ${workload.namespace}/${workloadLabel(workload)}`);
      }
      note("run wikit doctor again once the rollouts have finished");
    }
  }

  printResult(
    {
      ...(diagnosis.clusterIssuer === undefined ? {} : { clusterIssuer: diagnosis.clusterIssuer }),
      findings: diagnosis.findings,
      workloads: diagnosis.workloads,
      repair: { ...diagnosis.repair, ...(options.repair ? { restarted } : {}) },
    },
    { table: (value) => tableRows((value as { workloads: WorkloadRow[] }).workloads) },
  );
  if (diagnosis.problems > 0) process.exitCode = 1;
}

/**
 * The managed identities and app registrations of the wikit running for `--data-dir`, with their federated
 * credentials; undefined when no data directory was given and none runs at the default one.
 */
async function wikitPrincipals(
  dataDirOption: string | undefined,
): Promise<{ dataDir: string; principals: WikitPrincipal[] } | undefined> {
  const dataDir = resolveDataDir(dataDirOption);
  let client: WikitClient;
  try {
    client = await WikitClient.connect(dataDir);
  } catch (error) {
    if (dataDirOption !== undefined) throw error;
    return undefined;
  }
  const principals: WikitPrincipal[] = [];
  const subscriptions = await client.subscriptions();
  for (const { subscriptionId } of subscriptions) {
    const { value } = (await client.arm(
      "GET",
      `/subscriptions/${subscriptionId}/providers/${RESOURCE_TYPES.userAssignedIdentity}`,
    )) as { value: { id: string; name: string; properties: { clientId: string } }[] };
    for (const identity of value) {
      const credentials = (await client.arm("GET", `${identity.id}/federatedIdentityCredentials`)) as {
        value: { name: string; properties: Record<string, unknown> }[];
      };
      principals.push({
        kind: "managed identity",
        name: identity.name,
        clientId: identity.properties.clientId,
        credentials: credentials.value.map((credential) =>
          credentialView(credential.name, credential.properties),
        ),
      });
    }
  }
  for (const tenant of new Set(subscriptions.map((subscription) => subscription.tenantId))) {
    for (const app of await client.graphList(tenant, "/applications")) {
      const credentials = await client.graphList(
        tenant,
        `/applications/${app.id}/federatedIdentityCredentials`,
      );
      principals.push({
        kind: "application",
        name: String(app.displayName),
        clientId: String(app.appId),
        credentials: credentials.map((credential) => credentialView(String(credential.name), credential)),
      });
    }
  }
  return { dataDir, principals };
}

function credentialView(name: string, fields: Record<string, unknown>): FederatedCredentialView {
  return {
    name,
    issuer: String(fields.issuer ?? ""),
    ...(typeof fields.subject === "string" ? { subject: fields.subject } : {}),
    audiences: Array.isArray(fields.audiences) ? fields.audiences.map(String) : [],
  };
}

/** The table az would print: one row per labelled pod or workload. */
function tableRows(rows: readonly WorkloadRow[]): Record<string, string>[] {
  return rows.map((row) => ({
    Namespace: row.namespace,
    Workload: row.workload,
    Pod: row.pod,
    ServiceAccount: row.serviceAccount,
    ClientId: row.clientId,
    Mutated: row.mutated,
    Problem: row.problem,
  }));
}

async function readCaFile(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new CliError(`cannot read --ca-file ${file}: ${(error as Error).message}`);
  }
}

/** Asks on the terminal; refuses without one, since nobody could answer. */
async function confirm(question: string): Promise<void> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new CliError(
      `--repair would ${question.replace(/^Restart/, "restart").replace(/\?$/, "")}: there is no terminal to confirm on; add --yes to restart without asking`,
    );
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await prompt.question(`${question} [y/N] `)).trim().toLowerCase();
    if (answer !== "y" && answer !== "yes") throw new CliError("nothing was restarted", 1);
  } finally {
    prompt.close();
  }
}
