/**
 * Microsoft's authority host names. SDKs that see a custom authority host ask the real one for
 * "instance discovery" first; answered by wikit, that call is instant instead of failing slowly.
 */
export const MICROSOFT_AUTHORITY_HOSTS = [
  "login.microsoftonline.com",
  "login.windows.net",
  "login.microsoft.com",
] as const;
