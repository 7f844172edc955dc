import { randomUUID, X509Certificate } from "node:crypto";
import {
  applicationId,
  federatedCredentialId,
  RESOURCE_TYPES,
  servicePrincipalId,
  tenantId as tenantResourceId,
} from "../../names/arm-resource-ids.ts";
import type { ArmResource, ResourceQuery, Store } from "../../store/store.ts";
import { certificateCredential } from "../exchange/certificate-assertion.ts";
import { badRequest, conflict, notFound } from "./directory-error.ts";
import { type PrincipalSearch, toFederatedCredential, toFederatedPrincipal } from "./directory-rows.ts";
import { checkCredentialFitsIdentity, checkFederatedCredential } from "./federated-credential-rules.ts";
import {
  checkApplicationBody,
  checkKeyCredentials,
  checkServicePrincipalBody,
  isMultiTenant,
} from "./graph-object-rules.ts";
import { checkApplicationCredentialName, isGuid } from "./naming-rules.ts";
import type { Tenants } from "./tenants.ts";

/** A directory object as Microsoft Graph shows it: its properties, `id` (the object ID) among them. */
export type GraphObject = Record<string, unknown> & { id: string };

/** Graph's timestamps: ISO 8601 in UTC, to the second. */
const graphNow = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");

/**
 * App registrations (applications), their service principals and their federated identity credentials, in
 * Microsoft Graph's shapes and with its rules. An application lives in its home tenant; a service principal makes it
 * usable in one tenant — the home tenant, or any other when the application is multi-tenant.
 */
export class AppRegistrations {
  readonly #store: Store;
  readonly #tenants: Tenants;

  constructor(store: Store, tenants: Tenants) {
    this.#store = store;
    this.#tenants = tenants;
  }

  async createApplication(tenantId: string, body: unknown): Promise<GraphObject> {
    const tenant = await this.#tenant(tenantId);
    const input = withKeyCredentials(checkApplicationBody(body, false));
    const objectId = randomUUID();
    const application: GraphObject = {
      id: objectId,
      appId: randomUUID(),
      displayName: input.displayName,
      signInAudience: "AzureADMyOrg",
      identifierUris: [],
      tags: [],
      description: null,
      notes: null,
      publisherDomain: tenant.defaultDomain,
      createdDateTime: graphNow(),
      ...input,
    };
    const row = applicationRow(tenantId, application);
    await this.#store.putResource(row);
    return graphObjectOf(row);
  }

  async listApplications(tenantId: string): Promise<GraphObject[]> {
    return this.#listInTenant(tenantId, RESOURCE_TYPES.application);
  }

  async getApplication(tenantId: string, objectId: string): Promise<GraphObject> {
    return graphObjectOf(await this.#applicationRow(tenantId, objectId));
  }

  async updateApplication(tenantId: string, objectId: string, patch: unknown): Promise<GraphObject> {
    const current = graphObjectOf(await this.#applicationRow(tenantId, objectId), { withKeys: true });
    const updated = { ...current, ...withKeyCredentials(checkApplicationBody(patch, true)) };
    await this.#store.putResource(applicationRow(tenantId, updated));
    return graphObjectOf(applicationRow(tenantId, updated));
  }

  /** Deletes the application, its credentials and its service principal in the home tenant, as Entra does. */
  async deleteApplication(tenantId: string, objectId: string): Promise<void> {
    const application = await this.getApplication(tenantId, objectId);
    const home = await this.#servicePrincipalFor(tenantId, String(application.appId));
    if (home) await this.#store.deleteResource(home.id);
    await this.#store.deleteResource(applicationId(tenantId, objectId));
  }

  /** Creates a credential (`name` undefined, taken from the body) or updates the named one. */
  async putApplicationCredential(
    tenantId: string,
    objectId: string,
    body: unknown,
    existingName?: string,
  ): Promise<GraphObject> {
    const owner = await this.#applicationRow(tenantId, objectId);
    const { id: _id, name: givenName, ...rest } = (body ?? {}) as Record<string, unknown>;
    // Decided on the credentials as they are at the write: two writers cannot both take the 20th place.
    const written = await this.#store.putResourceAmong(this.#credentialQuery(owner.id), (rows) => {
      const currentRow =
        existingName === undefined ? undefined : rows.find((row) => matchesCredential(row, existingName));
      if (existingName !== undefined && !currentRow) throw credentialNotFound(existingName);
      const existing = rows.map(toFederatedCredential);
      const current = currentRow && toFederatedCredential(currentRow);
      const name = current?.name ?? givenName;
      if (typeof name !== "string") {
        throw badRequest(
          "Request_BadRequest",
          "A value is required for property 'name' of resource 'FederatedIdentityCredential'.",
        );
      }
      if (current && givenName !== undefined && givenName !== current.name) {
        throw badRequest("Request_BadRequest", "Property 'name' is read-only and cannot be changed.");
      }
      checkApplicationCredentialName(name);
      if (!current && existing.some((credential) => credential.name.toLowerCase() === name.toLowerCase())) {
        throw conflict(
          "Request_MultipleObjectsWithSameKeyValue",
          `A federated identity credential named '${name}' already exists on this application.`,
        );
      }
      const merged = current ? { ...current.properties, ...rest } : rest;
      const properties = checkFederatedCredential(merged);
      checkCredentialFitsIdentity(name, properties, existing);
      const credential: GraphObject = {
        id: String(currentRow?.properties.id ?? randomUUID()),
        name,
        ...properties,
        description: properties.description ?? null,
      };
      return {
        id: currentRow?.id ?? federatedCredentialId(owner.id, name),
        name,
        type: RESOURCE_TYPES.applicationFederatedCredential,
        properties: credential,
      };
    });
    const credential = written.properties as GraphObject;
    return credential;
  }

  async listApplicationCredentials(tenantId: string, objectId: string): Promise<GraphObject[]> {
    const owner = await this.#applicationRow(tenantId, objectId);
    return (await this.#credentialRows(owner.id)).map((row) => graphObjectOf(row));
  }

  /** A credential by its ID or its name, as Graph takes either. */
  async getApplicationCredential(tenantId: string, objectId: string, idOrName: string): Promise<GraphObject> {
    const owner = await this.#applicationRow(tenantId, objectId);
    const found = (await this.#credentialRows(owner.id)).find((row) => matchesCredential(row, idOrName));
    if (!found) throw credentialNotFound(idOrName);
    return graphObjectOf(found);
  }

  async deleteApplicationCredential(tenantId: string, objectId: string, idOrName: string): Promise<void> {
    const owner = await this.#applicationRow(tenantId, objectId);
    const found = (await this.#credentialRows(owner.id)).find((row) => matchesCredential(row, idOrName));
    if (!found) throw credentialNotFound(idOrName);
    await this.#store.deleteResource(found.id);
  }

  /** Makes the application with `body.appId` usable in `tenantId`. */
  async createServicePrincipal(tenantId: string, body: unknown): Promise<GraphObject> {
    await this.#tenant(tenantId);
    const input = checkServicePrincipalBody(body, false);
    const appId = String(input.appId).toLowerCase();
    const application = isGuid(appId) ? await this.#applicationByAppId(appId) : undefined;
    if (!application) {
      throw badRequest(
        "Request_BadRequest",
        `The appId '${input.appId}' of the service principal does not reference a valid application object.`,
      );
    }
    const app = graphObjectOf(application);
    const homeTenant = homeTenantOf(application);
    if (homeTenant !== tenantId && !isMultiTenant(app.signInAudience)) {
      throw badRequest(
        "Request_BadRequest",
        `The application '${app.displayName}' (${appId}) is single-tenant (signInAudience 'AzureADMyOrg'): it can have a service principal only in its home tenant '${homeTenant}'. Set its signInAudience to 'AzureADMultipleOrgs' to use it from other tenants.`,
      );
    }
    if (await this.#servicePrincipalFor(tenantId, appId)) {
      throw conflict(
        "Request_MultipleObjectsWithSameKeyValue",
        `The service principal cannot be created, updated, or restored because the service principal name ${appId} is already in use.`,
      );
    }
    const objectId = randomUUID();
    const servicePrincipal: GraphObject = {
      id: objectId,
      displayName: app.displayName,
      appDisplayName: app.displayName,
      appOwnerOrganizationId: homeTenant,
      servicePrincipalType: "Application",
      servicePrincipalNames: [appId, ...((app.identifierUris as string[] | undefined) ?? [])],
      signInAudience: app.signInAudience,
      accountEnabled: true,
      tags: [],
      notes: null,
      description: null,
      ...input,
      appId,
    };
    await this.#store.putResource({
      id: servicePrincipalId(tenantId, objectId),
      name: objectId,
      type: RESOURCE_TYPES.servicePrincipal,
      properties: servicePrincipal,
    });
    return servicePrincipal;
  }

  async listServicePrincipals(tenantId: string): Promise<GraphObject[]> {
    return this.#listInTenant(tenantId, RESOURCE_TYPES.servicePrincipal);
  }

  async getServicePrincipal(tenantId: string, objectId: string): Promise<GraphObject> {
    return graphObjectOf(await this.#servicePrincipalRow(tenantId, objectId));
  }

  async updateServicePrincipal(tenantId: string, objectId: string, patch: unknown): Promise<GraphObject> {
    const row = await this.#servicePrincipalRow(tenantId, objectId);
    const updated = { ...graphObjectOf(row), ...checkServicePrincipalBody(patch, true) };
    await this.#store.putResource({ ...row, properties: updated });
    return updated;
  }

  async deleteServicePrincipal(tenantId: string, objectId: string): Promise<void> {
    await this.#servicePrincipalRow(tenantId, objectId);
    await this.#store.deleteResource(servicePrincipalId(tenantId, objectId));
  }

  /** Whether a service principal with this object ID exists in the tenant. */
  async servicePrincipalExists(objectId: string, tenantId: string): Promise<boolean> {
    return (
      isGuid(objectId) &&
      (await this.#store.getResource(servicePrincipalId(tenantId, objectId))) !== undefined
    );
  }

  /**
   * The application a token request names by `client_id` (its app ID), as it signs in to `tenantId`: through its
   * service principal there, with the application's credentials. Called on every exchange by an app registration.
   */
  async findFederatedPrincipal(tenantId: string, appId: string): Promise<PrincipalSearch> {
    const key = appId.toLowerCase();
    const servicePrincipal = await this.#servicePrincipalFor(tenantId, key);
    const application = await this.#applicationByAppId(key);
    if (!application) return { refusal: "unknownClient" };
    const app = graphObjectOf(application);
    const homeTenant = homeTenantOf(application);
    if (!servicePrincipal) {
      return { refusal: homeTenant === tenantId ? "noServicePrincipal" : "unknownClient" };
    }
    if (homeTenant !== tenantId && !isMultiTenant(app.signInAudience)) return { refusal: "unknownClient" };
    const displayName = String(app.displayName);
    if (servicePrincipal.properties.accountEnabled === false) return { refusal: "disabled", displayName };
    const keyCredentials = (application.properties.keyCredentials ?? []) as StoredKeyCredential[];
    return {
      principal: {
        ...toFederatedPrincipal(
          {
            clientId: key,
            principalId: servicePrincipal.name,
            tenantId,
            displayName,
            credentialOwnerId: application.id,
          },
          await this.#credentialRows(application.id),
        ),
        certificates: keyCredentials.map((credential) =>
          certificateCredential(credential.keyId, credential.displayName, credential.key),
        ),
      },
    };
  }

  /** The tenant's directory objects of one type. */
  async #listInTenant(tenantId: string, type: string): Promise<GraphObject[]> {
    await this.#tenant(tenantId);
    const rows = await this.#store.listResources({ type, under: tenantResourceId(tenantId) });
    return rows.map((row) => graphObjectOf(row));
  }

  async #tenant(tenantId: string) {
    const tenant = await this.#tenants.findTenant(tenantId);
    if (!tenant) throw notFound("Request_ResourceNotFound", `The tenant '${tenantId}' does not exist.`);
    return tenant;
  }

  async #applicationRow(tenantId: string, objectId: string): Promise<ArmResource> {
    const row = isGuid(objectId)
      ? await this.#store.getResource(applicationId(tenantId, objectId))
      : undefined;
    if (!row || row.type !== RESOURCE_TYPES.application) throw objectNotFound(objectId);
    return row;
  }

  async #servicePrincipalRow(tenantId: string, objectId: string): Promise<ArmResource> {
    const row = isGuid(objectId)
      ? await this.#store.getResource(servicePrincipalId(tenantId, objectId))
      : undefined;
    if (!row || row.type !== RESOURCE_TYPES.servicePrincipal) throw objectNotFound(objectId);
    return row;
  }

  /** App IDs are unique across tenants. */
  async #applicationByAppId(appId: string): Promise<ArmResource | undefined> {
    const [found] = await this.#store.listResources({
      type: RESOURCE_TYPES.application,
      property: { name: "appId", value: appId },
    });
    return found;
  }

  async #servicePrincipalFor(tenantId: string, appId: string): Promise<ArmResource | undefined> {
    const found = await this.#store.listResources({
      type: RESOURCE_TYPES.servicePrincipal,
      property: { name: "appId", value: appId },
    });
    const prefix = `${tenantResourceId(tenantId)}/`.toLowerCase();
    return found.find((row) => row.id.toLowerCase().startsWith(prefix));
  }

  async #credentialRows(applicationRowId: string): Promise<ArmResource[]> {
    return this.#store.listResources(this.#credentialQuery(applicationRowId));
  }

  #credentialQuery(applicationRowId: string): ResourceQuery {
    return { type: RESOURCE_TYPES.applicationFederatedCredential, under: applicationRowId };
  }
}

function applicationRow(tenantId: string, application: GraphObject): ArmResource {
  return {
    id: applicationId(tenantId, application.id),
    name: application.id,
    type: RESOURCE_TYPES.application,
    properties: application,
  };
}

/** The object as Graph returns it: a certificate's `key` is not returned (Graph gives null unless selected). */
function graphObjectOf(row: ArmResource, options: { withKeys?: boolean } = {}): GraphObject {
  const object: GraphObject = { ...row.properties, id: String(row.properties.id ?? row.name) };
  if (!options.withKeys && Array.isArray(object.keyCredentials)) {
    object.keyCredentials = (object.keyCredentials as StoredKeyCredential[]).map((credential) => ({
      ...credential,
      key: null,
    }));
  }
  return object;
}

/** A certificate credential as stored with its application: Graph's members, the DER certificate in `key`. */
interface StoredKeyCredential {
  keyId: string;
  type: "AsymmetricX509Cert";
  usage: "Verify";
  displayName: string;
  customKeyIdentifier: string;
  startDateTime: string;
  endDateTime: string;
  key: string;
}

/** The input with its `keyCredentials` (when given) checked and completed as Graph stores them. */
function withKeyCredentials(input: Record<string, unknown>): Record<string, unknown> {
  if (input.keyCredentials === undefined) return input;
  const keyCredentials = checkKeyCredentials(input.keyCredentials).map(
    (given, index): StoredKeyCredential => {
      let certificate: X509Certificate;
      try {
        certificate = new X509Certificate(Buffer.from(given.key, "base64"));
      } catch {
        throw badRequest(
          "Request_BadRequest",
          `keyCredentials[${index}].key is not a base64 DER certificate.`,
        );
      }
      if (certificate.publicKey.asymmetricKeyType !== "rsa") {
        throw badRequest(
          "Request_BadRequest",
          `keyCredentials[${index}] must be an RSA certificate, as client assertions are signed with RSA.`,
        );
      }
      return {
        keyId: randomUUID(),
        type: "AsymmetricX509Cert",
        usage: "Verify",
        displayName: given.displayName,
        customKeyIdentifier: certificate.fingerprint.replaceAll(":", ""),
        startDateTime: new Date(certificate.validFrom).toISOString(),
        endDateTime: new Date(certificate.validTo).toISOString(),
        key: given.key,
      };
    },
  );
  return { ...input, keyCredentials };
}

/** The tenant an application's row sits beneath: `/tenants/{tenant}/applications/{id}`. */
function homeTenantOf(row: ArmResource): string {
  const tenant = /^\/tenants\/([^/]+)\//i.exec(row.id)?.[1];
  if (!tenant) throw new Error(`the stored application '${row.id}' is not beneath a tenant`);
  return tenant;
}

function matchesCredential(row: ArmResource, idOrName: string): boolean {
  const wanted = idOrName.toLowerCase();
  return row.name.toLowerCase() === wanted || String(row.properties.id).toLowerCase() === wanted;
}

function objectNotFound(objectId: string) {
  return notFound(
    "Request_ResourceNotFound",
    `Resource '${objectId}' does not exist or one of its queried reference-property objects are not present.`,
  );
}

function credentialNotFound(idOrName: string) {
  return notFound(
    "Request_ResourceNotFound",
    `Federated identity credential '${idOrName}' does not exist on this application.`,
  );
}
