import { type Command, Option } from "commander";
import { LocalRunError, runAsPod } from "../../cluster/runner/local-run.ts";
import {
  CREATE_DESCRIPTIONS,
  CREATE_ORDER,
  DELETE_DESCRIPTIONS,
  DELETE_ORDER,
  PHASE_ALIASES,
  type PhaseName,
  phaseNamed,
} from "../../cluster/service-accounts/azwi-phases.ts";
import { CLIENT_ID_ANNOTATION } from "../../cluster/webhook/constants.ts";
import type { ServiceAccountLike } from "../../cluster/webhook/pod-facts.ts";
import { dataDirFiles, resolveDataDir } from "../../server/data-dir.ts";
import { CliError } from "../cli-error.ts";
import { serviceAccountPath } from "../local-cluster-target.ts";
import { note, printResult } from "../output.ts";
import {
  createServiceAccount,
  deleteServiceAccount,
  type ServiceAccountFlags,
} from "../service-account-phases.ts";
import { expectSuccess, WikitClient } from "../wikit-client.ts";
import { watchFailedSignIns } from "./sign-in.ts";

// Commands on the cluster side: service accounts (azwi's `sa create|delete` with its phases, on wikit's local
// clusters or a real one through a kubeconfig; see service-account-phases.ts) and `wikit run`, which runs a local command as a labelled pod. Each takes `--cluster NAME`; without it, the
// current cluster (`wikit aks get-credentials`), the only one, or wikit up's own.

const CLUSTER_OPTION = [
  "--cluster <name>",
  "the cluster (default: the current one, see `wikit aks get-credentials`, else wikit up's own)",
] as const;

function collectEnv(value: string, previous: Record<string, string>): Record<string, string> {
  const separator = value.indexOf("=");
  if (separator <= 0) throw new CliError(`--env expects NAME=VALUE, not '${value}'`);
  return { ...previous, [value.slice(0, separator)]: value.slice(separator + 1) };
}

/** The flags of `serviceaccount create|delete`: azwi's names, the short forms wikit had, and wikit's own. */
const FLAGS = {
  serviceAccountName: () => new Option("--service-account-name <name>", "name of the service account"),
  name: () => new Option("-n, --name <name>", "same as --service-account-name"),
  serviceAccountNamespace: () =>
    new Option("--service-account-namespace <ns>", "namespace of the service account (default: default)"),
  namespace: () => new Option("--namespace <ns>", "same as --service-account-namespace"),
  serviceAccountIssuerUrl: () =>
    new Option(
      "--service-account-issuer-url <url>",
      "issuer of the cluster's tokens, verbatim (default on wikit's clusters: theirs; required with a kubeconfig)",
    ),
  serviceAccountTokenExpiration: () =>
    new Option(
      "--service-account-token-expiration <duration>",
      "projected token lifetime, 1h to 24h, as Go writes durations (1h0m0s, 90m, 24h)",
    ),
  aadApplicationName: () =>
    new Option(
      "--aad-application-name <name>",
      "app registration's display name (default: <namespace>-<name>-<hash of the issuer URL>, as azwi)",
    ),
  aadApplicationClientId: () =>
    new Option(
      "--aad-application-client-id <id>",
      "client ID for the service account; alone, it names an existing app or managed identity to use",
    ),
  clientId: () => new Option("--client-id <id>", "same as --aad-application-client-id"),
  aadApplicationObjectId: () =>
    new Option("--aad-application-object-id <id>", "object ID of an existing app registration"),
  servicePrincipalName: () =>
    new Option(
      "--service-principal-name <name>",
      "service principal granted the role (default: the identity's)",
    ),
  servicePrincipalObjectId: () =>
    new Option("--service-principal-object-id <id>", "object ID of the principal granted the role"),
  azureScope: () => new Option("--azure-scope <scope>", "scope of the role assignment, e.g. a vault's ID"),
  azureRole: () => new Option("--azure-role <role>", 'role to grant, e.g. "Key Vault Secrets User"'),
  roleAssignmentId: () => new Option("--role-assignment-id <id>", "ID of the role assignment to delete"),
  tenantId: () =>
    new Option(
      "--tenant-id <tenant>",
      "tenant-id annotation (default: the tenant of the current subscription)",
    ),
  identityName: () =>
    new Option(
      "--identity-name <name>",
      "a user-assigned managed identity instead of an app registration (with -g)",
    ),
  resourceGroup: () => new Option("-g, --resource-group <group>", "resource group of --identity-name"),
  cluster: () => new Option(...CLUSTER_OPTION),
  kubeconfig: () =>
    new Option("--kubeconfig <file>", "a real cluster's kubeconfig instead of wikit's cluster"),
  context: () => new Option("--context <name>", "the kubeconfig context to use (default: its current one)"),
} as const;
type Flag = keyof typeof FLAGS;

const ACCOUNT: Flag[] = ["serviceAccountNamespace", "namespace", "serviceAccountName", "name"];
const TARGET: Flag[] = ["cluster", "kubeconfig", "context"];
const MANAGED_IDENTITY: Flag[] = ["identityName", "resourceGroup"];

/** Each phase's flags, as azwi gives `phase <name>` only its phase's flags (plus wikit's forms of them). */
const PHASE_FLAGS: Record<"create" | "delete", Record<PhaseName, Flag[]>> = {
  create: {
    "aad-application": [
      "aadApplicationName",
      "aadApplicationClientId",
      "clientId",
      "aadApplicationObjectId",
      ...MANAGED_IDENTITY,
    ],
    "service-account": [
      ...ACCOUNT,
      "serviceAccountTokenExpiration",
      "aadApplicationName",
      "aadApplicationClientId",
      "clientId",
      "tenantId",
      ...MANAGED_IDENTITY,
      ...TARGET,
    ],
    "federated-identity": [
      ...ACCOUNT,
      "serviceAccountIssuerUrl",
      "aadApplicationName",
      "aadApplicationObjectId",
      "aadApplicationClientId",
      "clientId",
      ...MANAGED_IDENTITY,
      ...TARGET,
    ],
    "role-assignment": [
      "azureScope",
      "azureRole",
      "servicePrincipalName",
      "servicePrincipalObjectId",
      "aadApplicationClientId",
      "clientId",
      ...MANAGED_IDENTITY,
    ],
  },
  delete: {
    "role-assignment": ["roleAssignmentId"],
    "federated-identity": [
      ...ACCOUNT,
      "serviceAccountIssuerUrl",
      "aadApplicationName",
      "aadApplicationObjectId",
      ...MANAGED_IDENTITY,
      ...TARGET,
    ],
    "service-account": [...ACCOUNT, ...TARGET],
    "aad-application": ["aadApplicationName", "aadApplicationObjectId", ...MANAGED_IDENTITY],
  },
};

/** Flags as commander parsed them, with the short forms folded into azwi's names. */
function mergedFlags(
  options: ServiceAccountFlags & {
    name?: string;
    namespace?: string;
    clientId?: string;
    subscriptionId?: string;
  },
) {
  const { name, namespace, clientId, subscriptionId, ...rest } = options;
  return {
    ...rest,
    subscription: rest.subscription ?? subscriptionId,
    serviceAccountName: rest.serviceAccountName ?? name,
    serviceAccountNamespace: rest.serviceAccountNamespace ?? namespace,
    aadApplicationClientId: rest.aadApplicationClientId ?? clientId,
  };
}

function addFlags(command: Command, flags: readonly Flag[]): Command {
  command
    .option("--data-dir <dir>", "state directory of the running wikit (default: $WIKIT_HOME or ~/.wikit)")
    .option("--subscription <name-or-id>", "subscription of the identity (default: the current one)")
    .option("-s, --subscription-id <id>", "same as --subscription (azwi's name)");
  for (const flag of new Set(flags)) command.addOption(FLAGS[flag]());
  return command;
}

/** `serviceaccount create|delete [flags]` and `serviceaccount create|delete phase <name> [flags]`. */
function registerPhasedCommand(serviceAccount: Command, verb: "create" | "delete"): void {
  const order = verb === "create" ? CREATE_ORDER : DELETE_ORDER;
  const descriptions = verb === "create" ? CREATE_DESCRIPTIONS : DELETE_DESCRIPTIONS;
  const action = verb === "create" ? createServiceAccount : deleteServiceAccount;
  const width = Math.max(...order.map((phase) => phase.length));
  const allFlags = order.flatMap((phase) => PHASE_FLAGS[verb][phase]);
  const phaseList = order.map(
    (phase) => `  ${phase.padEnd(width)}  (${PHASE_ALIASES[phase]})  ${descriptions[phase]}`,
  );
  // `phase <name>` is read as two arguments rather than as subcommands: commander would give a subcommand's flags
  // to the `create` command of the same names, so the phase's flags are checked here instead.
  addFlags(
    serviceAccount
      .command(verb)
      .description(
        verb === "create"
          ? "set up a service account for workload identity, as `azwi sa create`: identity, service account, federated credential, role"
          : "undo `serviceaccount create`, as `azwi sa delete`: role assignment, federated credential, service account, identity",
      )
      .argument("[phase]", "the word `phase`, to run one phase alone")
      .argument("[name]", "the phase to run alone: its name or short name"),
    allFlags,
  )
    .option("--skip-phases <phases>", `phases to skip, comma-separated: ${order.join(", ")}`, collectList, [])
    .addHelpText(
      "after",
      `\nPhases, in order (short name in brackets):\n${phaseList.join("\n")}\n\nExamples:\n  wikit serviceaccount ${verb} --service-account-namespace NS --service-account-name SA --skip-phases role-assignment\n  wikit serviceaccount ${verb} phase service-account --namespace NS -n SA${verb === "create" ? " --client-id ID" : ""}\n`,
    )
    .action(
      async (
        word: string | undefined,
        phaseName: string | undefined,
        options: ServiceAccountFlags,
        command: Command,
      ) => {
        if (word === undefined) return action(mergedFlags(options));
        if (word !== "phase") {
          throw new CliError(
            `unknown command "${word}" for "wikit serviceaccount ${verb}"; to run one phase: ${verb} phase <name>`,
          );
        }
        const phase = phaseName === undefined ? undefined : phaseNamed(phaseName);
        if (phase === undefined) {
          throw new CliError(
            `${phaseName === undefined ? "name the phase" : `unknown phase '${phaseName}'`}: \`wikit serviceaccount ${verb} phase <name>\` runs one of ${order.map((each) => `${each} (${PHASE_ALIASES[each]})`).join(", ")}`,
          );
        }
        // As azwi's `phase` commands: only the phase's own flags.
        const allowed = new Set<string>([
          "dataDir",
          "subscription",
          "subscriptionId",
          ...PHASE_FLAGS[verb][phase],
        ]);
        const foreign = command.options.filter((option) => {
          const key = option.attributeName();
          return command.getOptionValueSource(key) === "cli" && !allowed.has(key);
        });
        if (foreign.length > 0) {
          throw new CliError(
            `phase ${phase} does not take ${foreign.map((option) => option.long).join(", ")}; it takes ${PHASE_FLAGS[verb][phase].map((flag) => FLAGS[flag]().long).join(", ")}`,
            2,
          );
        }
        return action(mergedFlags(options), phase);
      },
    );
}

function collectList(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerClusterSideCommands(program: Command): void {
  const serviceAccount = program
    .command("serviceaccount")
    .alias("sa")
    .description("service accounts for workload identity, on wikit's clusters or a real one (as `azwi sa`)");
  registerPhasedCommand(serviceAccount, "create");
  registerPhasedCommand(serviceAccount, "delete");
  serviceAccount
    .command("show")
    .description("show a service account")
    .option("--data-dir <dir>", "state directory of the running wikit (default: $WIKIT_HOME or ~/.wikit)")
    .requiredOption("--namespace <ns>", "namespace")
    .requiredOption("-n, --name <name>", "service account name")
    .option(...CLUSTER_OPTION)
    .action(async (options: { dataDir?: string; namespace: string; name: string; cluster?: string }) => {
      const client = await WikitClient.connect(resolveDataDir(options.dataDir));
      const cluster = await client.cluster(options.cluster);
      const path = serviceAccountPath(options.namespace, options.name);
      printResult(expectSuccess(await client.kube("GET", path, undefined, cluster.kubePath)), {
        keepKeyOrder: true,
      });
    });

  program
    .command("run")
    .description(
      'run a command as a pod labelled azure.workload.identity/use="true" with this service account',
    )
    .option("--data-dir <dir>", "state directory of the running wikit (default: $WIKIT_HOME or ~/.wikit)")
    .requiredOption("--namespace <ns>", "namespace")
    .requiredOption("--service-account <name>", "service account")
    .option(
      "--env <NAME=VALUE>",
      "container env (repeatable); wins over injected variables, as in a pod spec",
      collectEnv,
      {},
    )
    .option(...CLUSTER_OPTION)
    .option(
      "--no-authority-proxy",
      "do not give the command wikit's names through a loopback HTTPS_PROXY (they must then resolve through DNS)",
    )
    .argument("<command>", "command to run")
    .argument("[args...]", "its arguments")
    .action(
      async (
        command: string,
        args: string[],
        options: {
          dataDir?: string;
          namespace: string;
          serviceAccount: string;
          env: Record<string, string>;
          authorityProxy: boolean;
          cluster?: string;
        },
      ) => {
        const dataDir = resolveDataDir(options.dataDir);
        const client = await WikitClient.connect(dataDir);
        const cluster = await client.cluster(options.cluster);
        // A failed exchange of the command gets one line here, instead of being left to the SDK's error text.
        const subject = `system:serviceaccount:${options.namespace}:${options.serviceAccount}`;
        // The client ID the command signs in as: the service account's annotation, unless --env sets another.
        let clientId = options.env.AZURE_CLIENT_ID;
        const signInFailures = watchFailedSignIns(
          client,
          // A request without an assertion (a client secret instead, say) shows no subject, only its client ID.
          (record) =>
            record.subject === subject ||
            (record.subject === undefined && clientId !== undefined && record.clientId === clientId),
          note,
        );
        try {
          const exitCode = await runAsPod(
            {
              namespace: options.namespace,
              serviceAccount: options.serviceAccount,
              command,
              args,
              env: options.env,
            },
            {
              getServiceAccount: async (ns, name) => {
                const response = await client.kube(
                  "GET",
                  serviceAccountPath(ns, name),
                  undefined,
                  cluster.kubePath,
                );
                if (response.status === 404) return undefined;
                const serviceAccount = expectSuccess(response) as ServiceAccountLike;
                clientId ??= serviceAccount.metadata?.annotations?.[CLIENT_ID_ANNOTATION];
                return serviceAccount;
              },
              requestToken: async (ns, name, spec) => {
                const response = expectSuccess(
                  await client.kube(
                    "POST",
                    `${serviceAccountPath(ns, name)}/token`,
                    { spec },
                    cluster.kubePath,
                  ),
                ) as {
                  status: { token: string };
                };
                return response.status.token;
              },
              // The webhook of the cluster's tenant, as AKS's defaults AZURE_TENANT_ID to the cluster's.
              mutation: { tenantId: cluster.tenantId, authorityHost: `${client.info.url}/` },
              caFile: client.info.caFile,
              authorityProxyTarget: options.authorityProxy
                ? { host: "127.0.0.1", port: client.info.port }
                : undefined,
              localNames: [
                "localhost",
                `.${client.info.vaultDomain}`,
                ...(client.info.appConfigDomain ? [`.${client.info.appConfigDomain}`] : []),
              ],
              runsDir: dataDirFiles.runs(dataDir),
              warn: note,
            },
          );
          process.exitCode = exitCode;
        } catch (error) {
          if (error instanceof LocalRunError) throw new CliError(error.message);
          throw error;
        } finally {
          await signInFailures.stop();
        }
      },
    );
}
