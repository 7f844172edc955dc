// Secret values sealed at rest: the whole store contract holds through SealedSecretsStore, the database holds no
// plaintext, a sealed value opens only where it was written and only unaltered, values from before sealing are read
// and resealed, a new current key-encryption key takes every value over, and private signing keys are sealed alike.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { loadOrCreateSecretKeyRing, parseSecretKeyRing } from "../../src/server/secret-key-ring-file.ts";
import {
  SealedSecretsStore,
  type SecretKeyRing,
  SecretSealError,
  sealingKeyOf,
} from "../../src/store/sealed-secrets.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import { describeStoreContract, GROUP, secret } from "./store-contract.ts";

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "wikit-sealed-"));
  tempDirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const ring = (current: string, ...ids: string[]): SecretKeyRing => ({
  current,
  keys: new Map(ids.map((id) => [id, KEYS[id] ?? assert.fail(id)])),
});
const KEYS: Record<string, Buffer> = { old: randomBytes(32), new: randomBytes(32) };
const VAULT = `${GROUP}/providers/Microsoft.KeyVault/vaults/kv-sealed`;
const binOf = (vaultId: string) => `${vaultId}/deletedsecrets`;

describeStoreContract("sqlite, sealed", {
  async newLocation() {
    const path = join(tempDir(), "wikit.db");
    return async () => new SealedSecretsStore(new SqliteStore(path), ring("new", "new"));
  },
});

describe("sealed secret values", () => {
  test("the database holds the sealed form only; the store gives the plaintext back", async () => {
    const path = join(tempDir(), "wikit.db");
    const inner = new SqliteStore(path);
    const sealed = new SealedSecretsStore(inner, ring("new", "new"));
    await sealed.putSecretVersion(secret(VAULT, "db-password", "v1", "s3cr3t-plaintext"));
    assert.equal((await sealed.getSecretVersion(VAULT, "db-password"))?.value, "s3cr3t-plaintext");
    const stored = await inner.getSecretVersion(VAULT, "db-password");
    assert.equal(sealingKeyOf(stored?.value ?? ""), "new");
    await sealed.close();
    assert.equal(readFileSync(path).includes(Buffer.from("s3cr3t-plaintext")), false);
  });

  test("a sealed value moved onto another secret, or altered, does not open", async () => {
    const inner = new SqliteStore(join(tempDir(), "wikit.db"));
    const sealed = new SealedSecretsStore(inner, ring("new", "new"));
    await sealed.putSecretVersion(secret(VAULT, "a", "v1", "value of a"));
    const stored = (await inner.getSecretVersion(VAULT, "a")) ?? assert.fail();
    await inner.putSecretVersion({ ...stored, name: "b" });
    await assert.rejects(sealed.getSecretVersion(VAULT, "b"), /does not open: it was altered, or moved/);
    const body = stored.value;
    const flipped = `${body.slice(0, -2)}${body.endsWith("A") ? "B" : "A"}${body.slice(-1)}`;
    await inner.putSecretVersion({ ...stored, version: "v2", value: flipped });
    await assert.rejects(sealed.getSecretVersion(VAULT, "a", "v2"), SecretSealError);
    await sealed.close();
  });

  test("a list opens a value only when it is read: names list even past a value that does not open", async () => {
    const inner = new SqliteStore(join(tempDir(), "wikit.db"));
    const sealed = new SealedSecretsStore(inner, ring("new", "new"));
    await sealed.putSecretVersion(secret(VAULT, "good", "v1", "fine"));
    await sealed.putSecretVersion(secret(VAULT, "bad", "v1", "to be altered"));
    const stored = (await inner.getSecretVersion(VAULT, "bad")) ?? assert.fail();
    await inner.putSecretVersion({
      ...stored,
      name: "bad",
      version: "v1",
      // A character inside the body: every bit of it counts (the last one's low bits may be padding).
      value: stored.value.replace(/.(?=.{4}$)/, (c) => (c === "A" ? "B" : "A")),
    });
    const listed = await sealed.listLatestSecrets(VAULT);
    assert.deepEqual(listed.map((item) => item.name).sort(), ["bad", "good"]);
    assert.equal(listed.find((item) => item.name === "good")?.value, "fine");
    assert.throws(() => listed.find((item) => item.name === "bad")?.value, SecretSealError);
    await sealed.close();
  });

  test("values from before sealing are read as they are, and resealed in place with their order kept", async () => {
    const inner = new SqliteStore(join(tempDir(), "wikit.db"));
    await inner.putSecretVersion(secret(VAULT, "legacy", "v1", "first"));
    await inner.putSecretVersion(secret(VAULT, "legacy", "v2", "second"));
    await inner.putSecretVersion(secret(binOf(VAULT), "gone", "v1", "in the bin"));
    const sealed = new SealedSecretsStore(inner, ring("new", "new"));
    assert.equal((await sealed.getSecretVersion(VAULT, "legacy"))?.value, "second");
    assert.equal(await sealed.resealSecrets([VAULT], binOf), 3);
    assert.equal(await sealed.resealSecrets([VAULT], binOf), 0, "a second pass has nothing to do");
    for (const version of [
      ...(await inner.listSecretVersions(VAULT, "legacy")),
      ...(await inner.listSecretVersions(binOf(VAULT), "gone")),
    ]) {
      assert.equal(sealingKeyOf(version.value), "new");
    }
    assert.equal((await sealed.getSecretVersion(VAULT, "legacy"))?.value, "second", "v2 is still the latest");
    assert.equal((await sealed.getSecretVersion(binOf(VAULT), "gone"))?.value, "in the bin");
    await sealed.close();
  });

  test("a new current key-encryption key: values under the old one open, and resealing moves them all", async () => {
    const path = join(tempDir(), "wikit.db");
    const before = new SealedSecretsStore(new SqliteStore(path), ring("old", "old"));
    await before.putSecretVersion(secret(VAULT, "s", "v1", "under old"));
    await before.close();

    const rotating = new SealedSecretsStore(new SqliteStore(path), ring("new", "old", "new"));
    assert.equal((await rotating.getSecretVersion(VAULT, "s"))?.value, "under old");
    assert.equal(await rotating.resealSecrets([VAULT], binOf), 1);
    await rotating.close();

    const after = new SealedSecretsStore(new SqliteStore(path), ring("new", "new"));
    assert.equal((await after.getSecretVersion(VAULT, "s"))?.value, "under old");
    await after.close();
    const lost = new SealedSecretsStore(new SqliteStore(path), ring("old", "old"));
    await assert.rejects(
      lost.getSecretVersion(VAULT, "s"),
      /sealed under key-encryption key 'new', which the key ring lacks/,
    );
    await lost.close();
  });

  test("private signing keys are sealed too, bound to purpose and kid; one stored before sealing is resealed on read", async () => {
    const inner = new SqliteStore(join(tempDir(), "wikit.db"));
    const sealed = new SealedSecretsStore(inner, ring("new", "new"));
    const privateJwk = { kty: "EC", crv: "P-256", x: "x", y: "y", d: "private-part" };
    await sealed.putSigningKey({ purpose: "sts", kid: "k1", alg: "ES256", privateJwk, created: 1 });
    const [stored] = await inner.listSigningKeys("sts");
    assert.equal(stored?.privateJwk.d, undefined);
    assert.equal(JSON.stringify(stored).includes("private-part"), false);
    assert.deepEqual((await sealed.listSigningKeys("sts"))[0]?.privateJwk, privateJwk);

    await inner.putSigningKey({ ...(stored ?? assert.fail()), kid: "k2" });
    await assert.rejects(sealed.listSigningKeys("sts"), /signing key 'k2' \(sts\) does not open/);
    await inner.putSigningKey({ purpose: "sts", kid: "k2", alg: "ES256", privateJwk, created: 2 });
    assert.deepEqual(
      (await sealed.listSigningKeys("sts")).map((key) => key.privateJwk.d),
      ["private-part", "private-part"],
    );
    assert.equal(
      (await inner.listSigningKeys("sts")).every((key) => key.privateJwk.d === undefined),
      true,
      "the plaintext key was resealed as it was read",
    );
    await sealed.close();
  });

  test("a ring without its current key, or with a key of the wrong size, seals nothing", () => {
    const inner = new SqliteStore(join(tempDir(), "wikit.db"));
    assert.throws(
      () => new SealedSecretsStore(inner, ring("new", "old")),
      /current key-encryption key 'new' is not in the key ring/,
    );
    assert.throws(
      () => new SealedSecretsStore(inner, { current: "k", keys: new Map([["k", randomBytes(16)]]) }),
      /has 16 bytes; AES-256 takes 32/,
    );
  });
});

describe("the key ring file", () => {
  test("made once, owner-only, with one 32-byte key; read back the same", async () => {
    const file = join(tempDir(), "secret-keys.json");
    const made = await loadOrCreateSecretKeyRing(file);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(made.keys.get(made.current)?.length, 32);
    const again = await loadOrCreateSecretKeyRing(file);
    assert.deepEqual(again, made);
  });

  test("a malformed file is refused with the format", () => {
    assert.throws(() => parseSecretKeyRing("nope", "f.json"), /f\.json is not JSON/);
    assert.throws(() => parseSecretKeyRing('{"keys":{}}', "f.json"), /must be \{"current"/);
    assert.throws(
      () => parseSecretKeyRing('{"current":"a","keys":{"b":"AAAA"}}', "f.json"),
      /f\.json: the current key-encryption key 'a' is not in the key ring/,
    );
    const file = join(tempDir(), "k.json");
    writeFileSync(file, JSON.stringify({ current: "a", keys: { a: randomBytes(32).toString("base64") } }));
    assert.equal(parseSecretKeyRing(readFileSync(file, "utf8"), file).current, "a");
  });
});
