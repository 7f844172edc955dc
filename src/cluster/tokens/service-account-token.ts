import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import type { SigningKey } from "../../signing-keys/key-ring.ts";

/** Shortest lifetime kube-apiserver grants a TokenRequest. */
export const MIN_TOKEN_EXPIRATION_SECONDS = 600;

export interface BoundObject {
  name: string;
  uid: string;
}

export interface ServiceAccountTokenRequest {
  issuer: string;
  namespace: string;
  serviceAccount: BoundObject;
  audiences: string[];
  expirationSeconds: number;
  /** Set for pod-bound tokens, the kind a projected volume delivers. */
  pod?: BoundObject;
  node?: BoundObject;
  /** Epoch seconds; defaults to now. */
  issuedAt?: number;
  jti?: string;
}

export type ServiceAccountTokenClaims = {
  aud: string[];
  exp: number;
  iat: number;
  iss: string;
  jti: string;
  "kubernetes.io": {
    namespace: string;
    node?: BoundObject;
    pod?: BoundObject;
    serviceaccount: BoundObject;
  };
  nbf: number;
  sub: string;
};

/**
 * The claim set kube-apiserver (1.30+) puts in a service-account token, members in its (alphabetical)
 * order: `aud` always an array, `nbf` equal to `iat`, a fresh `jti`, private claims under `kubernetes.io`.
 */
export function serviceAccountTokenClaims(request: ServiceAccountTokenRequest): ServiceAccountTokenClaims {
  if (!Number.isInteger(request.expirationSeconds)) {
    throw new RangeError(`expirationSeconds ${request.expirationSeconds} is not a whole number of seconds`);
  }
  if (request.expirationSeconds < MIN_TOKEN_EXPIRATION_SECONDS) {
    throw new RangeError(
      `expirationSeconds ${request.expirationSeconds} is too short: tokens must last at least ${MIN_TOKEN_EXPIRATION_SECONDS} seconds`,
    );
  }
  if (request.audiences.length === 0)
    throw new RangeError("a service-account token needs at least one audience");
  const iat = request.issuedAt ?? Math.floor(Date.now() / 1000);
  const kubernetes: ServiceAccountTokenClaims["kubernetes.io"] = {
    namespace: request.namespace,
    ...(request.node ? { node: request.node } : {}),
    ...(request.pod ? { pod: request.pod } : {}),
    serviceaccount: request.serviceAccount,
  };
  return {
    aud: [...request.audiences],
    exp: iat + request.expirationSeconds,
    iat,
    iss: request.issuer,
    jti: request.jti ?? randomUUID(),
    "kubernetes.io": kubernetes,
    nbf: iat,
    sub: `system:serviceaccount:${request.namespace}:${request.serviceAccount.name}`,
  };
}

/** Signs the claims as kube-apiserver does: header `{alg, kid}` and no `typ`. */
export async function signServiceAccountToken(
  claims: ServiceAccountTokenClaims,
  key: SigningKey,
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid }).sign(key.privateKey);
}
