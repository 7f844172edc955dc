// Secret values and private signing keys encrypted at rest, whatever the store: envelope encryption with AES-256-GCM. Each value gets its own
// data-encryption key (DEK), which a key-encryption key (KEK) from the key ring wraps. The sealed form names the KEK,
// so a ring that gained a new current KEK still opens values sealed under the old ones, and `resealSecrets` moves
// them to the current one. The secret's vault, name and version are authenticated with the value (GCM's additional
// data): a sealed value copied onto another secret does not open.
//
// SealedSecretsStore wraps any Store: values and keys are sealed on the way in and opened on the way out, so the
// vault, the management routes, soft delete and the key rings work on plaintext and the database holds only sealed
// forms. A signing key is bound to its purpose and kid the way a value is bound to its secret.

import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type {
  ArmResource,
  CredentialUsage,
  KeyValueChange,
  KeyValueQuery,
  KeyValueRevision,
  KeyValuesVersion,
  KubeObject,
  ResourceQuery,
  SecretVersion,
  SignInQuery,
  SignInRecord,
  SignInRetention,
  Store,
  StoredKeyValue,
  StoredSigningKey,
} from "./store.ts";

const SEALED_PREFIX = "wikit-sealed:1:";
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretSealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SecretSealError";
  }
}

/** Key-encryption keys by ID; `current` seals, every one opens. */
export interface SecretKeyRing {
  current: string;
  keys: ReadonlyMap<string, Buffer>;
}

/** A ring whose current key exists and every key is 32 bytes: a ring that is wrong must not seal anything. */
export function checkKeyRing(ring: SecretKeyRing): SecretKeyRing {
  if (!ring.keys.has(ring.current)) {
    throw new SecretSealError(`the current key-encryption key '${ring.current}' is not in the key ring`);
  }
  for (const [id, key] of ring.keys) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
      throw new SecretSealError(`key-encryption key ID '${id}' must be 1-64 letters, digits, '-' or '_'`);
    }
    if (key.length !== KEY_BYTES) {
      throw new SecretSealError(
        `key-encryption key '${id}' has ${key.length} bytes; AES-256 takes ${KEY_BYTES}`,
      );
    }
  }
  return ring;
}

function encrypt(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

function decrypt(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new SecretSealError("a sealed part is truncated");
  const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([
    decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
    decipher.final(),
  ]);
}

/** What a secret value is bound to: its vault, name (both case-insensitive, as their keys) and version. */
function secretBinding(secret: Pick<SecretVersion, "vaultId" | "name" | "version">): Buffer {
  return Buffer.from(
    `secret\n${secret.vaultId.toLowerCase()}\n${secret.name.toLowerCase()}\n${secret.version}`,
  );
}

/** What a private signing key is bound to: its ring's purpose and its kid. */
function signingKeyBinding(key: Pick<StoredSigningKey, "purpose" | "kid">): Buffer {
  return Buffer.from(`signing-key\n${key.purpose}\n${key.kid}`);
}

/** `wikit-sealed:1:<kek id>:<wrapped DEK>:<ciphertext>`, both parts base64url of IV ‖ ciphertext ‖ tag. */
function seal(ring: SecretKeyRing, plaintext: string, boundTo: Buffer): string {
  const kek = ring.keys.get(ring.current);
  if (!kek)
    throw new SecretSealError(`the current key-encryption key '${ring.current}' is not in the key ring`);
  const dek = randomBytes(KEY_BYTES);
  const wrapped = encrypt(kek, dek, boundTo);
  const body = encrypt(dek, Buffer.from(plaintext, "utf8"), boundTo);
  return `${SEALED_PREFIX}${ring.current}:${wrapped.toString("base64url")}:${body.toString("base64url")}`;
}

/** The KEK a stored value is sealed under; undefined for a value stored before sealing (plaintext). */
export function sealingKeyOf(value: string): string | undefined {
  if (!value.startsWith(SEALED_PREFIX)) return undefined;
  return value.slice(SEALED_PREFIX.length).split(":")[0];
}

/** The plaintext of a sealed value; `what` names it in errors. */
function open(ring: SecretKeyRing, sealed: string, boundTo: Buffer, what: string): string {
  const kekId = sealingKeyOf(sealed) ?? "";
  const [, wrapped, body, extra] = sealed.slice(SEALED_PREFIX.length).split(":");
  if (wrapped === undefined || body === undefined || extra !== undefined) {
    throw new SecretSealError(`the sealed form of ${what} is malformed`);
  }
  const kek = ring.keys.get(kekId);
  if (!kek) {
    throw new SecretSealError(
      `${what} is sealed under key-encryption key '${kekId}', which the key ring lacks; restore that key`,
    );
  }
  try {
    const dek = decrypt(kek, Buffer.from(wrapped, "base64url"), boundTo);
    return decrypt(dek, Buffer.from(body, "base64url"), boundTo).toString("utf8");
  } catch (error) {
    if (error instanceof SecretSealError) throw error;
    throw new SecretSealError(`${what} does not open: it was altered, or moved from elsewhere`);
  }
}

/** A secret's value sealed for the store. */
export function sealValue(ring: SecretKeyRing, secret: SecretVersion): string {
  return seal(ring, secret.value, secretBinding(secret));
}

/** The plaintext of a stored value; a value from before sealing is returned as it is. */
export function openValue(ring: SecretKeyRing, secret: SecretVersion): string {
  if (sealingKeyOf(secret.value) === undefined) return secret.value;
  return open(ring, secret.value, secretBinding(secret), `secret '${secret.name}' version ${secret.version}`);
}

/** The member a sealed private JWK is kept under, in place of the key's own members. */
const SEALED_JWK_MEMBER = "wikit-sealed";

function sealSigningKey(ring: SecretKeyRing, key: StoredSigningKey): StoredSigningKey {
  const sealed = seal(ring, JSON.stringify(key.privateJwk), signingKeyBinding(key));
  return { ...key, privateJwk: { [SEALED_JWK_MEMBER]: sealed } };
}

/** The sealing KEK of a stored signing key; undefined for a key stored before sealing. */
function signingKeySealedUnder(key: StoredSigningKey): string | undefined {
  const sealed = key.privateJwk[SEALED_JWK_MEMBER];
  return typeof sealed === "string" ? sealingKeyOf(sealed) : undefined;
}

function openSigningKey(ring: SecretKeyRing, key: StoredSigningKey): StoredSigningKey {
  const sealed = key.privateJwk[SEALED_JWK_MEMBER];
  if (typeof sealed !== "string") return key;
  const what = `signing key '${key.kid}' (${key.purpose})`;
  return { ...key, privateJwk: JSON.parse(open(ring, sealed, signingKeyBinding(key), what)) };
}

/** A Store whose secret values are sealed at rest; everything else passes through. */
export class SealedSecretsStore implements Store {
  readonly #inner: Store;
  readonly #ring: SecretKeyRing;

  constructor(inner: Store, ring: SecretKeyRing) {
    this.#inner = inner;
    this.#ring = checkKeyRing(ring);
  }

  #open(secret: SecretVersion): SecretVersion {
    return { ...secret, value: openValue(this.#ring, secret) };
  }

  /**
   * Seals every value of these vaults (and of their deleted-secrets bins, as `binOf` names them) that is stored in
   * plaintext or under another KEK than the current one; returns how many were resealed. Versions keep their order:
   * an existing version is rewritten in place.
   */
  async resealSecrets(vaultIds: readonly string[], binOf: (vaultId: string) => string): Promise<number> {
    let resealed = 0;
    for (const id of vaultIds.flatMap((vaultId) => [vaultId, binOf(vaultId)])) {
      for (const latest of await this.#inner.listLatestSecrets(id)) {
        for (const version of await this.#inner.listSecretVersions(id, latest.name)) {
          if (sealingKeyOf(version.value) === this.#ring.current) continue;
          await this.putSecretVersion(this.#open(version));
          resealed += 1;
        }
      }
    }
    return resealed;
  }

  putSecretVersion(secret: SecretVersion): Promise<void> {
    return this.#inner.putSecretVersion({ ...secret, value: sealValue(this.#ring, secret) });
  }

  async getSecretVersion(
    vaultId: string,
    name: string,
    version?: string,
  ): Promise<SecretVersion | undefined> {
    const secret = await this.#inner.getSecretVersion(vaultId, name, version);
    return secret && this.#open(secret);
  }

  async listSecretVersions(vaultId: string, name: string): Promise<SecretVersion[]> {
    return (await this.#inner.listSecretVersions(vaultId, name)).map((secret) => this.#open(secret));
  }

  /**
   * Each value opens when it is first read: list answers carry names and attributes only, so a vault of a thousand
   * secrets is listed without a thousand decryptions.
   */
  async listLatestSecrets(vaultId: string): Promise<SecretVersion[]> {
    return (await this.#inner.listLatestSecrets(vaultId)).map((stored) => {
      let opened: string | undefined;
      return Object.defineProperty({ ...stored }, "value", {
        enumerable: true,
        get: () => {
          opened ??= openValue(this.#ring, stored);
          return opened;
        },
      });
    });
  }

  deleteSecret(vaultId: string, name: string): Promise<boolean> {
    return this.#inner.deleteSecret(vaultId, name);
  }

  getSetting(key: string): Promise<string | undefined> {
    return this.#inner.getSetting(key);
  }
  putSetting(key: string, value: string): Promise<void> {
    return this.#inner.putSetting(key, value);
  }
  getResource(id: string): Promise<ArmResource | undefined> {
    return this.#inner.getResource(id);
  }
  putResource(resource: ArmResource): Promise<void> {
    return this.#inner.putResource(resource);
  }
  deleteResource(id: string): Promise<boolean> {
    return this.#inner.deleteResource(id);
  }
  listResources(query: ResourceQuery): Promise<ArmResource[]> {
    return this.#inner.listResources(query);
  }
  putResourceAmong(
    among: ResourceQuery,
    decide: (current: ArmResource[]) => ArmResource,
  ): Promise<ArmResource> {
    return this.#inner.putResourceAmong(among, decide);
  }
  tryLease(name: string, holder: string, ttlMs: number, now?: number): Promise<boolean> {
    return this.#inner.tryLease(name, holder, ttlMs, now);
  }
  releaseLease(name: string, holder: string): Promise<void> {
    return this.#inner.releaseLease(name, holder);
  }
  getKubeObject(
    cluster: string,
    kind: string,
    namespace: string,
    name: string,
  ): Promise<KubeObject | undefined> {
    return this.#inner.getKubeObject(cluster, kind, namespace, name);
  }
  putKubeObject(cluster: string, object: KubeObject): Promise<KubeObject> {
    return this.#inner.putKubeObject(cluster, object);
  }
  deleteKubeObject(cluster: string, kind: string, namespace: string, name: string): Promise<boolean> {
    return this.#inner.deleteKubeObject(cluster, kind, namespace, name);
  }
  listKubeObjects(cluster: string, kind: string, namespace?: string): Promise<KubeObject[]> {
    return this.#inner.listKubeObjects(cluster, kind, namespace);
  }
  // Key-values are configuration, not secrets (a Key Vault reference holds a secret's URI, never its value): unsealed.
  getKeyValue(configStoreId: string, key: string, label: string | null): Promise<StoredKeyValue | undefined> {
    return this.#inner.getKeyValue(configStoreId, key, label);
  }
  listKeyValues(configStoreId: string, query?: KeyValueQuery): Promise<StoredKeyValue[]> {
    return this.#inner.listKeyValues(configStoreId, query);
  }
  changeKeyValue(
    configStoreId: string,
    key: string,
    label: string | null,
    change: (current: StoredKeyValue | undefined) => KeyValueChange,
  ): Promise<{ keyValue: StoredKeyValue | undefined; sequence?: number }> {
    return this.#inner.changeKeyValue(configStoreId, key, label, change);
  }
  listKeyValueRevisions(configStoreId: string, query?: KeyValueQuery): Promise<KeyValueRevision[]> {
    return this.#inner.listKeyValueRevisions(configStoreId, query);
  }
  deleteKeyValues(configStoreId: string): Promise<void> {
    return this.#inner.deleteKeyValues(configStoreId);
  }
  keyValuesVersion(configStoreId: string): Promise<KeyValuesVersion> {
    return this.#inner.keyValuesVersion(configStoreId);
  }
  /** A key stored in plaintext or under an earlier KEK is resealed as it is read: every ring is read at start. */
  async listSigningKeys(purpose: string): Promise<StoredSigningKey[]> {
    const opened: StoredSigningKey[] = [];
    for (const stored of await this.#inner.listSigningKeys(purpose)) {
      const key = openSigningKey(this.#ring, stored);
      if (signingKeySealedUnder(stored) !== this.#ring.current) await this.putSigningKey(key);
      opened.push(key);
    }
    return opened;
  }
  putSigningKey(key: StoredSigningKey): Promise<void> {
    return this.#inner.putSigningKey(sealSigningKey(this.#ring, key));
  }
  appendSignIns(
    records: readonly { record: SignInRecord; credentialId?: string }[],
    retention: SignInRetention,
  ): Promise<void> {
    return this.#inner.appendSignIns(records, retention);
  }
  listSignIns(query: SignInQuery): Promise<SignInRecord[]> {
    return this.#inner.listSignIns(query);
  }
  listCredentialUsage(identityId: string): Promise<CredentialUsage[]> {
    return this.#inner.listCredentialUsage(identityId);
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
}
