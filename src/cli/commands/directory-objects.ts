import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { GUID } from "../../names/guid.ts";
import { resolveDataDir } from "../../server/data-dir.ts";
import { CliError } from "../cli-error.ts";
import { withDataDir } from "../data-dir-option.ts";
import { note, printResult } from "../output.ts";
import { type GraphListItem, graphNotFoundAsUndefined, odataString, WikitClient } from "../wikit-client.ts";

// `wikit ad app|sp …` and `wikit ad app federated-credential …`: app registrations, service principals and the
// apps' federated credentials, through the Graph-shaped directory, in the tenant of the current subscription
// (`wikit account set`). IDs resolve as az resolves them: an app by app ID, object ID or identifier URI; a service
// principal by app ID (one of its names) or object ID.

interface Common {
  dataDir?: string;
}

/** A connection and the tenant the directory commands work in. */
async function directory(options: Common) {
  const client = await WikitClient.connect(resolveDataDir(options.dataDir));
  const tenant = await client.tenantOf();
  return {
    call: (method: string, path: string, body?: unknown) => client.graph(tenant, method, path, body),
    list: (path: string, filter?: string) => client.graphList(tenant, path, filter),
  };
}
type Directory = Awaited<ReturnType<typeof directory>>;

/** An application's object ID from what the user typed: an app ID, an object ID, or an identifier URI. */
async function resolveApplication(graph: Directory, identifier: string): Promise<string> {
  if (GUID.test(identifier)) {
    const [byAppId] = await graph.list("/applications", `appId eq ${odataString(identifier)}`);
    return byAppId?.id ?? identifier;
  }
  const [byUri] = await graph.list("/applications", `identifierUris/any(s:s eq ${odataString(identifier)})`);
  if (!byUri) throw new CliError(`Application with identifier URI '${identifier}' doesn't exist`);
  return byUri.id;
}

/** A service principal's object ID from one of its names (its app ID among them) or its object ID. */
async function resolveServicePrincipal(graph: Directory, identifier: string): Promise<string> {
  const [byName] = await graph.list(
    "/servicePrincipals",
    `servicePrincipalNames/any(c:c eq ${odataString(identifier)})`,
  );
  if (byName) return byName.id;
  if (GUID.test(identifier)) return identifier;
  throw new CliError(`Service principal '${identifier}' doesn't exist`);
}

/** `--parameters` as az takes it: a JSON file's path (also as `@path`), or JSON text. */
export async function readParameters(value: string): Promise<unknown> {
  const path = value.startsWith("@") ? value.slice(1) : value;
  const fromFile = value.startsWith("@") || existsSync(path);
  let text = value;
  if (fromFile) {
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      throw new CliError(`cannot read --parameters file ${path}: ${(error as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(
      `--parameters must be a JSON file's path or JSON text${fromFile ? ` (${path} is not JSON: ${(error as Error).message})` : ""}, e.g. '{"name": "fic", "issuer": "https://…/", "subject": "system:serviceaccount:ns:sa", "audiences": ["api://AzureADTokenExchange"]}'.`,
    );
  }
}

/** The filter az builds from list options, joined with `and`; undefined when none is given. */
function listFilter(clauses: (string | undefined)[]): string | undefined {
  const given = clauses.filter((clause): clause is string => clause !== undefined);
  return given.length ? given.join(" and ") : undefined;
}

/** Like az: without a filter or --all, at most 100 objects, and a warning when there are more. */
function firstHundred(
  objects: GraphListItem[],
  filtered: boolean,
  all: boolean | undefined,
): GraphListItem[] {
  if (filtered || all || objects.length <= 100) return objects;
  note(
    "The result is not complete. You can still use '--all' to get all of them, or provide a filter through command arguments",
  );
  return objects.slice(0, 100);
}

export function registerDirectoryObjectCommands(program: Command): void {
  const ad = program.command("ad").description("the directory: app registrations and service principals");
  registerApplicationCommands(ad.command("app").description("app registrations (applications)"));
  registerServicePrincipalCommands(
    ad.command("sp").description("service principals: an app's presence in a tenant"),
  );
}

function registerApplicationCommands(app: Command): void {
  withDataDir(
    app.command("create").description("create an application, or update the one with this display name"),
  )
    .requiredOption("--display-name <name>", "the application's display name")
    .option(
      "--sign-in-audience <audience>",
      "AzureADMyOrg (single tenant, the default) or AzureADMultipleOrgs",
    )
    .option("--identifier-uris <uri...>", "identifier URIs, e.g. api://my-app")
    .addHelpText(
      "after",
      "\nExamples:\n  appId=$(wikit ad app create --display-name wi-demo --sign-in-audience AzureADMultipleOrgs --query appId -o tsv)\n",
    )
    .action(
      async (
        options: Common & { displayName: string; signInAudience?: string; identifierUris?: string[] },
      ) => {
        const graph = await directory(options);
        const body = {
          displayName: options.displayName,
          ...(options.signInAudience ? { signInAudience: options.signInAudience } : {}),
          ...(options.identifierUris ? { identifierUris: options.identifierUris } : {}),
        };
        const namesakes = (
          await graph.list("/applications", `displayName eq ${odataString(options.displayName)}`)
        ).filter((candidate) => candidate.displayName === options.displayName);
        if (namesakes.length > 1) {
          throw new CliError(
            `More than one application have the same display name '${options.displayName}': (id) ${namesakes.map((each) => each.id).join(", ")}, please remove them first.`,
          );
        }
        const [existing] = namesakes;
        if (existing) {
          note(`Found an existing application instance: (id) ${existing.id}. We will patch it.`);
          await graph.call("PATCH", `/applications/${existing.id}`, body);
          printResult(await graph.call("GET", `/applications/${existing.id}`));
          return;
        }
        printResult(await graph.call("POST", "/applications", body));
      },
    );
  withDataDir(app.command("list").description("list applications"))
    .option("--display-name <prefix>", "applications whose display name starts with this")
    .option("--app-id <id>", "the application with this app ID")
    .option("--identifier-uri <uri>", "the application with this identifier URI")
    .option("--filter <odata>", "an OData $filter, e.g. \"displayName eq 'wi-demo'\"")
    .option("--all", "list all applications, not only the first 100")
    .addHelpText(
      "after",
      '\nExamples:\n  wikit ad app list --display-name wi- --query "[].{name:displayName, appId:appId}" -o table\n',
    )
    .action(
      async (
        options: Common & {
          displayName?: string;
          appId?: string;
          identifierUri?: string;
          filter?: string;
          all?: boolean;
        },
      ) => {
        const graph = await directory(options);
        const filter = listFilter([
          options.filter,
          options.appId === undefined ? undefined : `appId eq ${odataString(options.appId)}`,
          options.displayName === undefined
            ? undefined
            : `startswith(displayName,${odataString(options.displayName)})`,
          options.identifierUri === undefined
            ? undefined
            : `identifierUris/any(s:s eq ${odataString(options.identifierUri)})`,
        ]);
        printResult(
          firstHundred(await graph.list("/applications", filter), filter !== undefined, options.all),
        );
      },
    );
  withDataDir(app.command("show").description("show an application"))
    .requiredOption("--id <id>", "the app ID, object ID or an identifier URI")
    .addHelpText("after", "\nExamples:\n  wikit ad app show --id $appId --query signInAudience -o tsv\n")
    .action(async (options: Common & { id: string }) => {
      const graph = await directory(options);
      printResult(await graph.call("GET", `/applications/${await resolveApplication(graph, options.id)}`));
    });
  withDataDir(app.command("update").description("update an application"))
    .requiredOption("--id <id>", "the app ID, object ID or an identifier URI")
    .option("--display-name <name>", "a new display name")
    .option("--sign-in-audience <audience>", "AzureADMyOrg or AzureADMultipleOrgs")
    .option("--identifier-uris <uri...>", "identifier URIs (replace the current ones)")
    .addHelpText(
      "after",
      "\nExamples:\n  wikit ad app update --id $appId --sign-in-audience AzureADMultipleOrgs\n",
    )
    .action(
      async (
        options: Common & {
          id: string;
          displayName?: string;
          signInAudience?: string;
          identifierUris?: string[];
        },
      ) => {
        const graph = await directory(options);
        const body = {
          ...(options.displayName ? { displayName: options.displayName } : {}),
          ...(options.signInAudience ? { signInAudience: options.signInAudience } : {}),
          ...(options.identifierUris ? { identifierUris: options.identifierUris } : {}),
        };
        if (Object.keys(body).length === 0) {
          throw new CliError(
            "nothing to update: give --display-name, --sign-in-audience or --identifier-uris",
          );
        }
        await graph.call("PATCH", `/applications/${await resolveApplication(graph, options.id)}`, body);
      },
    );
  withDataDir(
    app
      .command("delete")
      .description("delete an application, its credentials and its home service principal"),
  )
    .requiredOption("--id <id>", "the app ID, object ID or an identifier URI")
    .action(async (options: Common & { id: string }) => {
      const graph = await directory(options);
      await graph.call("DELETE", `/applications/${await resolveApplication(graph, options.id)}`);
    });
  registerApplicationCredentialCommands(
    app.command("federated-credential").description("an application's federated identity credentials"),
  );
}

function registerApplicationCredentialCommands(credential: Command): void {
  const forApp = (command: Command) =>
    withDataDir(command).requiredOption(
      "--id <id>",
      "the application: app ID, object ID or an identifier URI",
    );
  const credentialsOf = async (graph: Directory, id: string) =>
    `/applications/${await resolveApplication(graph, id)}/federatedIdentityCredentials`;

  forApp(credential.command("create").description("create a federated identity credential"))
    .requiredOption("--parameters <json-or-file>", "the credential: a JSON file's path, @path, or JSON text")
    .addHelpText(
      "after",
      `
Examples:
  wikit ad app federated-credential create --id $appId --parameters credential.json
  wikit ad app federated-credential create --id $appId --parameters '{"name": "aks-wi-demo", "issuer": "'$oidcIssuerUrl'", "subject": "system:serviceaccount:default:wi-demo-account", "audiences": ["api://AzureADTokenExchange"]}'
`,
    )
    .action(async (options: Common & { id: string; parameters: string }) => {
      const graph = await directory(options);
      const parameters = await readParameters(options.parameters);
      printResult(await graph.call("POST", await credentialsOf(graph, options.id), parameters));
    });
  forApp(
    credential.command("list").description("list an application's federated identity credentials"),
  ).action(async (options: Common & { id: string }) => {
    const graph = await directory(options);
    printResult(await graph.list(await credentialsOf(graph, options.id)));
  });
  forApp(credential.command("show").description("show a federated identity credential"))
    .requiredOption("--federated-credential-id <id-or-name>", "the credential's ID or name")
    .action(async (options: Common & { id: string; federatedCredentialId: string }) => {
      const graph = await directory(options);
      const path = `${await credentialsOf(graph, options.id)}/${encodeURIComponent(options.federatedCredentialId)}`;
      printResult(await graph.call("GET", path));
    });
  forApp(credential.command("update").description("update a federated identity credential"))
    .requiredOption("--federated-credential-id <id-or-name>", "the credential's ID or name")
    .requiredOption("--parameters <json-or-file>", "what to change: a JSON file's path, @path, or JSON text")
    .action(async (options: Common & { id: string; federatedCredentialId: string; parameters: string }) => {
      const graph = await directory(options);
      const parameters = await readParameters(options.parameters);
      const path = `${await credentialsOf(graph, options.id)}/${encodeURIComponent(options.federatedCredentialId)}`;
      await graph.call("PATCH", path, parameters);
    });
  forApp(credential.command("delete").description("delete a federated identity credential"))
    .requiredOption("--federated-credential-id <id-or-name>", "the credential's ID or name")
    .action(async (options: Common & { id: string; federatedCredentialId: string }) => {
      const graph = await directory(options);
      const path = `${await credentialsOf(graph, options.id)}/${encodeURIComponent(options.federatedCredentialId)}`;
      await graph.call("DELETE", path);
    });
}

function registerServicePrincipalCommands(sp: Command): void {
  withDataDir(
    sp.command("create").description("create the service principal of an application in this tenant"),
  )
    .requiredOption(
      "--id <id>",
      "the application's app ID (or, for an app of this tenant, its object ID or an identifier URI)",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  wikit account set -s fabrikam   # the tenant the app is to be used in\n  wikit ad sp create --id $appId --query id -o tsv\n",
    )
    .action(async (options: Common & { id: string }) => {
      const graph = await directory(options);
      // An app of another tenant is not in this tenant's list: its app ID is sent as given, as az does.
      let appId = options.id;
      const [local] = GUID.test(options.id)
        ? await graph.list("/applications", `appId eq ${odataString(options.id)}`)
        : await graph.list("/applications", `identifierUris/any(s:s eq ${odataString(options.id)})`);
      if (local) appId = String(local.appId);
      else if (GUID.test(options.id)) {
        const byObjectId = await graph
          .call("GET", `/applications/${options.id}`)
          .catch(graphNotFoundAsUndefined);
        if (byObjectId) appId = String((byObjectId as GraphListItem).appId);
      }
      printResult(await graph.call("POST", "/servicePrincipals", { appId, accountEnabled: true }));
    });
  withDataDir(sp.command("list").description("list service principals"))
    .option("--display-name <prefix>", "service principals whose display name starts with this")
    .option("--spn <name>", "the service principal with this name (e.g. its app ID)")
    .option("--filter <odata>", "an OData $filter")
    .option("--all", "list all service principals, not only the first 100")
    .action(
      async (options: Common & { displayName?: string; spn?: string; filter?: string; all?: boolean }) => {
        const graph = await directory(options);
        const filter = listFilter([
          options.filter,
          options.spn === undefined
            ? undefined
            : `servicePrincipalNames/any(c:c eq ${odataString(options.spn)})`,
          options.displayName === undefined
            ? undefined
            : `startswith(displayName,${odataString(options.displayName)})`,
        ]);
        printResult(
          firstHundred(await graph.list("/servicePrincipals", filter), filter !== undefined, options.all),
        );
      },
    );
  withDataDir(sp.command("show").description("show a service principal"))
    .requiredOption("--id <id>", "its app ID (or another of its names) or its object ID")
    .addHelpText("after", "\nExamples:\n  principalId=$(wikit ad sp show --id $appId --query id -o tsv)\n")
    .action(async (options: Common & { id: string }) => {
      const graph = await directory(options);
      printResult(
        await graph.call("GET", `/servicePrincipals/${await resolveServicePrincipal(graph, options.id)}`),
      );
    });
  withDataDir(sp.command("delete").description("delete a service principal"))
    .requiredOption("--id <id>", "its app ID (or another of its names) or its object ID")
    .action(async (options: Common & { id: string }) => {
      const graph = await directory(options);
      await graph.call("DELETE", `/servicePrincipals/${await resolveServicePrincipal(graph, options.id)}`);
    });
}
