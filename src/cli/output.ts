// What a command prints. Results go to stdout as `--output` and `--query` ask (see output-format.ts); notes for
// people go to stderr, unless `--only-show-errors`; `--verbose` and `--debug` add each request made to wikit and
// the command's time.

import { applyQuery, type OutputFormat, renderResult } from "./output-format.ts";

export interface OutputSettings {
  output: OutputFormat;
  query?: string;
  onlyShowErrors?: boolean;
  verbose?: boolean;
  debug?: boolean;
}

const DEFAULT_SETTINGS: OutputSettings = { output: "json" };
let settings: OutputSettings = DEFAULT_SETTINGS;

/** Set once per invocation, from the global options (and back to the defaults before the next). */
export function configureOutput(options: OutputSettings = DEFAULT_SETTINGS): void {
  settings = { ...options };
}

export interface ResultView {
  /** The rows `-o table` shows instead of every scalar member (az's table transformer); unused with --query. */
  table?(value: unknown): unknown;
  /** A Kubernetes object: printed with its members in order, as kubectl prints them. */
  keepKeyOrder?: boolean;
}

/** Prints a command's result as az would: `--query` applied, then rendered in the `--output` format. */
export function printResult(value: unknown, view: ResultView = {}): void {
  let result = value;
  let keepOrder = false;
  if (settings.query !== undefined) {
    result = applyQuery(value, settings.query);
    keepOrder = true;
  } else if (settings.output === "table" && view.table) {
    result = view.table(value);
    keepOrder = true;
  }
  process.stdout.write(
    renderResult(result, {
      format: settings.output,
      queryActive: keepOrder,
      color: process.stdout.isTTY === true,
      keepKeyOrder: view.keepKeyOrder,
    }),
  );
}

/** Progress and notes for people go to stderr, so stdout stays parseable. */
export function note(message: string): void {
  if (!settings.onlyShowErrors) process.stderr.write(`${message}\n`);
}

/** Detail on stderr for `--verbose` and `--debug`. */
export function verbose(message: string): void {
  if (settings.verbose || settings.debug) process.stderr.write(`${message}\n`);
}

/** az's output shape for most resources: ARM `properties` merged into the top level, plus `resourceGroup`. */
export function flattenResource(resource: Record<string, unknown>): Record<string, unknown> {
  const { properties, ...rest } = resource as { properties?: Record<string, unknown>; id?: unknown };
  const resourceGroup = /\/resourceGroups\/([^/]+)/i.exec(String(rest.id ?? ""))?.[1];
  return { ...rest, ...properties, ...(resourceGroup ? { resourceGroup } : {}) };
}
