// The ServiceAccount cache against a fake API server (webhook.md §11): the initial list makes it ready, the
// watch keeps it current, a miss is read from the API server (a ServiceAccount created a moment before its
// pod), NotFound is "no ServiceAccount" and never remembered, any other failure is an error carrying the API
// server's text, and the informer survives dropped and expired watches.

import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { mutatePod } from "../../../src/cluster/webhook/mutation.ts";
import {
  kubeErrorMessage,
  ServiceAccountCache,
  ServiceAccountLookupError,
} from "../../../src/cluster/webhook/service-account-cache.ts";
import { eventually } from "../../eventually.ts";
import { FakeKubeApi } from "./fake-kube-api.ts";

const CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id";

function serviceAccount(namespace: string, name: string, clientId?: string) {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name, namespace, ...(clientId ? { annotations: { [CLIENT_ID_ANNOTATION]: clientId } } : {}) },
  };
}

describe("ServiceAccountCache", { timeout: 20_000 }, () => {
  let api: FakeKubeApi;
  let cache: ServiceAccountCache;
  const warnings: string[] = [];

  beforeEach(async () => {
    api = await FakeKubeApi.start();
    warnings.length = 0;
  });
  afterEach(async () => {
    await cache?.stop();
    await api.close();
  });

  const startCache = async (options: { wait?: boolean } = {}) => {
    cache = new ServiceAccountCache({
      kubeConfig: api.kubeConfig(),
      restartDelayMs: 10,
      logger: { info: () => {}, warn: (fields: unknown) => warnings.push(JSON.stringify(fields)) } as never,
    });
    cache.start();
    if (options.wait ?? true) await cache.whenReady();
    return cache;
  };
  const gets = () => api.requestsMatching({ verb: "get" }).length;
  const watching = (count = 1) => eventually(() => api.requestsMatching({ verb: "watch" }).length >= count);

  test("the initial list makes it ready and serves every ServiceAccount without another API call", async () => {
    api.put(serviceAccount("team-a", "builder", "id-a"));
    api.put(serviceAccount("team-b", "builder", "id-b"));
    await startCache({ wait: false });
    await cache.whenReady();
    assert.equal(cache.ready, true);
    const found = await cache.get("team-b", "builder");
    assert.equal(found?.metadata?.annotations?.[CLIENT_ID_ANNOTATION], "id-b");
    assert.equal(gets(), 0, "a cache hit makes no GET");
    await watching();
    assert.deepEqual(
      api.requests.map((request) => request.verb),
      ["list", "watch"],
      "one cluster-wide list, then one watch",
    );
    assert.equal(api.requests[0]?.path, "/api/v1/serviceaccounts");
  });

  test("it is not ready while the list fails, and becomes ready once it succeeds", async () => {
    const stopFailing = api.fail(
      { verb: "list" },
      { code: 403, reason: "Forbidden", message: "serviceaccounts is forbidden" },
    );
    await startCache({ wait: false });
    await eventually(() => api.requestsMatching({ verb: "list" }).length >= 2);
    assert.equal(cache.ready, false);
    assert.ok(warnings.some((line) => line.includes("serviceaccounts is forbidden")));
    stopFailing();
    await cache.whenReady();
    assert.equal(cache.ready, true);
  });

  test("watch events add, update and delete cached ServiceAccounts", async () => {
    await startCache();
    api.put(serviceAccount("team-a", "late", "v1"));
    await eventually(() => cache.peek("team-a", "late") !== undefined);
    api.put(serviceAccount("team-a", "late", "v2"));
    await eventually(
      () => cache.peek("team-a", "late")?.metadata?.annotations?.[CLIENT_ID_ANNOTATION] === "v2",
    );
    const hit = await cache.get("team-a", "late");
    assert.equal(hit?.metadata?.annotations?.[CLIENT_ID_ANNOTATION], "v2");
    api.remove("v1", "ServiceAccount", "team-a", "late");
    await eventually(() => cache.peek("team-a", "late") === undefined);
    assert.equal(await cache.get("team-a", "late"), undefined);
    assert.equal(gets(), 1, "only the lookup after the deletion asked the API server");
  });

  test("a ServiceAccount created a moment before its pod is found by a direct read on a cache miss", async () => {
    await startCache();
    const release = api.holdWatchEvents(); // the watch has not delivered it yet
    api.put(serviceAccount("team-a", "just-created", "fresh"));
    assert.equal(cache.peek("team-a", "just-created"), undefined);
    const found = await cache.get("team-a", "just-created");
    assert.equal(found?.metadata?.annotations?.[CLIENT_ID_ANNOTATION], "fresh");
    assert.deepEqual(
      api.requestsMatching({ verb: "get" }).map((request) => request.path),
      ["/api/v1/namespaces/team-a/serviceaccounts/just-created"],
    );
    release();
    await eventually(() => cache.peek("team-a", "just-created") !== undefined);
  });

  test("NotFound means no ServiceAccount, and is not remembered: a later one is found at once", async () => {
    await startCache();
    const release = api.holdWatchEvents();
    assert.equal(await cache.get("team-a", "missing"), undefined);
    api.put(serviceAccount("team-a", "missing", "now-here"));
    const found = await cache.get("team-a", "missing");
    assert.equal(found?.metadata?.annotations?.[CLIENT_ID_ANNOTATION], "now-here");
    assert.equal(gets(), 2);
    release();
  });

  test("a missing ServiceAccount denies the pod with the API server's text", async () => {
    await startCache();
    const pod = { metadata: { name: "p" }, spec: { serviceAccountName: "x", containers: [{ name: "c" }] } };
    const serviceAccount = await cache.get("team-a", "x");
    const outcome = mutatePod({
      pod,
      serviceAccount,
      namespace: "team-a",
      config: { tenantId: "t", authorityHost: "https://login.microsoftonline.com/" },
    });
    assert.deepEqual(outcome, { allowed: false, code: 400, message: 'serviceaccounts "x" not found' });
  });

  test("any other API failure is thrown with the API server's message", async () => {
    await startCache();
    const message =
      'serviceaccounts "x" is forbidden: User "system:serviceaccount:wikit-system:wikit-webhook" cannot get resource "serviceaccounts" in API group "" in the namespace "team-a"';
    api.fail({ verb: "get" }, { code: 403, reason: "Forbidden", message }, 1);
    await assert.rejects(cache.get("team-a", "x"), (error: unknown) => {
      assert.ok(error instanceof ServiceAccountLookupError);
      assert.equal(error.message, message);
      return true;
    });
    api.fail(
      { verb: "get" },
      { code: 500, reason: "InternalError", message: "etcdserver: request timed out" },
      1,
    );
    await assert.rejects(cache.get("team-a", "x"), { message: "etcdserver: request timed out" });
  });

  test("an unreachable API server is an error naming the transport failure, not a NotFound", async () => {
    await startCache();
    await api.close();
    await assert.rejects(cache.get("team-a", "x"), (error: unknown) => {
      assert.ok(error instanceof ServiceAccountLookupError);
      assert.match(error.message, /ECONNREFUSED|fetch failed|connect/i);
      return true;
    });
    api = await FakeKubeApi.start(); // for afterEach
  });

  test("a dropped watch resumes from the last resourceVersion without listing again", async () => {
    await startCache();
    await watching();
    api.disconnectWatches();
    api.put(serviceAccount("team-a", "after-drop"));
    await eventually(() => cache.peek("team-a", "after-drop") !== undefined);
    assert.equal(api.requestsMatching({ verb: "list" }).length, 1);
    const watches = api.requestsMatching({ verb: "watch" });
    assert.ok(watches.length >= 2);
    assert.notEqual(watches.at(-1)?.query.get("resourceVersion"), "");
  });

  test("an expired resourceVersion (410) makes it list again and drop what was deleted meanwhile", async () => {
    api.put(serviceAccount("team-a", "doomed"));
    await startCache();
    await watching();
    const release = api.holdWatchEvents();
    api.remove("v1", "ServiceAccount", "team-a", "doomed");
    api.put(serviceAccount("team-a", "newcomer"));
    api.compact();
    api.disconnectWatches();
    release();
    await eventually(
      () => cache.peek("team-a", "newcomer") !== undefined && cache.peek("team-a", "doomed") === undefined,
    );
    assert.equal(api.requestsMatching({ verb: "list" }).length, 2);
  });
});

describe("ServiceAccountCache shutdown", { timeout: 20_000 }, () => {
  test("stop() ends its watch on the API server", async () => {
    const api = await FakeKubeApi.start();
    const cache = new ServiceAccountCache({ kubeConfig: api.kubeConfig() });
    try {
      cache.start();
      await cache.whenReady();
      await eventually(() => api.openWatches === 1);
      await cache.stop();
      await eventually(() => api.openWatches === 0);
    } finally {
      await api.close();
    }
  });
});

describe("kubeErrorMessage", () => {
  test("plain errors give their message and the cause's", () => {
    const error = new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:6443") });
    assert.equal(kubeErrorMessage(error), "fetch failed: connect ECONNREFUSED 127.0.0.1:6443");
    assert.equal(kubeErrorMessage("odd"), "odd");
  });
});
