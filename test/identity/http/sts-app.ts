// The token service on a Fastify app for `inject()` tests, built by `createTokenService` as `wikit up` builds it: a
// Directory over an in-memory SQLite store with its default tenant, one user-assigned identity with a federated
// credential, and the STS signing key ring. Assertion validation is a stub by default (it has its own tests); pass
// `issuerKeys` to validate assertions for real against those issuer keys.

import { randomUUID } from "node:crypto";
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from "fastify";
import { createDirectory, type Directory } from "../../../src/identity/directory/directory.ts";
import type { FederatedPrincipal, Tenant } from "../../../src/identity/directory/directory-rows.ts";
import { AadstsError } from "../../../src/identity/exchange/aadsts-errors.ts";
import type { IssuerKeySource } from "../../../src/identity/exchange/issuer-metadata.ts";
import { createTokenService } from "../../../src/identity/http/token-service.ts";
import { SignInLog } from "../../../src/identity/sign-ins/sign-in-log.ts";
import { RESOURCE_TYPES, subscriptionId, tenantId } from "../../../src/names/arm-resource-ids.ts";
import { eraseVaultSecrets } from "../../../src/resources/vault/deleted-secrets.ts";
import { SigningKeyRing } from "../../../src/signing-keys/key-ring.ts";
import { SqliteStore } from "../../../src/store/sqlite-store.ts";

export const CLUSTER_ISSUER = "https://oidc.cluster.test/3f2a9c1e/";
export const SUBJECT = "system:serviceaccount:payments:api";
export const AUDIENCE = "api://AzureADTokenExchange";
export const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/** The host and port every request says it was sent to, as a client of `https://localhost:8443` would. */
export const HOST = "localhost:8443";
export const AUTHORITY = `https://${HOST}`;
export const RESOURCE_GROUP = "Payments-RG";
export const IDENTITY_NAME = "payments-api";
/** A vault resource with a port, as a vault challenge names it in deployment model A. */
export const PORTED_VAULT_RESOURCE = "https://vault.example.test:8443";

export const KNOWN_RESOURCES = [
  PORTED_VAULT_RESOURCE,
  "https://vault.azure.net",
  "https://management.core.windows.net/",
  "https://management.azure.com/",
];

export interface IdentityIds {
  clientId: string;
  principalId: string;
  /** ARM ID, `resourceGroups` spelled as created. */
  resourceId: string;
}

export interface StsApp {
  app: FastifyInstance;
  directory: Directory;
  keys: SigningKeyRing;
  tenant: Tenant;
  identity: IdentityIds;
  /** An identity of another tenant, with its own federated credential. */
  foreign: IdentityIds & { tenantId: string };
  /** Every call the assertion validator received. */
  validations: Array<{ assertion: string; principal: FederatedPrincipal }>;
  /** When set, the stub validator rejects with this error; otherwise it accepts every assertion. */
  rejectWith: AadstsError | Error | undefined;
  /** The sign-in log every token request is recorded in. */
  signIns: SignInLog;
  close(): Promise<void>;
}

export interface StsAppOptions {
  /** Validate assertions for real against these issuer keys instead of the recording stub. */
  issuerKeys?: IssuerKeySource;
  accessTokenLifetimeSeconds?: number;
  /** Say in failed exchanges which field of the nearest credential differs, as `wikit up` does by default. */
  explainErrors?: boolean;
  /** Where the app's log lines go (JSON, level info and up); by default it does not log. */
  logStream?: NodeJS.WritableStream;
}

/** Issuer keys for tests whose assertions are checked by the recording stub: never consulted. */
const NO_ISSUER_KEYS: IssuerKeySource = {
  getKey: async () => {
    throw new Error("endpoint tests validate assertions with the recording stub");
  },
};

export async function startStsApp(options: StsAppOptions = {}): Promise<StsApp> {
  const store = new SqliteStore(":memory:");
  const directory = createDirectory(store, {
    eraseVaultContents: (vaultId) => eraseVaultSecrets(store, vaultId),
  });
  const { tenant, subscription } = await directory.tenants.ensureDefaults();
  const identity = await createIdentity(directory, subscription.subscriptionId);

  // A second tenant, with a subscription and an identity of its own.
  const otherTenant = randomUUID();
  const otherSubscription = randomUUID();
  await store.putResource({
    id: tenantId(otherTenant),
    name: otherTenant,
    type: RESOURCE_TYPES.tenant,
    properties: { tenantId: otherTenant, displayName: "fabrikam", defaultDomain: "fabrikam.example" },
  });
  await store.putResource({
    id: subscriptionId(otherSubscription),
    name: otherSubscription,
    type: RESOURCE_TYPES.subscription,
    properties: {
      subscriptionId: otherSubscription,
      tenantId: otherTenant,
      displayName: "fabrikam",
      state: "Enabled",
    },
  });
  const foreign = await createIdentity(directory, otherSubscription);

  const keys = await SigningKeyRing.open(store, "sts");
  const signIns = new SignInLog(store);
  const app = Fastify(options.logStream ? { logger: { level: "info", stream: options.logStream } } : {});
  const state: StsApp = {
    app,
    directory,
    keys,
    tenant,
    identity,
    foreign: { ...foreign, tenantId: otherTenant },
    validations: [],
    rejectWith: undefined,
    signIns,
    close: async () => {
      await app.close();
      await signIns.flush();
      await store.close();
    },
  };
  const recordingValidator = async (assertion: string, principal: FederatedPrincipal) => {
    state.validations.push({ assertion, principal });
    if (state.rejectWith) throw state.rejectWith;
    return { credential: { name: "payments-cluster" } };
  };
  await app.register(
    createTokenService({
      tenants: directory.tenants,
      principals: directory.principals,
      signingKeys: keys,
      issuerKeys: options.issuerKeys ?? NO_ISSUER_KEYS,
      validateAssertion: options.issuerKeys ? undefined : recordingValidator,
      knownResources: () => KNOWN_RESOURCES,
      authorityFor: (hostname) =>
        hostname === "localhost"
          ? AUTHORITY
          : hostname === "login.microsoftonline.com"
            ? "https://login.microsoftonline.com"
            : undefined,
      accessTokenLifetimeSeconds: options.accessTokenLifetimeSeconds,
      explainErrors: options.explainErrors,
      signIns,
    }),
  );
  await app.ready();
  return state;
}

async function createIdentity(directory: Directory, subscription: string): Promise<IdentityIds> {
  await directory.groups.put(subscription, RESOURCE_GROUP, {});
  const identity = await directory.identities.put(subscription, RESOURCE_GROUP, IDENTITY_NAME, {});
  await directory.identities.putFederatedCredential(identity.id, "payments-cluster", {
    properties: { issuer: CLUSTER_ISSUER, subject: SUBJECT, audiences: [AUDIENCE] },
  });
  return {
    clientId: String(identity.properties.clientId),
    principalId: String(identity.properties.principalId),
    resourceId: identity.id,
  };
}

/** A complete, valid client-credentials request for `clientId`, as a v2.0 form. */
export function v2Form(clientId: string, extra: Record<string, string | undefined> = {}) {
  return {
    grant_type: "client_credentials",
    client_id: clientId,
    client_assertion_type: JWT_BEARER,
    client_assertion: "header.payload.signature",
    scope: "https://vault.azure.net/.default",
    ...extra,
  };
}

/** The same request for the v1 endpoint (`resource` instead of `scope`). */
export function v1Form(clientId: string, extra: Record<string, string | undefined> = {}) {
  const { scope: _scope, ...form } = v2Form(clientId, { resource: "https://vault.azure.net", ...extra });
  return form;
}

/** Form-encodes the members that are not undefined. */
export function formBody(form: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(form)) if (value !== undefined) params.append(name, value);
  return params.toString();
}

export function postForm(
  app: FastifyInstance,
  url: string,
  form: Record<string, string | undefined>,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: "POST",
    url,
    headers: { host: HOST, "content-type": "application/x-www-form-urlencoded", ...headers },
    payload: formBody(form),
  });
}

export function getJson(app: FastifyInstance, url: string, host = HOST): Promise<LightMyRequestResponse> {
  return app.inject({ method: "GET", url, headers: { host } });
}

/** An issuer key source that knows one issuer: the cluster whose keys the ring holds. */
export function ringKeySource(issuer: string, ring: SigningKeyRing): IssuerKeySource & { fetches: string[] } {
  const fetches: string[] = [];
  return {
    fetches,
    async getKey(requested, header) {
      fetches.push(requested);
      const key =
        requested === issuer ? ring.verificationKeys.find(({ kid }) => kid === header.kid) : undefined;
      if (!key) throw new AadstsError(7000272, { kid: String(header.kid), issuer: requested });
      return key.publicKey;
    },
  };
}
