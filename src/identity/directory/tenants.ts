import { randomUUID } from "node:crypto";
import { RESOURCE_TYPES, subscriptionId, tenantId } from "../../names/arm-resource-ids.ts";
import type { Store } from "../../store/store.ts";
import { badRequest, conflict, notFound } from "./directory-error.ts";
import { type Subscription, type Tenant, toSubscription, toTenant } from "./directory-rows.ts";
import { isGuid } from "./naming-rules.ts";

/** Tenants and their subscriptions: the default pair made on first start, more made by `tenant create`. */
export class Tenants {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Creates the default tenant and subscription on first start; returns them on every start. */
  async ensureDefaults(): Promise<{ tenant: Tenant; subscription: Subscription }> {
    const tenantGuid = await this.#store.getSetting("default.tenant");
    const subscriptionGuid = await this.#store.getSetting("default.subscription");
    if (!tenantGuid || !subscriptionGuid) {
      const made = await this.#createPair("wikit", "wikit.localhost");
      await this.#store.putSetting("default.tenant", made.tenant.tenantId);
      await this.#store.putSetting("default.subscription", made.subscription.subscriptionId);
      return made;
    }
    const tenant = await this.findTenant(tenantGuid);
    if (!tenant) throw new Error("the default tenant is missing from the store");
    return { tenant, subscription: await this.getSubscription(subscriptionGuid) };
  }

  /**
   * A new tenant with one subscription of the same name, as a second directory for cross-tenant setups. Its domain
   * (what token requests may name instead of the ID) defaults to `{name}.localhost`.
   */
  async create(
    displayName: string,
    domain?: string,
  ): Promise<{ tenant: Tenant; subscription: Subscription }> {
    checkTenantName(displayName);
    const defaultDomain = (domain ?? `${displayName}.localhost`).toLowerCase();
    checkDomainName(defaultDomain);
    if (await this.findTenant(defaultDomain)) {
      throw conflict("TenantDomainInUse", `The domain '${defaultDomain}' already belongs to a tenant.`);
    }
    return this.#createPair(displayName, defaultDomain);
  }

  async listTenants(): Promise<Tenant[]> {
    const all = await this.#store.listResources({ type: RESOURCE_TYPES.tenant });
    return all.map(toTenant);
  }

  async #createPair(displayName: string, defaultDomain: string) {
    const tenant: Tenant = { tenantId: randomUUID(), displayName, defaultDomain };
    const subscription: Subscription = {
      subscriptionId: randomUUID(),
      tenantId: tenant.tenantId,
      displayName,
      state: "Enabled",
    };
    await this.#store.putResource({
      id: tenantId(tenant.tenantId),
      name: tenant.tenantId,
      type: RESOURCE_TYPES.tenant,
      properties: { ...tenant },
    });
    await this.#store.putResource({
      id: subscriptionId(subscription.subscriptionId),
      name: subscription.subscriptionId,
      type: RESOURCE_TYPES.subscription,
      properties: { ...subscription },
    });
    return { tenant, subscription };
  }

  /** A tenant by GUID or by its domain name; undefined when unknown. */
  async findTenant(reference: string): Promise<Tenant | undefined> {
    if (isGuid(reference)) {
      const found = await this.#store.getResource(tenantId(reference));
      return found && toTenant(found);
    }
    const [byDomain] = await this.#store.listResources({
      type: RESOURCE_TYPES.tenant,
      property: { name: "defaultDomain", value: reference.toLowerCase() },
    });
    return byDomain && toTenant(byDomain);
  }

  async listSubscriptions(): Promise<Subscription[]> {
    const all = await this.#store.listResources({ type: RESOURCE_TYPES.subscription });
    return all.map(toSubscription);
  }

  async getSubscription(subscription: string): Promise<Subscription> {
    const found = await this.#store.getResource(subscriptionId(subscription));
    if (!found) {
      throw notFound("SubscriptionNotFound", `The subscription '${subscription}' could not be found.`);
    }
    return toSubscription(found);
  }
}

function checkTenantName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/.test(name)) {
    throw badRequest(
      "InvalidTenantName",
      `The tenant name '${name}' is invalid: 1-63 letters, digits and '-', starting with a letter or digit.`,
    );
  }
}

function checkDomainName(domain: string): void {
  if (
    !/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/.test(
      domain,
    )
  ) {
    throw badRequest(
      "InvalidDomainName",
      `The domain '${domain}' is not a valid DNS name, e.g. contoso.localhost.`,
    );
  }
}
