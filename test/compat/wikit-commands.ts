// Runs several `wikit` commands one after another in one process, as a script of `wikit` lines would but
// without a process start for each: argv[2] is a JSON array of argument lists (what follows `wikit`). After
// each command's output comes a line holding only U+001E, so the caller can split the outputs; the first
// failing command ends the run with its exit code, its message on stderr as usual.
import { main } from "../../src/cli/main.ts";

const commands = JSON.parse(process.argv[2] ?? "[]") as string[][];
for (const args of commands) {
  await main([process.argv[0] ?? "node", "wikit", ...args]);
  if (process.exitCode) break;
  process.stdout.write("\u001e\n");
}
