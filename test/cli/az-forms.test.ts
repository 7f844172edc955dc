// The walkthroughs' az command lines, with `az` replaced by `wikit`, against a real `wikit up`: their
// `--query … -o tsv` forms print the bare value a shell assigns, and -o table, yaml and none print what az does.
// (W2's tenants and app registrations run end to end in test/compat/cross-tenant.test.ts.)

import assert from "node:assert/strict";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { cliEntry, newDataDir, runWikit } from "../compat/local-stack.ts";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("az command lines of the walkthroughs, as wikit", { timeout: 300_000 }, () => {
  const dataDir = newDataDir();
  const wikit = (args: string[]) => runWikit(args, { env: { ...process.env, WIKIT_HOME: dataDir } });
  const ok = async (args: string[]) => {
    const result = await wikit(args);
    assert.equal(result.code, 0, `wikit ${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  };

  before(async () => {
    await ok(["up", "--port", "0", "--detach"]);
    await ok(["group", "create", "--name", "rg-forms", "-o", "none"]);
  });
  after(async () => {
    await wikit(["down"]);
    await rm(dataDir, { recursive: true, force: true });
  });

  test("W2/W3: identity create and show with --query clientId / principalId -o tsv print the bare GUID", async () => {
    const clientId = await ok([
      "identity",
      "create",
      "--name",
      "mi-forms",
      "--resource-group",
      "rg-forms",
      "--query",
      "clientId",
      "-o",
      "tsv",
    ]);
    assert.match(clientId.trimEnd(), GUID);
    assert.equal(clientId.split("\n").length, 2, "one line");
    const shown = await ok([
      "identity",
      "show",
      "--resource-group",
      "rg-forms",
      "--name",
      "mi-forms",
      "--query",
      "clientId",
      "--output",
      "tsv",
    ]);
    assert.equal(shown, clientId, "W3's --query 'clientId' --output tsv (the shell drops the quotes)");
    const principalId = await ok([
      "identity",
      "show",
      "-n",
      "mi-forms",
      "-g",
      "rg-forms",
      "--query",
      "principalId",
      "-o",
      "tsv",
    ]);
    assert.match(principalId.trimEnd(), GUID);
    assert.notEqual(principalId, clientId);
  });

  test('W1/W3: the cluster\'s issuer with --query "oidcIssuerProfile.issuerUrl" -otsv', async () => {
    const issuer = await ok(["cluster", "show", "--query", "oidcIssuerProfile.issuerUrl", "-otsv"]);
    assert.match(issuer, /^https:\/\/localhost:\d+\/oidc\/[0-9a-f-]+\/\n$/);
  });

  test('W1/W3: az aks show -n NAME -g RG --query "oidcIssuerProfile.issuerUrl" -otsv; aks list and update', async () => {
    const issuer = await ok([
      "aks",
      "show",
      "-n",
      "local",
      "-g",
      "wikit",
      "--query",
      "oidcIssuerProfile.issuerUrl",
      "-otsv",
    ]);
    assert.equal(
      issuer,
      await ok(["cluster", "show", "--query", "oidcIssuerProfile.issuerUrl", "-o", "tsv"]),
    );
    assert.equal(await ok(["aks", "list", "--query", "[].name", "-o", "tsv"]), "local\n");
    const updated = await ok([
      "aks",
      "update",
      "--resource-group",
      "wikit",
      "--name",
      "local",
      "--enable-oidc-issuer",
      "--enable-workload-identity",
      "--query",
      "[oidcIssuerProfile.enabled, securityProfile.workloadIdentity.enabled]",
      "-o",
      "tsv",
    ]);
    assert.equal(updated, "true\ntrue\n", "a list of booleans: one per line, as az prints it");
    const other = await wikit(["aks", "show", "-n", "myAKSCluster", "-g", "rg-forms"]);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /See `wikit aks list`; wikit up's own cluster is 'local' in group 'wikit'/);
  });

  test("W2: az aks create --name … --enable-oidc-issuer --enable-workload-identity makes a cluster with its own issuer", async () => {
    const line = (text: string) => ok(text.split(" "));
    await line(
      "aks create --name aks-wi-demo --resource-group rg-forms --enable-oidc-issuer --enable-workload-identity -o none",
    );
    const issuer = await line(
      "aks show -n aks-wi-demo -g rg-forms --query oidcIssuerProfile.issuerUrl -o tsv",
    );
    assert.match(issuer, /^https:\/\/localhost:\d+\/oidc\/[0-9a-f-]{36}\/\n$/);
    assert.notEqual(issuer, await line("cluster show --query oidcIssuerProfile.issuerUrl -o tsv"));
    assert.equal(await line("aks list -g rg-forms --query [].name -o tsv"), "aks-wi-demo\n");
    const refused = await wikit("aks delete -n local -g wikit --yes".split(" "));
    assert.match(refused.stderr, /OperationNotAllowed.*cannot be deleted/);
    await line("aks delete -n aks-wi-demo -g rg-forms --yes");
    assert.equal(await line("aks list -g rg-forms --query [].name -o tsv"), "");
  });

  test("keyvault delete soft-deletes: list-deleted shows it, the name stays taken, recover brings the secret back, purge frees the name", async () => {
    const line = (text: string) => ok(text.split(" "));
    // A group of its own: the other tests list rg-forms's vaults.
    await line("group create -n rg-soft -o none");
    await line("keyvault create -g rg-soft -n kv-forms-soft -o none");
    await line("keyvault secret set --vault-name kv-forms-soft -n kept --value still-here -o none");
    await line("keyvault delete -n kv-forms-soft");
    assert.equal(await line("keyvault list-deleted --query [].name -o tsv"), "kv-forms-soft\n");
    const taken = await wikit("keyvault create -g rg-soft -n kv-forms-soft".split(" "));
    assert.match(taken.stderr, /ConflictError.*deleted state.*recover or purge/);
    await line("keyvault recover -n kv-forms-soft -o none");
    assert.equal(await line("keyvault list-deleted --query [].name -o tsv"), "");
    // The recovered vault holds its secret again (export lists secret names, never values).
    assert.match(
      await ok(["export"]),
      /- name: kv-forms-soft\n {4}resourceGroup: rg-soft\n {4}secrets:\n {6}- name: kept\n/,
    );
    await line("keyvault delete -n kv-forms-soft");
    await line("keyvault purge -n kv-forms-soft");
    assert.equal(await line("keyvault list-deleted --query [].name -o tsv"), "");
    await line("keyvault create -g rg-soft -n kv-forms-soft -o none");
  });

  test("W1/W3: federated-credential create with --audience, then list -o table", async () => {
    const issuer = (
      await ok(["cluster", "show", "--query", "oidcIssuerProfile.issuerUrl", "-o", "tsv"])
    ).trimEnd();
    await ok([
      "identity",
      "federated-credential",
      "create",
      "--name",
      "wlipoc",
      "--identity-name",
      "mi-forms",
      "--resource-group",
      "rg-forms",
      "--issuer",
      issuer,
      "--subject",
      "system:serviceaccount:wlipoc:workload-identity-sa",
      "--audience",
      "api://AzureADTokenExchange",
      "-o",
      "none",
    ]);
    const table = await ok([
      "identity",
      "federated-credential",
      "list",
      "--identity-name",
      "mi-forms",
      "-g",
      "rg-forms",
      "-o",
      "table",
    ]);
    const [header = "", rule = "", row = ""] = table.split("\n");
    assert.match(header, /^Issuer\s+Name\s+ResourceGroup\s+SignIns\s+Subject$/);
    assert.match(rule, /^-{8,} {2}-{6,}/);
    assert.ok(
      row.startsWith(issuer) &&
        row.includes("wlipoc") &&
        row.endsWith("system:serviceaccount:wlipoc:workload-identity-sa"),
      row,
    );
  });

  test("federated-credential update changes what is given and keeps the rest", async () => {
    const update = (name: string, subject: string) =>
      wikit([
        "identity",
        "federated-credential",
        "update",
        "-g",
        "rg-forms",
        "--identity-name",
        "mi-forms",
        "-n",
        name,
        "--subject",
        subject,
      ]);
    const updated = await update("wlipoc", "system:serviceaccount:wlipoc:other");
    assert.equal(updated.code, 0, updated.stderr);
    const credential = JSON.parse(updated.stdout) as { subject: string; issuer: string; audiences: string[] };
    assert.equal(credential.subject, "system:serviceaccount:wlipoc:other");
    assert.match(credential.issuer, /^https:\/\/localhost:\d+\/oidc\//);
    assert.deepEqual(credential.audiences, ["api://AzureADTokenExchange"]);
    const missing = await update("nope", "x");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /ResourceNotFound|NotFound/);
  });

  test("W3: keyvault show --query id / properties.vaultUri --output tsv", async () => {
    await ok(["keyvault", "create", "-g", "rg-forms", "-n", "kv-forms-1", "-o", "none"]);
    // W3's lines, word for word but for the command's name.
    const keyvaultShow = (query: string) =>
      ok([
        "keyvault",
        "show",
        "--resource-group",
        "rg-forms",
        "--name",
        "kv-forms-1",
        "--query",
        query,
        "--output",
        "tsv",
      ]);
    assert.match(
      await keyvaultShow("id"),
      /^\/subscriptions\/[0-9a-f-]+\/resourceGroups\/rg-forms\/providers\/Microsoft\.KeyVault\/vaults\/kv-forms-1\n$/,
    );
    assert.match(
      await keyvaultShow("properties.vaultUri"),
      /^https:\/\/kv-forms-1\.vault\.localhost:\d+\/\n$/,
    );
    assert.equal(
      await ok(["keyvault", "list", "-g", "rg-forms", "--query", "[].name", "-o", "tsv"]),
      "kv-forms-1\n",
    );
    const principalId = (
      await ok([
        "identity",
        "show",
        "--name",
        "mi-forms",
        "--resource-group",
        "rg-forms",
        "--query",
        "principalId",
        "--output",
        "tsv",
      ])
    ).trimEnd();
    const scope = (await keyvaultShow("id")).trimEnd();
    const assigned = await ok([
      "role",
      "assignment",
      "create",
      "--assignee-object-id",
      principalId,
      "--role",
      "Key Vault Secrets User",
      "--scope",
      scope,
      "--assignee-principal-type",
      "ServicePrincipal",
      "--query",
      "[principalId, scope]",
      "-o",
      "tsv",
    ]);
    assert.equal(assigned, `${principalId}\n${scope}\n`);
  });

  test("-o yaml and -o none; --query over a list", async () => {
    const yaml = await ok(["group", "show", "-n", "rg-forms", "-o", "yaml"]);
    assert.match(yaml, /^id: \/subscriptions\/.*\nlocation: local\nname: rg-forms\n/);
    assert.equal(await ok(["group", "show", "-n", "rg-forms", "-o", "none"]), "");
    const names = await ok(["identity", "list", "-g", "rg-forms", "--query", "[].name", "-o", "tsv"]);
    assert.equal(names, "mi-forms\n");
  });

  test('W2: subscriptionId=$(az account show --query "id" -o tsv); account list and set', async () => {
    const id = (await ok(["account", "show", "--query", "id", "-o", "tsv"])).trimEnd();
    assert.match(id, GUID);
    const accounts = JSON.parse(await ok(["account", "list"])) as {
      id: string;
      isDefault: boolean;
      name: string;
    }[];
    assert.deepEqual(
      accounts.map((account) => [account.id, account.isDefault]),
      [[id, true]],
    );
    await ok(["account", "set", "--subscription", accounts[0]?.name ?? ""]);
    assert.equal((await ok(["account", "show", "--query", "id", "-o", "tsv"])).trimEnd(), id);
    const unknown = await wikit(["account", "set", "-s", "no-such-subscription"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /The subscription of 'no-such-subscription' doesn't exist in wikit/);
  });

  test("group exists prints true or false; group list", async () => {
    assert.equal(await ok(["group", "exists", "-n", "rg-forms"]), "true\n");
    assert.equal(await ok(["group", "exists", "-n", "no-such-group"]), "false\n");
    assert.match(await ok(["group", "list", "--query", "[].name", "-o", "tsv"]), /^rg-forms$/m);
  });

  test("W2: role assignment create --assignee takes a client ID; a client ID as an object ID is named", async () => {
    const identity = JSON.parse(await ok(["identity", "show", "-g", "rg-forms", "-n", "mi-forms"])) as {
      clientId: string;
      principalId: string;
    };
    const subscription = (await ok(["account", "show", "--query", "id", "-o", "tsv"])).trimEnd();
    const scope = `/subscriptions/${subscription}`;
    const grantReader = (who: string[], at: string) => [
      "role",
      "assignment",
      "create",
      "--role",
      "Reader",
      ...who,
      "--scope",
      at,
    ];
    const created = await ok([
      ...grantReader(["--assignee", identity.clientId], scope),
      "--query",
      "principalId",
      "-o",
      "tsv",
    ]);
    assert.equal(created.trimEnd(), identity.principalId);
    const listed = await ok([
      "role",
      "assignment",
      "list",
      "--all",
      "--assignee",
      "mi-forms",
      "--query",
      "[].[principalId, scope]",
      "-o",
      "tsv",
    ]);
    assert.ok(listed.split("\n").includes(`${identity.principalId}\t${scope}`), listed);
    const mixedUp = await wikit(grantReader(["--assignee-object-id", identity.clientId], scope));
    assert.equal(mixedUp.code, 1);
    assert.match(
      mixedUp.stderr,
      new RegExp(
        `is the client ID of identity 'mi-forms' \\(group 'rg-forms'\\); --assignee-object-id takes its principal \\(object\\) ID, ${identity.principalId}`,
      ),
    );
    const badScope = await wikit(grantReader(["--assignee", identity.clientId], "kv-forms-1"));
    assert.match(badScope.stderr, /--scope takes a resource ID/);
    const saMixUp = await wikit([
      "serviceaccount",
      "create",
      "phase",
      "service-account",
      "--namespace",
      "default",
      "-n",
      "sa-forms",
      "--client-id",
      identity.principalId,
    ]);
    assert.equal(saMixUp.code, 1);
    assert.match(
      saMixUp.stderr,
      /is the principal \(object\) ID of identity 'mi-forms' \(group 'rg-forms'\); --client-id takes its client ID/,
    );
  });

  test("W1/W5: az login --federated-token inside a pod fails before the credential exists, then signs in", async () => {
    const clientId = (
      await ok(["identity", "create", "-g", "rg-forms", "-n", "mi-login", "--query", "clientId", "-o", "tsv"])
    ).trimEnd();
    const issuer = (
      await ok(["cluster", "show", "--query", "oidcIssuerProfile.issuerUrl", "-o", "tsv"])
    ).trimEnd();
    const credential = (subject: string) =>
      ok([
        "identity",
        "federated-credential",
        "create",
        "--name",
        subject.split(":").pop() ?? "",
        "--identity-name",
        "mi-login",
        "--resource-group",
        "rg-forms",
        "--issuer",
        issuer,
        "--subject",
        subject,
        "-o",
        "none",
      ]);
    await credential("system:serviceaccount:default:someone-else");
    await ok([
      "serviceaccount",
      "create",
      "phase",
      "service-account",
      "--namespace",
      "default",
      "-n",
      "sa-login",
      "--client-id",
      clientId,
      "-o",
      "none",
    ]);
    // The pod's own command line, as W1 and W5 type it.
    const loginInPod = () =>
      wikit([
        "run",
        "--namespace",
        "default",
        "--service-account",
        "sa-login",
        "--",
        "sh",
        "-c",
        `"${process.execPath}" "${cliEntry}" login --federated-token "$(cat $AZURE_FEDERATED_TOKEN_FILE)" --service-principal -u $AZURE_CLIENT_ID -t $AZURE_TENANT_ID`,
      ]);
    const before = await loginInPod();
    assert.notEqual(before.code, 0);
    assert.match(
      before.stderr,
      /AADSTS700213: No matching federated identity record found for presented assertion subject 'system:serviceaccount:default:sa-login'/,
    );
    await credential("system:serviceaccount:default:sa-login");
    const subscription = (await ok(["account", "show", "--query", "id", "-o", "tsv"])).trimEnd();
    const noRole = await loginInPod();
    assert.match(noRole.stderr, new RegExp(`No subscriptions found for ${clientId}`));
    await ok([
      "role",
      "assignment",
      "create",
      "--assignee",
      "mi-login",
      "--role",
      "Reader",
      "--scope",
      `/subscriptions/${subscription}`,
    ]);
    const signedIn = await loginInPod();
    assert.equal(signedIn.code, 0, signedIn.stderr);
    const accounts = JSON.parse(signedIn.stdout) as { id: string; user: { name: string; type: string } }[];
    assert.deepEqual(
      accounts.map((account) => [account.id, account.user.name, account.user.type]),
      [[subscription, clientId, "servicePrincipal"]],
    );

    const token = (
      await ok(["account", "get-access-token", "--query", "accessToken", "-o", "tsv"])
    ).trimEnd();
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<
      string,
      unknown
    >;
    assert.equal(claims.aud, "https://management.core.windows.net/");
    assert.equal(claims.appid, clientId);
    const vault = JSON.parse(
      await ok(["account", "get-access-token", "--resource", "https://vault.azure.net"]),
    ) as Record<string, unknown>;
    assert.deepEqual(Object.keys(vault), [
      "accessToken",
      "expiresOn",
      "expires_on",
      "subscription",
      "tenant",
      "tokenType",
    ]);
    assert.equal(vault.tokenType, "Bearer");
    assert.equal(vault.subscription, subscription);
    assert.match(String(vault.expiresOn), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.000000$/);
    assert.equal(
      JSON.parse(Buffer.from(String(vault.accessToken).split(".")[1] ?? "", "base64url").toString("utf8"))
        .aud,
      "https://vault.azure.net",
    );
    assert.equal(await ok(["account", "show", "--query", "user.type", "-o", "tsv"]), "servicePrincipal\n");

    // The vault's data plane as the signed-in principal: its RBAC decides, as Key Vault's does.
    const setSecret = (name: string, source: string[]) =>
      ok(["keyvault", "secret", "set", "--vault-name", "kv-forms-1", "-n", name, ...source, "-o", "none"]);
    await setSecret("greeting", ["--value", "hi there"]);
    const showSecret = (name: string, extra: string[] = []) =>
      wikit(["keyvault", "secret", "show", "--vault-name", "kv-forms-1", "-n", name, ...extra]);
    const showGreeting = (extra: string[] = []) => showSecret("greeting", extra);
    const unauthorised = await showGreeting();
    assert.equal(unauthorised.code, 1);
    assert.match(
      unauthorised.stderr,
      /\(Forbidden\) Caller is not authorized to perform action on resource\./,
    );
    assert.match(unauthorised.stderr, /Action: 'Microsoft\.KeyVault\/vaults\/secrets\/getSecret\/action'/);
    const vaultId = (
      await ok(["keyvault", "show", "-n", "kv-forms-1", "--query", "id", "-o", "tsv"])
    ).trimEnd();
    // By the identity's name, the third form --assignee takes.
    await ok([
      "role",
      "assignment",
      "create",
      "--scope",
      vaultId,
      "--role",
      "Key Vault Secrets User",
      "--assignee",
      "mi-login",
    ]);
    const value = await showGreeting(["--query", "value", "-o", "tsv"]);
    assert.equal(value.stdout, "hi there\n", value.stderr);
    const shown = JSON.parse((await showGreeting()).stdout) as {
      name: string;
      attributes: { enabled: boolean; created: string };
    };
    assert.equal(shown.name, "greeting");
    assert.equal(shown.attributes.enabled, true);
    assert.match(shown.attributes.created, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/);
    assert.equal(
      await ok([
        "keyvault",
        "secret",
        "list",
        "--vault-name",
        "kv-forms-1",
        "--query",
        "[].name",
        "-o",
        "tsv",
      ]),
      "greeting\n",
    );
    const deleteRefused = await wikit([
      "keyvault",
      "secret",
      "delete",
      "--vault-name",
      "kv-forms-1",
      "-n",
      "greeting",
    ]);
    assert.match(
      deleteRefused.stderr,
      /Action: 'Microsoft\.KeyVault\/vaults\/secrets\/delete'/,
      "a Secrets User reads, and cannot delete",
    );

    // az's --file/--encoding: the file's bytes in the value as the encoding says, the encoding in a tag.
    const file = join(dataDir, "cert.bin");
    await writeFile(file, Buffer.from([0, 1, 2, 250, 255]));
    await setSecret("blob", ["--file", file, "--encoding", "base64"]);
    const blob = JSON.parse((await showSecret("blob")).stdout) as {
      value: string;
      tags: Record<string, string>;
    };
    assert.equal(blob.value, "AAEC+v8=");
    assert.deepEqual(blob.tags, { "file-encoding": "base64" });

    await ok(["logout"]);
    const signedOut = await showGreeting();
    assert.match(signedOut.stderr, /Please run 'wikit login' to setup account/);
    const after = await wikit(["account", "get-access-token"]);
    assert.equal(after.code, 1);
    assert.match(after.stderr, /Please run 'wikit login' to setup account\./);
    assert.equal(await ok(["account", "show", "--query", "user.type", "-o", "tsv"]), "user\n");
  });

  test("mistakes: an unknown option names the nearest; a missing one is named; a bad query or format exits 2", async () => {
    const misspelt = await wikit(["identity", "show", "--nmae", "x", "-g", "rg-forms"]);
    assert.equal(misspelt.code, 2);
    assert.match(misspelt.stderr, /unknown option '--nmae'\n\(Did you mean --name\?\)/);
    const missing = await wikit(["identity", "show", "-g", "rg-forms"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /required option '-n, --name <name>' not specified/);
    const query = await wikit(["group", "show", "-n", "rg-forms", "--query", "[?"]);
    assert.equal(query.code, 2);
    assert.match(query.stderr, /argument --query: invalid jmespath query/);
    const format = await wikit(["group", "show", "-n", "rg-forms", "-o", "xml"]);
    assert.equal(format.code, 2);
    assert.match(format.stderr, /Allowed choices are json, jsonc, yaml, yamlc, table, tsv, none/);
  });

  test("the CLI acts as the data directory's admin principal, signing in once per resource for all these commands (tokens.json)", async () => {
    const admin = JSON.parse(await readFile(join(dataDir, "admin.json"), "utf8")) as { clientId: string };
    const signIns = JSON.parse(
      await ok([
        "signin",
        "list",
        "--client-id",
        admin.clientId,
        "--query",
        "[].{code: errorCode, credential: credential, resource: resource, tenant: tenant}",
      ]),
    ) as { code: number; credential: string; resource: string }[];
    // One token per resource (ARM, and Graph for the principal lookups of --assignee), kept in tokens.json since.
    assert.deepEqual(
      signIns.map((signIn) => signIn.resource).sort(),
      ["https://graph.microsoft.com", "https://management.core.windows.net"],
      JSON.stringify(signIns),
    );
    for (const signIn of signIns) {
      assert.equal(signIn.code, 0);
      assert.match(signIn.credential, /^certificate-/);
    }
    assert.equal((await stat(join(dataDir, "tokens.json"))).mode & 0o777, 0o600);
  });
});
