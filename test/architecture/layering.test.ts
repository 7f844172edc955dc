// The layering check (.dependency-cruiser.cjs, run by `npm run lint`): the source tree passes it, and each rule
// fails a copy of the tree with one forbidden import planted in it.

import assert from "node:assert/strict";
import { appendFile, cp, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { cruise } from "dependency-cruiser";
import extractDepcruiseOptions from "dependency-cruiser/config-utl/extract-depcruise-options";
import extractTSConfig from "dependency-cruiser/config-utl/extract-ts-config";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const options = await extractDepcruiseOptions(join(ROOT, ".dependency-cruiser.cjs"));
const tsConfig = extractTSConfig(join(ROOT, "tsconfig.json"));

/** `rule from → to` for each violation found in `baseDir`'s src/. */
async function violations(baseDir: string): Promise<string[]> {
  const result = await cruise(["src"], { ...options, baseDir }, {}, { tsConfig });
  if (typeof result.output === "string") throw new Error("expected the JSON result of a cruise");
  return result.output.summary.violations.map(({ rule, from, to }) => `${rule.name} ${from} → ${to}`);
}

const copies: string[] = [];
after(async () => {
  for (const dir of copies) await rm(dir, { recursive: true, force: true });
});

/** A copy of the project's src/ (package.json, tsconfig and node_modules alongside) with `line` added to `file`. */
async function treeWithImport(file: string, line: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "wikit-layers-"));
  copies.push(dir);
  await cp(join(ROOT, "src"), join(dir, "src"), { recursive: true });
  for (const name of ["package.json", "tsconfig.json"]) await cp(join(ROOT, name), join(dir, name));
  await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  await appendFile(join(dir, file), `\n${line}\n`);
  return dir;
}

describe("layering check", () => {
  test("the source tree has no cycle and no forbidden arrow", async () => {
    assert.deepEqual(await violations(ROOT), []);
  });

  const planted: { rule: string; file: string; line: string }[] = [
    { rule: "no-cycles", file: "src/pki/x509.ts", line: 'import "./certificates.ts";' },
    {
      rule: "infrastructure-imports-no-layer-above",
      file: "src/store/store.ts",
      line: 'import "../identity/exchange/aadsts-errors.ts";',
    },
    {
      rule: "parts-never-import-one-another",
      file: "src/cluster/issuer/discovery.ts",
      line: 'import "../../identity/exchange/aadsts-errors.ts";',
    },
    {
      rule: "parts-never-import-one-another",
      file: "src/identity/exchange/fic-match.ts",
      line: 'import "../../resources/vault/constants.ts";',
    },
    {
      rule: "resources-never-import-one-another-or-other-parts",
      file: "src/resources/vault/rbac.ts",
      line: 'import "../../identity/directory/built-in-roles.ts";',
    },
    {
      rule: "parts-import-no-layer-above",
      file: "src/identity/exchange/fic-match.ts",
      line: 'import "../../server/data-dir.ts";',
    },
    {
      rule: "management-imports-no-layer-above",
      file: "src/management/arm-action.ts",
      line: 'import "../server/data-dir.ts";',
    },
    { rule: "server-imports-no-cli", file: "src/server/data-dir.ts", line: 'import "../cli/output.ts";' },
    {
      rule: "cli-talks-http-to-the-identity-side",
      file: "src/cli/output.ts",
      line: 'import "../identity/directory/built-in-roles.ts";',
    },
    { rule: "no-dev-dependencies-at-run-time", file: "src/server/data-dir.ts", line: 'import "fast-check";' },
    {
      rule: "no-unresolvable-imports",
      file: "src/server/data-dir.ts",
      line: 'import "./no-such-module.ts";',
    },
  ];
  for (const { rule, file, line } of planted) {
    test(`${rule}: fails on \`${line}\` planted in ${file}`, async () => {
      const found = await violations(await treeWithImport(file, line));
      assert.ok(
        // A cycle is reported from whichever of its modules the cruise reaches first.
        found.some((violation) => violation.startsWith(`${rule} `) && violation.includes(file)),
        `expected a ${rule} violation from ${file}, got:\n${found.join("\n")}`,
      );
    });
  }
});
