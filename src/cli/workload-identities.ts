// The identity side of `serviceaccount create|delete`, over the running wikit's ARM and Graph routes: app
// registrations with their service principals (azwi's kind), user-assigned managed identities (wikit's addition),
// their federated credentials, and role assignments. Each call says whether it found or made something, so that
// the phases can report it and running a command twice changes nothing.

import { randomUUID } from "node:crypto";
import {
  federatedCredentialId,
  parseScope,
  providerResourceId,
  RESOURCE_TYPES,
  roleAssignmentId,
} from "../names/arm-resource-ids.ts";
import { WIKIT_VERSION } from "../names/wikit-release.ts";
import { CliError } from "./cli-error.ts";
import { roleDefinitionId } from "./principal-lookup.ts";
import {
  ARM_API_VERSION,
  expectSuccess,
  type GraphListItem,
  graphNotFoundAsUndefined,
  odataString,
  type WikitClient,
} from "./wikit-client.ts";

/** An app registration or a managed identity, as the phases use it. */
export interface WorkloadIdentity {
  kind: "application" | "managed-identity";
  displayName: string;
  clientId: string;
  /** The application's object ID, or the managed identity's resource ID. */
  id: string;
  /** Who roles are granted to: the app's service principal (if it has one here), or the identity's principal. */
  principalId: string | undefined;
}

export interface CredentialSpec {
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
  description: string;
}

/** A user-assigned identity as ARM returns it (the members read here). */
interface ManagedIdentityResource {
  id: string;
  name: string;
  properties: { clientId: string; principalId: string };
}

/** A federated credential as listed: its name, and what addresses it for a delete. */
interface ListedCredential {
  name: string;
  issuer: string;
  subject: string;
  /** Graph: the credential's ID; ARM: its resource ID. */
  address: string;
}

export function describeIdentity(identity: WorkloadIdentity): string {
  return identity.kind === "application"
    ? `application '${identity.displayName}' (client ID ${identity.clientId})`
    : `managed identity '${identity.displayName}' (client ID ${identity.clientId})`;
}

const isGraphConflict = (error: unknown) =>
  error instanceof CliError && error.message.startsWith("(Request_MultipleObjectsWithSameKeyValue)");

export class WorkloadIdentities {
  readonly #client: WikitClient;
  readonly tenant: string;
  readonly subscription: string;

  constructor(client: WikitClient, tenant: string, subscription: string) {
    this.#client = client;
    this.tenant = tenant;
    this.subscription = subscription;
  }

  #graph(method: string, path: string, body?: unknown) {
    return this.#client.graph(this.tenant, method, path, body);
  }

  #graphList(path: string, filter?: string) {
    return this.#client.graphList(this.tenant, path, filter);
  }

  /** An ARM call whose status the caller decides on (404, 409, 204). */
  async #armStatus(method: string, id: string, body?: unknown) {
    return this.#client.request(method, `${id}?api-version=${ARM_API_VERSION}`, body);
  }

  async #application(app: GraphListItem): Promise<WorkloadIdentity> {
    const appId = String(app.appId);
    return {
      kind: "application",
      displayName: String(app.displayName),
      clientId: appId,
      id: app.id,
      principalId: (await this.servicePrincipalOf(appId))?.id,
    };
  }

  // ---- App registrations ------------------------------------------------------------------------------------

  /** The first application with this display name, as azwi takes it. */
  async applicationNamed(name: string): Promise<WorkloadIdentity | undefined> {
    const [found] = await this.#graphList("/applications", `displayName eq ${odataString(name)}`);
    return found && this.#application(found);
  }

  async applicationWithObjectId(objectId: string): Promise<WorkloadIdentity | undefined> {
    const found = (await this.#graph("GET", `/applications/${encodeURIComponent(objectId)}`).catch(
      graphNotFoundAsUndefined,
    )) as GraphListItem | undefined;
    return found && this.#application(found);
  }

  async createApplication(name: string): Promise<WorkloadIdentity> {
    return this.#application(
      (await this.#graph("POST", "/applications", { displayName: name })) as GraphListItem,
    );
  }

  async servicePrincipalOf(appId: string): Promise<GraphListItem | undefined> {
    const [found] = await this.#graphList("/servicePrincipals", `appId eq ${odataString(appId)}`);
    return found;
  }

  /** The service principal named (display name), for `--service-principal-name`. */
  async servicePrincipalNamed(name: string): Promise<GraphListItem | undefined> {
    const [found] = await this.#graphList("/servicePrincipals", `displayName eq ${odataString(name)}`);
    return found;
  }

  /** The app's service principal in this tenant, tagged with who made it as azwi tags its own. */
  async createServicePrincipal(appId: string): Promise<GraphListItem> {
    return (await this.#graph("POST", "/servicePrincipals", {
      appId,
      tags: [`wikit version: ${WIKIT_VERSION}`],
    })) as GraphListItem;
  }

  // ---- Managed identities -----------------------------------------------------------------------------------

  managedIdentityId(resourceGroup: string, name: string): string {
    return providerResourceId(this.subscription, resourceGroup, RESOURCE_TYPES.userAssignedIdentity, name);
  }

  #managedIdentity(resource: ManagedIdentityResource): WorkloadIdentity {
    return {
      kind: "managed-identity",
      displayName: resource.name,
      clientId: resource.properties.clientId,
      id: resource.id,
      principalId: resource.properties.principalId,
    };
  }

  async managedIdentityNamed(resourceGroup: string, name: string): Promise<WorkloadIdentity | undefined> {
    const response = await this.#armStatus("GET", this.managedIdentityId(resourceGroup, name));
    if (response.status === 404) return undefined;
    return this.#managedIdentity(expectSuccess(response) as ManagedIdentityResource);
  }

  async createManagedIdentity(resourceGroup: string, name: string): Promise<WorkloadIdentity> {
    try {
      return this.#managedIdentity(
        (await this.#client.arm(
          "PUT",
          this.managedIdentityId(resourceGroup, name),
          {},
        )) as ManagedIdentityResource,
      );
    } catch (error) {
      if (error instanceof CliError && error.message.startsWith("(ResourceGroupNotFound)")) {
        throw new CliError(`${error.message} Create it with: wikit group create --name ${resourceGroup}`);
      }
      throw error;
    }
  }

  // ---- Either kind ------------------------------------------------------------------------------------------

  /** The app registration (this tenant) or managed identity (this subscription) with this client ID. */
  async withClientId(clientId: string): Promise<WorkloadIdentity | undefined> {
    const [app] = await this.#graphList("/applications", `appId eq ${odataString(clientId)}`);
    if (app) return this.#application(app);
    const { value } = (await this.#client.arm(
      "GET",
      `/subscriptions/${this.subscription}/providers/${RESOURCE_TYPES.userAssignedIdentity}`,
    )) as { value: ManagedIdentityResource[] };
    const identity = value.find(
      (candidate) => candidate.properties.clientId.toLowerCase() === clientId.toLowerCase(),
    );
    return identity && this.#managedIdentity(identity);
  }

  /** Deletes the app (its credentials and service principal go with it) or the managed identity (and its credentials). */
  async delete(identity: WorkloadIdentity): Promise<void> {
    if (identity.kind === "application") {
      await this.#graph("DELETE", `/applications/${encodeURIComponent(identity.id)}`);
    } else {
      await this.#client.arm("DELETE", identity.id);
    }
  }

  // ---- Federated credentials --------------------------------------------------------------------------------

  async #credentials(identity: WorkloadIdentity): Promise<ListedCredential[]> {
    if (identity.kind === "application") {
      return (
        await this.#graphList(`/applications/${encodeURIComponent(identity.id)}/federatedIdentityCredentials`)
      ).map((credential) => ({
        name: String(credential.name),
        issuer: String(credential.issuer),
        subject: String(credential.subject ?? ""),
        address: `/applications/${encodeURIComponent(identity.id)}/federatedIdentityCredentials/${credential.id}`,
      }));
    }
    const { value } = (await this.#client.arm("GET", `${identity.id}/federatedIdentityCredentials`)) as {
      value: { id: string; name: string; properties: { issuer: string; subject?: string } }[];
    };
    return value.map((credential) => ({
      name: credential.name,
      issuer: credential.properties.issuer,
      subject: credential.properties.subject ?? "",
      address: credential.id,
    }));
  }

  /** The identity's credential for exactly this issuer and subject (azwi finds it by subject, then issuer). */
  async credentialFor(
    identity: WorkloadIdentity,
    issuer: string,
    subject: string,
  ): Promise<ListedCredential | undefined> {
    return (await this.#credentials(identity)).find(
      (credential) => credential.subject === subject && credential.issuer === issuer,
    );
  }

  /**
   * Adds the credential unless one with the same issuer and subject is there; a conflict on the way (the same name,
   * or a twin made meanwhile) counts as already there too, as azwi treats Request_MultipleObjectsWithSameKeyValue.
   */
  async addCredential(
    identity: WorkloadIdentity,
    credential: CredentialSpec,
  ): Promise<{ created: boolean; name: string }> {
    const existing = await this.credentialFor(identity, credential.issuer, credential.subject);
    if (existing) return { created: false, name: existing.name };
    if (identity.kind === "application") {
      try {
        await this.#graph(
          "POST",
          `/applications/${encodeURIComponent(identity.id)}/federatedIdentityCredentials`,
          credential,
        );
      } catch (error) {
        if (isGraphConflict(error)) return { created: false, name: credential.name };
        throw error;
      }
      return { created: true, name: credential.name };
    }
    const { name, ...properties } = credential;
    const response = await this.#armStatus("PUT", federatedCredentialId(identity.id, name), { properties });
    if (response.status === 409) return { created: false, name };
    expectSuccess(response);
    return { created: true, name };
  }

  async deleteCredential(identity: WorkloadIdentity, credential: ListedCredential): Promise<void> {
    if (identity.kind === "application") await this.#graph("DELETE", credential.address);
    else await this.#client.arm("DELETE", credential.address);
  }

  // ---- Role assignments -------------------------------------------------------------------------------------

  /**
   * Grants the role at the scope unless the principal holds it there already; either way the assignment's ID, which
   * `serviceaccount delete --role-assignment-id` takes. A 409 on the way (made meanwhile) also counts as there.
   */
  async assignRole(
    scope: string,
    role: string,
    principalId: string,
  ): Promise<{ created: boolean; id: string | undefined }> {
    if (!parseScope(scope)) {
      throw new CliError(
        `--azure-scope takes a resource ID, e.g. /subscriptions/{id}/resourceGroups/{group} or a vault's ID (\`wikit keyvault show -g RG -n KV --query id -o tsv\`); '${scope}' is not one.`,
      );
    }
    const definitionId = await roleDefinitionId(this.#client, this.subscription, role);
    const held = async () => {
      const filter = encodeURIComponent(`principalId eq ${odataString(principalId)}`);
      const { value } = (await this.#client.arm(
        "GET",
        `${scope.replace(/\/+$/, "")}/providers/${RESOURCE_TYPES.roleAssignment}?$filter=${filter}`,
      )) as { value: { id: string; properties: { roleDefinitionId: string; scope: string } }[] };
      const same = (a: string, b: string) =>
        a.replace(/\/+$/, "").toLowerCase() === b.replace(/\/+$/, "").toLowerCase();
      return value.find(
        (assignment) =>
          same(assignment.properties.scope, scope) &&
          same(assignment.properties.roleDefinitionId, definitionId),
      )?.id;
    };
    const existing = await held();
    if (existing) return { created: false, id: existing };
    const id = roleAssignmentId(scope, randomUUID());
    const response = await this.#armStatus("PUT", id, {
      properties: { roleDefinitionId: definitionId, principalId, principalType: "ServicePrincipal" },
    });
    if (response.status === 409) return { created: false, id: await held() };
    const created = expectSuccess(response) as { id?: string };
    return { created: true, id: created.id ?? id };
  }

  /** Deletes a role assignment by ID; false when there was none (ARM's 204, or a 404). */
  async deleteRoleAssignment(id: string): Promise<boolean> {
    const response = await this.#armStatus("DELETE", id);
    if (response.status === 204 || response.status === 404) return false;
    expectSuccess(response);
    return true;
  }
}
