import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { parseAllDocuments } from "yaml";
import { admissionResponse } from "../../cluster/webhook/admission-review.ts";
import {
  AUTHORITY_HOST_ENV,
  AZURE_TENANT_ID,
  DEFAULT_CERT_DIR,
  DEFAULT_HEALTH_ADDRESS,
  DEFAULT_METRICS_ADDRESS,
  DEFAULT_TLS_MIN_VERSION,
  DEFAULT_WEBHOOK_NAMESPACE,
  EMULATION_ADDRESS_ENV,
  EMULATION_CA_CONFIGMAP_ENV,
  EMULATION_DEFAULT_HOST_NAMES,
  EMULATION_HOST_NAMES_ENV,
  MUTATING_WEBHOOK_CONFIGURATION_NAME,
  WEBHOOK_CERT_SECRET_NAME,
  WEBHOOK_SERVER_PORT,
  WEBHOOK_SERVICE_NAME,
} from "../../cluster/webhook/constants.ts";
import { mutatePod } from "../../cluster/webhook/mutation.ts";
import { type ServiceAccountLike, serviceAccountName } from "../../cluster/webhook/pod-facts.ts";
import {
  buildWebhookConfig,
  type WebhookConfig,
  type WebhookFlags,
} from "../../cluster/webhook/webhook-config.ts";
import { CliError } from "../cli-error.ts";
import { printResult } from "../output.ts";

// `wikit webhook serve` runs the admission webhook in a cluster, with azure-workload-identity's flags and
// environment; `wikit webhook mutate` shows offline what it would do to a pod.

/** The flags both commands share: everything that shapes the mutation, and the server's own settings. */
function addConfigurationOptions(command: Command): Command {
  return command
    .option("--audience <audience>", "audience of the projected token (default: api://AzureADTokenExchange)")
    .option(
      "--authority-host <url>",
      `injected as AZURE_AUTHORITY_HOST instead of the cloud's, e.g. a wikit serve's public URL (env ${AUTHORITY_HOST_ENV})`,
    )
    .option(
      "--webhook-cert-dir <dir>",
      `directory holding tls.crt and tls.key (default: ${DEFAULT_CERT_DIR})`,
    )
    .option("--disable-cert-rotation", "bring your own certificates instead of the built-in rotation")
    .option("--tls-min-version <version>", `1.0, 1.1, 1.2 or 1.3 (default: ${DEFAULT_TLS_MIN_VERSION})`)
    .option(
      "--health-addr <address>",
      `health checks listener, or 0 for none (default: ${DEFAULT_HEALTH_ADDRESS})`,
    )
    .option(
      "--metrics-addr <address>",
      `metrics listener, or 0 for none (default: ${DEFAULT_METRICS_ADDRESS})`,
    )
    .option("--metrics-backend <backend>", "prometheus (the only one)")
    .option("--log-level <level>", '"", info, debug, trace or all (default: "")')
    .option("--port <port>", `admission HTTPS port (default: ${WEBHOOK_SERVER_PORT})`)
    .option("--bind-address <ip>", "address the admission server listens on (default: every interface)")
    .option(
      "--shutdown-delay-seconds <seconds>",
      "after SIGTERM, keep answering (not ready) this long before closing (default: 0)",
    )
    .option(
      "--custom-token-endpoint-annotation-suffix <suffix>",
      "pods opt in with azure.workload.identity/use-<suffix>",
    )
    .option("--custom-token-endpoint-audience <audience>", "token audience for pods that opt in")
    .option("--cert-secret-name <name>", `Secret the rotator keeps (default: ${WEBHOOK_CERT_SECRET_NAME})`)
    .option("--service-name <name>", `the webhook's Service (default: ${WEBHOOK_SERVICE_NAME})`)
    .option(
      "--webhook-configuration-name <name>",
      `MutatingWebhookConfiguration to keep trusting the CA (default: ${MUTATING_WEBHOOK_CONFIGURATION_NAME})`,
    )
    .option(
      "--emulation-address <ip>",
      `wikit's service address; pods then reach wikit under Microsoft's host names (env ${EMULATION_ADDRESS_ENV})`,
    )
    .option(
      "--emulation-host-names <names>",
      `comma-separated names mapped to that address (env ${EMULATION_HOST_NAMES_ENV}; default: ${EMULATION_DEFAULT_HOST_NAMES.join(",")})`,
    )
    .option(
      "--emulation-ca-configmap <name>",
      `ConfigMap with the CA bundle under ca.crt, in each pod's namespace (env ${EMULATION_CA_CONFIGMAP_ENV})`,
    );
}

function configFrom(flags: WebhookFlags): WebhookConfig {
  const config = buildWebhookConfig(flags, process.env, { readFile: (path) => readFileSync(path, "utf8") });
  if (!config.ok) throw new CliError(config.error);
  return config.value;
}

/** One object from a JSON or YAML file, with errors that name the flag and the file. */
function readObject(path: string, flag: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new CliError(`cannot read ${flag} ${path}: ${(error as Error).message}`);
  }
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents) || documents.length !== 1) {
    const count = Array.isArray(documents) ? documents.length : 0;
    throw new CliError(`${flag} ${path} holds ${count} documents; give a file with exactly one object`);
  }
  const [document] = documents;
  const problem = document?.errors[0];
  if (problem) throw new CliError(`cannot parse ${flag} ${path}: ${problem.message}`);
  const value: unknown = document?.toJS();
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CliError(`${flag} ${path} does not hold an object`);
  }
  return value as Record<string, unknown>;
}

interface MutateOptions extends WebhookFlags {
  pod: string;
  serviceAccount: string;
  namespace: string;
  kubernetesVersion?: string;
  response?: boolean;
}

function mutateOffline(options: MutateOptions): void {
  const config = configFrom(options);
  let pod: unknown = readObject(options.pod, "--pod");
  let uid = "";
  const review = pod as { kind?: unknown; request?: { uid?: unknown; object?: unknown } };
  if (review.kind === "AdmissionReview") {
    uid = typeof review.request?.uid === "string" ? review.request.uid : "";
    pod = review.request?.object;
  }
  const wanted = serviceAccountName(pod);
  let serviceAccount: ServiceAccountLike | undefined;
  if (options.serviceAccount !== "none") {
    const object = readObject(options.serviceAccount, "--service-account");
    const metadata = (object.metadata ?? {}) as { name?: unknown; namespace?: unknown };
    if (object.kind !== undefined && object.kind !== "ServiceAccount") {
      throw new CliError(
        `--service-account ${options.serviceAccount} holds a ${String(object.kind)}, not a ServiceAccount`,
      );
    }
    if (metadata.name !== undefined && metadata.name !== wanted) {
      throw new CliError(
        `the pod uses service account "${wanted}" but --service-account holds "${String(metadata.name)}"`,
      );
    }
    if (metadata.namespace !== undefined && metadata.namespace !== options.namespace) {
      throw new CliError(
        `--service-account is in namespace "${String(metadata.namespace)}" but --namespace is "${options.namespace}"`,
      );
    }
    serviceAccount = object as ServiceAccountLike;
  }
  const outcome = mutatePod({
    pod,
    serviceAccount,
    namespace: options.namespace,
    config: {
      ...config.mutation,
      ...(options.kubernetesVersion ? { kubernetesVersion: options.kubernetesVersion } : {}),
    },
  });
  if (options.response) {
    const { uid: _uid, ...response } = admissionResponse(
      uid,
      outcome.allowed ? { allowed: true, patch: outcome.patch } : outcome,
    );
    printResult(uid ? { uid, ...response } : response, { keepKeyOrder: true });
    return;
  }
  if (!outcome.allowed) {
    throw new CliError(`the webhook would deny this pod with code ${outcome.code}: ${outcome.message}`);
  }
  printResult(outcome.pod, { keepKeyOrder: true });
}

async function serve(options: WebhookFlags): Promise<void> {
  const config = configFrom(options);
  // The server's libraries (the Kubernetes client above all) load only for `serve`: every other command starts fast.
  const [{ KubeConfig }, { pino }, { webhookLogDestination }, { serveWebhook }] = await Promise.all([
    import("@kubernetes/client-node"),
    import("pino"),
    import("../../cluster/webhook/log-destination.ts"),
    import("../../cluster/webhook/serve-webhook.ts"),
  ]);
  // Asynchronous: writing the line of one admission never holds up the next admission.
  const destination = webhookLogDestination(1);
  const logger = pino({ level: config.loggerLevel, timestamp: pino.stdTimeFunctions.isoTime }, destination);
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromDefault();
  } catch (error) {
    throw new CliError(`cannot load the Kubernetes client configuration: ${(error as Error).message}`);
  }
  if (kubeConfig.getCurrentCluster() === null) {
    throw new CliError("no Kubernetes cluster configured: run inside a pod, or set KUBECONFIG");
  }
  let running: Awaited<ReturnType<typeof serveWebhook>>;
  try {
    running = await serveWebhook(config, { kubeConfig, logger });
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  await running.stopped;
  destination.flushSync();
}

/** Adds `wikit webhook serve` and `wikit webhook mutate`; returns the `webhook` group for further subcommands. */
export function registerWebhookCommands(program: Command): Command {
  const webhook = program
    .command("webhook")
    .description("the pod-mutating admission webhook, compatible with azure-workload-identity");

  addConfigurationOptions(
    webhook
      .command("serve")
      .description(
        `run the admission webhook (HTTPS /mutate-v1-pod, /healthz, /readyz, /metrics); needs ${AZURE_TENANT_ID}, reads POD_NAMESPACE (default ${DEFAULT_WEBHOOK_NAMESPACE})`,
      ),
  ).action(serve);

  addConfigurationOptions(
    webhook
      .command("mutate")
      .description("show offline what the webhook does to a pod: the mutated pod, or the AdmissionResponse")
      .requiredOption("--pod <file>", "the pod (or an AdmissionReview holding it), JSON or YAML")
      .requiredOption(
        "--service-account <file>",
        "its ServiceAccount, JSON or YAML, or 'none' when it does not exist",
      )
      .requiredOption("--namespace <namespace>", "the namespace the pod is created in")
      .option("--tenant-id <tenant>", `the webhook's tenant (default: $${AZURE_TENANT_ID})`)
      .option("--kubernetes-version <version>", "API server version, e.g. 1.32.0 (default: older than 1.32)")
      .option(
        "--response",
        "print the AdmissionResponse (allowed, status, patchType, patch) instead of the pod",
      ),
  ).action(mutateOffline);
  return webhook;
}
