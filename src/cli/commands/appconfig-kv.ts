import { readFile, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { type Command, Option } from "commander";
import { confirmOrStop } from "../appconfig-confirmation.ts";
import { type AppConfigDataPlane, StoreRequestError } from "../appconfig-data-plane.ts";
import {
  FILE_FORMATS,
  type FileFormat,
  type FileKeyValue,
  featureFlagsFromFile,
  featureSectionFromKeyValues,
  isFeatureFlag,
  isJsonContentType,
  keyValuesFromFile,
  parseConfigFile,
  previewChanges,
  renderConfigFile,
  SEPARATORS,
  type StoredKeyValue,
  treeFromKeyValues,
} from "../appconfig-file-flattening.ts";
import {
  FEATURE_FLAG_CONTENT_TYPE,
  FEATURE_FLAG_PREFIX,
  KEY_VALUE_FIELDS,
  KEY_VAULT_REFERENCE_CONTENT_TYPE,
  keyValueFieldsView,
  keyValueTable,
  keyValueView,
  NULL_LABEL_FILTER,
  parseFields,
  parseTags,
  type WireKeyValue,
} from "../appconfig-key-values.ts";
import { CliError } from "../cli-error.ts";
import { note, printResult } from "../output.ts";
import { openStore, type StoreAccessOptions, withStoreAccess } from "./appconfig-store-access.ts";

// `wikit appconfig kv set|show|list|delete|lock|unlock|set-keyvault|import|export`: a store's key-values through its
// data plane, with az's flags, defaults, confirmations and output (its KeyValue objects; `-o table` its columns).
// A label of `\0` means "no label", as in az; commands that name one key-value take no label as no label, list
// takes it as any label.

/** az tries a write whose ETag went stale this often, a second apart. */
const CONFLICT_RETRIES = 3;

const asKeyValues = { table: keyValueTable };

type KvOptions = StoreAccessOptions & { key: string; label?: string; yes?: boolean };

/** The label of one key-value: none, or `\0`, is the null label. */
function singleLabel(given: string | undefined): string | null {
  return given === undefined || given === "\\0" || given === NULL_LABEL_FILTER ? null : given;
}

/** A label filter as the service reads it: az's `\0` (typed as backslash-zero) is the NUL character. */
function labelFilter(given: string): string {
  return given.replace(/(?<!\\)\\0/g, NULL_LABEL_FILTER);
}

/** Text put before `*` in a key filter: the filter's reserved characters escaped. */
function escapeFilter(text: string): string {
  return text.replace(/[\\*,]/g, (reserved) => `\\${reserved}`);
}

const describeLabel = (label: string | null) => (label === null ? "no label" : `label '${label}'`);

/** az's key rules, checked before anything is sent. */
function checkKey(key: string): void {
  if (key === "") throw new CliError("Key cannot be empty.");
  if (key === "." || key === ".." || key.includes("%")) {
    throw new CliError("Key is invalid. Key cannot be a '.' or '..', or contain the '%' character.");
  }
}

/** How the user named the store, to repeat in a suggested command. */
function storeFlags(options: StoreAccessOptions): string {
  if (options.authMode === "login")
    return options.endpoint
      ? `--endpoint ${options.endpoint} --auth-mode login`
      : `-n ${options.name} --auth-mode login`;
  return options.name ? `-n ${options.name}` : "--connection-string …";
}

function lockedError(
  options: StoreAccessOptions,
  key: string,
  label: string | null,
  doing: string,
): CliError {
  const labelFlag = label === null ? "" : ` --label ${label}`;
  return new CliError(
    `Failed to ${doing} the key-value '${key}' (${describeLabel(label)}): it is locked (read-only). Unlock it first: wikit appconfig kv unlock ${storeFlags(options)} --key ${key}${labelFlag}`,
  );
}

const isLocked = (error: unknown) =>
  error instanceof StoreRequestError &&
  (error.problemType?.endsWith("/key-locked") === true ||
    (error.status === 409 && error.problemType === undefined));
const isStale = (error: unknown) => error instanceof StoreRequestError && error.status === 412;

/**
 * Sets one key-value as az's `kv set` and `kv set-keyvault` do: read it, work out the new one from it, confirm, and
 * write it only if nobody changed it meanwhile (retried on a conflict).
 */
async function setKeyValue(
  options: StoreAccessOptions,
  store: AppConfigDataPlane,
  key: string,
  label: string | null,
  yes: boolean | undefined,
  next: (current: WireKeyValue | undefined) => {
    value: string;
    content_type: string;
    tags: Record<string, string>;
  },
): Promise<WireKeyValue> {
  for (let attempt = 1; attempt <= CONFLICT_RETRIES; attempt++) {
    const current = await store.getKeyValue(key, label);
    const body = next(current);
    const entry = { content_type: body.content_type, key, label, tags: body.tags, value: body.value };
    await confirmOrStop(`Are you sure you want to set the key: \n${JSON.stringify(entry, null, 2)}\n`, yes);
    try {
      return await store.putKeyValue(
        key,
        label,
        body,
        current?.etag ? { ifMatch: current.etag } : { ifNoneMatch: "*" },
      );
    } catch (error) {
      if (isLocked(error)) throw lockedError(options, key, label, "update");
      if (!isStale(error)) throw error;
      if (attempt < CONFLICT_RETRIES) await sleep(1000);
    }
  }
  throw new CliError(`Failed to set the key '${key}' due to a conflicting operation.`);
}

/** az refuses a value that is not JSON under a JSON content type. */
function checkJsonValue(value: string, contentType: string): void {
  if (!isJsonContentType(contentType)) return;
  try {
    JSON.parse(value);
  } catch {
    throw new CliError(
      `Value "${value}" is not a valid JSON object, which conflicts with the content type "${contentType}". Set the value again in valid JSON format.`,
    );
  }
}

/** Optional variadic `--tags`: given bare, it means no tags. */
const tagsOf = (tags: string[] | boolean | undefined) =>
  tags === undefined ? undefined : parseTags(tags === true || tags === false ? [] : tags);

const SECRET_IDENTIFIER = /^\/(secrets|keys|certificates)\/[^/]+(\/[^/]*)?$/;

function checkSecretIdentifier(identifier: string): void {
  const url = URL.parse(identifier);
  if (url?.protocol !== "https:" || !SECRET_IDENTIFIER.test(url.pathname)) {
    throw new CliError(
      `--secret-identifier '${identifier}' is not a Key Vault object identifier: give one such as https://<vault>.vault.localhost:<port>/secrets/<name> (wikit keyvault secret show --vault-name <vault> -n <name> --query id -o tsv)`,
    );
  }
}

function positiveInteger(name: string) {
  return (given: string) => {
    const number = Number(given);
    if (!Number.isInteger(number) || number < 1)
      throw new CliError(`${name} must be a positive integer, not '${given}'`, 2);
    return number;
  };
}

const kvCommand = (parent: Command, name: string, description: string) =>
  withStoreAccess(parent.command(name).description(description));

export function registerKeyValueCommands(kv: Command): void {
  kvCommand(kv, "set", "set a key-value (its value, content type and tags)")
    .requiredOption("--key <key>", "key to set; it cannot be '.' or '..', or hold '%'")
    .option("--label <label>", "label (default: no label)")
    .option("--value <value>", "value (default: the current one, or empty)")
    .option("--content-type <type>", "content type, e.g. application/json")
    .option("--tags [tag...]", "space-separated tags: key[=value] … (default: the current ones)")
    .option("-y, --yes", "do not prompt for confirmation")
    .addHelpText(
      "after",
      '\nExamples:\n  wikit appconfig kv set -n appcs-demo --key myapp:color --label prd --value blue --yes\n  wikit appconfig kv set --connection-string "$CS" --key settings --value \'{"a":1}\' --content-type application/json --yes\n',
    )
    .action(
      async (options: KvOptions & { value?: string; contentType?: string; tags?: string[] | boolean }) => {
        checkKey(options.key);
        const label = singleLabel(options.label);
        if (options.contentType?.toLowerCase() === KEY_VAULT_REFERENCE_CONTENT_TYPE) {
          note("There is a dedicated command to set key vault reference. 'appconfig kv set-keyvault -h'");
        } else if (options.contentType?.toLowerCase() === FEATURE_FLAG_CONTENT_TYPE) {
          note("Feature flags are key-values under .appconfig.featureflag/; set them with care.");
        }
        const store = await openStore(options);
        const written = await setKeyValue(options, store, options.key, label, options.yes, (current) => {
          const tags = tagsOf(options.tags);
          if (!current) {
            const contentType = options.contentType ?? "";
            checkJsonValue(options.value ?? "null", contentType);
            return { value: options.value ?? "", content_type: contentType, tags: tags ?? {} };
          }
          const value = options.value ?? current.value ?? "";
          const contentType = options.contentType ?? current.content_type ?? "";
          checkJsonValue(value, contentType);
          return { value, content_type: contentType, tags: tags ?? current.tags ?? {} };
        });
        printResult(keyValueView(written), asKeyValues);
      },
    );

  kvCommand(kv, "set-keyvault", "set a Key Vault reference: a key-value the providers resolve at the vault")
    .requiredOption("--key <key>", "key to set")
    .requiredOption(
      "--secret-identifier <id>",
      "the secret's identifier, e.g. https://<vault>.vault.localhost:8443/secrets/<name> (no version: the latest)",
    )
    .option("--label <label>", "label (default: no label)")
    .option("--tags [tag...]", "space-separated tags: key[=value] … (default: the current ones)")
    .option("-y, --yes", "do not prompt for confirmation")
    .action(async (options: KvOptions & { secretIdentifier: string; tags?: string[] | boolean }) => {
      checkKey(options.key);
      checkSecretIdentifier(options.secretIdentifier);
      const label = singleLabel(options.label);
      const store = await openStore(options);
      const value = JSON.stringify({ uri: options.secretIdentifier });
      const written = await setKeyValue(options, store, options.key, label, options.yes, (current) => ({
        value,
        content_type: KEY_VAULT_REFERENCE_CONTENT_TYPE,
        tags: tagsOf(options.tags) ?? current?.tags ?? {},
      }));
      printResult(keyValueView(written), asKeyValues);
    });

  kvCommand(kv, "show", "show one key-value")
    .requiredOption("--key <key>", "key")
    .option("--label <label>", "label (default: no label; no filters)")
    .option("--datetime <when>", "as it was then: YYYY-MM-DDThh:mm:ssZ (UTC when no zone is given)")
    .action(async (options: KvOptions & { datetime?: string }) => {
      const label = singleLabel(options.label);
      const store = await openStore(options);
      const found = await store.getKeyValue(options.key, label, options.datetime);
      if (!found) {
        throw new CliError(
          `Key '${options.key}' with ${describeLabel(label)} does not exist. List the key-values with: wikit appconfig kv list … --key '${escapeFilter(options.key)}' --label '*'`,
          3,
        );
      }
      printResult(keyValueView(found), asKeyValues);
    });

  kvCommand(kv, "list", "list key-values (filters: abc* for a prefix, a,b for either, \\0 for no label)")
    .option("--key <filter>", "key filter (default: every key)")
    .option("--label <filter>", "label filter (default: every label; \\0 for no label)")
    .addOption(
      new Option("--fields <field...>", "only these fields, space-separated").choices(KEY_VALUE_FIELDS),
    )
    .option("-t, --top <n>", "at most this many (default: 100)", positiveInteger("--top"))
    .option("--all", "every key-value, however many")
    .option("--datetime <when>", "as they were then: YYYY-MM-DDThh:mm:ssZ (UTC when no zone is given)")
    .addHelpText(
      "after",
      "\nExamples:\n  wikit appconfig kv list -n appcs-demo --key 'myapp:*' --label prd\n  wikit appconfig kv list -n appcs-demo --label '\\0' --fields key value -o table\n",
    )
    .action(
      async (
        options: StoreAccessOptions & {
          key?: string;
          label?: string;
          fields?: string[];
          top?: number;
          all?: boolean;
          datetime?: string;
        },
      ) => {
        const fields = options.fields ? parseFields(options.fields) : undefined;
        const store = await openStore(options);
        const found = await store.listKeyValues(
          {
            key: options.key,
            label: options.label === undefined ? undefined : labelFilter(options.label),
            fields,
            datetime: options.datetime,
          },
          options.all ? Number.POSITIVE_INFINITY : (options.top ?? 100),
        );
        printResult(
          found.map((item) => (fields ? keyValueFieldsView(item, fields) : keyValueView(item))),
          asKeyValues,
        );
      },
    );

  kvCommand(kv, "delete", "delete the key-values a key and label filter match")
    .requiredOption("--key <filter>", "key, or a filter such as abc* (every key: *)")
    .option("--label <filter>", "label or filter (default: no label; every label: *)")
    .option("-y, --yes", "do not prompt for confirmation")
    .action(async (options: KvOptions) => {
      const store = await openStore(options);
      const entries = await store.listKeyValues({
        key: options.key,
        label: labelFilter(options.label ?? "\\0"),
      });
      await confirmOrStop(
        `Found '${entries.length}' key-values matching the specified key and label. Are you sure you want to delete these key-values?`,
        options.yes,
      );
      const deleted: WireKeyValue[] = [];
      const failures: string[] = [];
      for (const entry of entries) {
        const key = entry.key ?? "";
        const label = entry.label ?? null;
        try {
          const gone = await store.deleteKeyValue(key, label, entry.etag);
          if (gone) deleted.push(gone);
        } catch (error) {
          if (isLocked(error)) {
            failures.push(
              `Failed to delete read-only key-value with key '${key}' and ${describeLabel(label)}. Unlock the key-value before deleting it.`,
            );
          } else if (isStale(error)) {
            failures.push(
              `Failed to delete key-value with key '${key}' and ${describeLabel(label)} due to a conflicting operation.`,
            );
          } else throw error;
        }
      }
      if (failures.length > 0 && deleted.length === 0) {
        throw new CliError(`Delete operation failed. \n${JSON.stringify(failures, null, 2)}`);
      }
      if (failures.length > 0) {
        process.stderr.write(
          `Delete operation partially failed. The following error(s) occurred:\n${JSON.stringify(failures, null, 2)}\n`,
        );
      }
      printResult(deleted.map(keyValueView), asKeyValues);
    });

  for (const [name, locked] of [
    ["lock", true],
    ["unlock", false],
  ] as const) {
    kvCommand(kv, name, locked ? "make a key-value read-only" : "let a locked key-value be changed again")
      .requiredOption("--key <key>", "key")
      .option("--label <label>", "label (default: no label; no filters)")
      .option("-y, --yes", "do not prompt for confirmation")
      .action(async (options: KvOptions) => {
        const label = singleLabel(options.label);
        const store = await openStore(options);
        for (let attempt = 1; ; attempt++) {
          const current = await store.getKeyValue(options.key, label);
          if (!current)
            throw new CliError(`Key '${options.key}' with ${describeLabel(label)} does not exist.`, 3);
          await confirmOrStop(
            `Are you sure you want to ${name} the key '${options.key}' with ${describeLabel(label)}`,
            options.yes,
          );
          try {
            printResult(
              keyValueView(await store.setLocked(options.key, label, locked, current.etag)),
              asKeyValues,
            );
            return;
          } catch (error) {
            if (!isStale(error)) throw error;
            if (attempt === CONFLICT_RETRIES) {
              throw new CliError(
                `Failed to ${name} the key '${options.key}' with ${describeLabel(label)} due to a conflicting operation.`,
              );
            }
            await sleep(1000);
          }
        }
      });
  }

  registerFileCommands(kv);
}

/** `--format`, `--separator`, `--prefix` and `--yes`, which import and export share. */
function withFileOptions(command: Command): Command {
  return command
    .requiredOption("--path <file>", "the configuration file")
    .addOption(
      new Option("--format <format>", "the file's format").choices(FILE_FORMATS).makeOptionMandatory(),
    )
    .addOption(
      new Option("--separator <text>", "flattens nested objects into keys joined by it").choices(SEPARATORS),
    )
    .option("--skip-features", "leave out feature flags")
    .option("-y, --yes", "do not show the preview and ask");
}

interface FileOptions extends StoreAccessOptions {
  path: string;
  format: FileFormat;
  separator?: string;
  prefix?: string;
  label?: string;
  skipFeatures?: boolean;
  yes?: boolean;
}

/** Shows what would change and asks, unless --yes; false when nothing would change. */
async function previewAndConfirm(
  current: ReadonlyMap<string, string | null>,
  incoming: readonly { key: string; value: string | null }[],
  yes: boolean | undefined,
): Promise<boolean> {
  if (yes) return true;
  const preview = previewChanges(current, incoming);
  if (!preview) {
    note("Target configuration already contains all key-values in source. No changes will be made.");
    return false;
  }
  note(preview.join("\n"));
  await confirmOrStop("Do you want to continue? \n", false);
  return true;
}

function registerFileCommands(kv: Command): void {
  withFileOptions(
    kvCommand(kv, "import", "import key-values (and feature flags) from a JSON or YAML file")
      .addOption(new Option("-s, --source <source>", "where from").choices(["file"]).makeOptionMandatory())
      .option("--label <label>", "label given to every imported key-value (default: no label)")
      .option("--prefix <prefix>", "put in front of every imported key (not of feature flags)", "")
      .option(
        "--depth <n>",
        "how many levels to flatten (default: all with --separator, else 1)",
        positiveInteger("--depth"),
      )
      .option(
        "--content-type <type>",
        "content type of every imported key-value; a JSON one keeps values as JSON",
      ),
  )
    .addHelpText(
      "after",
      "\nExamples:\n  wikit appconfig kv import -n appcs-demo -s file --path settings.json --format json --separator : --prefix myapp: --label prd --yes\n",
    )
    .action(async (options: FileOptions & { depth?: number; contentType?: string }) => {
      if (options.contentType && options.format !== "json" && isJsonContentType(options.contentType)) {
        throw new CliError(
          `Failed to import '${options.format}' file format with '${options.contentType}' content type. Please provide JSON file format to match your content type.`,
        );
      }
      let depth = options.depth;
      if (!options.separator && depth !== undefined && depth !== 1) {
        note("Cannot flatten hierarchical data without a separator. --depth argument will be ignored.");
        depth = 1;
      }
      const text = await readFile(options.path, "utf8").catch((error: Error) => {
        throw new CliError(`cannot read --path ${options.path}: ${error.message}`);
      });
      const data = parseConfigFile(text, options.format);
      const { keyValues, warnings } = keyValuesFromFile(data, {
        separator: options.separator,
        depth,
        prefix: options.prefix,
        contentType: options.contentType,
      });
      for (const warning of warnings) note(warning);
      const features = options.skipFeatures ? [] : featureFlagsFromFile(data);
      const label = singleLabel(options.label);
      const store = await openStore(options);
      if (!options.yes) {
        // What the store holds under the prefix and label, feature flags included, to preview against (a filter
        // takes one wildcard, so two lists).
        const existing = [];
        for (const prefix of [options.prefix ?? "", FEATURE_FLAG_PREFIX]) {
          existing.push(
            ...(await store.listKeyValues({
              key: `${escapeFilter(prefix)}*`,
              label: label ?? NULL_LABEL_FILTER,
            })),
          );
        }
        const current = new Map(existing.map((item) => [item.key ?? "", item.value ?? null]));
        if (keyValues.length === 0 && features.length === 0) {
          note("Source configuration is empty. No changes will be made.");
          return;
        }
        if (!(await previewAndConfirm(current, [...keyValues, ...features], false))) return;
      }
      await writeImported(store, [...keyValues, ...features], label);
    });

  withFileOptions(
    kvCommand(kv, "export", "export key-values (and feature flags) to a JSON or YAML file")
      .addOption(
        new Option("-d, --destination <destination>", "where to").choices(["file"]).makeOptionMandatory(),
      )
      .option("--key <filter>", "key filter (default: every key; feature flags are exported whatever it is)")
      .option("--label <filter>", "label filter (default: no label)")
      .option("--prefix <prefix>", "trimmed from the keys that start with it", "")
      .option("--skip-keyvault", "leave out Key Vault references"),
  )
    .addHelpText(
      "after",
      "\nExamples:\n  wikit appconfig kv export -n appcs-demo -d file --path settings.json --format json --separator : --label prd --yes\n",
    )
    .action(async (options: FileOptions & { key?: string; skipKeyvault?: boolean }) => {
      const store = await openStore(options);
      const label = labelFilter(options.label ?? "\\0");
      const stored = (await store.listKeyValues({ key: options.key, label })).map(storedKeyValue);
      const keyValues = stored.filter(
        (item) =>
          !isFeatureFlag(item) &&
          !(options.skipKeyvault && item.contentType === KEY_VAULT_REFERENCE_CONTENT_TYPE),
      );
      const features = options.skipFeatures
        ? []
        : (await store.listKeyValues({ key: `${escapeFilter(FEATURE_FLAG_PREFIX)}*`, label }))
            .map(storedKeyValue)
            .filter(isFeatureFlag);
      if (keyValues.length === 0 && features.length === 0) {
        note("Source configuration is empty. No changes will be made.");
        return;
      }
      const tree = {
        ...(treeFromKeyValues(keyValues, { separator: options.separator, prefix: options.prefix }) as object),
        ...featureSectionFromKeyValues(features),
      };
      if (!options.yes) {
        const prefix = options.prefix ?? "";
        const incoming = keyValues.map((item) => ({
          key: item.key.startsWith(prefix) ? item.key.slice(prefix.length) : item.key,
          value: item.value,
        }));
        if (!(await previewAndConfirm(new Map(), incoming, false))) return;
      }
      await writeFile(options.path, renderConfigFile(tree, options.format), "utf8").catch((error: Error) => {
        throw new CliError(`Failed to export key-values to file. ${error.message}`);
      });
    });
}

function storedKeyValue(item: WireKeyValue): StoredKeyValue {
  return {
    key: item.key ?? "",
    label: item.label ?? null,
    value: item.value ?? null,
    contentType: item.content_type ?? null,
  };
}

/**
 * Writes imported key-values unconditionally, as az does: a locked one is skipped with a warning; a refusal of the
 * credential stops the import.
 */
async function writeImported(
  store: AppConfigDataPlane,
  items: readonly FileKeyValue[],
  label: string | null,
) {
  for (const item of items) {
    try {
      await store.putKeyValue(item.key, label, {
        value: item.value,
        content_type: item.contentType ?? null,
        tags: {},
      });
    } catch (error) {
      if (error instanceof StoreRequestError && (error.status === 401 || error.status === 403)) throw error;
      const reason = isLocked(error) ? "Unlock the key-value before updating it." : (error as Error).message;
      note(`WARNING: Failed to set key-value with key '${item.key}' and ${describeLabel(label)}. ${reason}`);
    }
  }
}
