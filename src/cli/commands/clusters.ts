import type { Command } from "commander";
import { providerResourceId, RESOURCE_TYPES } from "../../names/arm-resource-ids.ts";
import { LOCAL_CLUSTER } from "../../names/local-stack-names.ts";
import { readCliProfile, writeCliProfile } from "../../server/data-dir.ts";
import { CliError } from "../cli-error.ts";
import { flattenResource, note, printResult } from "../output.ts";
import type { WikitClient } from "../wikit-client.ts";
import { type Common, connect, withCommon } from "./command-common.ts";
import { listCommand } from "./resources.ts";

// `wikit aks …` (and `wikit cluster show`, its first name): local clusters in az aks's shape. wikit up runs its own
// ('local' in group 'wikit'); `aks create` adds more, each with its own OIDC issuer, signing keys and Kubernetes
// objects, so that one machine holds the clusters of a multi-cluster or cross-tenant walkthrough.

type ClusterOptions = Common & { resourceGroup: string; name: string };

const clusterId = (subscription: string, options: ClusterOptions) =>
  providerResourceId(subscription, options.resourceGroup, RESOURCE_TYPES.managedCluster, options.name);

/** A managed cluster as az prints it, and a clear word when there is no such cluster. */
async function showCluster(client: WikitClient, subscription: string, options: ClusterOptions) {
  try {
    return flattenResource(
      (await client.arm("GET", clusterId(subscription, options))) as Record<string, unknown>,
    );
  } catch (error) {
    if (error instanceof CliError && /^\((ResourceNotFound|ResourceGroupNotFound)\)/.test(error.message)) {
      throw new CliError(
        `${error.message} See \`wikit aks list\`; wikit up's own cluster is '${LOCAL_CLUSTER.name}' in group '${LOCAL_CLUSTER.resourceGroup}'.`,
      );
    }
    throw error;
  }
}

const named = (command: Command) =>
  withCommon(command)
    .requiredOption("-g, --resource-group <rg>", "resource group")
    .requiredOption("-n, --name <name>", "cluster name");

export function registerClusterCommands(program: Command): void {
  const aks = program
    .command("aks")
    .description("managed clusters: wikit up's own and those aks create adds");
  named(aks.command("create").description("create a cluster with its own OIDC issuer and workload identity"))
    .option("--enable-oidc-issuer", "serve the cluster's OIDC issuer (always on)")
    .option("--enable-workload-identity", "inject workload identity into labelled pods (always on)")
    .option("--tags <tag...>", "tags as NAME=VALUE")
    .addHelpText(
      "after",
      `
Examples:
  wikit aks create --name aks-wi-demo --resource-group rg-wi-demo --enable-oidc-issuer --enable-workload-identity
  oidcIssuerUrl=$(wikit aks show -n aks-wi-demo -g rg-wi-demo --query oidcIssuerProfile.issuerUrl -o tsv)
`,
    )
    .action(async (options: ClusterOptions & { tags?: string[] }) => {
      const { client, subscription } = await connect(options);
      const tags = Object.fromEntries(
        (options.tags ?? []).map((tag) => {
          const separator = tag.indexOf("=");
          return separator < 0 ? [tag, ""] : [tag.slice(0, separator), tag.slice(separator + 1)];
        }),
      );
      const body = {
        ...(options.tags ? { tags } : {}),
        properties: {
          oidcIssuerProfile: { enabled: true },
          securityProfile: { workloadIdentity: { enabled: true } },
        },
      };
      try {
        printResult(await client.arm("PUT", clusterId(subscription, options), body));
      } catch (error) {
        if (error instanceof CliError && error.message.startsWith("(ResourceGroupNotFound)")) {
          throw new CliError(
            `${error.message} Create it with: wikit group create --name ${options.resourceGroup}`,
          );
        }
        throw error;
      }
    });
  named(aks.command("show").description("show a cluster, including oidcIssuerProfile.issuerUrl"))
    .addHelpText(
      "after",
      '\nExamples:\n  export AKS_OIDC_ISSUER="$(wikit aks show -n local -g wikit --query "oidcIssuerProfile.issuerUrl" -o tsv)"\n',
    )
    .action(async (options: ClusterOptions) => {
      const { client, subscription } = await connect(options);
      printResult(await showCluster(client, subscription, options));
    });
  listCommand(aks, "list the clusters", RESOURCE_TYPES.managedCluster, flattenResource);
  named(
    aks
      .command("update")
      .description("update a cluster; its OIDC issuer and workload identity are always on"),
  )
    .option("--enable-oidc-issuer", "serve the cluster's OIDC issuer (always on)")
    .option("--enable-workload-identity", "inject workload identity into labelled pods (always on)")
    .action(async (options: ClusterOptions) => {
      const { client, subscription } = await connect(options);
      printResult(await showCluster(client, subscription, options));
    });
  named(aks.command("delete").description("delete a cluster with its service accounts (not wikit up's own)"))
    .option("-y, --yes", "do not ask for confirmation")
    .action(async (options: ClusterOptions & { yes?: boolean }) => {
      if (!options.yes) {
        throw new CliError(
          `deleting cluster '${options.name}' removes its namespaces and service accounts; add --yes to go ahead`,
        );
      }
      const { client, subscription } = await connect(options);
      await client.arm("DELETE", clusterId(subscription, options));
      const profile = await readCliProfile(client.dataDir);
      if (profile.cluster?.name === options.name && profile.cluster.resourceGroup === options.resourceGroup) {
        const { cluster: _deleted, ...rest } = profile;
        await writeCliProfile(client.dataDir, rest);
      }
    });
  named(
    aks
      .command("get-credentials")
      .description("make a cluster the current one, for serviceaccount and run without --cluster"),
  )
    .addHelpText("after", "\nExamples:\n  wikit aks get-credentials -g rg-wi-demo -n aks-wi-demo\n")
    .action(async (options: ClusterOptions) => {
      const { client, subscription } = await connect(options);
      const cluster = await showCluster(client, subscription, options);
      const profile = await readCliProfile(client.dataDir);
      await writeCliProfile(client.dataDir, {
        ...profile,
        cluster: { subscription, resourceGroup: options.resourceGroup, name: String(cluster.name) },
      });
      note(`Merged "${cluster.name}" as current context`);
    });

  const cluster = program.command("cluster").description("wikit up's own cluster (az aks show's shape)");
  withCommon(cluster.command("show").description("show the cluster, including oidcIssuerProfile.issuerUrl"))
    .option("-g, --resource-group <rg>", "resource group", LOCAL_CLUSTER.resourceGroup)
    .option("-n, --name <name>", "cluster name", LOCAL_CLUSTER.name)
    .action(async (options: ClusterOptions) => {
      const { client, subscription } = await connect(options);
      printResult(await showCluster(client, subscription, options));
    });
}
