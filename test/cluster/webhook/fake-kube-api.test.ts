// The fake Kubernetes API server is what informer, rotation and lookup tests rely on, so its wire contract is
// pinned here through the real client (@kubernetes/client-node): resourceVersions, Status errors, optimistic
// concurrency, patches, watch resumption and expiry, TLS and bearer tokens.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  AdmissionregistrationV1Api,
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from "@kubernetes/client-node";
import { createCertificateAuthority, issueServingCertificate } from "../../../src/pki/certificates.ts";
import { FakeKubeApi, type KubeStatus, type ServiceAccountIssuerDocuments } from "./fake-kube-api.ts";

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

describe("fake Kubernetes API server: pods, workloads and the issuer documents", () => {
  let api: FakeKubeApi;
  const token = "s3cret";
  const documents: ServiceAccountIssuerDocuments = {
    discovery: {
      issuer: "https://oidc.example.test/c1/",
      jwks_uri: "https://oidc.example.test/c1/openid/v1/jwks",
      response_types_supported: ["id_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["RS256"],
    },
    jwks: { keys: [{ use: "sig", kty: "RSA", kid: "k1", alg: "RS256", n: "AQAB", e: "AQAB" }] },
  };

  before(async () => {
    api = await FakeKubeApi.start({ token });
  });
  after(() => api.close());

  /** A raw GET with the token, as kubectl get --raw makes it. */
  async function raw(path: string, accept?: string) {
    const response = await fetch(`${api.url}${path}`, {
      headers: { authorization: `Bearer ${token}`, ...(accept ? { accept } : {}) },
    });
    return {
      status: response.status,
      type: response.headers.get("content-type"),
      body: await response.text(),
    };
  }

  test("pods are listed as a PodList by label selector across namespaces, with server-set metadata", async () => {
    api.put({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p1", namespace: "a", labels: { use: "true" } },
    });
    api.put({ apiVersion: "v1", kind: "Pod", metadata: { name: "p2", namespace: "b" } });
    const response = await raw("/api/v1/pods?labelSelector=use");
    const list = JSON.parse(response.body);
    assert.equal(list.kind, "PodList");
    assert.equal(list.metadata.resourceVersion, String(api.resourceVersion));
    assert.deepEqual(
      list.items.map((pod: { metadata: { name: string } }) => pod.metadata.name),
      ["p1"],
    );
    const core = api.kubeConfig().makeApiClient(CoreV1Api);
    const pod = await core.readNamespacedPod({ namespace: "a", name: "p1" });
    assert.ok(pod.metadata?.uid && pod.metadata.resourceVersion && pod.metadata.creationTimestamp);
    const missing = await apiError(core.readNamespacedPod({ namespace: "a", name: "p9" }));
    assert.deepEqual([missing.code, missing.status.message], [404, 'pods "p9" not found']);
  });

  test("a seeded object keeps its creationTimestamp; one created through the API gets the server's", async () => {
    const seeded = api.put({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "old", namespace: "a", creationTimestamp: "2020-01-01T00:00:00Z" },
    });
    assert.equal(seeded.metadata?.creationTimestamp, "2020-01-01T00:00:00Z");
    const core = api.kubeConfig().makeApiClient(CoreV1Api);
    const created = await core.createNamespacedServiceAccount({
      namespace: "a",
      body: { metadata: { name: "new", creationTimestamp: new Date("2020-01-01T00:00:00Z") } },
    });
    assert.ok((created.metadata?.creationTimestamp?.getTime() ?? 0) > Date.parse("2025-01-01T00:00:00Z"));
  });

  test("apps/v1 and batch/v1 workloads list with their kinds; generation rises only when the spec changes", async () => {
    const apps = api.kubeConfig().makeApiClient(AppsV1Api);
    const batch = api.kubeConfig().makeApiClient(BatchV1Api);
    api.put({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "a" },
      spec: { replicas: 1 },
    });
    for (const [kind, name] of [
      ["ReplicaSet", "web-1"],
      ["StatefulSet", "db"],
      ["DaemonSet", "agent"],
    ] as const) {
      api.put({ apiVersion: "apps/v1", kind, metadata: { name, namespace: "a" }, spec: {} });
    }
    api.put({ apiVersion: "batch/v1", kind: "Job", metadata: { name: "once", namespace: "a" }, spec: {} });
    api.put({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "nightly", namespace: "a" },
      spec: {},
    });
    assert.equal((await apps.listReplicaSetForAllNamespaces()).items[0]?.metadata?.name, "web-1");
    assert.equal((await apps.listNamespacedStatefulSet({ namespace: "a" })).items[0]?.metadata?.name, "db");
    assert.equal((await apps.listDaemonSetForAllNamespaces()).items[0]?.metadata?.name, "agent");
    assert.equal((await batch.listJobForAllNamespaces()).items[0]?.metadata?.name, "once");
    assert.equal((await batch.listNamespacedCronJob({ namespace: "a" })).items[0]?.metadata?.name, "nightly");
    const listed = JSON.parse((await raw("/apis/apps/v1/namespaces/a/deployments")).body);
    assert.equal(listed.kind, "DeploymentList");

    const created = await apps.readNamespacedDeployment({ namespace: "a", name: "web" });
    assert.equal(created.metadata?.generation, 1);
    const labelled = await apps.patchNamespacedDeployment(
      { namespace: "a", name: "web", body: { metadata: { labels: { x: "y" } } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    assert.equal(labelled.metadata?.generation, 1);
    const restarted = await apps.patchNamespacedDeployment(
      {
        namespace: "a",
        name: "web",
        body: {
          spec: { template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": "now" } } } },
        },
      },
      setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
    );
    assert.equal(restarted.metadata?.generation, 2);
    assert.equal(
      restarted.spec?.template?.metadata?.annotations?.["kubectl.kubernetes.io/restartedAt"],
      "now",
    );
    assert.equal(restarted.spec?.replicas, 1);
  });

  test("the issuer documents: 404 until configured, then served as kube-apiserver serves them, behind the token", async () => {
    const absent = await raw("/.well-known/openid-configuration");
    assert.equal(absent.status, 404);
    assert.equal(JSON.parse(absent.body).kind, "Status");

    api.setServiceAccountIssuer(documents);
    const discovery = await raw("/.well-known/openid-configuration");
    assert.deepEqual([discovery.status, discovery.type], [200, "application/json"]);
    assert.equal(discovery.body, JSON.stringify(documents.discovery));
    const jwks = await raw("/openid/v1/jwks", "application/jwk-set+json");
    assert.deepEqual(
      [jwks.status, jwks.type, JSON.parse(jwks.body)],
      [200, "application/jwk-set+json", documents.jwks],
    );
    assert.equal((await raw("/openid/v1/jwks")).status, 200);
    assert.equal((await raw("/openid/v1/jwks", "*/*")).status, 200);
    assert.equal((await raw("/openid/v1/jwks", "application/json")).status, 406);
    assert.equal((await raw("/openid/v1/jwks", "application/json, application/jwk-set+json")).status, 200);

    const anonymous = await fetch(`${api.url}/openid/v1/jwks`);
    assert.equal(anonymous.status, 401);
    api.setServiceAccountIssuer(undefined);
    assert.equal((await raw("/openid/v1/jwks")).status, 404);
  });
});
