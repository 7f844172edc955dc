import { randomUUID } from "node:crypto";
import { RESOURCE_TYPES, subscriptionId, tenantId } from "../../names/arm-resource-ids.ts";
import type { Store } from "../../store/store.ts";
import { notFound } from "./directory-error.ts";
import { type Subscription, type Tenant, toSubscription, toTenant } from "./directory-rows.ts";
import { isGuid } from "./naming-rules.ts";

/** Tenants and their subscriptions: made once on first start, read by everything else. */
export class Tenants {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Creates the default tenant and subscription on first start; returns them on every start. */
  async ensureDefaults(): Promise<{ tenant: Tenant; subscription: Subscription }> {
    let tenantGuid = await this.#store.getSetting("default.tenant");
    let subscriptionGuid = await this.#store.getSetting("default.subscription");
    if (!tenantGuid || !subscriptionGuid) {
      tenantGuid = randomUUID();
      subscriptionGuid = randomUUID();
      await this.#store.putResource({
        id: tenantId(tenantGuid),
        name: tenantGuid,
        type: RESOURCE_TYPES.tenant,
        properties: { tenantId: tenantGuid, displayName: "wikit", defaultDomain: "wikit.localhost" },
      });
      await this.#store.putResource({
        id: subscriptionId(subscriptionGuid),
        name: subscriptionGuid,
        type: RESOURCE_TYPES.subscription,
        properties: {
          subscriptionId: subscriptionGuid,
          tenantId: tenantGuid,
          displayName: "wikit",
          state: "Enabled",
        },
      });
      await this.#store.putSetting("default.tenant", tenantGuid);
      await this.#store.putSetting("default.subscription", subscriptionGuid);
    }
    const tenant = await this.findTenant(tenantGuid);
    const subscription = await this.getSubscription(subscriptionGuid);
    if (!tenant) throw new Error("the default tenant is missing from the store");
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
