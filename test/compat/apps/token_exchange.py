"""One federated token exchange with one Python client, as an app in a workload-identity pod makes it:
`python3 token_exchange.py <client>` under `wikit run`. The service-account token and wikit's names come from
the environment `wikit run` gives (AZURE_*), the scope from SCOPE. Prints {"accessToken"} or {"error"}."""
import json
import logging
import os
import sys

if os.environ.get("HTTP_LOG"):
    # urllib3 names each request it sends (method, host, path) on stderr.
    logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")

client = sys.argv[1]
scope = os.environ["SCOPE"]
authority_host = os.environ["AZURE_AUTHORITY_HOST"]
tenant_id = os.environ["AZURE_TENANT_ID"]
client_id = os.environ["AZURE_CLIENT_ID"]
token_file = os.environ["AZURE_FEDERATED_TOKEN_FILE"]


def read_assertion():
    with open(token_file, encoding="utf-8") as file:
        return file.read().strip()


def with_azure_identity(credential):
    from azure.core.exceptions import ClientAuthenticationError

    try:
        return {"accessToken": credential.get_token(scope).token}
    except ClientAuthenticationError as error:
        return {"error": {"name": type(error).__name__, "message": error.message}}


def with_msal(**options):
    import msal

    app = msal.ConfidentialClientApplication(
        client_id, authority=authority_host.rstrip("/") + "/" + tenant_id, **options
    )
    result = app.acquire_token_for_client(scopes=[scope])
    if "access_token" in result:
        return {"accessToken": result["access_token"]}
    keys = ("error", "error_description", "error_codes")
    return {"error": {key: result.get(key) for key in keys}}


def exchange():
    if client == "client-assertion":
        from azure.identity import ClientAssertionCredential

        # The authority comes from AZURE_AUTHORITY_HOST: in 1.13.0b2 any keyword argument of this
        # credential (authority=...) reaches object.__init__ and raises TypeError.
        return with_azure_identity(ClientAssertionCredential(tenant_id, client_id, read_assertion))
    if client == "managed-identity":
        from azure.identity import ManagedIdentityCredential

        return with_azure_identity(ManagedIdentityCredential())
    if client == "msal-string":
        return with_msal(client_credential={"client_assertion": read_assertion()})
    if client == "msal-callable":
        return with_msal(client_credential={"client_assertion": read_assertion}, instance_discovery=False)
    raise ValueError(f"unknown client '{client}'")


outcome = exchange()
print(json.dumps(outcome))
sys.exit(1 if "error" in outcome else 0)
