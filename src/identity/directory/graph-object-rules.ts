// The rules Microsoft Graph applies to application and service principal writes, with no I/O: which properties a
// body may set, and their types. Graph refuses a property it does not know; wikit also refuses passwords, the one
// credential kind it does not implement (its apps sign in with federated credentials or certificates).

import { isPlainObject } from "../../json/json-value.ts";
import { badRequest } from "./directory-error.ts";

export const SIGN_IN_AUDIENCES = [
  "AzureADMyOrg",
  "AzureADMultipleOrgs",
  "AzureADandPersonalMicrosoftAccount",
  "PersonalMicrosoftAccount",
] as const;

/** An app of this audience may have service principals outside its home tenant. */
export function isMultiTenant(signInAudience: unknown): boolean {
  return signInAudience !== undefined && signInAudience !== "AzureADMyOrg";
}

type Check = (name: string, value: unknown) => void;

const text =
  (maxLength: number): Check =>
  (name, value) => {
    if (typeof value !== "string" || value.length > maxLength) {
      throw invalidValue(name, `a string of at most ${maxLength} characters`);
    }
  };
const nullableText =
  (maxLength: number): Check =>
  (name, value) => {
    if (value !== null) text(maxLength)(name, value);
  };
const stringList: Check = (name, value) => {
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    throw invalidValue(name, "an array of strings");
  }
};
const boolean: Check = (name, value) => {
  if (typeof value !== "boolean") throw invalidValue(name, "true or false");
};
const object: Check = (name, value) => {
  if (value !== null && !isPlainObject(value)) throw invalidValue(name, "an object");
};
const objectList: Check = (name, value) => {
  if (!Array.isArray(value) || !value.every(isPlainObject)) throw invalidValue(name, "an array of objects");
};
const signInAudience: Check = (name, value) => {
  if (!(SIGN_IN_AUDIENCES as readonly unknown[]).includes(value)) {
    throw invalidValue(name, `one of ${SIGN_IN_AUDIENCES.join(", ")}`);
  }
};

/** Stored as given, returned as given: wikit keeps them for the tools that write them, and acts on none. */
const APPLICATION_PROPERTIES: Record<string, Check> = {
  displayName: text(256),
  signInAudience,
  identifierUris: stringList,
  description: nullableText(1024),
  notes: nullableText(1024),
  tags: stringList,
  isFallbackPublicClient: boolean,
  api: object,
  web: object,
  spa: object,
  publicClient: object,
  info: object,
  optionalClaims: object,
  appRoles: objectList,
  requiredResourceAccess: objectList,
  keyCredentials: objectList,
};

const SERVICE_PRINCIPAL_PROPERTIES: Record<string, Check> = {
  appId: text(36),
  accountEnabled: boolean,
  tags: stringList,
  notes: nullableText(1024),
  description: nullableText(1024),
};

const UNSUPPORTED_CREDENTIALS = ["passwordCredentials"];

/** The properties of an application body, checked; `displayName` is required unless `partial` (a PATCH). */
export function checkApplicationBody(body: unknown, partial: boolean): Record<string, unknown> {
  const properties = checkBody(body, "application", APPLICATION_PROPERTIES);
  if (!partial && properties.displayName === undefined) {
    throw badRequest(
      "Request_BadRequest",
      "A value is required for property 'displayName' of resource 'Application'.",
    );
  }
  return properties;
}

/** The properties of a service principal body, checked; `appId` is required unless `partial` (a PATCH). */
export function checkServicePrincipalBody(body: unknown, partial: boolean): Record<string, unknown> {
  const properties = checkBody(body, "servicePrincipal", SERVICE_PRINCIPAL_PROPERTIES);
  if (partial && properties.appId !== undefined) {
    throw badRequest("Request_BadRequest", "Property 'appId' is read-only and cannot be set.");
  }
  if (!partial && properties.appId === undefined) {
    throw badRequest(
      "Request_BadRequest",
      "A value is required for property 'appId' of resource 'ServicePrincipal'.",
    );
  }
  return properties;
}

function checkBody(body: unknown, type: string, allowed: Record<string, Check>): Record<string, unknown> {
  if (!isPlainObject(body)) throw badRequest("Request_BadRequest", "The request body must be a JSON object.");
  const properties: [string, unknown][] = [];
  for (const [name, value] of Object.entries(body)) {
    if (name.startsWith("@odata.") || name === "id") continue;
    if (UNSUPPORTED_CREDENTIALS.includes(name)) {
      if (Array.isArray(value) && value.length === 0) continue;
      throw badRequest(
        "Request_BadRequest",
        `Property '${name}' is not supported: wikit's applications sign in with federated identity credentials or certificates (keyCredentials), not passwords.`,
      );
    }
    const check = allowed[name];
    if (!check) {
      throw badRequest(
        "Request_BadRequest",
        `Property '${name}' does not exist on type 'microsoft.graph.${type}'.`,
      );
    }
    if (value !== undefined) check(name, value);
    properties.push([name, value]);
  }
  return Object.fromEntries(properties);
}

function invalidValue(name: string, expected: string) {
  return badRequest(
    "Request_BadRequest",
    `Invalid value specified for property '${name}': it must be ${expected}.`,
  );
}

/** A certificate credential as Graph stores it, from the `keyCredentials` entry a write gave. */
export interface KeyCredentialInput {
  displayName: string;
  /** The DER certificate, base64. */
  key: string;
}

/** Checks `keyCredentials` entries: verification certificates (`AsymmetricX509Cert`, usage `Verify`), each with a key. */
export function checkKeyCredentials(value: unknown): KeyCredentialInput[] {
  if (!Array.isArray(value)) throw invalidValue("keyCredentials", "an array of objects");
  return value.map((entry, index) => {
    const { type, usage, key, displayName } = (isPlainObject(entry) ? entry : {}) as Record<string, unknown>;
    if (type !== "AsymmetricX509Cert" || usage !== "Verify" || typeof key !== "string" || key === "") {
      throw badRequest(
        "Request_BadRequest",
        `keyCredentials[${index}] must be {"type": "AsymmetricX509Cert", "usage": "Verify", "key": "<base64 DER certificate>"}.`,
      );
    }
    return { displayName: typeof displayName === "string" ? displayName : "", key };
  });
}
