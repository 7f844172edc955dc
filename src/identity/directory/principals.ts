import type { AppRegistrations } from "./app-registrations.ts";
import type { PrincipalSearch } from "./directory-rows.ts";
import type { Identities } from "./identities.ts";

/**
 * Everything that signs in and holds roles: user-assigned identities and app registrations' service principals.
 * Their client IDs and object IDs are GUIDs from one space, so a lookup tries each kind in turn.
 */
export class Principals {
  readonly #identities: Identities;
  readonly #apps: AppRegistrations;

  constructor(identities: Identities, apps: AppRegistrations) {
    this.#identities = identities;
    this.#apps = apps;
  }

  /** The principal a token request names by `client_id`, as it signs in to the tenant its URL names. */
  async findFederatedPrincipal(tenantId: string, clientId: string): Promise<PrincipalSearch> {
    const identity = await this.#identities.findFederatedPrincipal(tenantId, clientId);
    if (identity) return { principal: identity };
    return this.#apps.findFederatedPrincipal(tenantId, clientId);
  }

  /** Whether a principal with this object ID exists in the tenant: what a role assignment may name. */
  async principalExists(principalId: string, tenantId: string): Promise<boolean> {
    return (
      (await this.#identities.principalExists(principalId, tenantId)) ||
      (await this.#apps.servicePrincipalExists(principalId, tenantId))
    );
  }
}
