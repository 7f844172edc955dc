// `wikit webhook serve` wired together in-process against a fake API server, certificate rotation included:
// the rotator makes the Secret and the CA bundle, the admission listener serves with the rotated certificate
// for the Service's DNS name, the API server's version decides the proxy's placement, readiness follows the
// ServiceAccount cache, and close() shuts everything down — after the shutdown delay, if one is set, during
// which admissions are still answered while readiness fails.

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import * as http from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { decodePatch } from "../../../src/cluster/webhook/admission-review.ts";
import { type RunningWebhook, serveWebhook } from "../../../src/cluster/webhook/serve-webhook.ts";
import {
  buildWebhookConfig,
  type Environment,
  type WebhookFlags,
} from "../../../src/cluster/webhook/webhook-config.ts";
import { eventually } from "../../eventually.ts";
import { FakeKubeApi } from "./fake-kube-api.ts";
import { applyJsonPatch } from "./json-patch.ts";
import { postReview } from "./post-review.ts";

const NAMESPACE = "wikit-system";
const SERVICE_DNS_NAME = `azure-wi-webhook-webhook-service.${NAMESPACE}.svc`;
const CONFIGURATION = "azure-wi-webhook-mutating-webhook-configuration";
const CLIENT_ID = "8a0e4b52-31c1-4f4b-9b5e-4c6a4a7f1d20";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

function review(annotations: Record<string, string> = {}) {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "b4b5d3e0-5f3f-4a59-9f3c-1d5e0c2a9e11",
      namespace: "apps",
      operation: "CREATE",
      object: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "api", annotations },
        spec: { serviceAccountName: "api", containers: [{ name: "api", image: "example/api:1" }] },
      },
    },
  };
}

type PodShape = {
  spec: {
    containers: { env: { value: string }[] }[];
    initContainers: { name: string; restartPolicy?: string }[];
  };
};

/** Posts a review to the listener, whose certificate names the Service. */
function post(port: number, ca: string, body: unknown) {
  return postReview(port, ca, JSON.stringify(body), { servername: SERVICE_DNS_NAME });
}

function probe(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      })
      .on("error", reject);
  });
}

/** `serveWebhook` configured from flags and environment as the CLI does, quiet and without signal handlers. */
async function serveQuietly(
  kubeConfig: KubeConfig,
  flags: WebhookFlags,
  env: Environment,
): Promise<RunningWebhook> {
  const config = buildWebhookConfig(flags, env);
  if (!config.ok) throw new Error(config.error);
  return serveWebhook(config.value, { kubeConfig, logger: pino({ level: "silent" }), signals: [] });
}

/** The CA certificate the rotator keeps in its Secret. */
function rotatedCa(api: FakeKubeApi): string {
  const secret = api.get("v1", "Secret", NAMESPACE, "azure-wi-webhook-server-cert");
  const data = (secret?.data ?? {}) as Record<string, string>;
  return Buffer.from(data["ca.crt"] ?? "", "base64").toString("utf8");
}

/** A fake API server with the pod's ServiceAccount and the configuration whose caBundle the rotator keeps. */
async function fakeCluster(): Promise<FakeKubeApi> {
  const api = await FakeKubeApi.start({ gitVersion: "v1.32.3" });
  api.put({
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: {
      name: "api",
      namespace: "apps",
      annotations: { "azure.workload.identity/client-id": CLIENT_ID },
    },
  });
  api.put({
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingWebhookConfiguration",
    metadata: { name: CONFIGURATION },
    webhooks: [
      {
        name: "mutation.azure-workload-identity.io",
        admissionReviewVersions: ["v1", "v1beta1"],
        sideEffects: "None",
        clientConfig: {
          service: {
            name: "azure-wi-webhook-webhook-service",
            namespace: NAMESPACE,
            path: "/mutate-v1-pod",
          },
        },
      },
    ],
  });
  return api;
}

/**
 * A webhook with certificate rotation on a fresh fake cluster, listening on free ports (no metrics listener), given to
 * `run`; the cluster and the certificate directory are removed afterwards. `run` closes the webhook.
 */
async function withRotatingWebhook(
  flags: WebhookFlags,
  run: (running: RunningWebhook, api: FakeKubeApi) => Promise<void>,
): Promise<void> {
  const api = await fakeCluster();
  const certDir = await mkdtemp(join(tmpdir(), "wikit-serve-"));
  try {
    const running = await serveQuietly(
      api.kubeConfig(),
      { webhookCertDir: certDir, port: "0", healthAddr: "127.0.0.1:0", metricsAddr: "0", ...flags },
      { AZURE_TENANT_ID: TENANT, POD_NAMESPACE: NAMESPACE },
    );
    await run(running, api);
  } finally {
    await api.close();
    await rm(certDir, { recursive: true, force: true });
  }
}

describe("serveWebhook with certificate rotation", { timeout: 60_000 }, () => {
  let api: FakeKubeApi;
  let certDir: string;
  let running: RunningWebhook;

  before(async () => {
    api = await fakeCluster();
    certDir = await mkdtemp(join(tmpdir(), "wikit-serve-rotation-"));
    running = await serveQuietly(
      api.kubeConfig(),
      { webhookCertDir: certDir, port: "0", healthAddr: "127.0.0.1:0", metricsAddr: "0" },
      { AZURE_TENANT_ID: TENANT, POD_NAMESPACE: NAMESPACE },
    );
  });
  after(async () => {
    await running?.close();
    await api.close();
    await rm(certDir, { recursive: true, force: true });
  });

  test("the rotator's CA is in the Secret and in the configuration's caBundle, and the listener serves with it", async () => {
    const ca = rotatedCa(api);
    assert.match(ca, /BEGIN CERTIFICATE/);
    const configuration = api.get(
      "admissionregistration.k8s.io/v1",
      "MutatingWebhookConfiguration",
      "",
      CONFIGURATION,
    ) as {
      webhooks: { clientConfig: { caBundle?: string } }[];
    };
    assert.equal(
      Buffer.from(configuration.webhooks[0]?.clientConfig.caBundle ?? "", "base64").toString("utf8"),
      ca,
    );

    const port = await running.server.webhookListening;
    const answer = await post(port, ca, review());
    assert.equal(answer.status, 200);
    assert.equal(answer.json.response.allowed, true);
    const pod = applyJsonPatch(
      review().request.object,
      decodePatch(answer.json.response.patch ?? ""),
    ) as unknown as PodShape;
    assert.equal(pod.spec.containers[0]?.env[0]?.value, CLIENT_ID);
  });

  test("the API server's version (1.32.3) puts the proxy in init containers as a native sidecar", async () => {
    const ca = rotatedCa(api);
    const port = await running.server.webhookListening;
    const withProxy = review({ "azure.workload.identity/inject-proxy-sidecar": "true" });
    const answer = await post(port, ca, withProxy);
    const pod = applyJsonPatch(
      withProxy.request.object,
      decodePatch(answer.json.response.patch ?? ""),
    ) as unknown as PodShape;
    assert.equal(pod.spec.initContainers[0]?.name, "azwi-proxy");
    assert.equal(pod.spec.initContainers[0]?.restartPolicy, "Always");
  });

  test("readyz and healthz pass once the cache has synced and the listener serves TLS", async () => {
    const health = running.server.ports.health ?? assert.fail("no health port");
    await eventually(async () => (await probe(health, "/readyz")) === 200);
    assert.equal(await probe(health, "/healthz"), 200);
    assert.equal(running.server.ports.metrics, undefined, "--metrics-addr 0 disables the metrics listener");
  });
});

describe("serveWebhook with a shutdown delay", { timeout: 60_000 }, () => {
  test("after close(), readyz fails while admissions are still answered; then the listeners close", async () => {
    await withRotatingWebhook({ shutdownDelaySeconds: "2" }, async (running, api) => {
      const port = await running.server.webhookListening;
      const health = running.server.ports.health ?? assert.fail("no health port");
      await eventually(async () => (await probe(health, "/readyz")) === 200);
      const ca = rotatedCa(api);

      const closing = running.close();
      assert.equal(await probe(health, "/readyz"), 500);
      assert.equal(await probe(health, "/healthz"), 200, "alive while it drains");
      const answer = await post(port, ca, review());
      assert.equal(answer.status, 200);
      assert.equal(answer.json.response.allowed, true);
      await closing;
      // Keep-alive connections from before are closed too: a request fails on one of them or on a new one.
      const closed = /ECONNREFUSED|socket hang up|ECONNRESET/;
      await assert.rejects(probe(health, "/readyz"), closed);
      await assert.rejects(post(port, ca, review()), closed);
    });
  });
});

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

// 127.0.0.2 is another loopback address on Linux: a listener bound to it alone refuses connections to 127.0.0.1.
describe("serveWebhook --bind-address", { timeout: 60_000 }, () => {
  for (const { bindAddress, reached, refused } of [
    { bindAddress: "127.0.0.2", reached: ["127.0.0.2"], refused: ["127.0.0.1"] },
    { bindAddress: undefined, reached: ["127.0.0.1", "127.0.0.2"], refused: [] },
  ]) {
    test(`${bindAddress ?? "no flag (every interface)"}: reachable on ${reached.join(", ")}${refused.length > 0 ? `, refused on ${refused.join(", ")}` : ""}`, async () => {
      await withRotatingWebhook(bindAddress === undefined ? {} : { bindAddress }, async (running) => {
        try {
          const port = await running.server.webhookListening;
          for (const host of reached) assert.equal(await accepts(host, port), true, host);
          for (const host of refused) assert.equal(await accepts(host, port), false, host);
        } finally {
          await running.close();
        }
      });
    });
  }
});

describe("serveWebhook start-up failures", { timeout: 30_000 }, () => {
  test("an unreachable API server fails start-up with the reason", async () => {
    const api = await FakeKubeApi.start();
    const kubeConfig = api.kubeConfig();
    await api.close();
    await assert.rejects(
      serveQuietly(kubeConfig, { disableCertRotation: true }, { AZURE_TENANT_ID: "t" }),
      /^Error: cannot read the API server's version: /,
    );
  });

  test("a health port already in use fails start-up, and the ServiceAccount watch is ended", async () => {
    const api = await FakeKubeApi.start();
    const taken = http.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const address = taken.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    try {
      await assert.rejects(
        serveQuietly(
          api.kubeConfig(),
          { disableCertRotation: true, healthAddr: `127.0.0.1:${port}`, metricsAddr: "0" },
          { AZURE_TENANT_ID: "t" },
        ),
        /^Error: cannot open the webhook's listeners: .*EADDRINUSE/,
      );
      await eventually(() => api.openWatches === 0);
    } finally {
      taken.close();
      await api.close();
    }
  });

  test("a rotator that cannot write its Secret fails start-up and closes what was opened", async () => {
    const api = await FakeKubeApi.start();
    api.fail(
      { path: /\/secrets/ },
      { code: 403, reason: "Forbidden", message: 'secrets "x" is forbidden: nope' },
    );
    const certDir = await mkdtemp(join(tmpdir(), "wikit-serve-fail-"));
    try {
      await assert.rejects(
        serveQuietly(
          api.kubeConfig(),
          { webhookCertDir: certDir, port: "0", healthAddr: "127.0.0.1:0", metricsAddr: "0" },
          { AZURE_TENANT_ID: "t", POD_NAMESPACE: NAMESPACE },
        ),
        /^Error: cannot set up the webhook's serving certificate: .*forbidden/,
      );
      await eventually(() => api.openWatches === 0);
    } finally {
      await api.close();
      await rm(certDir, { recursive: true, force: true });
    }
  });
});
