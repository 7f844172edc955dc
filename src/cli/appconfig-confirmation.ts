// az asks before the appconfig commands that change things (`kv set`, `kv delete`, `kv import`, `appconfig delete`
// and others) unless `--yes` is given. Without a terminal nobody could answer, so the command stops and says to
// add `--yes`, as az does.

import { createInterface } from "node:readline/promises";
import { CliError } from "./cli-error.ts";

export async function confirmOrStop(question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new CliError(
      `${question.trim()}\nthere is no terminal to confirm on: add --yes to go ahead without asking`,
    );
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await prompt.question(`${question.trimEnd()} (y/n): `)).trim().toLowerCase();
    if (answer !== "y" && answer !== "yes") throw new CliError("Operation cancelled.");
  } finally {
    prompt.close();
  }
}
