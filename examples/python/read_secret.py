"""An unmodified Key Vault client: the credential and the vault URL come from the environment,
exactly as in a pod mutated for workload identity. No wikit-specific code or options."""
import os
import sys

from azure.identity import DefaultAzureCredential
from azure.keyvault.secrets import SecretClient

vault_url = os.environ.get("KEYVAULT_URL")
secret_name = os.environ.get("SECRET_NAME", "my-secret")
if not vault_url:
    print("set KEYVAULT_URL to the vault's URL, e.g. https://myvault.vault.localhost:8443/", file=sys.stderr)
    sys.exit(2)

credential = DefaultAzureCredential()
client = SecretClient(vault_url, credential)
secret = client.get_secret(secret_name)
print(f"successfully got secret, secret={secret.value}")
