// Key-values, access keys and stores as `wikit appconfig … -o table` prints them, held to az's own table
// transformers (Debian's azure-cli `appconfig/_format.py`) and knack's table layout as the oracle; and the
// key-value objects az prints, whole and with `--fields`.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  configurationStoreTable,
  credentialTable,
  keyValueFieldsView,
  keyValueTable,
  keyValueView,
  parseFields,
  parseTags,
  pythonRepr,
} from "../../src/cli/appconfig-key-values.ts";
import { renderResult } from "../../src/cli/output-format.ts";

const PYTHON = "/usr/bin/python3";

const AZ_TABLES = `
import json, sys
from knack.output import format_table
from knack.util import CommandResultItem
from azure.cli.command_modules.appconfig import _format
out = []
for case in json.load(sys.stdin):
    transformer = getattr(_format, case["transformer"])
    out.append(format_table(CommandResultItem(case["value"], table_transformer=transformer, is_query_active=False)))
json.dump(out, sys.stdout)
`;

function azAvailable(): boolean {
  if (!existsSync(PYTHON)) return false;
  try {
    execFileSync(PYTHON, ["-c", "import knack.output, azure.cli.command_modules.appconfig._format"], {
      stdio: "ignore",
    });
    return true;
  } catch {
    return false;
  }
}
const skipOracle = azAvailable() ? false : "Debian's azure-cli is not installed";

function azTables(cases: readonly { transformer: string; value: unknown }[]): string[] {
  return JSON.parse(
    execFileSync(PYTHON, ["-c", AZ_TABLES], { input: JSON.stringify(cases), encoding: "utf8" }),
  ) as string[];
}

const asWikitPrintsIt = (rows: unknown) => renderResult(rows, { format: "table", queryActive: true });

// Cells under 70 characters: az cuts longer ones into lines of 70, which wikit's tables do not.
const text = fc.string({ unit: fc.constantFrom(..."abc:/-_ 'é".split("")), maxLength: 12 });
const instant = fc
  .integer({ min: Date.parse("2020-01-01T00:00:00Z"), max: Date.parse("2030-01-01T00:00:00Z") })
  .map((ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "+00:00"));
const wireKeyValue = fc.record({
  etag: text,
  key: text.filter((key) => key.trim() !== ""),
  label: fc.option(
    text.filter((label) => label.trim() !== ""),
    { nil: null },
  ),
  content_type: fc.option(text, { nil: null }),
  value: fc.option(text, { nil: null }),
  tags: fc.dictionary(fc.constantFrom("a", "b", "owner"), text, { maxKeys: 2 }),
  locked: fc.boolean(),
  last_modified: instant,
});

describe("-o table, as az's transformers lay it out", () => {
  test("key-values, whole and with --fields", { skip: skipOracle }, () => {
    const lists = fc.sample(fc.array(wireKeyValue, { minLength: 1, maxLength: 3 }), { numRuns: 60, seed: 3 });
    const views = lists.map((list) => list.map(keyValueView));
    const partial = lists.map((list) =>
      list.map((item) => keyValueFieldsView(item, ["key", "value", "last_modified"])),
    );
    const expected = azTables(
      [...views, ...partial].map((value) => ({ transformer: "keyvalue_entry_format", value })),
    );
    [...views, ...partial].forEach((value, index) => {
      assert.equal(asWikitPrintsIt(keyValueTable(value)), expected[index], JSON.stringify(value));
    });
  });

  test("access keys and stores", { skip: skipOracle }, () => {
    const keys = [
      {
        connectionString: "Endpoint=https://s.azconfig.localhost:8443;Id=k1;Secret=c2Vj",
        id: "k1",
        lastModified: "2026-12-05T03:07:08.139Z",
        name: "Primary",
        readOnly: false,
        value: "c2Vj",
      },
    ];
    const store = {
      creationDate: "2026-12-05T03:07:08.139Z",
      endpoint: "https://appcs-1.azconfig.localhost:8443",
      enablePurgeProtection: false,
      location: "local",
      name: "appcs-1",
      provisioningState: "Succeeded",
      resourceGroup: "rg",
      sku: { name: "standard" },
      softDeleteRetentionInDays: 0,
    };
    const [keysTable, storesTable] = azTables([
      { transformer: "configstore_credential_format", value: keys },
      {
        transformer: "configstore_output_format",
        value: [store, { ...store, name: "appcs-2", enablePurgeProtection: true }],
      },
    ]);
    assert.equal(asWikitPrintsIt(credentialTable(keys)), keysTable);
    assert.equal(
      asWikitPrintsIt(
        configurationStoreTable([store, { ...store, name: "appcs-2", enablePurgeProtection: true }]),
      ),
      storesTable,
    );
  });
});

describe("key-values as az prints them", () => {
  test("every member, camelCase; absent ones null, an absent lock false", () => {
    assert.deepEqual(keyValueView({ key: "k", etag: "e", last_modified: "2026-12-05T03:07:14+00:00" }), {
      contentType: null,
      etag: "e",
      key: "k",
      label: null,
      lastModified: "2026-12-05T03:07:14+00:00",
      locked: false,
      tags: null,
      value: null,
    });
  });

  test("--fields: only those, under the service's names, repeated ones once; an unknown one named", () => {
    const fields = parseFields(["key", "CONTENT_TYPE", "key"]);
    assert.deepEqual(fields, ["key", "content_type"]);
    assert.deepEqual(keyValueFieldsView({ key: "k", content_type: "text/plain", value: "v" }, fields), {
      key: "k",
      content_type: "text/plain",
    });
    assert.throws(() => parseFields(["name"]), /--fields: 'name' is not one of key, value, label/);
  });

  test("tags as az reads key[=value]; Python's repr of the values az shows in cells", () => {
    assert.deepEqual(parseTags(["a=b", "c", "d=e=f", "g="]), { a: "b", c: "", d: "e=f", g: "" });
    assert.equal(
      pythonRepr({ a: "it's", b: [1, true, null], c: 'say "hi"' }),
      `{'a': "it's", 'b': [1, True, None], 'c': 'say "hi"'}`,
    );
  });
});
