import { Command, CommanderError } from "commander";
import { WIKIT_VERSION } from "../names/wikit-release.ts";
import { CliError } from "./cli-error.ts";
import { registerClusterSideCommands } from "./commands/cluster-side.ts";
import { registerDemo } from "./commands/demo.ts";
import { registerResourceCommands } from "./commands/resources.ts";
import { registerSignInCommands } from "./commands/sign-in.ts";
import { registerTokenCommands } from "./commands/token.ts";
import { registerUpDown } from "./commands/up-down.ts";
import { registerWebhookCommands } from "./commands/webhook.ts";
import { registerWebhookManifests } from "./commands/webhook-manifests.ts";

export function buildProgram(): Command {
  const program = new Command("wikit")
    .description(
      "workload identity federation, whole and local: cluster issuer, webhook, token service and vault",
    )
    .version(WIKIT_VERSION)
    .showHelpAfterError()
    .exitOverride();
  registerUpDown(program);
  registerResourceCommands(program);
  registerClusterSideCommands(program);
  registerTokenCommands(program);
  registerSignInCommands(program);
  registerWebhookManifests(registerWebhookCommands(program));
  registerDemo(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    if (error instanceof CliError) {
      process.stderr.write(`wikit: ${error.message}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(`wikit: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}

if (import.meta.main) await main(process.argv);
