// `appconfig kv import --source file` and `kv export --destination file`, without I/O: a configuration file's tree
// flattened into key-values and built back from them, as az does it.
//
// - Import: with `--separator`, nested objects and arrays become keys joined by it (array items by index) down to
//   `--depth` levels (every level by default); without one, each top-level member is one key-value. Leaves are
//   written as Python's `str()` writes them (`True`, `None`, a nested object as `{'a': 1}`), since that is what
//   az stores; under a JSON content type they are JSON instead, and only objects are descended into.
// - A "FeatureManagement" section (in any of az's four spellings) holds feature flags, not key-values.
// - Export: keys split at the separator into nested objects; objects whose members are exactly 0…n-1 become
//   arrays; values of a JSON content type are written as the JSON they hold. Feature flags go to a
//   "FeatureManagement" section.

import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { FEATURE_FLAG_CONTENT_TYPE, FEATURE_FLAG_PREFIX, pythonText } from "./appconfig-key-values.ts";
import { CliError } from "./cli-error.ts";

export const FILE_FORMATS = ["json", "yaml"] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

/** The separators az accepts for flattening. */
export const SEPARATORS = [".", ",", ";", "-", "_", "__", "/", ":"] as const;

const FEATURE_MANAGEMENT_SECTIONS = [
  "FeatureManagement",
  "featureManagement",
  "feature_management",
  "feature-management",
];
const ENABLED_FOR = ["EnabledFor", "enabledFor", "enabled_for", "enabled-for"];

/** A key-value to write to the store. */
export interface FileKeyValue {
  key: string;
  value: string;
  contentType?: string;
}

export interface ImportOptions {
  separator?: string;
  /** How many levels to flatten; every level when a separator is given, else 1. */
  depth?: number;
  /** Put in front of every imported key (not of feature flags). */
  prefix?: string;
  /** Given to every imported key-value; a JSON one keeps leaves as JSON. */
  contentType?: string;
}

/** The configuration file's text as a tree; a file that is not an object or array is refused. */
export function parseConfigFile(text: string, format: FileFormat): unknown {
  let data: unknown;
  try {
    data = format === "json" ? JSON.parse(text.replace(/^\uFEFF/, "")) : parseYaml(text);
  } catch (error) {
    throw new CliError(`the input is not a well formatted ${format} file: ${(error as Error).message}`);
  }
  if (data === null || typeof data !== "object") {
    throw new CliError(
      `the input is not a well formatted ${format} file: an object or an array is required at the top`,
    );
  }
  return data;
}

/** Whether a content type is JSON's: `application/json` or `application/…+json`, parameters ignored. */
export function isJsonContentType(contentType: string | null | undefined): boolean {
  const mediaType = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  const [main, sub] = mediaType.split("/");
  return main === "application" && sub !== undefined && sub.split("+").includes("json");
}

/** A key az refuses to import, with why; undefined for a good one. */
function importRefusal(key: string): string | undefined {
  if (key === "") return "Key cannot be empty.";
  if (key === "." || key === ".." || key.includes("%"))
    return "Key cannot be a '.' or '..', or contain the '%' character.";
  if (key.startsWith(FEATURE_FLAG_PREFIX))
    return "Key cannot start with the reserved prefix for feature flags.";
  return undefined;
}

/** The key-values of a configuration file, and a warning for each key az would skip. */
export function keyValuesFromFile(
  data: unknown,
  options: ImportOptions = {},
): { keyValues: FileKeyValue[]; warnings: string[] } {
  const { separator, prefix = "", contentType } = options;
  const depth = options.depth ?? (separator ? Number.POSITIVE_INFINITY : 1);
  const asJson = isJsonContentType(contentType);
  const flattened = new Map<string, string>();
  const needSeparator = () => {
    if (!separator)
      throw new CliError("a non-empty --separator is required for importing hierarchical configurations");
    return separator;
  };
  const flatten = (key: string, value: unknown, levels: number) => {
    const descend = asJson
      ? isPlainObject(value) && Object.keys(value).length > 0
      : Array.isArray(value) || isPlainObject(value);
    if (levels > 1 && descend) {
      const join = needSeparator();
      const members = Array.isArray(value)
        ? value.map((item, index) => [String(index), item] as const)
        : Object.entries(value as object);
      for (const [name, member] of members) flatten(`${key}${join}${name}`, member, levels - 1);
      return;
    }
    flattened.set(key, asJson ? pythonJson(value) : pythonText(value));
  };
  const root = Array.isArray(data)
    ? data.map((item, index) => [String(index), item] as const)
    : Object.entries(data as object).filter(([name]) => !FEATURE_MANAGEMENT_SECTIONS.includes(name));
  for (const [name, value] of root) flatten(`${prefix}${name}`, value, depth);

  const keyValues: FileKeyValue[] = [];
  const warnings: string[] = [];
  for (const [key, value] of flattened) {
    const refusal = importRefusal(key);
    if (refusal) warnings.push(`Ignoring invalid key '${key}'. ${refusal}`);
    else keyValues.push({ key, value, ...(contentType ? { contentType } : {}) });
  }
  return { keyValues, warnings };
}

/** The feature flags of a file's "FeatureManagement" section, as key-values; a second such section is refused. */
export function featureFlagsFromFile(data: unknown): FileKeyValue[] {
  if (!isPlainObject(data)) return [];
  const sections = FEATURE_MANAGEMENT_SECTIONS.filter((name) => name in data);
  if (sections.length > 1) {
    throw new CliError(
      `the file has ${sections.length} feature management sections (${sections.join(", ")}); keep one`,
    );
  }
  const [section] = sections;
  if (section === undefined) return [];
  const enabledFor = ENABLED_FOR[FEATURE_MANAGEMENT_SECTIONS.indexOf(section)] as string;
  const features = data[section];
  if (!isPlainObject(features)) {
    throw new CliError(`the file's '${section}' section must be an object of feature flags`);
  }
  return Object.entries(features).flatMap(([id, state]) => {
    if (id === "" || id.includes("%")) return [];
    let enabled: boolean;
    let filters: { name: string; parameters?: unknown }[] = [];
    if (typeof state === "boolean") enabled = state;
    else if (isPlainObject(state) && Array.isArray(state[enabledFor])) {
      filters = (state[enabledFor] as unknown[]).flatMap((filter) => {
        const named = isPlainObject(filter)
          ? Object.fromEntries(Object.entries(filter).map(([name, value]) => [name.toLowerCase(), value]))
          : {};
        if (typeof named.name !== "string" || named.name === "") return [];
        return [{ name: named.name, ...(named.parameters ? { parameters: named.parameters } : {}) }];
      });
      enabled = filters.length > 0;
      // az's shorthand for a flag that is simply on.
      if (filters.some((filter) => filter.name.toLowerCase() === "alwayson")) filters = [];
    } else {
      throw new CliError(
        `feature flag '${id}' must be true, false or an object with '${enabledFor}': [{"Name": …}]`,
      );
    }
    return [
      {
        key: `${FEATURE_FLAG_PREFIX}${id}`,
        contentType: FEATURE_FLAG_CONTENT_TYPE,
        value: pythonJson({ id, description: "", enabled, conditions: { client_filters: filters } }, false),
      },
    ];
  });
}

/** A key-value read from the store, as export takes it. */
export interface StoredKeyValue {
  key: string;
  label: string | null;
  value: string | null;
  contentType: string | null;
}

export interface ExportOptions {
  separator?: string;
  /** Trimmed from the front of the keys that have it. */
  prefix?: string;
}

/** The tree a file gets for `keyValues` (feature flags left out), as az's export builds it. */
export function treeFromKeyValues(keyValues: readonly StoredKeyValue[], options: ExportOptions = {}) {
  const { separator, prefix = "" } = options;
  const tree: Record<string, unknown> = {};
  const seen = new Map<string, StoredKeyValue & { parsed: unknown }>();
  // Values that are JSON objects themselves: no other key may nest inside them.
  const leaves = new WeakSet<object>();
  for (const keyValue of keyValues) {
    if (isFeatureFlag(keyValue)) continue;
    const key = prefix && keyValue.key.startsWith(prefix) ? keyValue.key.slice(prefix.length) : keyValue.key;
    const parsed = isJsonContentType(keyValue.contentType) ? parseOr(keyValue.value) : keyValue.value;
    const earlier = seen.get(key);
    if (earlier) {
      if (JSON.stringify(earlier.parsed) !== JSON.stringify(parsed)) {
        throw new CliError(
          `the key ${key} has two labels, ${earlier.label ?? "(no label)"} and ${keyValue.label ?? "(no label)"}, with different values; export one label with --label`,
        );
      }
      continue;
    }
    seen.set(key, { ...keyValue, parsed });
    if (!separator) {
      tree[key] = parsed;
      continue;
    }
    const segments = key.split(separator);
    const leaf = segments.pop() as string;
    let node = tree;
    for (const segment of segments) {
      if (node[segment] === undefined) node[segment] = {};
      const child = node[segment];
      if (!isPlainObject(child) || leaves.has(child)) throw nestingConflict(key, separator);
      node = child;
    }
    if (node[leaf] !== undefined) throw nestingConflict(key, separator);
    node[leaf] = parsed;
    if (typeof parsed === "object" && parsed !== null) leaves.add(parsed);
  }
  return arraysWhereNumbered(tree);
}

/** The "FeatureManagement" section for the store's feature flags, as az exports them. */
export function featureSectionFromKeyValues(keyValues: readonly StoredKeyValue[]): Record<string, unknown> {
  const features: Record<string, unknown> = {};
  for (const keyValue of keyValues) {
    if (!isFeatureFlag(keyValue)) continue;
    const flag = parseOr(keyValue.value) as {
      id?: string;
      enabled?: boolean;
      conditions?: { client_filters?: { name: string; parameters?: unknown }[] };
    };
    const name = flag.id ?? keyValue.key.slice(FEATURE_FLAG_PREFIX.length);
    const filters = flag.conditions?.client_filters ?? [];
    features[name] =
      flag.enabled && filters.length > 0
        ? {
            EnabledFor: filters.map((filter) => ({
              Name: filter.name,
              ...(filter.parameters ? { Parameters: filter.parameters } : {}),
            })),
          }
        : flag.enabled === true;
  }
  return Object.keys(features).length > 0 ? { FeatureManagement: features } : {};
}

/** A file's text for a tree: JSON with two-space indentation (no final newline, as Python's json.dump), or YAML. */
export function renderConfigFile(tree: unknown, format: FileFormat): string {
  return format === "json" ? JSON.stringify(tree, null, 2) : stringifyYaml(tree, { lineWidth: 0 });
}

export function isFeatureFlag(keyValue: { key: string; contentType: string | null }): boolean {
  return keyValue.key.startsWith(FEATURE_FLAG_PREFIX) && keyValue.contentType === FEATURE_FLAG_CONTENT_TYPE;
}

function nestingConflict(key: string, separator: string): CliError {
  return new CliError(
    `cannot export with separator '${separator}': the key '${key}' is both a value and a parent of other keys; export without --separator, or with another one`,
  );
}

function arraysWhereNumbered(node: unknown): unknown {
  if (!isPlainObject(node)) return node;
  const names = Object.keys(node);
  if (names.length > 0 && names.every((name) => /^\d+$/.test(name))) {
    const indices = names.map(Number).sort((a, b) => a - b);
    if (indices.every((index, position) => index === position)) {
      return indices.map((index) => arraysWhereNumbered(node[String(index)]));
    }
  }
  return Object.fromEntries(names.map((name) => [name, arraysWhereNumbered(node[name])]));
}

function parseOr(value: string | null): unknown {
  try {
    return JSON.parse(value ?? "");
  } catch {
    return value;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Python's `json.dumps`: `", "` and `": "` between members; non-ASCII escaped unless `asciiOnly` is false (az's
 * feature flags keep it).
 */
export function pythonJson(value: unknown, asciiOnly = true): string {
  const render = (node: unknown): string => {
    if (Array.isArray(node)) return `[${node.map(render).join(", ")}]`;
    if (isPlainObject(node)) {
      return `{${Object.entries(node)
        .map(([name, member]) => `${JSON.stringify(name)}: ${render(member)}`)
        .join(", ")}}`;
    }
    return JSON.stringify(node) ?? "null";
  };
  const rendered = render(value);
  return asciiOnly
    ? rendered.replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`)
    : rendered;
}

/**
 * What an import or export would change, as az previews it on stderr: the key-values it adds and those whose value
 * it changes; undefined when the target already holds every one.
 */
export function previewChanges(
  current: ReadonlyMap<string, string | null>,
  incoming: readonly { key: string; value: string | null }[],
): string[] | undefined {
  const adding: string[] = [];
  const updating: string[] = [];
  for (const { key, value } of incoming) {
    if (!current.has(key)) adding.push(JSON.stringify({ key, value }));
    else if (current.get(key) !== value) {
      updating.push(
        `- ${JSON.stringify({ key, value: current.get(key) })}`,
        `+ ${JSON.stringify({ key, value })}`,
      );
    }
  }
  if (adding.length === 0 && updating.length === 0) return undefined;
  return [
    "---------------- Key Values Preview ----------------",
    ...(adding.length > 0 ? ["Adding:", ...adding] : []),
    ...(updating.length > 0 ? ["Updating:", ...updating] : []),
    "",
  ];
}
