import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CliError } from "../../src/cli/cli-error.ts";
import { parseDirectoryFile } from "../../src/cli/directory-file.ts";

const HEAD = "apiVersion: wikit/v1\nkind: Directory\n";
const refused = (pattern: RegExp) => (error: unknown) =>
  error instanceof CliError && pattern.test(error.message);

describe("directory file", () => {
  test("defaults: empty lists, audiences api://AzureADTokenExchange, an app's service principal", () => {
    const file = parseDirectoryFile(
      `${HEAD}applications:\n  - displayName: a\n    federatedCredentials:\n      - {name: f, issuer: "https://i/", subject: s}\n`,
    );
    assert.deepEqual(file.resourceGroups, []);
    assert.equal(file.applications[0]?.servicePrincipal, true);
    assert.deepEqual(file.applications[0]?.federatedCredentials[0]?.audiences, [
      "api://AzureADTokenExchange",
    ]);
  });

  test("JSON is YAML too", () => {
    const file = parseDirectoryFile(
      JSON.stringify({ apiVersion: "wikit/v1", kind: "Directory", resourceGroups: [{ name: "rg" }] }),
    );
    assert.deepEqual(file.resourceGroups, [{ name: "rg" }]);
  });

  const mistakes: [string, string, RegExp][] = [
    ["no header", "resourceGroups: []\n", /must begin with 'apiVersion: wikit\/v1'/],
    ["not YAML", `${HEAD}resourceGroups: [\n`, /not valid YAML/],
    [
      "an unknown member",
      `${HEAD}resourceGroups:\n  - {name: rg, colour: red}\n`,
      /resourceGroups\[0\] has an unknown member 'colour'/,
    ],
    [
      "a missing name",
      `${HEAD}identities:\n  - {resourceGroup: rg}\n`,
      /identities\[0\]\.name must be a string/,
    ],
    ["a list that is not", `${HEAD}vaults: {name: kv}\n`, /vaults must be a list/],
    [
      "an inline secret value",
      `${HEAD}vaults:\n  - {name: kv, resourceGroup: rg, secrets: [{name: s, value: hunter2}]}\n`,
      /vaults\[0\]\.secrets\[0\]\.value holds a secret value in the file; give valueFrom/,
    ],
    [
      "two value sources",
      `${HEAD}vaults:\n  - {name: kv, resourceGroup: rg, secrets: [{name: s, valueFrom: {file: a, env: B}}]}\n`,
      /valueFrom takes one of 'file'/,
    ],
    [
      "a relative scope",
      `${HEAD}roleAssignments:\n  - {role: Reader, assignee: x, scope: resourceGroups/rg}\n`,
      /scope must be '\/'/,
    ],
    [
      "a name twice",
      `${HEAD}resourceGroups:\n  - {name: rg}\n  - {name: RG}\n`,
      /resourceGroups names 'rg' twice/,
    ],
    [
      "a tag that is not a string",
      `${HEAD}resourceGroups:\n  - {name: rg, tags: {a: [1]}}\n`,
      /resourceGroups\[0\]\.tags\.a must be a string/,
    ],
  ];
  for (const [what, text, pattern] of mistakes) {
    test(`refused with its path: ${what}`, () =>
      assert.throws(() => parseDirectoryFile(text), refused(pattern)));
  }

  test("an inline value is taken when asked for", () => {
    const file = parseDirectoryFile(
      `${HEAD}vaults:\n  - {name: kv, resourceGroup: rg, secrets: [{name: s, value: v}]}\n`,
      {
        allowInlineValues: true,
      },
    );
    assert.deepEqual(file.vaults[0]?.secrets[0]?.valueFrom, { value: "v" });
  });
});
