// `wikit appconfig` against a real `wikit up`: stores as ARM resources and their access keys, then key-values
// through the store's data plane with an access key (by name or connection string) and with the signed-in
// principal's token, in az's output shapes and with az's confirmations.

import assert from "node:assert/strict";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { cliEntry, newDataDir, runWikit } from "../compat/local-stack.ts";

const STORE = "appcs-cli-1";

describe("wikit appconfig against wikit up", { timeout: 600_000 }, () => {
  const dataDir = newDataDir();
  const env = { ...process.env, WIKIT_HOME: dataDir, AZURE_APPCONFIG_CONNECTION_STRING: "" };
  const wikit = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    runWikit(args, { env: { ...env, ...extraEnv } });
  const ok = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const result = await wikit(args, extraEnv);
    assert.equal(result.code, 0, `wikit ${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  };
  const json = async <T = Record<string, unknown>>(args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    JSON.parse(await ok(args, extraEnv)) as T;
  const store = ["-n", STORE];
  const keyValues = (args: string[]) =>
    json<Record<string, unknown>[]>(["appconfig", "kv", "list", ...store, ...args]);

  before(async () => {
    await ok(["up", "--port", "0", "--detach"]);
    await ok(["group", "create", "--name", "rg-appcs", "-o", "none"]);
    await ok(["appconfig", "create", "-g", "rg-appcs", ...store, "-o", "none"]);
  });
  after(async () => {
    await wikit(["down"]);
    await rm(dataDir, { recursive: true, force: true });
  });

  test("create, show, list and delete print the store as az does; delete asks unless --yes", async () => {
    const created = await json([
      "appconfig",
      "create",
      "-g",
      "rg-appcs",
      "-n",
      "appcs-cli-temp",
      "--sku",
      "free",
      "--tags",
      "team=web",
      "solo",
    ]);
    assert.equal(created.name, "appcs-cli-temp");
    assert.equal(created.resourceGroup, "rg-appcs");
    assert.equal(created.type, "Microsoft.AppConfiguration/configurationStores");
    assert.deepEqual(created.tags, { team: "web", solo: "" });
    assert.equal((created.sku as { name: string }).name.toLowerCase(), "free");
    assert.match(String(created.endpoint), /^https:\/\/appcs-cli-temp\.azconfig\.localhost:\d+$/);
    assert.equal(created.provisioningState, "Succeeded");
    assert.equal("properties" in created, false, "properties at the top level, as az prints them");

    const shown = await json(["appconfig", "show", "-n", "appcs-cli-temp"]);
    assert.equal(shown.id, created.id, "found by name without -g");
    assert.deepEqual(
      (await ok(["appconfig", "list", "-g", "rg-appcs", "--query", "[].name", "-o", "tsv"]))
        .split("\n")
        .sort(),
      ["", STORE, "appcs-cli-temp"].sort(),
    );
    const table = (await ok(["appconfig", "show", "-n", "appcs-cli-temp", "-o", "table"])).split("\n");
    assert.match(
      table[0] ?? "",
      /^CREATION DATE\s+ENDPOINT\s+LOCATION\s+NAME\s+PROVISIONING STATE\s+RESOURCE GROUP\s+SKU\s+PURGE PROTECTION\s+SOFT DELETE RETENTION PERIOD$/,
    );

    const unconfirmed = await wikit(["appconfig", "delete", "-n", "appcs-cli-temp"]);
    assert.equal(unconfirmed.code, 1);
    assert.match(unconfirmed.stderr, /no terminal to confirm on: add --yes/);
    await ok(["appconfig", "delete", "-n", "appcs-cli-temp", "--yes"]);
    const gone = await wikit(["appconfig", "show", "-n", "appcs-cli-temp"]);
    assert.equal(gone.code, 3);
    assert.match(
      gone.stderr,
      /Failed to find the App Configuration store 'appcs-cli-temp'.*wikit appconfig create -g <group> -n appcs-cli-temp/,
    );
    const badSku = await wikit([
      "appconfig",
      "create",
      "-g",
      "rg-appcs",
      "-n",
      "appcs-cli-x",
      "--sku",
      "Gold",
    ]);
    assert.equal(badSku.code, 2);
    assert.match(badSku.stderr, /--sku: 'Gold' is not one of Free, Standard/);
  });

  test("credential list shows the four keys; a regenerated key stops working at once and the refusal names the fix", async () => {
    const keys = await json<Record<string, unknown>[]>(["appconfig", "credential", "list", ...store]);
    assert.deepEqual(
      keys.map((key) => [key.name, key.readOnly]),
      [
        ["Primary", false],
        ["Secondary", false],
        ["Primary Read Only", true],
        ["Secondary Read Only", true],
      ],
    );
    for (const key of keys) {
      assert.deepEqual(Object.keys(key).sort(), [
        "connectionString",
        "id",
        "lastModified",
        "name",
        "readOnly",
        "value",
      ]);
      assert.match(
        String(key.connectionString),
        new RegExp(`^Endpoint=https://${STORE}\\.azconfig\\.localhost:\\d+;Id=.+;Secret=.+$`),
      );
    }
    const secondary = keys[1] as { id: string; connectionString: string };
    const withKey = (connectionString: string) =>
      wikit(["appconfig", "kv", "list", "--connection-string", connectionString, "--query", "length(@)"]);
    assert.equal((await withKey(secondary.connectionString)).code, 0);

    const regenerated = await json(["appconfig", "credential", "regenerate", ...store, "--id", secondary.id]);
    assert.equal(regenerated.name, "Secondary");
    assert.notEqual(regenerated.id, secondary.id);
    assert.notEqual(regenerated.connectionString, secondary.connectionString);
    const refused = await withKey(secondary.connectionString);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      new RegExp(
        `refused the access key '${secondary.id}' \\(401 Unauthorized: Invalid Credential\\).*wikit appconfig credential list -n ${STORE}`,
      ),
    );
    assert.equal(refused.stderr.trim().split("\n").length, 1, "one line");
    assert.equal((await withKey(String(regenerated.connectionString))).code, 0);

    // A read-only key reads, and is refused a write with the key to use instead.
    const readOnly = keys[2] as { connectionString: string };
    const write = await wikit([
      "appconfig",
      "kv",
      "set",
      "--connection-string",
      readOnly.connectionString,
      "--key",
      "ro",
      "--value",
      "x",
      "--yes",
    ]);
    assert.equal(write.code, 1);
    assert.match(
      write.stderr,
      /may not write key-values \(403 Forbidden\): it is a read-only key; use a read-write one/,
    );
  });

  test("kv set, show and list: labels and the null label, key filters, --fields, --top, -o table and --query", async () => {
    const set = (key: string, extra: string[]) =>
      json(["appconfig", "kv", "set", ...store, "--key", key, "--yes", ...extra]);
    const first = await set("web:color", ["--value", "red", "--tags", "owner=web"]);
    assert.deepEqual(Object.keys(first).sort(), [
      "contentType",
      "etag",
      "key",
      "label",
      "lastModified",
      "locked",
      "tags",
      "value",
    ]);
    assert.equal(first.label, null);
    assert.equal(first.locked, false);
    assert.deepEqual(first.tags, { owner: "web" });
    assert.match(String(first.lastModified), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+00:00$/);
    await set("web:color", ["--value", "blue", "--label", "prd"]);
    await set("web:size", ["--value", "10", "--label", "prd"]);
    await set("api:url", ["--value", "https://api.example.test", "--label", "dev"]);
    // Not given, the value's tags and content type stay as they were, as az keeps them.
    const updated = await set("web:color", ["--value", "green"]);
    assert.deepEqual([updated.value, updated.tags], ["green", { owner: "web" }]);
    const refusedJson = await wikit([
      "appconfig",
      "kv",
      "set",
      ...store,
      "--key",
      "web:json",
      "--value",
      "{nope",
      "--content-type",
      "application/json",
      "--yes",
    ]);
    assert.match(
      refusedJson.stderr,
      /is not a valid JSON object, which conflicts with the content type "application\/json"/,
    );

    const keysOf = (items: Record<string, unknown>[]) =>
      items.map((item) => `${item.key}@${item.label ?? "\\0"}`).sort();
    assert.deepEqual(keysOf(await keyValues(["--key", "web:*"])), [
      "web:color@\\0",
      "web:color@prd",
      "web:size@prd",
    ]);
    assert.deepEqual(keysOf(await keyValues(["--label", "\\0"])), ["web:color@\\0"]);
    assert.deepEqual(keysOf(await keyValues(["--key", "web:*", "--label", "prd"])), [
      "web:color@prd",
      "web:size@prd",
    ]);
    assert.deepEqual(keysOf(await keyValues(["--label", "prd,dev"])), [
      "api:url@dev",
      "web:color@prd",
      "web:size@prd",
    ]);
    assert.deepEqual(keysOf(await keyValues(["--key", "api:url,web:size"])), ["api:url@dev", "web:size@prd"]);
    assert.equal((await keyValues(["--top", "2"])).length, 2);
    assert.deepEqual(await keyValues(["--key", "web:size", "--fields", "key", "value", "label"]), [
      { key: "web:size", value: "10", label: "prd" },
    ]);

    assert.equal(
      await ok([
        "appconfig",
        "kv",
        "show",
        ...store,
        "--key",
        "web:color",
        "--label",
        "prd",
        "--query",
        "value",
        "-o",
        "tsv",
      ]),
      "blue\n",
    );
    assert.equal(
      await ok(["appconfig", "kv", "show", ...store, "--key", "web:color", "--query", "value", "-o", "tsv"]),
      "green\n",
    );
    const missing = await wikit([
      "appconfig",
      "kv",
      "show",
      ...store,
      "--key",
      "web:color",
      "--label",
      "stg",
    ]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /Key 'web:color' with label 'stg' does not exist/);

    const table = (await ok(["appconfig", "kv", "list", ...store, "--key", "web:size", "-o", "table"])).split(
      "\n",
    );
    assert.match(table[0] ?? "", /^CONTENT TYPE\s+KEY\s+VALUE\s+LAST MODIFIED\s+TAGS\s+LABEL\s+LOCKED$/);
    assert.match(
      table[2] ?? "",
      /^\s+web:size\s+10\s+\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\s+\{\}\s+prd\s+False$/,
    );
    assert.equal(
      await ok([
        "appconfig",
        "kv",
        "list",
        ...store,
        "--key",
        "web:*",
        "--label",
        "prd",
        "--query",
        "[].value",
        "-o",
        "tsv",
      ]),
      "blue\n10\n",
    );

    const unconfirmed = await wikit([
      "appconfig",
      "kv",
      "set",
      ...store,
      "--key",
      "web:color",
      "--value",
      "x",
    ]);
    assert.equal(unconfirmed.code, 1);
    assert.match(unconfirmed.stderr, /Are you sure you want to set the key/);
    assert.match(unconfirmed.stderr, /add --yes/);
  });

  test("a locked key-value refuses set and delete with the unlock command to run; unlock lets them through", async () => {
    await ok(["appconfig", "kv", "set", ...store, "--key", "pinned", "--value", "1", "--yes", "-o", "none"]);
    const locked = await json(["appconfig", "kv", "lock", ...store, "--key", "pinned", "--yes"]);
    assert.equal(locked.locked, true);
    const set = await wikit(["appconfig", "kv", "set", ...store, "--key", "pinned", "--value", "2", "--yes"]);
    assert.equal(set.code, 1);
    assert.equal(
      set.stderr,
      `wikit: Failed to update the key-value 'pinned' (no label): it is locked (read-only). Unlock it first: wikit appconfig kv unlock -n ${STORE} --key pinned\n`,
    );
    const deleted = await wikit(["appconfig", "kv", "delete", ...store, "--key", "pinned", "--yes"]);
    assert.equal(deleted.code, 1);
    assert.match(
      deleted.stderr,
      /Failed to delete read-only key-value with key 'pinned' and no label\. Unlock the key-value before deleting it\./,
    );
    assert.equal(
      (await json(["appconfig", "kv", "unlock", ...store, "--key", "pinned", "--yes"])).locked,
      false,
    );
    assert.equal(
      (await json(["appconfig", "kv", "set", ...store, "--key", "pinned", "--value", "2", "--yes"])).value,
      "2",
    );
    const gone = await json<Record<string, unknown>[]>([
      "appconfig",
      "kv",
      "delete",
      ...store,
      "--key",
      "pinned",
      "--yes",
    ]);
    assert.deepEqual(
      gone.map((item) => [item.key, item.value]),
      [["pinned", "2"]],
    );
    assert.equal((await wikit(["appconfig", "kv", "show", ...store, "--key", "pinned"])).code, 3);
    const missing = await wikit(["appconfig", "kv", "lock", ...store, "--key", "pinned", "--yes"]);
    assert.match(missing.stderr, /Key 'pinned' with no label does not exist/);
  });

  test("set-keyvault stores a Key Vault reference as the providers read it", async () => {
    const secretId = "https://kv-appcs.vault.localhost:8443/secrets/db-password";
    const reference = await json([
      "appconfig",
      "kv",
      "set-keyvault",
      ...store,
      "--key",
      "myapp:db:password",
      "--label",
      "prd",
      "--secret-identifier",
      secretId,
      "--yes",
    ]);
    assert.equal(reference.contentType, "application/vnd.microsoft.appconfig.keyvaultref+json;charset=utf-8");
    assert.equal(reference.value, `{"uri":"${secretId}"}`);
    const refused = await wikit([
      "appconfig",
      "kv",
      "set-keyvault",
      ...store,
      "--key",
      "k",
      "--secret-identifier",
      "db-password",
      "--yes",
    ]);
    assert.match(refused.stderr, /is not a Key Vault object identifier/);
  });

  test("import from a file and export back to one give the same tree, feature flags included; the connection string may come from the environment", async () => {
    const original = {
      db: { host: "db.local", ports: ["5432", "5433"] },
      mode: "fast",
      FeatureManagement: {
        Beta: true,
        Old: false,
        Canary: { EnabledFor: [{ Name: "Percentage", Parameters: { Value: 10 } }] },
      },
    };
    const input = join(dataDir, "settings.json");
    const output = join(dataDir, "exported.json");
    await writeFile(input, JSON.stringify(original));
    const connectionString = (
      await ok(["appconfig", "credential", "list", ...store, "--query", "[0].connectionString", "-o", "tsv"])
    ).trimEnd();
    const fromEnvironment = { AZURE_APPCONFIG_CONNECTION_STRING: connectionString };
    const fileFlags = (direction: "-s" | "-d", path: string) => [
      direction,
      "file",
      "--path",
      path,
      "--format",
      "json",
      "--separator",
      ":",
      "--prefix",
      "svc:",
      "--label",
      "imp",
    ];

    const unconfirmed = await wikit(
      ["appconfig", "kv", "import", ...fileFlags("-s", input)],
      fromEnvironment,
    );
    assert.equal(unconfirmed.code, 1);
    assert.match(
      unconfirmed.stderr,
      /Key Values Preview[\s\S]*Adding:[\s\S]*"key":"svc:db:host"[\s\S]*add --yes/,
    );
    await ok(["appconfig", "kv", "import", ...fileFlags("-s", input), "--yes"], fromEnvironment);
    assert.deepEqual(
      (await keyValues(["--label", "imp", "--fields", "key", "value"]))
        .map((item) => `${item.key}=${item.value}`)
        .sort(),
      [
        '.appconfig.featureflag/Beta={"id": "Beta", "description": "", "enabled": true, "conditions": {"client_filters": []}}',
        '.appconfig.featureflag/Canary={"id": "Canary", "description": "", "enabled": true, "conditions": {"client_filters": [{"name": "Percentage", "parameters": {"Value": 10}}]}}',
        '.appconfig.featureflag/Old={"id": "Old", "description": "", "enabled": false, "conditions": {"client_filters": []}}',
        "svc:db:host=db.local",
        "svc:db:ports:0=5432",
        "svc:db:ports:1=5433",
        "svc:mode=fast",
      ],
    );
    await ok(["appconfig", "kv", "export", ...fileFlags("-d", output), "--yes"], fromEnvironment);
    assert.deepEqual(JSON.parse(await readFile(output, "utf8")), original);

    // Nothing new to import: az's note, and nothing written.
    const again = await wikit(["appconfig", "kv", "import", ...fileFlags("-s", input)], fromEnvironment);
    assert.equal(again.code, 0);
    assert.match(again.stderr, /Target configuration already contains all key-values in source/);
  });

  test("--auth-mode login: the store's 403 names the role to grant; Data Reader reads, Data Owner writes", async () => {
    const clientId = (
      await ok(["identity", "create", "-g", "rg-appcs", "-n", "mi-appcs", "--query", "clientId", "-o", "tsv"])
    ).trimEnd();
    const issuer = (
      await ok(["cluster", "show", "--query", "oidcIssuerProfile.issuerUrl", "-o", "tsv"])
    ).trimEnd();
    await ok([
      "identity",
      "federated-credential",
      "create",
      "-n",
      "kube",
      "--identity-name",
      "mi-appcs",
      "-g",
      "rg-appcs",
      "--issuer",
      issuer,
      "--subject",
      "system:serviceaccount:default:sa-appcs",
      "-o",
      "none",
    ]);
    await ok([
      "serviceaccount",
      "create",
      "phase",
      "service-account",
      "--namespace",
      "default",
      "-n",
      "sa-appcs",
      "--client-id",
      clientId,
      "-o",
      "none",
    ]);
    const login = await wikit([
      "run",
      "--namespace",
      "default",
      "--service-account",
      "sa-appcs",
      "--",
      "sh",
      "-c",
      `"${process.execPath}" "${cliEntry}" login --federated-token "$(cat $AZURE_FEDERATED_TOKEN_FILE)" --service-principal -u $AZURE_CLIENT_ID -t $AZURE_TENANT_ID --allow-no-subscriptions -o none`,
    ]);
    assert.equal(login.code, 0, login.stderr);

    const endpoint = (
      await ok(["appconfig", "show", ...store, "--query", "endpoint", "-o", "tsv"])
    ).trimEnd();
    const storeId = (await ok(["appconfig", "show", ...store, "--query", "id", "-o", "tsv"])).trimEnd();
    const asPrincipal = (args: string[]) =>
      wikit(["appconfig", "kv", ...args, "--endpoint", endpoint, "--auth-mode", "login"]);
    const read = () =>
      asPrincipal(["show", "--key", "web:size", "--label", "prd", "--query", "value", "-o", "tsv"]);
    const write = () =>
      asPrincipal(["set", "--key", "web:size", "--label", "prd", "--value", "12", "--yes", "-o", "none"]);

    const noRole = await read();
    assert.equal(noRole.code, 1);
    assert.match(
      noRole.stderr,
      new RegExp(
        `the signed-in principal ${clientId} may not read key-values of store '${STORE}' \\(403 Forbidden\\): grant it the role with \`wikit role assignment create --role "App Configuration Data Reader" --assignee ${clientId} --scope`,
      ),
    );
    assert.equal(noRole.stderr.trim().split("\n").length, 1, "one line");

    const grant = (role: string) =>
      ok([
        "role",
        "assignment",
        "create",
        "--role",
        role,
        "--assignee",
        "mi-appcs",
        "--scope",
        storeId,
        "-o",
        "none",
      ]);
    await grant("App Configuration Data Reader");
    assert.deepEqual(await read(), { code: 0, stdout: "10\n", stderr: "" });
    const readerWrites = await write();
    assert.match(readerWrites.stderr, /may not write key-values .*--role "App Configuration Data Owner"/);
    await grant("App Configuration Data Owner");
    assert.equal((await write()).code, 0);
    assert.equal((await read()).stdout, "12\n");
    // By name the CLI finds the endpoint through ARM.
    const byName = await wikit([
      "appconfig",
      "kv",
      "list",
      ...store,
      "--auth-mode",
      "login",
      "--key",
      "web:size",
      "--query",
      "[0].value",
      "-o",
      "tsv",
    ]);
    assert.equal(byName.stdout, "12\n", byName.stderr);
  });
});
