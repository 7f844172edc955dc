// The Bearer challenge a vault answers token-less requests with, and the `resource` it names.
// SDKs take the tenant from the `authorization` URL's path, ask their own authority for a token for
// `resource + "/.default"`, and refuse resources whose host is not a parent of the vault's host.

export interface ChallengeInput {
  /** The token service's base URL, e.g. `https://login.microsoftonline.com` or `https://localhost:8443`. */
  authorityHost: string;
  tenantId: string;
  /** The vault's resource, e.g. `https://vault.azure.net`; also the audience its tokens must carry. */
  resource: string;
}

/**
 * `Bearer authorization="{authorityHost}/{tenantId}", resource="{resource}"`. No slash after the
 * tenant: the JavaScript SDK would read the tenant as `{tenantId}/`.
 */
export function challengeHeader({ authorityHost, tenantId, resource }: ChallengeInput): string {
  return `Bearer authorization="${authorityHost.replace(/\/+$/, "")}/${tenantId}", resource="${resource}"`;
}

/**
 * The resource for a vault reached at this Host header: `https://` + the host without its first label,
 * keeping the port (`kv1.vault.example.test:8443` → `https://vault.example.test:8443`), which passes
 * the JavaScript, Python and Go checks alike. Undefined for hosts with no parent domain (`localhost`,
 * IP addresses): no SDK accepts a challenge for those without a code-level opt-out.
 */
export function vaultResourceForHost(host: string): string | undefined {
  const match = /^([^.:[\]]+)\.([^:[\]]+?)(:\d+)?$/.exec(host.trim().toLowerCase());
  if (!match?.[2]) return undefined;
  const parent = match[2];
  if (/^[\d.]+$/.test(`${match[1]}.${parent}`)) return undefined;
  return `https://${parent}${match[3] ?? ""}`;
}
