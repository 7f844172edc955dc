// The webhook's deployment objects: the MutatingWebhookConfiguration conventions (kubernetes.md §6), least-
// privilege RBAC, the Pod Security `restricted` profile, availability (replicas, budget, priority), bring-your-own
// certificates, upstream names, and every object valid against the Kubernetes schemas.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { parseAllDocuments } from "yaml";
import {
  MUTATING_WEBHOOK_CONFIGURATION_NAME,
  USE_LABEL,
  WEBHOOK_NAME,
  WEBHOOK_PATH,
  WEBHOOK_SERVICE_NAME,
  WIKIT_WEBHOOK_NAMESPACE,
} from "../../../src/cluster/webhook/constants.ts";
import { WebhookValuesError } from "../../../src/cluster/webhook/manifest-tree.ts";
import {
  DEFAULT_WEBHOOK_VALUES,
  type KubeObject,
  mergeValues,
  UPSTREAM_WEBHOOK_OBJECT_NAMES,
  type WebhookValuesInput,
  WIKIT_WEBHOOK_OBJECT_NAMES,
  webhookManifests,
} from "../../../src/cluster/webhook/manifests.ts";
import {
  CERT_MANAGER_INJECT_CA_ANNOTATION,
  NAMESPACE_NAME_LABEL,
  TENANT_ID_REQUIRED_MESSAGE,
} from "../../../src/cluster/webhook/webhook-objects.ts";
import { kubeSchemaProblems } from "./kube-schema.ts";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

// biome-ignore lint/suspicious/noExplicitAny: tests walk arbitrary manifest JSON.
type Any = any;

function find(objects: readonly KubeObject[], kind: string): Any {
  const found = objects.filter((object) => object.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind}`);
  return found[0];
}

const VALUE_SETS: Record<string, { values: WebhookValuesInput; namespace?: string }> = {
  defaults: { values: { azureTenantID: TENANT } },
  "upstream names": {
    values: { azureTenantID: TENANT, names: UPSTREAM_WEBHOOK_OBJECT_NAMES },
    namespace: "azure-workload-identity-system",
  },
  "cert-manager": { values: { azureTenantID: TENANT, certManager: { enabled: true } } },
  "everything set": {
    values: {
      azureTenantID: "contoso.onmicrosoft.com",
      azureEnvironment: "AzureChinaCloud",
      replicaCount: 3,
      image: { repository: "registry.example:5000/team/wikit", tag: "0.1.0-rc.1", pullPolicy: "Always" },
      imagePullSecrets: [{ name: "registry" }],
      logLevel: "debug",
      metricsAddr: "0.0.0.0:9090",
      podLabels: { team: "identity" },
      podAnnotations: { "prometheus.io/scrape": "true" },
      tolerations: [{ key: "dedicated", operator: "Equal", value: "system", effect: "NoSchedule" }],
      affinity: { nodeAffinity: {} },
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: "kubernetes.io/hostname",
          whenUnsatisfiable: "DoNotSchedule",
          labelSelector: { matchLabels: { "app.kubernetes.io/name": "wikit" } },
        },
      ],
      revisionHistoryLimit: 0,
      podDisruptionBudget: { maxUnavailable: "50%" },
      mutatingWebhookAnnotations: { "admissions.enforcer/disabled": "true" },
      mutatingWebhookNamespaceSelector: {
        matchLabels: { "workload-identity": "enabled" },
        matchExpressions: [{ key: "tier", operator: "NotIn", values: ["infra"] }],
      },
      excludedNamespaces: ["kube-system", "kube-public"],
      webhookTimeoutSeconds: 3,
      customTokenEndpoint: {
        annotationSuffix: "identity-binding",
        audience: "api://AKSIdentityBinding",
        azureKubernetesTokenProxy: "https://proxy.example",
        azureKubernetesSniName: "proxy.example",
        azureKubernetesCAConfigMapName: "proxy-ca",
      },
      extraEnv: [{ name: "PROXY_IMAGE", value: "registry.example/proxy:1" }],
      extraVolumes: [{ name: "tmp", emptyDir: {} }],
      extraVolumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
    },
    namespace: "identity",
  },
};

describe("webhookManifests: every object is valid against the Kubernetes schemas", () => {
  for (const [name, { values, namespace }] of Object.entries(VALUE_SETS)) {
    test(name, () => {
      const manifests = webhookManifests(values, namespace ? { namespace } : {});
      for (const object of [manifests.namespaceObject, ...manifests.objects]) {
        assert.deepEqual(kubeSchemaProblems(object), [], `${object.kind} ${object.metadata.name}`);
      }
    });
  }

  test("the schema check itself catches a wrong type and a misspelt field", () => {
    const deployment = structuredClone(
      find(webhookManifests({ azureTenantID: TENANT }).objects, "Deployment"),
    );
    deployment.spec.replicas = "2";
    deployment.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem = true;
    const problems = kubeSchemaProblems(deployment).join("\n");
    assert.match(problems, /replicas must be integer/);
    assert.match(problems, /readOnlyRootFileSystem/);
  });
});

describe("MutatingWebhookConfiguration", () => {
  const { objects } = webhookManifests({ azureTenantID: TENANT });
  const configuration = find(objects, "MutatingWebhookConfiguration");
  const webhook = configuration.webhooks[0];

  test("one webhook with the conventions of kubernetes.md §6", () => {
    assert.equal(configuration.webhooks.length, 1);
    assert.equal(configuration.metadata.name, WIKIT_WEBHOOK_OBJECT_NAMES.mutatingWebhookConfiguration);
    assert.equal(webhook.name, WIKIT_WEBHOOK_OBJECT_NAMES.webhook);
    assert.deepEqual(webhook.admissionReviewVersions, ["v1", "v1beta1"]);
    assert.equal(webhook.failurePolicy, "Fail");
    assert.equal(webhook.matchPolicy, "Equivalent");
    assert.equal(webhook.reinvocationPolicy, "IfNeeded");
    assert.equal(webhook.sideEffects, "None");
    assert.equal(webhook.timeoutSeconds, 5);
    assert.deepEqual(webhook.objectSelector, { matchLabels: { [USE_LABEL]: "true" } });
    assert.deepEqual(webhook.rules, [
      {
        apiGroups: [""],
        apiVersions: ["v1"],
        operations: ["CREATE"],
        resources: ["pods"],
        scope: "Namespaced",
      },
    ]);
  });

  test("it calls the Service on 443 at /mutate-v1-pod; the caBundle is left to the rotator", () => {
    assert.deepEqual(webhook.clientConfig, {
      service: {
        name: WIKIT_WEBHOOK_OBJECT_NAMES.service,
        namespace: WIKIT_WEBHOOK_NAMESPACE,
        path: WEBHOOK_PATH,
        port: 443,
      },
    });
    const service = find(objects, "Service");
    assert.equal(service.metadata.name, WIKIT_WEBHOOK_OBJECT_NAMES.service);
    assert.deepEqual(service.spec.ports, [
      { name: "https", port: 443, protocol: "TCP", targetPort: "webhook-server" },
    ]);
    const container = find(objects, "Deployment").spec.template.spec.containers[0];
    assert.deepEqual(
      container.ports.find((port: Any) => port.name === "webhook-server"),
      { name: "webhook-server", containerPort: 9443, protocol: "TCP" },
    );
  });

  test("kube-system and its own namespace are never sent to the webhook", () => {
    assert.deepEqual(webhook.namespaceSelector, {
      matchExpressions: [
        { key: NAMESPACE_NAME_LABEL, operator: "NotIn", values: ["kube-system", "wikit-system"] },
      ],
    });
  });

  test("a user's namespace selector narrows further; the exclusions stay", () => {
    const { objects: narrowed } = webhookManifests(VALUE_SETS["everything set"]?.values ?? {}, {
      namespace: "identity",
    });
    const selector = find(narrowed, "MutatingWebhookConfiguration").webhooks[0].namespaceSelector;
    assert.deepEqual(selector, {
      matchLabels: { "workload-identity": "enabled" },
      matchExpressions: [
        { key: NAMESPACE_NAME_LABEL, operator: "NotIn", values: ["kube-system", "kube-public", "identity"] },
        { key: "tier", operator: "NotIn", values: ["infra"] },
      ],
    });
  });

  test("any namespace the webhook is installed into is excluded, and every object lives there (property)", () => {
    const dnsLabel = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);
    fc.assert(
      fc.property(dnsLabel, (namespace) => {
        const { objects: placed } = webhookManifests({ azureTenantID: TENANT }, { namespace });
        const hook = find(placed, "MutatingWebhookConfiguration").webhooks[0];
        const excluded = hook.namespaceSelector.matchExpressions[0].values;
        assert.ok(excluded.includes(namespace) && excluded.includes("kube-system"));
        assert.equal(new Set(excluded).size, excluded.length, "no duplicates");
        assert.equal(hook.clientConfig.service.namespace, namespace);
        for (const object of placed) {
          const clusterScoped = ["ClusterRole", "ClusterRoleBinding", "MutatingWebhookConfiguration"];
          assert.equal(
            object.metadata.namespace,
            clusterScoped.includes(object.kind) ? undefined : namespace,
          );
        }
      }),
      { numRuns: 50 },
    );
  });
});

describe("RBAC: least privilege", () => {
  const rulesOf = (objects: readonly KubeObject[], kind: string): Any[] =>
    objects.filter((object) => object.kind === kind).flatMap((object) => object.rules as Any[]);

  test("no wildcards and no powerful verbs anywhere", () => {
    for (const { values, namespace } of Object.values(VALUE_SETS)) {
      const { objects } = webhookManifests(values, namespace ? { namespace } : {});
      for (const rule of [...rulesOf(objects, "Role"), ...rulesOf(objects, "ClusterRole")]) {
        for (const field of ["apiGroups", "resources", "verbs", "resourceNames"]) {
          assert.ok(!(rule[field] ?? []).includes("*"), `no * in ${field}`);
        }
        for (const verb of ["delete", "deletecollection", "escalate", "bind", "impersonate"]) {
          assert.ok(!rule.verbs.includes(verb), `no ${verb}`);
        }
        assert.ok(!(rule.nonResourceURLs ?? []).length);
      }
    }
  });

  test("secrets only in its namespace; everything but create limited to the certificate Secret by name", () => {
    const { objects } = webhookManifests({ azureTenantID: TENANT });
    assert.deepEqual(rulesOf(objects, "Role"), [
      { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
      {
        apiGroups: [""],
        resources: ["secrets"],
        resourceNames: [WIKIT_WEBHOOK_OBJECT_NAMES.certSecret],
        verbs: ["get", "list", "watch", "update", "patch"],
      },
    ]);
    assert.equal(find(objects, "Role").metadata.namespace, WIKIT_WEBHOOK_NAMESPACE);
    assert.ok(!rulesOf(objects, "ClusterRole").some((rule) => rule.resources.includes("secrets")));
  });

  test("cluster-wide: read service accounts; change only its own webhook configuration", () => {
    const { objects } = webhookManifests({ azureTenantID: TENANT });
    assert.deepEqual(rulesOf(objects, "ClusterRole"), [
      { apiGroups: [""], resources: ["serviceaccounts"], verbs: ["get", "list", "watch"] },
      {
        apiGroups: ["admissionregistration.k8s.io"],
        resources: ["mutatingwebhookconfigurations"],
        resourceNames: [WIKIT_WEBHOOK_OBJECT_NAMES.mutatingWebhookConfiguration],
        verbs: ["get", "list", "watch", "update", "patch"],
      },
    ]);
  });

  test("the bindings give the roles to the webhook's ServiceAccount in its namespace", () => {
    const { objects } = webhookManifests({ azureTenantID: TENANT }, { namespace: "identity" });
    const subject = {
      kind: "ServiceAccount",
      name: WIKIT_WEBHOOK_OBJECT_NAMES.serviceAccount,
      namespace: "identity",
    };
    const roleBinding = find(objects, "RoleBinding");
    const clusterRoleBinding = find(objects, "ClusterRoleBinding");
    assert.deepEqual(roleBinding.subjects, [subject]);
    assert.deepEqual(clusterRoleBinding.subjects, [subject]);
    assert.deepEqual(roleBinding.roleRef, {
      apiGroup: "rbac.authorization.k8s.io",
      kind: "Role",
      name: "wikit-webhook",
    });
    assert.deepEqual(clusterRoleBinding.roleRef, {
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: "wikit-webhook",
    });
    assert.equal(find(objects, "Deployment").spec.template.spec.serviceAccountName, subject.name);
  });

  test("with cert-manager the webhook needs neither Secrets nor the configuration", () => {
    const { objects } = webhookManifests({ azureTenantID: TENANT, certManager: { enabled: true } });
    assert.equal(
      objects.filter((object) => ["Role", "RoleBinding", "Secret"].includes(object.kind)).length,
      0,
    );
    assert.deepEqual(rulesOf(objects, "ClusterRole"), [
      { apiGroups: [""], resources: ["serviceaccounts"], verbs: ["get", "list", "watch"] },
    ]);
  });
});

/** The Pod Security Standards `restricted` profile (v1.25+), as far as a pod template can break it. */
function restrictedProfileViolations(podSpec: Any): string[] {
  const problems: string[] = [];
  const pod = podSpec.securityContext ?? {};
  if (podSpec.hostNetwork || podSpec.hostPID || podSpec.hostIPC) problems.push("host namespaces");
  const allowedVolumes = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
  ];
  for (const volume of podSpec.volumes ?? []) {
    const type = Object.keys(volume).find((key) => key !== "name");
    if (!type || !allowedVolumes.includes(type)) problems.push(`volume type ${type}`);
  }
  for (const container of [...(podSpec.initContainers ?? []), ...podSpec.containers]) {
    const context = container.securityContext ?? {};
    const name = container.name;
    if (context.privileged) problems.push(`${name}: privileged`);
    if (context.allowPrivilegeEscalation !== false) problems.push(`${name}: allowPrivilegeEscalation`);
    if ((context.runAsNonRoot ?? pod.runAsNonRoot) !== true) problems.push(`${name}: runAsNonRoot`);
    if ((context.runAsUser ?? pod.runAsUser) === 0) problems.push(`${name}: runAsUser 0`);
    const seccomp = (context.seccompProfile ?? pod.seccompProfile)?.type;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") problems.push(`${name}: seccomp`);
    if (!(context.capabilities?.drop ?? []).includes("ALL"))
      problems.push(`${name}: capabilities not dropped`);
    const added = (context.capabilities?.add ?? []).filter(
      (capability: string) => capability !== "NET_BIND_SERVICE",
    );
    if (added.length > 0) problems.push(`${name}: adds ${added}`);
    if ((container.ports ?? []).some((port: Any) => port.hostPort)) problems.push(`${name}: hostPort`);
  }
  return problems;
}

describe("Deployment: restricted pod security and availability", () => {
  for (const [name, { values, namespace }] of Object.entries(VALUE_SETS)) {
    test(`${name}: the pod meets the restricted profile with a read-only root file system`, () => {
      const deployment = find(webhookManifests(values, namespace ? { namespace } : {}).objects, "Deployment");
      const podSpec = deployment.spec.template.spec;
      assert.deepEqual(restrictedProfileViolations(podSpec), []);
      for (const container of podSpec.containers) {
        assert.equal(container.securityContext.readOnlyRootFilesystem, true);
        assert.deepEqual(container.securityContext.capabilities, { drop: ["ALL"] });
      }
      assert.equal(podSpec.securityContext.runAsNonRoot, true);
      assert.deepEqual(podSpec.securityContext.seccompProfile, { type: "RuntimeDefault" });
    });
  }

  test("the restricted-profile check catches a privileged pod", () => {
    const podSpec = structuredClone(
      find(webhookManifests({ azureTenantID: TENANT }).objects, "Deployment").spec.template.spec,
    );
    podSpec.containers[0].securityContext.allowPrivilegeEscalation = true;
    podSpec.hostNetwork = true;
    podSpec.volumes.push({ name: "host", hostPath: { path: "/" } });
    assert.equal(restrictedProfileViolations(podSpec).length, 3);
  });

  test("two replicas, a budget of one, cluster-critical priority, spread over nodes and zones", () => {
    const { objects } = webhookManifests({ azureTenantID: TENANT });
    const deployment = find(objects, "Deployment");
    const budget = find(objects, "PodDisruptionBudget");
    assert.equal(deployment.spec.replicas, 2);
    assert.equal(budget.spec.minAvailable, 1);
    assert.equal(budget.spec.maxUnavailable, undefined);
    const podLabels = deployment.spec.template.metadata.labels;
    const selects = (selector: Record<string, string>) =>
      Object.entries(selector).every(([key, value]) => podLabels[key] === value);
    assert.ok(selects(deployment.spec.selector.matchLabels));
    assert.ok(selects(budget.spec.selector.matchLabels), "the budget covers the webhook's pods");
    assert.ok(selects(find(objects, "Service").spec.selector), "the Service reaches them");
    const spec = deployment.spec.template.spec;
    assert.equal(spec.priorityClassName, "system-cluster-critical");
    assert.equal(spec.terminationGracePeriodSeconds, 35, "the 5 s shutdown delay, then 30 s to finish");
    assert.deepEqual(
      spec.topologySpreadConstraints.map((constraint: Any) => [
        constraint.topologyKey,
        constraint.whenUnsatisfiable,
      ]),
      [
        ["kubernetes.io/hostname", "ScheduleAnyway"],
        ["topology.kubernetes.io/zone", "ScheduleAnyway"],
      ],
    );
    for (const constraint of spec.topologySpreadConstraints)
      assert.ok(selects(constraint.labelSelector.matchLabels));
  });

  test("serve arguments, configuration from the ConfigMap, namespace from the downward API, probes per §14.6", () => {
    const { objects } = webhookManifests({ azureTenantID: TENANT });
    const container = find(objects, "Deployment").spec.template.spec.containers[0];
    assert.deepEqual(container.args, [
      "webhook",
      "serve",
      "--log-level=info",
      "--metrics-addr=:8095",
      "--metrics-backend=prometheus",
      "--shutdown-delay-seconds=5",
      "--webhook-cert-dir=/certs",
      "--cert-secret-name=wikit-webhook-server-cert",
      "--service-name=wikit-webhook",
      "--webhook-configuration-name=wikit-webhook",
    ]);
    assert.equal(container.image, "ghcr.io/wikit/wikit:0.1.0");
    assert.deepEqual(container.envFrom, [{ configMapRef: { name: WIKIT_WEBHOOK_OBJECT_NAMES.configMap } }]);
    assert.deepEqual(find(objects, "ConfigMap").data, {
      AZURE_ENVIRONMENT: "AzurePublicCloud",
      AZURE_TENANT_ID: TENANT,
    });
    assert.deepEqual(container.env, [
      {
        name: "POD_NAMESPACE",
        valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } },
      },
    ]);
    assert.deepEqual(container.livenessProbe, {
      httpGet: { path: "/healthz", port: "healthz" },
      initialDelaySeconds: 15,
      periodSeconds: 20,
      failureThreshold: 6,
    });
    assert.deepEqual(container.readinessProbe, {
      httpGet: { path: "/readyz", port: "healthz" },
      initialDelaySeconds: 5,
      periodSeconds: 5,
    });
    assert.deepEqual(
      container.ports.map((port: Any) => [port.name, port.containerPort]),
      [
        ["webhook-server", 9443],
        ["metrics", 8095],
        ["healthz", 9440],
      ],
    );
  });

  test("self-managed certificates: an empty Secret for the rotator and a writable in-memory /certs", () => {
    const { objects } = webhookManifests({ azureTenantID: TENANT });
    const secret = find(objects, "Secret");
    assert.equal(secret.metadata.name, WIKIT_WEBHOOK_OBJECT_NAMES.certSecret);
    assert.equal(secret.data, undefined);
    const spec = find(objects, "Deployment").spec.template.spec;
    assert.deepEqual(spec.volumes, [{ name: "cert", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } }]);
    assert.deepEqual(spec.containers[0].volumeMounts, [
      { name: "cert", mountPath: "/certs", readOnly: false },
    ]);
  });

  test("cert-manager: rotation off, its Secret mounted read-only, its CA injector named on the configuration", () => {
    const { objects } = webhookManifests(
      {
        azureTenantID: TENANT,
        certManager: { enabled: true, certificateName: "webhook-cert", secretName: "webhook-tls" },
      },
      { namespace: "identity" },
    );
    const spec = find(objects, "Deployment").spec.template.spec;
    assert.ok(spec.containers[0].args.includes("--disable-cert-rotation"));
    assert.ok(!spec.containers[0].args.some((arg: string) => arg.startsWith("--cert-secret-name")));
    assert.deepEqual(spec.volumes, [
      { name: "cert", secret: { secretName: "webhook-tls", defaultMode: 420 } },
    ]);
    assert.deepEqual(spec.containers[0].volumeMounts, [
      { name: "cert", mountPath: "/certs", readOnly: true },
    ]);
    assert.deepEqual(find(objects, "MutatingWebhookConfiguration").metadata.annotations, {
      [CERT_MANAGER_INJECT_CA_ANNOTATION]: "identity/webhook-cert",
    });
  });
});

describe("names, namespace and YAML", () => {
  test("default names are wikit's own, so it can run beside the upstream webhook", () => {
    const { objects } = webhookManifests({ azureTenantID: TENANT });
    const upstream = new Set(Object.values(UPSTREAM_WEBHOOK_OBJECT_NAMES));
    for (const object of objects) assert.ok(!upstream.has(object.metadata.name), object.metadata.name);
    assert.notEqual(find(objects, "MutatingWebhookConfiguration").webhooks[0].name, WEBHOOK_NAME);
  });

  test("upstream names replace azure-workload-identity's objects one for one", () => {
    const { objects } = webhookManifests(
      { azureTenantID: TENANT, names: UPSTREAM_WEBHOOK_OBJECT_NAMES },
      { namespace: "azure-workload-identity-system" },
    );
    const byKind = Object.fromEntries(objects.map((object) => [object.kind, object.metadata.name]));
    assert.deepEqual(byKind, {
      ServiceAccount: "azure-wi-webhook-admin",
      Role: "azure-wi-webhook-manager-role",
      ClusterRole: "azure-wi-webhook-manager-role",
      RoleBinding: "azure-wi-webhook-manager-rolebinding",
      ClusterRoleBinding: "azure-wi-webhook-manager-rolebinding",
      ConfigMap: "azure-wi-webhook-config",
      Secret: "azure-wi-webhook-server-cert",
      Service: WEBHOOK_SERVICE_NAME,
      Deployment: "azure-wi-webhook-controller-manager",
      PodDisruptionBudget: "azure-wi-webhook-controller-manager",
      MutatingWebhookConfiguration: MUTATING_WEBHOOK_CONFIGURATION_NAME,
    });
    assert.equal(find(objects, "MutatingWebhookConfiguration").webhooks[0].name, WEBHOOK_NAME);
  });

  test("the YAML holds the Namespace (Pod Security restricted) first, then exactly the objects", () => {
    const manifests = webhookManifests({ azureTenantID: TENANT });
    const documents = parseAllDocuments(manifests.yaml).map((document) => {
      assert.deepEqual(document.errors, []);
      return document.toJSON();
    });
    assert.deepEqual(documents, [manifests.namespaceObject, ...manifests.objects]);
    const labels = manifests.namespaceObject.metadata.labels ?? {};
    for (const mode of ["enforce", "audit", "warn"]) {
      assert.equal(labels[`pod-security.kubernetes.io/${mode}`], "restricted");
      assert.equal(labels[`pod-security.kubernetes.io/${mode}-version`], "latest");
    }
    assert.ok(
      !manifests.objects.some((object) => object.kind === "Namespace"),
      "Helm's -n owns the namespace",
    );
  });

  test("without a tenant there are no manifests, with upstream's message", () => {
    assert.throws(() => webhookManifests({}), new WebhookValuesError(TENANT_ID_REQUIRED_MESSAGE));
    assert.throws(() => webhookManifests({ azureTenantID: "" }), /azureTenantID/);
  });
});

describe("mergeValues (Helm's coalescing)", () => {
  test("maps merge, lists and scalars replace, null removes a default", () => {
    const merged = mergeValues(DEFAULT_WEBHOOK_VALUES, {
      image: { tag: "1.2.3" },
      excludedNamespaces: ["other"],
      nodeSelector: null,
      podDisruptionBudget: { minAvailable: null, maxUnavailable: 1 },
    });
    assert.deepEqual(merged.image, { ...DEFAULT_WEBHOOK_VALUES.image, tag: "1.2.3" });
    assert.deepEqual(merged.excludedNamespaces, ["other"]);
    assert.equal("nodeSelector" in merged, false);
    assert.deepEqual(merged.podDisruptionBudget, { maxUnavailable: 1 });
    assert.deepEqual(DEFAULT_WEBHOOK_VALUES.image.tag, "", "defaults are not modified");
  });
});
