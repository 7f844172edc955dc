// How `wikit appconfig` finds a configuration store and reaches its data plane, as az does:
// - access keys (`--auth-mode key`, the default): `--connection-string`, else AZURE_APPCONFIG_CONNECTION_STRING,
//   else `-n NAME`, for which the CLI takes the store's first read-write key through ARM's listKeys;
// - `--auth-mode login`: the signed-in principal's token (`wikit login`) for the store's endpoint (`--endpoint`, or
//   the one ARM shows for `-n NAME`), so that the store's RBAC decides.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { Option } from "commander";
import { providerResourceId, RESOURCE_TYPES, resourceGroupId } from "../../names/arm-resource-ids.ts";
import { readCliProfile, readServerInfo, resolveDataDir } from "../../server/data-dir.ts";
import { AppConfigDataPlane } from "../appconfig-data-plane.ts";
import { parseConnectionString } from "../appconfig-hmac-signing.ts";
import { CliError } from "../cli-error.ts";
import { expectSuccess, type WikitClient } from "../wikit-client.ts";
import { type Common, connect } from "./command-common.ts";
import { exchange } from "./login.ts";

/** The management API version of `Microsoft.AppConfiguration`, as az sends it. */
export const APP_CONFIGURATION_API_VERSION = "2024-05-01";
export const CONNECTION_STRING_ENV = "AZURE_APPCONFIG_CONNECTION_STRING";
/** A PEM file of the CA to trust, as for `--server` (server-target.ts). */
const CA_FILE_ENV = "WIKIT_CA_FILE";

/** A configuration store as ARM returns it (the members the CLI reads). */
export interface ConfigurationStoreBody {
  id: string;
  name: string;
  properties: { endpoint?: string };
  [member: string]: unknown;
}

/** An access key as ARM's listKeys shows it. */
export interface AccessKeyBody {
  id: string;
  name: string;
  value: string;
  connectionString: string;
  lastModified: string;
  readOnly: boolean;
}

/** An ARM call on `Microsoft.AppConfiguration` (its own api-version) that must succeed. */
export async function appConfigArm(
  client: WikitClient,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const separator = path.includes("?") ? "&" : "?";
  const response = await client.request(
    method,
    `${path}${separator}api-version=${APP_CONFIGURATION_API_VERSION}`,
    body,
  );
  return expectSuccess(response);
}

export const storeId = (subscription: string, group: string, name: string) =>
  providerResourceId(
    subscription,
    encodeURIComponent(group),
    RESOURCE_TYPES.configurationStore,
    encodeURIComponent(name),
  );

/** The stores of a resource group, or of the whole subscription. */
export async function listStores(
  client: WikitClient,
  subscription: string,
  group?: string,
): Promise<ConfigurationStoreBody[]> {
  const scope = group
    ? resourceGroupId(subscription, encodeURIComponent(group))
    : `/subscriptions/${subscription}`;
  const { value } = (await appConfigArm(
    client,
    "GET",
    `${scope}/providers/${RESOURCE_TYPES.configurationStore}`,
  )) as { value: ConfigurationStoreBody[] };
  return value;
}

/** A store by name: from its group when given, else by searching the subscription (names are global). */
export async function locateStore(
  client: WikitClient,
  subscription: string,
  name: string,
  group?: string,
): Promise<ConfigurationStoreBody> {
  if (group)
    return (await appConfigArm(client, "GET", storeId(subscription, group, name))) as ConfigurationStoreBody;
  const store = (await listStores(client, subscription)).find(
    (candidate) => candidate.name.toLowerCase() === name.toLowerCase(),
  );
  if (!store) {
    throw new CliError(
      `Failed to find the App Configuration store '${name}' in subscription ${subscription}. Create it with: wikit appconfig create -g <group> -n ${name}`,
      3,
    );
  }
  return store;
}

/** The options that say which store a data-plane command works on, and how it signs in. */
export interface StoreAccessOptions extends Common {
  name?: string;
  connectionString?: string;
  endpoint?: string;
  authMode: "key" | "login";
}

/** `-n`, `--connection-string`, `--endpoint` and `--auth-mode`, with `--data-dir` and `--subscription`. */
export function withStoreAccess(command: Command): Command {
  return command
    .option("--data-dir <dir>", "state directory of the running wikit (default: $WIKIT_HOME or ~/.wikit)")
    .option(
      "--subscription <name-or-id>",
      "subscription name or ID (default: the current one, see `wikit account set`)",
    )
    .option("-n, --name <name>", "name of the App Configuration store")
    .option(
      "--connection-string <text>",
      `the store's endpoint and access key, as \`wikit appconfig credential list\` shows it (or ${CONNECTION_STRING_ENV})`,
    )
    .option(
      "--endpoint <url>",
      "with --auth-mode login: the store's endpoint, as `wikit appconfig show` shows it",
    )
    .addOption(
      new Option(
        "--auth-mode <mode>",
        "key: the store's access keys (from --connection-string or -n); login: the token of `wikit login`, authorised by the store's roles",
      )
        .choices(["key", "login"])
        .default("key"),
    );
}

/** The CA to trust for a store's endpoint: WIKIT_CA_FILE, else the local `wikit up`'s, else the machine's roots. */
async function trustedCa(dataDir: string): Promise<string | undefined> {
  const named = process.env[CA_FILE_ENV];
  if (named) {
    if (!existsSync(named)) throw new CliError(`${CA_FILE_ENV} names ${named}, which does not exist`);
    return readFile(named, "utf8");
  }
  const info = await readServerInfo(dataDir).catch(() => undefined);
  return info?.caFile && existsSync(info.caFile) ? readFile(info.caFile, "utf8") : undefined;
}

/** The store's name: the first label of its endpoint's host. */
const nameOfEndpoint = (endpoint: URL) => endpoint.hostname.split(".")[0] ?? endpoint.hostname;

function endpointUrl(text: string, source: string): URL {
  const url = URL.parse(text);
  if (url?.protocol !== "https:") {
    throw new CliError(
      `${source} must be the store's https:// endpoint (wikit appconfig show -n <store> --query endpoint -o tsv), not '${text}'`,
    );
  }
  return url;
}

/** The data plane of the store the options name, signed in as they say. */
export async function openStore(options: StoreAccessOptions): Promise<AppConfigDataPlane> {
  const dataDir = resolveDataDir(options.dataDir);
  const ca = await trustedCa(dataDir);
  if (options.authMode === "login") {
    if (options.connectionString) {
      throw new CliError(
        "--connection-string carries an access key: leave out --auth-mode login, or give --endpoint instead",
      );
    }
    const { login } = await readCliProfile(dataDir);
    if (!login) {
      throw new CliError(
        "Please run 'wikit login' to setup account: --auth-mode login uses the signed-in principal's token.",
      );
    }
    const { client, subscription } = await connect(options);
    let endpoint: URL;
    if (options.endpoint) endpoint = endpointUrl(options.endpoint, "--endpoint");
    else if (options.name) {
      const store = await locateStore(client, subscription, options.name);
      endpoint = endpointUrl(store.properties.endpoint ?? "", `the store's endpoint`);
    } else {
      throw new CliError(
        "App Configuration endpoint or name should be provided if auth mode is 'login': give --endpoint URL or -n NAME",
      );
    }
    // The store's endpoint is an audience its tokens may carry, as older SDKs ask for it.
    const { accessToken } = await exchange(client, login, `${endpoint.origin}/.default`);
    return new AppConfigDataPlane(
      endpoint,
      {
        kind: "bearer",
        token: accessToken,
        principal: login.clientId,
        storeName: options.name ?? nameOfEndpoint(endpoint),
      },
      ca,
    );
  }
  if (options.endpoint) {
    throw new CliError(
      "--endpoint goes with --auth-mode login; with access keys give --connection-string or -n NAME",
    );
  }
  if (options.name && options.connectionString) {
    throw new CliError("give -n NAME or --connection-string, not both: both name the store and its key");
  }
  const given = options.name ? undefined : (options.connectionString ?? process.env[CONNECTION_STRING_ENV]);
  if (given) {
    const { endpoint, id, secret } = parseConnectionString(given);
    return new AppConfigDataPlane(
      endpoint,
      { kind: "access-key", key: { id, secret }, storeName: nameOfEndpoint(endpoint) },
      ca,
    );
  }
  if (!options.name) {
    throw new CliError(
      `Please specify config store name or connection string: -n NAME, --connection-string (or ${CONNECTION_STRING_ENV}), or --auth-mode login with --endpoint`,
    );
  }
  const { client, subscription } = await connect(options);
  const store = await locateStore(client, subscription, options.name);
  const { value: keys } = (await appConfigArm(client, "POST", `${store.id}/listKeys`)) as {
    value: AccessKeyBody[];
  };
  const key = keys.find((candidate) => !candidate.readOnly);
  if (!key)
    throw new CliError(`Cannot find a read write access key for the App Configuration ${options.name}`);
  const endpoint = endpointUrl(store.properties.endpoint ?? "", "the store's endpoint");
  return new AppConfigDataPlane(
    endpoint,
    { kind: "access-key", key: { id: key.id, secret: key.value }, storeName: store.name },
    ca,
  );
}
