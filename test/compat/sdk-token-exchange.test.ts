// Federated token exchange by the official clients, unmodified, against a real `wikit up`. Each client runs as its
// own process inside `wikit run` (a pod of wikit's local cluster with a projected service-account token) and
// exchanges that token for an access token; the token must name the identity and be accepted by the vault, and
// the requests the client sent (from its own logs) must be the ones expected of it. A service account the
// identity has no federated credential for must reach each client as AADSTS700213.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { readServerInfo, type ServerInfo } from "../../src/server/data-dir.ts";
import { cliEntry, newDataDir, pythonWithAzure, repoRoot, wikit } from "./local-stack.ts";

const execFileAsync = promisify(execFile);
const apps = join(repoRoot, "test", "compat", "apps");
const python = pythonWithAzure();
// `default` exists from the start: no namespace to create first.
const NS = "default";
const GROUP = "rg-exchange";
const IDENTITY = "exchanger";
const TRUSTED_SA = "exchange-sa";
const STRANGER_SA = "stranger-sa";
const SECRET = "exchanged";
const SECRET_VALUE = `exchanged-${randomUUID()}`;
const VAULT = `kv-${randomUUID().slice(0, 8)}`;
const INSTANCE_DISCOVERY = "GET https://login.microsoftonline.com/common/discovery/instance";

interface Identity {
  id: string;
  clientId: string;
  principalId: string;
}

/** One client app's run: exit code and output. */
interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** A client app for apps/run-clients.mjs; `null` in `env` unsets a variable of the pod's env. */
interface ClientSpec {
  id: string;
  command: string[];
  env?: Record<string, string | null>;
}

// Each client logs the requests it sends: @azure/identity through AZURE_LOG_LEVEL, msal-node's fetch through
// NODE_DEBUG, Python's urllib3 through the app's HTTP_LOG switch.
const identityJs = (client: string, variant = "", env: ClientSpec["env"] = {}): ClientSpec => ({
  id: `js:${client}${variant}`,
  command: [process.execPath, join(apps, "token-exchange.mjs"), client],
  env: { AZURE_LOG_LEVEL: "info", ...env },
});
const msalJs = (client: string, env: ClientSpec["env"] = {}): ClientSpec => ({
  id: `js:${client}`,
  command: [process.execPath, join(apps, "token-exchange.mjs"), client],
  env: { NODE_DEBUG: "fetch", ...env },
});
const pythonClient = (client: string): ClientSpec => ({
  id: `py:${client}`,
  command: [python ?? "python3", join(apps, "token_exchange.py"), client],
  env: { HTTP_LOG: "1" },
});

const jsDefault = identityJs("default");
const jsWorkloadOptions = identityJs("workload-options");
const jsWorkloadEnv = identityJs("workload-env");
const jsManagedIdentity = identityJs("managed-identity");
const jsManagedIdentityClientId = identityJs("managed-identity-client-id");
const jsManagedIdentityMicrosoftHost = identityJs("managed-identity", "@login.microsoftonline.com", {
  AZURE_AUTHORITY_HOST: null,
});
const msalString = msalJs("msal-string");
const msalCallback = msalJs("msal-callback");
const msalDiscovered = msalJs("msal-discovered", { NODE_USE_ENV_PROXY: "1" });
const pyClientAssertion = pythonClient("client-assertion");
const pyManagedIdentity = pythonClient("managed-identity");
const pyMsalString = pythonClient("msal-string");
const pyMsalCallable = pythonClient("msal-callable");
const pythonClients = python ? [pyClientAssertion, pyManagedIdentity, pyMsalString, pyMsalCallable] : [];

const SUBJECT_WITHOUT_CREDENTIAL = new RegExp(
  `AADSTS700213: No matching federated identity record found for presented assertion subject 'system:serviceaccount:${NS}:${STRANGER_SA}'`,
);

function decodeClaims(token: string): Record<string, unknown> {
  const payload = token.split(".")[1];
  assert.ok(payload, `not a JWT: ${token.slice(0, 40)}`);
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
}

/** "METHOD https://host[:port]/path" of each request a client logged sending, in order, without queries. */
function requestsSent(stderr: string): string[] {
  const sent: string[] = [];
  // @azure/core-rest-pipeline at AZURE_LOG_LEVEL=info
  for (const [, url = "", method] of stderr.matchAll(
    /Request: \{\s*"url": "([^"]+)",\s*"method": "([A-Z]+)"/g,
  )) {
    sent.push(`${method} ${url}`);
  }
  // Node's fetch (msal-node's HTTP client) at NODE_DEBUG=fetch; CONNECTs to the proxy are not requests
  for (const [, method, url = ""] of stderr.matchAll(
    /FETCH \d+: sending request to ([A-Z]+) (https:\/\/\S+)/g,
  )) {
    sent.push(`${method} ${url}`);
  }
  // urllib3 at DEBUG: https://host:port "METHOD /path HTTP/1.1"
  for (const [, origin = "", method, path = ""] of stderr.matchAll(
    /urllib3\.connectionpool: (https:\/\/\S+) "([A-Z]+) (\S+) HTTP\//g,
  )) {
    sent.push(`${method} ${origin.replace(/:443$/, "")}${path}`);
  }
  return sent.map((line) => line.replace(/\?.*$/, ""));
}

describe("federated token exchange by official clients against wikit up", { timeout: 300_000 }, () => {
  const dataDir = newDataDir();
  let info: ServerInfo;
  let identity: Identity;
  let exchanged: Record<string, Outcome>;
  let refused: Record<string, Outcome>;
  let authority: string;
  let tenantDiscovery: string;
  let tokenRequest: string;

  /** `node FILE ARGS` as its own process, without blocking this one: its stdout, or an error with its output. */
  const node = async (file: string, args: string[]): Promise<string> => {
    try {
      const { stdout } = await execFileAsync(process.execPath, [file, ...args], {
        cwd: repoRoot,
        timeout: 120_000,
        maxBuffer: 16 * 1024 * 1024,
      });
      return stdout;
    } catch (error) {
      const { stderr = "", stdout = "" } = error as { stderr?: string; stdout?: string };
      throw new Error(`${file} ${args.join(" ")} failed:\n${stderr}${stdout}`, { cause: error });
    }
  };

  /** `wikit` commands on this data directory, one after another in one process: their JSON outputs. */
  const wikitCommands = async <T extends unknown[]>(commands: string[][]): Promise<T> => {
    const withDir = commands.map((args) => [...args, "--data-dir", dataDir]);
    const stdout = await node(join(repoRoot, "test", "compat", "wikit-commands.ts"), [
      JSON.stringify(withDir),
    ]);
    return stdout
      .split("\u001e\n")
      .slice(0, commands.length)
      .map((output) => JSON.parse(output)) as T;
  };

  /** The client apps inside one `wikit run` as the service account, each as its own process. */
  const runClients = async (serviceAccount: string, specs: ClientSpec[]) =>
    JSON.parse(
      await node(cliEntry, [
        ...["run", "--data-dir", dataDir, "--namespace", NS, "--service-account", serviceAccount],
        ...["--env", `SCOPE=https://${info.vaultDomain}:${info.port}/.default`],
        ...["--", process.execPath, join(apps, "run-clients.mjs"), JSON.stringify(specs)],
      ]),
    ) as Record<string, Outcome>;

  /** `GET /secrets/{name}` on the vault with a bearer token, sent to wikit's address under the vault's name. */
  const readSecret = (token: string) => {
    const host = `${VAULT}.${info.vaultDomain}`;
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const sent = request(
        {
          host: "127.0.0.1",
          port: info.port,
          servername: host,
          ca: readFileSync(info.caFile),
          path: `/secrets/${SECRET}?api-version=7.4`,
          headers: { host: `${host}:${info.port}`, authorization: `Bearer ${token}` },
        },
        (response) => {
          let body = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => {
            body += chunk;
          });
          response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        },
      );
      sent.on("error", reject);
      sent.end();
    });
  };

  const outcomeOf = (outcomes: Record<string, Outcome>, spec: ClientSpec): Outcome => {
    const outcome = outcomes[spec.id];
    assert.ok(outcome, `${spec.id} did not run`);
    return outcome;
  };

  /**
   * The client exited 0 having sent exactly `requests`, and the access token it printed is the identity's, for
   * the vault, and the vault serves the secret to it.
   */
  const assertExchange = async (spec: ClientSpec, requests: string[]) => {
    const outcome = outcomeOf(exchanged, spec);
    assert.equal(outcome.code, 0, `${spec.id} failed:\n${outcome.stdout}\n${outcome.stderr}`);
    assert.deepEqual(requestsSent(outcome.stderr), requests);
    const { accessToken } = JSON.parse(outcome.stdout) as { accessToken: string };
    const claims = decodeClaims(accessToken);
    assert.equal(claims.aud, `https://${info.vaultDomain}:${info.port}`);
    assert.equal(claims.iss, `https://sts.windows.net/${info.tenantId}/`);
    assert.equal(claims.tid, info.tenantId);
    assert.equal(claims.appid, identity.clientId);
    assert.equal(claims.oid, identity.principalId);
    assert.equal(claims.sub, identity.principalId);
    assert.equal(claims.idtyp, "app");
    assert.equal(claims.xms_mirid, identity.id.replace("/resourceGroups/", "/resourcegroups/"));
    const read = await readSecret(accessToken);
    assert.equal(read.status, 200, read.body);
    assert.equal((JSON.parse(read.body) as { value: string }).value, SECRET_VALUE);
    return outcome;
  };

  /** The error a client printed for the stranger's token, after checking that it exited 1. */
  const errorOf = <T>(spec: ClientSpec): T => {
    const outcome = outcomeOf(refused, spec);
    assert.equal(outcome.code, 1, `${spec.id} should have failed:\n${outcome.stdout}\n${outcome.stderr}`);
    return (JSON.parse(outcome.stdout) as { error: T }).error;
  };

  const skipWithoutPython = (t: { skip(message: string): void }) => {
    if (python) return false;
    assert.ok(!process.env.CI, "CI must install python3-azure");
    t.skip("python3-azure is not installed");
    return true;
  };

  before(async () => {
    const started = wikit(dataDir, ["up", "--port", "0", "--detach"]);
    assert.equal(started.status, 0, started.stderr);
    const current = await readServerInfo(dataDir);
    assert.ok(current, "wikit up --detach returned before announcing itself");
    info = current;
    authority = `${info.url}/${info.tenantId}`;
    tenantDiscovery = `GET ${authority}/v2.0/.well-known/openid-configuration`;
    tokenRequest = `POST ${authority}/oauth2/v2.0/token`;

    const [, created, vault] = await wikitCommands<[unknown, Identity, { id: string }]>([
      ["group", "create", "--name", GROUP],
      ["identity", "create", "-g", GROUP, "-n", IDENTITY],
      ["keyvault", "create", "-g", GROUP, "-n", VAULT],
    ]);
    identity = created;
    const serviceAccount = (name: string) => [
      ...["serviceaccount", "create", "phase", "service-account", "--namespace", NS, "--name", name],
      ...["--client-id", identity.clientId],
    ];
    await wikitCommands([
      serviceAccount(TRUSTED_SA),
      serviceAccount(STRANGER_SA),
      [
        ...["identity", "federated-credential", "create", "-g", GROUP, "--identity-name", IDENTITY],
        ...[
          "-n",
          TRUSTED_SA,
          "--issuer",
          info.issuerUrl,
          "--subject",
          `system:serviceaccount:${NS}:${TRUSTED_SA}`,
        ],
        ...["--audiences", "api://AzureADTokenExchange"],
      ],
      ["keyvault", "secret", "set", "--vault-name", VAULT, "--name", SECRET, "--value", SECRET_VALUE],
      [
        ...["role", "assignment", "create", "--role", "Key Vault Secrets User"],
        ...["--assignee-object-id", identity.principalId, "--scope", vault.id],
      ],
    ]);

    [exchanged, refused] = await Promise.all([
      runClients(TRUSTED_SA, [
        jsDefault,
        jsWorkloadOptions,
        jsWorkloadEnv,
        jsManagedIdentity,
        jsManagedIdentityClientId,
        jsManagedIdentityMicrosoftHost,
        msalString,
        msalCallback,
        msalDiscovered,
        ...pythonClients,
      ]),
      runClients(STRANGER_SA, [
        jsWorkloadEnv,
        jsManagedIdentity,
        msalString,
        ...(python ? [pyClientAssertion, pyManagedIdentity, pyMsalString] : []),
      ]),
    ]);
  });

  after(() => {
    wikit(dataDir, ["down"]);
  });

  describe("@azure/identity 4.13.1", () => {
    test("DefaultAzureCredential gets its token from WorkloadIdentityCredential, after instance discovery that wikit answers as login.microsoftonline.com", async () => {
      const { stderr } = await assertExchange(jsDefault, [INSTANCE_DISCOVERY, tenantDiscovery, tokenRequest]);
      assert.match(
        stderr,
        /ChainedTokenCredential => getToken\(\) => Result for WorkloadIdentityCredential: SUCCESS/,
      );
    });

    test("WorkloadIdentityCredential with tenantId, clientId, tokenFilePath and authorityHost in code, and no AZURE_* env, exchanges the token", async () => {
      await assertExchange(jsWorkloadOptions, [INSTANCE_DISCOVERY, tenantDiscovery, tokenRequest]);
    });

    test("WorkloadIdentityCredential configured by the AZURE_* env alone exchanges the token", async () => {
      await assertExchange(jsWorkloadEnv, [INSTANCE_DISCOVERY, tenantDiscovery, tokenRequest]);
    });

    test("ManagedIdentityCredential with AZURE_FEDERATED_TOKEN_FILE takes the token-exchange path, without instance discovery or IMDS", async () => {
      const { stderr } = await assertExchange(jsManagedIdentity, [tenantDiscovery, tokenRequest]);
      assert.match(
        stderr,
        /ManagedIdentityCredential => getToken\(\) => Using the token exchange managed identity\./,
      );
    });

    test("ManagedIdentityCredential({ clientId }) without AZURE_CLIENT_ID exchanges the token for the identity it names", async () => {
      await assertExchange(jsManagedIdentityClientId, [tenantDiscovery, tokenRequest]);
    });

    test("without AZURE_AUTHORITY_HOST, ManagedIdentityCredential posts straight to login.microsoftonline.com, which wikit run answers", async () => {
      await assertExchange(jsManagedIdentityMicrosoftHost, [
        `POST https://login.microsoftonline.com/${info.tenantId}/oauth2/v2.0/token`,
      ]);
    });

    test("a subject without a federated credential reaches WorkloadIdentityCredential and ManagedIdentityCredential as AADSTS700213", () => {
      for (const spec of [jsWorkloadEnv, jsManagedIdentity]) {
        const error = errorOf<{ name: string; message: string }>(spec);
        assert.equal(error.name, "AuthenticationRequiredError", spec.id);
        assert.match(error.message, /^invalid_client: Error\(s\): 700213 - /, spec.id);
        assert.match(error.message, SUBJECT_WITHOUT_CREDENTIAL, spec.id);
      }
    });
  });

  describe("@azure/msal-node 5.6.0", () => {
    test("ConfidentialClientApplication with a clientAssertion string and wikit's host in knownAuthorities exchanges the token, without instance discovery", async () => {
      await assertExchange(msalString, [tenantDiscovery, tokenRequest]);
    });

    test("ConfidentialClientApplication with a clientAssertion callback calls it and exchanges the token", async () => {
      await assertExchange(msalCallback, [tenantDiscovery, tokenRequest]);
    });

    test("without knownAuthorities, msal-node's instance discovery is answered by wikit when Node's fetch uses wikit run's proxy (NODE_USE_ENV_PROXY=1)", async () => {
      const { stderr } = await assertExchange(msalDiscovered, [
        INSTANCE_DISCOVERY,
        tenantDiscovery,
        tokenRequest,
      ]);
      assert.ok(
        stderr.includes(
          `/common/discovery/instance?api-version=1.1&authorization_endpoint=${authority}/oauth2/v2.0/authorize`,
        ),
        "msal-node asks about wikit's authority, port included",
      );
    });

    test("a subject without a federated credential surfaces as a ServerError invalid_client with AADSTS700213", () => {
      const error = errorOf<{ name: string; errorCode: string; errorMessage: string }>(msalString);
      assert.equal(error.name, "ServerError");
      assert.equal(error.errorCode, "invalid_client");
      assert.match(error.errorMessage, /^Error\(s\): 700213 - /);
      assert.match(error.errorMessage, SUBJECT_WITHOUT_CREDENTIAL);
    });
  });

  describe("Debian's Python: azure-identity 1.13.0b2 and msal 1.21.0", () => {
    test("azure-identity ClientAssertionCredential reading the token file exchanges it with one token request", async (t) => {
      if (skipWithoutPython(t)) return;
      await assertExchange(pyClientAssertion, [tokenRequest]);
    });

    test("azure-identity ManagedIdentityCredential exchanges the token file (TokenExchangeCredential) with one token request", async (t) => {
      if (skipWithoutPython(t)) return;
      await assertExchange(pyManagedIdentity, [tokenRequest]);
    });

    test("msal ConfidentialClientApplication with client_credential={'client_assertion': token} exchanges it after instance discovery that wikit answers for a port-less authority", async (t) => {
      if (skipWithoutPython(t)) return;
      const { stderr } = await assertExchange(pyMsalString, [
        INSTANCE_DISCOVERY,
        tenantDiscovery,
        tokenRequest,
      ]);
      // msal-python drops the port from the authority it asks about; wikit still names its own.
      assert.ok(
        stderr.includes(
          `/common/discovery/instance?authorization_endpoint=https%3A%2F%2Flocalhost%2F${info.tenantId}%2Foauth2%2Fv2.0%2Fauthorize&api-version=1.0`,
        ),
        "msal-python asks about the authority without its port",
      );
    });

    test("msal ConfidentialClientApplication with a callable client_assertion and instance_discovery=False exchanges the token", async (t) => {
      if (skipWithoutPython(t)) return;
      await assertExchange(pyMsalCallable, [tenantDiscovery, tokenRequest]);
    });

    test("a subject without a federated credential reaches azure-identity as ClientAuthenticationError and msal as error_codes [700213]", (t) => {
      if (skipWithoutPython(t)) return;
      for (const spec of [pyClientAssertion, pyManagedIdentity]) {
        const error = errorOf<{ name: string; message: string }>(spec);
        assert.equal(error.name, "ClientAuthenticationError", spec.id);
        assert.match(
          error.message,
          /^Azure Active Directory error '\(invalid_client\) AADSTS700213: /,
          spec.id,
        );
        assert.match(error.message, SUBJECT_WITHOUT_CREDENTIAL, spec.id);
      }
      const error = errorOf<{ error: string; error_description: string; error_codes: number[] }>(
        pyMsalString,
      );
      assert.equal(error.error, "invalid_client");
      assert.deepEqual(error.error_codes, [700213]);
      assert.match(error.error_description, SUBJECT_WITHOUT_CREDENTIAL);
    });
  });
});
