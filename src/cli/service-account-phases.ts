// `wikit serviceaccount create|delete [phase <name>]`: azwi's phases (src/cluster/service-accounts/azwi-phases.ts)
// wired to the running wikit's directory (workload-identities.ts) and to a Kubernetes target: wikit up's local
// cluster (the default, `--cluster`) or a real one through a kubeconfig (`--kubeconfig`, or `--context` of KUBECONFIG's file).

import {
  azwiServiceAccount,
  CREATE_CHECKS,
  CREATE_ORDER,
  type CreateSettings,
  chooseIdentity,
  computeSkipPhases,
  DELETE_CHECKS,
  DELETE_ORDER,
  type DeleteSettings,
  deleteSkips,
  derivedNameWarning,
  type IdentityChoice,
  PhaseError,
  type PhaseName,
  type PhaseSteps,
  phaseCredential,
  runPhases,
  type ServiceAccountRef,
  splitSkipPhases,
} from "../cluster/service-accounts/azwi-phases.ts";
import { GoDurationError, parseGoDuration } from "../cluster/service-accounts/go-duration.ts";
import {
  type ServiceAccountTarget,
  ServiceAccountTargetError,
  type StoredServiceAccount,
} from "../cluster/service-accounts/service-account-target.ts";
import { resolveDataDir } from "../server/data-dir.ts";
import { CliError } from "./cli-error.ts";
import { LocalClusterTarget } from "./local-cluster-target.ts";
import { note, printResult } from "./output.ts";
import { checkClientId, listIdentities } from "./principal-lookup.ts";
import { WikitClient } from "./wikit-client.ts";
import { describeIdentity, WorkloadIdentities, type WorkloadIdentity } from "./workload-identities.ts";

/** Every flag of `serviceaccount create|delete`, merged from azwi's names and the short forms. */
export interface ServiceAccountFlags {
  dataDir?: string;
  subscription?: string;
  serviceAccountName?: string;
  serviceAccountNamespace?: string;
  serviceAccountIssuerUrl?: string;
  serviceAccountTokenExpiration?: string;
  aadApplicationName?: string;
  aadApplicationClientId?: string;
  aadApplicationObjectId?: string;
  servicePrincipalName?: string;
  servicePrincipalObjectId?: string;
  azureScope?: string;
  azureRole?: string;
  roleAssignmentId?: string;
  skipPhases?: string[];
  tenantId?: string;
  identityName?: string;
  resourceGroup?: string;
  cluster?: string;
  kubeconfig?: string;
  context?: string;
}

/** `--service-account-token-expiration` as pflag parses a duration flag, with its error text. */
export function tokenExpirationOf(value: string | undefined): number {
  if (value === undefined) return 3600e9;
  try {
    return parseGoDuration(value);
  } catch (error) {
    if (error instanceof GoDurationError) {
      throw new CliError(
        `invalid argument "${value}" for "--service-account-token-expiration" flag: ${error.message}`,
        2,
      );
    }
    throw error;
  }
}

/** What every phase shares: the connection, the directory, the target and the identity once found or made. */
class PhaseContext {
  readonly client: WikitClient;
  readonly identities: WorkloadIdentities;
  readonly flags: ServiceAccountFlags;
  readonly account: ServiceAccountRef;
  readonly choice: IdentityChoice | undefined;
  readonly #target: () => Promise<ServiceAccountTarget>;
  #identity: WorkloadIdentity | undefined;

  constructor(
    client: WikitClient,
    identities: WorkloadIdentities,
    flags: ServiceAccountFlags,
    account: ServiceAccountRef,
    choice: IdentityChoice | undefined,
    target: () => Promise<ServiceAccountTarget>,
  ) {
    this.client = client;
    this.identities = identities;
    this.flags = flags;
    this.account = account;
    this.choice = choice;
    this.#target = target;
  }

  target(): Promise<ServiceAccountTarget> {
    return this.#target();
  }

  /** Remembers the identity the aad-application phase found or made, for the phases after it. */
  settle(identity: WorkloadIdentity): void {
    this.#identity = identity;
  }

  /** The chosen identity as it exists now (nothing is created here); undefined when it does not exist. */
  async existingIdentity(): Promise<WorkloadIdentity | undefined> {
    if (this.#identity) return this.#identity;
    const choice = this.choice;
    if (choice === undefined) return undefined;
    const identities = this.identities;
    const found =
      choice.kind === "application"
        ? await identities.applicationNamed(choice.name)
        : choice.kind === "application-object-id"
          ? await identities.applicationWithObjectId(choice.objectId)
          : choice.kind === "managed-identity"
            ? await identities.managedIdentityNamed(choice.resourceGroup, choice.name)
            : await identities.withClientId(choice.clientId);
    if (found) this.#identity = found;
    return found;
  }

  /** The chosen identity, which a phase after aad-application needs: missing, it says how to get it. */
  async requiredIdentity(): Promise<WorkloadIdentity> {
    const found = await this.existingIdentity();
    if (found) return found;
    const kind = this.choice?.kind;
    const fix =
      kind === "application" || kind === "managed-identity"
        ? "run the aad-application phase first (do not skip it), which makes it"
        : "give --identity-name NAME -g GROUP or --aad-application-name NAME to have one made";
    throw new CliError(`${missingIdentity(this.choice)}; ${fix}`);
  }
}

function describeChoice(choice: IdentityChoice | undefined): string {
  switch (choice?.kind) {
    case "application":
      return `application '${choice.name}'`;
    case "application-object-id":
      return `application with object ID '${choice.objectId}'`;
    case "managed-identity":
      return `managed identity '${choice.name}' (group '${choice.resourceGroup}')`;
    case "client-id":
      return `app registration or managed identity with client ID '${choice.clientId}'`;
    default:
      return "identity";
  }
}

function missingIdentity(choice: IdentityChoice | undefined): string {
  return `no ${describeChoice(choice)} exists`;
}

/** The Kubernetes target the flags name; loaded when first needed, as azwi gets its client in a pre-run. */
async function targetFrom(
  flags: ServiceAccountFlags,
  client: WikitClient,
): Promise<{ kind: "local" | "kubeconfig"; load: () => Promise<ServiceAccountTarget> }> {
  // A real cluster only when a flag names one: a KUBECONFIG set for other work must not send writes away from
  // wikit's cluster, the default. With --context alone, the kubeconfig is KUBECONFIG's or ~/.kube/config.
  const viaKubeconfig = flags.kubeconfig !== undefined || flags.context !== undefined;
  if (flags.cluster !== undefined && (flags.kubeconfig !== undefined || flags.context !== undefined)) {
    throw new CliError(
      "give --cluster (one of wikit's local clusters) or --kubeconfig/--context (a real cluster), not both",
    );
  }
  if (viaKubeconfig) {
    let loaded: ServiceAccountTarget | undefined;
    return {
      kind: "kubeconfig",
      load: async () => {
        // The Kubernetes client loads only here: the other commands start without it.
        const { KubeConfigTarget, loadKubeConfig } = await import(
          "../cluster/service-accounts/kube-config-target.ts"
        );
        loaded ??= new KubeConfigTarget(loadKubeConfig({ file: flags.kubeconfig, context: flags.context }));
        return loaded;
      },
    };
  }
  const local = new LocalClusterTarget(client, await client.cluster(flags.cluster));
  return { kind: "local", load: async () => local };
}

/** Connection, directory, target, the service account's coordinates and the identity choice. */
async function prepare(flags: ServiceAccountFlags) {
  const client = await WikitClient.connect(resolveDataDir(flags.dataDir));
  const subscription = await client.subscriptionId(flags.subscription);
  const identities = new WorkloadIdentities(client, await client.tenantOf(subscription), subscription);
  const target = await targetFrom(flags, client);
  const issuer =
    flags.serviceAccountIssuerUrl ??
    (target.kind === "local" ? (await target.load()).issuerUrl : undefined) ??
    undefined;
  const account: ServiceAccountRef = {
    namespace: flags.serviceAccountNamespace ?? "default",
    name: flags.serviceAccountName ?? "",
    issuer: issuer || undefined,
  };
  let choice: IdentityChoice | undefined;
  try {
    choice = chooseIdentity(flags, account);
  } catch (error) {
    if (error instanceof PhaseError) throw new CliError(error.message);
    throw error;
  }
  return new PhaseContext(client, identities, flags, account, choice, target.load);
}

async function run(
  order: readonly PhaseName[],
  steps: Partial<Record<PhaseName, PhaseSteps>>,
  skipped: Set<PhaseName>,
): Promise<void> {
  try {
    await runPhases(order, steps, skipped, note);
  } catch (error) {
    if (error instanceof PhaseError) throw new CliError(error.message);
    throw error;
  }
}

function targetErrorsAsCliErrors<T>(work: () => Promise<T>): Promise<T> {
  return work().catch((error: unknown) => {
    if (error instanceof ServiceAccountTargetError) throw new CliError(error.message);
    throw error;
  });
}

/** `serviceaccount create`, or one of its phases when `single` is given. */
export async function createServiceAccount(flags: ServiceAccountFlags, single?: PhaseName): Promise<void> {
  const tokenExpiration = tokenExpirationOf(flags.serviceAccountTokenExpiration);
  const skipped = single
    ? new Set<PhaseName>()
    : computeSkipsOrFail(CREATE_ORDER, splitSkipPhases(flags.skipPhases ?? []));
  const context = await prepare(flags);
  const { account, choice, identities } = context;
  const settings: CreateSettings = {
    account,
    tokenExpiration,
    identity: choice,
    servicePrincipalName: flags.servicePrincipalName,
    servicePrincipalObjectId: flags.servicePrincipalObjectId,
    azureScope: flags.azureScope,
    azureRole: flags.azureRole,
    singlePhase: single !== undefined,
  };
  const phases = single ? [single] : CREATE_ORDER.filter((phase) => !skipped.has(phase));
  const needsIdentity =
    phases.includes("aad-application") ||
    phases.includes("federated-identity") ||
    (phases.includes("service-account") && flags.aadApplicationClientId === undefined);
  if (choice?.kind === "application" && choice.derived && needsIdentity)
    note(derivedNameWarning(choice.name));
  let written: StoredServiceAccount | undefined;

  const steps: Record<PhaseName, PhaseSteps> = {
    "aad-application": {
      preRun: () => CREATE_CHECKS["aad-application"](settings),
      run: async () => {
        if (choice === undefined) throw new CliError("no identity chosen");
        if (choice.kind === "application") {
          let app = await identities.applicationNamed(choice.name);
          const appCreated = app === undefined;
          app ??= await identities.createApplication(choice.name);
          let principalCreated = false;
          if (app.principalId === undefined) {
            app = { ...app, principalId: (await identities.createServicePrincipal(app.clientId)).id };
            principalCreated = true;
          }
          context.settle(app);
          return `${appCreated ? "created" : "found existing"} ${describeIdentity(app)}; its service principal ${principalCreated ? "created" : "already existed"} (object ID ${app.principalId})`;
        }
        if (choice.kind === "managed-identity") {
          const existing = await identities.managedIdentityNamed(choice.resourceGroup, choice.name);
          const identity =
            existing ?? (await identities.createManagedIdentity(choice.resourceGroup, choice.name));
          context.settle(identity);
          return `${existing ? "found existing" : "created"} ${describeIdentity(identity)}, principal ID ${identity.principalId}`;
        }
        // An identity named by its IDs is used as it is: nothing is created for it.
        const found = await context.existingIdentity();
        if (!found) {
          throw new CliError(
            `${missingIdentity(choice)} in tenant ${identities.tenant} (subscription ${identities.subscription}). --aad-application-client-id and --aad-application-object-id name an existing identity; to have one made, give --identity-name NAME -g GROUP (a managed identity) or --aad-application-name NAME instead. Find yours with \`wikit identity list\` or \`wikit ad app list\`.`,
          );
        }
        return `found existing ${describeIdentity(found)}`;
      },
    },
    "service-account": {
      preRun: async () => {
        CREATE_CHECKS["service-account"](settings);
        await targetErrorsAsCliErrors(() => context.target());
        if (flags.aadApplicationClientId !== undefined) {
          // The commonest mix-up, an object ID where the client ID belongs, named before anything is written.
          checkClientId(
            "--client-id",
            flags.aadApplicationClientId,
            await listIdentities(context.client, identities.subscription),
          );
        }
      },
      run: async () => {
        const target = await context.target();
        let clientId = flags.aadApplicationClientId;
        if (clientId === undefined) {
          const identity = await context.existingIdentity();
          if (identity === undefined) {
            // As azwi: the service account is still written, with an empty client ID; said out loud here.
            note(
              `warning: ${missingIdentity(choice)}, so the service account's client-id annotation is empty. Run the aad-application phase, or give --aad-application-client-id.`,
            );
          }
          clientId = identity?.clientId ?? "";
        }
        const object = azwiServiceAccount({
          namespace: account.namespace,
          name: account.name,
          clientId,
          tenantId: flags.tenantId ?? identities.tenant,
          tokenExpiration,
        });
        return targetErrorsAsCliErrors(async () => {
          if ((await target.prepareNamespace(account.namespace)) === "created") {
            note(`namespace/${account.namespace} created`);
          }
          const { object: stored, created } = await target.writeServiceAccount(object);
          written = stored;
          return `${created ? "created" : "replaced"} service account ${account.namespace}/${account.name} in ${target.description} (client ID ${clientId || "empty"})`;
        });
      },
    },
    "federated-identity": {
      preRun: () => CREATE_CHECKS["federated-identity"](settings),
      run: async () => {
        const identity = await context.requiredIdentity();
        const credential = phaseCredential(
          { ...account, issuer: account.issuer ?? "" },
          identity.kind === "managed-identity",
        );
        const { created, name } = await identities.addCredential(identity, credential);
        const what = `federated credential '${name}' on ${describeIdentity(identity)} (issuer ${credential.issuer}, subject ${credential.subject})`;
        return `${created ? "created" : "already existed:"} ${what}`;
      },
    },
    "role-assignment": {
      preRun: () => CREATE_CHECKS["role-assignment"](settings),
      run: async () => {
        const principalId = await rolePrincipal(context);
        const { created, id } = await identities.assignRole(
          flags.azureScope ?? "",
          flags.azureRole ?? "",
          principalId,
        );
        return `${created ? "created" : "already existed:"} role assignment of '${flags.azureRole}' to principal ${principalId} at ${flags.azureScope} (ID ${id})`;
      },
    },
  };
  await run(CREATE_ORDER, single ? { [single]: steps[single] } : steps, skipped);
  if (written) printResult(written, { keepKeyOrder: true });
}

/** Who the role-assignment phase grants the role to: the service principal named, else the identity's principal. */
async function rolePrincipal(context: PhaseContext): Promise<string> {
  const { flags, identities } = context;
  if (flags.servicePrincipalObjectId) return flags.servicePrincipalObjectId;
  if (flags.servicePrincipalName) {
    const found = await identities.servicePrincipalNamed(flags.servicePrincipalName);
    if (!found) {
      throw new CliError(
        `no service principal is named '${flags.servicePrincipalName}'; give --service-principal-object-id, or create it with \`wikit ad sp create --id APP_ID\``,
      );
    }
    return found.id;
  }
  const identity = await context.requiredIdentity();
  if (identity.principalId === undefined) {
    throw new CliError(
      `${describeIdentity(identity)} has no service principal in tenant ${identities.tenant}; create it with \`wikit ad sp create --id ${identity.clientId}\``,
    );
  }
  return identity.principalId;
}

function computeSkipsOrFail(order: readonly PhaseName[], skip: string[]): Set<PhaseName> {
  try {
    return computeSkipPhases(order, skip);
  } catch (error) {
    if (error instanceof PhaseError) throw new CliError(error.message);
    throw error;
  }
}

/** `serviceaccount delete`, or one of its phases when `single` is given. */
export async function deleteServiceAccount(flags: ServiceAccountFlags, single?: PhaseName): Promise<void> {
  const requested = single
    ? new Set<PhaseName>()
    : computeSkipsOrFail(DELETE_ORDER, splitSkipPhases(flags.skipPhases ?? []));
  // Deleting the identity takes its credentials along, so the whole command skips that phase (azwi's shortcut).
  const skipped = single ? requested : deleteSkips(requested);
  const context = await prepare(flags);
  const { account, choice, identities } = context;
  const settings: DeleteSettings = { account, identity: choice, roleAssignmentId: flags.roleAssignmentId };
  const phases = single ? [single] : DELETE_ORDER.filter((phase) => !skipped.has(phase));
  if (
    choice?.kind === "application" &&
    choice.derived &&
    (phases.includes("aad-application") || phases.includes("federated-identity"))
  ) {
    note(derivedNameWarning(choice.name));
  }

  const steps: Record<PhaseName, PhaseSteps> = {
    "role-assignment": {
      preRun: () => DELETE_CHECKS["role-assignment"](settings),
      run: async () => {
        const id = flags.roleAssignmentId ?? "";
        if (await identities.deleteRoleAssignment(id)) return `deleted role assignment ${id}`;
        note(`warning: role assignment not found: ${id}`);
        return `role assignment ${id} not found (already deleted)`;
      },
    },
    "federated-identity": {
      preRun: () => DELETE_CHECKS["federated-identity"](settings),
      run: async () => {
        const subject = `system:serviceaccount:${account.namespace}:${account.name}`;
        const identity = await context.existingIdentity();
        // Unlike azwi, a credential that is not there is not an error: the command can be run again after a failure.
        const credential =
          identity && (await identities.credentialFor(identity, account.issuer ?? "", subject));
        if (!identity || !credential) {
          note(
            `warning: federated identity credential not found (issuer ${account.issuer}, subject ${subject})`,
          );
          return `no federated credential for issuer ${account.issuer} and subject ${subject} on ${identity ? describeIdentity(identity) : describeChoice(choice)} (already deleted)`;
        }
        await identities.deleteCredential(identity, credential);
        return `deleted federated credential '${credential.name}' from ${describeIdentity(identity)}`;
      },
    },
    "service-account": {
      preRun: async () => {
        DELETE_CHECKS["service-account"](settings);
        await targetErrorsAsCliErrors(() => context.target());
      },
      run: async () => {
        const target = await context.target();
        const deleted = await targetErrorsAsCliErrors(() =>
          target.deleteServiceAccount(account.namespace, account.name),
        );
        if (deleted)
          return `deleted service account ${account.namespace}/${account.name} in ${target.description}`;
        note(`warning: service account not found: ${account.namespace}/${account.name}`);
        return `service account ${account.namespace}/${account.name} not found in ${target.description} (already deleted)`;
      },
    },
    "aad-application": {
      preRun: () => DELETE_CHECKS["aad-application"](settings),
      run: async () => {
        const identity = await context.existingIdentity();
        if (!identity) {
          note(`warning: ${missingIdentity(choice)}`);
          return `${describeChoice(choice)} not found (already deleted)`;
        }
        await identities.delete(identity);
        return identity.kind === "application"
          ? `deleted ${describeIdentity(identity)} with its federated credentials and service principal`
          : `deleted ${describeIdentity(identity)} with its federated credentials`;
      },
    },
  };
  await run(DELETE_ORDER, single ? { [single]: steps[single] } : steps, skipped);
}
