// The declarative directory file of `wikit apply -f` and `wikit export`: what one subscription (and its tenant's app
// registrations) should hold, and the plan that brings the current state there. Pure: parsing with errors that name
// the offending path, and planning from two descriptions; reading the current state and acting live in apply.ts.
//
//   apiVersion: wikit/v1
//   kind: Directory
//   resourceGroups:   [{name, location?, tags?}]
//   identities:       [{name, resourceGroup, tags?, federatedCredentials?: [{name, issuer, subject, audiences?, description?}]}]
//   applications:     [{displayName, signInAudience?, identifierUris?, servicePrincipal?, federatedCredentials?}]
//   vaults:           [{name, resourceGroup, tags?, secrets?: [{name, contentType?, valueFrom: {file | env}, value?}]}]
//   roleAssignments:  [{role, assignee, scope}]   # scope relative to the subscription: "/" or "/resourceGroups/…"

import { parse } from "yaml";
import { CliError } from "./cli-error.ts";

export const DIRECTORY_API_VERSION = "wikit/v1";
export const DEFAULT_AUDIENCES = ["api://AzureADTokenExchange"];

export interface CredentialSpec {
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
  description?: string;
}

export interface GroupSpec {
  name: string;
  location?: string;
  tags?: Record<string, string>;
}

export interface IdentitySpec {
  name: string;
  resourceGroup: string;
  tags?: Record<string, string>;
  federatedCredentials: CredentialSpec[];
}

export interface ApplicationSpec {
  displayName: string;
  signInAudience?: string;
  identifierUris?: string[];
  /** Whether the app has its service principal in this tenant (default true: it signs in here). */
  servicePrincipal: boolean;
  federatedCredentials: CredentialSpec[];
}

/** Where a secret's value comes from: a file (relative to the directory file) or an environment variable. */
export type ValueSource = { file: string } | { env: string } | { value: string };

export interface SecretSpec {
  name: string;
  contentType?: string;
  valueFrom: ValueSource;
}

export interface VaultSpec {
  name: string;
  resourceGroup: string;
  tags?: Record<string, string>;
  secrets: SecretSpec[];
}

export interface RoleAssignmentSpec {
  role: string;
  /** An object ID, a client or app ID, or an identity's or application's name (as `--assignee`). */
  assignee: string;
  /** `/` for the subscription, or a path below it such as `/resourceGroups/rg`. */
  scope: string;
}

export interface DirectoryFile {
  resourceGroups: GroupSpec[];
  identities: IdentitySpec[];
  applications: ApplicationSpec[];
  vaults: VaultSpec[];
  roleAssignments: RoleAssignmentSpec[];
}

type Raw = Record<string, unknown>;

/** Reads a directory file; every mistake is a CliError naming its path in the file, e.g. `vaults[0].secrets[1].name`. */
export function parseDirectoryFile(
  text: string,
  options: { allowInlineValues?: boolean } = {},
): DirectoryFile {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new CliError(`the directory file is not valid YAML: ${(error as Error).message}`);
  }
  const root = object(document, "the file");
  if (root.apiVersion !== DIRECTORY_API_VERSION || root.kind !== "Directory") {
    throw new CliError(
      `the directory file must begin with 'apiVersion: ${DIRECTORY_API_VERSION}' and 'kind: Directory'`,
    );
  }
  known(root, "the file", [
    "apiVersion",
    "kind",
    "resourceGroups",
    "identities",
    "applications",
    "vaults",
    "roleAssignments",
  ]);
  const file: DirectoryFile = {
    resourceGroups: list(root.resourceGroups, "resourceGroups", (raw, at) => {
      known(raw, at, ["name", "location", "tags"]);
      return {
        name: text1(raw.name, `${at}.name`),
        ...optional("location", raw.location, at),
        ...tagsOf(raw.tags, at),
      };
    }),
    identities: list(root.identities, "identities", (raw, at) => {
      known(raw, at, ["name", "resourceGroup", "tags", "federatedCredentials"]);
      return {
        name: text1(raw.name, `${at}.name`),
        resourceGroup: text1(raw.resourceGroup, `${at}.resourceGroup`),
        ...tagsOf(raw.tags, at),
        federatedCredentials: list(raw.federatedCredentials, `${at}.federatedCredentials`, credential),
      };
    }),
    applications: list(root.applications, "applications", (raw, at) => {
      known(raw, at, [
        "displayName",
        "signInAudience",
        "identifierUris",
        "servicePrincipal",
        "federatedCredentials",
      ]);
      return {
        displayName: text1(raw.displayName, `${at}.displayName`),
        ...optional("signInAudience", raw.signInAudience, at),
        ...(raw.identifierUris === undefined
          ? {}
          : { identifierUris: strings(raw.identifierUris, `${at}.identifierUris`) }),
        servicePrincipal:
          raw.servicePrincipal === undefined ? true : bool(raw.servicePrincipal, `${at}.servicePrincipal`),
        federatedCredentials: list(raw.federatedCredentials, `${at}.federatedCredentials`, credential),
      };
    }),
    vaults: list(root.vaults, "vaults", (raw, at) => {
      known(raw, at, ["name", "resourceGroup", "tags", "secrets"]);
      return {
        name: text1(raw.name, `${at}.name`),
        resourceGroup: text1(raw.resourceGroup, `${at}.resourceGroup`),
        ...tagsOf(raw.tags, at),
        secrets: list(raw.secrets, `${at}.secrets`, (secret, secretAt) => {
          known(secret, secretAt, ["name", "contentType", "valueFrom", "value"]);
          return {
            name: text1(secret.name, `${secretAt}.name`),
            ...optional("contentType", secret.contentType, secretAt),
            valueFrom: valueSource(secret, secretAt, options.allowInlineValues === true),
          };
        }),
      };
    }),
    roleAssignments: list(root.roleAssignments, "roleAssignments", (raw, at) => {
      known(raw, at, ["role", "assignee", "scope"]);
      const scope = text1(raw.scope, `${at}.scope`);
      if (!scope.startsWith("/")) {
        throw new CliError(
          `${at}.scope must be '/' (the subscription) or a path such as /resourceGroups/rg: '${scope}'`,
        );
      }
      return { role: text1(raw.role, `${at}.role`), assignee: text1(raw.assignee, `${at}.assignee`), scope };
    }),
  };
  unique(
    file.resourceGroups.map((group) => group.name.toLowerCase()),
    "resourceGroups",
    "name",
  );
  unique(
    file.identities.map((identity) => `${identity.resourceGroup}/${identity.name}`.toLowerCase()),
    "identities",
    "resourceGroup/name",
  );
  unique(
    file.applications.map((app) => app.displayName),
    "applications",
    "displayName",
  );
  unique(
    file.vaults.map((vault) => vault.name.toLowerCase()),
    "vaults",
    "name",
  );
  return file;
}

function credential(raw: Raw, at: string): CredentialSpec {
  known(raw, at, ["name", "issuer", "subject", "audiences", "description"]);
  return {
    name: text1(raw.name, `${at}.name`),
    issuer: text1(raw.issuer, `${at}.issuer`),
    subject: text1(raw.subject, `${at}.subject`),
    audiences: raw.audiences === undefined ? DEFAULT_AUDIENCES : strings(raw.audiences, `${at}.audiences`),
    ...optional("description", raw.description, at),
  };
}

function valueSource(raw: Raw, at: string, allowInline: boolean): ValueSource {
  if (raw.value !== undefined) {
    if (!allowInline) {
      throw new CliError(
        `${at}.value holds a secret value in the file; give valueFrom: {file: PATH} or {env: NAME}, or pass --allow-inline-values`,
      );
    }
    return { value: text(raw.value, `${at}.value`) };
  }
  const from = object(raw.valueFrom, `${at}.valueFrom`);
  known(from, `${at}.valueFrom`, ["file", "env"]);
  if ((from.file === undefined) === (from.env === undefined)) {
    throw new CliError(`${at}.valueFrom takes one of 'file' (a path) and 'env' (a variable's name)`);
  }
  return from.file !== undefined
    ? { file: text1(from.file, `${at}.valueFrom.file`) }
    : { env: text1(from.env, `${at}.valueFrom.env`) };
}

function object(value: unknown, at: string): Raw {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new CliError(`${at} must be a mapping`);
  return value as Raw;
}

function list<T>(value: unknown, at: string, read: (raw: Raw, at: string) => T): T[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new CliError(`${at} must be a list`);
  return value.map((item, index) => read(object(item, `${at}[${index}]`), `${at}[${index}]`));
}

function known(raw: Raw, at: string, members: string[]): void {
  const stranger = Object.keys(raw).find((member) => !members.includes(member));
  if (stranger !== undefined)
    throw new CliError(`${at} has an unknown member '${stranger}' (it takes ${members.join(", ")})`);
}

function text(value: unknown, at: string): string {
  if (typeof value !== "string") throw new CliError(`${at} must be a string`);
  return value;
}

function text1(value: unknown, at: string): string {
  const result = text(value, at);
  if (result === "") throw new CliError(`${at} must not be empty`);
  return result;
}

function bool(value: unknown, at: string): boolean {
  if (typeof value !== "boolean") throw new CliError(`${at} must be true or false`);
  return value;
}

function strings(value: unknown, at: string): string[] {
  if (!Array.isArray(value)) throw new CliError(`${at} must be a list of strings`);
  return value.map((item, index) => text(item, `${at}[${index}]`));
}

function optional<K extends string>(key: K, value: unknown, at: string): { [P in K]?: string } {
  return value === undefined ? {} : ({ [key]: text(value, `${at}.${key}`) } as { [P in K]?: string });
}

function tagsOf(value: unknown, at: string): { tags?: Record<string, string> } {
  if (value === undefined) return {};
  const raw = object(value, `${at}.tags`);
  return {
    tags: Object.fromEntries(
      Object.entries(raw).map(([name, tag]) => [name, text(tag, `${at}.tags.${name}`)]),
    ),
  };
}

function unique(keys: string[], at: string, what: string): void {
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) throw new CliError(`${at} names '${key}' twice (by ${what})`);
    seen.add(key);
  }
}
