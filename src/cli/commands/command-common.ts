import type { Command } from "commander";
import { providerResourceId, RESOURCE_TYPES } from "../../names/arm-resource-ids.ts";
import { resolveDataDir } from "../../server/data-dir.ts";
import { CliError } from "../cli-error.ts";
import { WikitClient } from "../wikit-client.ts";

// What the az-shaped resource commands share: the options every one takes, the connection, and finding a vault.

/** Every resource command's options: the data directory and the subscription. */
export interface Common {
  dataDir?: string;
  subscription?: string;
}

/** A connection to the running wikit, and the subscription the command works in. */
export async function connect(options: Common) {
  const client = await WikitClient.connect(resolveDataDir(options.dataDir));
  return { client, subscription: await client.subscriptionId(options.subscription) };
}

/** `--data-dir` and `--subscription`. */
export function withCommon(command: Command): Command {
  return command
    .option("--data-dir <dir>", "state directory of the running wikit (default: $WIKIT_HOME or ~/.wikit)")
    .option(
      "--subscription <name-or-id>",
      "subscription name or ID (default: the current one, see `wikit account set`)",
    );
}

/** A vault's resource ID: from the group when given, else by searching the subscription for the name. */
export async function locateVault(
  client: WikitClient,
  subscription: string,
  name: string,
  group?: string,
): Promise<string> {
  if (group) return providerResourceId(subscription, group, RESOURCE_TYPES.vault, name);
  const { value } = (await client.arm(
    "GET",
    `/subscriptions/${subscription}/providers/${RESOURCE_TYPES.vault}`,
  )) as { value: { id: string; name: string }[] };
  const vault = value.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
  if (!vault)
    throw new CliError(
      `The vault '${name}' was not found in subscription ${subscription}. Create it with: wikit keyvault create -g <group> -n ${name}`,
    );
  return vault.id;
}
