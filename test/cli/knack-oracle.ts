// az's own formatters (knack, from Debian's azure-cli) as the oracle for wikit's `--output`: each value goes to one
// Python process, which answers with what az would print for it in every format.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

const PYTHON = "/usr/bin/python3";

const FORMAT_ALL = `
import json, sys
from knack.output import format_json, format_table, format_tsv, format_yaml
from knack.util import CommandResultItem

def render(formatter, value, query_active):
    item = CommandResultItem(value, is_query_active=query_active)
    item.table_transformer = None
    try:
        return formatter(item)
    except Exception as error:
        return "error: " + str(error)

out = []
for case in json.load(sys.stdin):
    value, query_active = case["value"], case["queryActive"]
    out.append({name: render(f, value, query_active) for name, f in
                (("json", format_json), ("yaml", format_yaml), ("table", format_table), ("tsv", format_tsv))})
json.dump(out, sys.stdout)
`;

/** Whether az's formatters are here (Debian's azure-cli). */
export function knackAvailable(): boolean {
  if (!existsSync(PYTHON)) return false;
  try {
    execFileSync(PYTHON, ["-c", "import knack.output"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export type KnackRendering = Record<"json" | "yaml" | "table" | "tsv", string>;

export function knackRender(cases: readonly { value: unknown; queryActive: boolean }[]): KnackRendering[] {
  const output = execFileSync(PYTHON, ["-c", FORMAT_ALL], {
    input: JSON.stringify(cases),
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(output) as KnackRendering[];
}
