import type { Command } from "commander";
import { MANAGEMENT_PATHS } from "../../names/local-stack-names.ts";
import { resolveDataDir } from "../../server/data-dir.ts";
import { withDataDir } from "../data-dir-option.ts";
import { printResult } from "../output.ts";
import { ARM_API_VERSION, expectSuccess, WikitClient } from "../wikit-client.ts";

// `wikit tenant create|list`: more directories beside the default one, each with a subscription of its name, for
// setups that cross tenants (an app registered in one, used in another). `wikit account set -s NAME` works in one.

export function registerTenantCommands(program: Command): void {
  const tenant = program.command("tenant").description("tenants (directories), each with one subscription");
  withDataDir(tenant.command("create").description("create a tenant and a subscription of the same name"))
    .requiredOption("-n, --name <name>", "the tenant's name (1-63 letters, digits and '-')")
    .option(
      "--domain <domain>",
      "its domain, which token requests may name instead of its ID (default: NAME.localhost)",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  tenantB=$(wikit tenant create -n fabrikam --query tenantId -o tsv)\n  wikit account set -s fabrikam\n",
    )
    .action(async (options: { dataDir?: string; name: string; domain?: string }) => {
      const client = await WikitClient.connect(resolveDataDir(options.dataDir));
      const response = await client.request(
        "POST",
        `${MANAGEMENT_PATHS.tenants}?api-version=${ARM_API_VERSION}`,
        {
          displayName: options.name,
          ...(options.domain ? { defaultDomain: options.domain } : {}),
        },
      );
      printResult(expectSuccess(response));
    });
  withDataDir(tenant.command("list").description("list the tenants"))
    .addHelpText(
      "after",
      '\nExamples:\n  wikit tenant list --query "[].{name:displayName, id:tenantId}" -o table\n',
    )
    .action(async (options: { dataDir?: string }) => {
      const client = await WikitClient.connect(resolveDataDir(options.dataDir));
      printResult(((await client.arm("GET", "/tenants")) as { value: unknown[] }).value);
    });
}
