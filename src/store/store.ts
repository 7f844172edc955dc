// The persistence boundary. Every part reads and writes through this interface so that the embedded
// SQLite store and a PostgreSQL store are interchangeable. Methods are async even where SQLite is
// synchronous; a method resolves only once the write is durable.

/** An ARM-shaped document: what the management API stores and returns. */
export interface ArmResource {
  id: string;
  name: string;
  type: string;
  location?: string;
  tags?: Record<string, string>;
  properties: Record<string, unknown>;
  [member: string]: unknown;
}

/** A Kubernetes object of a local cluster (namespaces, service accounts). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    resourceVersion?: string;
    creationTimestamp: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [member: string]: unknown;
}

export interface SecretVersion {
  vaultId: string;
  name: string;
  version: string;
  value: string;
  contentType?: string;
  tags: Record<string, string>;
  enabled: boolean;
  notBefore?: number;
  expires?: number;
  created: number;
  updated: number;
  /** Epoch seconds of the soft delete; set only on versions kept in a vault's deleted-secrets bin. */
  deletedDate?: number;
}

/** A private signing key in JWK form, for the cluster issuer or the token service. */
export interface StoredSigningKey {
  purpose: string;
  kid: string;
  alg: string;
  privateJwk: Record<string, unknown>;
  created: number;
  /** When the key starts signing (epoch seconds); published from `created` on, so verifiers know it first. */
  activatesAt?: number;
  /** When the key stopped signing; it stays published for verification until removed. */
  retiredAt?: number;
}

/**
 * One token request as the sign-in log keeps it: who asked, with which assertion claims, and what came of it.
 * Claims are as presented (unverified when the request failed); the assertion itself is never kept.
 */
export interface SignInRecord {
  id: string;
  /** Epoch milliseconds. */
  time: number;
  /** The tenant as resolved, or as the request's path named it when it did not resolve. */
  tenant: string;
  clientId?: string;
  /** ARM ID of the identity `clientId` names, when one does. */
  identityId?: string;
  issuer?: string;
  subject?: string;
  audiences?: string[];
  /** The resource the token was asked for. */
  resource?: string;
  /** 0 on success, else the AADSTS code answered. */
  errorCode: number;
  /** Entra's description of the failure (`AADSTS…: …`). */
  failureReason?: string;
  /** The federated credential that matched. */
  credential?: string;
  /** When none matched: the nearest credential, and how it differs. */
  nearestCredential?: string;
  explanation?: string;
  /** What went wrong beyond the client's view: an issuer's document unreachable, a malformed header… */
  cause?: string;
  correlationId: string;
  traceId: string;
}

export interface SignInQuery {
  /** Only records at or after this time (epoch milliseconds). */
  since?: number;
  /** Compared case-insensitively. */
  clientId?: string;
  failedOnly?: boolean;
  /** At most this many, newest first. */
  limit?: number;
}

/** How much of the sign-in log is kept: the newest `maxRecords`, none older than `maxAgeMs`. */
export interface SignInRetention {
  maxRecords: number;
  maxAgeMs: number;
}

/** Successful sign-ins through one federated credential, counted for as long as the credential exists. */
export interface CredentialUsage {
  /** ARM ID of the credential. */
  credentialId: string;
  signIns: number;
  /** Epoch milliseconds of the latest. */
  lastSignIn: number;
}

export interface ResourceQuery {
  /** Resource type, compared case-insensitively (e.g. `Microsoft.KeyVault/vaults`). */
  type?: string;
  /** Only resources whose ID starts with this scope (case-insensitive), e.g. a resource group. */
  under?: string;
  /** Only resources whose `properties[name]` equals the value exactly. */
  property?: { name: string; value: string };
}

/** One key-value of an App Configuration store: a key under one label. */
export interface StoredKeyValue {
  key: string;
  /** null: the null label (no label). */
  label: string | null;
  value: string | null;
  contentType: string | null;
  tags: Record<string, string>;
  /** Read-only until unlocked. */
  locked: boolean;
  etag: string;
  /** Epoch milliseconds. */
  lastModified: number;
}

/** One change to a key-value, as its history keeps it: what was written, or its deletion. */
export interface KeyValueRevision {
  /** The store-wide order of changes (every configuration store's together), rising with each change. */
  sequence: number;
  key: string;
  label: string | null;
  /** The key-value as written; undefined when the change deleted it. */
  written?: StoredKeyValue;
  /** Epoch milliseconds of the change. */
  at: number;
}

/** What a change makes of a key-value: a new state, its deletion, or nothing at all. */
export type KeyValueChange = { put: StoredKeyValue } | { delete: true; at: number } | { keep: true };

export interface KeyValuesVersion {
  stamp: string;
  sequence: number;
}

export interface KeyValueQuery {
  /** Only keys that start with this text (case-sensitive), e.g. `myapp:`. */
  keyPrefix?: string;
}

export interface Store {
  getSetting(key: string): Promise<string | undefined>;
  putSetting(key: string, value: string): Promise<void>;

  getResource(id: string): Promise<ArmResource | undefined>;
  /** Inserts or replaces the resource with this ID (IDs compare case-insensitively). */
  putResource(resource: ArmResource): Promise<void>;
  /** Deletes the resource and every resource beneath its ID; resolves false when it did not exist. */
  deleteResource(id: string): Promise<boolean>;
  listResources(query: ResourceQuery): Promise<ArmResource[]>;
  /**
   * Writes the resource `decide` makes of the resources `among` matches now, as one step: no other write to that
   * set, from this process or another sharing the store, comes between the read and the write. How rules that span
   * resources (at most 20 credentials, unique subjects) hold when replicas race. `decide` throws to write nothing.
   */
  putResourceAmong(
    among: ResourceQuery,
    decide: (current: ArmResource[]) => ArmResource,
  ): Promise<ArmResource>;

  // Kubernetes objects belong to one local cluster, named by its key (`local` for wikit up's own).
  getKubeObject(
    cluster: string,
    kind: string,
    namespace: string,
    name: string,
  ): Promise<KubeObject | undefined>;
  putKubeObject(cluster: string, object: KubeObject): Promise<KubeObject>;
  deleteKubeObject(cluster: string, kind: string, namespace: string, name: string): Promise<boolean>;
  listKubeObjects(cluster: string, kind: string, namespace?: string): Promise<KubeObject[]>;

  putSecretVersion(secret: SecretVersion): Promise<void>;
  /** The named version, or the latest one when `version` is undefined. */
  getSecretVersion(vaultId: string, name: string, version?: string): Promise<SecretVersion | undefined>;
  listSecretVersions(vaultId: string, name: string): Promise<SecretVersion[]>;
  /** Names of the secrets in a vault, each with its latest version. */
  listLatestSecrets(vaultId: string): Promise<SecretVersion[]>;
  deleteSecret(vaultId: string, name: string): Promise<boolean>;

  /** The key-value of `key` and `label` in the configuration store of ARM ID `configStoreId`. */
  getKeyValue(configStoreId: string, key: string, label: string | null): Promise<StoredKeyValue | undefined>;
  /** The store's key-values, ordered by key, then label (the null label first). */
  listKeyValues(configStoreId: string, query?: KeyValueQuery): Promise<StoredKeyValue[]>;
  /**
   * Applies `change` to the key-value as it is now, as one step: no other change to it, from this process or
   * another sharing the store, comes between what `change` saw and what it wrote. A put or a delete (of a key-value
   * that exists) is kept as a revision; `change` throws to write nothing. Resolves to the key-value as it is after
   * the change, and the revision's sequence when one was made.
   */
  changeKeyValue(
    configStoreId: string,
    key: string,
    label: string | null,
    change: (current: StoredKeyValue | undefined) => KeyValueChange,
  ): Promise<{ keyValue: StoredKeyValue | undefined; sequence?: number }>;
  /**
   * The version of the store's key-values: a stamp that every change replaces (opaque; "" before the first), and the
   * highest sequence of its revisions (0 before the first). A list read after the version is at least as new as it:
   * what a cache of the list is checked with.
   */
  keyValuesVersion(configStoreId: string): Promise<KeyValuesVersion>;
  /** The store's revisions, oldest first. */
  listKeyValueRevisions(configStoreId: string, query?: KeyValueQuery): Promise<KeyValueRevision[]>;
  /** Every key-value and revision of the store, when the configuration store itself is deleted. */
  deleteKeyValues(configStoreId: string): Promise<void>;

  listSigningKeys(purpose: string): Promise<StoredSigningKey[]>;
  putSigningKey(key: StoredSigningKey): Promise<void>;

  /**
   * Appends sign-in records in one transaction, counts each success against its credential (`credentialId`
   * gives the ARM ID of a record's matched credential), then drops what `retention` no longer keeps. Unlike other
   * writes, these may be lost to a power failure in the moment after they resolve (never to a crash of wikit).
   */
  appendSignIns(
    records: readonly { record: SignInRecord; credentialId?: string }[],
    retention: SignInRetention,
  ): Promise<void>;
  /** Newest first. */
  listSignIns(query: SignInQuery): Promise<SignInRecord[]>;
  /** Usage of the credentials beneath an identity (ARM ID). */
  listCredentialUsage(identityId: string): Promise<CredentialUsage[]>;

  /**
   * Takes or renews the lease `name` for `holder` until `ttlMs` from `now`: true when `holder` holds it, false while
   * another holder's lease runs. Work one process of many must do (key rotation) is done by the lease's holder.
   */
  tryLease(name: string, holder: string, ttlMs: number, now?: number): Promise<boolean>;
  /** Gives the lease up, when `holder` holds it, so that another process may take it at once. */
  releaseLease(name: string, holder: string): Promise<void>;

  close(): Promise<void>;
}
