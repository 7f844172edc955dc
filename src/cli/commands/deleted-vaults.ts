import type { Command } from "commander";
import { CliError } from "../cli-error.ts";
import { printResult } from "../output.ts";
import type { WikitClient } from "../wikit-client.ts";
import { type Common, connect, locateVault, withCommon } from "./command-common.ts";

// `wikit keyvault delete|list-deleted|show-deleted|recover|purge`: vaults are soft-deleted, as Key Vault's are. A
// deleted vault keeps its secrets and its name until `recover` brings it back or `purge` erases it.

interface DeletedVault {
  id: string;
  name: string;
  properties: { vaultId: string; location: string };
}

/** The subscription's deleted vault of this name (and location, when given). */
async function findDeleted(client: WikitClient, subscription: string, name: string, location?: string) {
  const { value } = (await client.arm(
    "GET",
    `/subscriptions/${subscription}/providers/Microsoft.KeyVault/deletedVaults`,
  )) as { value: DeletedVault[] };
  const found = value.find(
    (vault) =>
      vault.name.toLowerCase() === name.toLowerCase() &&
      (location === undefined || vault.properties.location.toLowerCase() === location.toLowerCase()),
  );
  if (!found) {
    throw new CliError(
      `No deleted vault is named '${name}' in subscription ${subscription}. See \`wikit keyvault list-deleted\`.`,
    );
  }
  return found;
}

export function registerDeletedVaultCommands(keyvault: Command): void {
  withCommon(
    keyvault.command("delete").description("delete a vault: soft-deleted, with its secrets, until purged"),
  )
    .requiredOption("-n, --name <name>", "vault name")
    .option("-g, --resource-group <rg>", "resource group (default: found by name)")
    .addHelpText(
      "after",
      "\nExamples:\n  wikit keyvault delete -n kv-demo && wikit keyvault recover -n kv-demo\n",
    )
    .action(async (options: Common & { name: string; resourceGroup?: string }) => {
      const { client, subscription } = await connect(options);
      await client.arm(
        "DELETE",
        await locateVault(client, subscription, options.name, options.resourceGroup),
      );
    });
  withCommon(keyvault.command("list-deleted").description("list the soft-deleted vaults")).action(
    async (options: Common) => {
      const { client, subscription } = await connect(options);
      const { value } = (await client.arm(
        "GET",
        `/subscriptions/${subscription}/providers/Microsoft.KeyVault/deletedVaults`,
      )) as { value: unknown[] };
      printResult(value);
    },
  );
  withCommon(keyvault.command("show-deleted").description("show a soft-deleted vault"))
    .requiredOption("-n, --name <name>", "vault name")
    .option("-l, --location <location>", "its location (default: found by name)")
    .action(async (options: Common & { name: string; location?: string }) => {
      const { client, subscription } = await connect(options);
      printResult(await findDeleted(client, subscription, options.name, options.location));
    });
  withCommon(keyvault.command("recover").description("bring a soft-deleted vault back, with its secrets"))
    .requiredOption("-n, --name <name>", "vault name")
    .option("-l, --location <location>", "its location (default: found by name)")
    .action(async (options: Common & { name: string; location?: string }) => {
      const { client, subscription } = await connect(options);
      const deleted = await findDeleted(client, subscription, options.name, options.location);
      printResult(
        await client.arm("PUT", deleted.properties.vaultId, {
          location: deleted.properties.location,
          properties: { createMode: "recover" },
        }),
      );
    });
  withCommon(keyvault.command("purge").description("erase a soft-deleted vault and its secrets for good"))
    .requiredOption("-n, --name <name>", "vault name")
    .option("-l, --location <location>", "its location (default: found by name)")
    .action(async (options: Common & { name: string; location?: string }) => {
      const { client, subscription } = await connect(options);
      const deleted = await findDeleted(client, subscription, options.name, options.location);
      const response = await client.request("POST", `${deleted.id}/purge?api-version=2023-07-01`);
      if (response.status >= 300) throw new CliError(`purge failed: ${JSON.stringify(response.body)}`);
    });
}
