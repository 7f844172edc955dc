import type { JWK } from "jose";

/** Where a consumer looks for an issuer's discovery document: a trailing `/` is dropped before appending. */
export function discoveryUrlOf(issuer: string): string {
  return `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
}

/** The default JWKS location kube-apiserver-style issuers publish. */
export function jwksUrlOf(issuer: string): string {
  return `${issuer.replace(/\/$/, "")}/openid/v1/jwks`;
}

export interface IssuerDiscoveryDocument {
  issuer: string;
  jwks_uri: string;
  response_types_supported: string[];
  subject_types_supported: string[];
  id_token_signing_alg_values_supported: string[];
}

/** The discovery document with exactly kube-apiserver's members, in its order. */
export function issuerDiscoveryDocument(
  issuer: string,
  keys: readonly JWK[],
  jwksUri = jwksUrlOf(issuer),
): IssuerDiscoveryDocument {
  const algorithms = [...new Set(keys.map((key) => key.alg).filter((alg) => alg !== undefined))].sort();
  return {
    issuer,
    jwks_uri: jwksUri,
    response_types_supported: ["id_token"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: algorithms,
  };
}
