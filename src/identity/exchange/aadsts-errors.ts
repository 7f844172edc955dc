// The AADSTS error catalogue (reference/entra.md §6 and §2.1) and the token endpoint's error body (§2.3).
// Clients match on the code; the texts follow Entra's wording so that messages users paste into a search
// engine lead somewhere useful. `{name}` marks a value substituted when the error is raised.

import { StoreUnavailableError } from "../../store/store-unavailable-error.ts";

export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "invalid_resource"
  | "invalid_scope"
  | "unsupported_grant_type"
  | "invalid_instance"
  | "server_error"
  | "temporarily_unavailable";

interface AadstsEntry {
  readonly error: OAuthErrorCode;
  readonly status: 400 | 401 | 500 | 503;
  readonly message: string;
}

const FIC_HINT =
  "Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. " +
  "https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation";
const CERTIFICATE_CREDENTIALS_DOC =
  "Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .";
const NOT_INSTALLED_HINT =
  "This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.";

export const AADSTS_CATALOGUE = {
  // Federated credential matching (§4).
  70021: {
    error: "invalid_request",
    status: 400,
    message:
      "No matching federated identity record found for presented assertion. Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{aud}'.",
  },
  700211: {
    error: "invalid_client",
    status: 401,
    message: `No matching federated identity record found for presented assertion issuer '{iss}'. ${FIC_HINT}`,
  },
  700212: {
    error: "invalid_client",
    status: 401,
    message: `No matching federated identity record found for presented assertion audience '{aud}'. ${FIC_HINT}`,
  },
  700213: {
    error: "invalid_client",
    status: 401,
    message:
      "No matching federated identity record found for presented assertion subject '{sub}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
  },
  // Entra's wording before the last sentence is unverified; the code is what clients see.
  7002138: {
    error: "invalid_client",
    status: 401,
    message:
      "No matching federated identity record found for presented assertion subject '{sub}'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison.",
  },
  70025: {
    error: "invalid_client",
    status: 401,
    message: "The client '{clientId}'({displayName}) has no configured federated identity credentials.",
  },
  // Assertion validation (§5).
  700024: {
    error: "invalid_client",
    status: 401,
    message: `Client assertion is not within its valid time range. Current time: {now}, assertion valid from {nbf}, expiry time of assertion {exp}. ${CERTIFICATE_CREDENTIALS_DOC}`,
  },
  5002738: {
    error: "invalid_client",
    status: 401,
    message:
      "Invalid JWT token. '{alg}' is not a supported signature algorithm. Supported signing algorithms are: 'RS256,RS384,RS512'",
  },
  5002723: {
    error: "invalid_client",
    status: 401,
    message:
      "Invalid JWT token. No certificate SHA-1 thumbprint, certificate SHA-256 thumbprint, nor keyId specified in token header.",
  },
  7000272: {
    error: "invalid_client",
    status: 401,
    message:
      "The certificate with identifier {kid} used to sign the federated credential could not be found in the metadata of identity provider {issuer}. Please validate that your Identity Provider's metadata exposes the key used to sign the incoming token.",
  },
  700027: { error: "invalid_client", status: 401, message: "Client assertion failed signature validation." },
  // The OAuth `error` for 50013 is unverified; it is only raised for user assertions, which wikit does not take.
  50013: {
    error: "invalid_grant",
    status: 400,
    message: "Assertion failed signature validation. [Reason - {reason}]",
  },
  900612: { error: "invalid_request", status: 400, message: "Failed to parse provider signing keys." },
  90061: { error: "invalid_request", status: 400, message: "Request to External OIDC endpoint failed." },
  50027: { error: "invalid_request", status: 400, message: "JWT token is invalid or malformed." },
  90014: {
    error: "invalid_request",
    status: 400,
    message:
      "The required field '{name}' is missing from the credential. Ensure that you have all the necessary parameters for the login request.",
  },
  700021: {
    error: "invalid_client",
    status: 401,
    message: `Client assertion application identifier doesn't match 'client_id' parameter. ${CERTIFICATE_CREDENTIALS_DOC}`,
  },
  // Entra gives no text for 700229; this wording is wikit's.
  700229: {
    error: "invalid_request",
    status: 400,
    message:
      "A managed identity can be used as a federated identity credential issuer only in app-only flows.",
  },
  // Client, tenant and request (§2.1, §6).
  700016: {
    error: "unauthorized_client",
    status: 400,
    message: `Application with identifier '{clientId}' was not found in the directory '{tenant}'. ${NOT_INSTALLED_HINT} You may have sent your authentication request to the wrong tenant.`,
  },
  7000229: {
    error: "invalid_client",
    status: 401,
    message:
      "The client application {clientId} is missing service principal in the tenant {tenant}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119",
  },
  7000112: {
    error: "unauthorized_client",
    status: 400,
    message: "Application '{clientId}'({displayName}) is disabled.",
  },
  // The metadata endpoints report 90002 with `error: "invalid_tenant"`; override `error` in the body there.
  90002: {
    error: "invalid_request",
    status: 400,
    message:
      "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.",
  },
  900023: {
    error: "invalid_request",
    status: 400,
    message:
      "Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid external domain.",
  },
  7000215: {
    error: "invalid_client",
    status: 401,
    message:
      "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{clientId}'.",
  },
  7000218: {
    error: "invalid_client",
    status: 401,
    message: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  },
  900144: {
    error: "invalid_request",
    status: 400,
    message: "The request body must contain the following parameter: '{name}'.",
  },
  901002: {
    error: "invalid_request",
    status: 400,
    message: "The 'resource' request parameter is not supported.",
  },
  1002012: {
    error: "invalid_scope",
    status: 400,
    message:
      "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
  },
  70011: {
    error: "invalid_scope",
    status: 400,
    message:
      "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid.",
  },
  500011: {
    error: "invalid_resource",
    status: 400,
    message: `The resource principal named {name} was not found in the tenant named {tenant}. ${NOT_INSTALLED_HINT} You might have sent your authentication request to the wrong tenant.`,
  },
  // Entra's text is unverified; this wording is wikit's.
  70003: {
    error: "unsupported_grant_type",
    status: 400,
    message: "The app requested an unsupported grant type '{grantType}'.",
  },
  50049: { error: "invalid_instance", status: 400, message: "Unknown or invalid instance." },
  // A fault of the service itself (a failed store, a bug): Entra's TokenIssuanceError. Clients retry a 5xx.
  50000: {
    error: "server_error",
    status: 500,
    message: "There was an error issuing a token or an issue with our sign-in service.",
  },
  // The store is out of reach for a moment (a database restart, a failover): answered with Retry-After.
  90033: {
    error: "temporarily_unavailable",
    status: 503,
    message: "A transient error has occurred. Please try again.",
  },
} as const satisfies Record<number, AadstsEntry>;

export type AadstsCode = keyof typeof AADSTS_CATALOGUE;

type Placeholders<T extends string> = T extends `${string}{${infer Name}}${infer Rest}`
  ? Name | Placeholders<Rest>
  : never;

/** The values a code's message needs, by placeholder name. */
export type AadstsParams<C extends AadstsCode> = Record<
  Placeholders<(typeof AADSTS_CATALOGUE)[C]["message"]>,
  string
>;

/** `new AadstsError(code, params?, options?)`, with `params` required exactly when the message has placeholders. */
type AadstsErrorArgs = {
  [C in AadstsCode]: [Placeholders<(typeof AADSTS_CATALOGUE)[C]["message"]>] extends [never]
    ? [code: C, params?: Record<string, never>, options?: ErrorOptions]
    : [code: C, params: AadstsParams<C>, options?: ErrorOptions];
}[AadstsCode];

/** What a failure that is not an AadstsError is answered as: the service's own fault, or a passing outage. */
export function serviceFaultOf(error: unknown): AadstsError {
  return new AadstsError(error instanceof StoreUnavailableError ? 90033 : 50000, {}, { cause: error });
}

export class AadstsError extends Error {
  declare readonly code: AadstsCode;
  declare readonly error: OAuthErrorCode;
  declare readonly status: 400 | 401 | 500 | 503;
  /** `AADSTS<code>: <text>`, the first line of `error_description`. */
  declare readonly description: string;
  /** What a person can act on, beyond Entra's text (see credential-mismatch.ts); shown only where that is safe. */
  explanation?: string;
  /** For a credential mismatch: the name of the identity's credential nearest to the token. */
  nearestCredential?: string;

  constructor(...[code, params, options]: AadstsErrorArgs) {
    const entry: AadstsEntry = AADSTS_CATALOGUE[code];
    const values: Readonly<Record<string, string>> = params ?? {};
    const text = entry.message.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? "");
    const description = `AADSTS${code}: ${text}`;
    super(description, options);
    this.name = "AadstsError";
    this.code = code;
    this.error = entry.error;
    this.status = entry.status;
    this.description = description;
  }
}

export interface TokenErrorContext {
  traceId: string;
  /** The caller's `client-request-id` when it sent one. */
  correlationId: string;
  now: Date;
  /** The complete link, e.g. `https://sts.example.test/error?code=700211`; omitted from the body when absent. */
  errorUri?: string;
  /** A line added after Entra's text, e.g. which field of the nearest credential differs. */
  explanation?: string;
}

export interface TokenErrorBody {
  error: OAuthErrorCode;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri?: string;
}

/** The JSON body Entra's token endpoint answers an error with (§2.3), members in Entra's order. */
export function tokenErrorBody(err: AadstsError, context: TokenErrorContext): TokenErrorBody {
  const timestamp = entraTimestamp(context.now);
  const body: TokenErrorBody = {
    error: err.error,
    error_description: `${err.description}${context.explanation ? `\r\n${context.explanation}` : ""}\r\nTrace ID: ${context.traceId}\r\nCorrelation ID: ${context.correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: [err.code],
    timestamp,
    trace_id: context.traceId,
    correlation_id: context.correlationId,
  };
  if (context.errorUri !== undefined) body.error_uri = context.errorUri;
  return body;
}

/** `yyyy-MM-dd HH:mm:ssZ`, the form of `timestamp` in error bodies. */
export function entraTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace("T", " ")}Z`;
}

/** `yyyy-MM-ddTHH:mm:ss.fffffffZ` (seven fraction digits, .NET's round-trip form), used in AADSTS700024. */
export function entraInstant(epochMs: number): string {
  const date = new Date(epochMs);
  const year = date.getUTCFullYear(); // NaN for an invalid date
  if (!(year >= 1 && year <= 9999)) return String(epochMs / 1000); // beyond the printable range
  return `${date.toISOString().slice(0, 23)}0000Z`;
}
