// One federated token exchange with one JavaScript client, as an app in a workload-identity pod makes it:
// `node token-exchange.mjs <client>` under `wikit run`. The service-account token and wikit's names come from
// the environment `wikit run` gives (AZURE_*), the scope from SCOPE. Prints {"accessToken"} or {"error"}.
import { readFile } from "node:fs/promises";

// Each client loads only its own library, as an app of its own would.
const identity = () => import("@azure/identity");

const client = process.argv[2];
const scope = process.env.SCOPE;
const { AZURE_AUTHORITY_HOST, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE, AZURE_TENANT_ID } = process.env;

/** The values a pod's env gives, handed to the client in code and removed from the env it could read. */
function takeEnvironment() {
  for (const name of [
    "AZURE_AUTHORITY_HOST",
    "AZURE_CLIENT_ID",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_TENANT_ID",
  ]) {
    delete process.env[name];
  }
  return {
    authorityHost: AZURE_AUTHORITY_HOST,
    clientId: AZURE_CLIENT_ID,
    tenantId: AZURE_TENANT_ID,
    tokenFilePath: AZURE_FEDERATED_TOKEN_FILE,
  };
}

const readAssertion = async () => (await readFile(AZURE_FEDERATED_TOKEN_FILE, "utf8")).trim();

/**
 * msal-node's app over wikit's authority `https://{host}:{port}/{tenant}`: a known authority, or (`discover`)
 * one msal-node asks instance discovery about first, at https://login.microsoftonline.com.
 */
async function msalApp(clientAssertion, { discover = false } = {}) {
  const { ConfidentialClientApplication } = await import("@azure/msal-node");
  const authority = new URL(AZURE_TENANT_ID, AZURE_AUTHORITY_HOST);
  return new ConfidentialClientApplication({
    auth: {
      clientId: AZURE_CLIENT_ID,
      authority: authority.href,
      clientAssertion,
      ...(discover ? {} : { knownAuthorities: [authority.host] }),
    },
  });
}

async function accessToken() {
  switch (client) {
    case "default": {
      const { DefaultAzureCredential } = await identity();
      return (await new DefaultAzureCredential().getToken(scope)).token;
    }
    case "workload-options": {
      const { WorkloadIdentityCredential } = await identity();
      return (await new WorkloadIdentityCredential(takeEnvironment()).getToken(scope)).token;
    }
    case "workload-env": {
      const { WorkloadIdentityCredential } = await identity();
      return (await new WorkloadIdentityCredential().getToken(scope)).token;
    }
    case "managed-identity": {
      const { ManagedIdentityCredential } = await identity();
      return (await new ManagedIdentityCredential().getToken(scope)).token;
    }
    case "managed-identity-client-id": {
      // The client ID in code, as for a pod with several identities; the rest still from the env.
      delete process.env.AZURE_CLIENT_ID;
      const { ManagedIdentityCredential } = await identity();
      return (await new ManagedIdentityCredential({ clientId: AZURE_CLIENT_ID }).getToken(scope)).token;
    }
    case "msal-string": {
      const app = await msalApp(await readAssertion());
      return (await app.acquireTokenByClientCredential({ scopes: [scope] })).accessToken;
    }
    case "msal-discovered": {
      const app = await msalApp(await readAssertion(), { discover: true });
      return (await app.acquireTokenByClientCredential({ scopes: [scope] })).accessToken;
    }
    case "msal-callback": {
      let calls = 0;
      const app = await msalApp(async () => {
        calls += 1;
        return readAssertion();
      });
      const result = await app.acquireTokenByClientCredential({ scopes: [scope] });
      if (calls === 0) throw new Error("msal-node never called the assertion callback");
      return result.accessToken;
    }
    default:
      throw new Error(`unknown client '${client}'`);
  }
}

try {
  console.log(JSON.stringify({ accessToken: await accessToken() }));
} catch (error) {
  const { name, message, errorCode, errorMessage, subError } = error;
  console.log(JSON.stringify({ error: { name, message, errorCode, errorMessage, subError } }));
  process.exitCode = 1;
}
