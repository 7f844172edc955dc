import type { Command } from "commander";

/** `--data-dir`, which every command that talks to a running wikit takes. */
export function withDataDir(command: Command): Command {
  return command.option(
    "--data-dir <dir>",
    "state directory of the running wikit (default: $WIKIT_HOME or ~/.wikit)",
  );
}
