// The webhook as the API server sees it: the MutatingWebhookConfiguration that sends labelled pods to it (selectors,
// failurePolicy, rules, caBundle), the CA in the webhook's certificate Secret, and the Deployment behind its
// Service. Pure: the caller reads the objects (see webhookTarget and certSecretNameOf for which ones).

import { readCertificateFacts, splitCertificateBundle } from "../../pki/certificates.ts";
import type { Finding } from "../issuer/issuer-verification.ts";
import {
  CERT_SECRET_KEYS,
  USE_LABEL,
  USE_LABEL_VALUE,
  WEBHOOK_NAME,
  WIKIT_WEBHOOK_NAME,
} from "../webhook/constants.ts";
import { arrayOf, member, text } from "../webhook/json-access.ts";
import { UPSTREAM_WEBHOOK_OBJECT_NAMES, WIKIT_WEBHOOK_OBJECT_NAMES } from "../webhook/manifests.ts";
import { SERVE_FLAGS } from "../webhook/webhook-objects.ts";
import { type ClusterObject, createdAt, labelsOf, nameOf } from "./cluster-objects.ts";

/** A caBundle that expires within this many days is reported. */
export const CA_BUNDLE_WARNING_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;
const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** One webhook entry of a configuration that receives labelled pods. */
export interface LabelledPodWebhook {
  configuration: ClusterObject;
  webhook: Record<string, unknown>;
}

/** What the webhook objects say about how labelled pods are admitted; the pod checks build on it. */
export interface WebhookContext {
  /** A configuration sends labelled pods to a webhook. */
  configured: boolean;
  configurationName?: string;
  configurationCreatedAt?: number;
  failurePolicy?: string;
  namespaceSelector?: LabelSelector;
  /** The webhook's Deployment has at least one ready replica (false when it was not found). */
  ready: boolean;
  /** `namespace/deployment` for the logs hint, when found. */
  deployment?: string;
}

export interface WebhookSnapshot {
  configurations: readonly ClusterObject[];
  /** The Service the labelled-pod webhook calls, when it exists. */
  service?: ClusterObject;
  /** The Deployments in the Service's namespace. */
  deployments: readonly ClusterObject[];
  /** The certificate Secret, or why it could not be read. */
  certSecret?: { namespace: string; name: string; object?: ClusterObject; error?: string };
}

/** Every webhook entry that receives pods labelled azure.workload.identity/use=true. */
export function labelledPodWebhooks(configurations: readonly ClusterObject[]): LabelledPodWebhook[] {
  return configurations.flatMap((configuration) =>
    arrayOf(configuration.webhooks)
      .filter(
        (webhook): webhook is Record<string, unknown> => typeof webhook === "object" && webhook !== null,
      )
      .filter((webhook) => {
        const name = text(member(webhook, "name"));
        return (
          name === WEBHOOK_NAME || name === WIKIT_WEBHOOK_NAME || mentionsUseLabel(webhook.objectSelector)
        );
      })
      .map((webhook) => ({ configuration, webhook })),
  );
}

function mentionsUseLabel(selector: unknown): boolean {
  const labels = member(selector, "matchLabels");
  return (
    member(labels, USE_LABEL) !== undefined ||
    arrayOf(member(selector, "matchExpressions")).some(
      (expression) => member(expression, "key") === USE_LABEL,
    )
  );
}

/** The Service a webhook entry calls (undefined for a URL webhook). */
export function webhookService(
  webhook: Record<string, unknown>,
): { namespace: string; name: string } | undefined {
  const service = member(member(webhook, "clientConfig"), "service");
  const namespace = text(member(service, "namespace"));
  const name = text(member(service, "name"));
  return namespace && name ? { namespace, name } : undefined;
}

/** Kubernetes label-selector semantics: every matchLabels pair and every expression must hold; empty selects all. */
export function matchesLabelSelector(
  selector: LabelSelector | undefined,
  labels: Record<string, string>,
): boolean {
  if (selector === undefined) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}))
    if (labels[key] !== value) return false;
  return (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    const present = Object.hasOwn(labels, key);
    switch (operator) {
      case "In":
        return present && values.includes(labels[key] ?? "");
      case "NotIn":
        return !present || !values.includes(labels[key] ?? "");
      case "Exists":
        return present;
      case "DoesNotExist":
        return !present;
      default:
        return false;
    }
  });
}

/** A namespace's labels; the API server always sets kubernetes.io/metadata.name, so it is assumed when absent. */
export function namespaceLabels(
  namespace: string,
  object: ClusterObject | undefined,
): Record<string, string> {
  return { [NAMESPACE_NAME_LABEL]: namespace, ...labelsOf(object) };
}

/** The Deployment whose pods the Service selects (wikit's or upstream's name first). */
export function webhookDeployment(
  service: ClusterObject | undefined,
  deployments: readonly ClusterObject[],
): ClusterObject | undefined {
  const selector = member(service?.spec, "selector");
  if (selector !== undefined && typeof selector === "object" && selector !== null) {
    const wanted = selector as Record<string, string>;
    const selected = deployments.find((deployment) =>
      matchesLabelSelector(
        { matchLabels: wanted },
        (member(member(member(deployment.spec, "template"), "metadata"), "labels") ?? {}) as Record<
          string,
          string
        >,
      ),
    );
    if (selected) return selected;
  }
  const known = [WIKIT_WEBHOOK_OBJECT_NAMES.deployment, UPSTREAM_WEBHOOK_OBJECT_NAMES.deployment];
  return deployments.find((deployment) => known.includes(nameOf(deployment)));
}

/** The Secret holding the webhook's CA: its `--cert-secret-name`, cert-manager's Secret, or the default name. */
export function certSecretNameOf(
  deployment: ClusterObject | undefined,
  configurationName: string,
): string | undefined {
  const podSpec = member(member(deployment?.spec, "template"), "spec");
  for (const container of arrayOf(member(podSpec, "containers"))) {
    for (const argument of arrayOf(member(container, "args"))) {
      const flag = `${SERVE_FLAGS.certSecretName}=`;
      if (typeof argument === "string" && argument.startsWith(flag)) return argument.slice(flag.length);
    }
  }
  for (const volume of arrayOf(member(podSpec, "volumes"))) {
    const secretName = text(member(member(volume, "secret"), "secretName"));
    if (secretName) return secretName;
  }
  for (const names of [WIKIT_WEBHOOK_OBJECT_NAMES, UPSTREAM_WEBHOOK_OBJECT_NAMES]) {
    if (names.mutatingWebhookConfiguration === configurationName) return names.certSecret;
  }
  return undefined;
}

/** The findings about the webhook, and what they mean for labelled pods. */
export function checkWebhook(
  snapshot: WebhookSnapshot,
  now: Date,
): { findings: Finding[]; context: WebhookContext } {
  const findings: Finding[] = [];
  const ok = (message: string) => findings.push({ level: "ok", message });
  const warn = (message: string) => findings.push({ level: "warning", message });
  const problem = (message: string) => findings.push({ level: "problem", message });

  const selected = labelledPodWebhooks(snapshot.configurations);
  const first = selected[0];
  if (first === undefined) {
    problem(
      `no MutatingWebhookConfiguration sends pods labelled ${USE_LABEL}=${USE_LABEL_VALUE} to a webhook: install the webhook (wikit webhook manifests | kubectl apply -f -, or the Helm chart)`,
    );
    return { findings, context: { configured: false, ready: false } };
  }
  if (selected.length > 1) {
    warn(
      `${selected.length} webhooks receive labelled pods (${selected.map(({ configuration, webhook }) => `${nameOf(configuration)}: ${String(webhook.name)}`).join(", ")}): run one, or the pods are mutated twice`,
    );
  }
  const { configuration, webhook } = first;
  const configurationName = nameOf(configuration);
  const label = `MutatingWebhookConfiguration ${configurationName}`;
  ok(`${label} sends labelled pods to webhook ${String(webhook.name)}`);

  const failurePolicy = text(webhook.failurePolicy) ?? "Fail";
  if (failurePolicy === "Ignore") {
    warn(
      `${label} has failurePolicy Ignore: while the webhook is unreachable, labelled pods are admitted without mutation (no token, no AZURE_* variables); use Fail`,
    );
  } else ok(`${label} has failurePolicy ${failurePolicy}: a labelled pod is never admitted unmutated`);

  checkObjectSelector(webhook.objectSelector, label, { ok, problem });
  checkRules(webhook.rules, label, { ok, problem });
  const namespaceSelector = webhook.namespaceSelector as LabelSelector | undefined;
  const service = webhookService(webhook);
  describeNamespaceSelector(namespaceSelector, label, ok);
  checkCaBundle(webhook, label, snapshot.certSecret, now, { ok, warn, problem });

  let ready = false;
  let deploymentName: string | undefined;
  if (service === undefined) {
    warn(`${label} calls a URL, not a Service: the webhook's Deployment was not checked`);
  } else if (snapshot.service === undefined) {
    problem(
      `the webhook's Service ${service.namespace}/${service.name} does not exist: the API server cannot call the webhook; reinstall it`,
    );
  } else {
    const deployment = webhookDeployment(snapshot.service, snapshot.deployments);
    if (deployment === undefined) {
      problem(
        `no Deployment in ${service.namespace} backs the Service ${service.name}: the webhook is not running; reinstall it`,
      );
    } else {
      deploymentName = `${service.namespace}/${nameOf(deployment)}`;
      const readyReplicas = Number(member(deployment.status, "readyReplicas") ?? 0);
      ready = readyReplicas >= 1;
      const consequence =
        failurePolicy === "Ignore"
          ? "labelled pods are admitted without mutation"
          : "labelled pods cannot be created";
      if (readyReplicas === 0) {
        problem(
          `the webhook Deployment ${deploymentName} has no ready replica: ${consequence}; see kubectl -n ${service.namespace} describe deployment ${nameOf(deployment)}`,
        );
      } else if (readyReplicas === 1) {
        warn(
          `the webhook Deployment ${deploymentName} has 1 ready replica: a single point of failure (while it restarts, ${consequence}); run 2 or more with a PodDisruptionBudget`,
        );
      } else ok(`the webhook Deployment ${deploymentName} has ${readyReplicas} ready replicas`);
    }
  }
  const configurationCreated = createdAt(configuration);
  return {
    findings,
    context: {
      configured: true,
      configurationName,
      ...(configurationCreated === undefined ? {} : { configurationCreatedAt: configurationCreated }),
      failurePolicy,
      ...(namespaceSelector === undefined ? {} : { namespaceSelector }),
      ready,
      ...(deploymentName === undefined ? {} : { deployment: deploymentName }),
    },
  };
}

type Report = { ok(message: string): void; warn(message: string): void; problem(message: string): void };

function checkObjectSelector(selector: unknown, label: string, report: Pick<Report, "ok" | "problem">): void {
  const wanted = `${USE_LABEL}=${USE_LABEL_VALUE}`;
  if (selector === undefined || Object.keys(selector as object).length === 0) {
    report.problem(
      `${label} has no objectSelector: every pod is sent to the webhook and mutated; select matchLabels ${wanted}`,
    );
    return;
  }
  const selectsLabelled = matchesLabelSelector(selector as LabelSelector, { [USE_LABEL]: USE_LABEL_VALUE });
  const selectsUnlabelled = matchesLabelSelector(selector as LabelSelector, {});
  if (!selectsLabelled) report.problem(`${label}'s objectSelector does not select pods labelled ${wanted}`);
  else if (selectsUnlabelled) report.problem(`${label}'s objectSelector also selects unlabelled pods`);
  else report.ok(`${label} selects pods labelled ${wanted}`);
}

/** Which namespaces the selector leaves out; the pod rows say when a labelled pod sits in one of them. */
function describeNamespaceSelector(
  selector: LabelSelector | undefined,
  label: string,
  ok: (message: string) => void,
): void {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {}))
    parts.push(`namespaces labelled ${key}=${value} only`);
  for (const { key, operator, values = [] } of selector?.matchExpressions ?? []) {
    if (key === NAMESPACE_NAME_LABEL && operator === "NotIn") parts.push(`not ${values.join(", ")}`);
    else if (key === NAMESPACE_NAME_LABEL && operator === "In") parts.push(`only ${values.join(", ")}`);
    else parts.push(`namespaces whose label ${key} matches ${operator} ${values.join(", ")}`.trim());
  }
  ok(
    `${label} mutates pods in ${parts.length === 0 ? "every namespace" : `these namespaces: ${parts.join("; ")}`}`,
  );
}

function checkRules(rules: unknown, label: string, report: Pick<Report, "ok" | "problem">): void {
  const coversPodCreate = arrayOf(rules).some((rule) => {
    const has = (field: string, value: string) =>
      arrayOf(member(rule, field)).some((entry) => entry === value || entry === "*");
    return (
      has("apiGroups", "") &&
      has("apiVersions", "v1") &&
      has("operations", "CREATE") &&
      has("resources", "pods")
    );
  });
  if (!coversPodCreate)
    report.problem(`${label}'s rules do not cover CREATE of pods (group "", v1): no pod is mutated`);
}

/** The caBundle parses, is current, and holds the CA of the webhook's certificate Secret. */
function checkCaBundle(
  webhook: Record<string, unknown>,
  label: string,
  secret: WebhookSnapshot["certSecret"],
  now: Date,
  report: Report,
): void {
  const encoded = text(member(member(webhook, "clientConfig"), "caBundle")) ?? "";
  if (encoded === "") {
    report.problem(
      `${label} has no caBundle: the API server cannot trust the webhook's certificate; the webhook sets it once it runs (or cert-manager's CA injector does)`,
    );
    return;
  }
  let bundle: string[];
  try {
    bundle = splitCertificateBundle(Buffer.from(encoded, "base64").toString("utf8"));
  } catch (error) {
    report.problem(`${label}'s caBundle is not a PEM certificate bundle (${(error as Error).message})`);
    return;
  }
  const current = bundle[0] as string;
  const facts = readCertificateFacts(current);
  const expires = facts.notAfter.toISOString().replace(/\.000Z$/, "Z");
  if (facts.notAfter.getTime() <= now.getTime()) {
    report.problem(
      `${label}'s caBundle CA expired on ${expires}: the API server refuses the webhook; restart the webhook so it renews its CA`,
    );
  } else if (facts.notAfter.getTime() - now.getTime() < CA_BUNDLE_WARNING_DAYS * DAY_MS) {
    report.warn(
      `${label}'s caBundle CA expires on ${expires}, within ${CA_BUNDLE_WARNING_DAYS} days: make sure the webhook renews it (restart it if it does not)`,
    );
  } else report.ok(`${label}'s caBundle CA is valid until ${expires}`);

  if (secret === undefined) return;
  const where = `Secret ${secret.namespace}/${secret.name}`;
  if (secret.object === undefined) {
    report.warn(
      `${where} could not be read (${secret.error ?? "not found"}): the caBundle was not compared with it`,
    );
    return;
  }
  const stored = secret.object.data?.[CERT_SECRET_KEYS.caCert];
  if (stored === undefined) {
    report.warn(`${where} holds no ${CERT_SECRET_KEYS.caCert}: the caBundle was not compared with it`);
    return;
  }
  let secretCa: string | undefined;
  try {
    secretCa = splitCertificateBundle(Buffer.from(stored, "base64").toString("utf8"))[0];
  } catch {
    report.problem(`${where}'s ${CERT_SECRET_KEYS.caCert} is not a PEM certificate`);
    return;
  }
  if (secretCa !== undefined && bundle.includes(secretCa)) {
    report.ok(`${label}'s caBundle holds the CA in ${where}`);
  } else {
    report.problem(
      `${label}'s caBundle does not hold the CA in ${where}: the API server cannot verify the webhook's certificate; restart the webhook so it injects its CA again`,
    );
  }
}
