import assert from "node:assert/strict";
import { describe, test } from "node:test";
import Fastify, { type LightMyRequestResponse } from "fastify";
import { createLocalJWKSet, decodeJwt, jwtVerify } from "jose";
import { registerKubeApiRoutes } from "../../../src/cluster/local-cluster/kube-api-routes.ts";
import { LocalCluster } from "../../../src/cluster/local-cluster/local-cluster.ts";
import { SigningKeyRing } from "../../../src/signing-keys/key-ring.ts";
import { SqliteStore } from "../../../src/store/sqlite-store.ts";

const ISSUER = "https://localhost:8443/oidc/6f1c2d3e-0000-4000-8000-000000000001/";
const PREFIX = "/clusters/local";
const API = `${PREFIX}/api/v1`;

async function startKubeApi() {
  const store = new SqliteStore(":memory:");
  const keys = await SigningKeyRing.open(store, "cluster:test");
  const cluster = new LocalCluster(store, "local", keys, () => ISSUER);
  const app = Fastify({ routerOptions: { caseSensitive: false } });
  registerKubeApiRoutes(app, "/clusters/:cluster", ({ cluster: key }) =>
    key === "local" ? cluster : undefined,
  );
  await app.ready();
  const call = (method: "GET" | "POST" | "PUT" | "DELETE", url: string, payload?: unknown) =>
    app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });
  const jwks = createLocalJWKSet({ keys: keys.publicJwks() });
  return { app, call, store, cluster, keys, jwks };
}

async function startWithAccount(namespace = "apps", name = "workload") {
  const context = await startKubeApi();
  assert.equal(
    (await context.call("POST", `${API}/namespaces`, { metadata: { name: namespace } })).statusCode,
    201,
  );
  const created = await context.call("POST", `${API}/namespaces/${namespace}/serviceaccounts`, {
    metadata: { name, annotations: { "azure.workload.identity/client-id": "c1" } },
  });
  assert.equal(created.statusCode, 201, created.body);
  return {
    ...context,
    account: created.json(),
    tokenUrl: `${API}/namespaces/${namespace}/serviceaccounts/${name}/token`,
  };
}

/** Asserts a Kubernetes `Status` failure with its code, reason and message. */
function assertStatus(
  response: LightMyRequestResponse,
  code: number,
  reason: string,
  message: string | RegExp,
) {
  assert.equal(response.statusCode, code, response.body);
  const status = response.json();
  assert.equal(status.kind, "Status");
  assert.equal(status.apiVersion, "v1");
  assert.equal(status.status, "Failure");
  assert.equal(status.code, code);
  assert.equal(status.reason, reason);
  if (typeof message === "string") assert.equal(status.message, message);
  else assert.match(status.message, message);
  return status;
}

const tokenRequest = (spec: Record<string, unknown>) => ({
  apiVersion: "authentication.k8s.io/v1",
  kind: "TokenRequest",
  spec,
});

describe("local cluster API: namespaces", () => {
  test("a cluster the path does not name answers the apiserver's 404 Status", async () => {
    const { call } = await startKubeApi();
    const response = await call("GET", "/clusters/elsewhere/api/v1/namespaces");
    assert.equal(response.statusCode, 404);
    assert.equal(response.json().kind, "Status");
    assert.equal(response.json().reason, "NotFound");
  });

  test("POST creates a namespace (201); a second POST of the name is a 409 AlreadyExists", async () => {
    const { call } = await startKubeApi();
    const created = await call("POST", `${API}/namespaces`, {
      metadata: { name: "apps", labels: { team: "a" } },
    });
    assert.equal(created.statusCode, 201, created.body);
    const namespace = created.json();
    assert.equal(namespace.kind, "Namespace");
    assert.equal(namespace.apiVersion, "v1");
    assert.equal(namespace.metadata.name, "apps");
    assert.deepEqual(namespace.metadata.labels, { team: "a" });
    assert.match(namespace.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.equal(namespace.status.phase, "Active");

    const again = await call("POST", `${API}/namespaces`, { metadata: { name: "apps" } });
    const status = assertStatus(again, 409, "AlreadyExists", 'namespaces "apps" already exists');
    assert.deepEqual(status.details, { name: "apps", kind: "namespaces" });
  });

  test("GET of a missing namespace is a 404 with kube's text", async () => {
    const { call } = await startKubeApi();
    assertStatus(await call("GET", `${API}/namespaces/nope`), 404, "NotFound", 'namespaces "nope" not found');
  });

  test("invalid namespace names are a 422 Invalid naming the RFC 1123 label rule", async () => {
    const { call } = await startKubeApi();
    for (const name of ["Apps", "a.b", "-apps", "apps-", "a_b"]) {
      const response = await call("POST", `${API}/namespaces`, { metadata: { name } });
      assertStatus(
        response,
        422,
        "Invalid",
        `Namespace "${name}" is invalid: metadata.name: Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`,
      );
    }
    const long = "a".repeat(64);
    assertStatus(
      await call("POST", `${API}/namespaces`, { metadata: { name: long } }),
      422,
      "Invalid",
      `Namespace "${long}" is invalid: metadata.name: Invalid value: "${long}": must be no more than 63 characters`,
    );
    assert.equal(
      (await call("POST", `${API}/namespaces`, { metadata: { name: "a".repeat(63) } })).statusCode,
      201,
    );
    assertStatus(
      await call("POST", `${API}/namespaces`, { metadata: {} }),
      422,
      "Invalid",
      /metadata.name: Required value/,
    );
  });

  test("namespaces are listed; deleting one removes its service accounts", async () => {
    const { call } = await startWithAccount();
    const listed = (await call("GET", `${API}/namespaces`)).json();
    assert.equal(listed.kind, "NamespaceList");
    assert.deepEqual(
      listed.items.map((item: { metadata: { name: string } }) => item.metadata.name),
      ["apps"],
    );
    assert.equal((await call("DELETE", `${API}/namespaces/apps`)).statusCode, 200);
    assertStatus(await call("GET", `${API}/namespaces/apps`), 404, "NotFound", 'namespaces "apps" not found');
    assert.deepEqual((await call("GET", `${API}/serviceaccounts`)).json().items, []);
  });
});

describe("local cluster API: service accounts", () => {
  test("POST creates a service account with a uid and resourceVersion; a second POST is a 409 AlreadyExists", async () => {
    const { call, account } = await startWithAccount();
    assert.equal(account.kind, "ServiceAccount");
    assert.equal(account.metadata.namespace, "apps");
    assert.match(account.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.ok(account.metadata.resourceVersion);
    assert.deepEqual(account.metadata.annotations, { "azure.workload.identity/client-id": "c1" });

    const again = await call("POST", `${API}/namespaces/apps/serviceaccounts`, {
      metadata: { name: "workload" },
    });
    assertStatus(again, 409, "AlreadyExists", 'serviceaccounts "workload" already exists');
  });

  test('GET of a missing service account is a 404 Status: serviceaccounts "x" not found', async () => {
    const { call } = await startWithAccount();
    const status = assertStatus(
      await call("GET", `${API}/namespaces/apps/serviceaccounts/x`),
      404,
      "NotFound",
      'serviceaccounts "x" not found',
    );
    assert.deepEqual(status.details, { name: "x", kind: "serviceaccounts" });
  });

  test("PUT replaces labels and annotations, keeps the uid and bumps the resourceVersion", async () => {
    const { call, account } = await startWithAccount();
    const url = `${API}/namespaces/apps/serviceaccounts/workload`;
    const replaced = await call("PUT", url, {
      metadata: { name: "workload", labels: { "azure.workload.identity/use": "true" } },
    });
    assert.equal(replaced.statusCode, 200, replaced.body);
    const body = replaced.json();
    assert.equal(body.metadata.uid, account.metadata.uid);
    assert.equal(body.metadata.creationTimestamp, account.metadata.creationTimestamp);
    assert.ok(Number(body.metadata.resourceVersion) > Number(account.metadata.resourceVersion));
    assert.deepEqual(body.metadata.labels, { "azure.workload.identity/use": "true" });
    assert.equal(body.metadata.annotations, undefined, "annotations left out of the PUT are removed");
    assert.deepEqual((await call("GET", url)).json(), body);
  });

  test("PUT of a new service account creates it with 201", async () => {
    const { call } = await startWithAccount();
    const response = await call("PUT", `${API}/namespaces/apps/serviceaccounts/other`, {
      metadata: { name: "other" },
    });
    assert.equal(response.statusCode, 201, response.body);
  });

  test("PUT with a body name that differs from the URL's is a 400", async () => {
    const { call } = await startWithAccount();
    const response = await call("PUT", `${API}/namespaces/apps/serviceaccounts/workload`, {
      metadata: { name: "someone-else" },
    });
    assertStatus(response, 400, "BadRequest", /does not match the name on the URL/);
  });

  test("invalid service account names are a 422 Invalid naming the RFC 1123 subdomain rule", async () => {
    const { call } = await startWithAccount();
    for (const name of ["Workload", "work_load", "-workload", "workload.", "web..v1"]) {
      const response = await call("POST", `${API}/namespaces/apps/serviceaccounts`, { metadata: { name } });
      assertStatus(
        response,
        422,
        "Invalid",
        `ServiceAccount "${name}" is invalid: metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
      );
    }
    const long = "a".repeat(254);
    assertStatus(
      await call("POST", `${API}/namespaces/apps/serviceaccounts`, { metadata: { name: long } }),
      422,
      "Invalid",
      /: must be no more than 253 characters$/,
    );
    const dotted = await call("POST", `${API}/namespaces/apps/serviceaccounts`, {
      metadata: { name: "web.v1" },
    });
    assert.equal(dotted.statusCode, 201, dotted.body);
  });

  test("a service account in a missing namespace is a 404 naming the namespace", async () => {
    const { call } = await startKubeApi();
    const body = { metadata: { name: "workload" } };
    assertStatus(
      await call("POST", `${API}/namespaces/nope/serviceaccounts`, body),
      404,
      "NotFound",
      'namespaces "nope" not found',
    );
    assertStatus(
      await call("PUT", `${API}/namespaces/nope/serviceaccounts/workload`, body),
      404,
      "NotFound",
      'namespaces "nope" not found',
    );
  });

  test("a body that is not a JSON object is a 400", async () => {
    const { call } = await startWithAccount();
    assertStatus(
      await call("POST", `${API}/namespaces/apps/serviceaccounts`, [1]),
      400,
      "BadRequest",
      /JSON object/,
    );
  });

  test("service accounts are listed per namespace and across namespaces; DELETE removes one", async () => {
    const { call } = await startWithAccount();
    await call("POST", `${API}/namespaces`, { metadata: { name: "other" } });
    await call("POST", `${API}/namespaces/other/serviceaccounts`, { metadata: { name: "sa2" } });
    const names = async (url: string) =>
      (await call("GET", url)).json().items.map((item: { metadata: { name: string } }) => item.metadata.name);
    assert.deepEqual(await names(`${API}/namespaces/apps/serviceaccounts`), ["workload"]);
    assert.deepEqual(await names(`${API}/serviceaccounts`), ["workload", "sa2"]);
    assertStatus(
      await call("GET", `${API}/namespaces/nope/serviceaccounts`),
      404,
      "NotFound",
      'namespaces "nope" not found',
    );

    assert.equal((await call("DELETE", `${API}/namespaces/apps/serviceaccounts/workload`)).statusCode, 200);
    assertStatus(
      await call("DELETE", `${API}/namespaces/apps/serviceaccounts/workload`),
      404,
      "NotFound",
      'serviceaccounts "workload" not found',
    );
  });
});

describe("local cluster API: TokenRequest", () => {
  test("without audiences the token's audience is the issuer, for one hour, signed by the published key", async () => {
    const { call, tokenUrl, jwks, account } = await startWithAccount();
    const response = await call("POST", tokenUrl, tokenRequest({}));
    assert.equal(response.statusCode, 201, response.body);
    const body = response.json();
    assert.equal(body.kind, "TokenRequest");
    assert.equal(body.apiVersion, "authentication.k8s.io/v1");
    assert.deepEqual(body.spec.audiences, [ISSUER]);
    assert.equal(body.spec.expirationSeconds, 3600);

    const { payload } = await jwtVerify(body.status.token, jwks, { issuer: ISSUER, audience: ISSUER });
    assert.deepEqual(payload.aud, [ISSUER]);
    assert.equal(payload.sub, "system:serviceaccount:apps:workload");
    assert.equal(payload.exp, Number(payload.iat) + 3600);
    assert.deepEqual(payload["kubernetes.io"], {
      namespace: "apps",
      serviceaccount: { name: "workload", uid: account.metadata.uid },
    });
    assert.equal(
      body.status.expirationTimestamp,
      new Date(Number(payload.exp) * 1000).toISOString().replace(".000Z", "Z"),
    );
    assert.match(body.status.expirationTimestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  test("requested audiences and lifetime are honoured", async () => {
    const { call, tokenUrl } = await startWithAccount();
    const response = await call(
      "POST",
      tokenUrl,
      tokenRequest({ audiences: ["api://AzureADTokenExchange"], expirationSeconds: 600 }),
    );
    assert.equal(response.statusCode, 201, response.body);
    const claims = decodeJwt(response.json().status.token);
    assert.deepEqual(claims.aud, ["api://AzureADTokenExchange"]);
    assert.equal(Number(claims.exp) - Number(claims.iat), 600);
    assert.equal(claims.nbf, claims.iat);
  });

  test("expirationSeconds under 600 is a 422 with kube-apiserver's text", async () => {
    const { call, tokenUrl } = await startWithAccount();
    const response = await call("POST", tokenUrl, tokenRequest({ expirationSeconds: 599 }));
    assertStatus(
      response,
      422,
      "Invalid",
      'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes',
    );
  });

  test("a lifetime beyond the cluster's maximum is shortened, and the granted spec says so", async () => {
    const { call, tokenUrl } = await startWithAccount();
    const response = await call("POST", tokenUrl, tokenRequest({ expirationSeconds: 30 * 24 * 3600 }));
    assert.equal(response.statusCode, 201, response.body);
    const claims = decodeJwt(response.json().status.token);
    assert.equal(response.json().spec.expirationSeconds, Number(claims.exp) - Number(claims.iat));
    assert.equal(response.json().spec.expirationSeconds, 48 * 3600);
  });

  test("a pod binding adds kubernetes.io.pod", async () => {
    const { call, tokenUrl, account } = await startWithAccount();
    const pod = { name: "web-0", uid: "7c04d026-d66c-433b-a56e-3a1075cb4eca" };
    const response = await call(
      "POST",
      tokenUrl,
      tokenRequest({
        audiences: ["api://AzureADTokenExchange"],
        boundObjectRef: { kind: "Pod", apiVersion: "v1", ...pod },
      }),
    );
    assert.equal(response.statusCode, 201, response.body);
    const claims = decodeJwt(response.json().status.token);
    assert.deepEqual(claims["kubernetes.io"], {
      namespace: "apps",
      pod,
      serviceaccount: { name: "workload", uid: account.metadata.uid },
    });
    assert.deepEqual(Object.keys(claims["kubernetes.io"] as object), ["namespace", "pod", "serviceaccount"]);
  });

  test("a binding to anything but a named Pod is refused", async () => {
    const { call, tokenUrl } = await startWithAccount();
    for (const boundObjectRef of [
      { kind: "Secret", apiVersion: "v1", name: "s", uid: "u" },
      { kind: "Node", apiVersion: "v1", name: "n", uid: "u" },
      { kind: "Pod", apiVersion: "v1", name: "web-0" },
      { kind: "Pod", apiVersion: "v1", uid: "u" },
    ]) {
      const response = await call("POST", tokenUrl, tokenRequest({ boundObjectRef }));
      assertStatus(response, 422, "Invalid", /spec\.boundObjectRef/);
      assert.equal(response.json().status.token, undefined);
    }
  });

  test("audiences must be an array of strings", async () => {
    const { call, tokenUrl } = await startWithAccount();
    for (const audiences of ["api://AzureADTokenExchange", [42], { a: "b" }]) {
      const response = await call("POST", tokenUrl, tokenRequest({ audiences }));
      assertStatus(response, 400, "BadRequest", /spec\.audiences/);
    }
  });

  test("a token for a missing service account is a 404", async () => {
    const { call } = await startWithAccount();
    assertStatus(
      await call("POST", `${API}/namespaces/apps/serviceaccounts/ghost/token`, tokenRequest({})),
      404,
      "NotFound",
      'serviceaccounts "ghost" not found',
    );
  });

  test("a token names the service account's current uid, so a recreated account's old tokens are told apart", async () => {
    const { call, tokenUrl, account } = await startWithAccount();
    await call("DELETE", `${API}/namespaces/apps/serviceaccounts/workload`);
    const recreated = (
      await call("POST", `${API}/namespaces/apps/serviceaccounts`, { metadata: { name: "workload" } })
    ).json();
    assert.notEqual(recreated.metadata.uid, account.metadata.uid);
    const claims = decodeJwt((await call("POST", tokenUrl, tokenRequest({}))).json().status.token);
    assert.equal(
      (claims["kubernetes.io"] as { serviceaccount: { uid: string } }).serviceaccount.uid,
      recreated.metadata.uid,
    );
  });
});

describe("local cluster API: body schemas", () => {
  test("labels and annotations must map strings to strings: a 400, and a number is not taken as a string", async () => {
    const { call } = await startWithAccount();
    const url = `${API}/namespaces/apps/serviceaccounts`;
    for (const labels of ["a=b", ["a"], { a: 1 }, { a: null }]) {
      assertStatus(
        await call("POST", url, { metadata: { name: "sa", labels } }),
        400,
        "BadRequest",
        "metadata.labels must map strings to strings",
      );
    }
    assertStatus(
      await call("PUT", `${url}/workload`, { metadata: { name: "workload", annotations: { a: 1 } } }),
      400,
      "BadRequest",
      "metadata.annotations must map strings to strings",
    );
    assertStatus(
      await call("POST", `${API}/namespaces`, { metadata: { name: "ns", labels: { a: true } } }),
      400,
      "BadRequest",
      "metadata.labels must map strings to strings",
    );
    const nulls = await call("POST", url, { metadata: { name: "sa", labels: null, annotations: null } });
    assert.equal(nulls.statusCode, 201, nulls.body);
  });

  test("the name is checked before the maps, and labels before annotations", async () => {
    const { call } = await startWithAccount();
    const url = `${API}/namespaces/apps/serviceaccounts`;
    const bad = { labels: { a: 1 }, annotations: { b: 2 } };
    assertStatus(await call("POST", url, { metadata: bad }), 422, "Invalid", /metadata.name: Required value/);
    assertStatus(
      await call("PUT", `${url}/workload`, { metadata: { name: "other", ...bad } }),
      400,
      "BadRequest",
      "the name of the object (other) does not match the name on the URL (workload)",
    );
    assertStatus(
      await call("POST", url, { metadata: { name: "sa", ...bad } }),
      400,
      "BadRequest",
      "metadata.labels must map strings to strings",
    );
  });

  test("every body is a JSON object, checked first; metadata that is not an object names nothing", async () => {
    const { call, tokenUrl } = await startWithAccount();
    const notObject = "the request body must be a JSON object";
    assertStatus(await call("POST", `${API}/namespaces`, [1]), 400, "BadRequest", notObject);
    assertStatus(
      await call("POST", `${API}/namespaces/nope/serviceaccounts`, [1]),
      400,
      "BadRequest",
      notObject,
    );
    assertStatus(
      await call("PUT", `${API}/namespaces/apps/serviceaccounts/workload`, []),
      400,
      "BadRequest",
      notObject,
    );
    assertStatus(await call("POST", tokenUrl, ["spec"]), 400, "BadRequest", notObject);
    assertStatus(
      await call("POST", `${API}/namespaces`, { metadata: "x" }),
      422,
      "Invalid",
      /metadata.name: Required value/,
    );
    const named = await call("PUT", `${API}/namespaces/apps/serviceaccounts/workload`, { metadata: ["x"] });
    assert.equal(named.statusCode, 200, named.body);
  });
});
