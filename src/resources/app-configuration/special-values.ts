// The key-values whose content type gives them a meaning to the providers: Key Vault references and feature flags.
// The store keeps and serves them as any other key-value; the provider resolves a reference, with the workload's
// own identity, at the vault. Without I/O.

export const KEY_VAULT_REFERENCE_CONTENT_TYPE =
  "application/vnd.microsoft.appconfig.keyvaultref+json;charset=utf-8";
export const FEATURE_FLAG_CONTENT_TYPE = "application/vnd.microsoft.appconfig.ff+json;charset=utf-8";
/** Feature flags are key-values under this prefix, named by the flag's ID. */
export const FEATURE_FLAG_PREFIX = ".appconfig.featureflag/";

/** The value of a Key Vault reference to a secret (its identifier: `https://{vault}/secrets/{name}[/{version}]`). */
export function keyVaultReferenceValue(secretId: string): string {
  const url = URL.parse(secretId);
  if (url?.protocol !== "https:" || !/^\/secrets\/[^/]+(\/[^/]+)?\/?$/.test(url.pathname)) {
    throw new Error(
      `'${secretId}' is not a secret identifier such as https://myvault.vault.localhost:8443/secrets/name`,
    );
  }
  return JSON.stringify({ uri: secretId });
}

/** Whether a content type is a Key Vault reference's (media type compared case-insensitively, parameters ignored). */
export const isKeyVaultReference = (contentType: string | null): boolean =>
  mediaType(contentType) === mediaType(KEY_VAULT_REFERENCE_CONTENT_TYPE);

export const isFeatureFlag = (key: string, contentType: string | null): boolean =>
  key.startsWith(FEATURE_FLAG_PREFIX) && mediaType(contentType) === mediaType(FEATURE_FLAG_CONTENT_TYPE);

function mediaType(contentType: string | null): string {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

export interface FeatureFlag {
  id: string;
  enabled: boolean;
  description?: string;
}

/** A feature flag's key-value: its key under the prefix, its content type, and its JSON (no client filters). */
export function featureFlagKeyValue(flag: FeatureFlag): { key: string; contentType: string; value: string } {
  if (flag.id === "" || flag.id.includes("%") || flag.id.includes(":")) {
    throw new Error(
      `'${flag.id}' is not a feature flag ID: it must be non-empty and hold neither '%' nor ':'`,
    );
  }
  return {
    key: `${FEATURE_FLAG_PREFIX}${flag.id}`,
    contentType: FEATURE_FLAG_CONTENT_TYPE,
    value: JSON.stringify({
      id: flag.id,
      description: flag.description ?? "",
      enabled: flag.enabled,
      conditions: { client_filters: [] },
    }),
  };
}
