import { randomUUID } from "node:crypto";
import type { SigningKeyRing } from "../../signing-keys/key-ring.ts";
import type { KubeObject, Store } from "../../store/store.ts";
import {
  type BoundObject,
  MIN_TOKEN_EXPIRATION_SECONDS,
  serviceAccountTokenClaims,
  signServiceAccountToken,
} from "../tokens/service-account-token.ts";

/** Longest token the local cluster issues (kube-apiserver's cap is a flag; 48 h is a common setting). */
export const MAX_TOKEN_EXPIRATION_SECONDS = 48 * 3600;
export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600;

/** A Kubernetes API error, rendered as a `Status` object. */
export class KubeError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: { name?: string; kind?: string };

  constructor(code: number, reason: string, message: string, details: { name?: string; kind?: string } = {}) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  toStatus() {
    return {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      details: this.details,
      code: this.code,
    };
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

// kube-apiserver's wording of the two name rules (apimachinery's validation messages).
const DNS_LABEL_RULE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS_SUBDOMAIN_RULE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

function checkName(kind: string, name: string, pattern: RegExp, maxLength: number): void {
  if (name.length === 0 || name.length > maxLength || !pattern.test(name)) {
    const rule =
      name.length > maxLength
        ? `must be no more than ${maxLength} characters`
        : pattern === DNS_LABEL
          ? DNS_LABEL_RULE
          : DNS_SUBDOMAIN_RULE;
    throw new KubeError(
      422,
      "Invalid",
      `${kind} "${name}" is invalid: metadata.name: Invalid value: "${name}": ${rule}`,
      { name, kind: kind.toLowerCase() },
    );
  }
}

export interface TokenRequestSpec {
  audiences?: string[];
  expirationSeconds?: number;
  boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string };
}

/**
 * The local cluster: namespaces, service accounts with their annotations, and the TokenRequest
 * API, issuing tokens signed by the cluster's issuer key with kube-apiserver's claims. Local
 * processes stand in for pods, so a Pod binding is accepted as the caller names it.
 */
export class LocalCluster {
  /** What the store files this cluster's objects under: `local`, or a created cluster's key. */
  readonly key: string;
  readonly #store: Store;
  readonly #keys: SigningKeyRing;
  readonly #issuer: () => string;

  constructor(store: Store, key: string, keys: SigningKeyRing, issuer: () => string) {
    this.key = key;
    this.#store = store;
    this.#keys = keys;
    this.#issuer = issuer;
  }

  /** The cluster's signing keys (its issuer's JWKS). */
  get signingKeys(): SigningKeyRing {
    return this.#keys;
  }

  get issuer(): string {
    return this.#issuer();
  }

  async putNamespace(
    name: string,
    labels: Record<string, string> = {},
  ): Promise<{ object: KubeObject; created: boolean }> {
    checkName("Namespace", name, DNS_LABEL, 63);
    const existing = await this.#store.getKubeObject(this.key, "Namespace", "", name);
    if (existing) return { object: existing, created: false };
    const object = await this.#store.putKubeObject(this.key, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name, uid: randomUUID(), creationTimestamp: new Date().toISOString(), labels },
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Active" },
    });
    return { object, created: true };
  }

  async getNamespace(name: string): Promise<KubeObject> {
    const found = await this.#store.getKubeObject(this.key, "Namespace", "", name);
    if (!found)
      throw new KubeError(404, "NotFound", `namespaces "${name}" not found`, { name, kind: "namespaces" });
    return found;
  }

  async listNamespaces(): Promise<KubeObject[]> {
    return this.#store.listKubeObjects(this.key, "Namespace", "");
  }

  async deleteNamespace(name: string): Promise<KubeObject> {
    const found = await this.getNamespace(name);
    for (const account of await this.listServiceAccounts(name)) {
      await this.#store.deleteKubeObject(this.key, "ServiceAccount", name, account.metadata.name);
    }
    await this.#store.deleteKubeObject(this.key, "Namespace", "", name);
    return found;
  }

  /** Creates the service account, or replaces its labels and annotations when it exists (UID kept). */
  async putServiceAccount(
    namespace: string,
    name: string,
    metadata: { labels?: Record<string, string>; annotations?: Record<string, string> },
  ): Promise<{ object: KubeObject; created: boolean }> {
    await this.getNamespace(namespace);
    checkName("ServiceAccount", name, DNS_SUBDOMAIN, 253);
    const existing = await this.#store.getKubeObject(this.key, "ServiceAccount", namespace, name);
    const object = await this.#store.putKubeObject(this.key, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: {
        name,
        namespace,
        uid: existing?.metadata.uid ?? randomUUID(),
        creationTimestamp: existing?.metadata.creationTimestamp ?? new Date().toISOString(),
        ...(metadata.labels && Object.keys(metadata.labels).length > 0 ? { labels: metadata.labels } : {}),
        ...(metadata.annotations && Object.keys(metadata.annotations).length > 0
          ? { annotations: metadata.annotations }
          : {}),
      },
    });
    return { object, created: existing === undefined };
  }

  async getServiceAccount(namespace: string, name: string): Promise<KubeObject> {
    const found = await this.#store.getKubeObject(this.key, "ServiceAccount", namespace, name);
    if (!found) {
      throw new KubeError(404, "NotFound", `serviceaccounts "${name}" not found`, {
        name,
        kind: "serviceaccounts",
      });
    }
    return found;
  }

  async listServiceAccounts(namespace?: string): Promise<KubeObject[]> {
    return this.#store.listKubeObjects(this.key, "ServiceAccount", namespace);
  }

  async deleteServiceAccount(namespace: string, name: string): Promise<KubeObject> {
    const found = await this.getServiceAccount(namespace, name);
    await this.#store.deleteKubeObject(this.key, "ServiceAccount", namespace, name);
    return found;
  }

  /** The TokenRequest API: a token for the service account, optionally bound to a pod. */
  async requestToken(
    namespace: string,
    name: string,
    spec: TokenRequestSpec,
  ): Promise<{
    token: string;
    expirationTimestamp: string;
    spec: Required<Pick<TokenRequestSpec, "audiences" | "expirationSeconds">> & TokenRequestSpec;
  }> {
    const account = await this.getServiceAccount(namespace, name);
    if (
      spec.audiences !== undefined &&
      (!Array.isArray(spec.audiences) || spec.audiences.some((audience) => typeof audience !== "string"))
    ) {
      throw new KubeError(
        400,
        "BadRequest",
        'TokenRequest in version "v1" cannot be handled as a TokenRequest: spec.audiences must be an array of strings',
      );
    }
    const expirationSeconds = spec.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS;
    if (!Number.isInteger(expirationSeconds) || expirationSeconds < MIN_TOKEN_EXPIRATION_SECONDS) {
      // kube-apiserver names the TokenRequest object here, which has no name: hence "".
      throw new KubeError(
        422,
        "Invalid",
        `TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: ${expirationSeconds}: may not specify a duration less than 10 minutes`,
        { kind: "TokenRequest" },
      );
    }
    const audiences = spec.audiences && spec.audiences.length > 0 ? spec.audiences : [this.issuer];
    let pod: BoundObject | undefined;
    if (spec.boundObjectRef) {
      const { kind, name: podName, uid } = spec.boundObjectRef;
      if (kind !== "Pod" || !podName || !uid) {
        throw new KubeError(
          422,
          "Invalid",
          `TokenRequest.authentication.k8s.io "${name}" is invalid: spec.boundObjectRef: the local cluster binds tokens to pods only, named with kind "Pod", name and uid`,
          { name, kind: "TokenRequest" },
        );
      }
      pod = { name: podName, uid };
    }
    const claims = serviceAccountTokenClaims({
      issuer: this.issuer,
      namespace,
      serviceAccount: { name, uid: account.metadata.uid },
      audiences,
      expirationSeconds: Math.min(expirationSeconds, MAX_TOKEN_EXPIRATION_SECONDS),
      pod,
    });
    const token = await signServiceAccountToken(claims, this.#keys.active);
    return {
      token,
      expirationTimestamp: new Date(claims.exp * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
      spec: { ...spec, audiences, expirationSeconds: claims.exp - claims.iat },
    };
  }
}
