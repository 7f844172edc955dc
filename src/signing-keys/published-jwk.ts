import type { JWK } from "jose";

/** A public JWK with kube-apiserver's member order and nothing private: use, kty, kid, alg|crv, … */
export function publishedJwk(publicJwk: JWK, kid: string, alg: string): JWK {
  if (publicJwk.kty === "RSA") {
    return { use: "sig", kty: "RSA", kid, alg, n: publicJwk.n, e: publicJwk.e };
  }
  if (publicJwk.kty === "EC") {
    return { use: "sig", kty: "EC", kid, crv: publicJwk.crv, alg, x: publicJwk.x, y: publicJwk.y };
  }
  throw new Error(
    `unsupported key type ${publicJwk.kty}: only RSA and EC keys can sign service-account tokens`,
  );
}
