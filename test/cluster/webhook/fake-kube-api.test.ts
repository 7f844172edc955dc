// The fake Kubernetes API server is what informer, rotation and lookup tests rely on, so its wire contract is
// pinned here through the real client (@kubernetes/client-node): resourceVersions, Status errors, optimistic
// concurrency, patches, watch resumption and expiry, TLS and bearer tokens.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  AdmissionregistrationV1Api,
  ApiException,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from "@kubernetes/client-node";
import { createCertificateAuthority, issueServingCertificate } from "../../../src/pki/certificates.ts";
import { FakeKubeApi, type KubeStatus } from "./fake-kube-api.ts";

async function apiError(promise: Promise<unknown>): Promise<{ code: number; status: KubeStatus }> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    // The client drops the body of a 401.
    const body = typeof error.body === "string" ? (JSON.parse(error.body) as KubeStatus) : undefined;
    return { code: error.code, status: body as KubeStatus };
  }
  return assert.fail("expected the call to fail");
}

type Event = {
  type: string;
  object: { metadata?: { name?: string; resourceVersion?: string }; code?: number };
};

/** Watches `path` from `resourceVersion` until `count` events arrived or the stream ended. */
async function watchEvents(
  api: FakeKubeApi,
  path: string,
  resourceVersion: string,
  count: number,
): Promise<Event[]> {
  const events: Event[] = [];
  let controller: AbortController | undefined;
  await new Promise<void>((resolve, reject) => {
    new Watch(api.kubeConfig())
      .watch(
        path,
        { resourceVersion },
        (type, object) => {
          events.push({ type, object });
          if (events.length >= count) resolve();
        },
        (error) => (error && (error as Error).name !== "AbortError" ? reject(error) : resolve()),
      )
      .then((c) => {
        controller = c;
      }, reject);
  });
  controller?.abort();
  return events;
}

describe("fake Kubernetes API server", () => {
  let api: FakeKubeApi;
  let core: CoreV1Api;

  before(async () => {
    api = await FakeKubeApi.start();
    core = api.kubeConfig().makeApiClient(CoreV1Api);
  });
  after(() => api.close());

  test("create assigns uid, namespace and a new resourceVersion; a second create is 409 AlreadyExists", async () => {
    const before = api.resourceVersion;
    const created = await core.createNamespacedServiceAccount({
      namespace: "team-a",
      body: { metadata: { name: "builder", annotations: { a: "1" } } },
    });
    assert.equal(created.metadata?.namespace, "team-a");
    assert.ok(created.metadata?.uid);
    assert.equal(Number(created.metadata?.resourceVersion), before + 1);
    const conflict = await apiError(
      core.createNamespacedServiceAccount({ namespace: "team-a", body: { metadata: { name: "builder" } } }),
    );
    assert.equal(conflict.code, 409);
    assert.deepEqual(conflict.status, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'serviceaccounts "builder" already exists',
      reason: "AlreadyExists",
      details: { name: "builder", kind: "serviceaccounts" },
      code: 409,
    });
  });

  test("get of a missing object is 404 NotFound with the client-facing text", async () => {
    const missing = await apiError(
      core.readNamespacedServiceAccount({ namespace: "team-a", name: "nobody" }),
    );
    assert.equal(missing.code, 404);
    assert.equal(missing.status.reason, "NotFound");
    assert.equal(missing.status.message, 'serviceaccounts "nobody" not found');
  });

  test("list carries the store's resourceVersion, filters by namespace and label selector", async () => {
    api.put({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "l1", namespace: "team-b", labels: { tier: "web" } },
    });
    api.put({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "l2", namespace: "team-b" } });
    const all = await core.listNamespacedServiceAccount({ namespace: "team-b" });
    assert.equal(all.metadata?.resourceVersion, String(api.resourceVersion));
    assert.deepEqual(all.items.map((sa) => sa.metadata?.name).sort(), ["l1", "l2"]);
    const web = await core.listNamespacedServiceAccount({ namespace: "team-b", labelSelector: "tier=web" });
    assert.deepEqual(
      web.items.map((sa) => sa.metadata?.name),
      ["l1"],
    );
    const notWeb = await core.listNamespacedServiceAccount({
      namespace: "team-b",
      labelSelector: "tier!=web",
    });
    assert.deepEqual(
      notWeb.items.map((sa) => sa.metadata?.name),
      ["l2"],
    );
    const cluster = await core.listServiceAccountForAllNamespaces({ fieldSelector: "metadata.name=l2" });
    assert.deepEqual(
      cluster.items.map((sa) => sa.metadata?.namespace),
      ["team-b"],
    );
  });

  test("replace with a stale resourceVersion is 409 Conflict; with the current one it succeeds", async () => {
    const secret = await core.createNamespacedSecret({
      namespace: "ops",
      body: { metadata: { name: "cert" }, stringData: { "tls.crt": "PEM" } },
    });
    assert.deepEqual(
      secret.data,
      { "tls.crt": Buffer.from("PEM").toString("base64") },
      "stringData is folded into data",
    );
    assert.equal(secret.type, "Opaque");
    const updated = await core.replaceNamespacedSecret({
      namespace: "ops",
      name: "cert",
      body: { ...secret, data: { "tls.crt": "TkVX" } },
    });
    assert.ok(Number(updated.metadata?.resourceVersion) > Number(secret.metadata?.resourceVersion));
    assert.equal(updated.metadata?.uid, secret.metadata?.uid);
    const stale = await apiError(
      core.replaceNamespacedSecret({ namespace: "ops", name: "cert", body: { ...secret, data: {} } }),
    );
    assert.equal(stale.code, 409);
    assert.equal(stale.status.reason, "Conflict");
    assert.match(
      stale.status.message,
      /^Operation cannot be fulfilled on secrets "cert": the object has been modified/,
    );
  });

  test("merge and JSON patches apply; a failed JSON patch test is 422 and changes nothing", async () => {
    api.put({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "p", namespace: "ops", annotations: { keep: "1", drop: "2" } },
    });
    const merged = await core.patchNamespacedServiceAccount(
      { namespace: "ops", name: "p", body: { metadata: { annotations: { drop: null, add: "3" } } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    assert.deepEqual(merged.metadata?.annotations, { keep: "1", add: "3" });
    const patched = await core.patchNamespacedServiceAccount(
      {
        namespace: "ops",
        name: "p",
        body: [
          { op: "test", path: "/metadata/annotations/keep", value: "1" },
          { op: "replace", path: "/metadata/annotations/keep", value: "one" },
          { op: "remove", path: "/metadata/annotations/add" },
        ],
      },
      setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
    );
    assert.deepEqual(patched.metadata?.annotations, { keep: "one" });
    const failed = await apiError(
      core.patchNamespacedServiceAccount(
        {
          namespace: "ops",
          name: "p",
          body: [{ op: "test", path: "/metadata/annotations/keep", value: "1" }],
        },
        setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
      ),
    );
    assert.equal(failed.code, 422);
    assert.deepEqual(api.get("v1", "ServiceAccount", "ops", "p")?.metadata?.annotations, { keep: "one" });
  });

  test("cluster-scoped webhook configurations: group-qualified NotFound, create, patch", async () => {
    const admission = api.kubeConfig().makeApiClient(AdmissionregistrationV1Api);
    const missing = await apiError(admission.readMutatingWebhookConfiguration({ name: "wh" }));
    assert.equal(
      missing.status.message,
      'mutatingwebhookconfigurations.admissionregistration.k8s.io "wh" not found',
    );
    await admission.createMutatingWebhookConfiguration({
      body: {
        metadata: { name: "wh" },
        webhooks: [
          {
            name: "a.example",
            admissionReviewVersions: ["v1"],
            sideEffects: "None",
            clientConfig: { caBundle: "" },
          },
        ],
      },
    });
    const patched = await admission.patchMutatingWebhookConfiguration(
      { name: "wh", body: [{ op: "replace", path: "/webhooks/0/clientConfig/caBundle", value: "Q0E=" }] },
      setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
    );
    assert.equal(patched.webhooks?.[0]?.clientConfig.caBundle, "Q0E=");
    assert.equal(patched.metadata?.namespace, undefined);
  });

  test("delete removes the object and reports it; deleting again is 404", async () => {
    api.put({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "gone", namespace: "ops" } });
    await core.deleteNamespacedConfigMap({ namespace: "ops", name: "gone" });
    assert.equal(api.get("v1", "ConfigMap", "ops", "gone"), undefined);
    assert.equal(
      (await apiError(core.deleteNamespacedConfigMap({ namespace: "ops", name: "gone" }))).code,
      404,
    );
  });

  test("a watch from a resourceVersion streams the later ADDED, MODIFIED and DELETED events in order", async () => {
    const from = String(api.resourceVersion);
    api.put({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "w", namespace: "watch" } });
    api.put({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "w", namespace: "watch", labels: { v: "2" } },
    });
    api.remove("v1", "ServiceAccount", "watch", "w");
    api.put({ apiVersion: "v1", kind: "Secret", metadata: { name: "other-kind", namespace: "watch" } });
    const events = await watchEvents(api, "/api/v1/namespaces/watch/serviceaccounts", from, 3);
    assert.deepEqual(
      events.map((event) => `${event.type} ${event.object.metadata?.name}`),
      ["ADDED w", "MODIFIED w", "DELETED w"],
    );
    const versions = events.map((event) => Number(event.object.metadata?.resourceVersion));
    assert.deepEqual(
      versions,
      [...versions].sort((a, b) => a - b),
    );
  });

  test("a watch from a compacted resourceVersion gets an ERROR event with code 410", async () => {
    const old = String(api.resourceVersion);
    api.put({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "c", namespace: "compact" } });
    api.compact();
    const [event] = await watchEvents(api, "/api/v1/serviceaccounts", old, 1);
    assert.equal(event?.type, "ERROR");
    assert.equal(event?.object.code, 410);
  });

  test("injected failures answer with their Status, as many times as asked", async () => {
    api.fail(
      { verb: "get", path: /\/serviceaccounts\/x$/ },
      { code: 503, reason: "ServiceUnavailable", message: "etcd down" },
      1,
    );
    const failed = await apiError(core.readNamespacedServiceAccount({ namespace: "ops", name: "x" }));
    assert.deepEqual([failed.code, failed.status.message], [503, "etcd down"]);
    assert.equal(
      (await apiError(core.readNamespacedServiceAccount({ namespace: "ops", name: "x" }))).code,
      404,
    );
  });
});

describe("fake Kubernetes API server over HTTPS with a token", () => {
  let api: FakeKubeApi;

  before(async () => {
    const ca = await createCertificateAuthority("fake kube CA", 1);
    const serving = await issueServingCertificate(ca, ["127.0.0.1"], 1);
    api = await FakeKubeApi.start({
      tls: { certPem: serving.certPem, keyPem: serving.keyPem, caPem: ca.certPem },
      token: "s3cret",
      gitVersion: "v1.32.2",
    });
  });
  after(() => api.close());

  test("its kubeConfig trusts the CA and presents the token", async () => {
    assert.match(api.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const core = api.kubeConfig().makeApiClient(CoreV1Api);
    const list = await core.listServiceAccountForAllNamespaces();
    assert.deepEqual(list.items, []);
  });

  test("a request without the token is 401", async () => {
    const config = api.kubeConfig();
    const user = config.getCurrentUser();
    if (user) (user as { token?: string }).token = "wrong";
    const error = await apiError(config.makeApiClient(CoreV1Api).listServiceAccountForAllNamespaces());
    assert.equal(error.code, 401);
  });
});
