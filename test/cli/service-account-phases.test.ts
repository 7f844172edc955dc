// `wikit serviceaccount create|delete` with azwi's phases, end to end: a real `wikit up` in a child process (the
// identity side) and, as the Kubernetes side, the faithful fake API server on loopback reached through a kubeconfig
// file — or wikit up's own local cluster. The objects are checked where they live: in the fake API server, and in
// wikit through its own commands. Last, the proof that the phases line up: an unmodified SDK app run with `wikit run`
// reads a secret with only `serviceaccount create` between the vault and the app.
import assert from "node:assert/strict";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runAppArgs } from "../../src/cli/walkthrough.ts";
import { azwiHash, derivedApplicationName } from "../../src/cluster/service-accounts/azwi-names.ts";
import { FakeKubeApi } from "../cluster/webhook/fake-kube-api.ts";
import { newDataDir, repoRoot, runWikit } from "../compat/local-stack.ts";

const ISSUER = "https://issuer.example.com/cluster-a/";
const GROUP = "rg-sa";
const NS = "apps";

/** A service account name whose azwi credential name starts as `wanted` says (azwi's hash of ns, name, issuer). */
function nameWhoseHash(prefix: string, wanted: RegExp): string {
  for (let index = 0; ; index += 1) {
    const name = `${prefix}-${index}`;
    if (wanted.test(azwiHash(`${NS}-${name}-${ISSUER}`))) return name;
  }
}

describe("serviceaccount create|delete with azwi's phases", { timeout: 600_000 }, () => {
  const dataDir = newDataDir();
  let fake: FakeKubeApi;
  let kubeconfig: string;
  let subscription: string;
  let tenant: string;
  // Graph takes azwi's credential names as they are, also the one in 32 that starts with '-' or '_'.
  const appAccount = nameWhoseHash("web", /^[-_]/);
  // A managed identity's credential whose hash starts with '-' or '_': ARM's name gets the `fic` prefix.
  const identityAccount = nameWhoseHash("mi", /^[-_]/);

  const wikit = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const env: NodeJS.ProcessEnv = { ...process.env, WIKIT_HOME: dataDir };
    delete env.KUBECONFIG;
    Object.assign(env, extraEnv);
    return runWikit(args, { env, timeout: 120_000 });
  };
  const ok = async (args: string[]) => {
    const result = await wikit(args);
    assert.equal(result.code, 0, `wikit ${args.join(" ")}: ${result.stderr}`);
    return result;
  };
  const json = async <T = Record<string, unknown>>(args: string[]) =>
    JSON.parse((await ok(args)).stdout) as T;
  const fails = async (args: string[], message: RegExp) => {
    const result = await wikit(args);
    assert.notEqual(result.code, 0, `wikit ${args.join(" ")} should fail`);
    assert.match(result.stderr, message);
    return result;
  };
  const scope = () => `/subscriptions/${subscription}/resourceGroups/${GROUP}`;
  const inFake = (name: string) => fake.get("v1", "ServiceAccount", NS, name);
  /** `serviceaccount VERB` of the account `name` on the fake cluster, in NS with ISSUER, then `extra`. */
  const onFake = (verb: "create" | "delete", name: string, ...extra: string[]) => [
    "serviceaccount",
    verb,
    "--kubeconfig",
    kubeconfig,
    "--service-account-namespace",
    NS,
    "--service-account-name",
    name,
    "--service-account-issuer-url",
    ISSUER,
    ...extra,
  ];
  /** `COMMAND create phase sa` on the fake cluster (COMMAND: serviceaccount or its alias sa), then `extra`. */
  const phaseSaOnFake = (command: "sa" | "serviceaccount", ...extra: string[]) => [
    command,
    "create",
    "phase",
    "sa",
    "--kubeconfig",
    kubeconfig,
    ...extra,
  ];
  /** The app registrations whose display name is `name`. */
  const appsNamed = <T = Record<string, unknown>>(name: string) =>
    json<T[]>(["ad", "app", "list", "--filter", `displayName eq '${name}'`]);
  /** The federated credentials of the managed identity `identity` in GROUP. */
  const identityCredentials = <T = Record<string, unknown>>(identity: string) =>
    json<T[]>(["identity", "federated-credential", "list", "-g", GROUP, "--identity-name", identity]);
  /** The role assignments of `principal` at the scope of GROUP. */
  const rolesOf = <T = Record<string, unknown>>(principal: string) =>
    json<T[]>(["role", "assignment", "list", "--assignee", principal, "--scope", scope()]);

  before(async () => {
    await ok(["up", "--port", "0", "--detach"]);
    await ok(["group", "create", "--name", GROUP, "-o", "none"]);
    subscription = (await ok(["account", "show", "--query", "id", "-o", "tsv"])).stdout.trim();
    tenant = (await ok(["account", "show", "--query", "tenantId", "-o", "tsv"])).stdout.trim();
    fake = await FakeKubeApi.start();
    fake.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
    kubeconfig = join(dataDir, "fake-kubeconfig.json");
    await writeFile(kubeconfig, fake.kubeConfig().exportConfig());
  });

  after(async () => {
    await wikit(["down"]);
    await fake?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const createApp = (...extra: string[]) =>
    onFake("create", appAccount, "--azure-role", "Reader", "--azure-scope", scope(), ...extra);

  test("on a real cluster: the derived app and its principal, the service account, the credential, the role", async () => {
    const appName = derivedApplicationName(NS, appAccount, ISSUER);
    const { stdout, stderr } = await ok(createApp());
    assert.match(stderr, /--aad-application-name not specified, constructing name/);
    assert.match(stderr, new RegExp(`aad-application: created application '${appName.replace("=", "\\=")}'`));
    assert.match(stderr, /its service principal created/);
    assert.match(
      stderr,
      new RegExp(`service-account: created service account ${NS}/${appAccount} in context 'fake'`),
    );
    assert.match(stderr, /federated-identity: created federated credential/);
    assert.match(stderr, /role-assignment: created role assignment of 'Reader'/);

    const [app] = await appsNamed<{ appId: string; id: string; displayName: string }>(appName);
    assert.ok(app, `no application named ${appName}`);
    // The service account as the API server keeps it, and as the command printed it.
    const stored = inFake(appAccount);
    assert.deepEqual(stored?.metadata?.annotations, {
      "azure.workload.identity/client-id": app.appId,
      "azure.workload.identity/tenant-id": tenant,
    });
    assert.equal(stored?.metadata?.labels, undefined);
    assert.deepEqual(JSON.parse(stdout).metadata.annotations, stored?.metadata?.annotations);

    const credentials = await json<Record<string, unknown>[]>([
      "ad",
      "app",
      "federated-credential",
      "list",
      "--id",
      app.appId,
    ]);
    assert.deepEqual(
      credentials.map(({ name, issuer, subject, audiences, description }) => ({
        name,
        issuer,
        subject,
        audiences,
        description,
      })),
      [
        {
          name: azwiHash(`${NS}-${appAccount}-${ISSUER}`),
          issuer: ISSUER,
          subject: `system:serviceaccount:${NS}:${appAccount}`,
          audiences: ["api://AzureADTokenExchange"],
          description: `Federated Service Account for ${NS}/${appAccount}`,
        },
      ],
    );
    const principal = (
      await ok(["ad", "sp", "show", "--id", app.appId, "--query", "id", "-o", "tsv"])
    ).stdout.trim();
    const roles = await rolesOf<{ roleDefinitionId: string; scope: string }>(principal);
    const reader = (
      await ok(["role", "definition", "list", "-n", "Reader", "--query", "[0].name", "-o", "tsv"])
    ).stdout.trim();
    assert.deepEqual(
      roles.map(({ roleDefinitionId, scope }) => [roleDefinitionId.split("/").pop(), scope]),
      [[reader, scope()]],
    );
  });

  test("running it again changes nothing: everything is found, the service account replaced from scratch", async () => {
    // A label and annotation added meanwhile go, as azwi's update replaces the object.
    const before = inFake(appAccount);
    fake.put({
      ...before,
      metadata: {
        ...before?.metadata,
        labels: { team: "a" },
        annotations: { ...before?.metadata?.annotations, x: "y" },
      },
    });
    const { stderr } = await ok(createApp());
    assert.match(stderr, /aad-application: found existing application/);
    assert.match(stderr, /its service principal already existed/);
    assert.match(stderr, /service-account: replaced service account/);
    assert.match(stderr, /federated-identity: already existed: federated credential/);
    assert.match(stderr, /role-assignment: already existed: role assignment/);
    const after = inFake(appAccount);
    assert.equal(after?.metadata?.labels, undefined);
    assert.equal(after?.metadata?.annotations?.x, undefined);
    const appName = derivedApplicationName(NS, appAccount, ISSUER);
    const apps = await appsNamed(appName);
    assert.equal(apps.length, 1);
  });

  test("--identity-name: a managed identity, its ARM-named credential and its role (azwi's -s names the subscription)", async () => {
    const { stderr } = await ok(
      onFake(
        "create",
        identityAccount,
        "-s",
        subscription,
        "--identity-name",
        "mi-web",
        "-g",
        GROUP,
        "--azure-role",
        "Reader",
        "--azure-scope",
        scope(),
        "--service-account-token-expiration",
        "2h",
        "-o",
        "none",
      ),
    );
    assert.match(stderr, /aad-application: created managed identity 'mi-web'/);
    const identity = await json<{ clientId: string; principalId: string }>([
      "identity",
      "show",
      "-g",
      GROUP,
      "-n",
      "mi-web",
    ]);
    assert.deepEqual(inFake(identityAccount)?.metadata?.annotations, {
      "azure.workload.identity/client-id": identity.clientId,
      "azure.workload.identity/service-account-token-expiration": "7200",
      "azure.workload.identity/tenant-id": tenant,
    });
    const credentials = await identityCredentials<{ name: string; issuer: string; subject: string }>(
      "mi-web",
    );
    const hash = azwiHash(`${NS}-${identityAccount}-${ISSUER}`);
    assert.deepEqual(
      credentials.map(({ name, issuer, subject }) => [name, issuer, subject]),
      [[`fic${hash.slice(0, -1)}`, ISSUER, `system:serviceaccount:${NS}:${identityAccount}`]],
    );
    const roles = await rolesOf(identity.principalId);
    assert.equal(roles.length, 1);
  });

  test("--client-id alone uses the existing identity, and names the fix when there is none", async () => {
    const clientId = (
      await ok(["identity", "show", "-g", GROUP, "-n", "mi-web", "--query", "clientId", "-o", "tsv"])
    ).stdout.trim();
    const { stderr } = await ok(
      onFake(
        "create",
        "by-client-id",
        "--client-id",
        clientId,
        "--skip-phases",
        "role-assignment",
        "-o",
        "none",
      ),
    );
    assert.match(stderr, /aad-application: found existing managed identity 'mi-web'/);
    assert.match(stderr, /role-assignment: skipped/);
    assert.equal(
      inFake("by-client-id")?.metadata?.annotations?.["azure.workload.identity/client-id"],
      clientId,
    );
    const ghost = "0f6e3c3a-5b8a-4c55-9a1e-4a8d8f0d2b11";
    await fails(
      onFake("create", "ghost", "--client-id", ghost, "--skip-phases", "role-assignment"),
      new RegExp(
        `failed to run phase aad-application: no app registration or managed identity with client ID '${ghost}' exists .*give --identity-name NAME -g GROUP`,
      ),
    );
    assert.equal(inFake("ghost"), undefined, "nothing was written");
  });

  test("phase service-account alone (W4's azwi line), and a missing namespace on a real cluster", async () => {
    const appId = (
      await ok([
        "ad",
        "app",
        "list",
        "--filter",
        `displayName eq '${derivedApplicationName(NS, appAccount, ISSUER)}'`,
        "--query",
        "[0].appId",
        "-o",
        "tsv",
      ])
    ).stdout.trim();
    const printed = await json<{ metadata: { name: string; annotations: Record<string, string> } }>([
      "serviceaccount",
      "create",
      "phase",
      "service-account",
      "--kubeconfig",
      kubeconfig,
      "--service-account-namespace",
      NS,
      "--service-account-name",
      "w4-sa",
      "--aad-application-client-id",
      appId,
    ]);
    assert.equal(printed.metadata.annotations["azure.workload.identity/client-id"], appId);
    assert.deepEqual(inFake("w4-sa")?.metadata?.annotations, printed.metadata.annotations);
    await fails(
      phaseSaOnFake("sa", "--namespace", "nope", "-n", "x", "--client-id", appId),
      /failed to run phase service-account: namespace 'nope' does not exist in context 'fake' \(http:\/\/127\.0\.0\.1:\d+\); create it first \(kubectl create namespace nope\)/,
    );
    await fails(
      phaseSaOnFake("sa", "-n", "x", "--azure-role", "Reader"),
      /phase service-account does not take --azure-role/,
    );
  });

  test("KUBECONFIG alone leaves the command on wikit's cluster; --context picks KUBECONFIG's file; --cluster with --kubeconfig is refused", async () => {
    const account = (name: string) => [
      "sa",
      "create",
      "phase",
      "sa",
      "--namespace",
      NS,
      "-n",
      name,
      "--client-id",
      "0f6e3c3a-5b8a-4c55-9a1e-4a8d8f0d2b13",
      "-o",
      "none",
    ];
    const unflagged = await wikit(account("env-only"), { KUBECONFIG: kubeconfig });
    assert.equal(unflagged.code, 0, unflagged.stderr);
    assert.equal(inFake("env-only"), undefined, "a stray KUBECONFIG sends nothing to that cluster");
    await ok(["serviceaccount", "show", "--namespace", NS, "-n", "env-only"]);

    const withContext = await wikit([...account("from-env"), "--context", "fake"], {
      KUBECONFIG: kubeconfig,
    });
    assert.equal(withContext.code, 0, withContext.stderr);
    assert.equal(
      inFake("from-env")?.metadata?.annotations?.["azure.workload.identity/client-id"],
      "0f6e3c3a-5b8a-4c55-9a1e-4a8d8f0d2b13",
    );
    await fails(
      phaseSaOnFake(
        "sa",
        "--cluster",
        "local",
        "-n",
        "x",
        "--client-id",
        "0f6e3c3a-5b8a-4c55-9a1e-4a8d8f0d2b13",
      ),
      /give --cluster \(one of wikit's local clusters\) or --kubeconfig\/--context \(a real cluster\), not both/,
    );
    await fails(
      phaseSaOnFake(
        "sa",
        "--context",
        "prod",
        "-n",
        "x",
        "--client-id",
        "0f6e3c3a-5b8a-4c55-9a1e-4a8d8f0d2b13",
      ),
      /the kubeconfig has no context 'prod' \(it has 'fake'\)/,
    );
  });

  test("flag errors with azwi's texts, before anything is written", async () => {
    await fails(
      ["sa", "create", "phase", "app", "--identity-name", "mi-elsewhere", "-g", GROUP, "-s", "no-such-sub"],
      /no-such-sub/,
    );
    await fails(
      ["serviceaccount", "create", "--kubeconfig", kubeconfig, "--skip-phases", "sa"],
      /failed to compute skip phases: phase 'sa' not found\. Valid phases are: \[aad-application service-account federated-identity role-assignment\]/,
    );
    // A real cluster's issuer is not known: no derived name, so no identity.
    await fails(
      ["serviceaccount", "create", "--kubeconfig", kubeconfig, "--service-account-name", "late"],
      /failed to run pre-run for phase aad-application: --aad-application-name is required/,
    );
    await fails(
      [
        "serviceaccount",
        "create",
        "--kubeconfig",
        kubeconfig,
        "--service-account-name",
        "late",
        "--aad-application-name",
        "late-app",
      ],
      /failed to run pre-run for phase federated-identity: --service-account-issuer-url is required/,
    );
    await fails(
      [...createApp().filter((arg) => arg !== "--azure-scope" && arg !== scope())],
      /failed to run pre-run for phase role-assignment: --azure-scope is required \(to create the rest without a role assignment, add --skip-phases role-assignment\)/,
    );
    await fails(
      phaseSaOnFake(
        "serviceaccount",
        "-n",
        "late",
        "--client-id",
        "0f6e3c3a-5b8a-4c55-9a1e-4a8d8f0d2b12",
        "--service-account-token-expiration",
        "30m",
      ),
      /failed to run pre-run for phase service-account: --service-account-token-expiration must be greater than or equal to 1h0m0s/,
    );
    await fails(
      phaseSaOnFake("serviceaccount", "-n", "late", "--service-account-token-expiration", "1d"),
      /invalid argument "1d" for "--service-account-token-expiration" flag: time: unknown unit "d" in duration "1d"/,
    );
    assert.equal(inFake("late"), undefined);
  });

  test("delete, app mode: role assignment, service account and app go; the credential with the app", async () => {
    const appName = derivedApplicationName(NS, appAccount, ISSUER);
    const [app] = await appsNamed<{ appId: string }>(appName);
    const principal = (
      await ok(["ad", "sp", "show", "--id", app?.appId ?? "", "--query", "id", "-o", "tsv"])
    ).stdout.trim();
    const [assignment] = await rolesOf<{ id: string }>(principal);
    const deleteApp = (...extra: string[]) => onFake("delete", appAccount, ...extra);
    const { stderr } = await ok(deleteApp("--role-assignment-id", assignment?.id ?? ""));
    assert.match(stderr, /federated-identity: skipped/);
    assert.match(stderr, /role-assignment: deleted role assignment/);
    assert.match(stderr, /service-account: deleted service account/);
    assert.match(stderr, /aad-application: deleted application/);
    assert.equal(inFake(appAccount), undefined);
    assert.deepEqual(await appsNamed(appName), []);
    assert.deepEqual(await rolesOf(principal), []);
    // Again: everything is already gone, which is said, not failed.
    const again = await ok(deleteApp("--role-assignment-id", assignment?.id ?? ""));
    assert.match(again.stderr, /role assignment .* not found \(already deleted\)/);
    assert.match(again.stderr, /warning: service account not found/);
    assert.match(again.stderr, /not found \(already deleted\)/);
    await fails(
      deleteApp(),
      /failed to run pre-run for phase role-assignment: --role-assignment-id is required/,
    );
  });

  test("delete, managed identity mode: the credential found by issuer and subject, the identity kept when skipped", async () => {
    const deleteIdentity = () =>
      onFake(
        "delete",
        identityAccount,
        "--identity-name",
        "mi-web",
        "-g",
        GROUP,
        "--skip-phases",
        "role-assignment,aad-application",
      );
    const { stderr } = await ok(deleteIdentity());
    assert.match(stderr, /federated-identity: deleted federated credential 'fic/);
    assert.equal(inFake(identityAccount), undefined);
    const left = await identityCredentials<{ subject: string }>("mi-web");
    // Only the credential of another service account (made by the --client-id test) is left.
    assert.deepEqual(
      left.map(({ subject }) => subject),
      [`system:serviceaccount:${NS}:by-client-id`],
    );
    await ok(["identity", "show", "-g", GROUP, "-n", "mi-web", "-o", "none"]);
    // azwi fails here ("federated credential not found"); wikit says so and goes on, so a delete can be rerun.
    const again = await ok(deleteIdentity());
    assert.match(again.stderr, /warning: federated identity credential not found/);
    // The identity itself, by its own phase.
    const gone = await ok(["sa", "delete", "phase", "app", "--identity-name", "mi-web", "-g", GROUP]);
    assert.match(gone.stderr, /aad-application: deleted managed identity 'mi-web'/);
    await fails(["identity", "show", "-g", GROUP, "-n", "mi-web"], /ResourceNotFound|not found/i);
  });

  test("on wikit's own cluster: the namespace is made, the issuer is the cluster's", async () => {
    const issuer = (
      await ok(["cluster", "show", "--query", "oidcIssuerProfile.issuerUrl", "-o", "tsv"])
    ).stdout.trim();
    const { stderr } = await ok([
      "serviceaccount",
      "create",
      "--namespace",
      "fresh",
      "-n",
      "local-sa",
      "--identity-name",
      "mi-local",
      "-g",
      GROUP,
      "--skip-phases",
      "role-assignment",
      "-o",
      "none",
    ]);
    assert.match(stderr, /namespace\/fresh created/);
    assert.match(
      stderr,
      /service-account: created service account fresh\/local-sa in wikit's cluster 'local'/,
    );
    const [credential] = await identityCredentials<{ issuer: string; subject: string }>("mi-local");
    assert.equal(credential?.issuer, issuer);
    assert.equal(credential?.subject, "system:serviceaccount:fresh:local-sa");
    const shown = await json<{ metadata: { annotations: Record<string, string> } }>([
      "serviceaccount",
      "show",
      "--namespace",
      "fresh",
      "-n",
      "local-sa",
    ]);
    assert.equal(Object.keys(shown.metadata.annotations).length, 2);
    await ok([
      "serviceaccount",
      "delete",
      "phase",
      "service-account",
      "--namespace",
      "fresh",
      "-n",
      "local-sa",
    ]);
    await fails(["serviceaccount", "show", "--namespace", "fresh", "-n", "local-sa"], /not found/);
  });

  test("the phases line up: an unmodified SDK app reads a secret after one serviceaccount create", async () => {
    const vault = `kv-sa-${process.pid % 100000}`;
    const created = await json<{ id: string; properties: { vaultUri: string } }>([
      "keyvault",
      "create",
      "-g",
      GROUP,
      "-n",
      vault,
    ]);
    await ok([
      "keyvault",
      "secret",
      "set",
      "--vault-name",
      vault,
      "-n",
      "my-secret",
      "--value",
      "phases-line-up",
      "-o",
      "none",
    ]);
    await ok([
      "serviceaccount",
      "create",
      "--service-account-namespace",
      "wlipoc",
      "--service-account-name",
      "reader",
      "--identity-name",
      "mi-reader",
      "-g",
      GROUP,
      "--azure-role",
      "Key Vault Secrets User",
      "--azure-scope",
      created.id,
      "-o",
      "none",
    ]);
    const app = join(repoRoot, "examples", "js", "read-secret.mjs");
    const result = await wikit(
      runAppArgs("wlipoc", "reader", created.properties.vaultUri, "my-secret", [process.execPath, app]),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /successfully got secret, secret=phases-line-up/);
  });
});
