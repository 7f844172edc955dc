// The webhook's self-managed TLS: the keep / re-issue decision as a table and a property over time, and the
// rotator against a fake Kubernetes API server — Secret creation, caBundle injection, certificate files, renewal,
// repair of a corrupt Secret, replicas racing — ending with a real TLS handshake against the written files.

import assert from "node:assert/strict";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import * as tls from "node:tls";
import { KubeConfig } from "@kubernetes/client-node";
import fc from "fast-check";
import {
  CertRotator,
  type CertRotatorOptions,
  certificatesFromSecretData,
  DEFAULT_ROTATION_POLICY,
  decideRotation,
  issueWebhookCertificates,
  type RotationLogger,
  secretDataFromCertificates,
  type WebhookCertificates,
  webhookServiceDnsNames,
} from "../../../src/cluster/webhook/cert-rotation.ts";
import {
  type CertificateWithKey,
  createCertificateAuthority,
  issueServingCertificate,
  splitCertificateBundle,
} from "../../../src/pki/certificates.ts";
import { eventually } from "../../eventually.ts";
import { FakeKubeApi, type KubeObject } from "./fake-kube-api.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
const NAMESPACE = "wikit-system";
const SERVICE = "wikit-webhook";
const SECRET = "wikit-webhook-server-cert";
const CONFIGURATION = "wikit-webhook";
const NAMES = webhookServiceDnsNames(SERVICE, NAMESPACE);
const T0 = new Date("2031-03-01T00:00:00Z");
const at = (days: number) => new Date(T0.getTime() + days * DAY_MS);

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

function dataOf(ca: CertificateWithKey, serving: CertificateWithKey): Record<string, string> {
  return secretDataFromCertificates({
    caCert: ca.certPem,
    caKey: ca.keyPem,
    tlsCert: serving.certPem,
    tlsKey: serving.keyPem,
  });
}

// ---- Decision --------------------------------------------------------------------------------------------

describe("decideRotation", () => {
  let ca: CertificateWithKey;
  let serving: CertificateWithKey;
  let otherCa: CertificateWithKey;
  let servingFromOtherCa: CertificateWithKey;
  let servingForOtherNames: CertificateWithKey;
  let shortServing: CertificateWithKey;

  before(async () => {
    ca = await createCertificateAuthority("test CA", DEFAULT_ROTATION_POLICY.caValidityDays, T0);
    serving = await issueServingCertificate(ca, NAMES, DEFAULT_ROTATION_POLICY.servingValidityDays, T0);
    otherCa = await createCertificateAuthority("other CA", 3650, T0);
    servingFromOtherCa = await issueServingCertificate(otherCa, NAMES, 365, T0);
    servingForOtherNames = await issueServingCertificate(
      ca,
      webhookServiceDnsNames("other", NAMESPACE),
      365,
      T0,
    );
    shortServing = await issueServingCertificate(ca, NAMES, 60, T0);
  });

  const cases: {
    name: string;
    data: () => Record<string, string> | undefined;
    now: Date;
    action: "keep" | "reissue-serving" | "reissue-all";
    reason?: RegExp;
    names?: string[];
  }[] = [
    { name: "no Secret yet", data: () => undefined, now: T0, action: "reissue-all", reason: /no CA/ },
    { name: "an empty Secret (as the chart creates it)", data: () => ({}), now: T0, action: "reissue-all" },
    { name: "fresh certificates", data: () => dataOf(ca, serving), now: T0, action: "keep" },
    {
      name: "serving certificate with more than a third of its life left",
      data: () => dataOf(ca, serving),
      now: at(240),
      action: "keep",
    },
    {
      name: "serving certificate with less than a third of its life left",
      data: () => dataOf(ca, serving),
      now: at(250),
      action: "reissue-serving",
      reason: /renewal window/,
    },
    {
      name: "expired serving certificate",
      data: () => dataOf(ca, serving),
      now: at(400),
      action: "reissue-serving",
      reason: /expired/,
    },
    {
      name: "short-lived serving certificate: 30 days before expiry wins over a third of its life",
      data: () => dataOf(ca, shortServing),
      now: at(31),
      action: "reissue-serving",
    },
    {
      name: "short-lived serving certificate 35 days before expiry",
      data: () => dataOf(ca, shortServing),
      now: at(25),
      action: "keep",
    },
    {
      name: "serving certificate for other names",
      data: () => dataOf(ca, servingForOtherNames),
      now: T0,
      action: "reissue-serving",
      reason: /names other\.wikit-system\.svc/,
    },
    {
      name: "serving certificate issued by another CA",
      data: () => dataOf(ca, servingFromOtherCa),
      now: T0,
      action: "reissue-serving",
      reason: /not issued by the stored CA/,
    },
    {
      name: "serving key of another certificate",
      data: () => dataOf(ca, { certPem: serving.certPem, keyPem: servingFromOtherCa.keyPem }),
      now: T0,
      action: "reissue-serving",
      reason: /serving key/,
    },
    {
      name: "missing serving key",
      data: () => {
        const { "tls.key": _key, ...rest } = dataOf(ca, serving);
        return rest;
      },
      now: T0,
      action: "reissue-serving",
    },
    {
      name: "unparsable serving certificate",
      data: () => ({ ...dataOf(ca, serving), "tls.crt": b64("-----BEGIN CERTIFICATE-----\nAAAA\n") }),
      now: T0,
      action: "reissue-serving",
    },
    {
      name: "CA key of another CA",
      data: () => dataOf({ certPem: ca.certPem, keyPem: otherCa.keyPem }, serving),
      now: T0,
      action: "reissue-all",
      reason: /CA key/,
    },
    {
      name: "missing CA key",
      data: () => {
        const { "ca.key": _key, ...rest } = dataOf(ca, serving);
        return rest;
      },
      now: T0,
      action: "reissue-all",
    },
    {
      name: "CA certificate that is not PEM",
      data: () => ({ ...dataOf(ca, serving), "ca.crt": "not base64 at all!" }),
      now: T0,
      action: "reissue-all",
      reason: /cannot be parsed/,
    },
    {
      name: "CA certificate that is not a certificate authority",
      data: () => dataOf(serving, serving),
      now: T0,
      action: "reissue-all",
      reason: /not a certificate authority/,
    },
    {
      name: "CA within the last third of its life",
      data: () => dataOf(ca, serving),
      now: at(2500),
      action: "reissue-all",
      reason: /CA certificate expires/,
    },
    { name: "expired CA", data: () => dataOf(ca, serving), now: at(3700), action: "reissue-all" },
    {
      name: "CA not valid yet (clock behind)",
      data: () => dataOf(ca, serving),
      now: at(-1),
      action: "reissue-all",
    },
    {
      name: "the DNS names changed (another namespace)",
      data: () => dataOf(ca, serving),
      now: T0,
      action: "reissue-serving",
      names: webhookServiceDnsNames(SERVICE, "elsewhere"),
    },
  ];

  for (const testCase of cases) {
    test(`${testCase.name} → ${testCase.action}`, async () => {
      const decision = await decideRotation(testCase.data(), testCase.names ?? NAMES, testCase.now);
      assert.equal(decision.action, testCase.action);
      if (testCase.reason && decision.action !== "keep") assert.match(decision.reason, testCase.reason);
    });
  }

  test("a CA replaced before it expires is handed on so the bundle can keep trusting it", async () => {
    const decision = await decideRotation(dataOf(ca, serving), NAMES, at(2500));
    assert.equal(decision.action, "reissue-all");
    assert.equal(decision.action === "reissue-all" && decision.previousCaCert, ca.certPem);
    const expired = await decideRotation(dataOf(ca, serving), NAMES, at(3700));
    assert.equal(expired.action === "reissue-all" && expired.previousCaCert, undefined);
  });

  test("over time: keep, then renew the serving certificate, then renew the CA (property)", async () => {
    const servingRenewal = 365 * (2 / 3);
    const caRenewal = 3650 * (2 / 3);
    await fc.assert(
      fc.asyncProperty(fc.double({ min: 0.01, max: 3649, noNaN: true }), async (days) => {
        const decision = await decideRotation(dataOf(ca, serving), NAMES, at(days));
        const expected =
          days >= caRenewal ? "reissue-all" : days >= servingRenewal ? "reissue-serving" : "keep";
        // Certificates start one minute before T0: allow that minute at each boundary.
        const nearBoundary = [servingRenewal, caRenewal].some((b) => Math.abs(days - b) < 0.01);
        if (!nearBoundary) assert.equal(decision.action, expected, `at day ${days}`);
      }),
      { numRuns: 60 },
    );
  });
});

describe("issueWebhookCertificates", () => {
  test("re-issuing the serving certificate keeps the CA; the new pair verifies and is kept", async () => {
    const ca = await createCertificateAuthority("test CA", 3650, T0);
    const stored = { caCert: ca.certPem, caKey: ca.keyPem };
    const issued = await issueWebhookCertificates(
      { action: "reissue-serving", reason: "test" },
      stored,
      NAMES,
      at(300),
    );
    assert.equal(issued.caCert, ca.certPem);
    assert.equal(issued.caKey, ca.keyPem);
    assertServingChain(issued, NAMES);
    assert.equal((await decideRotation(secretDataFromCertificates(issued), NAMES, at(300))).action, "keep");
  });

  test("a CA rollover puts the new CA first and the previous one after it in ca.crt", async () => {
    const old = await createCertificateAuthority("old CA", 3650, T0);
    const issued = await issueWebhookCertificates(
      { action: "reissue-all", reason: "test", previousCaCert: old.certPem },
      { caCert: old.certPem, caKey: old.keyPem },
      NAMES,
      at(2500),
    );
    const bundle = splitCertificateBundle(issued.caCert);
    assert.equal(bundle.length, 2);
    assert.equal(bundle[1], old.certPem);
    assert.notEqual(bundle[0], old.certPem);
    assertServingChain(issued, NAMES);
    assert.equal((await decideRotation(secretDataFromCertificates(issued), NAMES, at(2500))).action, "keep");
  });
});

/** The serving certificate chains to the first CA of ca.crt, names the hosts and belongs to its key. */
function assertServingChain(certificates: WebhookCertificates, names: readonly string[]): void {
  const caPem = splitCertificateBundle(certificates.caCert)[0] as string;
  const ca = new X509Certificate(caPem);
  const serving = new X509Certificate(certificates.tlsCert);
  assert.ok(ca.ca, "ca.crt is a CA");
  assert.ok(serving.checkIssued(ca), "issued by the CA");
  assert.ok(serving.verify(ca.publicKey), "signed by the CA");
  assert.ok(!serving.ca, "the serving certificate is not a CA");
  for (const name of names) assert.equal(serving.checkHost(name), name);
  assert.equal(serving.checkHost("evil.example"), undefined);
  assert.ok(serving.checkPrivateKey(createPrivateKey(certificates.tlsKey)), "key matches");
}

// ---- Rotator against the fake API server -----------------------------------------------------------------

function configurationObject(caBundles: (string | undefined)[]): KubeObject {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingWebhookConfiguration",
    metadata: { name: CONFIGURATION, labels: { "app.kubernetes.io/name": "wikit" } },
    webhooks: caBundles.map((caBundle, index) => ({
      name: `mutation-${index}.webhook.wikit.dev`,
      admissionReviewVersions: ["v1"],
      sideEffects: "None",
      clientConfig: {
        service: { name: SERVICE, namespace: NAMESPACE, path: "/mutate-v1-pod", port: 443 },
        ...(caBundle === undefined ? {} : { caBundle }),
      },
    })),
  };
}

const readSecret = (api: FakeKubeApi) => api.get("v1", "Secret", NAMESPACE, SECRET);
const readConfiguration = (api: FakeKubeApi) =>
  api.get("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", "", CONFIGURATION);
const caBundlesOf = (configuration: KubeObject | undefined) =>
  ((configuration?.webhooks ?? []) as { clientConfig: { caBundle?: string } }[]).map(
    (webhook) => webhook.clientConfig.caBundle,
  );
const writes = (api: FakeKubeApi) =>
  api.requests.filter((request) => ["create", "update", "patch"].includes(request.verb)).length;

function capturingLogger(): RotationLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (fields, message) => lines.push(JSON.stringify({ ...fields, message })),
    warn: (fields, message) => lines.push(JSON.stringify({ ...fields, message })),
  };
}

describe("CertRotator", () => {
  let api: FakeKubeApi;
  let dir: string;
  let certDir: string;
  const rotators: CertRotator[] = [];

  const rotator = (overrides: Partial<CertRotatorOptions> = {}) => {
    const created = new CertRotator({
      kubeConfig: api.kubeConfig(),
      namespace: NAMESPACE,
      secretName: SECRET,
      serviceName: SERVICE,
      webhookConfigurationName: CONFIGURATION,
      certDir,
      ...overrides,
    });
    rotators.push(created);
    return created;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wikit-cert-rotation-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async (context) => {
    for (const running of rotators.splice(0)) await running.stop();
    await api?.close();
    api = await FakeKubeApi.start();
    certDir = join(dir, String(context.name).replace(/[^a-z0-9]+/gi, "-"));
    api.put(configurationObject([undefined, "c3RhbGU="]));
  });
  after(async () => {
    for (const running of rotators.splice(0)) await running.stop();
    await api?.close();
  });

  test("first start: creates the Secret, writes the files (key 0600) and sets every webhook's caBundle", async () => {
    const logger = capturingLogger();
    const result = await rotator({ logger }).ensure();
    assert.deepEqual(result, {
      decision: "reissue-all",
      secret: "created",
      files: "written",
      caBundle: "patched",
    });

    const secret = readSecret(api);
    assert.ok(secret);
    assert.equal(secret.type, "Opaque");
    assert.deepEqual(Object.keys(secret.data as object).sort(), ["ca.crt", "ca.key", "tls.crt", "tls.key"]);
    const stored = certificatesFromSecretData(secret.data as Record<string, string>) as WebhookCertificates;
    assertServingChain(stored, NAMES);

    assert.equal(await readFile(join(certDir, "tls.crt"), "utf8"), stored.tlsCert);
    assert.equal(await readFile(join(certDir, "tls.key"), "utf8"), stored.tlsKey);
    assert.equal(await readFile(join(certDir, "ca.crt"), "utf8"), stored.caCert);
    assert.equal((await stat(join(certDir, "tls.key"))).mode & 0o777, 0o600);

    assert.deepEqual(caBundlesOf(readConfiguration(api)), [b64(stored.caCert), b64(stored.caCert)]);
    assert.equal(readConfiguration(api)?.metadata?.labels?.["app.kubernetes.io/name"], "wikit");

    const logged = logger.lines.join("\n");
    assert.doesNotMatch(logged, /PRIVATE KEY/);
    assert.ok(!logged.includes(b64(stored.tlsKey)) && !logged.includes(b64(stored.caKey)));
  });

  test("the written files serve a TLS chain that verifies against the caBundle for the service names", async () => {
    await rotator().ensure();
    const caBundle = Buffer.from(caBundlesOf(readConfiguration(api))[0] as string, "base64").toString("utf8");
    const server = tls.createServer({
      cert: await readFile(join(certDir, "tls.crt")),
      key: await readFile(join(certDir, "tls.key")),
    });
    server.on("secureConnection", (socket) => socket.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      for (const servername of NAMES) {
        const answer = await new Promise<string>((resolve, reject) => {
          const socket = tls.connect({ host: "127.0.0.1", port, servername, ca: caBundle }, () => {
            assert.ok(socket.authorized, String(socket.authorizationError));
          });
          let text = "";
          socket.on("data", (chunk) => {
            text += chunk;
          });
          socket.on("end", () => resolve(text));
          socket.on("error", reject);
        });
        assert.equal(answer, "ok");
      }
      await assert.rejects(
        new Promise((resolve, reject) => {
          const socket = tls.connect(
            { host: "127.0.0.1", port, servername: "wikit-webhook.other.svc", ca: caBundle },
            () => resolve(socket.end()),
          );
          socket.on("error", reject);
        }),
        /does not match certificate's altnames|ERR_TLS_CERT_ALTNAME_INVALID/,
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("valid certificates are kept: no write to the API and no file rewritten", async () => {
    await rotator().ensure();
    const secretBefore = readSecret(api);
    const writesBefore = writes(api);
    const fileBefore = await stat(join(certDir, "tls.crt"));

    const result = await rotator().ensure();
    assert.deepEqual(result, { decision: "keep", secret: "kept", files: "unchanged", caBundle: "current" });
    assert.equal(writes(api), writesBefore);
    assert.deepEqual(readSecret(api), secretBefore);
    assert.equal((await stat(join(certDir, "tls.crt"))).mtimeMs, fileBefore.mtimeMs);
  });

  test("near expiry the serving certificate is renewed under the same CA; the caBundle stays", async () => {
    await rotator({ now: () => T0 }).ensure();
    const before = certificatesFromSecretData(readSecret(api)?.data as Record<string, string>);
    const patchesBefore = api.requestsMatching({ verb: "patch" }).length;

    const result = await rotator({ now: () => at(300) }).ensure();
    assert.deepEqual(result, {
      decision: "reissue-serving",
      secret: "updated",
      files: "written",
      caBundle: "current",
    });
    const renewed = certificatesFromSecretData(
      readSecret(api)?.data as Record<string, string>,
    ) as WebhookCertificates;
    assert.equal(renewed.caCert, before.caCert);
    assert.notEqual(renewed.tlsCert, before.tlsCert);
    assert.equal(await readFile(join(certDir, "tls.crt"), "utf8"), renewed.tlsCert);
    assert.ok(new X509Certificate(renewed.tlsCert).validToDate.getTime() > at(600).getTime());
    assert.equal(api.requestsMatching({ verb: "patch" }).length, patchesBefore);
  });

  test("a CA near its end is replaced; the caBundle trusts the new and the previous CA during the rollover", async () => {
    await rotator({ now: () => T0 }).ensure();
    const oldCa = certificatesFromSecretData(readSecret(api)?.data as Record<string, string>)
      .caCert as string;

    const result = await rotator({ now: () => at(2500) }).ensure();
    assert.equal(result.decision, "reissue-all");
    assert.equal(result.caBundle, "patched");
    const stored = certificatesFromSecretData(
      readSecret(api)?.data as Record<string, string>,
    ) as WebhookCertificates;
    const chain = splitCertificateBundle(stored.caCert);
    assert.equal(chain.length, 2);
    assert.equal(chain[1], oldCa);
    assert.deepEqual(caBundlesOf(readConfiguration(api)), [b64(stored.caCert), b64(stored.caCert)]);
    assertServingChain(stored, NAMES);
  });

  for (const [name, data] of [
    [
      "garbage in every key",
      { "ca.crt": b64("junk"), "ca.key": b64("junk"), "tls.crt": "!!", "tls.key": "" },
    ],
    ["only half of the keys", { "tls.crt": b64("-----BEGIN CERTIFICATE-----") }],
    ["no data at all (as the chart creates it)", undefined],
  ] as const) {
    test(`a Secret with ${name} is regenerated`, async () => {
      api.put({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: SECRET, namespace: NAMESPACE, labels: { "app.kubernetes.io/name": "wikit" } },
        type: "Opaque",
        ...(data ? { data } : {}),
      });
      const result = await rotator().ensure();
      assert.equal(result.decision, "reissue-all");
      assert.equal(result.secret, "updated");
      const secret = readSecret(api);
      assert.equal(secret?.metadata?.labels?.["app.kubernetes.io/name"], "wikit", "metadata is kept");
      assertServingChain(
        certificatesFromSecretData(secret?.data as Record<string, string>) as WebhookCertificates,
        NAMES,
      );
    });
  }

  for (const initial of ["no Secret", "an empty Secret"] as const) {
    test(`two replicas starting at once with ${initial} end with one consistent Secret`, async () => {
      if (initial === "an empty Secret") {
        api.put({ apiVersion: "v1", kind: "Secret", metadata: { name: SECRET, namespace: NAMESPACE } });
      }
      // Both replicas read the Secret before either writes: the proxy holds the first two reads back.
      const proxy = await gatedProxy(api.url, 2);
      try {
        const first = rotator({ kubeConfig: kubeConfigFor(proxy.url), certDir: join(certDir, "a") });
        const second = rotator({ kubeConfig: kubeConfigFor(proxy.url), certDir: join(certDir, "b") });
        const results = await Promise.all([first.ensure(), second.ensure()]);

        const kinds = results.map((result) => result.secret).sort();
        assert.deepEqual(kinds, [initial === "no Secret" ? "created" : "updated", "kept"].sort());
        const conflicts = proxy.statuses.filter((status) => status === 409).length;
        assert.equal(
          conflicts,
          1,
          "the slower replica's write was refused, then it read the winner's Secret",
        );

        const stored = certificatesFromSecretData(
          readSecret(api)?.data as Record<string, string>,
        ) as WebhookCertificates;
        assertServingChain(stored, NAMES);
        for (const replica of ["a", "b"]) {
          assert.equal(await readFile(join(certDir, replica, "tls.crt"), "utf8"), stored.tlsCert);
          assert.equal(await readFile(join(certDir, replica, "tls.key"), "utf8"), stored.tlsKey);
        }
        assert.deepEqual(caBundlesOf(readConfiguration(api)), [b64(stored.caCert), b64(stored.caCert)]);
      } finally {
        await proxy.close();
      }
    });
  }

  test("a configuration that changed between read and patch is read again", async () => {
    api.fail(
      { verb: "patch" },
      { code: 409, reason: "Conflict", message: "the object has been modified" },
      1,
    );
    const result = await rotator().ensure();
    assert.equal(result.caBundle, "patched");
    assert.equal(api.requestsMatching({ verb: "patch" }).length, 2);
    const stored = certificatesFromSecretData(readSecret(api)?.data as Record<string, string>);
    assert.deepEqual(caBundlesOf(readConfiguration(api)), [
      b64(stored.caCert ?? ""),
      b64(stored.caCert ?? ""),
    ]);
  });

  test("a missing configuration is reported, and start() injects the caBundle once it appears", async () => {
    api.remove("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", "", CONFIGURATION);
    const logger = capturingLogger();
    const running = rotator({ checkIntervalMs: 10, logger });
    const result = await running.ensure();
    assert.equal(result.caBundle, "configuration-not-found");
    assert.match(logger.lines.join("\n"), /does not exist yet/);

    running.start();
    api.put(configurationObject([undefined]));
    const stored = certificatesFromSecretData(readSecret(api)?.data as Record<string, string>);
    await eventually(() => caBundlesOf(readConfiguration(api))[0] === b64(stored.caCert ?? ""));
    await running.stop();
  });

  test("start() repairs a caBundle reset by someone else and survives API errors", async () => {
    const running = rotator({ checkIntervalMs: 10 });
    await running.ensure();
    const expected = caBundlesOf(readConfiguration(api));
    api.fail({ verb: "get" }, { code: 503, reason: "ServiceUnavailable", message: "etcd is restarting" }, 2);
    running.start();
    api.put(configurationObject([undefined, undefined]));
    await eventually(() => {
      const bundles = caBundlesOf(readConfiguration(api));
      return bundles.length === 2 && bundles.every((bundle, index) => bundle === expected[index]);
    });
    await running.stop();
  });

  test("an API error other than a conflict fails ensure() with the status", async () => {
    api.fail({ verb: "get" }, { code: 403, reason: "Forbidden", message: "secrets is forbidden" });
    await assert.rejects(rotator().ensure(), (error: Error & { code?: number }) => {
      assert.equal(error.code, 403);
      return true;
    });
  });
});

// ---- Helpers: a proxy that makes two replicas race -------------------------------------------------------

function kubeConfigFor(server: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    // Plain HTTP on loopback: client-node refuses http:// unless TLS verification is declared off.
    clusters: [{ name: "proxy", server, skipTLSVerify: true }],
    users: [{ name: "proxy" }],
    contexts: [{ name: "proxy", cluster: "proxy", user: "proxy" }],
    currentContext: "proxy",
  });
  return config;
}

/**
 * Forwards to `target`, holding the first `gate` GETs of the certificate Secret until all of them have
 * arrived, so that every replica reads the same state before any of them writes. Records response statuses.
 */
async function gatedProxy(
  target: string,
  gate: number,
): Promise<{ url: string; statuses: number[]; close: () => Promise<void> }> {
  const statuses: number[] = [];
  const held: (() => void)[] = [];
  let secretReads = 0;
  const forward = (request: http.IncomingMessage, body: Buffer, response: http.ServerResponse) => {
    const upstream = http.request(
      `${target}${request.url ?? "/"}`,
      { method: request.method, headers: request.headers },
      (answer) => {
        statuses.push(answer.statusCode ?? 0);
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.end(body);
  };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks);
      const isSecretRead = request.method === "GET" && request.url?.includes(`/secrets/${SECRET}`);
      if (isSecretRead && secretReads < gate) {
        secretReads += 1;
        held.push(() => forward(request, body, response));
        if (held.length === gate) for (const release of held.splice(0)) release();
        return;
      }
      forward(request, body, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    statuses,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
