// Walkthrough W2 against a real `wikit up`: the cluster in tenant A (wikit's default, `aks create`), the identity and the vault in
// tenant B (`wikit tenant create`), set up with the walkthrough's az lines as wikit commands, and an unmodified app
// inside `wikit run` reading B's secret because its pod names tenant B. Then the same with a multi-tenant app
// registration of tenant A used in tenant B through its service principal there, and the errors Entra gives when the
// tenant, the app or its service principal is wrong.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runAppArgs } from "../../src/cli/walkthrough.ts";
import { readServerInfo, type ServerInfo } from "../../src/server/data-dir.ts";
import { httpsRequest, newDataDir, pythonWithAzure, repoRoot, wikit, wikitOk } from "./local-stack.ts";

const jsApp = join(repoRoot, "examples", "js", "read-secret.mjs");
const pyApp = join(repoRoot, "examples", "python", "read_secret.py");
const python = pythonWithAzure();
const SECRET_VALUE = `tenant-b-${randomUUID()}`;

/** A form POST to the running server, trusting its CA. */
async function postForm(info: ServerInfo, path: string, form: Record<string, string>) {
  const ca = await readFile(info.caFile, "utf8");
  return httpsRequest(`https://localhost:${info.port}${path}`, {
    ca,
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
}

describe("W2: cluster in tenant A, identity and vault in tenant B", { timeout: 600_000 }, () => {
  const dataDir = newDataDir();
  const vault = `kv-${randomUUID().slice(0, 8)}`;
  let vaultUrl = "";
  let tenantA = "";
  let tenantB = "";
  let clientId = "";
  let oidcIssuerUrl = "";

  /** A wikit command line (arguments split at spaces) that must succeed; its stdout without the trailing newline. */
  const wk = (line: string) => ok(line.split(" "));
  /** A wikit command that must succeed; its stdout without the trailing newline. */
  const ok = (args: string[]) => wikitOk(dataDir, args);
  /** `role assignment create --role "Key Vault Secrets User"`: the one role whose name has spaces. */
  const grantSecretsUser = (assignee: string, scope: string, ...output: string[]) =>
    ok([
      "role",
      "assignment",
      "create",
      "--role",
      "Key Vault Secrets User",
      "--assignee",
      assignee,
      "--scope",
      scope,
      ...output,
    ]);
  const runApp = (serviceAccount: string, command: string[], env: string[] = []) =>
    wikit(
      dataDir,
      runAppArgs("default", serviceAccount, vaultUrl, "my-secret", command).flatMap((arg) =>
        arg === "--" ? [...env.flatMap((pair) => ["--env", pair]), "--"] : [arg],
      ),
    );

  before(() => {
    wk(`up --port 0 --detach`);
    tenantA = wk(`account show --query tenantId -o tsv`);
    // 1. Tenant A: the cluster and its issuer; it becomes the current cluster of serviceaccount and run.
    wk(`group create -n rg-wi-demo -o none`);
    wk(
      `aks create --name aks-wi-demo --resource-group rg-wi-demo --enable-oidc-issuer --enable-workload-identity -o none`,
    );
    oidcIssuerUrl = wk(`aks show -n aks-wi-demo -g rg-wi-demo --query oidcIssuerProfile.issuerUrl -o tsv`);
    assert.notEqual(
      oidcIssuerUrl,
      wk(`aks show -n local -g wikit --query oidcIssuerProfile.issuerUrl -o tsv`),
    );
    wk(`aks get-credentials -n aks-wi-demo -g rg-wi-demo`);
    // 2. Tenant B: the identity, Reader on the subscription, the federated credential naming A's issuer.
    tenantB = wk(`tenant create -n fabrikam --query tenantId -o tsv`);
    wk(`account set -s fabrikam`);
    assert.equal(wk(`account show --query tenantId -o tsv`), tenantB);
    wk(`group create -n rg-wi-demo -o none`);
    clientId = wk(`identity create --name mi-wi-demo --resource-group rg-wi-demo --query clientId -o tsv`);
    const principalId = wk(`identity show -n mi-wi-demo -g rg-wi-demo --query principalId -o tsv`);
    const subscriptionId = wk(`account show --query id -o tsv`);
    wk(
      `role assignment create --role Reader --assignee ${principalId} --scope /subscriptions/${subscriptionId} -o none`,
    );
    wk(
      `identity federated-credential create --name fc-wi-demo --identity-name mi-wi-demo --resource-group rg-wi-demo --issuer ${oidcIssuerUrl} --subject system:serviceaccount:default:wi-demo-account -o none`,
    );
    // What the app reads: a vault of tenant B.
    const vaultId = wk(`keyvault create -g rg-wi-demo -n ${vault} --query id -o tsv`);
    vaultUrl = wk(`keyvault show -g rg-wi-demo -n ${vault} --query properties.vaultUri -o tsv`);
    wk(`keyvault secret set --vault-name ${vault} --name my-secret --value ${SECRET_VALUE} -o none`);
    grantSecretsUser(principalId, vaultId, "-o", "none");
    // 3. Tenant A: the service account, annotated with B's identity.
    wk(`account set -s wikit`);
    wk(
      `serviceaccount create phase service-account --namespace default --name wi-demo-account --client-id ${clientId} --cluster aks-wi-demo -o none`,
    );
  });
  after(() => {
    wikit(dataDir, ["down"]);
  });

  test("the pod's own AZURE_TENANT_ID names tenant B: the webhook keeps it, and the app reads B's secret", () => {
    const result = runApp("wi-demo-account", [process.execPath, jsApp], [`AZURE_TENANT_ID=${tenantB}`]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`successfully got secret, secret=${SECRET_VALUE}`));
  });

  test("the same through the service account's tenant-id annotation, with Debian's Python SDK too", (t) => {
    wk(
      `serviceaccount create phase service-account --namespace default --name wi-demo-annotated --client-id ${clientId} --tenant-id ${tenantB} -o none`,
    );
    wk(`account set -s fabrikam`);
    wk(
      `identity federated-credential create --name fc-annotated --identity-name mi-wi-demo --resource-group rg-wi-demo --issuer ${oidcIssuerUrl} --subject system:serviceaccount:default:wi-demo-annotated -o none`,
    );
    wk(`account set -s wikit`);
    const js = runApp("wi-demo-annotated", [process.execPath, jsApp]);
    assert.equal(js.status, 0, js.stderr);
    assert.match(js.stdout, new RegExp(SECRET_VALUE));
    if (!python) {
      assert.ok(!process.env.CI, "CI must install python3-azure");
      t.skip("python3-azure is not installed");
      return;
    }
    const py = runApp("wi-demo-annotated", [python, pyApp]);
    assert.equal(py.status, 0, py.stderr);
    assert.match(py.stdout, new RegExp(SECRET_VALUE));
  });

  test("without the pod naming tenant B, the request goes to tenant A, where B's identity is unknown: AADSTS700016", () => {
    const result = runApp("wi-demo-account", [process.execPath, jsApp]);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /AADSTS700016/);
    assert.match(
      result.stderr,
      new RegExp(`Application with identifier '${clientId}' was not found in the directory`),
    );
  });

  test("a tenant that does not exist: msal-node stops at tenant discovery, the token endpoint answers AADSTS90002", async () => {
    const unknown = randomUUID();
    const result = runApp(
      "wi-demo-account",
      [process.execPath, join(repoRoot, "test", "compat", "apps", "token-exchange.mjs"), "workload-env"],
      [`AZURE_TENANT_ID=${unknown}`, "SCOPE=https://vault.azure.net/.default"],
    );
    assert.notEqual(result.status, 0);
    assert.match(result.stdout, /endpoints_resolution_error/);
    const info = await readServerInfo(dataDir);
    assert.ok(info);
    const answer = await postForm(info, `/${unknown}/oauth2/v2.0/token`, {
      grant_type: "client_credentials",
      client_id: clientId,
      scope: "https://vault.azure.net/.default",
    });
    assert.equal(answer.status, 400);
    assert.match(answer.body, /AADSTS90002: Tenant '[0-9a-f-]{36}' not found/);
  });

  test("a multi-tenant app of tenant A reads B's secret through its service principal in B; without it, 700016 and 7000229", () => {
    // Tenant A: the app registration and its federated credential (Graph-shaped, --parameters as JSON text).
    const appId = wk(
      `ad app create --display-name wi-shared --sign-in-audience AzureADMultipleOrgs --query appId -o tsv`,
    );
    const parameters = JSON.stringify({
      name: "aks-wi-shared",
      issuer: oidcIssuerUrl,
      subject: "system:serviceaccount:default:wi-app-account",
      audiences: ["api://AzureADTokenExchange"],
    });
    wk(`ad app federated-credential create --id ${appId} --parameters ${parameters} -o none`);
    wk(
      `serviceaccount create phase service-account --namespace default --name wi-app-account --client-id ${appId} -o none`,
    );
    const inB = [`AZURE_TENANT_ID=${tenantB}`];

    const noPrincipalInB = runApp("wi-app-account", [process.execPath, jsApp], inB);
    assert.notEqual(noPrincipalInB.status, 0);
    assert.match(noPrincipalInB.stderr, /AADSTS700016/);
    const noPrincipalAtHome = runApp("wi-app-account", [process.execPath, jsApp]);
    assert.notEqual(noPrincipalAtHome.status, 0);
    assert.match(noPrincipalAtHome.stderr, /AADSTS7000229/);

    // Tenant B: the app's service principal, granted the vault by app ID as az's --assignee takes it.
    wk(`account set -s fabrikam`);
    const servicePrincipal = wk(`ad sp create --id ${appId} --query id -o tsv`);
    assert.equal(wk(`ad sp show --id ${appId} --query appOwnerOrganizationId -o tsv`), tenantA);
    const vaultId = wk(`keyvault show -g rg-wi-demo -n ${vault} --query id -o tsv`);
    const assigned = grantSecretsUser(appId, vaultId, "--query", "principalId", "-o", "tsv");
    assert.equal(assigned, servicePrincipal);
    wk(`account set -s wikit`);

    const result = runApp("wi-app-account", [process.execPath, jsApp], inB);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, new RegExp(SECRET_VALUE));
  });
});
