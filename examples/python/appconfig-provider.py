"""Walkthrough W5's worker: loads its settings from App Configuration with its workload identity, and resolves
Key Vault references with the same identity. Only the environment says where: AZURE_APPCONFIGURATION_ENDPOINT,
plus what the workload identity webhook gives a pod. No wikit-specific code or options.

Written for Debian 12's python3-azure (azure-appconfiguration-provider 1.0.0b2), whose `load` names the prefix
option `trimmed_key_prefixes` (later releases call it `trim_prefixes`)."""
import json
import os
import sys

from azure.appconfiguration.provider import (
    AzureAppConfigurationKeyVaultOptions,
    AzureAppConfigurationProvider,
    SettingSelector,
)
from azure.identity import DefaultAzureCredential

endpoint = os.environ.get("AZURE_APPCONFIGURATION_ENDPOINT")
if not endpoint:
    print(
        "set AZURE_APPCONFIGURATION_ENDPOINT to the store's endpoint, e.g. https://mystore.azconfig.localhost:8443",
        file=sys.stderr,
    )
    sys.exit(2)

credential = DefaultAzureCredential(exclude_visual_studio_code_credential=True)
settings = AzureAppConfigurationProvider.load(
    endpoint=endpoint,
    credential=credential,
    # Keys under myapp: with the production label; the prefix is dropped from the names the app sees.
    selects=[SettingSelector(key_filter="myapp:*", label_filter="prd")],
    trimmed_key_prefixes=["myapp:"],
    # The provider, not the store, reads the secret behind a Key Vault reference: with this credential.
    key_vault_options=AzureAppConfigurationKeyVaultOptions(credential=credential),
)
print(json.dumps(settings.copy(), sort_keys=True))
