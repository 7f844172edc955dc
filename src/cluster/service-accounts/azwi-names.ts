// The names `azwi sa create` derives when the user gives none (reference/webhook.md §16.4), so that wikit's
// service-account phases make the same app registration and federated credential azwi would, and find azwi's. Pure.

import { createHash } from "node:crypto";
import { DEFAULT_AUDIENCE } from "../webhook/constants.ts";

/** azwi's hash: SHA-256, base64url with padding (44 characters ending in '='). */
export function azwiHash(text: string): string {
  return createHash("sha256").update(text).digest("base64").replaceAll("+", "-").replaceAll("/", "_");
}

/** The app registration azwi makes for a service account when no name is given: `<ns>-<name>-<hash(issuer)>`. */
export function derivedApplicationName(namespace: string, name: string, issuer: string): string {
  return `${namespace}-${name}-${azwiHash(issuer)}`;
}

/** The federated credential azwi's `federated-identity` phase writes for a service account. */
export function azwiFederatedCredential(namespace: string, name: string, issuer: string) {
  return {
    name: azwiHash(`${namespace}-${name}-${issuer}`),
    issuer,
    subject: `system:serviceaccount:${namespace}:${name}`,
    audiences: [DEFAULT_AUDIENCE],
    description: `Federated Service Account for ${namespace}/${name}`,
  };
}
