import { randomUUID } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { stringify } from "yaml";
import {
  providerResourceId,
  RESOURCE_TYPES,
  resourceGroupId,
  roleAssignmentId,
} from "../../names/arm-resource-ids.ts";
import { readAdminClientId, resolveDataDir } from "../../server/data-dir.ts";
import { CliError } from "../cli-error.ts";
import { withDataDir } from "../data-dir-option.ts";
import {
  type CredentialSpec,
  DIRECTORY_API_VERSION,
  type DirectoryFile,
  parseDirectoryFile,
  type ValueSource,
} from "../directory-file.ts";
import { type IdentitySummary, listIdentities, resolveAssignee } from "../principal-lookup.ts";
import {
  ARM_API_VERSION,
  expectSuccess,
  type GraphListItem,
  graphNotFoundAsUndefined,
  odataString,
  WikitClient,
} from "../wikit-client.ts";

// `wikit apply -f FILE [--dry-run]` brings a subscription (and its tenant's app registrations) to what a directory
// file describes — creating or updating, never deleting — and prints one line per change; a second run changes
// nothing. `wikit export` writes the current state as such a file. Secret values never appear in either: the file
// names where each comes from (a file or an environment variable), and apply writes a version only when the value
// differs from the current one (the server compares; it never returns a value).

type Json = Record<string, unknown>;

/** What apply did (or, with --dry-run, would do) to one object. */
interface Change {
  mark: "+" | "~";
  what: string;
  detail?: string;
}

const ROLE_DEFINITIONS = "/providers/Microsoft.Authorization/roleDefinitions";
const ROLE_ASSIGNMENTS = "/providers/Microsoft.Authorization/roleAssignments";
const sameTags = (a: unknown, b: unknown) =>
  JSON.stringify(Object.entries((a ?? {}) as Json).sort()) ===
  JSON.stringify(Object.entries((b ?? {}) as Json).sort());

/** The members of `desired` whose values differ from `current`'s, by JSON value. */
function differing(current: Json, desired: Json): string[] {
  return Object.keys(desired).filter(
    (key) => desired[key] !== undefined && JSON.stringify(current[key]) !== JSON.stringify(desired[key]),
  );
}

class Reconciler {
  readonly changes: Change[] = [];
  unchanged = 0;
  /** Names of the identities and applications this run makes: in a dry run, role assignments may name them. */
  readonly #made = new Set<string>();

  readonly client: WikitClient;
  readonly subscription: string;
  readonly tenant: string;
  readonly dryRun: boolean;
  /** Where `valueFrom.file` paths start from: the directory file's folder. */
  readonly baseDir: string;

  constructor(client: WikitClient, subscription: string, tenant: string, dryRun: boolean, baseDir: string) {
    this.client = client;
    this.subscription = subscription;
    this.tenant = tenant;
    this.dryRun = dryRun;
    this.baseDir = baseDir;
  }

  async apply(file: DirectoryFile): Promise<void> {
    for (const group of file.resourceGroups) {
      await this.#arm(
        `resource group ${group.name}`,
        resourceGroupId(this.subscription, group.name),
        (current) =>
          current === undefined || !sameTags(current.tags, group.tags ?? {})
            ? {
                body: { location: current?.location ?? group.location ?? "local", tags: group.tags ?? {} },
                detail: "tags",
              }
            : undefined,
      );
    }
    for (const identity of file.identities) {
      const id = providerResourceId(
        this.subscription,
        identity.resourceGroup,
        RESOURCE_TYPES.userAssignedIdentity,
        identity.name,
      );
      const created = await this.#arm(`identity ${identity.resourceGroup}/${identity.name}`, id, (current) =>
        current === undefined || !sameTags(current.tags, identity.tags ?? {})
          ? { body: { location: current?.location ?? "local", tags: identity.tags ?? {} }, detail: "tags" }
          : undefined,
      );
      if (created) this.#made.add(identity.name.toLowerCase());
      for (const credential of identity.federatedCredentials) {
        await this.#arm(
          `federated credential ${identity.resourceGroup}/${identity.name}/${credential.name}`,
          `${id}/federatedIdentityCredentials/${credential.name}`,
          (current) => {
            const properties = credentialProperties(credential);
            const changed =
              current === undefined ? [] : differing((current.properties ?? {}) as Json, properties);
            return current === undefined || changed.length > 0
              ? { body: { properties }, detail: changed.join(", ") }
              : undefined;
          },
          created,
        );
      }
    }
    for (const app of file.applications) await this.#application(app);
    for (const vault of file.vaults) {
      const id = providerResourceId(this.subscription, vault.resourceGroup, RESOURCE_TYPES.vault, vault.name);
      const created = await this.#arm(`vault ${vault.resourceGroup}/${vault.name}`, id, (current) =>
        current === undefined || !sameTags(current.tags, vault.tags ?? {})
          ? {
              body: {
                location: current?.location ?? "local",
                properties: { enableRbacAuthorization: true },
                tags: vault.tags ?? {},
              },
              detail: "tags",
            }
          : undefined,
      );
      for (const secret of vault.secrets) {
        const value = await this.#value(secret.valueFrom, `${vault.name}/${secret.name}`);
        const secretId = `${id}/secrets/${secret.name}`;
        const what = `secret ${vault.name}/${secret.name}`;
        if (created) {
          await this.#change({ mark: "+", what }, () =>
            this.client.arm("PUT", secretId, secretBody(value, secret.contentType)),
          );
          continue;
        }
        const comparison = expectSuccess(
          await this.client.request("POST", `${secretId}/compareValue?api-version=${ARM_API_VERSION}`, {
            value,
          }),
        ) as { exists: boolean; matches: boolean };
        const current = comparison.exists ? ((await this.client.arm("GET", secretId)) as Json) : undefined;
        const contentType = ((current?.properties ?? {}) as Json).contentType;
        const changed = [
          ...(comparison.matches ? [] : ["value"]),
          ...(secret.contentType !== undefined && contentType !== secret.contentType ? ["contentType"] : []),
        ];
        if (comparison.exists && changed.length === 0) {
          this.unchanged += 1;
          continue;
        }
        await this.#change({ mark: comparison.exists ? "~" : "+", what, detail: changed.join(", ") }, () =>
          this.client.arm(
            "PUT",
            secretId,
            secretBody(value, secret.contentType ?? (contentType as string | undefined)),
          ),
        );
      }
    }
    if (file.roleAssignments.length > 0) await this.#roleAssignments(file);
  }

  /**
   * One ARM resource: read it (unless its parent is only now being made), and write `decide`'s body when it says
   * so. Resolves true when the resource is (or, in a dry run, would be) created.
   */
  async #arm(
    what: string,
    id: string,
    decide: (current: Json | undefined) => { body: Json; detail: string } | undefined,
    parentCreated = false,
  ): Promise<boolean> {
    const current = parentCreated ? undefined : await this.#get(id);
    const decision = decide(current);
    if (!decision) {
      this.unchanged += 1;
      return false;
    }
    await this.#change(
      { mark: current ? "~" : "+", what, ...(current ? { detail: decision.detail } : {}) },
      () => this.client.arm("PUT", id, decision.body),
    );
    return current === undefined;
  }

  async #application(app: DirectoryFile["applications"][number]): Promise<void> {
    const graph = (method: string, path: string, body?: unknown) =>
      this.client.graph(this.tenant, method, path, body);
    const list = (path: string, filter: string) => this.client.graphList(this.tenant, path, filter);
    const what = `application ${app.displayName}`;
    const desired = {
      displayName: app.displayName,
      ...(app.signInAudience ? { signInAudience: app.signInAudience } : {}),
      ...(app.identifierUris ? { identifierUris: app.identifierUris } : {}),
    };
    const namesakes = (await list("/applications", `displayName eq ${odataString(app.displayName)}`)).filter(
      (candidate) => candidate.displayName === app.displayName,
    );
    if (namesakes.length > 1)
      throw new CliError(
        `more than one application is named '${app.displayName}'; apply finds applications by name`,
      );
    let current = namesakes[0];
    if (!current) {
      this.#made.add(app.displayName.toLowerCase());
      await this.#change({ mark: "+", what }, async () => {
        current = (await graph("POST", "/applications", desired)) as GraphListItem;
      });
    } else {
      const changed = differing(current, desired);
      const existing = current;
      if (changed.length > 0) {
        await this.#change({ mark: "~", what, detail: changed.join(", ") }, () =>
          graph("PATCH", `/applications/${existing.id}`, desired),
        );
      } else this.unchanged += 1;
    }
    const made = current;
    const appId = made ? String(made.appId) : undefined;
    if (app.servicePrincipal) {
      const present =
        appId !== undefined &&
        (await list("/servicePrincipals", `appId eq ${odataString(appId)}`)).length > 0;
      if (present) this.unchanged += 1;
      else
        await this.#change({ mark: "+", what: `service principal of ${app.displayName}` }, () =>
          graph("POST", "/servicePrincipals", { appId: made?.appId }),
        );
    }
    for (const credential of app.federatedCredentials) {
      const credentialWhat = `federated credential ${app.displayName}/${credential.name}`;
      const path = made ? `/applications/${made.id}/federatedIdentityCredentials` : undefined;
      const existing = path
        ? await graph("GET", `${path}/${encodeURIComponent(credential.name)}`).catch(graphNotFoundAsUndefined)
        : undefined;
      const properties = credentialProperties(credential);
      if (!existing) {
        await this.#change({ mark: "+", what: credentialWhat }, () =>
          graph("POST", path ?? "", { name: credential.name, ...properties }),
        );
        continue;
      }
      const changed = differing(existing as Json, properties);
      if (changed.length === 0) this.unchanged += 1;
      else
        await this.#change({ mark: "~", what: credentialWhat, detail: changed.join(", ") }, () =>
          graph("PATCH", `${path}/${encodeURIComponent(credential.name)}`, properties),
        );
    }
  }

  async #roleAssignments(file: DirectoryFile): Promise<void> {
    const principals = await listIdentities(this.client, this.subscription);
    for (const assignment of file.roleAssignments) {
      const scope = `/subscriptions/${this.subscription}${assignment.scope === "/" ? "" : assignment.scope}`;
      const what = `role assignment '${assignment.role}' for ${assignment.assignee} on ${assignment.scope}`;
      const principalId = this.#principal(assignment.assignee, principals, what);
      const filter = encodeURIComponent(`roleName eq ${odataString(assignment.role)}`);
      const { value: roles } = (await this.client.arm(
        "GET",
        `/subscriptions/${this.subscription}${ROLE_DEFINITIONS}?$filter=${filter}`,
      )) as { value: { name: string }[] };
      const role = roles[0];
      if (!role)
        throw new CliError(
          `${what}: no role is named '${assignment.role}' (see \`wikit role definition list\`)`,
        );
      const roleDefinitionId = `/subscriptions/${this.subscription}${ROLE_DEFINITIONS}/${role.name}`;
      if (principalId !== undefined) {
        const principalFilter = encodeURIComponent(`principalId eq '${principalId}'`);
        const existing = await this.#list(`${scope}${ROLE_ASSIGNMENTS}?$filter=${principalFilter}`);
        const found = existing.some((each) => {
          const properties = (each.properties ?? {}) as Json;
          return (
            String(properties.scope).toLowerCase() === scope.toLowerCase() &&
            String(properties.roleDefinitionId).toLowerCase().endsWith(`/${role.name}`)
          );
        });
        if (found) {
          this.unchanged += 1;
          continue;
        }
      }
      await this.#change({ mark: "+", what }, async () => {
        const resolved =
          principalId ??
          this.#principal(assignment.assignee, await listIdentities(this.client, this.subscription), what);
        await this.client.arm("PUT", roleAssignmentId(scope, randomUUID()), {
          properties: { roleDefinitionId, principalId: resolved, principalType: "ServicePrincipal" },
        });
      });
    }
  }

  /** The assignee's object ID; undefined in a dry run when it names a principal this run would create. */
  #principal(assignee: string, principals: readonly IdentitySummary[], what: string): string | undefined {
    try {
      return resolveAssignee(assignee, principals);
    } catch (error) {
      if (this.dryRun && this.#made.has(assignee.toLowerCase())) return undefined;
      throw new CliError(`${what}: ${(error as Error).message}`);
    }
  }

  async #value(source: ValueSource, what: string): Promise<string> {
    if ("value" in source) return source.value;
    if ("env" in source) {
      const value = process.env[source.env];
      if (value === undefined)
        throw new CliError(`secret ${what}: the environment variable ${source.env} is not set`);
      return value;
    }
    const path = resolve(this.baseDir, source.file);
    try {
      return await readFile(path, "utf8");
    } catch (error) {
      throw new CliError(`secret ${what}: cannot read ${path}: ${(error as Error).message}`);
    }
  }

  async #change(change: Change, act: () => Promise<unknown>): Promise<void> {
    this.changes.push(change);
    if (!this.dryRun) await act();
  }

  async #get(id: string): Promise<Json | undefined> {
    const response = await this.client.request("GET", `${id}?api-version=${ARM_API_VERSION}`);
    if (response.status === 404) return undefined;
    return expectSuccess(response) as Json;
  }

  async #list(path: string): Promise<Json[]> {
    const separator = path.includes("?") ? "&" : "?";
    return (
      expectSuccess(
        await this.client.request("GET", `${path}${separator}api-version=${ARM_API_VERSION}`),
      ) as { value: Json[] }
    ).value;
  }
}

function credentialProperties(credential: CredentialSpec): Json {
  return {
    issuer: credential.issuer,
    subject: credential.subject,
    audiences: credential.audiences,
    ...(credential.description !== undefined ? { description: credential.description } : {}),
  };
}

function secretBody(value: string, contentType: string | undefined) {
  return { properties: { value, ...(contentType !== undefined ? { contentType } : {}) } };
}

/** The current state of the subscription and its tenant's applications, as a directory file. */
async function exportDirectory(client: WikitClient, subscription: string, tenant: string): Promise<Json> {
  const arm = async (path: string) => ((await client.arm("GET", path)) as { value: Json[] }).value;
  const graph = (path: string) => client.graphList(tenant, path);
  const groupOf = (id: unknown) => /\/resourceGroups\/([^/]+)/i.exec(String(id))?.[1] ?? "";
  const tags = (resource: Json) =>
    Object.keys((resource.tags ?? {}) as Json).length > 0 ? { tags: resource.tags } : {};
  const credential = (properties: Json, name: unknown) => ({
    name,
    issuer: properties.issuer,
    subject: properties.subject,
    audiences: properties.audiences,
    ...(typeof properties.description === "string" && properties.description !== ""
      ? { description: properties.description }
      : {}),
  });

  const identities = await arm(
    `/subscriptions/${subscription}/providers/${RESOURCE_TYPES.userAssignedIdentity}`,
  );
  // The admin principal is wikit up's own, made anew by each stack: it is not part of the directory's description.
  const adminClientId = (await readAdminClientId(client.dataDir))?.toLowerCase();
  const isAdmin = (object: Json) => String(object.appId).toLowerCase() === adminClientId;
  const applications = (await graph("/applications")).filter((app) => !isAdmin(app));
  const servicePrincipals = await graph("/servicePrincipals");
  const adminPrincipalIds = new Set(servicePrincipals.filter(isAdmin).map((sp) => sp.id.toLowerCase()));
  const vaults = await arm(`/subscriptions/${subscription}/providers/${RESOURCE_TYPES.vault}`);
  const principals = await listIdentities(client, subscription);
  const roleNames = new Map(
    (await arm(`/subscriptions/${subscription}${ROLE_DEFINITIONS}`)).map((role) => [
      String(role.name).toLowerCase(),
      (role.properties as Json).roleName,
    ]),
  );
  const assigneeName = (principalId: string) => {
    const named = principals.filter(
      (principal) => principal.principalId.toLowerCase() === principalId.toLowerCase(),
    );
    const [only] = named;
    if (!only) return principalId;
    // A name only when it is unambiguous among all principals, so that apply resolves it to the same one.
    return principals.filter((principal) => principal.name.toLowerCase() === only.name.toLowerCase())
      .length === 1
      ? only.name
      : principalId;
  };
  const subscriptionScope = `/subscriptions/${subscription}`;

  return {
    apiVersion: DIRECTORY_API_VERSION,
    kind: "Directory",
    resourceGroups: (await arm(`/subscriptions/${subscription}/resourceGroups`)).map((group) => ({
      name: group.name,
      ...(group.location !== "local" ? { location: group.location } : {}),
      ...tags(group),
    })),
    identities: await Promise.all(
      identities.map(async (identity) => ({
        name: identity.name,
        resourceGroup: groupOf(identity.id),
        ...tags(identity),
        federatedCredentials: (await arm(`${identity.id}/federatedIdentityCredentials`)).map((each) =>
          credential(each.properties as Json, each.name),
        ),
      })),
    ),
    applications: await Promise.all(
      applications.map(async (app) => ({
        displayName: app.displayName,
        signInAudience: app.signInAudience,
        ...(Array.isArray(app.identifierUris) && app.identifierUris.length > 0
          ? { identifierUris: app.identifierUris }
          : {}),
        servicePrincipal: servicePrincipals.some((sp) => sp.appId === app.appId),
        federatedCredentials: (await graph(`/applications/${app.id}/federatedIdentityCredentials`)).map(
          (each) => credential(each, each.name),
        ),
      })),
    ),
    vaults: await Promise.all(
      vaults.map(async (vault) => ({
        name: vault.name,
        resourceGroup: groupOf(vault.id),
        ...tags(vault),
        secrets: (await arm(`${vault.id}/secrets`)).map((secret) => ({
          name: secret.name,
          ...(typeof (secret.properties as Json).contentType === "string"
            ? { contentType: (secret.properties as Json).contentType }
            : {}),
          // Values stay in the vault: apply reads each from this variable.
          valueFrom: { env: secretVariable(String(vault.name), String(secret.name)) },
        })),
      })),
    ),
    roleAssignments: (await arm(`${subscriptionScope}${ROLE_ASSIGNMENTS}`))
      .filter(
        (assignment) =>
          !adminPrincipalIds.has(String((assignment.properties as Json).principalId).toLowerCase()),
      )
      .map((assignment) => {
        const properties = assignment.properties as Json;
        const scope = String(properties.scope).slice(subscriptionScope.length) || "/";
        const roleGuid = String(properties.roleDefinitionId).split("/").pop()?.toLowerCase() ?? "";
        return {
          role: roleNames.get(roleGuid) ?? roleGuid,
          assignee: assigneeName(String(properties.principalId)),
          scope,
        };
      }),
  };
}

/** The environment variable an exported secret's value is read from: `WIKIT_SECRET_<VAULT>_<NAME>`. */
export function secretVariable(vault: string, secret: string): string {
  return `WIKIT_SECRET_${vault}_${secret}`.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
}

export function registerApplyCommands(program: Command): void {
  withDataDir(
    program.command("apply").description("create or update what a directory file describes (never deletes)"),
  )
    .requiredOption("-f, --file <path>", "the directory file (YAML or JSON; - for stdin)")
    .option("--dry-run", "print what would change, change nothing")
    .option("--allow-inline-values", "accept secret values written in the file (value:) instead of valueFrom")
    .option("--subscription <name-or-id>", "subscription name or ID (default: the current one)")
    .addHelpText(
      "after",
      `
Each change is printed: + made, ~ updated (the members that differ). A second apply of the same file changes nothing.

Examples:
  wikit apply -f directory.yaml --dry-run
  WIKIT_SECRET_KV_DEMO_MY_SECRET=s3cr3t wikit apply -f directory.yaml
`,
    )
    .action(
      async (options: {
        dataDir?: string;
        file: string;
        dryRun?: boolean;
        allowInlineValues?: boolean;
        subscription?: string;
      }) => {
        const text =
          options.file === "-"
            ? await readStdin()
            : await readFile(options.file, "utf8").catch((error: Error) => {
                throw new CliError(`cannot read ${options.file}: ${error.message}`);
              });
        const file = parseDirectoryFile(text, { allowInlineValues: options.allowInlineValues });
        const client = await WikitClient.connect(resolveDataDir(options.dataDir));
        const subscription = await client.subscriptionId(options.subscription);
        const tenant = await client.tenantOf(subscription);
        const baseDir = options.file === "-" ? process.cwd() : dirname(resolve(options.file));
        const reconciler = new Reconciler(client, subscription, tenant, options.dryRun === true, baseDir);
        await reconciler.apply(file);
        for (const change of reconciler.changes) {
          process.stdout.write(
            `${change.mark} ${change.what}${change.detail ? ` (${change.detail})` : ""}\n`,
          );
        }
        const made = reconciler.changes.filter((change) => change.mark === "+").length;
        const updated = reconciler.changes.length - made;
        const verb = options.dryRun ? "would make" : "made";
        process.stdout.write(
          `${verb} ${made}, ${options.dryRun ? "would update" : "updated"} ${updated}, ${reconciler.unchanged} unchanged\n`,
        );
      },
    );
  withDataDir(program.command("export").description("write the current directory as a file for wikit apply"))
    .option("-f, --file <path>", "where to write it (default: stdout)")
    .option("--subscription <name-or-id>", "subscription name or ID (default: the current one)")
    .addHelpText(
      "after",
      `
Secret values are not exported: each secret reads its value from WIKIT_SECRET_<VAULT>_<NAME> when applied.

Examples:
  wikit export -f directory.yaml
`,
    )
    .action(async (options: { dataDir?: string; file?: string; subscription?: string }) => {
      const client = await WikitClient.connect(resolveDataDir(options.dataDir));
      const subscription = await client.subscriptionId(options.subscription);
      const text = stringify(
        await exportDirectory(client, subscription, await client.tenantOf(subscription)),
      );
      if (options.file) await writeFile(options.file, text, { mode: 0o600 });
      else process.stdout.write(text);
    });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
