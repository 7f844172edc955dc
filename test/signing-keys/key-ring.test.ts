import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, SignJWT } from "jose";
import { issuerDiscoveryDocument } from "../../src/cluster/issuer/discovery.ts";
import { keyIdOf } from "../../src/signing-keys/key-id.ts";
import { SigningKeyRing } from "../../src/signing-keys/key-ring.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";

const PURPOSE = "cluster:test";

async function sign(ring: SigningKeyRing, subject: string): Promise<string> {
  const key = ring.active;
  return new SignJWT({ sub: subject })
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .sign(key.privateKey);
}

describe("signing key ring", () => {
  test("opening an empty ring makes one RS256 key whose kid is derived from its public key", async () => {
    const store = new SqliteStore(":memory:");
    const ring = await SigningKeyRing.open(store, PURPOSE);
    assert.equal(ring.active.alg, "RS256");
    assert.equal(ring.active.kid, keyIdOf(ring.active.publicKey));
    assert.equal(ring.active.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.equal(ring.verificationKeys.length, 1);
    assert.equal((await store.listSigningKeys(PURPOSE)).length, 1);
  });

  test("the JWKS has use, kty, kid, alg, n, e for each key and nothing private", async () => {
    const ring = await SigningKeyRing.open(new SqliteStore(":memory:"), PURPOSE);
    await ring.rotate();
    const jwks = ring.publicJwks();
    assert.equal(jwks.length, 2);
    for (const key of jwks) {
      assert.deepEqual(Object.keys(key), ["use", "kty", "kid", "alg", "n", "e"]);
      assert.equal(key.use, "sig");
      assert.equal(key.kty, "RSA");
      assert.equal(key.alg, "RS256");
    }
    assert.ok(!JSON.stringify(jwks).includes('"d"'));
  });

  test("reopening the ring from the store gives the same signing key", async () => {
    const store = new SqliteStore(":memory:");
    const first = await SigningKeyRing.open(store, PURPOSE);
    const token = await sign(first, "a");
    const reopened = await SigningKeyRing.open(store, PURPOSE);
    assert.equal(reopened.active.kid, first.active.kid);
    assert.equal(reopened.publicJwks().length, 1);
    await jwtVerify(token, createLocalJWKSet({ keys: reopened.publicJwks() }));
  });

  test("rings of different purposes have different keys", async () => {
    const store = new SqliteStore(":memory:");
    const cluster = await SigningKeyRing.open(store, "cluster:local");
    const sts = await SigningKeyRing.open(store, "sts");
    assert.notEqual(cluster.active.kid, sts.active.kid);
    assert.equal(cluster.publicJwks().length, 1);
  });

  test("rotation signs with the new key and keeps the old one published, so old tokens still verify", async () => {
    const store = new SqliteStore(":memory:");
    const ring = await SigningKeyRing.open(store, PURPOSE);
    const oldKid = ring.active.kid;
    const oldToken = await sign(ring, "before");

    const rotated = await ring.rotate();
    assert.notEqual(rotated.kid, oldKid);
    assert.equal(ring.active.kid, rotated.kid);
    const newToken = await sign(ring, "after");
    assert.equal(decodeProtectedHeader(newToken).kid, rotated.kid);

    const kids = ring.publicJwks().map((key) => key.kid);
    assert.deepEqual(kids, [oldKid, rotated.kid]);
    const jwks = createLocalJWKSet({ keys: ring.publicJwks() });
    assert.equal((await jwtVerify(oldToken, jwks)).payload.sub, "before");
    assert.equal((await jwtVerify(newToken, jwks)).payload.sub, "after");
    assert.deepEqual(
      issuerDiscoveryDocument("https://a.test", ring.publicJwks()).id_token_signing_alg_values_supported,
      ["RS256"],
    );
  });

  test("a rotation survives a restart: the new key signs, the retired one stays published", async () => {
    const store = new SqliteStore(":memory:");
    const ring = await SigningKeyRing.open(store, PURPOSE);
    const oldKid = ring.active.kid;
    const newKid = (await ring.rotate(1_750_000_000_000)).kid;

    const reopened = await SigningKeyRing.open(store, PURPOSE);
    assert.equal(reopened.active.kid, newKid);
    assert.deepEqual(
      reopened.publicJwks().map((key) => key.kid),
      [oldKid, newKid],
    );
    const stored = await store.listSigningKeys(PURPOSE);
    assert.equal(stored.find((key) => key.kid === oldKid)?.retiredAt, 1_750_000_000);
    assert.equal(stored.find((key) => key.kid === newKid)?.retiredAt, undefined);
  });

  test("a token signed by a stranger's key under a published kid does not verify", async () => {
    const ring = await SigningKeyRing.open(new SqliteStore(":memory:"), PURPOSE);
    const stranger = await SigningKeyRing.open(new SqliteStore(":memory:"), PURPOSE);
    const forged = await new SignJWT({ sub: "x" })
      .setProtectedHeader({ alg: "RS256", kid: ring.active.kid })
      .sign(stranger.active.privateKey);
    await assert.rejects(
      jwtVerify(forged, createLocalJWKSet({ keys: ring.publicJwks() })),
      (error: Error & { code?: string }) => error.code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    );
  });
});
