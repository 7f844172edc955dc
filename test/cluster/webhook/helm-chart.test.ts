// The Helm chart deploy/helm/wikit rendered by a real Helm binary: values.yaml equals the defaults of
// webhookManifests, the chart renders the same objects as webhookManifests for the same values, every rendered
// object is valid against the Kubernetes schemas, and values.schema.json refuses bad values.

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import {
  DEFAULT_RELEASE_NAME,
  DEFAULT_WEBHOOK_VALUES,
  type KubeObject,
  UPSTREAM_WEBHOOK_OBJECT_NAMES,
  type WebhookValuesInput,
  WIKIT_APP_VERSION,
  webhookManifests,
} from "../../../src/cluster/webhook/manifests.ts";
import {
  EMULATION_CA_REQUIRED_MESSAGE,
  TENANT_ID_REQUIRED_MESSAGE,
} from "../../../src/cluster/webhook/webhook-objects.ts";
import { helm, REPOSITORY_ROOT } from "./helm-binary.ts";
import { kubeSchemaProblems } from "./kube-schema.ts";

const CHART = join(REPOSITORY_ROOT, "deploy", "helm", "wikit");
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/** Labels only Helm adds (it manages the release); everything else must match webhookManifests. */
const HELM_ONLY_LABELS = ["app.kubernetes.io/managed-by", "helm.sh/chart"];

// The bundled Helm is a linux/amd64 build.
const helmRuns = process.platform === "linux" && process.arch === "x64";
const skip = helmRuns ? false : "the bundled Helm binary runs on linux/x64 only";

let home: string;
before(async () => {
  home = await mkdtemp(join(tmpdir(), "wikit-helm-"));
});
after(async () => {
  await rm(home, { recursive: true, force: true });
});

async function render(
  values: WebhookValuesInput | Record<string, unknown>,
  options: { release?: string; namespace?: string } = {},
) {
  const file = join(home, `values-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify(values));
  return helm(
    [
      "template",
      options.release ?? DEFAULT_RELEASE_NAME,
      CHART,
      "--namespace",
      options.namespace ?? "wikit-system",
      "--values",
      file,
    ],
    home,
  );
}

function parseObjects(yamlText: string): KubeObject[] {
  return parseAllDocuments(yamlText)
    .map((document) => {
      assert.deepEqual(document.errors, [], "Helm's output is valid YAML");
      return document.toJSON() as KubeObject | null;
    })
    .filter((object): object is KubeObject => object !== null);
}

function withoutHelmLabels(object: KubeObject): KubeObject {
  const copy = structuredClone(object);
  for (const label of HELM_ONLY_LABELS) {
    assert.ok(copy.metadata.labels?.[label], `${object.kind} ${object.metadata.name} carries ${label}`);
    delete copy.metadata.labels?.[label];
  }
  return copy;
}

const byKindAndName = (a: KubeObject, b: KubeObject) =>
  `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`);

describe("chart metadata and defaults", () => {
  test("Chart.yaml's appVersion is wikit's version; the chart version follows it", async () => {
    const chart = parse(await readFile(join(CHART, "Chart.yaml"), "utf8"));
    const pkg = JSON.parse(await readFile(join(REPOSITORY_ROOT, "package.json"), "utf8"));
    assert.equal(chart.appVersion, WIKIT_APP_VERSION);
    assert.equal(pkg.version, WIKIT_APP_VERSION);
    assert.equal(chart.name, "wikit");
    assert.equal(chart.apiVersion, "v2");
  });

  test("values.yaml holds exactly the defaults webhookManifests uses", async () => {
    const values = parse(await readFile(join(CHART, "values.yaml"), "utf8"));
    assert.deepEqual(values, DEFAULT_WEBHOOK_VALUES);
  });

  test("every value has a schema entry, and every schema entry a default or a documented absence", async () => {
    const schema = JSON.parse(await readFile(join(CHART, "values.schema.json"), "utf8"));
    const documentedAbsent = ["global", "revisionHistoryLimit"];
    assert.deepEqual(
      Object.keys(schema.properties).sort(),
      [...Object.keys(DEFAULT_WEBHOOK_VALUES), ...documentedAbsent].sort(),
    );
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(schema.required, ["azureTenantID"]);
  });
});

const VALUE_SETS: Record<string, { values: WebhookValuesInput; release?: string; namespace?: string }> = {
  "defaults with a tenant": { values: { azureTenantID: TENANT } },
  "another release and namespace": {
    values: { azureTenantID: TENANT },
    release: "identity",
    namespace: "platform",
  },
  "upstream names, replacing azure-workload-identity": {
    values: { azureTenantID: TENANT, names: UPSTREAM_WEBHOOK_OBJECT_NAMES, logLevel: "" },
    namespace: "azure-workload-identity-system",
  },
  "cert-manager certificates": {
    values: {
      azureTenantID: TENANT,
      certManager: { enabled: true, certificateName: "webhook", secretName: "webhook-tls" },
      mutatingWebhookAnnotations: { "example.com/owner": "platform" },
    },
  },
  "everything set": {
    values: {
      azureTenantID: "contoso.onmicrosoft.com",
      azureEnvironment: "AzureUSGovernmentCloud",
      replicaCount: 3,
      image: { repository: "registry.example:5000/team/wikit", tag: "0.2.0", pullPolicy: "Always" },
      imagePullSecrets: [{ name: "registry" }],
      logLevel: "trace",
      metricsAddr: "0.0.0.0:9090",
      metricsBackend: "Prometheus",
      priorityClassName: "",
      nodeSelector: { "kubernetes.io/os": "linux", pool: "system" },
      resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "512Mi" } },
      tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists" }],
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 100,
              podAffinityTerm: {
                topologyKey: "kubernetes.io/hostname",
                labelSelector: { matchLabels: { "app.kubernetes.io/component": "webhook" } },
              },
            },
          ],
        },
      },
      topologySpreadConstraints: [
        {
          maxSkew: 2,
          topologyKey: "topology.kubernetes.io/zone",
          whenUnsatisfiable: "DoNotSchedule",
          labelSelector: { matchLabels: { "app.kubernetes.io/name": "wikit" } },
        },
      ],
      podLabels: { team: "identity", "app.kubernetes.io/part-of": "platform" },
      podAnnotations: { "prometheus.io/scrape": "true", "prometheus.io/port": "9090" },
      revisionHistoryLimit: 0,
      service: { type: "ClusterIP", port: 443, targetPort: 9443 },
      podDisruptionBudget: { maxUnavailable: "50%" },
      mutatingWebhookAnnotations: { "admissions.enforcer/disabled": "true" },
      mutatingWebhookNamespaceSelector: {
        matchLabels: { "workload-identity": "enabled" },
        matchExpressions: [{ key: "tier", operator: "In", values: ["apps", "jobs"] }],
      },
      excludedNamespaces: ["kube-system", "kube-public", "wikit-system"],
      webhookTimeoutSeconds: 10,
      customTokenEndpoint: {
        annotationSuffix: "identity-binding",
        audience: "api://AKSIdentityBinding",
        azureKubernetesCaData: "LS0tLS1CRUdJTi0=",
        azureKubernetesSniName: "proxy.example",
        azureKubernetesTokenProxy: "https://proxy.example",
        azureKubernetesCACTBSignerName: "example.com/signer",
        azureKubernetesCACTBLabelSelector: '{"matchLabels":{"a":"b"}}',
      },
      emulation: {
        address: "10.96.0.42",
        hostNames: ["login.microsoftonline.com", "myvault.vault.azure.net"],
        caConfigMap: "wikit-ca",
      },
      extraEnv: [
        { name: "PROXY_IMAGE", value: "registry.example/proxy:1" },
        { name: "NODE_OPTIONS", value: "--max-old-space-size=200" },
      ],
      extraVolumes: [{ name: "tmp", emptyDir: { sizeLimit: "10Mi" } }],
      extraVolumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
      defaultTopologySpread: false,
    },
  },
  "the budget's settings removed with null": {
    values: { azureTenantID: TENANT, podDisruptionBudget: null },
  },
  "no spreading, a zero budget": {
    values: {
      azureTenantID: TENANT,
      defaultTopologySpread: false,
      podDisruptionBudget: { minAvailable: 0 },
      nodeSelector: {},
    },
  },
};

describe("helm template renders the objects of webhookManifests, all valid", { skip }, () => {
  for (const [name, { values, release, namespace }] of Object.entries(VALUE_SETS)) {
    test(name, async () => {
      const result = await render(values, {
        ...(release ? { release } : {}),
        ...(namespace ? { namespace } : {}),
      });
      assert.equal(result.code, 0, result.stderr);
      const rendered = parseObjects(result.stdout);
      for (const object of rendered) {
        assert.deepEqual(kubeSchemaProblems(object), [], `${object.kind} ${object.metadata.name}`);
      }
      const expected = webhookManifests(values, {
        ...(release ? { releaseName: release } : {}),
        namespace: namespace ?? "wikit-system",
      }).objects;
      assert.deepEqual(
        rendered.map(withoutHelmLabels).sort(byKindAndName),
        [...expected].sort(byKindAndName),
      );
    });
  }

  test("the comparison is sharp: a changed value shows as a difference", async () => {
    const result = await render({ azureTenantID: TENANT, webhookTimeoutSeconds: 7 });
    assert.equal(result.code, 0, result.stderr);
    const rendered = parseObjects(result.stdout).map(withoutHelmLabels).sort(byKindAndName);
    const expected = webhookManifests({ azureTenantID: TENANT }).objects.sort(byKindAndName);
    assert.notDeepEqual(rendered, expected);
  });

  test("helm lint accepts the chart", async () => {
    const result = await helm(["lint", CHART, "--set", `azureTenantID=${TENANT}`], home);
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });
});

describe("values the chart refuses", { skip }, () => {
  test("no tenant: Helm fails with upstream's message, as webhookManifests does", async () => {
    const result = await render({});
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, new RegExp(TENANT_ID_REQUIRED_MESSAGE.replaceAll(".", "\\.")));
    assert.throws(() => webhookManifests({}), { message: TENANT_ID_REQUIRED_MESSAGE });
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ["replicaCount 0", { replicaCount: 0 }, /replicaCount/],
    ["replicaCount as text", { replicaCount: "2" }, /replicaCount/],
    ["an unknown log level", { logLevel: "verbose" }, /logLevel/],
    ["an unknown pull policy", { image: { pullPolicy: "Sometimes" } }, /pullPolicy/],
    ["a misspelt top-level value", { replicas: 2 }, /replicas/],
    ["a misspelt nested value", { certManager: { enable: true } }, /enable/],
    ["a tenant with spaces", { azureTenantID: "my tenant" }, /azureTenantID/],
    ["a webhook name with two segments", { names: { webhook: "mutation.wikit" } }, /webhook/],
    ["an upper-case object name", { names: { service: "Webhook" } }, /service/],
    ["a timeout above 30 s", { webhookTimeoutSeconds: 31 }, /webhookTimeoutSeconds/],
    ["a budget of 'half'", { podDisruptionBudget: { minAvailable: "half" } }, /minAvailable/],
    ["a Service of type ExternalName", { service: { type: "ExternalName" } }, /type/],
    ["another metrics backend", { metricsBackend: "opentelemetry" }, /metricsBackend/],
    ["a metrics address without a port", { metricsAddr: "localhost" }, /metricsAddr/],
    [
      "the reserved env name POD_NAMESPACE",
      { extraEnv: [{ name: "POD_NAMESPACE", value: "x" }] },
      /extraEnv/,
    ],
    ["the reserved volume name cert", { extraVolumes: [{ name: "cert", emptyDir: {} }] }, /extraVolumes/],
    ["a mount over /certs", { extraVolumeMounts: [{ name: "x", mountPath: "/certs" }] }, /extraVolumeMounts/],
    ["an invalid namespace to exclude", { excludedNamespaces: ["Kube_System"] }, /excludedNamespaces/],
    ["an emulation address that is a host name", { emulation: { address: "wikit.example" } }, /address/],
    ["a wildcard emulation host name", { emulation: { hostNames: ["*.vault.azure.net"] } }, /hostNames/],
    [
      "an unknown selector operator",
      { mutatingWebhookNamespaceSelector: { matchExpressions: [{ key: "a", operator: "Equals" }] } },
      /operator/,
    ],
  ];
  for (const [name, values, path] of bad) {
    test(name, async () => {
      const result = await render({ azureTenantID: TENANT, ...values });
      assert.notEqual(result.code, 0, `accepted ${JSON.stringify(values)}`);
      assert.match(result.stderr, /values don't meet the specifications of the schema/);
      assert.match(result.stderr, path);
    });
  }

  test("emulation without a CA ConfigMap: Helm fails and says why", async () => {
    const result = await render({ azureTenantID: TENANT, emulation: { address: "10.0.0.9" } });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /emulation\.caConfigMap is required with emulation\.address/);
    assert.throws(() => webhookManifests({ azureTenantID: TENANT, emulation: { address: "10.0.0.9" } }), {
      message: EMULATION_CA_REQUIRED_MESSAGE,
    });
  });

  test("an upstream chart's values file is accepted as it is", async () => {
    const upstream = {
      azureTenantID: TENANT,
      azureEnvironment: "AzurePublicCloud",
      replicaCount: 2,
      logLevel: "info",
      metricsAddr: ":8095",
      metricsBackend: "prometheus",
      priorityClassName: "system-cluster-critical",
      nodeSelector: { "kubernetes.io/os": "linux" },
      resources: { limits: { cpu: "100m", memory: "30Mi" }, requests: { cpu: "100m", memory: "20Mi" } },
      tolerations: [],
      affinity: {},
      topologySpreadConstraints: [],
      service: { type: "ClusterIP", port: 443, targetPort: 9443 },
      mutatingWebhookAnnotations: {},
      podLabels: {},
      podAnnotations: {},
      mutatingWebhookNamespaceSelector: {},
      podDisruptionBudget: { minAvailable: 1 },
      customTokenEndpoint: { annotationSuffix: "", audience: "" },
      extraEnv: [],
      extraVolumes: [],
      extraVolumeMounts: [],
      imagePullSecrets: [],
    };
    const result = await render(upstream);
    assert.equal(result.code, 0, result.stderr);
  });
});
