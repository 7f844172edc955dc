// Walkthrough W5's worker in JavaScript: loads its settings from App Configuration with its workload identity and
// resolves Key Vault references with the same identity. Only the environment says where:
// AZURE_APPCONFIGURATION_ENDPOINT, plus what the workload identity webhook gives a pod. No wikit-specific code or
// options.
import { load } from "@azure/app-configuration-provider";
import { DefaultAzureCredential } from "@azure/identity";

const endpoint = process.env.AZURE_APPCONFIGURATION_ENDPOINT;
if (!endpoint) {
  console.error(
    "set AZURE_APPCONFIGURATION_ENDPOINT to the store's endpoint, e.g. https://mystore.azconfig.localhost:8443",
  );
  process.exit(2);
}

const credential = new DefaultAzureCredential();
const settings = await load(endpoint, credential, {
  // Keys under myapp: with the production label; the prefix is dropped from the names the app sees.
  selectors: [{ keyFilter: "myapp:*", labelFilter: "prd" }],
  trimKeyPrefixes: ["myapp:"],
  // The provider, not the store, reads the secret behind a Key Vault reference: with this credential.
  keyVaultOptions: { credential },
});
const sorted = [...settings.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
console.log(JSON.stringify(Object.fromEntries(sorted)));
