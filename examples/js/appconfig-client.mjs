// A tour of App Configuration's data plane through the unmodified JavaScript SDK (@azure/app-configuration):
// listing with key and label filters, conditional writes with ETags, read-only locks, revisions and the store as it
// was at a past moment, and a client made from a connection string. Everything comes from the environment:
//
//   AZURE_APPCONFIGURATION_ENDPOINT           the store's endpoint, used with DefaultAzureCredential (the tour
//                                             writes, so the identity needs App Configuration Data Owner)
//   AZURE_APPCONFIGURATION_CONNECTION_STRING  optional: an access key's connection string, for the last step
//
//   node appconfig-client.mjs                       the tour, on keys under `tour:`; prints what it saw as JSON
//   node appconfig-client.mjs pages KEY LABEL       lists KEY/LABEL page by page; prints the page sizes as JSON
//
// `pages` uses the connection string when one is set, else the endpoint and DefaultAzureCredential.
import { AppConfigurationClient } from "@azure/app-configuration";
import { DefaultAzureCredential } from "@azure/identity";

const endpoint = process.env.AZURE_APPCONFIGURATION_ENDPOINT;
const connectionString = process.env.AZURE_APPCONFIGURATION_CONNECTION_STRING;
if (!endpoint && !connectionString) {
  console.error(
    "set AZURE_APPCONFIGURATION_ENDPOINT (e.g. https://mystore.azconfig.localhost:8443) or AZURE_APPCONFIGURATION_CONNECTION_STRING",
  );
  process.exit(2);
}

/** Collects a paged list into an array. */
async function all(iterator) {
  const items = [];
  for await (const item of iterator) items.push(item);
  return items;
}

/** `key` or `key@label`, as the tour reports settings. */
const named = (setting) => (setting.label ? `${setting.key}@${setting.label}` : setting.key);

/** The status of a call expected to fail: the service's answer as the SDK reports it. */
async function statusOf(call) {
  try {
    await call();
    return 200;
  } catch (error) {
    if (typeof error?.statusCode !== "number") throw error;
    return error.statusCode;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function pages(keyFilter, labelFilter) {
  const client = connectionString
    ? new AppConfigurationClient(connectionString)
    : new AppConfigurationClient(endpoint, new DefaultAzureCredential());
  const sizes = [];
  const keys = new Set();
  for await (const page of client.listConfigurationSettings({ keyFilter, labelFilter }).byPage()) {
    sizes.push(page.items.length);
    for (const setting of page.items) keys.add(named(setting));
  }
  return { pages: sizes, total: sizes.reduce((sum, size) => sum + size, 0), distinct: keys.size };
}

async function tour() {
  if (!endpoint) throw new Error("the tour needs AZURE_APPCONFIGURATION_ENDPOINT");
  const client = new AppConfigurationClient(endpoint, new DefaultAzureCredential());
  const seen = {};

  // A fresh start: an earlier tour's key-values unlocked and deleted.
  for (const setting of await all(client.listConfigurationSettings({ keyFilter: "tour:*" }))) {
    if (setting.isReadOnly) await client.setReadOnly(setting, false);
    await client.deleteConfigurationSetting(setting);
  }

  // Key-values with labels: the same key under no label (the null label) and under `prd`, and a key whose name
  // holds a reserved filter character.
  await client.setConfigurationSetting({ key: "tour:color", value: "red" });
  await client.setConfigurationSetting({ key: "tour:color", label: "prd", value: "blue" });
  await client.setConfigurationSetting({ key: "tour:size", label: "prd", value: "L", tags: { team: "web" } });
  await client.setConfigurationSetting({ key: "tour:a,b", label: "dev", value: "comma" });

  // Filters: a key wildcard, the null label `\0`, comma lists, and `\,` for a comma that is part of a name.
  const list = async (options) => (await all(client.listConfigurationSettings(options))).map(named);
  seen.keyWildcard = await list({ keyFilter: "tour:*" });
  seen.nullLabel = await list({ keyFilter: "tour:*", labelFilter: "\0" });
  seen.labelPrd = await list({ keyFilter: "tour:*", labelFilter: "prd" });
  seen.keyList = await list({ keyFilter: "tour:size,tour:color", labelFilter: "prd" });
  seen.escapedComma = await list({ keyFilter: "tour:a\\,b" });
  seen.selectedFields = (
    await all(client.listConfigurationSettings({ keyFilter: "tour:size", fields: ["key", "tags"] }))
  ).map((setting) => ({ key: setting.key, value: setting.value, tags: setting.tags }));

  // ETags: a write that names the current ETag succeeds; one that names a replaced ETag is refused with 412;
  // a read "only if changed" with the current ETag answers 304; adding a key-value that exists is refused.
  const size = await client.getConfigurationSetting({ key: "tour:size", label: "prd" });
  const updated = await client.setConfigurationSetting({ ...size, value: "XL" }, { onlyIfUnchanged: true });
  seen.etagChanged = updated.etag !== size.etag;
  seen.staleWrite = await statusOf(() =>
    client.setConfigurationSetting({ ...size, value: "S" }, { onlyIfUnchanged: true }),
  );
  seen.unchangedRead = (await client.getConfigurationSetting(updated, { onlyIfChanged: true })).statusCode;
  seen.changedRead = (await client.getConfigurationSetting(size, { onlyIfChanged: true })).statusCode;
  seen.addExisting = await statusOf(() =>
    client.addConfigurationSetting({ key: "tour:size", label: "prd", value: "M" }),
  );
  seen.sizeNow = (await client.getConfigurationSetting({ key: "tour:size", label: "prd" })).value;

  // A read-only lock: writes and deletes are refused with 409 until it is lifted.
  const color = { key: "tour:color", label: "prd" };
  seen.locked = (await client.setReadOnly(color, true)).isReadOnly;
  seen.writeWhileLocked = await statusOf(() => client.setConfigurationSetting({ ...color, value: "green" }));
  seen.deleteWhileLocked = await statusOf(() => client.deleteConfigurationSetting(color));
  await client.setReadOnly(color, false);
  seen.writeAfterUnlock = await statusOf(() => client.setConfigurationSetting({ ...color, value: "green" }));

  // Revisions, and the store at a past moment (Accept-Datetime). The pauses keep the moment apart from both writes
  // even where times are kept to the second.
  await client.setConfigurationSetting({ key: "tour:release", value: "v1" });
  await sleep(1100);
  const between = new Date();
  await sleep(1100);
  await client.setConfigurationSetting({ key: "tour:release", value: "v2" });
  seen.revisions = (await all(client.listRevisions({ keyFilter: "tour:release" })))
    .slice(0, 2)
    .map((revision) => revision.value);
  seen.releaseThen = (
    await all(client.listConfigurationSettings({ keyFilter: "tour:release", acceptDateTime: between }))
  ).map((setting) => setting.value);
  seen.releaseNow = (await client.getConfigurationSetting({ key: "tour:release" })).value;

  // The same store through an access key's connection string (HMAC-SHA256 instead of a bearer token).
  if (connectionString) {
    const byKey = new AppConfigurationClient(connectionString);
    await byKey.setConfigurationSetting({ key: "tour:by-key", value: "signed" });
    seen.connectionString = await list({ keyFilter: "tour:by-key" });
    seen.connectionStringList = (await all(byKey.listConfigurationSettings({ keyFilter: "tour:*" }))).length;
  }
  return seen;
}

const [command, keyFilter = "*", labelFilter] = process.argv.slice(2);
const result = command === "pages" ? await pages(keyFilter, labelFilter) : await tour();
console.log(JSON.stringify(result));
