// The Entra-compatible token service as one Fastify plugin: token (v2.0 and v1), tenant discovery, keys and
// instance discovery, one module per endpoint, one error handler for all of them. `wikit up` and the tests
// build it the same way, with `createTokenService`.

import type { FastifyInstance, FastifyPluginAsync } from "fastify";
import type { SigningKeyRing } from "../../signing-keys/key-ring.ts";
import type { Tenant } from "../directory/directory-rows.ts";
import { validateCertificateClientAssertion, validateClientAssertion } from "../exchange/assertion.ts";
import type { IssuerKeySource } from "../exchange/issuer-metadata.ts";
import { entraErrorReply } from "./entra-error-reply.ts";
import { type AuthorityResolver, registerInstanceDiscoveryEndpoint } from "./instance-discovery-endpoint.ts";
import { registerKeysEndpoint } from "./keys-endpoint.ts";
import { registerTenantDiscoveryEndpoint } from "./tenant-discovery-endpoint.ts";
import type { TenantLookup } from "./tenant-lookup.ts";
import {
  type AssertionValidator,
  type FederatedPrincipalLookup,
  registerTokenEndpoint,
  type SignInRecorder,
} from "./token-endpoint.ts";

/** Largest form the token endpoint reads; a service-account token is a few kilobytes. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface TokenServiceDeps {
  tenants: TenantLookup<Tenant>;
  /** The identities and app registrations that sign in with federated credentials. */
  principals: FederatedPrincipalLookup;
  /** The service's own keys: access tokens are signed with the active one, every one is published. */
  signingKeys: SigningKeyRing;
  /** Signing keys of the issuers that federated credentials trust, fetched as an OIDC client does. */
  issuerKeys: IssuerKeySource;
  /**
   * Resource identifiers tokens are issued for (compared case-insensitively, trailing `/` ignored), or patterns
   * that match them lower-cased (App Configuration's per-store endpoints).
   */
  knownResources(): readonly (string | RegExp)[];
  /** For instance discovery: the authority to name for a host name the caller used, or undefined. */
  authorityFor: AuthorityResolver;
  accessTokenLifetimeSeconds?: number;
  /**
   * Add to "no matching credential" errors which field of the identity's nearest credential differs, and how. It
   * shows anyone who knows a client ID how that identity's credentials are set up: for local use, not for servers.
   */
  explainErrors?: boolean;
  /** Where every token request is recorded; none when absent. */
  signIns?: SignInRecorder;
  /** Replaces the client-assertion check, for tests of the endpoint alone; by default it runs against `issuerKeys`. */
  validateAssertion?: AssertionValidator;
}

export function createTokenService(deps: TokenServiceDeps): FastifyPluginAsync {
  const validateAssertion: AssertionValidator =
    deps.validateAssertion ??
    (async (assertion, principal, tenant) => {
      // An app registration may sign its own assertion with one of its certificates; any other is federated.
      const certificate = await validateCertificateClientAssertion(assertion, principal, tenant, {});
      if (certificate) return { credential: { name: `certificate-${certificate.keyId}` } };
      return validateClientAssertion(assertion, principal, { metadata: deps.issuerKeys });
    });
  return async (app: FastifyInstance) => {
    // The token endpoint takes forms; any other body reaches the handler as text and is answered with an
    // AADSTS error (a missing form field), as Entra does, instead of a generic 415.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser(
      "application/x-www-form-urlencoded",
      { parseAs: "string", bodyLimit: MAX_BODY_BYTES },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    app.addContentTypeParser("*", { parseAs: "string", bodyLimit: MAX_BODY_BYTES }, (_request, body, done) =>
      done(null, body),
    );
    app.setErrorHandler(entraErrorReply({ explainErrors: deps.explainErrors }));

    registerTokenEndpoint(app, { ...deps, validateAssertion });
    registerTenantDiscoveryEndpoint(app, deps.tenants);
    registerKeysEndpoint(app, deps.tenants, deps.signingKeys);
    registerInstanceDiscoveryEndpoint(app, deps.authorityFor);
    app.get("/error", async (request) => {
      const { code } = request.query as { code?: string };
      return { code, description: `See the AADSTS${code ?? ""} entry in wikit's troubleshooting guide.` };
    });
  };
}
