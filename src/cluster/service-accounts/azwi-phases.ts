// The decisions of `azwi sa create|delete` (reference/webhook.md §16.4–16.5) that `wikit serviceaccount create|delete`
// repeats: the phases and their order, `--skip-phases`, each phase's flag checks with azwi's texts, the error
// wrapping, the service account object and the federated credential. Pure: the adapters that talk to wikit's
// directory and to a Kubernetes API pass each phase's pre-run and run in, and `runPhases` orders them as azwi does.

import {
  CLIENT_ID_ANNOTATION,
  DEFAULT_TOKEN_EXPIRATION_SECONDS,
  MAX_TOKEN_EXPIRATION_SECONDS,
  MIN_TOKEN_EXPIRATION_SECONDS,
  TENANT_ID_ANNOTATION,
  TOKEN_EXPIRATION_ANNOTATION,
} from "../webhook/constants.ts";
import { azwiFederatedCredential, derivedApplicationName } from "./azwi-names.ts";
import { formatGoDuration, roundedSeconds } from "./go-duration.ts";

export const PHASES = [
  "aad-application",
  "service-account",
  "federated-identity",
  "role-assignment",
] as const;
export type PhaseName = (typeof PHASES)[number];

/** `azwi sa create` runs the phases in this order… */
export const CREATE_ORDER: readonly PhaseName[] = PHASES;
/** …and `azwi sa delete` in the reverse one. */
export const DELETE_ORDER: readonly PhaseName[] = [...PHASES].reverse();

/** The short names `phase <name>` also takes (not `--skip-phases`, which takes full names only, as azwi's). */
export const PHASE_ALIASES: Readonly<Record<PhaseName, string>> = {
  "aad-application": "app",
  "service-account": "sa",
  "federated-identity": "fi",
  "role-assignment": "ra",
};

export const CREATE_DESCRIPTIONS: Readonly<Record<PhaseName, string>> = {
  "aad-application":
    "find or create the identity: an app registration and its service principal, or a managed identity",
  "service-account":
    "create or replace the service account, annotated with the identity's client and tenant ID",
  "federated-identity":
    "let the identity trust the service account's tokens (a federated identity credential)",
  "role-assignment": "grant the identity a role at a scope",
};

export const DELETE_DESCRIPTIONS: Readonly<Record<PhaseName, string>> = {
  "role-assignment": "delete the role assignment --role-assignment-id names",
  "federated-identity": "delete the identity's federated credential for the service account",
  "service-account": "delete the service account",
  "aad-application":
    "delete the app registration (with its credentials and service principal) or managed identity",
};

/** A failure of a phase, worded as azwi words it. */
export class PhaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PhaseError";
  }
}

/** The phase a name or alias means, as `phase <name>` takes it. */
export function phaseNamed(nameOrAlias: string): PhaseName | undefined {
  return PHASES.find((phase) => phase === nameOrAlias || PHASE_ALIASES[phase] === nameOrAlias);
}

/** `--skip-phases` values as a pflag string list takes them: repeatable, each comma-separated. */
export function splitSkipPhases(values: readonly string[]): string[] {
  return values.flatMap((value) => (value === "" ? [] : value.split(",").map((part) => part.trim())));
}

/** The phases to skip; an unknown one fails with azwi's text, listing the valid names in run order. */
export function computeSkipPhases(order: readonly PhaseName[], skip: readonly string[]): Set<PhaseName> {
  const skipped = new Set<PhaseName>();
  for (const name of skip) {
    const phase = order.find((candidate) => candidate === name);
    if (phase === undefined) {
      throw new PhaseError(
        `failed to compute skip phases: phase '${name}' not found. Valid phases are: [${order.join(" ")}]`,
      );
    }
    skipped.add(phase);
  }
  return skipped;
}

/**
 * `delete` leaves the federated credential alone when the identity itself is deleted, which takes its credentials
 * with it (azwi's shortcut); a single `phase federated-identity` still runs.
 */
export function deleteSkips(skipped: Set<PhaseName>): Set<PhaseName> {
  if (skipped.has("aad-application")) return skipped;
  return new Set([...skipped, "federated-identity"]);
}

/** One phase as the adapters supply it: checks that need no I/O first, then the work, which says what it did. */
export interface PhaseSteps {
  preRun(): void | Promise<void>;
  run(): Promise<string>;
}

/**
 * Runs the phases of `order` that are not skipped: every pre-run before any run, as azwi does, so that a missing
 * flag of the last phase stops the command before the first one changes anything. `report` gets one line per phase.
 */
export async function runPhases(
  order: readonly PhaseName[],
  steps: Partial<Record<PhaseName, PhaseSteps>>,
  skipped: ReadonlySet<PhaseName>,
  report: (line: string) => void,
): Promise<void> {
  const active = order.filter((phase) => !skipped.has(phase) && steps[phase] !== undefined);
  for (const phase of order) if (!active.includes(phase) && steps[phase]) report(`${phase}: skipped`);
  for (const phase of active) {
    try {
      await steps[phase]?.preRun();
    } catch (error) {
      throw new PhaseError(`failed to run pre-run for phase ${phase}: ${(error as Error).message}`);
    }
  }
  for (const phase of active) {
    let done: string | undefined;
    try {
      done = await steps[phase]?.run();
    } catch (error) {
      throw new PhaseError(`failed to run phase ${phase}: ${(error as Error).message}`);
    }
    report(`${phase}: ${done}`);
  }
}

// ---- The identity the phases work on ------------------------------------------------------------------------

/** The identity flags of `serviceaccount create|delete`: azwi's, plus wikit's managed identity. */
export interface IdentityFlags {
  aadApplicationName?: string;
  aadApplicationObjectId?: string;
  /** `--aad-application-client-id`, alias `--client-id`. */
  aadApplicationClientId?: string;
  /** wikit's: a user-assigned managed identity instead of an app registration. */
  identityName?: string;
  resourceGroup?: string;
}

/** Where the service account lives and which issuer signs its tokens. */
export interface ServiceAccountRef {
  namespace: string;
  name: string;
  issuer: string | undefined;
}

export type IdentityChoice =
  /** An app registration by display name: given, or derived as azwi derives it. */
  | { kind: "application"; name: string; derived: boolean }
  | { kind: "application-object-id"; objectId: string }
  | { kind: "managed-identity"; name: string; resourceGroup: string }
  /** An existing app or managed identity with this client ID: looked up, never created. */
  | { kind: "client-id"; clientId: string };

/**
 * Which identity the phases work on: `--identity-name -g` (a managed identity), else `--aad-application-name`, else
 * `--aad-application-object-id`, else `--aad-application-client-id` alone (an existing identity), else the name azwi
 * derives from the namespace, name and issuer; undefined when there is none.
 */
export function chooseIdentity(flags: IdentityFlags, account: ServiceAccountRef): IdentityChoice | undefined {
  if (flags.identityName) {
    if (flags.aadApplicationName || flags.aadApplicationObjectId) {
      throw new PhaseError(
        "give --identity-name (a managed identity) or --aad-application-name/--aad-application-object-id (an app registration), not both",
      );
    }
    if (!flags.resourceGroup) {
      throw new PhaseError(
        `--identity-name needs -g/--resource-group: the group of managed identity '${flags.identityName}'`,
      );
    }
    return { kind: "managed-identity", name: flags.identityName, resourceGroup: flags.resourceGroup };
  }
  if (flags.aadApplicationName)
    return { kind: "application", name: flags.aadApplicationName, derived: false };
  if (flags.aadApplicationObjectId)
    return { kind: "application-object-id", objectId: flags.aadApplicationObjectId };
  if (flags.aadApplicationClientId) return { kind: "client-id", clientId: flags.aadApplicationClientId };
  if (account.namespace && account.name && account.issuer) {
    return {
      kind: "application",
      name: derivedApplicationName(account.namespace, account.name, account.issuer),
      derived: true,
    };
  }
  return undefined;
}

/** azwi's warning when it makes up the app's name. */
export function derivedNameWarning(name: string): string {
  return `--aad-application-name not specified, constructing name with service account namespace, name, and the hash of the issuer URL: '${name}'`;
}

// ---- Flag checks (pre-runs) ---------------------------------------------------------------------------------

export interface CreateSettings {
  account: ServiceAccountRef;
  /** `--service-account-token-expiration` in nanoseconds. */
  tokenExpiration: number;
  identity: IdentityChoice | undefined;
  servicePrincipalName?: string;
  servicePrincipalObjectId?: string;
  azureScope?: string;
  azureRole?: string;
  /** One phase alone (`create phase <name>`): no hint to skip it. */
  singlePhase: boolean;
}

export interface DeleteSettings {
  account: ServiceAccountRef;
  identity: IdentityChoice | undefined;
  roleAssignmentId?: string;
}

const required = (flag: string) => new PhaseError(`--${flag} is required`);
const oneOfRequired = (...flags: string[]) => new PhaseError(`--${flags.join(" or --")} is required`);

function checkServiceAccountNamed(account: ServiceAccountRef): void {
  if (!account.namespace) throw required("service-account-namespace");
  if (!account.name) throw required("service-account-name");
}

function checkTokenExpiration(nanoseconds: number): void {
  const min = MIN_TOKEN_EXPIRATION_SECONDS * 1e9;
  const max = MAX_TOKEN_EXPIRATION_SECONDS * 1e9;
  if (nanoseconds < min) {
    throw new PhaseError(
      `--service-account-token-expiration must be greater than or equal to ${formatGoDuration(min)}`,
    );
  }
  if (nanoseconds > max) {
    throw new PhaseError(
      `--service-account-token-expiration must be less than or equal to ${formatGoDuration(max)}`,
    );
  }
}

/** The create phases' flag checks, each throwing azwi's text. */
export const CREATE_CHECKS: Readonly<Record<PhaseName, (settings: CreateSettings) => void>> = {
  "aad-application": ({ identity }) => {
    if (identity === undefined) throw required("aad-application-name");
  },
  "service-account": ({ account, tokenExpiration }) => {
    checkServiceAccountNamed(account);
    checkTokenExpiration(tokenExpiration);
  },
  "federated-identity": ({ account, identity }) => {
    checkServiceAccountNamed(account);
    if (!account.issuer) throw required("service-account-issuer-url");
    if (identity === undefined) throw oneOfRequired("aad-application-name", "aad-application-object-id");
  },
  "role-assignment": (settings) => {
    // Unlike azwi, say how to go on without a role: most first runs have no scope yet.
    const hint = settings.singlePhase
      ? ""
      : " (to create the rest without a role assignment, add --skip-phases role-assignment)";
    if (!settings.azureScope) throw new PhaseError(`--azure-scope is required${hint}`);
    if (!settings.azureRole) throw new PhaseError(`--azure-role is required${hint}`);
    if (
      !settings.servicePrincipalName &&
      !settings.servicePrincipalObjectId &&
      settings.identity === undefined
    ) {
      throw oneOfRequired("service-principal-name", "service-principal-object-id");
    }
  },
};

/** The delete phases' flag checks, each throwing azwi's text. */
export const DELETE_CHECKS: Readonly<Record<PhaseName, (settings: DeleteSettings) => void>> = {
  "role-assignment": ({ roleAssignmentId }) => {
    if (!roleAssignmentId) throw required("role-assignment-id");
  },
  "federated-identity": ({ account, identity }) => {
    checkServiceAccountNamed(account);
    if (!account.issuer) throw required("service-account-issuer-url");
    if (identity === undefined) throw oneOfRequired("aad-application-name", "aad-application-object-id");
  },
  "service-account": ({ account }) => checkServiceAccountNamed(account),
  "aad-application": ({ identity }) => {
    if (identity === undefined) throw oneOfRequired("aad-application-name", "aad-application-object-id");
  },
};

// ---- What the phases write ----------------------------------------------------------------------------------

export interface ServiceAccountObject {
  apiVersion: "v1";
  kind: "ServiceAccount";
  metadata: { name: string; namespace: string; annotations: Record<string, string> };
}

/**
 * The service account azwi writes: the client and tenant ID, and the token expiration (whole seconds) only when it is
 * not the default hour. No labels, no other annotations: an existing service account is replaced by this object.
 * Annotations in the order an API server returns them (sorted).
 */
export function azwiServiceAccount(spec: {
  namespace: string;
  name: string;
  clientId: string;
  tenantId: string;
  tokenExpiration: number;
}): ServiceAccountObject {
  const seconds = roundedSeconds(spec.tokenExpiration);
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      annotations: {
        [CLIENT_ID_ANNOTATION]: spec.clientId,
        ...(seconds === DEFAULT_TOKEN_EXPIRATION_SECONDS
          ? {}
          : { [TOKEN_EXPIRATION_ANNOTATION]: String(seconds) }),
        [TENANT_ID_ANNOTATION]: spec.tenantId,
      },
    },
  };
}

/**
 * A managed identity's credential name from azwi's hash. ARM takes 3-120 characters of letters, digits, '-' and '_',
 * starting with a letter or digit, where Graph also takes '=' and azwi's hash may start with '-' or '_'. So: the hash
 * without its '=' padding (43 characters), and `fic` before one that starts with '-' or '_' ("fic-…", "fic_…").
 * Distinct hashes keep distinct names: a prefixed name is 46 characters, an unprefixed one 43.
 */
export function armCredentialName(azwiName: string): string {
  const unpadded = azwiName.replace(/=+$/, "");
  return /^[-_]/.test(unpadded) ? `fic${unpadded}` : unpadded;
}

/** The credential the `federated-identity` phase writes on an app (Graph) or, ARM-named, on a managed identity. */
export function phaseCredential(account: ServiceAccountRef & { issuer: string }, onManagedIdentity: boolean) {
  const credential = azwiFederatedCredential(account.namespace, account.name, account.issuer);
  return onManagedIdentity ? { ...credential, name: armCredentialName(credential.name) } : credential;
}
