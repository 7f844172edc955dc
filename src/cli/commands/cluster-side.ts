import type { Command } from "commander";
import { LocalRunError, runAsPod } from "../../cluster/runner/local-run.ts";
import { CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION } from "../../cluster/webhook/constants.ts";
import type { ServiceAccountLike } from "../../cluster/webhook/pod-facts.ts";
import { dataDirFiles, resolveDataDir } from "../../server/data-dir.ts";
import { CliError } from "../cli-error.ts";
import { note, printResult } from "../output.ts";
import { checkClientId, listIdentities } from "../principal-lookup.ts";
import { type ClusterTarget, expectSuccess, WikitClient } from "../wikit-client.ts";
import { watchFailedSignIns } from "./sign-in.ts";

// Commands on the local clusters' side: service accounts (azwi's `sa create phase service-account`)
// and `wikit run`, which runs a local command as a labelled pod. Each takes `--cluster NAME`; without it, the
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

/** The local cluster's API path of a service account. */
function serviceAccountPath(namespace: string, name: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(name)}`;
}

async function ensureNamespace(
  client: WikitClient,
  cluster: ClusterTarget,
  namespace: string,
): Promise<void> {
  const found = await client.kube(
    "GET",
    `/api/v1/namespaces/${encodeURIComponent(namespace)}`,
    undefined,
    cluster.kubePath,
  );
  if (found.status === 404) {
    expectSuccess(
      await client.kube("POST", "/api/v1/namespaces", { metadata: { name: namespace } }, cluster.kubePath),
    );
    note(`namespace/${namespace} created`);
  } else {
    expectSuccess(found);
  }
}

export function registerClusterSideCommands(program: Command): void {
  const serviceAccount = program
    .command("serviceaccount")
    .alias("sa")
    .description("service accounts of the local cluster");
  serviceAccount
    .command("create")
    .description("create or update a service account annotated with the identity's client ID")
    .option("--data-dir <dir>", "state directory of the running wikit (default: $WIKIT_HOME or ~/.wikit)")
    .requiredOption("--namespace <ns>", "namespace (created when missing)")
    .requiredOption("-n, --name <name>", "service account name")
    .requiredOption("--client-id <id>", "client ID of the managed identity or application")
    .option(
      "--tenant-id <tenant>",
      "tenant of the identity, for cross-tenant use (default: the webhook's tenant)",
    )
    .option(...CLUSTER_OPTION)
    .action(
      async (options: {
        dataDir?: string;
        namespace: string;
        name: string;
        clientId: string;
        tenantId?: string;
        cluster?: string;
      }) => {
        const client = await WikitClient.connect(resolveDataDir(options.dataDir));
        const cluster = await client.cluster(options.cluster);
        checkClientId(
          "--client-id",
          options.clientId,
          await listIdentities(client, await client.subscriptionId()),
        );
        await ensureNamespace(client, cluster, options.namespace);
        const annotations: Record<string, string> = { [CLIENT_ID_ANNOTATION]: options.clientId };
        if (options.tenantId !== undefined) annotations[TENANT_ID_ANNOTATION] = options.tenantId;
        const path = serviceAccountPath(options.namespace, options.name);
        const body = {
          apiVersion: "v1",
          kind: "ServiceAccount",
          metadata: { name: options.name, namespace: options.namespace, annotations },
        };
        printResult(expectSuccess(await client.kube("PUT", path, body, cluster.kubePath)), {
          keepKeyOrder: true,
        });
      },
    );
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
              localNames: ["localhost", `.${client.info.vaultDomain}`],
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
