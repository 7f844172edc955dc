// The Helm chart deploy/helm/wikit-server rendered by a real Helm binary: every object valid against the Kubernetes
// schemas (and the Certificate against cert-manager's CRD), the restricted Pod Security settings, the probes, the
// budget, the Service, the certificate's wildcard name and the environment `wikit serve` reads, for each way of
// giving TLS and with autoscaling on and off; values.schema.json and the templates refusing bad values with a
// message naming the setting; and the webhook chart, given this server's URL as authorityHost, making pods use it.

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { WIKIT_VERSION } from "../../src/names/wikit-release.ts";
import { helm, REPOSITORY_ROOT } from "../cluster/webhook/helm-binary.ts";
import { kubeSchemaProblems } from "../cluster/webhook/kube-schema.ts";
import { runWikit } from "../compat/local-stack.ts";
import { certificateSchemaProblems } from "./certificate-schema.ts";

const CHART = join(REPOSITORY_ROOT, "deploy", "helm", "wikit-server");
const WEBHOOK_CHART = join(REPOSITORY_ROOT, "deploy", "helm", "wikit");
const RELEASE = "wikit-server";
const NAMESPACE = "wikit";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID = "8a0e4b52-31c1-4f4b-9b5e-4c6a4a7f1d20";

// The bundled Helm is a linux/amd64 build.
const skip = process.platform === "linux" && process.arch === "x64" ? false : "Helm runs on linux/x64 only";

/** The values only the installer knows; with them and a TLS source the chart renders. */
const REQUIRED = {
  publicUrl: "https://wikit.example.test",
  store: {
    url: "postgres://wikit@postgres.db.svc:5432/wikit",
    passwordSecret: { name: "wikit-postgres", key: "password" },
  },
  secretKeyRing: { existingSecret: "wikit-keys" },
  adminToken: { existingSecret: "wikit-admin" },
};
const EXISTING_TLS = { ...REQUIRED, tls: { secretName: "wikit-tls" } };
const CERT_MANAGER_TLS = {
  ...REQUIRED,
  tls: { certManager: { enabled: true, issuerRef: { name: "dns-issuer" } } },
};

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: rendered objects are walked by the assertions below.
  spec?: any;
  [field: string]: unknown;
}

let home: string;
before(async () => {
  home = await mkdtemp(join(tmpdir(), "wikit-server-chart-"));
});
after(async () => {
  await rm(home, { recursive: true, force: true });
});

async function render(values: unknown, chart = CHART, release = RELEASE, namespace = NAMESPACE) {
  const file = join(home, `values-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify(values));
  return helm(["template", release, chart, "--namespace", namespace, "--values", file], home);
}

const CLUSTER_SCOPED_KINDS = ["ClusterRole", "ClusterRoleBinding", "MutatingWebhookConfiguration"];

/** The rendered objects, each checked against its schema, namespaced ones in the release namespace. */
async function renderValid(values: unknown, chart = CHART): Promise<KubeObject[]> {
  const result = await render(values, chart);
  assert.equal(result.code, 0, result.stderr);
  const objects = parseAllDocuments(result.stdout)
    .map((document) => {
      assert.deepEqual(document.errors, [], "Helm's output is valid YAML");
      return document.toJSON() as KubeObject | null;
    })
    .filter((object): object is KubeObject => object !== null);
  for (const object of objects) {
    const problems =
      object.kind === "Certificate" ? certificateSchemaProblems(object) : kubeSchemaProblems(object);
    assert.deepEqual(problems, [], `${object.kind} ${object.metadata.name}`);
    if (!CLUSTER_SCOPED_KINDS.includes(object.kind)) assert.equal(object.metadata.namespace, NAMESPACE);
  }
  return objects;
}

function only(objects: KubeObject[], kind: string): KubeObject {
  const found = objects.filter((object) => object.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind}`);
  return found[0] as KubeObject;
}

const kinds = (objects: KubeObject[]) => objects.map((object) => object.kind).sort();

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

function serverContainer(deployment: KubeObject) {
  const containers = deployment.spec.template.spec.containers;
  assert.equal(containers.length, 1);
  return containers[0];
}

function envOf(deployment: KubeObject): Map<string, EnvVar> {
  const env = serverContainer(deployment).env as EnvVar[];
  const byName = new Map(env.map((variable) => [variable.name, variable]));
  assert.equal(byName.size, env.length, "no variable is set twice");
  return byName;
}

const envValue = (deployment: KubeObject, name: string) => envOf(deployment).get(name)?.value;

/** The source of the file at `path` in the server container: which volume (and its item) holds it. */
function fileSource(deployment: KubeObject, path: string) {
  const podSpec = deployment.spec.template.spec;
  const mount = serverContainer(deployment).volumeMounts.find(
    (candidate: { mountPath: string }) => candidate.mountPath === dirname(path),
  );
  assert.ok(mount, `a volume is mounted at ${dirname(path)}`);
  assert.equal(mount.readOnly, true, `${dirname(path)} is mounted read-only`);
  const volume = podSpec.volumes.find((candidate: { name: string }) => candidate.name === mount.name);
  assert.ok(volume, `volume ${mount.name} exists`);
  const source = volume.secret ?? volume.configMap;
  const item = source.items.find((candidate: { path: string }) => candidate.path === basename(path));
  assert.ok(item, `${basename(path)} is an item of volume ${mount.name}`);
  return { secretName: volume.secret?.secretName, configMap: volume.configMap?.name, key: item.key };
}

describe("chart metadata and values", () => {
  test("Chart.yaml is wikit-server at wikit's version", async () => {
    const chart = parse(await readFile(join(CHART, "Chart.yaml"), "utf8"));
    assert.equal(chart.apiVersion, "v2");
    assert.equal(chart.name, "wikit-server");
    assert.equal(chart.version, WIKIT_VERSION);
    assert.equal(chart.appVersion, WIKIT_VERSION);
  });

  test("values.schema.json is closed and knows every value of values.yaml, and nothing else", async () => {
    const schema = JSON.parse(await readFile(join(CHART, "values.schema.json"), "utf8"));
    const values = parse(await readFile(join(CHART, "values.yaml"), "utf8"));
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(Object.keys(schema.properties).sort(), [...Object.keys(values), "global"].sort());
    for (const setting of ["store", "tls", "server", "autoscaling", "service", "podDisruptionBudget"]) {
      assert.equal(schema.properties[setting].additionalProperties, false, `${setting} is closed`);
    }
    assert.ok(schema.required.includes("store"));
    assert.deepEqual(schema.properties.store.required, ["url", "passwordSecret"]);
  });

  test("values.yaml starts with the install steps, secrets and command included", async () => {
    const text = await readFile(join(CHART, "values.yaml"), "utf8");
    const header = text.slice(0, text.indexOf("\nreplicaCount:"));
    assert.match(
      header,
      /kubectl create secret generic wikit-server-keys -n wikit --from-file=secret-keys\.json/,
    );
    assert.match(header, /kubectl create secret generic wikit-server-admin -n wikit --from-file=admin-token/);
    assert.match(header, /helm install wikit-server deploy\/helm\/wikit-server -n wikit/);
  });

  test("helm lint accepts the chart", { skip }, async () => {
    const file = join(home, "lint-values.json");
    await writeFile(file, JSON.stringify(EXISTING_TLS));
    const result = await helm(["lint", CHART, "--strict", "--values", file], home);
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });
});

describe("defaults, with an existing TLS Secret", { skip }, () => {
  let objects: KubeObject[];
  let deployment: KubeObject;
  before(async () => {
    objects = await renderValid(EXISTING_TLS);
    deployment = only(objects, "Deployment");
  });

  test("the objects: no database, no Certificate, an autoscaler", () => {
    assert.deepEqual(kinds(objects), [
      "Deployment",
      "HorizontalPodAutoscaler",
      "PodDisruptionBudget",
      "Service",
      "ServiceAccount",
    ]);
    for (const object of objects) assert.equal(object.metadata.name, RELEASE);
  });

  test("the pod meets the restricted Pod Security standard", () => {
    const pod = deployment.spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.deepEqual(pod.securityContext.seccompProfile, { type: "RuntimeDefault" });
    assert.equal(pod.hostNetwork ?? false, false);
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.enableServiceLinks, false, "no Service variables shadow WIKIT_* settings");
    const security = serverContainer(deployment).securityContext;
    assert.equal(security.runAsNonRoot, true);
    assert.notEqual(security.runAsUser, 0);
    assert.equal(security.allowPrivilegeEscalation, false);
    assert.equal(security.privileged, false);
    assert.equal(security.readOnlyRootFilesystem, true);
    assert.deepEqual(security.capabilities, { drop: ["ALL"] });
    assert.deepEqual(security.seccompProfile, { type: "RuntimeDefault" });
    for (const volume of pod.volumes) {
      assert.ok(
        volume.secret || volume.configMap || volume.emptyDir,
        `${volume.name}: an allowed volume type`,
      );
    }
  });

  test("it runs `wikit serve` from the chart's image", () => {
    const container = serverContainer(deployment);
    assert.equal(container.image, `ghcr.io/wikit/wikit:${WIKIT_VERSION}`);
    assert.deepEqual(container.args, ["serve"]);
    assert.ok(container.resources.requests.cpu, "a CPU request for the autoscaler to measure against");
    assert.ok(container.resources.limits.memory);
  });

  test("liveness asks /healthz and readiness /readyz, over HTTPS on the serving port", () => {
    const container = serverContainer(deployment);
    assert.deepEqual(container.ports, [{ name: "https", containerPort: 8443, protocol: "TCP" }]);
    const probes = {
      startupProbe: "/healthz",
      livenessProbe: "/healthz",
      readinessProbe: "/readyz",
    } as const;
    for (const [probe, path] of Object.entries(probes)) {
      assert.deepEqual(container[probe].httpGet, { path, port: "https", scheme: "HTTPS" }, probe);
    }
  });

  test("the environment `wikit serve` reads, each file where a Secret puts it", () => {
    const env = envOf(deployment);
    assert.deepEqual([...env.keys()].sort(), [
      "PGPASSWORD",
      "WIKIT_ADMIN_TOKEN_FILE",
      "WIKIT_APPCONFIG_DOMAIN",
      "WIKIT_HOME",
      "WIKIT_LISTEN_ADDRESS",
      "WIKIT_LOG_LEVEL",
      "WIKIT_PORT",
      "WIKIT_PUBLIC_URL",
      "WIKIT_SECRET_KEY_FILE",
      "WIKIT_SHUTDOWN_DELAY",
      "WIKIT_STORE",
      "WIKIT_STORE_POOL_SIZE",
      "WIKIT_TLS_CERT",
      "WIKIT_TLS_KEY",
      "WIKIT_VAULT_DOMAIN",
      "WIKIT_WORKERS",
    ]);
    assert.equal(envValue(deployment, "WIKIT_STORE"), REQUIRED.store.url);
    assert.deepEqual(env.get("PGPASSWORD")?.valueFrom, {
      secretKeyRef: { name: "wikit-postgres", key: "password" },
    });
    assert.equal(envValue(deployment, "WIKIT_PUBLIC_URL"), "https://wikit.example.test");
    assert.equal(envValue(deployment, "WIKIT_VAULT_DOMAIN"), "vault.wikit.example.test");
    assert.equal(envValue(deployment, "WIKIT_APPCONFIG_DOMAIN"), "azconfig.wikit.example.test");
    assert.equal(envValue(deployment, "WIKIT_PORT"), "8443");
    assert.equal(envValue(deployment, "WIKIT_LISTEN_ADDRESS"), "0.0.0.0");
    assert.equal(envValue(deployment, "WIKIT_WORKERS"), "1");
    assert.equal(envValue(deployment, "WIKIT_LOG_LEVEL"), "info");
    assert.equal(envValue(deployment, "WIKIT_SHUTDOWN_DELAY"), "5");
    assert.equal(envValue(deployment, "WIKIT_STORE_POOL_SIZE"), "10");

    const file = (name: string) => envValue(deployment, name) ?? assert.fail(`${name} is set`);
    assert.deepEqual(fileSource(deployment, file("WIKIT_SECRET_KEY_FILE")), {
      secretName: "wikit-keys",
      configMap: undefined,
      key: "secret-keys.json",
    });
    assert.deepEqual(fileSource(deployment, file("WIKIT_ADMIN_TOKEN_FILE")), {
      secretName: "wikit-admin",
      configMap: undefined,
      key: "admin-token",
    });
    assert.equal(fileSource(deployment, file("WIKIT_TLS_CERT")).secretName, "wikit-tls");
    assert.equal(fileSource(deployment, file("WIKIT_TLS_CERT")).key, "tls.crt");
    assert.equal(fileSource(deployment, file("WIKIT_TLS_KEY")).secretName, "wikit-tls");
    assert.equal(fileSource(deployment, file("WIKIT_TLS_KEY")).key, "tls.key");

    // The data directory and /tmp are the only writable places, both emptyDirs.
    const mounts = serverContainer(deployment).volumeMounts.filter(
      (mount: { readOnly?: boolean }) => !mount.readOnly,
    );
    assert.deepEqual(mounts.map((mount: { mountPath: string }) => mount.mountPath).sort(), [
      "/tmp",
      file("WIKIT_HOME"),
    ]);
  });

  test("the autoscaler owns the replica count: at least 2, on CPU", () => {
    assert.equal(deployment.spec.replicas, undefined, "helm upgrade does not reset the autoscaler's count");
    const hpa = only(objects, "HorizontalPodAutoscaler");
    assert.equal(hpa.apiVersion, "autoscaling/v2");
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: RELEASE });
    assert.ok(hpa.spec.minReplicas >= 2);
    assert.ok(hpa.spec.maxReplicas >= hpa.spec.minReplicas);
    assert.deepEqual(hpa.spec.metrics, [
      {
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
      },
    ]);
  });

  test("a budget keeps a replica through voluntary disruptions, and upgrades never drop one", () => {
    const budget = only(objects, "PodDisruptionBudget");
    assert.equal(budget.spec.minAvailable, 1);
    assert.deepEqual(budget.spec.selector, deployment.spec.selector);
    assert.deepEqual(deployment.spec.strategy.rollingUpdate, { maxSurge: 1, maxUnavailable: 0 });
  });

  test("the selector matches the pods, and replicas spread over nodes and zones", () => {
    const podLabels = deployment.spec.template.metadata.labels;
    for (const [key, value] of Object.entries(deployment.spec.selector.matchLabels)) {
      assert.equal(podLabels[key], value, `pod label ${key}`);
    }
    const spread = deployment.spec.template.spec.topologySpreadConstraints;
    assert.deepEqual(
      spread.map((constraint: { topologyKey: string }) => constraint.topologyKey),
      ["kubernetes.io/hostname", "topology.kubernetes.io/zone"],
    );
    for (const constraint of spread) {
      assert.deepEqual(constraint.labelSelector.matchLabels, deployment.spec.selector.matchLabels);
    }
  });

  test("the Service maps 443 to the container's https port, for exactly these pods", () => {
    const service = only(objects, "Service");
    assert.equal(service.spec.type, "ClusterIP");
    assert.deepEqual(service.spec.ports, [
      { name: "https", port: 443, targetPort: "https", protocol: "TCP" },
    ]);
    assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
  });

  test("Prometheus finds /metrics over HTTPS by the pod's annotations", () => {
    assert.deepEqual(deployment.spec.template.metadata.annotations, {
      "prometheus.io/scrape": "true",
      "prometheus.io/scheme": "https",
      "prometheus.io/path": "/metrics",
      "prometheus.io/port": "8443",
    });
  });
});

describe("TLS from cert-manager", { skip }, () => {
  test("a Certificate for the public host and the vaults' wildcard, in the Secret the pods mount", async () => {
    const objects = await renderValid(CERT_MANAGER_TLS);
    const certificate = only(objects, "Certificate");
    assert.deepEqual(certificate.spec.dnsNames, [
      "wikit.example.test",
      "*.vault.wikit.example.test",
      "*.azconfig.wikit.example.test",
    ]);
    assert.deepEqual(certificate.spec.issuerRef, {
      name: "dns-issuer",
      kind: "ClusterIssuer",
      group: "cert-manager.io",
    });
    const deployment = only(objects, "Deployment");
    const secretName = fileSource(deployment, envValue(deployment, "WIKIT_TLS_CERT") ?? "").secretName;
    assert.equal(secretName, `${RELEASE}-tls`);
    assert.equal(certificate.spec.secretName, secretName);
  });

  test("a vault domain and a port of its own: the names carry no port, the URL keeps it", async () => {
    const objects = await renderValid({
      ...REQUIRED,
      publicUrl: "https://Login.Example.test:8443/",
      vaultDomain: "vaults.example.test",
      appConfigDomain: "settings.example.test",
      tls: {
        secretName: "served-tls",
        certManager: {
          enabled: true,
          issuerRef: { name: "ca", kind: "Issuer", group: "cert-manager.io" },
          duration: "2160h",
          renewBefore: "720h",
          extraDnsNames: ["wikit-server.wikit.svc"],
        },
      },
    });
    const certificate = only(objects, "Certificate");
    assert.deepEqual(certificate.spec.dnsNames, [
      "login.example.test",
      "*.vaults.example.test",
      "*.settings.example.test",
      "wikit-server.wikit.svc",
    ]);
    assert.equal(certificate.spec.secretName, "served-tls");
    assert.equal(certificate.spec.duration, "2160h");
    const deployment = only(objects, "Deployment");
    assert.equal(envValue(deployment, "WIKIT_PUBLIC_URL"), "https://Login.Example.test:8443/");
    assert.equal(envValue(deployment, "WIKIT_VAULT_DOMAIN"), "vaults.example.test");
  });

  test("the CRD check is sharp: a misspelt field is reported", () => {
    const problems = certificateSchemaProblems({
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: { name: "x" },
      spec: { secretName: "x", dnsName: ["a.example"], issuerRef: { name: "ca" } },
    });
    assert.deepEqual(problems, ["/spec: must NOT have additional properties 'dnsName'"]);
  });
});

describe("autoscaling off", { skip }, () => {
  test("the Deployment holds the replicas itself, 2 by default, and no autoscaler is made", async () => {
    const objects = await renderValid({ ...EXISTING_TLS, autoscaling: { enabled: false } });
    assert.deepEqual(kinds(objects), ["Deployment", "PodDisruptionBudget", "Service", "ServiceAccount"]);
    assert.equal(only(objects, "Deployment").spec.replicas, 2);
  });

  test("replicaCount is used as given", async () => {
    const objects = await renderValid({ ...EXISTING_TLS, autoscaling: { enabled: false }, replicaCount: 3 });
    assert.equal(only(objects, "Deployment").spec.replicas, 3);
  });
});

describe("every option set", { skip }, () => {
  test("renders valid objects carrying each setting", async () => {
    const objects = await renderValid({
      ...REQUIRED,
      store: { url: "postgresql://wikit@10.0.0.5:5432/wikit?sslmode=require", passwordSecret: { name: "" } },
      secretKeyRing: { existingSecret: "ring", key: "ring.json" },
      adminToken: { existingSecret: "admin", key: "token" },
      tls: { secretName: "wikit-tls" },
      fullnameOverride: "identity",
      image: { repository: "registry.example:5000/wikit", tag: "0.2.0", pullPolicy: "Always" },
      imagePullSecrets: [{ name: "registry" }],
      server: {
        port: 9443,
        listenAddress: "::",
        workers: 4,
        logLevel: "debug",
        allowPrivateIssuers: true,
        issuerCA: { configMap: "cluster-ca", key: "root.pem" },
      },
      resources: { requests: { cpu: "4", memory: "1Gi" }, limits: { cpu: 4, memory: "2Gi" } },
      autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 3, targetCPUUtilizationPercentage: 60 },
      podDisruptionBudget: { enabled: true, maxUnavailable: "50%" },
      service: { type: "LoadBalancer", port: 8443, annotations: { "example.com/lb": "internal" } },
      serviceAccount: {
        create: true,
        name: "wikit-runtime",
        annotations: { "example.com/owner": "identity" },
      },
      metrics: { podAnnotations: false },
      podAnnotations: { "example.com/team": "identity" },
      podLabels: { team: "identity", "app.kubernetes.io/name": "not-the-selector" },
      priorityClassName: "high",
      nodeSelector: { pool: "identity" },
      tolerations: [{ key: "dedicated", operator: "Equal", value: "identity", effect: "NoSchedule" }],
      affinity: { nodeAffinity: {} },
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: "topology.kubernetes.io/zone",
          whenUnsatisfiable: "DoNotSchedule",
          labelSelector: { matchLabels: { "app.kubernetes.io/instance": RELEASE } },
        },
      ],
      terminationGracePeriodSeconds: 45,
      revisionHistoryLimit: 2,
      extraEnv: [{ name: "PGSSLMODE", value: "verify-full" }],
      extraVolumes: [{ name: "postgres-ca", configMap: { name: "postgres-ca" } }],
      extraVolumeMounts: [{ name: "postgres-ca", mountPath: "/etc/postgres-ca", readOnly: true }],
    });
    for (const object of objects)
      assert.equal(object.metadata.name, object.kind === "ServiceAccount" ? "wikit-runtime" : "identity");
    const deployment = only(objects, "Deployment");
    const pod = deployment.spec.template.spec;
    const env = envOf(deployment);
    assert.equal(env.has("PGPASSWORD"), false, "no password Secret, no PGPASSWORD");
    assert.equal(envValue(deployment, "WIKIT_PORT"), "9443");
    assert.equal(envValue(deployment, "WIKIT_LISTEN_ADDRESS"), "::");
    assert.equal(envValue(deployment, "WIKIT_WORKERS"), "4");
    assert.equal(envValue(deployment, "WIKIT_LOG_LEVEL"), "debug");
    assert.equal(envValue(deployment, "WIKIT_ALLOW_PRIVATE_ISSUERS"), "true");
    assert.equal(envValue(deployment, "PGSSLMODE"), "verify-full");
    assert.deepEqual(fileSource(deployment, envValue(deployment, "WIKIT_ISSUER_CA_FILE") ?? ""), {
      secretName: undefined,
      configMap: "cluster-ca",
      key: "root.pem",
    });
    assert.equal(
      fileSource(deployment, envValue(deployment, "WIKIT_SECRET_KEY_FILE") ?? "").key,
      "ring.json",
    );
    assert.equal(fileSource(deployment, envValue(deployment, "WIKIT_ADMIN_TOKEN_FILE") ?? "").key, "token");
    assert.equal(serverContainer(deployment).image, "registry.example:5000/wikit:0.2.0");
    assert.equal(serverContainer(deployment).ports[0].containerPort, 9443);
    assert.equal(deployment.spec.template.metadata.labels.team, "identity");
    assert.equal(
      deployment.spec.template.metadata.labels["app.kubernetes.io/name"],
      "wikit",
      "the selector wins",
    );
    assert.deepEqual(deployment.spec.template.metadata.annotations, { "example.com/team": "identity" });
    assert.equal(pod.serviceAccountName, "wikit-runtime");
    assert.equal(pod.priorityClassName, "high");
    assert.equal(pod.terminationGracePeriodSeconds, 45);
    assert.equal(pod.topologySpreadConstraints.length, 1);
    assert.equal(only(objects, "PodDisruptionBudget").spec.maxUnavailable, "50%");
    assert.equal(only(objects, "PodDisruptionBudget").spec.minAvailable, undefined);
    assert.equal(only(objects, "Service").spec.ports[0].port, 8443);
    assert.equal(only(objects, "HorizontalPodAutoscaler").spec.minReplicas, 3);
  });

  test("the budget and the ServiceAccount can be left out", async () => {
    const objects = await renderValid({
      ...EXISTING_TLS,
      podDisruptionBudget: { enabled: false },
      serviceAccount: { create: false, name: "existing" },
    });
    assert.deepEqual(kinds(objects), ["Deployment", "HorizontalPodAutoscaler", "Service"]);
    assert.equal(only(objects, "Deployment").spec.template.spec.serviceAccountName, "existing");
  });
});

describe("values the chart refuses", { skip }, () => {
  test("nothing given: every missing value is named at once, with what to give", async () => {
    const result = await render({});
    assert.notEqual(result.code, 0);
    for (const setting of [
      /- store\.url: the PostgreSQL database/,
      /- publicUrl: the https URL clients reach the server by/,
      /- secretKeyRing\.existingSecret: .*--from-file=secret-keys\.json/,
      /- adminToken\.existingSecret: .*--from-file=admin-token/,
      /- tls\.secretName: an existing kubernetes\.io\/tls Secret .*tls\.certManager\.enabled=true/,
    ]) {
      assert.match(result.stderr, setting);
    }
  });

  test("cert-manager without an issuer says which issuer is needed", async () => {
    const result = await render({ ...REQUIRED, tls: { certManager: { enabled: true } } });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /- tls\.certManager\.issuerRef\.name: the Issuer or ClusterIssuer/);
    assert.doesNotMatch(result.stderr, /store\.url/);
  });

  const templateRefusals: [string, Record<string, unknown>, RegExp][] = [
    [
      "an autoscaler whose maximum is below its minimum",
      { autoscaling: { minReplicas: 4, maxReplicas: 2 } },
      /autoscaling\.maxReplicas \(2\) must be at least autoscaling\.minReplicas \(4\)/,
    ],
    [
      "an autoscaler without a CPU request",
      { resources: { requests: null, limits: { memory: "1Gi" } } },
      /autoscaling needs resources\.requests\.cpu/,
    ],
  ];
  for (const [name, values, message] of templateRefusals) {
    test(name, async () => {
      const result = await render({ ...EXISTING_TLS, ...values });
      assert.notEqual(result.code, 0, `accepted ${JSON.stringify(values)}`);
      assert.match(result.stderr, message);
    });
  }

  const schemaRefusals: [string, Record<string, unknown>, RegExp][] = [
    ["a SQLite file as the store", { store: { url: "/var/lib/wikit/wikit.db" } }, /\/store\/url/],
    [
      "a password inside the store URL",
      { store: { url: "postgres://wikit:pw@db:5432/wikit" } },
      /\/store\/url/,
    ],
    ["a MySQL URL", { store: { url: "mysql://wikit@db:3306/wikit" } }, /\/store\/url/],
    ["a public URL over http", { publicUrl: "http://wikit.example.test" }, /\/publicUrl/],
    ["a public URL with a path", { publicUrl: "https://example.test/wikit" }, /\/publicUrl/],
    ["a vault domain with a wildcard", { vaultDomain: "*.vault.example.test" }, /\/vaultDomain/],
    [
      "an App Configuration domain with a wildcard",
      { appConfigDomain: "*.azconfig.example.test" },
      /\/appConfigDomain/,
    ],
    ["a misspelt top-level value", { replicas: 2 }, /additional properties 'replicas'/],
    ["a misspelt nested value", { tls: { certManager: { enable: true } } }, /additional properties 'enable'/],
    ["replicaCount 0", { replicaCount: 0 }, /\/replicaCount/],
    ["workers 0", { server: { workers: 0 } }, /\/server\/workers/],
    ["workers as text", { server: { workers: "2" } }, /\/server\/workers/],
    ["an unknown log level", { server: { logLevel: "verbose" } }, /\/server\/logLevel/],
    ["a privileged port", { server: { port: 443 } }, /\/server\/port/],
    ["a listen address that is a host name", { server: { listenAddress: "localhost" } }, /listenAddress/],
    [
      "an upper-case Secret name",
      { secretKeyRing: { existingSecret: "Keys" } },
      /\/secretKeyRing\/existingSecret/,
    ],
    ["a Service of type ExternalName", { service: { type: "ExternalName" } }, /\/service\/type/],
    ["a budget of 'half'", { podDisruptionBudget: { minAvailable: "half" } }, /minAvailable/],
    ["a CPU target above 100 %", { autoscaling: { targetCPUUtilizationPercentage: 150 } }, /targetCPU/],
    ["a duration that is not Go's", { tls: { certManager: { duration: "90 days" } } }, /duration/],
    ["the reserved variable WIKIT_STORE", { extraEnv: [{ name: "WIKIT_STORE", value: "x" }] }, /extraEnv/],
    ["the reserved volume name tls", { extraVolumes: [{ name: "tls", emptyDir: {} }] }, /extraVolumes/],
    [
      "a mount over the key ring",
      { extraVolumeMounts: [{ name: "x", mountPath: "/etc/wikit/secret-keys" }] },
      /extraVolumeMounts/,
    ],
  ];
  for (const [name, values, path] of schemaRefusals) {
    test(`values.schema.json refuses ${name}`, async () => {
      // Helm merges these over the chart's defaults, so each case differs from valid values in one setting.
      const result = await render({ ...EXISTING_TLS, ...values });
      assert.notEqual(result.code, 0, `accepted ${JSON.stringify(values)}`);
      assert.match(result.stderr, /values don't meet the specifications of the schema/);
      assert.match(result.stderr, path);
    });
  }
});

describe("the webhook chart pointed at this server", { skip, timeout: 120_000 }, () => {
  /** What the webhook, deployed by its chart with `values`, injects into a labelled pod. */
  async function injectedEnvironment(values: Record<string, unknown>): Promise<Record<string, string>> {
    const objects = await renderValid({ azureTenantID: TENANT, ...values }, WEBHOOK_CHART);
    const configMap = only(objects, "ConfigMap") as KubeObject & { data: Record<string, string> };
    const webhook = serverContainer(only(objects, "Deployment"));
    assert.deepEqual(webhook.envFrom, [{ configMapRef: { name: configMap.metadata.name } }]);
    // The container's own flags, and its ConfigMap as the environment: `wikit webhook mutate` takes the same
    // settings as `wikit webhook serve` and shows what serve would do to a pod.
    const [group, command, ...flags] = webhook.args as string[];
    assert.deepEqual([group, command], ["webhook", "serve"]);
    const dir = await mkdtemp(join(home, "webhook-"));
    await writeFile(
      join(dir, "pod.json"),
      JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "app", namespace: "apps", labels: { "azure.workload.identity/use": "true" } },
        spec: { serviceAccountName: "app", containers: [{ name: "app", image: "app:1" }] },
      }),
    );
    await writeFile(
      join(dir, "sa.json"),
      JSON.stringify({
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: {
          name: "app",
          namespace: "apps",
          annotations: { "azure.workload.identity/client-id": CLIENT_ID },
        },
      }),
    );
    const environment = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !/^(CONFIG_)?(AZURE_|WIKIT_)/.test(name)),
    );
    const result = await runWikit(
      [
        "webhook",
        "mutate",
        ...flags,
        "--pod",
        join(dir, "pod.json"),
        "--service-account",
        join(dir, "sa.json"),
        "--namespace",
        "apps",
      ],
      { env: { ...environment, ...configMap.data, POD_NAMESPACE: "wikit-system" } },
    );
    assert.equal(result.code, 0, result.stderr);
    const pod = JSON.parse(result.stdout);
    const env = pod.spec.containers[0].env as { name: string; value: string }[];
    return Object.fromEntries(env.map(({ name, value }) => [name, value]));
  }

  test("authorityHost set to the server's public URL: pods get it as AZURE_AUTHORITY_HOST", async () => {
    const env = await injectedEnvironment({ authorityHost: `${REQUIRED.publicUrl}/` });
    assert.equal(env.AZURE_AUTHORITY_HOST, "https://wikit.example.test/");
    assert.equal(env.AZURE_CLIENT_ID, CLIENT_ID);
    assert.equal(env.AZURE_TENANT_ID, TENANT);
  });

  test("without it, the cloud's authority host, as azure-workload-identity injects", async () => {
    const env = await injectedEnvironment({ azureEnvironment: "AzureUSGovernmentCloud" });
    assert.equal(env.AZURE_AUTHORITY_HOST, "https://login.microsoftonline.us/");
  });

  test("the webhook chart's schema refuses an authority host over http or with a path", async () => {
    for (const authorityHost of ["http://wikit.example.test/", "https://wikit.example.test/tenant"]) {
      const result = await render(
        { azureTenantID: TENANT, authorityHost },
        WEBHOOK_CHART,
        "wikit",
        "wikit-system",
      );
      assert.notEqual(result.code, 0, authorityHost);
      assert.match(result.stderr, /\/authorityHost/);
    }
  });
});
