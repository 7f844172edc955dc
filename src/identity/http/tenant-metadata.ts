// Tenant discovery documents (entra.md §8.1, §8.2). The authority is the scheme + host the caller used,
// so the document's `issuer` shares host and port with it, as MSAL-node and msal-go require.

export const MULTI_TENANT_ALIASES = ["common", "organizations", "consumers"] as const;

export function isMultiTenantAlias(tenant: string): boolean {
  return (MULTI_TENANT_ALIASES as readonly string[]).includes(tenant.toLowerCase());
}

/** `GET /{tenant}/v2.0/.well-known/openid-configuration`; `tenantId` is `{tenantid}` for the aliases. */
export function v2TenantDiscovery(authority: string, tenantPath: string, tenantId: string) {
  const tenantBase = `${authority}/${tenantPath}`;
  return {
    token_endpoint: `${tenantBase}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
    jwks_uri: `${tenantBase}/discovery/v2.0/keys`,
    response_modes_supported: ["query", "fragment", "form_post"],
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
    scopes_supported: ["openid", "profile", "email", "offline_access"],
    issuer: `${authority}/${tenantId}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${authority}/oidc/userinfo`,
    authorization_endpoint: `${tenantBase}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${tenantBase}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${tenantBase}/oauth2/v2.0/logout`,
    claims_supported: [
      "sub",
      "iss",
      "aud",
      "exp",
      "iat",
      "auth_time",
      "acr",
      "nonce",
      "tid",
      "ver",
      "oid",
      "appid",
    ],
    kerberos_endpoint: `${tenantBase}/kerberos`,
    tenant_region_scope: null,
    cloud_instance_name: new URL(authority).host,
    cloud_graph_host_name: "graph.windows.net",
    msgraph_host: "graph.microsoft.com",
    rbac_url: "https://pas.windows.net",
  };
}

/** `GET /{tenant}/.well-known/openid-configuration` (v1). */
export function v1TenantDiscovery(authority: string, tenantPath: string, tenantId: string) {
  const tenantBase = `${authority}/${tenantPath}`;
  return {
    token_endpoint: `${tenantBase}/oauth2/token`,
    token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
    jwks_uri: `${authority}/common/discovery/keys`,
    response_modes_supported: ["query", "fragment", "form_post"],
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    response_types_supported: ["code", "id_token", "code id_token", "token id_token", "token"],
    scopes_supported: ["openid"],
    issuer: `https://sts.windows.net/${tenantId}/`,
    authorization_endpoint: `${tenantBase}/oauth2/authorize`,
    end_session_endpoint: `${tenantBase}/oauth2/logout`,
    cloud_instance_name: new URL(authority).host,
  };
}

/**
 * `GET /common/discovery/instance` (entra.md §8.4): the answer MSAL accepts for an authority this
 * server answers as, or undefined for any other. `authorityFor` maps the host name in
 * `authorization_endpoint` to the authority to name (msal-python drops a port from it).
 */
export function instanceDiscovery(
  authorizationEndpoint: string,
  authorityFor: (hostname: string) => string | undefined,
) {
  let url: URL;
  try {
    url = new URL(authorizationEndpoint);
  } catch {
    return undefined;
  }
  const authority = url.protocol === "https:" ? authorityFor(url.hostname.toLowerCase()) : undefined;
  if (!authority) return undefined;
  const tenant = url.pathname.split("/").filter(Boolean)[0] ?? "common";
  const host = url.host;
  return {
    tenant_discovery_endpoint: `${authority}/${tenant}/v2.0/.well-known/openid-configuration`,
    "api-version": "1.1",
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  };
}
