import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import type { JWK } from "jose";
import type { Store, StoredSigningKey } from "../store/store.ts";
import { keyIdOf } from "./key-id.ts";
import { publishedJwk } from "./published-jwk.ts";
import { isPublishedAt, nextRotationStep, type RotationPolicy, signingKeyAt } from "./rotation-policy.ts";

const generateRsaKeyPair = promisify(generateKeyPair);

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

type RingKey = SigningKey & { created: number; activatesAt?: number; retiredAt?: number };

export interface SigningKeyRingOptions {
  /** How long a retired key stays published (seconds); forever when unset. */
  retainRetiredSeconds?: number;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * The signing keys of one issuer (the local cluster, the token service), kept in the store.
 * One key signs; keys retired by a rotation stay published so tokens they signed still verify. Processes that
 * share a store share the ring: each reloads it, and the rotation lease's holder rotates it (`maintain`).
 */
export class SigningKeyRing {
  readonly purpose: string;
  #store: Store;
  #keys: RingKey[] = [];
  readonly #retainRetiredSeconds: number;

  private constructor(store: Store, purpose: string, options: SigningKeyRingOptions) {
    this.#store = store;
    this.purpose = purpose;
    this.#retainRetiredSeconds = options.retainRetiredSeconds ?? Number.POSITIVE_INFINITY;
  }

  /** Loads the ring for `purpose`, creating its first key when there is none. */
  static async open(
    store: Store,
    purpose: string,
    options: SigningKeyRingOptions = {},
  ): Promise<SigningKeyRing> {
    const ring = new SigningKeyRing(store, purpose, options);
    await ring.reload();
    if (!ring.#keys.some((key) => key.retiredAt === undefined)) await ring.rotate();
    return ring;
  }

  /** Reads the ring again from the store, as another process sharing it may have rotated it. */
  async reload(): Promise<void> {
    const known = new Map(this.#keys.map((key) => [key.kid, key]));
    this.#keys = (await this.#store.listSigningKeys(this.purpose)).map((stored) => {
      const cached = known.get(stored.kid);
      const keys = cached ?? keyPairOf(stored);
      return {
        kid: stored.kid,
        alg: stored.alg,
        privateKey: keys.privateKey,
        publicKey: keys.publicKey,
        created: stored.created,
        activatesAt: stored.activatesAt,
        retiredAt: stored.retiredAt,
      };
    });
  }

  get active(): SigningKey {
    const active = signingKeyAt(this.#keys, nowSeconds());
    if (!active) throw new Error(`no active signing key for ${this.purpose}`);
    return active;
  }

  /** Every key that verifies: the active one, its published successor and those retired but still published. */
  get verificationKeys(): readonly SigningKey[] {
    const now = nowSeconds();
    return this.#keys.filter((key) => isPublishedAt(key, now, this.#retainRetiredSeconds));
  }

  publicJwks(): JWK[] {
    return this.verificationKeys.map((key) =>
      publishedJwk(key.publicKey.export({ format: "jwk" }) as JWK, key.kid, key.alg),
    );
  }

  /** The signing key's age in seconds (for metrics). */
  activeKeyAgeSeconds(now = nowSeconds()): number {
    const active = signingKeyAt(this.#keys, now);
    return active ? now - (active.activatesAt ?? active.created) : 0;
  }

  /**
   * Takes the next step `policy` calls for at `now`, if any: publishes a successor ahead of its time, or retires
   * the keys a successor replaced once it signs. Only the rotation lease's holder calls this; it reloads first.
   */
  async maintain(policy: RotationPolicy, now = nowSeconds()): Promise<"published" | "retired" | undefined> {
    await this.reload();
    const step = nextRotationStep(this.#keys, policy, now);
    if (step.kind === "publish-successor") {
      const key = await newRsaKey(now, step.activatesAt);
      await this.#store.putSigningKey(this.#stored(key));
      this.#keys.push(key);
      return "published";
    }
    if (step.kind === "retire") {
      for (const key of this.#keys.filter((k) => step.kids.includes(k.kid))) {
        key.retiredAt = step.retiredAt;
        await this.#store.putSigningKey(this.#stored(key));
      }
      return "retired";
    }
    return undefined;
  }

  /** Makes a new RSA-2048 key the signing key; the previous one is retired but stays published. */
  async rotate(now = Date.now()): Promise<SigningKey> {
    const seconds = Math.floor(now / 1000);
    const key = await newRsaKey(seconds);
    for (const previous of this.#keys.filter((k) => k.retiredAt === undefined)) {
      previous.retiredAt = seconds;
      await this.#store.putSigningKey(this.#stored(previous));
    }
    await this.#store.putSigningKey(this.#stored(key));
    this.#keys.push(key);
    return key;
  }

  #stored(key: RingKey): StoredSigningKey {
    return {
      purpose: this.purpose,
      kid: key.kid,
      alg: key.alg,
      privateJwk: key.privateKey.export({ format: "jwk" }) as Record<string, unknown>,
      created: key.created,
      ...(key.activatesAt === undefined ? {} : { activatesAt: key.activatesAt }),
      retiredAt: key.retiredAt,
    };
  }
}

async function newRsaKey(created: number, activatesAt?: number): Promise<RingKey> {
  const { privateKey, publicKey } = await generateRsaKeyPair("rsa", { modulusLength: 2048 });
  return { kid: keyIdOf(publicKey), alg: "RS256", privateKey, publicKey, created, activatesAt };
}

function keyPairOf(stored: StoredSigningKey): { privateKey: KeyObject; publicKey: KeyObject } {
  const privateKey = createPrivateKey({ key: stored.privateJwk as JWK & { kty: string }, format: "jwk" });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}
