import { GUID } from "../../names/guid.ts";
import { badRequest } from "./directory-error.ts";

// Name rules ARM enforces for the resources wikit manages. Each check throws a DirectoryError that
// says which rule the name broke.

// ARM allows letters and digits "as defined by Char.IsLetterOrDigit", so any script's, and counts
// length in UTF-16 code units.
export function checkResourceGroupName(name: string): void {
  if (!/^[-\p{L}\p{Nd}_.()]+$/u.test(name) || name.length > 90 || name.endsWith(".")) {
    throw badRequest(
      "InvalidResourceGroup",
      `The provided resource group name '${name}' has these invalid characters or length: resource group names are 1-90 characters of letters, digits, '-', '_', '.', '(' and ')', and cannot end with '.'.`,
    );
  }
}

export function checkIdentityName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$/.test(name)) {
    throw badRequest(
      "InvalidResourceName",
      `The resource name '${name}' is invalid: user-assigned identity names are 3-128 characters of letters, digits, '-' and '_', starting with a letter or digit.`,
    );
  }
}

export function checkFederatedCredentialName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$/.test(name)) {
    throw badRequest(
      "BadRequest",
      `The federated identity credential name '${name}' is invalid: names are 3-120 characters of letters, digits, '-' and '_', starting with a letter or digit.`,
    );
  }
}

/**
 * An app registration's credential name, as Graph takes it: 3-120 URL-friendly characters. Graph is looser than ARM
 * here — azwi names the credentials it makes with a padded base64url hash (`…=`, starting with `-` or `_` one time
 * in 32), which Graph accepts.
 */
export function checkApplicationCredentialName(name: string): void {
  if (!/^[A-Za-z0-9_=-]{3,120}$/.test(name)) {
    throw badRequest(
      "BadRequest",
      `The federated identity credential name '${name}' is invalid: names are 3-120 URL-friendly characters (letters, digits, '-', '_', '=').`,
    );
  }
}

/** Vault names are DNS labels: 3-24 characters, letters, digits and single hyphens, starting with a letter. */
export function checkVaultName(name: string): void {
  if (!/^[A-Za-z](?:[A-Za-z0-9]|-(?!-)){1,22}[A-Za-z0-9]$/.test(name)) {
    throw badRequest(
      "VaultNameNotValid",
      `The vault name '${name}' is invalid. A vault's name must be between 3-24 alphanumeric characters. The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens.`,
    );
  }
}

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/** App Configuration's rule: 5-50 letters, digits and '-', global, as the name is the endpoint's host label. */
export function checkConfigurationStoreName(name: string): void {
  if (!/^[A-Za-z0-9-]{5,50}$/.test(name)) {
    throw badRequest(
      "InvalidResourceName",
      `The configuration store name '${name}' is invalid. It must be 5-50 characters long and contain only letters, digits and '-'.`,
    );
  }
}
