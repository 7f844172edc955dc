// The proof: official Azure SDKs, unmodified, read a Key Vault secret through a real `wikit up`, and
// see the right error codes for the failures users hit. Everything runs as separate processes over
// HTTPS, the apps launched by `wikit run` exactly as a user would.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  createFederatedIdentity,
  createVaultWithSecret,
  type RunWikit,
  runAppArgs,
} from "../../src/cli/walkthrough.ts";
import { startAuthorityProxy } from "../../src/cluster/runner/authority-proxy.ts";
import {
  serviceAccountTokenClaims,
  signServiceAccountToken,
} from "../../src/cluster/tokens/service-account-token.ts";
import { dataDirFiles, readServerInfo, type ServerInfo } from "../../src/server/data-dir.ts";
import { openLocalStore } from "../../src/server/local-store.ts";
import { SigningKeyRing } from "../../src/signing-keys/key-ring.ts";
import { newDataDir, pythonWithAzure, repoRoot, wikit, wikitJson } from "./local-stack.ts";

const jsApp = join(repoRoot, "examples", "js", "read-secret.mjs");
const pyApp = join(repoRoot, "examples", "python", "read_secret.py");
const python = pythonWithAzure();
const NS = "wlipoc";
const GROUP = "rg-compat";
const SECRET_VALUE = `s3cr3t-${randomUUID()}`;

interface Identity {
  id: string;
  clientId: string;
  principalId: string;
}

function runAsync(command: string, args: string[], options: { env: NodeJS.ProcessEnv }) {
  return new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env,
      stdio: ["ignore", "ignore", "pipe"],
      timeout: 60_000,
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stderr }));
  });
}

describe("official SDKs against wikit up", { timeout: 600_000 }, () => {
  const dataDir = newDataDir();
  let info: ServerInfo;
  let vaultUrl: string;
  let reader: Identity;
  let vaultId: string;

  /** Starts `wikit up --detach`; without `--port` a restart reuses the previous start's port. */
  const up = async (portArgs: string[] = []) => {
    const started = wikit(dataDir, ["up", ...portArgs, "--detach"]);
    assert.equal(started.status, 0, started.stderr);
    const current = await readServerInfo(dataDir);
    assert.ok(current, "wikit up --detach returned before announcing itself");
    info = current;
  };

  const run: RunWikit = (args) => wikitJson(dataDir, args);

  /** `wikit identity federated-credential list` of the reader identity. */
  const readerCredentials = () =>
    wikitJson<Record<string, unknown>[]>(dataDir, [
      "identity",
      "federated-credential",
      "list",
      "-g",
      GROUP,
      "--identity-name",
      "reader",
    ]);

  /** `wikit run` of an app, with the vault URL and secret name as its container env. */
  const runApp = (serviceAccount: string, command: string[]) =>
    wikit(dataDir, runAppArgs(NS, serviceAccount, vaultUrl, "my-secret", command));

  /** An identity trusting the local cluster for `system:serviceaccount:wlipoc:{serviceAccount}`. */
  const identityFor = (name: string, serviceAccount: string): Identity =>
    createFederatedIdentity(run, {
      group: GROUP,
      identity: name,
      namespace: NS,
      serviceAccount,
      issuer: info.issuerUrl,
    });

  before(async () => {
    await up(["--port", "0"]);
    wikitJson(dataDir, ["group", "create", "--name", GROUP]);
    reader = identityFor("reader", "workload-identity-sa");
    const vault = createVaultWithSecret(run, {
      group: GROUP,
      vault: `kv-${randomUUID().slice(0, 8)}`,
      secret: "my-secret",
      value: SECRET_VALUE,
      readerPrincipalId: reader.principalId,
    });
    vaultUrl = vault.properties.vaultUri;
    vaultId = vault.id;
  });

  after(() => {
    wikit(dataDir, ["down"]);
  });

  test("an unmodified JavaScript app (DefaultAzureCredential + SecretClient) reads the secret", () => {
    const result = runApp("workload-identity-sa", [process.execPath, jsApp]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`successfully got secret, secret=${SECRET_VALUE}`));
  });

  test("an unmodified Python app on Debian's python3-azure reads the secret", (t) => {
    if (!python) {
      assert.ok(!process.env.CI, "CI must install python3-azure");
      t.skip("python3-azure is not installed");
      return;
    }
    const result = runApp("workload-identity-sa", [python, pyApp]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`successfully got secret, secret=${SECRET_VALUE}`));
  });

  test("a subject without a federated credential reaches the app as AADSTS700213", (t) => {
    wikitJson(dataDir, [
      "serviceaccount",
      "create",
      "phase",
      "service-account",
      "--namespace",
      NS,
      "--name",
      "other-sa",
      "--client-id",
      reader.clientId,
    ]);
    const js = runApp("other-sa", [process.execPath, jsApp]);
    assert.notEqual(js.status, 0);
    assert.match(
      js.stderr,
      /AADSTS700213: No matching federated identity record found for presented assertion subject 'system:serviceaccount:wlipoc:other-sa'/,
    );
    // wikit up explains by default which field of the nearest credential differs; the SDK passes it on.
    assert.match(
      js.stderr,
      /wikit: the nearest federated credential, '[^']+', differs in subject: service account 'other-sa' in the token, 'workload-identity-sa' in the credential\./,
    );
    // wikit run says it in one line, with the command that fixes it.
    const hints = js.stderr.split("\n").filter((line) => line.startsWith("wikit run: "));
    assert.equal(hints.length, 1, js.stderr);
    assert.equal(
      hints[0],
      `wikit run: sign-in failed with AADSTS700213: the nearest federated credential, 'reader-${NS}', differs in subject: service account 'other-sa' in the token, 'workload-identity-sa' in the credential. Fix: wikit identity federated-credential create -g ${GROUP} --identity-name reader -n ${NS}-other-sa --issuer ${info.issuerUrl} --subject system:serviceaccount:${NS}:other-sa`,
    );
    if (!python) return t.skip("python3-azure is not installed");
    const py = runApp("other-sa", [python, pyApp]);
    assert.notEqual(py.status, 0);
    assert.match(py.stderr, /AADSTS700213/);
    assert.equal(py.stderr.split("\n").filter((line) => line.startsWith("wikit run: ")).length, 1, py.stderr);
  });

  test("the sign-in log lists the failure with its nearest credential, and -o table shows it in a line", () => {
    const failed = wikitJson<Record<string, unknown>[]>(dataDir, [
      "signin",
      "list",
      "--failed",
      "--client-id",
      reader.clientId,
      "--since",
      "10m",
    ]);
    const record = failed.find((entry) => entry.subject === `system:serviceaccount:${NS}:other-sa`);
    assert.ok(record, JSON.stringify(failed));
    assert.equal(record.errorCode, 700213);
    assert.equal(record.nearestCredential, `reader-${NS}`);
    assert.equal(record.issuer, info.issuerUrl);
    const table = wikit(dataDir, ["signin", "list", "--failed", "--top", "1", "-o", "table"]);
    assert.equal(table.status, 0, table.stderr);
    const [header = "", rule = "", row = ""] = table.stdout.split("\n");
    assert.match(header, /^Time\s+Result\s+ClientId\s+Subject\s+Credential\s+Detail$/);
    assert.match(rule, /^-+ {2}-+/);
    assert.match(
      row,
      /AADSTS700213 .* system:serviceaccount:wlipoc:other-sa .*\(nearest: reader-wlipoc\) .*differs in subject/,
    );
  });

  test("running the fix wikit run printed lets the app in, and the credential's use is counted", () => {
    wikitJson(dataDir, [
      "identity",
      "federated-credential",
      "create",
      "-g",
      GROUP,
      "--identity-name",
      "reader",
      "-n",
      `${NS}-other-sa`,
      "--issuer",
      info.issuerUrl,
      "--subject",
      `system:serviceaccount:${NS}:other-sa`,
    ]);
    const js = runApp("other-sa", [process.execPath, jsApp]);
    assert.equal(js.status, 0, js.stderr);
    assert.ok(!js.stderr.includes("wikit run: "), js.stderr);
    const credentials = readerCredentials();
    const fixed = credentials.find((credential) => credential.name === `${NS}-other-sa`);
    assert.equal(fixed?.signIns, 1);
    assert.ok(Date.now() - Date.parse(String(fixed?.lastSignInDateTime)) < 120_000);
    const removed = wikit(dataDir, [
      "identity",
      "federated-credential",
      "delete",
      "-g",
      GROUP,
      "--identity-name",
      "reader",
      "-n",
      `${NS}-other-sa`,
    ]);
    assert.equal(removed.status, 0, removed.stderr);
  });

  test("an identity without a role assignment gets 403 ForbiddenByRbac from the vault", (t) => {
    identityFor("no-role", "no-role-sa");
    const js = runApp("no-role-sa", [process.execPath, jsApp]);
    assert.notEqual(js.status, 0);
    assert.match(js.stderr, /statusCode: 403/);
    assert.match(js.stderr, /ForbiddenByRbac/);
    assert.match(js.stderr, /Caller is not authorized to perform action on resource/);
    if (!python) return t.skip("python3-azure is not installed");
    const py = runApp("no-role-sa", [python, pyApp]);
    assert.notEqual(py.status, 0);
    assert.match(py.stderr, /ForbiddenByRbac/);
  });

  test("an unknown client ID reaches the app as AADSTS700016", () => {
    const ghost = randomUUID();
    wikitJson(dataDir, [
      "serviceaccount",
      "create",
      "phase",
      "service-account",
      "--namespace",
      NS,
      "--name",
      "ghost-sa",
      "--client-id",
      ghost,
    ]);
    const js = runApp("ghost-sa", [process.execPath, jsApp]);
    assert.notEqual(js.status, 0);
    assert.match(js.stderr, new RegExp(`AADSTS700016: Application with identifier '${ghost}' was not found`));
  });

  test("an expired service-account token reaches the app as AADSTS700024", async () => {
    // Signed with the cluster's real key, so only its time window is wrong.
    const store = await openLocalStore(dataDir);
    const keys = await SigningKeyRing.open(store, "cluster:local");
    const account = wikitJson<{ metadata: { uid: string } }>(dataDir, [
      "serviceaccount",
      "show",
      "--namespace",
      NS,
      "--name",
      "workload-identity-sa",
    ]);
    const claims = serviceAccountTokenClaims({
      issuer: info.issuerUrl,
      namespace: NS,
      serviceAccount: { name: "workload-identity-sa", uid: account.metadata.uid },
      audiences: ["api://AzureADTokenExchange"],
      expirationSeconds: 3600,
      issuedAt: Math.floor(Date.now() / 1000) - 7200,
    });
    const tokenFile = join(dataDir, "expired-token");
    writeFileSync(tokenFile, await signServiceAccountToken(claims, keys.active));
    await store.close();
    // The app runs outside `wikit run`, so it gets wikit's names the way `wikit run` gives them.
    const proxy = await startAuthorityProxy({ host: "127.0.0.1", port: info.port }, [
      "localhost",
      `.${info.vaultDomain}`,
    ]);
    try {
      // Asynchronous: the authority proxy runs in this process and must keep serving meanwhile.
      const result = await runAsync(process.execPath, [jsApp], {
        env: {
          ...process.env,
          AZURE_CLIENT_ID: reader.clientId,
          AZURE_TENANT_ID: info.tenantId,
          AZURE_FEDERATED_TOKEN_FILE: tokenFile,
          AZURE_AUTHORITY_HOST: `${info.url}/`,
          NODE_EXTRA_CA_CERTS: info.caFile,
          HTTPS_PROXY: proxy.url,
          KEYVAULT_URL: vaultUrl,
          SECRET_NAME: "my-secret",
        },
      });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /AADSTS700024: Client assertion is not within its valid time range/);
    } finally {
      await proxy.close();
    }
  });

  test("one claims-matching credential lets every service account of a namespace read the secret", () => {
    const team = wikitJson<Identity>(dataDir, ["identity", "create", "-g", GROUP, "-n", "team"]);
    const createCredential = (name: string, ...matching: string[]) => [
      ...["identity", "federated-credential", "create", "-g", GROUP, "--identity-name", "team"],
      ...["-n", name, "--issuer", info.issuerUrl, ...matching],
    ];
    const missing = wikit(dataDir, createCredential("incomplete"));
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /either --subject or --claims-matching-expression-value/);
    const credential = wikitJson<{ claimsMatchingExpression: { value: string } }>(
      dataDir,
      createCredential(
        "team-accounts",
        "--claims-matching-expression-value",
        `claims['sub'] matches 'system:serviceaccount:${NS}:team-*'`,
      ),
    );
    assert.match(credential.claimsMatchingExpression.value, /team-\*'$/);
    wikitJson(dataDir, [
      "role",
      "assignment",
      "create",
      "--role",
      "Key Vault Secrets User",
      "--assignee-object-id",
      team.principalId,
      "--scope",
      vaultId,
    ]);
    for (const account of ["team-api", "team-worker"]) {
      wikitJson(dataDir, [
        "serviceaccount",
        "create",
        "phase",
        "service-account",
        "--namespace",
        NS,
        "--name",
        account,
        "--client-id",
        team.clientId,
      ]);
      const result = runApp(account, [process.execPath, jsApp]);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`successfully got secret, secret=${SECRET_VALUE}`));
    }
  });

  test("after wikit down and up, identities, credentials, role assignments and secrets are all still there", async () => {
    const before = readFileSync(dataDirFiles.server(dataDir), "utf8");
    const stopped = wikit(dataDir, ["down"]);
    assert.equal(stopped.status, 0, stopped.stderr);
    assert.match(stopped.stderr, /stopped/);
    await up();
    assert.notEqual(
      readFileSync(dataDirFiles.server(dataDir), "utf8"),
      before,
      "a new server announced itself",
    );
    assert.equal(
      info.issuerUrl,
      JSON.parse(before).issuerUrl,
      "the issuer URL (and so every credential) is kept",
    );

    const shown = wikitJson<Identity>(dataDir, ["identity", "show", "-g", GROUP, "-n", "reader"]);
    assert.equal(shown.clientId, reader.clientId);
    const credentials = readerCredentials();
    assert.equal(credentials.length, 1);
    const assignments = wikitJson<unknown[]>(dataDir, [
      "role",
      "assignment",
      "list",
      "--assignee",
      reader.principalId,
    ]);
    assert.equal(assignments.length, 1);
    // The read needs all four: identity, credential, role assignment and secret.
    const result = runApp("workload-identity-sa", [process.execPath, jsApp]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, new RegExp(SECRET_VALUE));
  });
});
