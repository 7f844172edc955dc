// The Azure CLI itself (Debian's azure-cli) against a real `wikit up`, inside a `wikit run` pod: `az cloud register`
// with wikit's endpoints, `az login --service-principal --federated-token` (the exchange, then ARM's subscription
// list on the token it got), `az account get-access-token`, a Reader's `az group list` and refused `az group
// create`, `az rest` reading a Key Vault secret, and `az ad app|sp` and an app's federated credential through wikit's
// Graph-shaped directory (refused to a Reader, allowed to a Contributor).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { cliEntry, newDataDir, repoRoot } from "./local-stack.ts";

const execFileAsync = promisify(execFile);
const AZ = "/usr/bin/az";

test("the Azure CLI is here wherever CI runs", (t) => {
  if (existsSync(AZ)) return;
  assert.ok(!process.env.CI, "CI must install Debian's azure-cli");
  t.skip("Debian's azure-cli is not installed");
});

describe("the Azure CLI against wikit up", {
  skip: !existsSync(AZ) && "Debian's azure-cli is not installed",
  timeout: 300_000,
}, () => {
  const dataDir = newDataDir();
  let azureConfig: string;
  let env: NodeJS.ProcessEnv;
  let vaultUri = "";
  let vaultResource = "";
  let subscription = "";
  let clientId = "";

  const wikit = async (args: string[]) => {
    const { stdout } = await execFileAsync(process.execPath, [cliEntry, ...args], { cwd: repoRoot, env });
    return stdout.trimEnd();
  };
  /** A shell line run in the pod of service account `az`, as a user types it there. */
  const inPod = async (line: string) => {
    try {
      const { stdout, stderr } = await execFileAsync(
        process.execPath,
        [cliEntry, "run", "--namespace", "default", "--service-account", "az", "--", "sh", "-c", line],
        { cwd: repoRoot, env, timeout: 120_000 },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };

  before(async () => {
    azureConfig = await mkdtemp(join(tmpdir(), "wikit-az-"));
    env = {
      ...process.env,
      WIKIT_HOME: dataDir,
      AZURE_CONFIG_DIR: azureConfig,
      AZURE_CORE_COLLECT_TELEMETRY: "false",
    };
    await wikit(["up", "--port", "0", "--detach"]);
    const server = JSON.parse(await readFile(join(dataDir, "server.json"), "utf8")) as { port: number };
    env.REQUESTS_CA_BUNDLE = join(dataDir, "ca.crt");
    const authority = `https://localhost:${server.port}`;
    // Every endpoint in one cloud config: Microsoft Graph's resource has no option of its own. Graph is wikit's
    // own URL, so az sends `az ad` requests there and asks for tokens for it.
    const cloudConfig = {
      endpoints: {
        activeDirectory: authority,
        resourceManager: `${authority}/`,
        activeDirectoryResourceId: "https://management.core.windows.net/",
        activeDirectoryGraphResourceId: "https://graph.windows.net/",
        microsoftGraphResourceId: `${authority}/`,
      },
      suffixes: { keyvaultDns: ".vault.localhost" },
    };
    await execFileAsync(
      AZ,
      ["cloud", "register", "-n", "wikit", "--cloud-config", JSON.stringify(cloudConfig)],
      {
        env,
      },
    );
    await execFileAsync(AZ, ["cloud", "set", "-n", "wikit"], { env });

    clientId = await wikit([
      "identity",
      "create",
      "-g",
      "wikit",
      "-n",
      "mi-az",
      "--query",
      "clientId",
      "-o",
      "tsv",
    ]);
    const issuer = await wikit([
      "aks",
      "show",
      "-n",
      "local",
      "-g",
      "wikit",
      "--query",
      "oidcIssuerProfile.issuerUrl",
      "-o",
      "tsv",
    ]);
    await wikit([
      "identity",
      "federated-credential",
      "create",
      "-g",
      "wikit",
      "--identity-name",
      "mi-az",
      "-n",
      "az-fic",
      "--issuer",
      issuer,
      "--subject",
      "system:serviceaccount:default:az",
      "-o",
      "none",
    ]);
    await wikit([
      "serviceaccount",
      "create",
      "phase",
      "service-account",
      "--namespace",
      "default",
      "-n",
      "az",
      "--client-id",
      clientId,
      "-o",
      "none",
    ]);
    subscription = await wikit(["account", "show", "--query", "id", "-o", "tsv"]);
    await wikit([
      "role",
      "assignment",
      "create",
      "--role",
      "Reader",
      "--assignee",
      clientId,
      "--scope",
      `/subscriptions/${subscription}`,
      "-o",
      "none",
    ]);
    vaultUri = await wikit([
      "keyvault",
      "create",
      "-g",
      "wikit",
      "-n",
      "kv-az-cli",
      "--query",
      "properties.vaultUri",
      "-o",
      "tsv",
    ]);
    vaultResource = `https://vault.localhost:${server.port}`;
    await wikit([
      "keyvault",
      "secret",
      "set",
      "--vault-name",
      "kv-az-cli",
      "-n",
      "greeting",
      "--value",
      "hello from wikit",
      "-o",
      "none",
    ]);
    const vaultId = await wikit(["keyvault", "show", "-n", "kv-az-cli", "--query", "id", "-o", "tsv"]);
    await wikit([
      "role",
      "assignment",
      "create",
      "--role",
      "Key Vault Secrets User",
      "--assignee",
      clientId,
      "--scope",
      vaultId,
      "-o",
      "none",
    ]);
  });

  after(async () => {
    await execFileAsync(process.execPath, [cliEntry, "down"], { cwd: repoRoot, env }).catch(() => {});
    await rm(azureConfig, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  });

  const login =
    'az login --service-principal -u "$AZURE_CLIENT_ID" -t "$AZURE_TENANT_ID" --federated-token "$(cat "$AZURE_FEDERATED_TOKEN_FILE")"';

  test("az login --federated-token lists the subscription the principal holds a role in", async () => {
    const result = await inPod(`${login} --query "[].[id, user.name, user.type]" -o tsv`);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${subscription}\t${clientId}\tservicePrincipal\n`);
  });

  test("az account get-access-token, az group list as a Reader, and az group create refused", async () => {
    const token = await inPod(
      `${login} -o none && az account get-access-token --query "[tokenType, subscription]" -o tsv`,
    );
    assert.equal(token.stdout, `Bearer\n${subscription}\n`, token.stderr);
    const groups = await inPod(`${login} -o none && az group list --query "[].name" -o tsv`);
    assert.match(groups.stdout, /^wikit$/m, groups.stderr);
    const create = await inPod(`${login} -o none && az group create -n made-by-az -l local`);
    assert.notEqual(create.code, 0);
    assert.match(create.stderr, /AuthorizationFailed/);
    assert.match(
      create.stderr,
      /does not have authorization to perform action 'Microsoft\.Resources\/subscriptions\/resourceGroups\/write'/,
    );
  });

  test("az rest reads the Key Vault secret with the principal's token", async () => {
    const secret = await inPod(
      `${login} -o none && az rest --method get --url "${vaultUri}secrets/greeting?api-version=7.4" --resource "${vaultResource}" --query value -o tsv`,
    );
    assert.equal(secret.stdout, "hello from wikit\n", secret.stderr);
  });

  test("az ad: a Reader lists apps and may not create one; a Contributor creates an app, its service principal and a federated credential", async () => {
    const list = await inPod(`${login} -o none && az ad app list --query "[].displayName" -o tsv`);
    assert.equal(list.stdout, "wikit-admin\n", list.stderr);
    const refused = await inPod(`${login} -o none && az ad app create --display-name made-by-az`);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Insufficient privileges to complete the operation/);

    await wikit([
      "role",
      "assignment",
      "create",
      "--role",
      "Contributor",
      "--assignee",
      clientId,
      "--scope",
      `/subscriptions/${subscription}`,
      "-o",
      "none",
    ]);
    const parameters = JSON.stringify({
      name: "from-az",
      issuer: "https://issuer.example.test/",
      subject: "system:serviceaccount:ns:sa",
      audiences: ["api://AzureADTokenExchange"],
    });
    const made = await inPod(
      [
        `${login} -o none`,
        "appId=$(az ad app create --display-name made-by-az --query appId -o tsv)",
        'az ad sp create --id "$appId" --query appOwnerOrganizationId -o tsv',
        `az ad app federated-credential create --id "$appId" --parameters '${parameters}' --query subject -o tsv`,
        'az ad app show --id "$appId" --query displayName -o tsv',
      ].join(" && "),
    );
    assert.equal(made.code, 0, made.stderr);
    const tenant = await wikit(["account", "show", "--query", "tenantId", "-o", "tsv"]);
    assert.equal(made.stdout, `${tenant}\nsystem:serviceaccount:ns:sa\nmade-by-az\n`);
    const credentials = await wikit([
      "ad",
      "app",
      "federated-credential",
      "list",
      "--id",
      "made-by-az",
      "--query",
      "[].name",
      "-o",
      "tsv",
    ]).catch((error: Error) => error.message);
    assert.match(
      credentials,
      /Application with identifier URI 'made-by-az' doesn't exist/,
      "az resolves --id by app ID, object ID or URI, not by name",
    );
    const appId = await wikit([
      "ad",
      "app",
      "list",
      "--display-name",
      "made-by-az",
      "--query",
      "[0].appId",
      "-o",
      "tsv",
    ]);
    assert.equal(
      await wikit([
        "ad",
        "app",
        "federated-credential",
        "list",
        "--id",
        appId,
        "--query",
        "[].name",
        "-o",
        "tsv",
      ]),
      "from-az",
    );
  });

  test("az login with the admin principal's certificate from the data directory: Owner of the subscription", async () => {
    const admin = JSON.parse(await readFile(join(dataDir, "admin.json"), "utf8")) as {
      clientId: string;
      tenantId: string;
    };
    // In the pod for its authority proxy: MSAL asks login.microsoftonline.com about the authority first.
    const adminLogin = `az login --service-principal -u ${admin.clientId} -p "${join(dataDir, "admin.pem")}" --tenant ${admin.tenantId}`;
    const accounts = await inPod(`${adminLogin} --query "[].[id, user.name]" -o tsv`);
    assert.equal(accounts.stdout, `${subscription}\t${admin.clientId}\n`, accounts.stderr);
    const made = await inPod(
      `${adminLogin} -o none && az group create -n made-by-admin -l local --query name -o tsv && az ad app list --query "[].displayName" -o tsv`,
    );
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /^made-by-admin\n/);
    assert.match(made.stdout, /^wikit-admin$/m);
    const signIns = await wikit([
      "signin",
      "list",
      "--client-id",
      admin.clientId,
      "--query",
      "[0].credential",
      "-o",
      "tsv",
    ]);
    assert.match(signIns, /^certificate-[0-9a-f-]{36}$/);
  });
});
