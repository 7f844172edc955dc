import { spawnSync } from "node:child_process";

// Walkthrough W3 (a pod reads a Key Vault secret with workload identity) as `wikit` commands, shared by
// `wikit demo`, the compatibility tests and the benchmarks so that all three follow the same journey.

/** Runs one `wikit` command (arguments after `wikit`) and returns its parsed JSON output. */
export type RunWikit = (args: string[]) => unknown;

export interface FederatedIdentityPlan {
  group: string;
  identity: string;
  namespace: string;
  serviceAccount: string;
  /** The cluster's issuer URL, from `wikit cluster show`. */
  issuer: string;
  /** Service account the federated credential trusts (default: `serviceAccount`). */
  trustedServiceAccount?: string;
}

export interface CreatedIdentity {
  id: string;
  clientId: string;
  principalId: string;
}

/** An identity trusting one service account of the cluster, and that service account pointing at it. */
export function createFederatedIdentity(run: RunWikit, plan: FederatedIdentityPlan): CreatedIdentity {
  const identity = run([
    "identity",
    "create",
    "--resource-group",
    plan.group,
    "--name",
    plan.identity,
  ]) as CreatedIdentity;
  run([
    "serviceaccount",
    "create",
    "phase",
    "service-account",
    "--namespace",
    plan.namespace,
    "--name",
    plan.serviceAccount,
    "--client-id",
    identity.clientId,
  ]);
  run([
    "identity",
    "federated-credential",
    "create",
    "--name",
    `${plan.identity}-${plan.namespace}`,
    "--identity-name",
    plan.identity,
    "--resource-group",
    plan.group,
    "--issuer",
    plan.issuer,
    "--subject",
    `system:serviceaccount:${plan.namespace}:${plan.trustedServiceAccount ?? plan.serviceAccount}`,
    "--audiences",
    "api://AzureADTokenExchange",
  ]);
  return identity;
}

export interface VaultPlan {
  group: string;
  vault: string;
  secret: string;
  value: string;
  /** Principal granted Key Vault Secrets User on the vault, unless it already has an assignment there. */
  readerPrincipalId: string;
}

export interface CreatedVault {
  id: string;
  name: string;
  properties: { vaultUri: string };
}

/** A vault holding one secret, readable by the reader. */
export function createVaultWithSecret(run: RunWikit, plan: VaultPlan): CreatedVault {
  const vault = run([
    "keyvault",
    "create",
    "--resource-group",
    plan.group,
    "--name",
    plan.vault,
  ]) as CreatedVault;
  run([
    "keyvault",
    "secret",
    "set",
    "--vault-name",
    plan.vault,
    "--name",
    plan.secret,
    "--value",
    plan.value,
  ]);
  const existing = run([
    "role",
    "assignment",
    "list",
    "--assignee",
    plan.readerPrincipalId,
    "--scope",
    vault.id,
  ]) as unknown[];
  if (existing.length === 0) {
    run([
      "role",
      "assignment",
      "create",
      "--role",
      "Key Vault Secrets User",
      "--assignee-object-id",
      plan.readerPrincipalId,
      "--scope",
      vault.id,
    ]);
  }
  return vault;
}

/** `wikit run` arguments for an app reading the secret as the service account's pod would. */
export function runAppArgs(
  namespace: string,
  serviceAccount: string,
  vaultUrl: string,
  secret: string,
  command: string[],
): string[] {
  return [
    "run",
    "--namespace",
    namespace,
    "--service-account",
    serviceAccount,
    "--env",
    `KEYVAULT_URL=${vaultUrl}`,
    "--env",
    `SECRET_NAME=${secret}`,
    "--",
    ...command,
  ];
}

/** The first Python that has the Azure SDK for Python (Debian's python3-azure, or the same from PyPI). */
export function pythonWithAzure(): string | undefined {
  for (const candidate of ["/usr/bin/python3", "python3"]) {
    const probe = spawnSync(candidate, ["-c", "import azure.identity, azure.keyvault.secrets"], {
      stdio: "ignore",
    });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}
