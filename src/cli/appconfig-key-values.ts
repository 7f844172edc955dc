// Key-values as `wikit appconfig kv` prints them, without I/O: the data plane's JSON turned into the object az
// prints (its KeyValue model: camelCase members), the `--fields` projection (snake_case members, as az leaves
// them), and the `-o table` rows of az's transformer.

/** Content types with a meaning to the providers (the CLI may not import the store's own constants). */
export const KEY_VAULT_REFERENCE_CONTENT_TYPE =
  "application/vnd.microsoft.appconfig.keyvaultref+json;charset=utf-8";
export const FEATURE_FLAG_CONTENT_TYPE = "application/vnd.microsoft.appconfig.ff+json;charset=utf-8";
export const FEATURE_FLAG_PREFIX = ".appconfig.featureflag/";

/** The filter text the data plane reads as "no label" (az's `\0`). */
export const NULL_LABEL_FILTER = "\0";

/** A key-value as the data plane sends it (`application/vnd.microsoft.appconfig.kv+json`). */
export interface WireKeyValue {
  etag?: string;
  key?: string;
  label?: string | null;
  content_type?: string | null;
  value?: string | null;
  tags?: Record<string, string> | null;
  locked?: boolean;
  last_modified?: string;
}

/** az's `--fields` choices, in the order az lists them. */
export const KEY_VALUE_FIELDS = [
  "key",
  "value",
  "label",
  "content_type",
  "etag",
  "tags",
  "locked",
  "last_modified",
] as const;
export type KeyValueField = (typeof KEY_VALUE_FIELDS)[number];

/** A key-value as az prints it: every member, camelCase. */
export interface KeyValueView {
  contentType: string | null;
  etag: string | null;
  key: string;
  label: string | null;
  lastModified: string | null;
  locked: boolean;
  tags: Record<string, string> | null;
  value: string | null;
}

export function keyValueView(wire: WireKeyValue): KeyValueView {
  return {
    contentType: wire.content_type ?? null,
    etag: wire.etag ?? null,
    key: wire.key ?? "",
    label: wire.label ?? null,
    lastModified: wire.last_modified ?? null,
    locked: wire.locked ?? false,
    tags: wire.tags ?? null,
    value: wire.value ?? null,
  };
}

/** With `--fields`, az prints only those members, under the service's snake_case names. */
export function keyValueFieldsView(wire: WireKeyValue, fields: readonly KeyValueField[]) {
  const view = keyValueView(wire);
  const byField: Record<KeyValueField, unknown> = {
    key: view.key,
    value: view.value,
    label: view.label,
    content_type: view.contentType,
    etag: view.etag,
    tags: view.tags,
    locked: view.locked,
    last_modified: view.lastModified,
  };
  return Object.fromEntries(fields.map((field) => [field, byField[field]]));
}

/** `--fields` checked against az's choices; repeated ones kept once. */
export function parseFields(given: readonly string[]): KeyValueField[] {
  const fields: KeyValueField[] = [];
  for (const field of given) {
    const name = field.toLowerCase();
    if (!(KEY_VALUE_FIELDS as readonly string[]).includes(name)) {
      throw new Error(
        `--fields: '${field}' is not one of ${KEY_VALUE_FIELDS.join(", ")} (space-separated, e.g. --fields key value)`,
      );
    }
    if (!fields.includes(name as KeyValueField)) fields.push(name as KeyValueField);
  }
  return fields;
}

/** `--tags a=b c` as az reads them (for stores and key-values alike): `key[=value]`, space-separated. */
export function parseTags(tags: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    tags.map((tag) => {
      const separator = tag.indexOf("=");
      return separator < 0 ? [tag, ""] : [tag.slice(0, separator), tag.slice(separator + 1)];
    }),
  );
}

// ---- -o table: az's transformers -------------------------------------------------------------------------

/** A cell as az's transformer writes it: a blank for nothing, Python's text for the rest. */
function cell(value: unknown): string {
  if (value === null || value === undefined) return " ";
  return pythonText(value);
}

/** Python's `str()` of a JSON value: `True`, `None`, `{'a': 'b'}`. */
export function pythonText(value: unknown): string {
  if (value === true) return "True";
  if (value === false) return "False";
  if (value === null || value === undefined) return "None";
  if (typeof value === "string") return value;
  return pythonRepr(value);
}

/** Python's `repr()` of a JSON value, as `str()` writes the members of a dict or list. */
export function pythonRepr(value: unknown): string {
  if (typeof value === "string") {
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    const escaped = value
      .replaceAll("\\", "\\\\")
      .replaceAll("\n", "\\n")
      .replaceAll("\t", "\\t")
      .replaceAll("\r", "\\r")
      .replaceAll(quote, `\\${quote}`);
    return `${quote}${escaped}${quote}`;
  }
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(", ")}]`;
  if (typeof value === "object" && value !== null) {
    return `{${Object.entries(value)
      .map(([key, member]) => `${pythonRepr(key)}: ${pythonRepr(member)}`)
      .join(", ")}}`;
  }
  if (typeof value === "number") return String(value);
  return pythonText(value);
}

/** az's table date: `2026-01-02T03:04:05Z`, or the text as given when it is no date. */
function tableDate(value: unknown): string {
  if (typeof value !== "string" || value === "") return " ";
  const time = Date.parse(value);
  return Number.isNaN(time) ? value : new Date(time).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The rows of `kv … -o table`: az's columns, in its order (whole key-values or `--fields` ones). */
export function keyValueTable(result: unknown): unknown {
  const rows = Array.isArray(result) ? result : [result];
  return rows.map((item) => {
    const entry = item as Record<string, unknown>;
    return {
      "CONTENT TYPE": cell(entry.contentType ?? entry.content_type),
      KEY: cell(entry.key),
      VALUE: cell(entry.value),
      "LAST MODIFIED": tableDate(entry.lastModified ?? entry.last_modified),
      TAGS: cell(entry.tags),
      LABEL: cell(entry.label),
      LOCKED: cell(entry.locked),
    };
  });
}

/** The rows of `appconfig credential … -o table`. */
export function credentialTable(result: unknown): unknown {
  const rows = Array.isArray(result) ? result : [result];
  return rows.map((item) => {
    const key = item as Record<string, unknown>;
    return {
      "CONNECTION STRING": cell(key.connectionString),
      ID: cell(key.id),
      "LAST MODIFIED": tableDate(key.lastModified),
      NAME: cell(key.name),
      "READ ONLY": cell(key.readOnly),
      VALUE: cell(key.value),
    };
  });
}

/** The rows of `appconfig create|show|list -o table` (stores as az prints them: properties at the top). */
export function configurationStoreTable(result: unknown): unknown {
  const rows = Array.isArray(result) ? result : [result];
  return rows.map((item) => {
    const store = item as Record<string, unknown>;
    const sku = (store.sku as { name?: unknown } | null | undefined)?.name;
    const retention = store.softDeleteRetentionInDays;
    return {
      "CREATION DATE": tableDate(store.creationDate),
      ENDPOINT: cell(store.endpoint),
      LOCATION: cell(store.location),
      NAME: cell(store.name),
      "PROVISIONING STATE": cell(store.provisioningState),
      "RESOURCE GROUP": cell(store.resourceGroup),
      SKU: typeof sku === "string" ? sku : "",
      "PURGE PROTECTION": store.enablePurgeProtection === true ? "ENABLED" : "DISABLED",
      "SOFT DELETE RETENTION PERIOD": `${cell(retention)} DAYS`,
    };
  });
}
