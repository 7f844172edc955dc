import type { Command } from "commander";
import { resourceGroupId } from "../../names/arm-resource-ids.ts";
import { confirmOrStop } from "../appconfig-confirmation.ts";
import { configurationStoreTable, credentialTable, parseTags } from "../appconfig-key-values.ts";
import { CliError } from "../cli-error.ts";
import { flattenResource, printResult } from "../output.ts";
import { registerKeyValueCommands } from "./appconfig-kv.ts";
import {
  type AccessKeyBody,
  appConfigArm,
  type ConfigurationStoreBody,
  listStores,
  locateStore,
  storeId,
} from "./appconfig-store-access.ts";
import { type Common, connect, withCommon } from "./command-common.ts";

// `wikit appconfig create|show|list|delete` and `appconfig credential list|regenerate`: App Configuration stores as
// ARM resources, printed as az prints them (the store's properties at the top level, with its resource group), and
// their access keys. The key-values are `appconfig kv` (appconfig-kv.ts).

const SKUS = ["Free", "Standard"] as const;

/** az takes `--sku` in any case. */
function parseSku(given: string): string {
  const sku = SKUS.find((candidate) => candidate.toLowerCase() === given.toLowerCase());
  if (!sku) throw new CliError(`--sku: '${given}' is not one of ${SKUS.join(", ")}`, 2);
  return sku;
}

const storeView = (store: ConfigurationStoreBody) => flattenResource(store);
const asStores = { table: configurationStoreTable };

type StoreOptions = Common & { name: string; resourceGroup?: string };

export function registerAppConfigCommands(program: Command): void {
  const appconfig = program
    .command("appconfig")
    .description("App Configuration stores and their key-values (az appconfig)");

  withCommon(appconfig.command("create").description("create an App Configuration store"))
    .requiredOption(
      "-n, --name <name>",
      "store name: 5-50 letters, digits and '-'; global, as it names the endpoint",
    )
    .requiredOption("-g, --resource-group <rg>", "resource group")
    .option("-l, --location <location>", "location (default: the resource group's)")
    .option("--sku <sku>", "Free or Standard", parseSku, "Standard")
    .option("--tags <tag...>", "space-separated tags: key[=value] …")
    .addHelpText(
      "after",
      "\nExamples:\n  wikit appconfig create -g rg-app -n appcs-demo --sku Standard\n  wikit appconfig show -n appcs-demo --query endpoint -o tsv\n",
    )
    .action(
      async (
        options: StoreOptions & { resourceGroup: string; location?: string; sku: string; tags?: string[] },
      ) => {
        const { client, subscription } = await connect(options);
        // As az: the group's location unless one is given, lower-cased.
        const group = (await client
          .arm("GET", resourceGroupId(subscription, options.resourceGroup))
          .catch((error: unknown) => {
            if (error instanceof CliError && error.message.startsWith("(ResourceGroupNotFound)")) {
              throw new CliError(
                `${error.message} Create it with: wikit group create --name ${options.resourceGroup}`,
              );
            }
            throw error;
          })) as { location: string };
        const body = {
          location: (options.location ?? group.location).toLowerCase(),
          sku: { name: options.sku.toLowerCase() },
          tags: parseTags(options.tags ?? []),
          properties: {},
        };
        const created = await appConfigArm(
          client,
          "PUT",
          storeId(subscription, options.resourceGroup, options.name),
          body,
        );
        printResult(storeView(created as ConfigurationStoreBody), asStores);
      },
    );

  withCommon(appconfig.command("show").description("show an App Configuration store"))
    .requiredOption("-n, --name <name>", "store name")
    .option("-g, --resource-group <rg>", "resource group (default: found by name)")
    .action(async (options: StoreOptions) => {
      const { client, subscription } = await connect(options);
      printResult(
        storeView(await locateStore(client, subscription, options.name, options.resourceGroup)),
        asStores,
      );
    });

  withCommon(appconfig.command("list").description("list App Configuration stores"))
    .option("-g, --resource-group <rg>", "resource group (default: the whole subscription)")
    .action(async (options: Common & { resourceGroup?: string }) => {
      const { client, subscription } = await connect(options);
      printResult((await listStores(client, subscription, options.resourceGroup)).map(storeView), asStores);
    });

  withCommon(appconfig.command("delete").description("delete an App Configuration store with its key-values"))
    .requiredOption("-n, --name <name>", "store name")
    .option("-g, --resource-group <rg>", "resource group (default: found by name)")
    .option("-y, --yes", "do not prompt for confirmation")
    .action(async (options: StoreOptions & { yes?: boolean }) => {
      const { client, subscription } = await connect(options);
      const store = await locateStore(client, subscription, options.name, options.resourceGroup);
      await confirmOrStop("Are you sure you want to perform this operation?", options.yes);
      await appConfigArm(client, "DELETE", store.id);
    });

  const credential = appconfig.command("credential").description("a store's access keys");
  withCommon(credential.command("list").description("list a store's access keys and connection strings"))
    .requiredOption("-n, --name <name>", "store name")
    .option("-g, --resource-group <rg>", "resource group (default: found by name)")
    .action(async (options: StoreOptions) => {
      const { client, subscription } = await connect(options);
      const store = await locateStore(client, subscription, options.name, options.resourceGroup);
      const { value } = (await appConfigArm(client, "POST", `${store.id}/listKeys`)) as {
        value: AccessKeyBody[];
      };
      printResult(value, { table: credentialTable });
    });
  withCommon(
    credential
      .command("regenerate")
      .description("make a new secret for one access key: requests signed with the old one fail at once"),
  )
    .requiredOption("-n, --name <name>", "store name")
    .option("-g, --resource-group <rg>", "resource group (default: found by name)")
    .requiredOption(
      "--id <key-id>",
      "ID of the key to regenerate, as `wikit appconfig credential list` shows it",
    )
    .addHelpText(
      "after",
      '\nExamples:\n  wikit appconfig credential regenerate -n appcs-demo --id "$(wikit appconfig credential list -n appcs-demo --query "[0].id" -o tsv)"\n',
    )
    .action(async (options: StoreOptions & { id: string }) => {
      const { client, subscription } = await connect(options);
      const store = await locateStore(client, subscription, options.name, options.resourceGroup);
      printResult(await appConfigArm(client, "POST", `${store.id}/regenerateKey`, { id: options.id }), {
        table: credentialTable,
      });
    });

  registerKeyValueCommands(appconfig.command("kv").description("key-values of a store (az appconfig kv)"));
}
