import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import type { JWK } from "jose";
import type { Store, StoredSigningKey } from "../store/store.ts";
import { keyIdOf } from "./key-id.ts";
import { publishedJwk } from "./published-jwk.ts";

const generateRsaKeyPair = promisify(generateKeyPair);

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/**
 * The signing keys of one issuer (the local cluster, the token service), kept in the store.
 * One key signs; keys retired by a rotation stay published so tokens they signed still verify.
 */
export class SigningKeyRing {
  readonly purpose: string;
  #store: Store;
  #keys: (SigningKey & { created: number; retiredAt?: number })[];

  private constructor(store: Store, purpose: string, keys: StoredSigningKey[]) {
    this.#store = store;
    this.purpose = purpose;
    this.#keys = keys.map((stored) => {
      const privateKey = createPrivateKey({ key: stored.privateJwk as JWK & { kty: string }, format: "jwk" });
      return {
        kid: stored.kid,
        alg: stored.alg,
        privateKey,
        publicKey: createPublicKey(privateKey),
        created: stored.created,
        retiredAt: stored.retiredAt,
      };
    });
  }

  /** Loads the ring for `purpose`, creating its first key when there is none. */
  static async open(store: Store, purpose: string): Promise<SigningKeyRing> {
    const ring = new SigningKeyRing(store, purpose, await store.listSigningKeys(purpose));
    if (!ring.#keys.some((key) => key.retiredAt === undefined)) await ring.rotate();
    return ring;
  }

  get active(): SigningKey {
    const active = this.#keys.findLast((key) => key.retiredAt === undefined);
    if (!active) throw new Error(`no active signing key for ${this.purpose}`);
    return active;
  }

  /** Every key that verifies: the active one and those retired but still published. */
  get verificationKeys(): readonly SigningKey[] {
    return this.#keys;
  }

  publicJwks(): JWK[] {
    return this.#keys.map((key) =>
      publishedJwk(key.publicKey.export({ format: "jwk" }) as JWK, key.kid, key.alg),
    );
  }

  /** Makes a new RSA-2048 key the signing key; the previous one is retired but stays published. */
  async rotate(now = Date.now()): Promise<SigningKey> {
    const { privateKey, publicKey } = await generateRsaKeyPair("rsa", { modulusLength: 2048 });
    const seconds = Math.floor(now / 1000);
    const key = { kid: keyIdOf(publicKey), alg: "RS256", privateKey, publicKey, created: seconds };
    for (const previous of this.#keys.filter((k) => k.retiredAt === undefined)) {
      previous.retiredAt = seconds;
      await this.#store.putSigningKey(this.#stored(previous));
    }
    await this.#store.putSigningKey(this.#stored(key));
    this.#keys.push(key);
    return key;
  }

  #stored(key: SigningKey & { created: number; retiredAt?: number }): StoredSigningKey {
    return {
      purpose: this.purpose,
      kid: key.kid,
      alg: key.alg,
      privateJwk: key.privateKey.export({ format: "jwk" }) as Record<string, unknown>,
      created: key.created,
      retiredAt: key.retiredAt,
    };
  }
}
