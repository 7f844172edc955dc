// The media types an OIDC client asks an issuer's documents for. kube-apiserver serves its JWKS only as
// `application/jwk-set+json` and answers 406 to a request that accepts `application/json` alone; object stores and
// web servers answer with whatever type they were given, which clients take as long as the body is the JSON
// expected.

export const ACCEPT_DISCOVERY = "application/json";
export const ACCEPT_JWKS = "application/jwk-set+json, application/json";
