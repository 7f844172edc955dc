import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SigningKeyRing } from "../../src/signing-keys/key-ring.ts";
import {
  isPublishedAt,
  type KeyTimes,
  nextRotationStep,
  type RotationPolicy,
  signingKeyAt,
} from "../../src/signing-keys/rotation-policy.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";

const POLICY: RotationPolicy = { rotateAfterSeconds: 1000, overlapSeconds: 100, retainSeconds: 50 };

describe("signing key rotation policy", () => {
  test("an empty ring gets a key that signs at once", () => {
    assert.deepEqual(nextRotationStep([], POLICY, 5000), { kind: "publish-successor", activatesAt: 5000 });
  });

  test("a key younger than rotateAfterSeconds is left alone; an older one gets a successor published ahead", () => {
    const keys: KeyTimes[] = [{ kid: "a", created: 1000 }];
    assert.deepEqual(nextRotationStep(keys, POLICY, 1999), { kind: "none" });
    assert.deepEqual(nextRotationStep(keys, POLICY, 2000), { kind: "publish-successor", activatesAt: 2100 });
  });

  test("while the successor waits, the old key signs and nothing more happens; once it signs, the old retires", () => {
    const keys: KeyTimes[] = [
      { kid: "a", created: 1000 },
      { kid: "b", created: 2000, activatesAt: 2100 },
    ];
    assert.equal(signingKeyAt(keys, 2099)?.kid, "a");
    assert.deepEqual(nextRotationStep(keys, POLICY, 2099), { kind: "none" });
    assert.equal(signingKeyAt(keys, 2100)?.kid, "b");
    assert.deepEqual(nextRotationStep(keys, POLICY, 2150), { kind: "retire", kids: ["a"], retiredAt: 2100 });
  });

  test("a retired key signs until its retirement on a clock that is behind, and stays published retainSeconds", () => {
    const keys: KeyTimes[] = [
      { kid: "a", created: 1000, retiredAt: 2100 },
      { kid: "b", created: 2000, activatesAt: 2100 },
    ];
    assert.equal(signingKeyAt(keys, 2090)?.kid, "a", "a replica whose clock is 10 s behind");
    assert.equal(signingKeyAt(keys, 2100)?.kid, "b");
    assert.equal(isPublishedAt(keys[0] as KeyTimes, 2149, POLICY.retainSeconds), true);
    assert.equal(isPublishedAt(keys[0] as KeyTimes, 2150, POLICY.retainSeconds), false);
    assert.deepEqual(nextRotationStep(keys, POLICY, 3099), { kind: "none" });
    assert.equal(nextRotationStep(keys, POLICY, 3100).kind, "publish-successor");
  });
});

describe("signing key ring shared by replicas", () => {
  test("the lease holder's rotation is seen by another ring on the same store after a reload", async () => {
    const store = new SqliteStore(":memory:");
    const now = Math.floor(Date.now() / 1000);
    const holder = await SigningKeyRing.open(store, "sts");
    const other = await SigningKeyRing.open(store, "sts");
    const first = holder.active.kid;
    assert.equal(other.active.kid, first, "the second ring found the first key instead of making one");

    assert.equal(await holder.maintain(POLICY, now + 999), undefined);
    assert.equal(await holder.maintain(POLICY, now + 1000), "published");
    await other.reload();
    assert.equal(other.publicJwks().length, 2, "the successor is published before it signs");
    assert.equal(other.active.kid, first);
    assert.deepEqual(
      other.publicJwks().map((jwk) => jwk.kid),
      holder.publicJwks().map((jwk) => jwk.kid),
    );

    assert.equal(await holder.maintain(POLICY, now + 1100), "retired");
    await other.reload();
    // The successor signs from now + 1100: until then, on this clock, the first key still signs.
    assert.equal(other.active.kid, first);
    assert.equal(other.verificationKeys.length, 2);
    await store.close();
  });
});
