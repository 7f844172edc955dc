import type { Command } from "commander";
import { type CliProfile, readCliProfile, resolveDataDir, writeCliProfile } from "../../server/data-dir.ts";
import { withDataDir } from "../data-dir-option.ts";
import { printResult } from "../output.ts";
import { type SubscriptionBody, WikitClient } from "../wikit-client.ts";

// `wikit account list|show|set`: the subscriptions, and which one commands work in, in az's profile shape.

/** The cloud wikit's subscriptions belong to, where az names `AzureCloud`. */
const ENVIRONMENT_NAME = "wikit";

/** Who the CLI acts as: the service principal `wikit login` signed in, else the data directory's admin. */
export function userOf(profile: CliProfile) {
  return profile.login
    ? { name: profile.login.clientId, type: "servicePrincipal" }
    : { name: "wikit-admin", type: "user" };
}

/** A subscription as `az account show` prints it. */
export function accountView(subscription: SubscriptionBody, current: string, user = userOf({})) {
  return {
    environmentName: ENVIRONMENT_NAME,
    homeTenantId: subscription.tenantId,
    id: subscription.subscriptionId,
    isDefault: subscription.subscriptionId === current,
    managedByTenants: [],
    name: subscription.displayName,
    state: subscription.state,
    tenantId: subscription.tenantId,
    user,
  };
}

export function registerAccountCommands(program: Command): Command {
  const account = program.command("account").description("subscriptions, and the one commands work in");
  withDataDir(account.command("list").description("list the subscriptions"))
    .addHelpText("after", '\nExamples:\n  wikit account list --query "[].{name:name, id:id}" -o table\n')
    .action(async (options: { dataDir?: string }) => {
      const client = await WikitClient.connect(resolveDataDir(options.dataDir));
      const current = await client.subscriptionId();
      const user = userOf(await readCliProfile(client.dataDir));
      printResult(
        (await client.subscriptions()).map((subscription) => accountView(subscription, current, user)),
      );
    });
  withDataDir(account.command("show").description("show the current subscription, or the one named"))
    .option("-s, --subscription <name-or-id>", "a subscription's name or ID (default: the current one)")
    .addHelpText("after", "\nExamples:\n  subscriptionId=$(wikit account show --query id -o tsv)\n")
    .action(async (options: { dataDir?: string; subscription?: string }) => {
      const client = await WikitClient.connect(resolveDataDir(options.dataDir));
      const current = await client.subscriptionId();
      const shown = await client.subscriptionId(options.subscription);
      const subscription = (await client.subscriptions()).find((each) => each.subscriptionId === shown);
      const user = userOf(await readCliProfile(client.dataDir));
      if (subscription) printResult(accountView(subscription, current, user));
    });
  withDataDir(account.command("set").description("make a subscription the current one"))
    .requiredOption("-s, --subscription <name-or-id>", "the subscription's name or ID")
    .action(async (options: { dataDir?: string; subscription: string }) => {
      const dataDir = resolveDataDir(options.dataDir);
      const client = await WikitClient.connect(dataDir);
      const profile = await readCliProfile(dataDir);
      await writeCliProfile(dataDir, {
        ...profile,
        subscription: await client.subscriptionId(options.subscription),
      });
    });
  return account;
}
