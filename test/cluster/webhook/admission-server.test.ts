// The admission server over real HTTPS on loopback, fed the real AdmissionReview fixture, with ServiceAccounts
// from a fake API server through the real cache: the patch it answers produces the expected pod; v1beta1 is
// answered in kind; bodies that are not reviews are refused with 400/413 while the server keeps serving; the
// health checks wait for the certificate and the cache; the metrics expose upstream's histogram; certificates
// are replaced without a restart; logs carry no pod spec; TLS below the minimum version is refused.

import assert from "node:assert/strict";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as http from "node:http";
import * as https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import * as tls from "node:tls";
import { pino } from "pino";
import { decodePatch } from "../../../src/cluster/webhook/admission-review.ts";
import { type AdmissionServer, startAdmissionServer } from "../../../src/cluster/webhook/admission-server.ts";
import { MUTATION_REQUEST_BUCKETS } from "../../../src/cluster/webhook/constants.ts";
import type { MutationConfig } from "../../../src/cluster/webhook/mutation.ts";
import { admitPod } from "../../../src/cluster/webhook/pod-admission.ts";
import type { ServiceAccountLike } from "../../../src/cluster/webhook/pod-facts.ts";
import {
  ServiceAccountCache,
  type ServiceAccountLookup,
} from "../../../src/cluster/webhook/service-account-cache.ts";
import type { JsonObject } from "../../../src/json/json-value.ts";
import {
  type CertificateWithKey,
  createCertificateAuthority,
  issueServingCertificate,
} from "../../../src/pki/certificates.ts";
import { eventually } from "../../eventually.ts";
import { ADMISSION_REVIEW_TEXT as FIXTURE_TEXT } from "../../fixtures/kubernetes.ts";
import { FakeKubeApi } from "./fake-kube-api.ts";
import { applyJsonPatch } from "./json-patch.ts";
import { postReview } from "./post-review.ts";

const FIXTURE = JSON.parse(FIXTURE_TEXT);
const NAMESPACE = "wi-probe";
const CLIENT_ID = "8a0e4b52-31c1-4f4b-9b5e-4c6a4a7f1d20";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const AUTHORITY = "https://login.microsoftonline.com/";
const MUTATION: MutationConfig = { tenantId: TENANT, authorityHost: AUTHORITY };
const LOOPBACK = { host: "127.0.0.1", port: 0 };

function getPlain(port: number, path: string): Promise<{ status: number; text: string; type: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            text: Buffer.concat(chunks).toString("utf8"),
            type: String(response.headers["content-type"]),
          }),
        );
      })
      .on("error", reject);
  });
}

/** SHA-256 fingerprint of the certificate the server presents to a new connection. */
function presentedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const fingerprint = socket.getPeerX509Certificate()?.fingerprint256 ?? "";
      socket.destroy();
      resolve(fingerprint);
    });
    socket.on("error", reject);
  });
}

async function certificateFiles(dir: string, serving: CertificateWithKey): Promise<void> {
  await writeFile(join(dir, "tls.key"), serving.keyPem);
  await writeFile(join(dir, "tls.crt"), serving.certPem);
}

async function issue(): Promise<{ ca: CertificateWithKey; serving: CertificateWithKey }> {
  const ca = await createCertificateAuthority("webhook test CA", 1);
  return { ca, serving: await issueServingCertificate(ca, ["127.0.0.1", "localhost"], 1) };
}

class LogLines extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) this.lines.push(JSON.parse(line));
    done();
  }
}

/** The fixture pod as webhook.md §3–§7 says it must look after mutation with this ServiceAccount. */
function expectedFixturePod(): JsonObject {
  const pod = structuredClone(FIXTURE.request.object);
  const hash = "c6c331958744bb3f00902fd3e50704";
  const mountPath = `/var/run/secrets/azure/wi/${hash}`;
  const volume = `azure-workload-identity-reserved-${hash}`;
  const env = [
    { name: "AZURE_CLIENT_ID", value: CLIENT_ID },
    { name: "AZURE_TENANT_ID", value: TENANT },
    { name: "AZURE_FEDERATED_TOKEN_FILE", value: `${mountPath}/token/azure-identity-token` },
    { name: "AZURE_AUTHORITY_HOST", value: AUTHORITY },
  ];
  const [app, sidecar] = pod.spec.containers;
  app.env = [...app.env, ...env];
  sidecar.env = env;
  for (const container of [app, sidecar])
    container.volumeMounts.push({ name: volume, readOnly: true, mountPath });
  pod.spec.volumes.push({
    name: volume,
    projected: {
      sources: [
        {
          serviceAccountToken: {
            path: "token/azure-identity-token",
            expirationSeconds: 3600,
            audience: "api://AzureADTokenExchange",
          },
        },
      ],
    },
  });
  return pod;
}

/** Posts a review that is allowed, one that is denied (unknown ServiceAccount) and a body that is no review. */
async function postOneOfEachResult(port: number, ca: string): Promise<void> {
  await postReview(port, ca, FIXTURE_TEXT);
  const object = {
    ...FIXTURE.request.object,
    spec: { ...FIXTURE.request.object.spec, serviceAccountName: "nobody" },
  };
  await postReview(port, ca, JSON.stringify({ ...FIXTURE, request: { ...FIXTURE.request, object } }));
  await postReview(port, ca, "nope");
}

describe("admission server", { timeout: 30_000 }, () => {
  let api: FakeKubeApi;
  let cache: ServiceAccountCache;
  let server: AdmissionServer;
  let certDir: string;
  let ca: string;
  let port: number;
  const logs = new LogLines();
  const logger = pino({ level: "debug" }, logs);

  before(async () => {
    api = await FakeKubeApi.start();
    api.put({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: {
        name: "workload-sa",
        namespace: NAMESPACE,
        annotations: { "azure.workload.identity/client-id": CLIENT_ID },
      },
    });
    cache = new ServiceAccountCache({ kubeConfig: api.kubeConfig() });
    cache.start();
    await cache.whenReady();
    certDir = await mkdtemp(join(tmpdir(), "wikit-webhook-"));
    const issued = await issue();
    ca = issued.ca.certPem;
    await certificateFiles(certDir, issued.serving);
    server = await startAdmissionServer({
      mutation: MUTATION,
      serviceAccounts: cache,
      certDir,
      tlsMinVersion: "TLSv1.3",
      webhookAddress: LOOPBACK,
      healthAddress: LOOPBACK,
      metricsAddress: LOOPBACK,
      logger,
      certificatePollIntervalMs: 3_600_000,
    });
    port = await server.webhookListening;
  });
  after(async () => {
    await server?.close();
    await cache?.stop();
    await api?.close();
    await rm(certDir, { recursive: true, force: true });
  });

  describe("answers", () => {
    test("the real AdmissionReview gets a v1 answer whose patch, applied to the request's pod, gives the expected pod", async () => {
      const answer = await postReview(port, ca, FIXTURE_TEXT);
      assert.equal(answer.status, 200);
      assert.equal(answer.contentType, "application/json");
      assert.equal(answer.json.apiVersion, "admission.k8s.io/v1");
      assert.equal(answer.json.kind, "AdmissionReview");
      const { response } = answer.json;
      assert.equal(response.uid, FIXTURE.request.uid);
      assert.equal(response.allowed, true);
      assert.deepEqual(response.status, { code: 200 });
      assert.equal(response.patchType, "JSONPatch");
      const patch = decodePatch(response.patch as string);
      assert.deepStrictEqual(applyJsonPatch(FIXTURE.request.object, patch), expectedFixturePod());
    });

    test("a v1beta1 review is answered as v1beta1", async () => {
      const answer = await postReview(
        port,
        ca,
        JSON.stringify({ ...FIXTURE, apiVersion: "admission.k8s.io/v1beta1" }),
      );
      assert.equal(answer.status, 200);
      assert.equal(answer.json.apiVersion, "admission.k8s.io/v1beta1");
      assert.equal(answer.json.response.uid, FIXTURE.request.uid);
      assert.equal(answer.json.response.allowed, true);
    });

    test("the path is routed without its query, with or without ?timeout", async () => {
      assert.equal((await postReview(port, ca, FIXTURE_TEXT, { path: "/mutate-v1-pod" })).status, 200);
      assert.equal(
        (await postReview(port, ca, FIXTURE_TEXT, { path: "/mutate-v1-pod?timeout=30s&x=1" })).status,
        200,
      );
      assert.equal((await postReview(port, ca, FIXTURE_TEXT, { path: "/mutate" })).status, 404);
      assert.equal((await postReview(port, ca, "", { path: "/mutate-v1-pod", method: "GET" })).status, 404);
    });

    test("re-invocation with the mutated pod yields no patch", async () => {
      const first = await postReview(port, ca, FIXTURE_TEXT);
      const mutated = applyJsonPatch(
        FIXTURE.request.object,
        decodePatch(first.json.response.patch as string),
      );
      const second = await postReview(
        port,
        ca,
        JSON.stringify({ ...FIXTURE, request: { ...FIXTURE.request, object: mutated } }),
      );
      assert.deepEqual(second.json.response, {
        uid: FIXTURE.request.uid,
        allowed: true,
        status: { code: 200 },
      });
    });

    test("a pod whose ServiceAccount does not exist is denied 400 with the API server's text", async () => {
      const object = structuredClone(FIXTURE.request.object);
      object.spec.serviceAccountName = "nobody";
      const answer = await postReview(
        port,
        ca,
        JSON.stringify({ ...FIXTURE, request: { ...FIXTURE.request, object } }),
      );
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.json.response, {
        uid: FIXTURE.request.uid,
        allowed: false,
        status: { code: 400, message: 'serviceaccounts "nobody" not found' },
      });
    });

    test("an API failure while reading the ServiceAccount denies the pod with the failure's text", async () => {
      const object = structuredClone(FIXTURE.request.object);
      object.spec.serviceAccountName = "not-cached";
      api.fail(
        { verb: "get" },
        {
          code: 503,
          reason: "ServiceUnavailable",
          message: "the server is currently unable to handle the request",
        },
        1,
      );
      const answer = await postReview(
        port,
        ca,
        JSON.stringify({ ...FIXTURE, request: { ...FIXTURE.request, object } }),
      );
      assert.deepEqual(answer.json.response.status, {
        code: 400,
        message: "the server is currently unable to handle the request",
      });
    });

    test("an undecodable pod is denied 400 inside an HTTP 200 review", async () => {
      const answer = await postReview(
        port,
        ca,
        JSON.stringify({ ...FIXTURE, request: { ...FIXTURE.request, object: "garbage" } }),
      );
      assert.equal(answer.status, 200);
      assert.equal(answer.json.response.allowed, false);
      assert.equal(answer.json.response.status.code, 400);
      assert.match(answer.json.response.status.message ?? "", /couldn't get version\/kind/);
    });
  });

  describe("bodies that are not reviews", () => {
    const refused: [string, string | Buffer, Record<string, string>, number, string | RegExp][] = [
      ["an empty body", "", {}, 400, "request body is empty"],
      [
        "text/plain",
        FIXTURE_TEXT,
        { "content-type": "text/plain" },
        400,
        "contentType=text/plain, expected application/json",
      ],
      [
        "a charset parameter (the type must be exact)",
        FIXTURE_TEXT,
        { "content-type": "application/json; charset=utf-8" },
        400,
        "contentType=application/json; charset=utf-8, expected application/json",
      ],
      [
        "a content type that is no media type at all",
        FIXTURE_TEXT,
        { "content-type": "garbage" },
        400,
        "contentType=garbage, expected application/json",
      ],
      ["garbage", "}{", {}, 400, /^couldn't get version\/kind; json parse error: /],
      ["a JSON array", "[]", {}, 400, /expected a JSON object, got array/],
      [
        "a review without request",
        '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}',
        {},
        400,
        /no request object/,
      ],
      ["another kind", '{"apiVersion":"v1","kind":"Pod"}', {}, 400, /^no kind "Pod" is registered/],
      ["invalid UTF-8", Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), {}, 400, /couldn't get version\/kind/],
    ];
    for (const [what, body, headers, code, message] of refused) {
      test(`${what} → HTTP ${code} with an AdmissionReview saying why`, async () => {
        const answer = await postReview(port, ca, body, { headers });
        assert.equal(answer.status, code);
        assert.equal(answer.contentType, "application/json");
        assert.equal(answer.json.kind, "AdmissionReview");
        assert.equal(answer.json.response.uid, "");
        assert.equal(answer.json.response.allowed, false);
        assert.equal(answer.json.response.status.code, code);
        if (typeof message === "string") assert.equal(answer.json.response.status.message, message);
        else assert.match(answer.json.response.status.message ?? "", message);
      });
    }

    test("a body over the limit → 413, and the server keeps serving on a new connection", async () => {
      const huge = Buffer.alloc(8 * 1024 * 1024, 0x20);
      const answer = await postReview(port, ca, huge);
      assert.equal(answer.status, 413);
      assert.equal(
        answer.json.response.status.message,
        "request entity is too large; limit is 7340032 bytes",
      );
      assert.equal((await postReview(port, ca, FIXTURE_TEXT)).status, 200);
    });

    test("after a run of malformed bodies on one keep-alive connection, that connection still serves reviews", async () => {
      const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
      try {
        for (const body of ["", "nope", "[1]", '{"request":{}}']) {
          assert.equal((await postReview(port, ca, body, { agent })).status, 400);
        }
        const answer = await postReview(port, ca, FIXTURE_TEXT, { agent });
        assert.equal(answer.status, 200);
        assert.equal(answer.socketReused, true);
      } finally {
        agent.destroy();
      }
    });
  });

  describe("metrics and logs", () => {
    test("the histogram azwi_mutation_request has upstream's buckets and the namespace and service_name labels", async () => {
      await postReview(port, ca, FIXTURE_TEXT);
      const metricsPort = server.ports.metrics ?? assert.fail("no metrics port");
      const exposition = await getPlain(metricsPort, "/metrics");
      assert.equal(exposition.status, 200);
      assert.match(exposition.type, /^text\/plain/);
      const buckets = exposition.text
        .split("\n")
        .filter(
          (line) =>
            line.startsWith("azwi_mutation_request_bucket{") && line.includes(`namespace="${NAMESPACE}"`),
        );
      assert.deepEqual(
        buckets.map((line) => /le="([^"]+)"/.exec(line)?.[1]),
        [...MUTATION_REQUEST_BUCKETS.map(String), "+Inf"],
      );
      for (const line of buckets) assert.match(line, /service_name="webhook"/);
      assert.match(
        exposition.text,
        new RegExp(
          `^azwi_mutation_request_count\\{namespace="${NAMESPACE}",service_name="webhook"\\} [1-9]`,
          "m",
        ),
      );
      assert.match(exposition.text, /^azwi_mutation_request_sum\{/m);
    });

    test("every request is counted by result, refusals and denials included", async () => {
      const counts = async () => {
        const text = (await getPlain(server.ports.metrics ?? 0, "/metrics")).text;
        const count = (result: string) =>
          Number(
            new RegExp(`^wikit_webhook_admission_requests_total\\{result="${result}"\\} (\\d+)`, "m").exec(
              text,
            )?.[1] ?? 0,
          );
        return { allowed: count("allowed"), denied: count("denied"), error: count("error") };
      };
      const before = await counts();
      await postOneOfEachResult(port, ca);
      const after = await counts();
      assert.deepEqual(
        {
          allowed: after.allowed - before.allowed,
          denied: after.denied - before.denied,
          error: after.error - before.error,
        },
        { allowed: 1, denied: 1, error: 1 },
      );
    });

    test("one log line per admission with uid, namespace, pod and outcome, and nothing of the pod's spec", async () => {
      const from = logs.lines.length;
      await postReview(port, ca, FIXTURE_TEXT);
      const lines = logs.lines.slice(from).filter((line) => line.msg === "admission");
      assert.equal(lines.length, 1);
      const [line] = lines;
      assert.equal(line?.level, 20, "admitted pods are logged at debug");
      assert.equal(line?.uid, FIXTURE.request.uid);
      assert.equal(line?.namespace, NAMESPACE);
      assert.equal(line?.pod, "injected");
      assert.equal(line?.serviceAccount, "workload-sa");
      assert.equal(line?.allowed, true);
      assert.equal(typeof line?.latencyMs, "number");
      const text = JSON.stringify(logs.lines.slice(from));
      for (const secretish of [
        "EXISTING",
        "busybox",
        "managedFields",
        "last-applied",
        CLIENT_ID,
        "kube-api-access",
      ]) {
        assert.equal(text.includes(secretish), false, `the log mentions ${secretish}`);
      }
    });

    test("at the info level, admitted pods are not logged; denials and errors are", async () => {
      logger.level = "info";
      try {
        const from = logs.lines.length;
        await postOneOfEachResult(port, ca);
        const lines = logs.lines.slice(from).filter((line) => /^admission/.test(String(line.msg)));
        assert.deepEqual(
          lines.map((line) => [line.level, line.result]),
          [
            [30, "denied"],
            [40, "error"],
          ],
        );
      } finally {
        logger.level = "debug";
      }
    });
  });

  describe("TLS", () => {
    test("a client limited to TLS 1.2 is refused when the minimum is 1.3", async () => {
      await assert.rejects(
        new Promise<void>((resolve, reject) => {
          const socket = tls.connect({ host: "127.0.0.1", port, ca, maxVersion: "TLSv1.2" }, () => {
            socket.destroy();
            resolve();
          });
          socket.on("error", reject);
        }),
      );
    });

    test("a new certificate is served to new connections without a restart; open connections keep working", async () => {
      const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        assert.equal((await postReview(port, ca, FIXTURE_TEXT, { agent })).status, 200);
        const before = await presentedFingerprint(port);
        const next = await issue();
        await certificateFiles(certDir, next.serving);
        assert.equal(await server.reloadCertificates(), true);
        assert.equal(
          await presentedFingerprint(port),
          new X509Certificate(next.serving.certPem).fingerprint256,
        );
        assert.notEqual(before, new X509Certificate(next.serving.certPem).fingerprint256);
        const reused = await postReview(port, ca, FIXTURE_TEXT, { agent });
        assert.deepEqual([reused.status, reused.socketReused], [200, true]);
        assert.equal((await postReview(port, next.ca.certPem, FIXTURE_TEXT)).status, 200);
        ca = next.ca.certPem;
      } finally {
        agent.destroy();
      }
    });

    test("an unusable pair (key of another certificate) is not taken; the current certificate stays", async () => {
      const current = await presentedFingerprint(port);
      const other = await issue();
      await writeFile(join(certDir, "tls.crt"), other.serving.certPem); // key not yet replaced
      assert.equal(await server.reloadCertificates(), false);
      assert.equal(await presentedFingerprint(port), current);
      assert.equal((await postReview(port, ca, FIXTURE_TEXT)).status, 200);
      await writeFile(join(certDir, "tls.key"), other.serving.keyPem);
      assert.equal(await server.reloadCertificates(), true);
      ca = other.ca.certPem;
    });
  });
});

describe("admission server start-up, health and shutdown", { timeout: 30_000 }, () => {
  let certDir: string;
  before(async () => {
    certDir = await mkdtemp(join(tmpdir(), "wikit-webhook-health-"));
  });
  after(() => rm(certDir, { recursive: true, force: true }));

  function lookup(): ServiceAccountLookup & { ready: boolean } {
    return {
      ready: false,
      async get(): Promise<ServiceAccountLike | undefined> {
        return { metadata: { name: "workload-sa" } };
      },
    };
  }

  /**
   * A synced lookup that answers the first `answeredAtOnce` lookups at once and holds the next one: `inLookup`
   * settles when it arrives, `release()` answers it.
   */
  function heldLookup(answeredAtOnce: number) {
    let lookups = 0;
    let release: () => void = () => {};
    let entered: () => void = () => {};
    const inLookup = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const serviceAccounts: ServiceAccountLookup = {
      ready: true,
      get: () =>
        new Promise<ServiceAccountLike | undefined>((resolve) => {
          lookups += 1;
          const answer = () => resolve({ metadata: { name: "workload-sa" } });
          if (lookups <= answeredAtOnce) return answer();
          release = answer;
          entered();
        }),
    };
    return { serviceAccounts, inLookup, release: () => release() };
  }

  /** The admission listener alone, quiet, on the certificate in `certDir`. */
  function startWithLookup(serviceAccounts: ServiceAccountLookup): Promise<AdmissionServer> {
    return startAdmissionServer({
      mutation: MUTATION,
      serviceAccounts,
      certDir,
      tlsMinVersion: "TLSv1.3",
      webhookAddress: LOOPBACK,
      logger: pino({ level: "silent" }),
      certificatePollIntervalMs: 3_600_000,
    });
  }

  test("health checks fail with 'certs are not ready yet' until the certificate is loaded, readyz also until the cache synced", async () => {
    const serviceAccounts = lookup();
    const server = await startAdmissionServer({
      mutation: MUTATION,
      serviceAccounts,
      certDir,
      tlsMinVersion: "TLSv1.3",
      webhookAddress: LOOPBACK,
      healthAddress: LOOPBACK,
      logger: pino({ level: "silent" }),
      certificatePollIntervalMs: 3_600_000,
    });
    try {
      const health = server.ports.health ?? assert.fail("no health port");
      assert.equal(server.ports.webhook, undefined);
      for (const path of ["/healthz", "/readyz"]) {
        assert.deepEqual(await getPlain(health, path).then((r) => [r.status, r.text]), [
          500,
          "certs are not ready yet",
        ]);
      }
      const issued = await issue();
      await certificateFiles(certDir, issued.serving);
      assert.equal(await server.reloadCertificates(), true);
      const port = await server.webhookListening;
      assert.equal((await postReview(port, issued.ca.certPem, FIXTURE_TEXT)).status, 200);
      assert.deepEqual(await getPlain(health, "/healthz").then((r) => [r.status, r.text]), [200, "ok"]);
      assert.deepEqual(await getPlain(health, "/readyz").then((r) => [r.status, r.text]), [
        500,
        "service account cache has not synced yet",
      ]);
      serviceAccounts.ready = true;
      assert.deepEqual(await getPlain(health, "/readyz").then((r) => [r.status, r.text]), [200, "ok"]);
    } finally {
      await server.close();
    }
  });

  test("certificate files appearing later are picked up by polling", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wikit-webhook-poll-"));
    const server = await startAdmissionServer({
      mutation: MUTATION,
      serviceAccounts: lookup(),
      certDir: dir,
      tlsMinVersion: "TLSv1.2",
      webhookAddress: LOOPBACK,
      logger: pino({ level: "silent" }),
      certificatePollIntervalMs: 10,
    });
    try {
      const issued = await issue();
      await certificateFiles(dir, issued.serving);
      const port = await server.webhookListening;
      assert.equal((await postReview(port, issued.ca.certPem, FIXTURE_TEXT)).status, 200);
      const next = await issue();
      await certificateFiles(dir, next.serving);
      const wanted = new X509Certificate(next.serving.certPem).fingerprint256;
      await eventually(async () => (await presentedFingerprint(port)) === wanted);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("close lets a request in flight finish, then refuses new connections", async () => {
    const issued = await issue();
    await certificateFiles(certDir, issued.serving);
    const { serviceAccounts, inLookup, release } = heldLookup(0);
    const server = await startWithLookup(serviceAccounts);
    const port = await server.webhookListening;
    const inFlight = postReview(port, issued.ca.certPem, FIXTURE_TEXT);
    await inLookup;
    const closing = server.close();
    release();
    const answer = await inFlight;
    assert.equal(answer.status, 200);
    assert.equal(answer.json.response.allowed, true);
    await closing;
    await assert.rejects(postReview(port, issued.ca.certPem, FIXTURE_TEXT), /ECONNREFUSED/);
  });

  test("close ends a keep-alive connection with the answer it carries, instead of leaving it idle", async () => {
    const issued = await issue();
    await certificateFiles(certDir, issued.serving);
    // The first lookup is answered at once, the second is held until the server is closing.
    const { serviceAccounts, inLookup, release } = heldLookup(1);
    const server = await startWithLookup(serviceAccounts);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const port = await server.webhookListening;
      const first = await postReview(port, issued.ca.certPem, FIXTURE_TEXT, { agent });
      assert.equal(first.connection, "keep-alive");
      const inFlight = postReview(port, issued.ca.certPem, FIXTURE_TEXT, { agent });
      await inLookup;
      const closing = server.close();
      release();
      const answer = await inFlight;
      assert.deepEqual([answer.status, answer.socketReused, answer.connection], [200, true, "close"]);
      // Settles only once that connection has ended: the test times out if it lingers for its idle timeout.
      await closing;
    } finally {
      agent.destroy();
      await server.close();
    }
  });
});

describe("admitPod", () => {
  test("an exception inside the decision is answered as a 500 denial, never thrown", async () => {
    const config = {
      get tenantId(): string {
        throw new Error("boom");
      },
      authorityHost: AUTHORITY,
    } as MutationConfig;
    const serviceAccounts = { get: async () => ({ metadata: { name: "workload-sa" } }) };
    const admission = await admitPod(FIXTURE_TEXT, { serviceAccounts, config });
    assert.equal(admission.httpStatus, 200);
    assert.equal(admission.result, "error");
    assert.deepEqual(admission.review.response.status, { code: 500, message: "internal error: boom" });
  });

  test("a lookup that throws a non-Error is denied with its text", async () => {
    const serviceAccounts = {
      get: async () => {
        throw "connection reset";
      },
    };
    const admission = await admitPod(FIXTURE_TEXT, { serviceAccounts, config: MUTATION });
    assert.deepEqual(admission.review.response.status, { code: 400, message: "connection reset" });
    assert.equal(admission.result, "error");
  });

  test("a request without namespace is denied before any lookup", async () => {
    let looked = false;
    const serviceAccounts = {
      get: async () => {
        looked = true;
        return undefined;
      },
    };
    const body = JSON.stringify({ ...FIXTURE, request: { ...FIXTURE.request, namespace: "" } });
    const admission = await admitPod(body, { serviceAccounts, config: MUTATION });
    assert.equal(admission.review.response.allowed, false);
    assert.match(admission.review.response.status.message ?? "", /^request.namespace is empty/);
    assert.equal(looked, false);
  });

  test("an undecodable pod is denied before any lookup", async () => {
    let looked = false;
    const serviceAccounts = {
      get: async () => {
        looked = true;
        return undefined;
      },
    };
    const body = JSON.stringify({
      ...FIXTURE,
      request: { ...FIXTURE.request, object: { spec: { containers: 5 } } },
    });
    const admission = await admitPod(body, { serviceAccounts, config: MUTATION });
    assert.equal(admission.result, "denied");
    assert.equal(looked, false);
  });

  test("the patch in the answer is the mutation's, hashed identity included", async () => {
    const serviceAccounts = { get: async () => ({ metadata: { name: "workload-sa" } }) };
    const admission = await admitPod(FIXTURE_TEXT, { serviceAccounts, config: MUTATION });
    const hash = createHash("sha256").update("injected").digest("hex").slice(0, 30);
    assert.ok(
      decodePatch(admission.review.response.patch ?? "").some((op) =>
        JSON.stringify(op.value).includes(hash),
      ),
    );
  });
});
