import {
  CLAIMS_EXPRESSION_LANGUAGE_VERSION,
  ClaimsExpressionError,
  parseClaimsExpression,
} from "../exchange/claims-expression.ts";
import { badRequest, conflict } from "./directory-error.ts";

/** Entra's cap on federated identity credentials per identity or application. */
export const MAX_FEDERATED_CREDENTIALS = 20;
const MAX_FIELD_LENGTH = 600;

/** Entra's flexible credential: claims a token must carry, in place of one exact subject. */
export interface ClaimsMatchingExpression {
  value: string;
  languageVersion: number;
}

/** Exactly one of `subject` and `claimsMatchingExpression` is set. */
export interface FederatedCredentialProperties {
  issuer: string;
  subject?: string;
  claimsMatchingExpression?: ClaimsMatchingExpression;
  audiences: string[];
  description?: string;
}

/** Validates a credential's properties as Entra does on write and returns them normalised. */
export function checkFederatedCredential(input: Record<string, unknown>): FederatedCredentialProperties {
  const { issuer, subject, claimsMatchingExpression, audiences, description } = input;
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
  const expression = claimsMatchingExpressionOf(claimsMatchingExpression);
  if (expression !== undefined && subject !== undefined && subject !== null && subject !== "") {
    throw badRequest(
      "BadRequest",
      "The federated identity credential has both a 'subject' and a 'claimsMatchingExpression'; give one of them.",
    );
  }
  if (expression === undefined && (typeof subject !== "string" || subject.trim().length === 0)) {
    throw badRequest(
      "BadRequest",
      "The federated identity credential needs a 'subject', e.g. system:serviceaccount:<namespace>:<name>, or a 'claimsMatchingExpression'.",
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
    ["subject", typeof subject === "string" ? subject : ""],
    ["audience", audiences[0]],
  ] as const) {
    if (value.length > MAX_FIELD_LENGTH) {
      throw badRequest("BadRequest", `The ${field} is longer than ${MAX_FIELD_LENGTH} characters.`);
    }
  }
  if (description !== undefined && typeof description !== "string") {
    throw badRequest("BadRequest", "The 'description' must be a string.");
  }
  return {
    issuer,
    ...(expression === undefined ? { subject: subject as string } : { claimsMatchingExpression: expression }),
    audiences: [audiences[0]],
    ...(description ? { description } : {}),
  };
}

/** A well-formed expression of a language version wikit reads, or undefined when none is given. */
function claimsMatchingExpressionOf(input: unknown): ClaimsMatchingExpression | undefined {
  if (input === undefined || input === null) return undefined;
  const { value, languageVersion } = (typeof input === "object" ? input : {}) as Record<string, unknown>;
  if (typeof value !== "string" || languageVersion !== CLAIMS_EXPRESSION_LANGUAGE_VERSION) {
    throw badRequest(
      "BadRequest",
      `'claimsMatchingExpression' must be {"value": "<expression>", "languageVersion": ${CLAIMS_EXPRESSION_LANGUAGE_VERSION}}, e.g. {"value": "claims['sub'] matches 'system:serviceaccount:team-a:*'", "languageVersion": 1}.`,
    );
  }
  try {
    parseClaimsExpression(value);
  } catch (error) {
    if (error instanceof ClaimsExpressionError) {
      throw badRequest("BadRequest", `The claims-matching expression is not valid ${error.message}.`);
    }
    throw error;
  }
  return { value, languageVersion };
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
  const matcher = (properties: FederatedCredentialProperties) =>
    properties.subject ?? properties.claimsMatchingExpression?.value;
  const twin = others.find(
    (credential) =>
      credential.properties.issuer === candidate.issuer &&
      matcher(credential.properties) === matcher(candidate) &&
      (credential.properties.subject === undefined) === (candidate.subject === undefined),
  );
  if (twin) {
    const what =
      candidate.subject !== undefined
        ? `subject '${candidate.subject}'`
        : `claims-matching expression '${candidate.claimsMatchingExpression?.value}'`;
    throw conflict(
      "Conflict",
      `Federated identity credential '${twin.name}' already has issuer '${candidate.issuer}' and ${what}; the combination of issuer and subject must be unique on an identity.`,
    );
  }
}
