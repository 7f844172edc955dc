import { Command, CommanderError, Option } from "commander";
import { WIKIT_VERSION } from "../names/wikit-release.ts";
import { CliError } from "./cli-error.ts";
import { registerAccountCommands } from "./commands/account.ts";
import { registerAppConfigCommands } from "./commands/appconfig.ts";
import { registerApplyCommands } from "./commands/apply.ts";
import { registerClusterSideCommands } from "./commands/cluster-side.ts";
import { registerClusterCommands } from "./commands/clusters.ts";
import { registerDemo } from "./commands/demo.ts";
import { registerDirectoryObjectCommands } from "./commands/directory-objects.ts";
import { registerDoctorCommand } from "./commands/doctor.ts";
import { registerIssuerCommands, registerIssuerToolCommands } from "./commands/issuer-tools.ts";
import { registerLoginCommands } from "./commands/login.ts";
import { registerResourceCommands } from "./commands/resources.ts";
import { registerServeCommand } from "./commands/serve.ts";
import { registerSignInCommands } from "./commands/sign-in.ts";
import { registerTenantCommands } from "./commands/tenant.ts";
import { registerTokenCommands } from "./commands/token.ts";
import { registerUpDown } from "./commands/up-down.ts";
import { registerWebhookCommands } from "./commands/webhook.ts";
import { registerWebhookManifests } from "./commands/webhook-manifests.ts";
import { configureOutput, type OutputSettings, verbose } from "./output.ts";
import { OUTPUT_FORMATS, QueryError } from "./output-format.ts";
import { configureServer } from "./server-target.ts";

/**
 * Commander reports a missing required option before an unknown one; az names the unknown option first, with the
 * nearest known one, since a misspelt option is usually why the required one is "missing". The check of required
 * options is therefore moved from parsing (where commander runs it) to just before the action, after the
 * unknown-option check.
 */
const REQUIRED_OPTIONS_CHECK = "_checkForMissingMandatoryOptions";
const checkRequiredOptions = (Command.prototype as unknown as Record<string, (this: Command) => void>)[
  REQUIRED_OPTIONS_CHECK
];

class WikitCommand extends Command {
  override createCommand(name?: string): Command {
    return new WikitCommand(name);
  }
}
Object.defineProperty(WikitCommand.prototype, REQUIRED_OPTIONS_CHECK, { value: () => {} });

export function buildProgram(): Command {
  if (typeof checkRequiredOptions !== "function")
    throw new Error(`commander has no ${REQUIRED_OPTIONS_CHECK}`);
  const program = new WikitCommand("wikit")
    .description(
      "workload identity federation, whole and local: cluster issuer, webhook, token service and vault",
    )
    .version(WIKIT_VERSION)
    // az's global arguments, taken anywhere on the command line.
    .addOption(new Option("-o, --output <format>", "output format").choices(OUTPUT_FORMATS).default("json"))
    .option("--query <jmespath>", "JMESPath query string, applied to the result (see http://jmespath.org/)")
    .option("--only-show-errors", "only show errors, suppressing warnings and notes")
    .option("--verbose", "increase logging verbosity: each request made to wikit, and the command's time")
    .option("--debug", "increase logging verbosity to show all debug logs")
    .addOption(
      new Option(
        "--server <url>",
        "a `wikit serve` to manage instead of the local `wikit up` (admin credential: WIKIT_ADMIN_TOKEN or WIKIT_ADMIN_TOKEN_FILE)",
      ).env("WIKIT_SERVER"),
    )
    .showHelpAfterError("(add --help to see the command's options and examples)")
    .exitOverride();
  program.hook("preAction", (_program, action) => {
    checkRequiredOptions.call(action);
    configureOutput(action.optsWithGlobals() as OutputSettings);
    configureServer((action.optsWithGlobals() as { server?: string }).server);
  });
  registerUpDown(program);
  registerServeCommand(program);
  registerResourceCommands(program);
  registerAppConfigCommands(program);
  registerClusterCommands(program);
  registerDirectoryObjectCommands(program);
  registerTenantCommands(program);
  registerApplyCommands(program);
  registerIssuerToolCommands(program);
  registerIssuerCommands(program);
  registerLoginCommands(program, registerAccountCommands(program));
  registerClusterSideCommands(program);
  registerTokenCommands(program);
  registerSignInCommands(program);
  registerWebhookManifests(registerWebhookCommands(program));
  registerDemo(program);
  registerDoctorCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const started = performance.now();
  configureOutput();
  try {
    await buildProgram().parseAsync(argv);
    verbose(`wikit: command ran in ${((performance.now() - started) / 1000).toFixed(3)} seconds`);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; a command line that does not parse exits 2, as az's does.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    if (error instanceof QueryError) {
      process.stderr.write(`wikit: ${error.message}\n`);
      process.exitCode = 2;
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
