/**
 * Microsoft's authority host names. SDKs that see a custom authority host ask the real one for
 * "instance discovery" first; answered by wikit, that call is instant instead of failing slowly.
 */
export const MICROSOFT_AUTHORITY_HOSTS = [
  "login.microsoftonline.com",
  "login.windows.net",
  "login.microsoft.com",
] as const;

/** Azure Resource Manager as az names it when it signs in and asks for tokens. */
export const AZURE_RESOURCE_MANAGER = "https://management.core.windows.net/";

/** Microsoft's resource identifiers that wikit issues tokens for: Key Vault and ARM, as clients name them. */
export const MICROSOFT_RESOURCES = [
  "https://vault.azure.net",
  AZURE_RESOURCE_MANAGER,
  "https://management.azure.com/",
] as const;
