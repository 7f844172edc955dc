import { randomUUID } from "node:crypto";
import { federatedCredentialId, providerResourceId, RESOURCE_TYPES } from "../../names/arm-resource-ids.ts";
import type { ArmResource, ResourceQuery, Store } from "../../store/store.ts";
import {
  type FederatedPrincipal,
  toFederatedCredential,
  toManagedIdentityPrincipal,
} from "./directory-rows.ts";
import { checkCredentialFitsIdentity, checkFederatedCredential } from "./federated-credential-rules.ts";
import { checkFederatedCredentialName, checkIdentityName } from "./naming-rules.ts";
import type { ResourceGroups } from "./resource-groups.ts";
import { DEFAULT_LOCATION, locationOf, propertiesOf, type ResourceInput, tagsOf } from "./resource-input.ts";
import { getResourceOfType } from "./resource-lookup.ts";
import type { Tenants } from "./tenants.ts";

const IDENTITY = "user-assigned identity";

/** User-assigned managed identities and their federated identity credentials. */
export class Identities {
  readonly #store: Store;
  readonly #tenants: Tenants;
  readonly #groups: ResourceGroups;

  constructor(store: Store, tenants: Tenants, groups: ResourceGroups) {
    this.#store = store;
    this.#tenants = tenants;
    this.#groups = groups;
  }

  /** Creates or updates an identity; its client and principal IDs never change once made. */
  async put(subscription: string, group: string, name: string, input: ResourceInput): Promise<ArmResource> {
    const resourceGroup = await this.#groups.get(subscription, group);
    checkIdentityName(name);
    const { tenantId } = await this.#tenants.getSubscription(subscription);
    const id = providerResourceId(subscription, group, RESOURCE_TYPES.userAssignedIdentity, name);
    const existing = await this.#store.getResource(id);
    const identity: ArmResource = {
      id: existing?.id ?? id,
      name: existing?.name ?? name,
      type: RESOURCE_TYPES.userAssignedIdentity,
      location: locationOf(input, existing?.location ?? resourceGroup.location ?? DEFAULT_LOCATION),
      tags: tagsOf(input),
      properties: {
        tenantId,
        principalId: existing?.properties.principalId ?? randomUUID(),
        clientId: existing?.properties.clientId ?? randomUUID(),
      },
    };
    await this.#store.putResource(identity);
    return identity;
  }

  async get(subscription: string, group: string, name: string): Promise<ArmResource> {
    await this.#groups.get(subscription, group);
    const id = providerResourceId(subscription, group, RESOURCE_TYPES.userAssignedIdentity, name);
    return getResourceOfType(this.#store, id, RESOURCE_TYPES.userAssignedIdentity, IDENTITY);
  }

  /** Deletes the identity and its federated credentials; false when there was none. */
  async delete(subscription: string, group: string, name: string): Promise<boolean> {
    await this.#groups.get(subscription, group);
    const id = providerResourceId(subscription, group, RESOURCE_TYPES.userAssignedIdentity, name);
    return this.#store.deleteResource(id);
  }

  /**
   * The identity a token request names by `client_id`, in the tenant its URL names. Called on every token
   * exchange: one query finds the identity, one more reads all its credentials.
   */
  async findFederatedPrincipal(tenantId: string, clientId: string): Promise<FederatedPrincipal | undefined> {
    const [identity] = await this.#store.listResources({
      type: RESOURCE_TYPES.userAssignedIdentity,
      property: { name: "clientId", value: clientId.toLowerCase() },
    });
    if (!identity || identity.properties.tenantId !== tenantId) return undefined;
    return toManagedIdentityPrincipal(identity, await this.listFederatedCredentials(identity.id));
  }

  /** Whether a principal with this object ID exists, in `tenantId` when given. */
  async principalExists(principalId: string, tenantId?: string): Promise<boolean> {
    const found = await this.#store.listResources({
      type: RESOURCE_TYPES.userAssignedIdentity,
      property: { name: "principalId", value: principalId.toLowerCase() },
    });
    return found.some((identity) => tenantId === undefined || identity.properties.tenantId === tenantId);
  }

  async putFederatedCredential(identityId: string, name: string, input: ResourceInput): Promise<ArmResource> {
    const identity = await getResourceOfType(
      this.#store,
      identityId,
      RESOURCE_TYPES.userAssignedIdentity,
      IDENTITY,
    );
    checkFederatedCredentialName(name);
    const properties = checkFederatedCredential(propertiesOf(input));
    // Decided on the credentials as they are at the write: two writers cannot both take the 20th place.
    return this.#store.putResourceAmong(credentialsOf(identity.id), (rows) => {
      const existing = rows.map(toFederatedCredential);
      checkCredentialFitsIdentity(name, properties, existing);
      const current = existing.find((credential) => credential.name.toLowerCase() === name.toLowerCase());
      return {
        id: current?.id ?? federatedCredentialId(identity.id, name),
        name: current?.name ?? name,
        type: RESOURCE_TYPES.federatedCredential,
        properties: { ...properties },
      };
    });
  }

  async deleteFederatedCredential(id: string): Promise<boolean> {
    return this.#store.deleteResource(id);
  }

  /** The identity's credentials, as stored (one query). */
  async listFederatedCredentials(identityId: string): Promise<ArmResource[]> {
    return this.#store.listResources(credentialsOf(identityId));
  }
}

const credentialsOf = (identityId: string): ResourceQuery => ({
  type: RESOURCE_TYPES.federatedCredential,
  under: identityId,
});
