/** A GUID as Azure writes IDs (tenant, subscription, client, principal): 8-4-4-4-12 hexadecimal digits. */
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
