// Which principal an ID or name the user typed means — a managed identity, or an app registration's service principal
// — so that the commonest mix-up, a client (app) ID where a principal (object) ID belongs or the reverse, is named
// instead of failing later without a word.

import { RESOURCE_TYPES } from "../names/arm-resource-ids.ts";
import { GUID } from "../names/guid.ts";
import { CliError } from "./cli-error.ts";
import { odataString, type WikitClient } from "./wikit-client.ts";

export interface IdentitySummary {
  name: string;
  /** Set for a managed identity; absent for a service principal. */
  resourceGroup?: string;
  /** The client ID, or a service principal's app ID. */
  clientId: string;
  principalId: string;
}

/** The managed identities of a subscription and the service principals of its tenant. */
export async function listIdentities(client: WikitClient, subscription: string): Promise<IdentitySummary[]> {
  const { value } = (await client.arm(
    "GET",
    `/subscriptions/${subscription}/providers/${RESOURCE_TYPES.userAssignedIdentity}`,
  )) as { value: { id: string; name: string; properties: { clientId: string; principalId: string } }[] };
  const identities = value.map((identity) => ({
    name: identity.name,
    resourceGroup: /\/resourceGroups\/([^/]+)/i.exec(identity.id)?.[1] ?? "",
    clientId: identity.properties.clientId,
    principalId: identity.properties.principalId,
  }));
  const tenant = await client.tenantOf(subscription);
  const servicePrincipals = (await client.graphList(tenant, "/servicePrincipals")).map((sp) => ({
    name: String(sp.displayName),
    clientId: String(sp.appId),
    principalId: sp.id,
  }));
  return [...identities, ...servicePrincipals];
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const described = (principal: IdentitySummary) =>
  principal.resourceGroup === undefined
    ? `the service principal of app '${principal.name}'`
    : `identity '${principal.name}' (group '${principal.resourceGroup}')`;

/** A principal (object) ID as `--assignee-object-id` takes it: a GUID, and not an identity's client ID. */
export function checkPrincipalId(option: string, id: string, identities: readonly IdentitySummary[]): string {
  if (!GUID.test(id))
    throw new CliError(`${option} takes a principal (object) ID, a GUID; '${id}' is not one.`);
  const byClientId = identities.find((identity) => same(identity.clientId, id));
  if (byClientId && !identities.some((identity) => same(identity.principalId, id))) {
    throw new CliError(
      `'${id}' is the client ID of ${described(byClientId)}; ${option} takes its principal (object) ID, ${byClientId.principalId}.`,
    );
  }
  return id;
}

/** A client ID as `--client-id` takes it: a GUID, and not an identity's principal ID. */
export function checkClientId(option: string, id: string, identities: readonly IdentitySummary[]): string {
  if (!GUID.test(id)) throw new CliError(`${option} takes a client ID, a GUID; '${id}' is not one.`);
  const byPrincipalId = identities.find((identity) => same(identity.principalId, id));
  if (byPrincipalId && !identities.some((identity) => same(identity.clientId, id))) {
    throw new CliError(
      `'${id}' is the principal (object) ID of ${described(byPrincipalId)}; ${option} takes its client ID, ${byPrincipalId.clientId}.`,
    );
  }
  return id;
}

/** `--assignee` as az takes it: a principal (object) ID, a client or app ID, or an identity's or app's name. */
export function resolveAssignee(assignee: string, identities: readonly IdentitySummary[]): string {
  if (GUID.test(assignee)) {
    return identities.find((identity) => same(identity.clientId, assignee))?.principalId ?? assignee;
  }
  const named = identities.filter((identity) => same(identity.name, assignee));
  if (named.length === 1 && named[0]) return named[0].principalId;
  if (named.length > 1) {
    throw new CliError(
      `${named.length} principals are named '${assignee}' (${named.map(described).join(", ")}); give --assignee-object-id with the one's principal ID.`,
    );
  }
  throw new CliError(
    `No identity or service principal is named '${assignee}'; --assignee takes a principal (object) ID, a client ID or an identity's name.`,
  );
}

/** A role assignment's scope: a resource ID at or below a subscription. */
export function checkScope(scope: string): string {
  if (!/^\/subscriptions\/[^/]+(\/resourceGroups\/[^/]+(\/providers\/[^/]+\/.+)?)?\/?$/i.test(scope)) {
    throw new CliError(
      `--scope takes a resource ID, e.g. /subscriptions/{id}/resourceGroups/{group} or a vault's ID (\`wikit keyvault show -g RG -n KV --query id -o tsv\`); '${scope}' is not one.`,
    );
  }
  return scope;
}

/** The ID of the role definition a `--role` names (its name, as az resolves it), or a CliError naming the fix. */
export async function roleDefinitionId(
  client: WikitClient,
  subscription: string,
  role: string,
): Promise<string> {
  const filter = encodeURIComponent(`roleName eq ${odataString(role)}`);
  const { value } = (await client.arm(
    "GET",
    `/subscriptions/${subscription}/providers/${RESOURCE_TYPES.roleDefinition}?$filter=${filter}`,
  )) as { value: { name?: unknown }[] };
  const definition = value[0];
  if (typeof definition?.name !== "string") {
    throw new CliError(`Role '${role}' doesn't exist. Built-in roles: see \`wikit role definition list\`.`);
  }
  return `/subscriptions/${subscription}/providers/${RESOURCE_TYPES.roleDefinition}/${definition.name}`;
}
