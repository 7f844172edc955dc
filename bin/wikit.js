#!/usr/bin/env node
// The CLI's entry point, which bin/wikit starts. wikit is written in TypeScript that Node >= 23.6 runs directly;
// when an older Node launched this file, hand over to the Node the project pins (node_modules/.bin/node).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import module from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const built = join(root, "dist", "cli", "main.js");
const source = join(root, "src", "cli", "main.ts");
const [major, minor] = process.versions.node.split(".").map(Number);

if (existsSync(built) || major > 23 || (major === 23 && minor >= 6)) {
  // Keeps the compiled (and type-stripped) modules on disk between runs: a command starts in half the time.
  module.enableCompileCache?.();
  const { main } = await import(pathToFileURL(existsSync(built) ? built : source).href);
  await main(process.argv);
} else {
  const pinned = join(root, "node_modules", "node", "bin", "node");
  if (!existsSync(pinned)) {
    process.stderr.write(
      `wikit needs Node.js 24 or newer (this is ${process.version}); run \`npm ci\` to install the pinned one.\n`,
    );
    process.exit(1);
  }
  const result = spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  process.exit(result.status ?? 1);
}
