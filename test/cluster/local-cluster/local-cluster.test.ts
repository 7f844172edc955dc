import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { KubeError, LocalCluster } from "../../../src/cluster/local-cluster/local-cluster.ts";
import { SigningKeyRing } from "../../../src/signing-keys/key-ring.ts";
import { SqliteStore } from "../../../src/store/sqlite-store.ts";

async function makeCluster(issuer: () => string = () => "https://localhost:8443/oidc/x/") {
  const store = new SqliteStore(":memory:");
  const keys = await SigningKeyRing.open(store, "cluster:test");
  return { store, keys, cluster: new LocalCluster(store, "local", keys, issuer) };
}

describe("local cluster core", () => {
  test("putNamespace is idempotent: the second call returns the existing namespace, not a new one", async () => {
    const { cluster } = await makeCluster();
    const first = await cluster.putNamespace("default");
    const second = await cluster.putNamespace("default", { ignored: "yes" });
    assert.equal(first.created, true);
    assert.equal(second.created, false);
    assert.equal(second.object.metadata.uid, first.object.metadata.uid);
  });

  test("putServiceAccount reports whether it created the account and keeps the uid when replacing", async () => {
    const { cluster } = await makeCluster();
    await cluster.putNamespace("apps");
    const created = await cluster.putServiceAccount("apps", "web", {});
    const replaced = await cluster.putServiceAccount("apps", "web", { annotations: { a: "b" } });
    assert.equal(created.created, true);
    assert.equal(replaced.created, false);
    assert.equal(replaced.object.metadata.uid, created.object.metadata.uid);
    assert.deepEqual(replaced.object.metadata.annotations, { a: "b" });
  });

  test("the issuer is read when a token is issued, so it follows the port the server ends up on", async () => {
    let issuer = "https://localhost:0/oidc/x/";
    const { cluster } = await makeCluster(() => issuer);
    await cluster.putNamespace("apps");
    await cluster.putServiceAccount("apps", "web", {});
    issuer = "https://localhost:41234/oidc/x/";
    const { token } = await cluster.requestToken("apps", "web", {});
    assert.equal(decodeJwt(token).iss, "https://localhost:41234/oidc/x/");
    assert.deepEqual(decodeJwt(token).aud, ["https://localhost:41234/oidc/x/"]);
  });

  test("tokens are signed by the ring's active key, and by the new one after a rotation", async () => {
    const { cluster, keys } = await makeCluster();
    await cluster.putNamespace("apps");
    await cluster.putServiceAccount("apps", "web", {});
    const before = (await cluster.requestToken("apps", "web", {})).token;
    assert.equal(decodeProtectedHeader(before).kid, keys.active.kid);
    const rotated = await keys.rotate();
    const after = (await cluster.requestToken("apps", "web", {})).token;
    assert.equal(decodeProtectedHeader(after).kid, rotated.kid);
    assert.deepEqual(Object.keys(decodeProtectedHeader(after)), ["alg", "kid"]);
  });

  test("errors are KubeErrors that render as Kubernetes Status objects", async () => {
    const { cluster } = await makeCluster();
    await assert.rejects(cluster.getServiceAccount("apps", "web"), (error: unknown) => {
      assert.ok(error instanceof KubeError);
      assert.deepEqual(error.toStatus(), {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: 'serviceaccounts "web" not found',
        reason: "NotFound",
        details: { name: "web", kind: "serviceaccounts" },
        code: 404,
      });
      return true;
    });
  });
});
