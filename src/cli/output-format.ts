// `--output` and `--query` as az has them: a command's result, filtered by a JMESPath query, rendered as json,
// jsonc, yaml, yamlc, table, tsv or none — each laid out as az lays it out (knack's formatters: keys sorted,
// table columns from the first rows' keys, tsv values in key order), so that scripts written for az read
// wikit's output unchanged.

import jmespath from "jmespath";
import { stringify as stringifyYaml } from "yaml";

export const OUTPUT_FORMATS = ["json", "jsonc", "yaml", "yamlc", "table", "tsv", "none"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export class QueryError extends Error {}

/** The result of `--query`: az's JMESPath dialect, the specification's reference implementation. */
export function applyQuery(value: unknown, query: string): unknown {
  try {
    return jmespath.search(value, query);
  } catch (error) {
    throw new QueryError(`argument --query: invalid jmespath query '${query}': ${(error as Error).message}`);
  }
}

export interface RenderOptions {
  format: OutputFormat;
  /** A `--query` shaped the result: table columns then keep its order instead of sorting. */
  queryActive?: boolean;
  /** Colour for jsonc and yamlc; az colours only a terminal. */
  color?: boolean;
  /** Keep members in their order (a Kubernetes object as kubectl prints it) instead of sorting them as az does. */
  keepKeyOrder?: boolean;
}

/** The text az prints for `value`; empty for no result. */
export function renderResult(value: unknown, options: RenderOptions): string {
  if (value === undefined || value === null) return "";
  // json and yaml sort members as az does; table and tsv order their own columns.
  const ordered =
    options.format.startsWith("json") || options.format.startsWith("yaml") ? inOrder(value, options) : value;
  switch (options.format) {
    case "json":
      return renderJson(ordered);
    case "jsonc":
      return options.color ? colorJson(renderJson(ordered)) : renderJson(ordered);
    case "yaml":
      return renderYaml(ordered);
    case "yamlc":
      return options.color ? colorYaml(renderYaml(ordered)) : renderYaml(ordered);
    case "table":
      return renderTable(value, options.queryActive ?? false);
    case "tsv":
      return renderTsv(value);
    case "none":
      return "";
  }
}

function inOrder(value: unknown, options: RenderOptions): unknown {
  return options.keepKeyOrder ? value : sortedKeys(value);
}

function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * PyYAML's safe_dump: block style, sequences not indented, and strings quoted where YAML 1.1 would
 * read them as something else (`'yes'`, `'1'`, `'2026-01-01'`) — but not `y` and `n`, which PyYAML leaves plain.
 */
function renderYaml(value: unknown): string {
  const text = stringifyYaml(value, {
    version: "1.1",
    customTags: (tags) =>
      tags.map((tag) =>
        typeof tag === "object" && tag.tag === "tag:yaml.org,2002:bool" && tag.test !== undefined
          ? { ...tag, test: new RegExp(tag.test.source.replace(/Y\|y\||N\|n\|/, ""), tag.test.flags) }
          : tag,
      ),
    singleQuote: true,
    indentSeq: false,
    lineWidth: 0,
    nullStr: "null",
  });
  // A document that is one plain scalar ends with PyYAML's end marker.
  const plainScalar = typeof value !== "object" && !text.startsWith("'") && !text.startsWith('"');
  return plainScalar ? `${text}...\n` : text;
}

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (isObject(value)) {
    return Object.fromEntries(
      Object.keys(value)
        .sort(pythonOrder)
        .map((key) => [key, sortedKeys(value[key])]),
    );
  }
  return value;
}

/** Python sorts strings by code point, not by UTF-16 unit as `sort()` does. */
function pythonOrder(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let index = 0; index < Math.min(left.length, right.length); index++) {
    const difference = (left[index]?.codePointAt(0) ?? 0) - (right[index]?.codePointAt(0) ?? 0);
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** How Python's `str()` writes a value: az's table and tsv cells. */
function pythonText(value: unknown): string {
  if (value === true) return "True";
  if (value === false) return "False";
  if (value === null || value === undefined) return "None";
  return String(value);
}

// ---- table: knack's _TableOutput over tabulate's "simple" format -------------------------------------------

/** Columns az never shows in a table. */
const SKIPPED_COLUMNS = new Set(["id", "type", "etag"]);

/** tabulate strips the blanks around a cell's text. */
function tableCell(value: unknown): string {
  return pythonText(value).trim();
}

function tableRow(item: unknown, sortKeys: boolean): Map<string, string> {
  const row = new Map<string, string>();
  if (isObject(item)) {
    const keys = sortKeys ? Object.keys(item).sort(pythonOrder) : Object.keys(item);
    for (const key of keys) {
      const cell = item[key];
      if (SKIPPED_COLUMNS.has(key) || cell === null || cell === undefined || typeof cell === "object")
        continue;
      row.set(key.charAt(0).toUpperCase() + key.slice(1), tableCell(cell));
    }
  } else if (Array.isArray(item)) {
    item.forEach((cell, index) => {
      row.set(`Column${index + 1}`, tableCell(cell));
    });
  } else {
    row.set("Result", tableCell(item));
  }
  return row;
}

function renderTable(value: unknown, queryActive: boolean): string {
  const rows = (Array.isArray(value) ? value : [value]).map((item) => tableRow(item, !queryActive));
  const columns: string[] = [];
  for (const row of rows)
    for (const column of row.keys()) if (!columns.includes(column)) columns.push(column);
  if (columns.length === 0) return "\n";
  // tabulate pads a header by two at least; cells are left-aligned; lines carry no trailing blanks.
  const widths = columns.map((column) =>
    Math.max(column.length + 2, ...rows.map((row) => [...(row.get(column) ?? "")].length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, index) => cell + " ".repeat(Math.max(0, (widths[index] ?? 0) - [...cell].length)))
      .join("  ")
      .trimEnd();
  return `${[
    line(columns),
    line(widths.map((width) => "-".repeat(width))),
    ...rows.map((row) => line(columns.map((column) => row.get(column) ?? ""))),
  ].join("\n")}\n`;
}

// ---- tsv: knack's _TsvOutput ---------------------------------------------------------------------------

/** A cell: a list is its length, an object nothing, anything else its text. */
function tsvCell(value: unknown): string {
  if (Array.isArray(value)) return String(value.length);
  if (isObject(value)) return "";
  return pythonText(value);
}

function renderTsv(value: unknown): string {
  const rows = Array.isArray(value) ? value : [value];
  return rows
    .map((row) => {
      if (isObject(row)) {
        return `${Object.keys(row)
          .sort(pythonOrder)
          .map((key) => tsvCell(row[key]))
          .join("\t")}\n`;
      }
      if (Array.isArray(row)) return `${row.map(tsvCell).join("\t")}\n`;
      // A lone boolean is the one value az writes in lower case.
      return `${typeof row === "boolean" ? String(row) : tsvCell(row)}\n`;
    })
    .join("");
}

// ---- colour for a terminal -----------------------------------------------------------------------------

const BLUE = "\u001b[94m";
const GREEN = "\u001b[32m";
const CYAN = "\u001b[36m";
const RESET = "\u001b[0m";

function colorJson(text: string): string {
  return text.replace(
    /("(?:[^"\\]|\\.)*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g,
    (match, text: string | undefined, colon: string | undefined, literal: string | undefined) => {
      if (text !== undefined) return colon ? `${BLUE}${text}${RESET}${colon}` : `${GREEN}${text}${RESET}`;
      if (literal !== undefined) return `${CYAN}${literal}${RESET}`;
      return `${CYAN}${match}${RESET}`;
    },
  );
}

function colorYaml(text: string): string {
  return text.replace(/^(\s*(?:- )?)([^\s:'][^:\n]*):/gm, `$1${BLUE}$2${RESET}:`);
}
