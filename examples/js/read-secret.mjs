// An unmodified Key Vault client: the credential and the vault URL come from the environment, exactly
// as in a pod mutated for workload identity. No wikit-specific code or options.
import { DefaultAzureCredential } from "@azure/identity";
import { SecretClient } from "@azure/keyvault-secrets";

const vaultUrl = process.env.KEYVAULT_URL;
const secretName = process.env.SECRET_NAME ?? "my-secret";
if (!vaultUrl) {
  console.error("set KEYVAULT_URL to the vault's URL, e.g. https://myvault.vault.localhost:8443/");
  process.exit(2);
}

const credential = new DefaultAzureCredential();
const client = new SecretClient(vaultUrl, credential);
const secret = await client.getSecret(secretName);
console.log(`successfully got secret, secret=${secret.value}`);
