import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { type Command, Option } from "commander";
import { DEFAULT_AUDIENCE } from "../../cluster/webhook/constants.ts";
import {
  federatedCredentialId,
  providerResourceId,
  RESOURCE_TYPES,
  resourceGroupId,
  roleAssignmentId,
} from "../../names/arm-resource-ids.ts";
import { MANAGEMENT_PATHS } from "../../names/local-stack-names.ts";
import { CliError } from "../cli-error.ts";
import { flattenResource, printResult } from "../output.ts";
import {
  checkPrincipalId,
  checkScope,
  listIdentities,
  resolveAssignee,
  roleDefinitionId,
} from "../principal-lookup.ts";
import { ARM_API_VERSION, expectSuccess, odataString, type WikitClient } from "../wikit-client.ts";
import { type Common, connect, locateVault, withCommon } from "./command-common.ts";
import { registerDeletedVaultCommands } from "./deleted-vaults.ts";
import { registerSecretDataPlaneCommands } from "./keyvault-secrets.ts";

// The az-shaped commands: resource groups, managed identities and their federated credentials,
// vaults and secrets, role assignments and the cluster. Each parses, calls the management API and
// prints what az would print.

/** How `keyvault secret set --file` writes a file's bytes into the value, as az does. */
const FILE_ENCODINGS = ["utf-8", "utf-16le", "utf-16be", "ascii", "base64", "hex"] as const;
type FileEncoding = (typeof FILE_ENCODINGS)[number];

function encodeFile(bytes: Buffer, encoding: FileEncoding): string {
  if (encoding.startsWith("utf-16") && bytes.length % 2 !== 0) {
    throw new CliError(`the file is not ${encoding}: it has an odd number of bytes`);
  }
  if (encoding === "utf-16be") return Buffer.from(bytes).swap16().toString("utf16le");
  return bytes.toString(encoding === "utf-16le" ? "utf16le" : encoding === "utf-8" ? "utf8" : encoding);
}

async function readFileBytes(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new CliError(`cannot read --file ${path}: ${(error as Error).message}`);
  }
}

/** The options naming one federated credential. */
type CredentialTarget = Common & { resourceGroup: string; identityName: string; name: string };

/** Turns a missing resource group into advice: the usual first step users skip. */
async function armWithGroupHint(
  client: WikitClient,
  method: string,
  id: string,
  group: string,
  body?: unknown,
) {
  try {
    return await client.arm(method, id, body);
  } catch (error) {
    if (error instanceof CliError && error.message.startsWith("(ResourceGroupNotFound)")) {
      throw new CliError(`${error.message} Create it with: wikit group create --name ${group}`);
    }
    throw error;
  }
}

export function registerResourceCommands(program: Command): void {
  const group = program.command("group").description("resource groups");
  withCommon(group.command("create").description("create or update a resource group"))
    .requiredOption("-n, --name <name>", "resource group name")
    .option("-l, --location <location>", "location", "local")
    .action(async (options: Common & { name: string; location: string }) => {
      const { client, subscription } = await connect(options);
      // az prints a group as ARM returns it, properties nested.
      printResult(
        await client.arm("PUT", resourceGroupId(subscription, options.name), { location: options.location }),
      );
    });
  withCommon(group.command("list").description("list the resource groups"))
    .addHelpText("after", '\nExamples:\n  wikit group list --query "[].name" -o tsv\n')
    .action(async (options: Common) => {
      const { client, subscription } = await connect(options);
      printResult(
        ((await client.arm("GET", `/subscriptions/${subscription}/resourceGroups`)) as { value: unknown[] })
          .value,
      );
    });
  withCommon(group.command("exists").description("true when the resource group exists, else false"))
    .requiredOption("-n, --name <name>", "resource group name")
    .action(async (options: Common & { name: string }) => {
      const { client, subscription } = await connect(options);
      const response = await client.request(
        "GET",
        `${resourceGroupId(subscription, options.name)}?api-version=${ARM_API_VERSION}`,
      );
      if (response.status !== 404) expectSuccess(response);
      printResult(response.status !== 404);
    });
  withCommon(group.command("show").description("show a resource group"))
    .requiredOption("-n, --name <name>", "resource group name")
    .action(async (options: Common & { name: string }) => {
      const { client, subscription } = await connect(options);
      printResult(await client.arm("GET", resourceGroupId(subscription, options.name)));
    });
  withCommon(group.command("delete").description("delete a resource group and everything in it"))
    .requiredOption("-n, --name <name>", "resource group name")
    .action(async (options: Common & { name: string }) => {
      const { client, subscription } = await connect(options);
      await client.arm("DELETE", resourceGroupId(subscription, options.name));
    });

  const identity = program.command("identity").description("user-assigned managed identities");
  const identityId = (subscription: string, rg: string, name: string) =>
    providerResourceId(subscription, rg, RESOURCE_TYPES.userAssignedIdentity, name);
  withCommon(identity.command("create").description("create a user-assigned identity"))
    .requiredOption("-g, --resource-group <rg>", "resource group")
    .requiredOption("-n, --name <name>", "identity name")
    .option("-l, --location <location>", "location (default: the resource group's)")
    .action(async (options: Common & { resourceGroup: string; name: string; location?: string }) => {
      const { client, subscription } = await connect(options);
      const id = identityId(subscription, options.resourceGroup, options.name);
      const body = options.location ? { location: options.location } : {};
      printResult(
        flattenResource(
          (await armWithGroupHint(client, "PUT", id, options.resourceGroup, body)) as Record<string, unknown>,
        ),
      );
    });
  withCommon(identity.command("show").description("show a user-assigned identity"))
    .requiredOption("-g, --resource-group <rg>", "resource group")
    .requiredOption("-n, --name <name>", "identity name")
    .action(async (options: Common & { resourceGroup: string; name: string }) => {
      const { client, subscription } = await connect(options);
      const id = identityId(subscription, options.resourceGroup, options.name);
      printResult(flattenResource((await client.arm("GET", id)) as Record<string, unknown>));
    });
  listCommand(
    identity,
    "list user-assigned identities",
    RESOURCE_TYPES.userAssignedIdentity,
    flattenResource,
  );
  withCommon(
    identity.command("delete").description("delete a user-assigned identity and its federated credentials"),
  )
    .requiredOption("-g, --resource-group <rg>", "resource group")
    .requiredOption("-n, --name <name>", "identity name")
    .action(async (options: Common & { resourceGroup: string; name: string }) => {
      const { client, subscription } = await connect(options);
      await client.arm("DELETE", identityId(subscription, options.resourceGroup, options.name));
    });

  const credential = identity
    .command("federated-credential")
    .description("federated identity credentials of an identity");
  const credentialOptions = (command: Command) =>
    withCommon(command)
      .requiredOption("-g, --resource-group <rg>", "resource group")
      .requiredOption("--identity-name <name>", "the user-assigned identity");
  credentialOptions(credential.command("create").description("trust tokens from an issuer for a subject"))
    .requiredOption("-n, --name <name>", "credential name")
    .requiredOption(
      "--issuer <url>",
      "issuer URL, exactly as in the tokens' iss claim (trailing slash matters)",
    )
    .option("--subject <subject>", "subject, e.g. system:serviceaccount:<namespace>:<name>")
    .option(
      "--claims-matching-expression-value <expression>",
      "instead of --subject, the claims a token must carry, e.g. \"claims['sub'] matches 'system:serviceaccount:team-a:*'\"",
    )
    .option("--claims-matching-expression-version <version>", "the expression's language version", "1")
    .option("--audiences <audience>", "the one accepted audience (default: api://AzureADTokenExchange)")
    .addOption(new Option("--audience <audience>", "same as --audiences").hideHelp())
    .option("--description <text>", "free text")
    .action(
      async (
        options: CredentialTarget & {
          issuer: string;
          subject?: string;
          claimsMatchingExpressionValue?: string;
          claimsMatchingExpressionVersion: string;
          audiences?: string;
          audience?: string;
          description?: string;
        },
      ) => {
        const expression = options.claimsMatchingExpressionValue;
        if ((options.subject === undefined) === (expression === undefined)) {
          throw new CliError(
            "give either --subject or --claims-matching-expression-value: the subject the credential trusts, or an expression over the token's claims",
          );
        }
        const { client, subscription } = await connect(options);
        const id = federatedCredentialId(
          identityId(subscription, options.resourceGroup, options.identityName),
          options.name,
        );
        const properties = {
          issuer: options.issuer,
          ...(expression === undefined
            ? { subject: options.subject }
            : {
                claimsMatchingExpression: {
                  value: expression,
                  languageVersion: Number(options.claimsMatchingExpressionVersion),
                },
              }),
          audiences: [options.audiences ?? options.audience ?? DEFAULT_AUDIENCE],
          ...(options.description ? { description: options.description } : {}),
        };
        printResult(
          flattenResource(
            (await armWithGroupHint(client, "PUT", id, options.resourceGroup, { properties })) as Record<
              string,
              unknown
            >,
          ),
        );
      },
    );
  credentialOptions(credential.command("update").description("change an existing federated credential"))
    .requiredOption("-n, --name <name>", "credential name")
    .option("--issuer <url>", "issuer URL, exactly as in the tokens' iss claim")
    .option("--subject <subject>", "subject, e.g. system:serviceaccount:<namespace>:<name>")
    .option("--audiences <audience>", "the one accepted audience")
    .addOption(new Option("--audience <audience>", "same as --audiences").hideHelp())
    .addHelpText(
      "after",
      "\nExamples:\n  wikit identity federated-credential update -g RG --identity-name MI -n kube --subject system:serviceaccount:web:api\n",
    )
    .action(
      async (
        options: CredentialTarget & {
          issuer?: string;
          subject?: string;
          audiences?: string;
          audience?: string;
        },
      ) => {
        const { client, subscription } = await connect(options);
        const id = federatedCredentialId(
          identityId(subscription, options.resourceGroup, options.identityName),
          options.name,
        );
        // As az's update: the credential must exist; what is not given stays as it was.
        const { properties } = (await client.arm("GET", id)) as { properties: Record<string, unknown> };
        const audience = options.audiences ?? options.audience;
        const changed = {
          ...properties,
          ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
          ...(options.subject === undefined ? {} : { subject: options.subject }),
          ...(audience === undefined ? {} : { audiences: [audience] }),
        };
        printResult(
          flattenResource((await client.arm("PUT", id, { properties: changed })) as Record<string, unknown>),
        );
      },
    );
  credentialOptions(credential.command("show").description("show a federated credential"))
    .requiredOption("-n, --name <name>", "credential name")
    .action(async (options: Common & { resourceGroup: string; identityName: string; name: string }) => {
      const { client, subscription } = await connect(options);
      const id = federatedCredentialId(
        identityId(subscription, options.resourceGroup, options.identityName),
        options.name,
      );
      printResult(flattenResource((await client.arm("GET", id)) as Record<string, unknown>));
    });
  credentialOptions(
    credential.command("list").description("list an identity's federated credentials"),
  ).action(async (options: Common & { resourceGroup: string; identityName: string }) => {
    const { client, subscription } = await connect(options);
    const identity = identityId(subscription, options.resourceGroup, options.identityName);
    const { value } = (await client.arm("GET", `${identity}/federatedIdentityCredentials`)) as {
      value: Record<string, unknown>[];
    };
    // Beyond az: how often each credential let a workload in, and when last, from the sign-in log.
    const activity = (await client.arm(
      "GET",
      `${MANAGEMENT_PATHS.signInActivity}?identityId=${encodeURIComponent(identity)}`,
    )) as { value: { credentialId: string; signIns: number; lastSignInDateTime: string }[] };
    const activityOf = new Map(activity.value.map((entry) => [entry.credentialId.toLowerCase(), entry]));
    printResult(
      value.map((credential) => {
        const used = activityOf.get(String(credential.id).toLowerCase());
        return {
          ...flattenResource(credential),
          signIns: used?.signIns ?? 0,
          lastSignInDateTime: used?.lastSignInDateTime ?? null,
        };
      }),
    );
  });
  credentialOptions(credential.command("delete").description("delete a federated credential"))
    .requiredOption("-n, --name <name>", "credential name")
    .action(async (options: Common & { resourceGroup: string; identityName: string; name: string }) => {
      const { client, subscription } = await connect(options);
      await client.arm(
        "DELETE",
        federatedCredentialId(
          identityId(subscription, options.resourceGroup, options.identityName),
          options.name,
        ),
      );
    });

  const keyvault = program.command("keyvault").description("vaults and their secrets");
  const vaultId = (subscription: string, rg: string, name: string) =>
    providerResourceId(subscription, rg, RESOURCE_TYPES.vault, name);
  withCommon(keyvault.command("create").description("create a vault (Azure RBAC authorisation)"))
    .requiredOption("-g, --resource-group <rg>", "resource group")
    .requiredOption("-n, --name <name>", "vault name (3-24 letters, digits and hyphens; global)")
    .option("-l, --location <location>", "location (default: the resource group's)")
    .action(async (options: Common & { resourceGroup: string; name: string; location?: string }) => {
      const { client, subscription } = await connect(options);
      const body = {
        ...(options.location ? { location: options.location } : {}),
        properties: { enableRbacAuthorization: true },
      };
      printResult(
        await armWithGroupHint(
          client,
          "PUT",
          vaultId(subscription, options.resourceGroup, options.name),
          options.resourceGroup,
          body,
        ),
      );
    });
  // az prints vaults as ARM returns them, properties nested.
  listCommand(keyvault, "list the vaults", RESOURCE_TYPES.vault, (vault) => vault);
  withCommon(keyvault.command("show").description("show a vault"))
    .requiredOption("-n, --name <name>", "vault name")
    .option("-g, --resource-group <rg>", "resource group (default: found by name)")
    .action(async (options: Common & { resourceGroup?: string; name: string }) => {
      const { client, subscription } = await connect(options);
      printResult(
        await client.arm("GET", await locateVault(client, subscription, options.name, options.resourceGroup)),
      );
    });
  registerDeletedVaultCommands(keyvault);
  const secret = keyvault.command("secret").description("secrets in a vault");
  registerSecretDataPlaneCommands(secret);
  withCommon(secret.command("set").description("store a new version of a secret"))
    .requiredOption("--vault-name <name>", "vault name")
    .requiredOption("-n, --name <name>", "secret name")
    .option("--value <value>", "secret value")
    .option("-f, --file <path>", "read the value from a file instead")
    .addOption(
      new Option("-e, --encoding <encoding>", "how the file is stored in the value (tagged as file-encoding)")
        .choices(FILE_ENCODINGS)
        .default("utf-8"),
    )
    .option("--content-type <type>", "content type, e.g. text/plain")
    .addHelpText(
      "after",
      "\nExamples:\n  wikit keyvault secret set --vault-name KV -n tls-cert --file cert.pfx --encoding base64\n",
    )
    .action(
      async (
        options: Common & {
          vaultName: string;
          name: string;
          value?: string;
          file?: string;
          encoding: FileEncoding;
          contentType?: string;
        },
      ) => {
        if ((options.value === undefined) === (options.file === undefined)) {
          throw new CliError("give --value or --file: the secret's value, or a file holding it");
        }
        // As az: a file's bytes, written in the value as --encoding says, and the encoding kept in a tag.
        const value =
          options.file === undefined
            ? (options.value ?? "")
            : encodeFile(await readFileBytes(options.file), options.encoding);
        const tags = options.file === undefined ? {} : { "file-encoding": options.encoding };
        const { client, subscription } = await connect(options);
        const vault = await locateVault(client, subscription, options.vaultName);
        const properties = { value, ...(options.contentType ? { contentType: options.contentType } : {}) };
        const created = (await client.arm("PUT", `${vault}/secrets/${options.name}`, {
          properties,
          tags,
        })) as {
          name: string;
          tags?: Record<string, string>;
          properties: {
            secretUriWithVersion: string;
            contentType?: string;
            attributes: Record<string, unknown>;
          };
        };
        printResult({
          attributes: {
            ...created.properties.attributes,
            recoveryLevel: "Recoverable+Purgeable",
            recoverableDays: 90,
          },
          contentType: created.properties.contentType ?? null,
          id: created.properties.secretUriWithVersion,
          name: created.name,
          tags: created.tags ?? tags,
          value,
        });
      },
    );

  const role = program.command("role").description("role assignments");
  const assignment = role.command("assignment").description("role assignments");
  withCommon(assignment.command("create").description("grant a role to a principal at a scope"))
    .requiredOption("--role <role>", 'role name or ID, e.g. "Key Vault Secrets User"')
    .option("--assignee-object-id <id>", "principal (object) ID of the assignee")
    .option("--assignee <assignee>", "the assignee: a principal (object) ID, an identity's client ID or name")
    .option("--assignee-principal-type <type>", "principal type", "ServicePrincipal")
    .requiredOption("--scope <scope>", "ARM scope: subscription, resource group or resource ID")
    .addHelpText(
      "after",
      '\nExamples:\n  wikit role assignment create --assignee-object-id "$PRINCIPAL_ID" --role "Key Vault Secrets User" \\\n    --scope "$(wikit keyvault show -g RG -n KV --query id -o tsv)" --assignee-principal-type ServicePrincipal\n',
    )
    .action(
      async (
        options: Common & {
          role: string;
          assigneeObjectId?: string;
          assignee?: string;
          assigneePrincipalType: string;
          scope: string;
        },
      ) => {
        const scope = checkScope(options.scope);
        const { client, subscription } = await connect(options);
        if (options.assigneeObjectId === undefined && options.assignee === undefined) {
          throw new CliError("--assignee-object-id or --assignee is required: who the role is granted to");
        }
        const identities = await listIdentities(client, subscription);
        const principalId =
          options.assigneeObjectId !== undefined
            ? checkPrincipalId("--assignee-object-id", options.assigneeObjectId, identities)
            : resolveAssignee(options.assignee ?? "", identities);
        const body = {
          properties: {
            roleDefinitionId: await roleDefinitionId(client, subscription, options.role),
            principalId,
            principalType: options.assigneePrincipalType,
          },
        };
        const created = (await client.arm("PUT", roleAssignmentId(scope, randomUUID()), body)) as Record<
          string,
          unknown
        >;
        printResult(flattenResource(created));
      },
    );
  withCommon(assignment.command("list").description("list role assignments"))
    .option(
      "--assignee <assignee>",
      "only this principal's: a principal (object) ID, an identity's client ID or name",
    )
    .option("--scope <scope>", "scope (default: the subscription)")
    .option("--all", "every assignment in the subscription, at any scope (the default without --scope)")
    .action(async (options: Common & { assignee?: string; scope?: string; all?: boolean }) => {
      if (options.all && options.scope !== undefined) throw new CliError("give --all or --scope, not both");
      const { client, subscription } = await connect(options);
      const scope =
        options.scope === undefined ? `/subscriptions/${subscription}` : checkScope(options.scope);
      const principalId =
        options.assignee === undefined
          ? undefined
          : resolveAssignee(options.assignee, await listIdentities(client, subscription));
      const filter = principalId ? `?$filter=${encodeURIComponent(`principalId eq '${principalId}'`)}` : "";
      const { value } = (await client.arm(
        "GET",
        `${scope}/providers/Microsoft.Authorization/roleAssignments${filter}`,
      )) as { value: Record<string, unknown>[] };
      printResult(value.map(flattenResource));
    });
  withCommon(assignment.command("delete").description("delete a role assignment by ID"))
    .requiredOption("--ids <id>", "role assignment resource ID")
    .action(async (options: Common & { ids: string }) => {
      const { client } = await connect(options);
      await client.arm("DELETE", options.ids);
    });
  const definition = role.command("definition").description("role definitions");
  withCommon(definition.command("list").description("list the built-in roles"))
    .option("-n, --name <name>", "only the role with this name")
    .action(async (options: Common & { name?: string }) => {
      const { client, subscription } = await connect(options);
      const filter = options.name
        ? `?$filter=${encodeURIComponent(`roleName eq ${odataString(options.name)}`)}`
        : "";
      const { value } = (await client.arm(
        "GET",
        `/subscriptions/${subscription}/providers/Microsoft.Authorization/roleDefinitions${filter}`,
      )) as { value: Record<string, unknown>[] };
      printResult(value.map(flattenResource));
    });
}

/** The resources of one type in a resource group, or in the whole subscription when no group is given. */
async function listInScope(
  client: WikitClient,
  subscription: string,
  type: string,
  group?: string,
): Promise<Record<string, unknown>[]> {
  const scope = group ? resourceGroupId(subscription, group) : `/subscriptions/${subscription}`;
  return ((await client.arm("GET", `${scope}/providers/${type}`)) as { value: Record<string, unknown>[] })
    .value;
}

/** `PARENT list [-g RG]`: the resources of one type, printed as `view` shapes each. */
export function listCommand(
  parent: Command,
  description: string,
  type: string,
  view: (resource: Record<string, unknown>) => Record<string, unknown>,
): void {
  withCommon(parent.command("list").description(description))
    .option("-g, --resource-group <rg>", "resource group (default: the whole subscription)")
    .action(async (options: Common & { resourceGroup?: string }) => {
      const { client, subscription } = await connect(options);
      printResult((await listInScope(client, subscription, type, options.resourceGroup)).map(view));
    });
}
