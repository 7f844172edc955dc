import type { Command } from "commander";
import { readCliProfile, resolveDataDir } from "../../server/data-dir.ts";
import { CliError } from "../cli-error.ts";
import { printResult } from "../output.ts";
import { expectSuccess, WikitClient } from "../wikit-client.ts";
import { exchange } from "./login.ts";

// `wikit keyvault secret show|list|delete|recover|purge`: the vault's data plane, as az reaches it — with the
// signed-in principal's access token (`wikit login`), so the vault's RBAC decides, and in az's output shape.

const KEY_VAULT_API_VERSION = "7.4";

interface SecretAttributes {
  enabled?: boolean;
  created?: number;
  updated?: number;
  nbf?: number;
  exp?: number;
  recoveryLevel?: string;
  recoverableDays?: number;
}

interface SecretBundle {
  id?: string;
  value?: string;
  contentType?: string;
  tags?: Record<string, string>;
  kid?: string;
  managed?: boolean;
  attributes?: SecretAttributes;
  recoveryId?: string;
  deletedDate?: number;
  scheduledPurgeDate?: number;
}

/** Epoch seconds as az prints them: ISO 8601 with `+00:00`; null when absent. */
function azTime(seconds: number | undefined): string | null {
  return seconds === undefined ? null : new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "+00:00");
}

/** A secret as az prints it: attributes with ISO times, the name taken from the ID. */
function secretView(bundle: SecretBundle) {
  const attributes = bundle.attributes ?? {};
  return {
    attributes: {
      created: azTime(attributes.created),
      enabled: attributes.enabled ?? true,
      expires: azTime(attributes.exp),
      notBefore: azTime(attributes.nbf),
      recoverableDays: attributes.recoverableDays ?? null,
      recoveryLevel: attributes.recoveryLevel ?? null,
      updated: azTime(attributes.updated),
    },
    contentType: bundle.contentType ?? null,
    id: bundle.id ?? null,
    managed: bundle.managed ?? null,
    name: /\/(?:deleted)?secrets\/([^/]+)/.exec(bundle.id ?? "")?.[1] ?? null,
    tags: bundle.tags ?? null,
    ...("value" in bundle ? { kid: bundle.kid ?? null, value: bundle.value ?? null } : {}),
    ...(bundle.recoveryId === undefined
      ? {}
      : {
          deletedDate: azTime(bundle.deletedDate),
          recoveryId: bundle.recoveryId,
          scheduledPurgeDate: azTime(bundle.scheduledPurgeDate),
        }),
  };
}

interface SecretOptions {
  dataDir?: string;
  vaultName: string;
  name?: string;
  version?: string;
}

/** The vault's data plane as the signed-in principal; a refusal keeps the vault's own message. */
async function vaultSession(options: SecretOptions) {
  const dataDir = resolveDataDir(options.dataDir);
  const { login } = await readCliProfile(dataDir);
  if (!login) {
    throw new CliError(
      "Please run 'wikit login' to setup account: the vault's data plane takes the signed-in principal's token.",
    );
  }
  const client = await WikitClient.connect(dataDir);
  const { vaultDomain, port } = client.info;
  const { accessToken } = await exchange(client, login, `https://${vaultDomain}:${port}/.default`);
  const vaultUri = `https://${options.vaultName.toLowerCase()}.${vaultDomain}:${port}/`;
  return async (method: string, path: string): Promise<unknown> => {
    const query = path.includes("api-version=")
      ? ""
      : `${path.includes("?") ? "&" : "?"}api-version=${KEY_VAULT_API_VERSION}`;
    return expectSuccess(await client.vaultRequest(method, vaultUri, `${path}${query}`, accessToken));
  };
}

/** One call to the vault as the signed-in principal. */
async function callVault(options: SecretOptions, method: string, path: string): Promise<unknown> {
  return (await vaultSession(options))(method, path);
}

const secretCommand = (parent: Command, name: string, description: string) =>
  parent
    .command(name)
    .description(description)
    .option("--data-dir <dir>", "state directory of the running wikit (default: $WIKIT_HOME or ~/.wikit)")
    .requiredOption("--vault-name <name>", "vault name");

export function registerSecretDataPlaneCommands(secret: Command): void {
  const named = (command: Command) => command.requiredOption("-n, --name <name>", "secret name");
  named(secretCommand(secret, "show", "show a secret and its value (the latest version unless --version)"))
    .option("--version <version>", "a version of the secret")
    .addHelpText(
      "after",
      "\nExamples:\n  wikit keyvault secret show --vault-name KV -n my-secret --query value -o tsv\n",
    )
    .action(async (options: SecretOptions) => {
      const path = `/secrets/${encodeURIComponent(options.name ?? "")}/${encodeURIComponent(options.version ?? "")}`;
      printResult(secretView((await callVault(options, "GET", path)) as SecretBundle));
    });
  secretCommand(secret, "list", "list a vault's secrets, without values").action(
    async (options: SecretOptions) => {
      const call = await vaultSession(options);
      const secrets: SecretBundle[] = [];
      // Every page, following nextLink as the SDK does.
      for (let path: string | undefined = "/secrets"; path !== undefined; ) {
        const page = (await call("GET", path)) as { value: SecretBundle[]; nextLink?: string | null };
        secrets.push(...page.value);
        path = page.nextLink
          ? `${new URL(page.nextLink).pathname}${new URL(page.nextLink).search}`
          : undefined;
      }
      printResult(secrets.map(secretView));
    },
  );
  // Both answer with the secret, deleted or recovered.
  for (const [name, description, method, path] of [
    [
      "delete",
      "delete a secret (recoverable until purged)",
      "DELETE",
      (secretName: string) => `/secrets/${secretName}`,
    ],
    [
      "recover",
      "recover a deleted secret",
      "POST",
      (secretName: string) => `/deletedsecrets/${secretName}/recover`,
    ],
  ] as const) {
    named(secretCommand(secret, name, description)).action(async (options: SecretOptions) => {
      const bundle = await callVault(options, method, path(encodeURIComponent(options.name ?? "")));
      printResult(secretView(bundle as SecretBundle));
    });
  }
  named(secretCommand(secret, "purge", "erase a deleted secret for good")).action(
    async (options: SecretOptions) => {
      await callVault(options, "DELETE", `/deletedsecrets/${encodeURIComponent(options.name ?? "")}`);
    },
  );
}
