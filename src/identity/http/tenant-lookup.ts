import { AadstsError } from "../exchange/aadsts-errors.ts";

const TENANT_SYNTAX = /^[0-9a-zA-Z.-]+$/;

export interface TenantLookup<T extends { tenantId: string }> {
  /** A tenant by GUID or by its domain name; undefined when unknown. */
  findTenant(reference: string): Promise<T | undefined>;
}

/** The tenant a request's path names, or the AADSTS error Entra answers for a malformed or unknown one. */
export async function resolveTenant<T extends { tenantId: string }>(
  tenants: TenantLookup<T>,
  reference: string,
): Promise<T> {
  if (!TENANT_SYNTAX.test(reference)) throw new AadstsError(900023, { tenant: reference });
  const found = await tenants.findTenant(reference);
  if (!found) throw new AadstsError(90002, { tenant: reference });
  return found;
}
