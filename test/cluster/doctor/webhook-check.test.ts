// The webhook checks over the objects `wikit webhook manifests` installs: each problem the API server would have
// with them (no configuration, no or an expired caBundle, a caBundle not holding the Secret's CA, no ready
// replica, selectors that miss or over-select) reported with its fix, and what a healthy set-up looks like.

import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type { ClusterObject } from "../../../src/cluster/doctor/cluster-objects.ts";
import {
  certSecretNameOf,
  checkWebhook,
  matchesLabelSelector,
  type WebhookSnapshot,
} from "../../../src/cluster/doctor/webhook-check.ts";
import type { Finding } from "../../../src/cluster/issuer/issuer-verification.ts";
import { WIKIT_WEBHOOK_CERT_SECRET_NAME } from "../../../src/cluster/webhook/constants.ts";
import { createCertificateAuthority } from "../../../src/pki/certificates.ts";
import { webhookObjects } from "./doctor-fixtures.ts";

const DAY = 24 * 60 * 60 * 1000;
const ISSUED = new Date("2026-06-01T00:00:00Z");
let caPem: string;
let otherCaPem: string;

before(async () => {
  caPem = (await createCertificateAuthority("azure-workload-identity-ca", 365, ISSUED)).certPem;
  otherCaPem = (await createCertificateAuthority("another-ca", 365, ISSUED)).certPem;
});

function snapshot(
  options: Parameters<typeof webhookObjects>[1] = {},
  change?: (objects: ReturnType<typeof webhookObjects>) => void,
): WebhookSnapshot {
  const objects = webhookObjects(caPem, options);
  change?.(objects);
  return {
    configurations: [objects.configuration],
    service: objects.service,
    deployments: [objects.deployment],
    certSecret: { namespace: "wikit-system", name: WIKIT_WEBHOOK_CERT_SECRET_NAME, object: objects.secret },
  };
}

function levels(findings: Finding[], level: Finding["level"]): string[] {
  return findings.filter((finding) => finding.level === level).map((finding) => finding.message);
}

const now = new Date(ISSUED.getTime() + 10 * DAY);

describe("webhook checks", () => {
  test("wikit's webhook as installed, with two ready replicas, has no warning or problem", () => {
    const { findings, context } = checkWebhook(snapshot(), now);
    assert.deepEqual([...levels(findings, "warning"), ...levels(findings, "problem")], []);
    assert.equal(context.configured, true);
    assert.equal(context.ready, true);
    assert.equal(context.failurePolicy, "Fail");
    assert.equal(context.deployment, "wikit-system/wikit-webhook");
    assert.ok(
      levels(findings, "ok").includes(
        "MutatingWebhookConfiguration wikit-webhook mutates pods in these namespaces: not kube-system, wikit-system",
      ),
    );
    assert.ok(
      levels(findings, "ok").some((message) =>
        /caBundle holds the CA in Secret wikit-system\/wikit-webhook-server-cert/.test(message),
      ),
    );
  });

  const cases: {
    name: string;
    snapshot: () => WebhookSnapshot;
    at?: Date;
    level: Finding["level"];
    message: RegExp;
  }[] = [
    {
      name: "no configuration selects labelled pods",
      snapshot: () => ({ configurations: [], deployments: [] }),
      level: "problem",
      message:
        /no MutatingWebhookConfiguration sends pods labelled azure.workload.identity\/use=true .* install the webhook/,
    },
    {
      name: "the caBundle has expired",
      snapshot: () => snapshot(),
      at: new Date(ISSUED.getTime() + 400 * DAY),
      level: "problem",
      message: /caBundle CA expired on 2027-06-01.*restart the webhook so it renews its CA/,
    },
    {
      name: "the caBundle expires within 30 days",
      snapshot: () => snapshot(),
      at: new Date(ISSUED.getTime() + 350 * DAY),
      level: "warning",
      message: /caBundle CA expires on 2027-06-01.*within 30 days/,
    },
    {
      name: "the caBundle does not hold the Secret's CA",
      snapshot: () => snapshot({ secretCaPem: otherCaPem }),
      level: "problem",
      message: /caBundle does not hold the CA in Secret wikit-system\/wikit-webhook-server-cert/,
    },
    {
      name: "the caBundle is empty",
      snapshot: () =>
        snapshot({}, (objects) => {
          const [webhook] = objects.configuration.webhooks as { clientConfig: { caBundle?: string } }[];
          delete webhook?.clientConfig.caBundle;
        }),
      level: "problem",
      message: /has no caBundle: the API server cannot trust the webhook's certificate/,
    },
    {
      name: "the Secret cannot be read",
      snapshot: () => ({
        ...snapshot(),
        certSecret: { namespace: "wikit-system", name: "x", error: "forbidden" },
      }),
      level: "warning",
      message: /Secret wikit-system\/x could not be read \(forbidden\)/,
    },
    {
      name: "no replica is ready",
      snapshot: () => snapshot({ readyReplicas: 0 }),
      level: "problem",
      message: /wikit-system\/wikit-webhook has no ready replica: labelled pods cannot be created/,
    },
    {
      name: "one replica is a single point of failure",
      snapshot: () => snapshot({ readyReplicas: 1 }),
      level: "warning",
      message: /has 1 ready replica: a single point of failure/,
    },
    {
      name: "failurePolicy Ignore",
      snapshot: () => snapshot({ failurePolicy: "Ignore" }),
      level: "warning",
      message:
        /failurePolicy Ignore: while the webhook is unreachable, labelled pods are admitted without mutation/,
    },
    {
      name: "no objectSelector",
      snapshot: () => snapshot({ objectSelector: null }),
      level: "problem",
      message: /has no objectSelector: every pod is sent to the webhook and mutated/,
    },
    {
      name: "an objectSelector that misses the label value",
      snapshot: () =>
        snapshot({ objectSelector: { matchLabels: { "azure.workload.identity/use": "True" } } }),
      level: "problem",
      message: /objectSelector does not select pods labelled azure.workload.identity\/use=true/,
    },
    {
      name: "the Service is gone",
      snapshot: () => {
        const { service: _service, ...rest } = snapshot();
        return rest;
      },
      level: "problem",
      message: /the webhook's Service wikit-system\/wikit-webhook does not exist/,
    },
  ];
  for (const entry of cases) {
    test(entry.name, () => {
      const { findings } = checkWebhook(entry.snapshot(), entry.at ?? now);
      const messages = levels(findings, entry.level);
      assert.ok(
        messages.some((message) => entry.message.test(message)),
        `no ${entry.level} matching ${entry.message} in ${JSON.stringify(findings, null, 2)}`,
      );
    });
  }

  test("the certificate Secret is found from the webhook's flag, cert-manager's volume, or the default name", () => {
    const flagged = webhookObjects("x").deployment;
    assert.equal(certSecretNameOf(flagged, "anything"), WIKIT_WEBHOOK_CERT_SECRET_NAME);
    const certManager: ClusterObject = {
      spec: {
        template: {
          spec: {
            containers: [{ name: "webhook" }],
            volumes: [{ name: "cert", secret: { secretName: "wikit-webhook-tls" } }],
          },
        },
      },
    };
    assert.equal(certSecretNameOf(certManager, "x"), "wikit-webhook-tls");
    assert.equal(
      certSecretNameOf(undefined, "azure-wi-webhook-mutating-webhook-configuration"),
      "azure-wi-webhook-server-cert",
    );
  });

  test("label selectors follow Kubernetes semantics", () => {
    const selector = {
      matchLabels: { team: "a" },
      matchExpressions: [
        { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system"] },
        { key: "tier", operator: "Exists" },
      ],
    };
    assert.equal(
      matchesLabelSelector(selector, { team: "a", tier: "x", "kubernetes.io/metadata.name": "app" }),
      true,
    );
    assert.equal(
      matchesLabelSelector(selector, { team: "a", tier: "x", "kubernetes.io/metadata.name": "kube-system" }),
      false,
    );
    assert.equal(matchesLabelSelector(selector, { team: "a" }), false);
    assert.equal(matchesLabelSelector(undefined, {}), true);
    assert.equal(matchesLabelSelector({}, {}), true);
  });
});
