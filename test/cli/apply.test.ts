// `wikit apply` and `wikit export` against real `wikit up`s: a dry run changes nothing, a second apply changes
// nothing, a changed secret file writes one new version, and `export` → `apply` on an empty stack reproduces the
// directory (secret values travelling by environment variable, never in the file).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { parse } from "yaml";
import { secretVariable } from "../../src/cli/commands/apply.ts";
import { cliEntry, newDataDir, repoRoot } from "../compat/local-stack.ts";

const execFileAsync = promisify(execFile);

const DIRECTORY = `apiVersion: wikit/v1
kind: Directory
resourceGroups:
  - name: rg-apply
    tags: {team: payments}
identities:
  - name: mi-apply
    resourceGroup: rg-apply
    federatedCredentials:
      - name: fc-apply
        issuer: https://issuer.example.test/
        subject: system:serviceaccount:default:apply
applications:
  - displayName: app-apply
    signInAudience: AzureADMultipleOrgs
    federatedCredentials:
      - name: fc-app
        issuer: https://issuer.example.test/
        subject: system:serviceaccount:default:app
vaults:
  - name: kv-apply-1
    resourceGroup: rg-apply
    secrets:
      - name: from-file
        contentType: text/plain
        valueFrom: {file: value.txt}
      - name: from-env
        valueFrom: {env: APPLY_SECRET}
roleAssignments:
  - role: Key Vault Secrets User
    assignee: mi-apply
    scope: /resourceGroups/rg-apply/providers/Microsoft.KeyVault/vaults/kv-apply-1
  - role: Reader
    assignee: app-apply
    scope: /resourceGroups/rg-apply
`;

describe("wikit apply and export", { timeout: 300_000 }, () => {
  const first = newDataDir();
  const second = newDataDir();
  let work = "";
  const wikit = async (dataDir: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const { stdout } = await execFileAsync(process.execPath, [cliEntry, ...args], {
      cwd: repoRoot,
      env: { ...process.env, WIKIT_HOME: dataDir, APPLY_SECRET: "env-value", ...env },
    });
    return stdout;
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "wikit-apply-"));
    await writeFile(join(work, "directory.yaml"), DIRECTORY);
    await writeFile(join(work, "value.txt"), "file-value");
    await Promise.all([
      wikit(first, ["up", "--port", "0", "--detach"]),
      wikit(second, ["up", "--port", "0", "--detach"]),
    ]);
  });
  after(async () => {
    await Promise.all([wikit(first, ["down"]), wikit(second, ["down"])]);
    await Promise.all([first, second, work].map((dir) => rm(dir, { recursive: true, force: true })));
  });

  test("--dry-run prints every change and makes none", async () => {
    const plan = await wikit(first, ["apply", "-f", join(work, "directory.yaml"), "--dry-run"]);
    assert.match(plan, /^\+ identity rg-apply\/mi-apply$/m);
    assert.match(plan, /^\+ role assignment 'Reader' for app-apply on \/resourceGroups\/rg-apply$/m);
    assert.match(plan, /would make 11, would update 0, 0 unchanged\n$/);
    assert.equal(await wikit(first, ["group", "exists", "-n", "rg-apply", "-o", "tsv"]), "false\n");
  });

  test("apply makes it all; a second apply changes nothing; a changed value is one update", async () => {
    const made = await wikit(first, ["apply", "-f", join(work, "directory.yaml")]);
    assert.match(made, /made 11, updated 0, 0 unchanged\n$/);
    const granted = await wikit(first, [
      "role",
      "assignment",
      "list",
      "--assignee",
      "mi-apply",
      "--all",
      "--query",
      "[].roleDefinitionName || [].roleDefinitionId",
      "-o",
      "tsv",
    ]);
    assert.match(granted, /4633458b-17de-408a-b874-0445c86b69e6/, "Key Vault Secrets User");
    assert.equal(
      await wikit(first, ["apply", "-f", join(work, "directory.yaml")]),
      "made 0, updated 0, 11 unchanged\n",
    );

    await writeFile(join(work, "value.txt"), "file-value-2");
    const updated = await wikit(first, ["apply", "-f", join(work, "directory.yaml")]);
    assert.equal(updated, "~ secret kv-apply-1/from-file (value)\nmade 0, updated 1, 10 unchanged\n");
  });

  test("export, then apply on an empty stack: the second stack exports the same directory", async () => {
    const exportFile = join(work, "export.yaml");
    await wikit(first, ["export", "-f", exportFile]);
    const exported = await readFile(exportFile, "utf8");
    assert.doesNotMatch(exported, /file-value|env-value/, "no secret value is exported");
    const values = {
      [secretVariable("kv-apply-1", "from-file")]: "file-value-2",
      [secretVariable("kv-apply-1", "from-env")]: "env-value",
    };
    assert.match(
      await wikit(second, ["apply", "-f", exportFile], values),
      /made \d+, updated 0, \d+ unchanged/,
    );
    const reexported = parse(await wikit(second, ["export"]));
    assert.deepEqual(reexported, parse(exported));
    assert.match(
      await wikit(second, ["apply", "-f", exportFile], values),
      /^made 0, updated 0, \d+ unchanged\n$/,
    );
  });
});
