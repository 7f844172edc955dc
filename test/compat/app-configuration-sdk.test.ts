// Issue 12's proof: App Configuration read by the unmodified providers and SDKs through a real `wikit up`, the apps
// launched by `wikit run` with only the webhook's environment plus AZURE_APPCONFIGURATION_ENDPOINT (walkthrough
// W5), and the service's answers to the failures users hit: 403 without a data role, 401 for HMAC requests that are
// wrongly signed, stale or whose body was changed. Paging through the SDK over more than 1,000 key-values, and a
// fuzz of the key and label filters over HTTP, which must never get a 5xx.
import assert from "node:assert/strict";
import { createHash, createHmac, randomBytes, randomUUID } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import {
  type CreatedIdentity,
  createFederatedIdentity,
  createVaultWithSecret,
  type RunWikit,
} from "../../src/cli/walkthrough.ts";
import type { ServerInfo } from "../../src/server/data-dir.ts";
import {
  httpsRequest,
  newDataDir,
  pythonWithAzure,
  repoRoot,
  startWikitUp,
  wikit,
  wikitJson,
} from "./local-stack.ts";

const pythonProvider = join(repoRoot, "examples", "python", "appconfig-provider.py");
const jsProvider = join(repoRoot, "examples", "js", "appconfig-provider.mjs");
const jsClient = join(repoRoot, "examples", "js", "appconfig-client.mjs");
const python = pythonWithAzure();
const NS = "appconfig";
const GROUP = "rg-appconfig";
const KV_JSON = "application/vnd.microsoft.appconfig.kv+json";
const KEY_VAULT_REFERENCE = "application/vnd.microsoft.appconfig.keyvaultref+json;charset=utf-8";
const SECRET_VALUE = `db-${randomUUID()}`;
const BULK_COUNT = 1_050;

interface AccessKey {
  id: string;
  name: string;
  value: string;
  connectionString: string;
  readOnly: boolean;
}

/** A store as `wikit appconfig create` prints it: flattened, as az prints it. */
interface Store {
  id: string;
  name: string;
  endpoint: string;
}

/** The headers of an HMAC-SHA256 request as the reference defines it; `secret` is the key's base64 value. */
function hmacHeaders(
  request: { method: string; pathAndQuery: string; host: string; body: string },
  key: { id: string; secret: string },
  date = new Date(),
): Record<string, string> {
  const contentHash = createHash("sha256").update(request.body).digest("base64");
  const signedDate = date.toUTCString();
  const stringToSign = `${request.method}\n${request.pathAndQuery}\n${signedDate};${request.host};${contentHash}`;
  const signature = createHmac("sha256", Buffer.from(key.secret, "base64"))
    .update(stringToSign)
    .digest("base64");
  return {
    "x-ms-date": signedDate,
    "x-ms-content-sha256": contentHash,
    authorization: `HMAC-SHA256 Credential=${key.id}&SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`,
  };
}

/** The environment of the test minus any AZURE_* variable, so that apps see only what `wikit run` gives them. */
function withoutAzureVariables(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("AZURE_")));
}

describe("App Configuration: the official providers and SDKs against wikit up", { timeout: 900_000 }, () => {
  const dataDir = newDataDir();
  let info: ServerInfo;
  let ca = "";
  let store: Store;
  let endpoint = "";
  let host = "";
  let primary: AccessKey;
  let reader: CreatedIdentity;
  let writer: CreatedIdentity;
  let secretUri = "";

  const run: RunWikit = (args) => wikitJson(dataDir, args);

  /** One of the store's access keys, as `wikit appconfig credential list` shows them. */
  const accessKey = (keyName: string): AccessKey => {
    const keys = wikitJson<AccessKey[]>(dataDir, ["appconfig", "credential", "list", "-n", store.name]);
    const key = keys.find((candidate) => candidate.name === keyName);
    assert.ok(key, JSON.stringify(keys));
    return key;
  };

  /** A data-plane request to the store, HMAC-signed with `key` (default: the primary read-write key). */
  const dataPlane = (
    method: string,
    pathAndQuery: string,
    options: { body?: string; headers?: Record<string, string>; key?: { id: string; secret: string } } = {},
  ) => {
    const body = options.body ?? "";
    // Signed as sent: the URL parser percent-encodes a few characters (such as ') that the caller left as they are.
    const url = new URL(`${endpoint}${pathAndQuery}`);
    const signed = hmacHeaders(
      { method, pathAndQuery: `${url.pathname}${url.search}`, host, body },
      options.key ?? { id: primary.id, secret: primary.value },
    );
    return httpsRequest(url.href, {
      ca,
      method,
      host,
      body,
      headers: { ...signed, ...options.headers },
    });
  };

  /** Sets a key-value with a label through the data plane, HMAC-signed; it must succeed. */
  const setKeyValue = async (key: string, label: string, value: string) => {
    const path = `/kv/${encodeURIComponent(key)}?label=${encodeURIComponent(label)}&api-version=1.0`;
    const response = await dataPlane("PUT", path, {
      body: JSON.stringify({ value }),
      headers: { "content-type": KV_JSON },
    });
    assert.equal(response.status, 200, `PUT ${key}@${label}: ${response.body}`);
  };

  /** `wikit run` of `command` as the service account's pod, with the store's endpoint and `env` as its own env. */
  const runApp = (serviceAccount: string, command: string[], env: Record<string, string> = {}) =>
    wikit(
      dataDir,
      [
        ...["run", "--namespace", NS, "--service-account", serviceAccount],
        ...["--env", `AZURE_APPCONFIGURATION_ENDPOINT=${endpoint}`],
        ...Object.entries(env).flatMap(([name, value]) => ["--env", `${name}=${value}`]),
        "--",
        ...command,
      ],
      withoutAzureVariables(),
    );

  const identityFor = (name: string, serviceAccount: string) =>
    createFederatedIdentity(run, {
      group: GROUP,
      identity: name,
      namespace: NS,
      serviceAccount,
      issuer: info.issuerUrl,
    });

  const assignRole = (role: string, principalId: string, scope: string) =>
    wikitJson(dataDir, [
      ...["role", "assignment", "create", "--role", role],
      ...["--assignee-object-id", principalId, "--scope", scope],
    ]);

  before(async () => {
    ({ info, ca } = await startWikitUp(dataDir));
    wikitJson(dataDir, ["group", "create", "--name", GROUP]);
    reader = identityFor("config-reader", "config-reader-sa");
    writer = identityFor("config-writer", "config-writer-sa");
    const vault = createVaultWithSecret(run, {
      group: GROUP,
      vault: `kv-${randomUUID().slice(0, 8)}`,
      secret: "db-password",
      value: SECRET_VALUE,
      readerPrincipalId: reader.principalId,
    });
    secretUri = `${vault.properties.vaultUri}secrets/db-password`;

    // The store and W5's key-values, made with the CLI as docs/app-configuration.md makes them: one setting per
    // environment label, a JSON value, a Key Vault reference, and neighbours that the selector must leave out.
    const name = `cs-${randomUUID().slice(0, 8)}`;
    store = wikitJson<Store>(dataDir, ["appconfig", "create", "-g", GROUP, "-n", name, "-l", "local"]);
    endpoint = store.endpoint;
    assert.equal(endpoint, `https://${name}.${info.appConfigDomain}:${info.port}`);
    host = new URL(endpoint).host;
    primary = accessKey("Primary");
    const kvSet = (key: string, label: string | undefined, ...rest: string[]) =>
      wikitJson(dataDir, [
        ...["appconfig", "kv", "set", "-n", name, "--key", key],
        ...(label === undefined ? [] : ["--label", label]),
        ...rest,
        "--yes",
      ]);
    kvSet("myapp:greeting", "prd", "--value", "hello from prd");
    kvSet("myapp:greeting", "dev", "--value", "hello from dev");
    kvSet("myapp:greeting", undefined, "--value", "hello from nowhere");
    kvSet(
      "myapp:retry",
      "prd",
      ...["--value", '{"attempts":3,"backoff":"exponential"}', "--content-type", "application/json"],
    );
    kvSet("otherapp:greeting", "prd", "--value", "not for myapp");
    const reference = wikitJson<{ contentType: string }>(dataDir, [
      ...["appconfig", "kv", "set-keyvault", "-n", name, "--key", "myapp:db-password", "--label", "prd"],
      ...["--secret-identifier", secretUri, "--yes"],
    ]);
    assert.equal(reference.contentType, KEY_VAULT_REFERENCE);

    // The reader reads at the store; the writer owns the data of the whole group.
    assignRole("App Configuration Data Reader", reader.principalId, store.id);
    assignRole(
      "App Configuration Data Owner",
      writer.principalId,
      `/subscriptions/${info.subscriptionId}/resourceGroups/${GROUP}`,
    );
    assignRole("Key Vault Secrets User", writer.principalId, vault.id);
  });

  after(() => {
    wikit(dataDir, ["down"]);
  });

  const W5_SETTINGS = () => ({
    "db-password": SECRET_VALUE,
    greeting: "hello from prd",
    retry: { attempts: 3, backoff: "exponential" },
  });

  test("Debian's Python provider in wikit run loads myapp:* / prd, trims the prefix and resolves the Key Vault reference", (t) => {
    if (!python) {
      assert.ok(!process.env.CI, "CI must install python3-azure");
      t.skip("python3-azure is not installed");
      return;
    }
    const result = runApp("config-reader-sa", [python, pythonProvider]);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), W5_SETTINGS());
  });

  test("npm's @azure/app-configuration-provider in wikit run loads the same settings", () => {
    const result = runApp("config-reader-sa", [process.execPath, jsProvider]);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout.trim().split("\n").at(-1) ?? ""), W5_SETTINGS());
  });

  test("@azure/app-configuration: filters, ETag conditions, a read-only lock, revisions and a connection string", () => {
    const result = runApp("config-writer-sa", [process.execPath, jsClient], {
      AZURE_APPCONFIGURATION_CONNECTION_STRING: primary.connectionString,
    });
    assert.equal(result.status, 0, result.stderr);
    const seen = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "");
    // Lists come sorted by key, then label, with the null label first.
    assert.deepEqual(seen.keyWildcard, ["tour:a,b@dev", "tour:color", "tour:color@prd", "tour:size@prd"]);
    assert.deepEqual(seen.nullLabel, ["tour:color"]);
    assert.deepEqual(seen.labelPrd, ["tour:color@prd", "tour:size@prd"]);
    assert.deepEqual(seen.keyList, ["tour:color@prd", "tour:size@prd"]);
    assert.deepEqual(seen.escapedComma, ["tour:a,b@dev"]);
    assert.deepEqual(seen.selectedFields, [{ key: "tour:size", tags: { team: "web" } }]);
    assert.equal(seen.etagChanged, true);
    assert.equal(seen.staleWrite, 412);
    assert.equal(seen.unchangedRead, 304);
    assert.equal(seen.changedRead, 200);
    assert.equal(seen.addExisting, 412);
    assert.equal(seen.sizeNow, "XL");
    assert.equal(seen.locked, true);
    assert.equal(seen.writeWhileLocked, 409);
    assert.equal(seen.deleteWhileLocked, 409);
    assert.equal(seen.writeAfterUnlock, 200);
    assert.deepEqual(seen.revisions, ["v2", "v1"]);
    assert.deepEqual(seen.releaseThen, ["v1"]);
    assert.equal(seen.releaseNow, "v2");
    assert.deepEqual(seen.connectionString, ["tour:by-key"]);
    assert.equal(seen.connectionStringList, 6);
  });

  test("Python's SDK with a connection string writes, then reads back sending the Sync-Token as it does (id=value)", (t) => {
    if (!python) return t.skip("python3-azure is not installed");
    const script = [
      "import os",
      "from azure.appconfiguration import AzureAppConfigurationClient, ConfigurationSetting",
      'client = AzureAppConfigurationClient.from_connection_string(os.environ["AZURE_APPCONFIGURATION_CONNECTION_STRING"])',
      'client.set_configuration_setting(ConfigurationSetting(key="py:written", label="prd", value="by python"))',
      'print(client.get_configuration_setting(key="py:written", label="prd").value)',
    ].join("\n");
    const result = runApp("config-reader-sa", [python, "-c", script], {
      AZURE_APPCONFIGURATION_CONNECTION_STRING: primary.connectionString,
    });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), "by python");
  });

  test("without App Configuration Data Reader the SDKs get the service's 403; with it, the same identity reads", () => {
    const outsider = identityFor("config-outsider", "config-outsider-sa");
    const listWithToken = [process.execPath, jsClient, "pages", "myapp:*", "prd"];
    const refusedJs = runApp("config-outsider-sa", listWithToken);
    assert.notEqual(refusedJs.status, 0);
    assert.match(refusedJs.stderr, /statusCode: 403/);
    if (python) {
      const refusedPy = runApp("config-outsider-sa", [python, pythonProvider]);
      assert.notEqual(refusedPy.status, 0);
      assert.match(refusedPy.stderr, /HttpResponseError/);
      assert.match(refusedPy.stderr, /Forbidden/);
      assert.doesNotMatch(refusedPy.stdout, new RegExp(SECRET_VALUE));
    }
    // The 403 is the role's doing, not the sign-in's: the same identity is let in once it has the role.
    assignRole("App Configuration Data Reader", outsider.principalId, store.id);
    const admitted = runApp("config-outsider-sa", listWithToken);
    assert.equal(admitted.status, 0, admitted.stderr);
    assert.equal(JSON.parse(admitted.stdout.trim().split("\n").at(-1) ?? "").total, 3);
  });

  test("HMAC: a correctly signed request is answered, with the Sync-Token the SDKs carry on", async () => {
    const response = await dataPlane("GET", "/kv/myapp:greeting?label=prd&api-version=1.0");
    assert.equal(response.status, 200, response.body);
    assert.match(
      String(response.headers["content-type"]),
      /^application\/vnd\.microsoft\.appconfig\.kv\+json/,
    );
    assert.equal(JSON.parse(response.body).value, "hello from prd");
    assert.match(String(response.headers["sync-token"]), /^[^=;]+=[^;]+;sn=\d+/);
    assert.match(String(response.headers.etag), /^"[^"]+"$/);
  });

  test("HMAC: no Authorization is 401 with WWW-Authenticate: HMAC-SHA256, Bearer", async () => {
    const response = await httpsRequest(`${endpoint}/kv?api-version=1.0`, { ca, host });
    assert.equal(response.status, 401);
    assert.equal(response.headers["www-authenticate"], "HMAC-SHA256, Bearer");
  });

  test("HMAC: a signature made with another secret is 401 Invalid Signature", async () => {
    const pathAndQuery = "/kv?key=myapp:*&api-version=1.0";
    const headers = hmacHeaders(
      { method: "GET", pathAndQuery, host, body: "" },
      { id: primary.id, secret: randomBytes(32).toString("base64") },
    );
    const response = await httpsRequest(`${endpoint}${pathAndQuery}`, { ca, host, headers });
    assert.equal(response.status, 401);
    assert.equal(
      response.headers["www-authenticate"],
      'HMAC-SHA256 error="invalid_token" error_description="Invalid Signature", Bearer',
    );
  });

  test("HMAC: a date 16 minutes old, correctly signed, is 401 The access token has expired", async () => {
    const pathAndQuery = "/kv?key=myapp:*&api-version=1.0";
    const headers = hmacHeaders(
      { method: "GET", pathAndQuery, host, body: "" },
      { id: primary.id, secret: primary.value },
      new Date(Date.now() - 16 * 60 * 1000),
    );
    const response = await httpsRequest(`${endpoint}${pathAndQuery}`, { ca, host, headers });
    assert.equal(response.status, 401);
    assert.equal(
      response.headers["www-authenticate"],
      'HMAC-SHA256 error="invalid_token" error_description="The access token has expired", Bearer',
    );
  });

  test("HMAC: a body that is not the one x-ms-content-sha256 and the signature cover is 401, and nothing is written", async () => {
    const pathAndQuery = "/kv/myapp:greeting?label=prd&api-version=1.0";
    const signedBody = JSON.stringify({ value: "hello from prd" });
    const headers = hmacHeaders(
      { method: "PUT", pathAndQuery, host, body: signedBody },
      { id: primary.id, secret: primary.value },
    );
    const response = await httpsRequest(`${endpoint}${pathAndQuery}`, {
      ca,
      host,
      method: "PUT",
      body: JSON.stringify({ value: "tampered" }),
      headers: { ...headers, "content-type": KV_JSON },
    });
    assert.equal(response.status, 401);
    assert.match(
      String(response.headers["www-authenticate"]),
      /^HMAC-SHA256 error="invalid_token" error_description="[^"]+", Bearer$/,
    );
    const current = await dataPlane("GET", pathAndQuery);
    assert.equal(JSON.parse(current.body).value, "hello from prd");
  });

  test("HMAC: a read-only key reads but cannot write (403)", async () => {
    const readOnly = accessKey("Primary Read Only");
    const key = { id: readOnly.id, secret: readOnly.value };
    const read = await dataPlane("GET", "/kv/myapp:greeting?label=prd&api-version=1.0", { key });
    assert.equal(read.status, 200, read.body);
    const write = await dataPlane("PUT", "/kv/myapp:greeting?label=prd&api-version=1.0", {
      key,
      body: JSON.stringify({ value: "overwritten" }),
      headers: { "content-type": KV_JSON },
    });
    assert.equal(write.status, 403);
  });

  test("paging: the SDK lists all 1,050 key-values of a filter, in pages of 100 linked by Link rel=next", async () => {
    const queue = Array.from({ length: BULK_COUNT }, (_, index) => `bulk:${String(index).padStart(4, "0")}`);
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
          await setKeyValue(key, "prd", `value of ${key}`);
        }
      }),
    );
    await setKeyValue("bulk:0000", "dev", "another label, left out by the filter");

    const first = await dataPlane("GET", "/kv?key=bulk:*&label=prd&api-version=1.0");
    assert.equal(first.status, 200, first.body);
    assert.equal(JSON.parse(first.body).items.length, 100);
    const link = String(first.headers.link);
    assert.match(link, /^<\/kv\?[^>]*>; rel="next"$/);
    const next = /^<([^>]+)>/.exec(link)?.[1] ?? "";
    const second = await dataPlane("GET", next);
    assert.equal(second.status, 200, second.body);
    const firstKeys = JSON.parse(first.body).items.map((item: { key: string }) => item.key);
    const secondKeys = JSON.parse(second.body).items.map((item: { key: string }) => item.key);
    assert.equal(secondKeys.length, 100);
    assert.ok(firstKeys.at(-1) < secondKeys[0], "the next page goes on where the first ended");

    const result = runApp("config-reader-sa", [process.execPath, jsClient, "pages", "bulk:*", "prd"], {
      AZURE_APPCONFIGURATION_CONNECTION_STRING: primary.connectionString,
    });
    assert.equal(result.status, 0, result.stderr);
    const listed = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "");
    assert.deepEqual(listed.pages, [...Array.from({ length: 10 }, () => 100), 50]);
    assert.equal(listed.total, BULK_COUNT);
    assert.equal(listed.distinct, BULK_COUNT);
  });

  test("fuzz: key and label filters of any text, escapes and broken percent-encodings never get a 5xx", async () => {
    const special = fc.constantFrom(
      "*",
      ",",
      "\\",
      "\0",
      ":",
      "%",
      "&",
      "=",
      "?",
      "#",
      "+",
      " ",
      "é",
      "😀",
      "a",
      "b",
    );
    const filterText = fc.oneof(
      fc.string({ unit: special, maxLength: 12 }),
      fc.string({ unit: "grapheme", maxLength: 12 }),
    );
    const encoded = filterText.map(encodeURIComponent);
    // Raw bytes as %XX, many of them not UTF-8: the server must refuse them, not fail on them.
    const rawBytes = fc
      .array(fc.integer({ min: 0, max: 255 }), { maxLength: 8 })
      .map((bytes) => bytes.map((byte) => `%${byte.toString(16).padStart(2, "0")}`).join(""));
    const parameter = fc.oneof(encoded, rawBytes);
    const path = fc.constantFrom("/kv", "/keys", "/labels", "/revisions");
    await fc.assert(
      fc.asyncProperty(path, parameter, parameter, async (route, key, label) => {
        const query =
          route === "/keys"
            ? `name=${key}`
            : route === "/labels"
              ? `name=${label}`
              : `key=${key}&label=${label}`;
        const response = await dataPlane("GET", `${route}?${query}&api-version=1.0`);
        assert.ok(response.status < 500, `${route}?${query}: ${response.status} ${response.body}`);
        if (response.status === 400) {
          assert.match(String(response.headers["content-type"]), /^application\/problem\+json/);
          assert.equal(JSON.parse(response.body).type, "https://azconfig.io/errors/invalid-argument");
        } else {
          assert.equal(response.status, 200, `${route}?${query}: ${response.body}`);
        }
      }),
      { numRuns: 300 },
    );
  });
});
