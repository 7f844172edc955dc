import type { Command } from "commander";
import { MANAGEMENT_PATHS } from "../../names/local-stack-names.ts";
import { resolveDataDir } from "../../server/data-dir.ts";
import { CliError } from "../cli-error.ts";
import { printResult } from "../output.ts";
import { parseSince, runHint, type SignInView, signInRows } from "../sign-in-view.ts";
import { WikitClient } from "../wikit-client.ts";

// `wikit signin list`: the local sign-in log, newest first; and the watch behind `wikit run`'s hint.

export function registerSignInCommands(program: Command): void {
  const signIn = program.command("signin").description("the sign-in log: every token request and its result");
  signIn
    .command("list")
    .description("list sign-ins, newest first")
    .option("--data-dir <dir>", "state directory of the running wikit (default: $WIKIT_HOME or ~/.wikit)")
    .option("--failed", "only failed sign-ins")
    .option("--client-id <id>", "only sign-ins of this client ID")
    .option(
      "--since <when>",
      "only sign-ins since a time (2026-12-04T10:00:00Z) or a duration ago (30s, 10m, 2h, 7d)",
    )
    .option("--top <n>", "at most this many", "100")
    .action(
      async (options: {
        dataDir?: string;
        failed?: boolean;
        clientId?: string;
        since?: string;
        top: string;
      }) => {
        let since: string | undefined;
        try {
          since = options.since === undefined ? undefined : parseSince(options.since);
        } catch (error) {
          throw new CliError((error as Error).message);
        }
        const client = await WikitClient.connect(resolveDataDir(options.dataDir));
        const records = await listSignIns(client, {
          failed: options.failed ? "true" : undefined,
          clientId: options.clientId,
          since,
          top: options.top,
        });
        printResult(records, { table: (value) => signInRows(value as SignInView[]) });
      },
    );
}

async function listSignIns(
  client: WikitClient,
  query: Record<string, string | undefined>,
): Promise<SignInView[]> {
  const parameters = new URLSearchParams(
    Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const { value } = (await client.arm("GET", `${MANAGEMENT_PATHS.signIns}?${parameters}`)) as {
    value: SignInView[];
  };
  return value;
}

/** How often `wikit run` looks for failed sign-ins of its command while it runs. */
const WATCH_INTERVAL_MS = 1_000;

/**
 * Watches the sign-in log for failures that `isOurs` from now on and reports each distinct one once, as a one-line
 * hint. `stop()` looks a last time (the command's last exchange may have failed just before it exited).
 */
export function watchFailedSignIns(
  client: WikitClient,
  isOurs: (record: SignInView) => boolean,
  report: (line: string) => void,
): { stop(): Promise<void> } {
  // A second back: the server stamps a record before the client's clock may have moved on.
  const since = new Date(Date.now() - 1_000).toISOString();
  const reported = new Set<string>();
  const look = async () => {
    const failed = await listSignIns(client, { failed: "true", since, top: "50" }).catch(() => []);
    for (const record of failed.reverse()) {
      if (!isOurs(record)) continue;
      const hint = runHint(record);
      if (reported.has(hint)) continue;
      reported.add(hint);
      report(hint);
    }
  };
  let looking: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    looking = looking.then(look);
  }, WATCH_INTERVAL_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await looking;
      await look();
    },
  };
}
