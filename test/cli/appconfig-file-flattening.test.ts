// `appconfig kv import|export` with files: configuration trees flattened into key-values and built back, held to
// az's own code (Debian's azure-cli: `_kv_helpers`) as the oracle on generated trees, plus the cases az leaves to
// chance (a key that is both a value and a parent) and the import/export round trip.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  featureFlagsFromFile,
  featureSectionFromKeyValues,
  keyValuesFromFile,
  parseConfigFile,
  previewChanges,
  renderConfigFile,
  type StoredKeyValue,
  treeFromKeyValues,
} from "../../src/cli/appconfig-file-flattening.ts";
import { FEATURE_FLAG_CONTENT_TYPE } from "../../src/cli/appconfig-key-values.ts";
import { CliError } from "../../src/cli/cli-error.ts";

const PYTHON = "/usr/bin/python3";

// az's import and export helpers, called as az calls them. The module imports a Key Vault helper Debian's package
// lacks and these functions never use, so it is stubbed.
const AZ_ORACLE = `
import json, logging, os, sys, tempfile, types
logging.disable(logging.CRITICAL)
stub = types.ModuleType("azure.keyvault.key_vault_id")
stub.KeyVaultIdentifier = object
sys.modules["azure.keyvault.key_vault_id"] = stub
import azure.cli.command_modules.appconfig._kv_helpers as helpers
from azure.cli.command_modules.appconfig._models import KeyValue
from azure.cli.command_modules.appconfig._featuremodels import map_keyvalue_to_featureflag

def run(case):
    try:
        if case["op"] == "import":
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as file:
                json.dump(case["data"], file)
            try:
                depth = case.get("depth") or (sys.maxsize if case.get("separator") else 1)
                kvs = getattr(helpers, "__read_kv_from_file")(file_path=file.name, format_="json",
                    separator=case.get("separator"), prefix_to_add=case.get("prefix", ""), depth=depth,
                    content_type=case.get("contentType"))
                features = getattr(helpers, "__read_features_from_file")(file_path=file.name, format_="json")
            finally:
                os.unlink(file.name)
            return {"keyValues": [[kv.key, kv.value] for kv in kvs],
                    "features": [[kv.key, kv.value, kv.content_type] for kv in features]}
        if case["op"] == "export":
            kvs = [KeyValue(key=kv["key"], value=kv["value"], label=kv["label"], content_type=kv["contentType"])
                   for kv in case["keyValues"]]
            tree = getattr(helpers, "__export_keyvalues")(kvs, "json", case.get("separator"), None)
            return {"tree": tree}
        if case["op"] == "features":
            flags = [map_keyvalue_to_featureflag(KeyValue(key=kv["key"], value=kv["value"], content_type=kv["contentType"]))
                     for kv in case["keyValues"]]
            return {"tree": getattr(helpers, "__export_features")(flags, "pascal")}
    except Exception as error:
        return {"error": str(error)}

json.dump([run(case) for case in json.load(sys.stdin)], sys.stdout)
`;

function azAvailable(): boolean {
  if (!existsSync(PYTHON)) return false;
  try {
    execFileSync(PYTHON, ["-c", "import azure.cli.command_modules.appconfig"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function az(cases: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  const output = execFileSync(PYTHON, ["-c", AZ_ORACLE], {
    input: JSON.stringify(cases),
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(output) as Record<string, unknown>[];
}

const skipOracle = azAvailable() ? false : "Debian's azure-cli is not installed";

// Trees of what both Python and JavaScript read alike: no floats (Python keeps `1.0`), no integer-like member
// names (JavaScript moves them first), strings of printable ASCII with quotes and backslashes.
const text = fc.string({ unit: fc.constantFrom(..."ab:_ -'\"\\é%.".split("")), maxLength: 6 });
const memberName = fc.string({ unit: fc.constantFrom(..."abcXY_-.%".split("")), minLength: 1, maxLength: 4 });
const leaf = fc.oneof(text, fc.integer({ min: -1000, max: 1000 }), fc.boolean(), fc.constant(null));
const tree = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("node"), { maxLength: 3 }),
    fc.dictionary(memberName, tie("node"), { maxKeys: 3 }),
  ),
})).node;
const rootObject = fc.dictionary(memberName, tree, { minKeys: 1, maxKeys: 4 });

const sortPairs = (pairs: [string, string][]) => [...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

describe("import: a file's tree as key-values, as az flattens it", () => {
  test("generated trees, with and without a separator, depth, prefix and a JSON content type", {
    skip: skipOracle,
  }, () => {
    const cases = fc.sample(
      fc.record({
        data: fc.oneof(rootObject, fc.array(tree, { minLength: 1, maxLength: 3 })),
        separator: fc.constantFrom(undefined, ":", ".", "__"),
        depth: fc.constantFrom(undefined, 2),
        prefix: fc.constantFrom("", "app:"),
        contentType: fc.constantFrom(undefined, "application/json", "text/plain"),
      }),
      { numRuns: 300, seed: 12 },
    );
    // az refuses a JSON content type on a top-level array (it reads the items as names); so does nobody sensible.
    // Without a separator az flattens one level whatever --depth says (import_config sets it), as wikit's command does.
    const usable = cases
      .filter((entry) => !(Array.isArray(entry.data) && entry.contentType === "application/json"))
      .map((entry) => ({ ...entry, depth: entry.separator ? entry.depth : undefined }));
    const expected = az(usable.map((entry) => ({ op: "import", ...entry })));
    usable.forEach((entry, index) => {
      const oracle = expected[index] as { keyValues?: [string, string][]; error?: string };
      const run = () =>
        keyValuesFromFile(entry.data, {
          separator: entry.separator,
          depth: entry.depth,
          prefix: entry.prefix,
          contentType: entry.contentType,
        }).keyValues.map(({ key, value }) => [key, value] as [string, string]);
      if (oracle.error !== undefined) {
        assert.throws(run, CliError, `az refused ${JSON.stringify(entry)}: ${oracle.error}`);
        return;
      }
      assert.deepEqual(sortPairs(run()), sortPairs(oracle.keyValues ?? []), JSON.stringify(entry));
    });
  });

  test("feature flags of a FeatureManagement section: on, off, filtered and AlwaysOn", {
    skip: skipOracle,
  }, () => {
    const documents = [
      { FeatureManagement: { Beta: true, Old: false } },
      {
        feature_management: {
          Canary: { enabled_for: [{ Name: "Percentage", Parameters: { Value: 10 } }, { name: "Targeting" }] },
          Always: { enabled_for: [{ Name: "AlwaysOn" }] },
          Empty: { enabled_for: [] },
        },
        other: "x",
      },
    ];
    const expected = az(documents.map((data) => ({ op: "import", data })));
    documents.forEach((data, index) => {
      const oracle = expected[index] as { features: [string, string, string][] };
      assert.deepEqual(
        featureFlagsFromFile(data).map((flag) => [flag.key, flag.value, flag.contentType]),
        oracle.features,
      );
      assert.ok(
        keyValuesFromFile(data).keyValues.every((item) => !item.key.toLowerCase().includes("feature")),
        "the section is no key-value",
      );
    });
  });

  test("keys az refuses are skipped with its warning; hierarchy without a separator is refused", () => {
    const { keyValues, warnings } = keyValuesFromFile(
      { ".": "a", "x%y": "b", ".appconfig.featureflag/f": "c", good: "d" },
      { prefix: "" },
    );
    assert.deepEqual(keyValues, [{ key: "good", value: "d" }]);
    assert.equal(warnings.length, 3);
    assert.match(
      warnings[1] ?? "",
      /^Ignoring invalid key 'x%y'\. Key cannot be a '\.' or '\.\.', or contain the '%' character\.$/,
    );
    assert.throws(
      () => keyValuesFromFile({ a: { b: 1 } }, { depth: 2 }),
      /a non-empty --separator is required for importing hierarchical configurations/,
    );
  });

  test("a file that is not an object or array, or not JSON at all, is refused by name", () => {
    assert.throws(
      () => parseConfigFile("3", "json"),
      /not a well formatted json file: an object or an array/,
    );
    assert.throws(() => parseConfigFile("{", "json"), /not a well formatted json file/);
    assert.deepEqual(parseConfigFile("a:\n  b: 1\n", "yaml"), { a: { b: 1 } });
  });
});

const storedKeyValue = fc.record({
  key: fc
    .array(fc.constantFrom("a", "b", "c", "0", "1", "2"), { minLength: 1, maxLength: 3 })
    .map((parts) => parts.join(":")),
  value: fc.oneof(text, fc.constant('{"q":[1,2]}'), fc.constant("[true]")),
  contentType: fc.constantFrom(null, "application/json", "text/plain"),
});

describe("export: key-values as a file's tree, as az builds it", () => {
  test("generated key-values, with and without a separator", { skip: skipOracle }, () => {
    const cases = fc.sample(
      fc.record({
        keyValues: fc.uniqueArray(storedKeyValue, { selector: (item) => item.key, maxLength: 6 }),
        separator: fc.constantFrom(undefined, ":"),
      }),
      { numRuns: 300, seed: 7 },
    );
    const expected = az(
      cases.map((entry) => ({
        op: "export",
        separator: entry.separator,
        keyValues: entry.keyValues.map((item) => ({ ...item, label: null })),
      })),
    );
    let compared = 0;
    cases.forEach((entry, index) => {
      const oracle = expected[index] as { tree?: unknown; error?: string };
      const keyValues: StoredKeyValue[] = entry.keyValues.map((item) => ({ ...item, label: null }));
      const run = () => treeFromKeyValues(keyValues, { separator: entry.separator });
      if (oracle.error !== undefined) {
        assert.throws(run, CliError, `az failed on ${JSON.stringify(entry)}: ${oracle.error}`);
        return;
      }
      // Where az overwrites a parent with a value (one order of a key that is both), wikit refuses either order.
      const nested = entry.keyValues.some((outer) =>
        entry.keyValues.some((inner) => inner.key.startsWith(`${outer.key}:`)),
      );
      if (entry.separator && nested) {
        assert.throws(run, /is both a value and a parent of other keys/);
        return;
      }
      compared++;
      assert.deepEqual(run(), oracle.tree, JSON.stringify(entry));
    });
    assert.ok(compared > 100, `${compared} cases compared`);
  });

  test("feature flags become az's FeatureManagement section", { skip: skipOracle }, () => {
    const flags = [
      {
        key: ".appconfig.featureflag/Beta",
        value: '{"id":"Beta","description":"","enabled":true,"conditions":{"client_filters":[]}}',
      },
      {
        key: ".appconfig.featureflag/Off",
        value: '{"id":"Off","description":"","enabled":false,"conditions":{"client_filters":[]}}',
      },
      {
        key: ".appconfig.featureflag/Canary",
        value:
          '{"id":"Canary","description":"","enabled":true,"conditions":{"client_filters":[{"name":"Percentage","parameters":{"Value":10}}]}}',
      },
    ].map((flag) => ({ ...flag, contentType: FEATURE_FLAG_CONTENT_TYPE }));
    const [oracle] = az([{ op: "features", keyValues: flags }]) as [{ tree: unknown }];
    assert.deepEqual(
      featureSectionFromKeyValues(flags.map((flag) => ({ ...flag, label: null }))),
      oracle.tree,
    );
  });

  test("a prefix is trimmed from the keys that have it; two labels of one key must agree", () => {
    const keyValues: StoredKeyValue[] = [
      { key: "myapp:db:host", label: null, value: "db.local", contentType: null },
      { key: "other", label: null, value: "x", contentType: null },
    ];
    assert.deepEqual(treeFromKeyValues(keyValues, { separator: ":", prefix: "myapp:" }), {
      db: { host: "db.local" },
      other: "x",
    });
    assert.throws(
      () =>
        treeFromKeyValues([
          { key: "k", label: "dev", value: "1", contentType: null },
          { key: "k", label: "prd", value: "2", contentType: null },
        ]),
      /the key k has two labels, dev and prd, with different values/,
    );
  });

  test("export then import gives back the key-values (strings, with a separator and arrays)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({
            key: fc
              .array(fc.constantFrom("a", "b", "0", "1"), { minLength: 1, maxLength: 3 })
              .map((parts) => `app:${parts.join(":")}`),
            value: text,
          }),
          { selector: (item) => item.key, minLength: 1, maxLength: 6 },
        ),
        (items) => {
          const nested = items.some((outer) => items.some((inner) => inner.key.startsWith(`${outer.key}:`)));
          fc.pre(!nested);
          // Numbered members become arrays on export; an array's gaps cannot come back, so only whole ones do.
          const tree = treeFromKeyValues(
            items.map((item) => ({ ...item, label: null, contentType: null })),
            { separator: ":", prefix: "app:" },
          );
          const file = renderConfigFile(tree, "json");
          const back = keyValuesFromFile(parseConfigFile(file, "json"), {
            separator: ":",
            prefix: "app:",
          }).keyValues;
          assert.deepEqual(
            sortPairs(back.map(({ key, value }) => [key, value])),
            sortPairs(items.map(({ key, value }) => [key, value])),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("previewChanges", () => {
  test("lists what is added and what changes, and nothing when the target holds it all", () => {
    const current = new Map<string, string | null>([
      ["same", "1"],
      ["changed", "old"],
    ]);
    assert.deepEqual(
      previewChanges(current, [
        { key: "same", value: "1" },
        { key: "changed", value: "new" },
        { key: "added", value: "x" },
      ]),
      [
        "---------------- Key Values Preview ----------------",
        "Adding:",
        '{"key":"added","value":"x"}',
        "Updating:",
        '- {"key":"changed","value":"old"}',
        '+ {"key":"changed","value":"new"}',
        "",
      ],
    );
    assert.equal(previewChanges(current, [{ key: "same", value: "1" }]), undefined);
  });
});
