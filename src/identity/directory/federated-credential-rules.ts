import { badRequest, conflict } from "./directory-error.ts";

/** Entra's cap on federated identity credentials per identity or application. */
export const MAX_FEDERATED_CREDENTIALS = 20;
const MAX_FIELD_LENGTH = 600;

export interface FederatedCredentialProperties {
  issuer: string;
  subject: string;
  audiences: string[];
  description?: string;
}

/** Validates a credential's properties as Entra does on write and returns them normalised. */
export function checkFederatedCredential(input: Record<string, unknown>): FederatedCredentialProperties {
  const { issuer, subject, audiences, description } = input;
  if (typeof issuer !== "string" || issuer.length === 0) {
    throw badRequest(
      "BadRequest",
      "The federated identity credential needs an 'issuer': the HTTPS URL of the token issuer.",
    );
  }
  if (issuer !== issuer.trim()) {
    throw badRequest(
      "BadRequest",
      `The issuer '${issuer}' has leading or trailing whitespace; issuers are matched exactly, so it would never match.`,
    );
  }
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw badRequest("BadRequest", `The issuer '${issuer}' is not a valid URL; it must be an HTTPS URL.`);
  }
  if (url.protocol !== "https:") {
    throw badRequest("BadRequest", `The issuer '${issuer}' must use https.`);
  }
  if (typeof subject !== "string" || subject.trim().length === 0) {
    throw badRequest(
      "BadRequest",
      "The federated identity credential needs a 'subject', e.g. system:serviceaccount:<namespace>:<name>.",
    );
  }
  if (
    !Array.isArray(audiences) ||
    audiences.length !== 1 ||
    typeof audiences[0] !== "string" ||
    !audiences[0]
  ) {
    throw badRequest(
      "BadRequest",
      "The federated identity credential needs 'audiences' with exactly one value, usually api://AzureADTokenExchange.",
    );
  }
  for (const [field, value] of [
    ["issuer", issuer],
    ["subject", subject],
    ["audience", audiences[0]],
  ] as const) {
    if (value.length > MAX_FIELD_LENGTH) {
      throw badRequest("BadRequest", `The ${field} is longer than ${MAX_FIELD_LENGTH} characters.`);
    }
  }
  if (description !== undefined && typeof description !== "string") {
    throw badRequest("BadRequest", "The 'description' must be a string.");
  }
  return { issuer, subject, audiences: [audiences[0]], ...(description ? { description } : {}) };
}

/** The write-time rules that involve the identity's other credentials: the cap and issuer+subject uniqueness. */
export function checkCredentialFitsIdentity(
  name: string,
  candidate: FederatedCredentialProperties,
  existing: readonly { name: string; properties: FederatedCredentialProperties }[],
): void {
  const others = existing.filter((credential) => credential.name.toLowerCase() !== name.toLowerCase());
  if (others.length >= MAX_FEDERATED_CREDENTIALS) {
    throw badRequest(
      "BadRequest",
      `The identity already has ${MAX_FEDERATED_CREDENTIALS} federated identity credentials, the most allowed. Delete one first.`,
    );
  }
  const twin = others.find(
    (credential) =>
      credential.properties.issuer === candidate.issuer &&
      credential.properties.subject === candidate.subject,
  );
  if (twin) {
    throw conflict(
      "Conflict",
      `Federated identity credential '${twin.name}' already has issuer '${candidate.issuer}' and subject '${candidate.subject}'; the combination of issuer and subject must be unique on an identity.`,
    );
  }
}
