// wikit's emulation step (model B of clients.md §1): the host mapping, the CA bundle volume, its mount and the
// CA variables for Node, Python and Go — added without overwriting what the pod says, idempotent, and only
// with add/replace operations. Properties over random pods are in mutation.test.ts ("properties").

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  EMULATION_CA_FILE,
  EMULATION_CA_MOUNT_PATH,
  EMULATION_CA_VOLUME_NAME,
  INJECT_PROXY_SIDECAR_ANNOTATION,
  SKIP_CONTAINERS_ANNOTATION,
} from "../../../src/cluster/webhook/constants.ts";
import { EMULATION_CA_ENV, type EmulationConfig } from "../../../src/cluster/webhook/emulation.ts";
import { type MutationConfig, mutatePod } from "../../../src/cluster/webhook/mutation.ts";
import type { JsonPatchOperation } from "../../../src/cluster/webhook/pod-editor.ts";
import type { JsonObject } from "../../../src/json/json-value.ts";
import { applyJsonPatch } from "./json-patch.ts";

const EMULATION: EmulationConfig = {
  address: "10.96.0.50",
  hostNames: ["login.microsoftonline.com", "myvault.vault.azure.net"],
  caConfigMap: "wikit-ca-bundle",
};
const CONFIG: MutationConfig = {
  tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
  authorityHost: "https://login.microsoftonline.com/",
  emulation: EMULATION,
};
const SA = { metadata: { name: "workload-sa", annotations: { "azure.workload.identity/client-id": "c" } } };
const CA_ENV = EMULATION_CA_ENV.map((name) => ({ name, value: EMULATION_CA_FILE }));
const CA_MOUNT = { name: EMULATION_CA_VOLUME_NAME, readOnly: true, mountPath: EMULATION_CA_MOUNT_PATH };
const CA_VOLUME = {
  name: EMULATION_CA_VOLUME_NAME,
  configMap: { name: "wikit-ca-bundle", items: [{ key: "ca.crt", path: "ca.crt" }], defaultMode: 420 },
};

type Container = { name: string; env?: { name: string; value?: string }[]; volumeMounts?: JsonObject[] };
type Pod = {
  metadata: JsonObject;
  spec: {
    containers: Container[];
    initContainers?: Container[];
    volumes?: JsonObject[];
    hostAliases?: { ip: string; hostnames?: string[] }[];
  };
};

function pod(spec: JsonObject = {}, annotations?: Record<string, string>): JsonObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "app", namespace: "default", ...(annotations ? { annotations } : {}) },
    spec: { serviceAccountName: "workload-sa", containers: [{ name: "app", image: "node:24" }], ...spec },
  };
}

function run(received: JsonObject, config: MutationConfig = CONFIG) {
  const outcome = mutatePod({ pod: received, serviceAccount: SA, namespace: "default", config });
  if (!outcome.allowed) return assert.fail(outcome.message);
  assert.deepStrictEqual(
    applyJsonPatch(received, outcome.patch),
    outcome.pod,
    "the patch replays to the pod",
  );
  return { pod: outcome.pod as unknown as Pod, patch: outcome.patch as JsonPatchOperation[] };
}

function envOf(container: Container | undefined, name: string) {
  return container?.env?.find((entry) => entry.name === name);
}

describe("host mapping", () => {
  test("a pod without hostAliases gets one entry mapping every host name to wikit's address", () => {
    assert.deepEqual(run(pod()).pod.spec.hostAliases, [
      { ip: "10.96.0.50", hostnames: ["login.microsoftonline.com", "myvault.vault.azure.net"] },
    ]);
  });

  test("the pod's entry for the same address is extended with the missing names, not duplicated", () => {
    const received = pod({
      hostAliases: [
        { ip: "10.1.1.1", hostnames: ["db.internal"] },
        { ip: "10.96.0.50", hostnames: ["myvault.vault.azure.net", "extra.example"] },
      ],
    });
    const { pod: mutated, patch } = run(received);
    assert.deepEqual(mutated.spec.hostAliases, [
      { ip: "10.1.1.1", hostnames: ["db.internal"] },
      {
        ip: "10.96.0.50",
        hostnames: ["myvault.vault.azure.net", "extra.example", "login.microsoftonline.com"],
      },
    ]);
    assert.deepEqual(
      patch.filter((op) => op.path.startsWith("/spec/hostAliases")),
      [{ op: "add", path: "/spec/hostAliases/1/hostnames/-", value: "login.microsoftonline.com" }],
    );
  });

  test("an entry for the address without hostnames gets the hostnames array created", () => {
    const { pod: mutated } = run(pod({ hostAliases: [{ ip: "10.96.0.50" }] }));
    assert.deepEqual(mutated.spec.hostAliases, [
      { ip: "10.96.0.50", hostnames: ["login.microsoftonline.com", "myvault.vault.azure.net"] },
    ]);
  });

  test("a name the pod maps to another address is left as the pod has it", () => {
    const { pod: mutated } = run(
      pod({ hostAliases: [{ ip: "192.0.2.7", hostnames: ["LOGIN.microsoftonline.com"] }] }),
    );
    assert.deepEqual(mutated.spec.hostAliases, [
      { ip: "192.0.2.7", hostnames: ["LOGIN.microsoftonline.com"] },
      { ip: "10.96.0.50", hostnames: ["myvault.vault.azure.net"] },
    ]);
  });

  test("when every name is mapped already, hostAliases is untouched", () => {
    const aliases = [
      { ip: "10.96.0.50", hostnames: ["myvault.vault.azure.net", "login.microsoftonline.com"] },
    ];
    const { patch } = run(pod({ hostAliases: aliases }));
    assert.equal(
      patch.some((op) => op.path.startsWith("/spec/hostAliases")),
      false,
    );
  });

  test("the mapping is pod-wide, so it is added even when every container is skipped", () => {
    const { pod: mutated } = run(pod({}, { [SKIP_CONTAINERS_ANNOTATION]: "app" }));
    assert.equal(mutated.spec.hostAliases?.length, 1);
    assert.equal(envOf(mutated.spec.containers[0], "NODE_EXTRA_CA_CERTS"), undefined);
  });

  test("hostAliases of the wrong JSON type deny the pod, naming the field, instead of being overwritten", () => {
    for (const hostAliases of ["10.0.0.1 login", [{ ip: 10 }], [{ ip: "1.2.3.4", hostnames: "a" }]]) {
      const outcome = mutatePod({
        pod: pod({ hostAliases }),
        serviceAccount: SA,
        namespace: "default",
        config: CONFIG,
      });
      assert.equal(outcome.allowed, false);
      if (!outcome.allowed) assert.match(outcome.message, /^cannot decode the pod: spec\.hostAliases/);
    }
  });
});

describe("CA bundle", () => {
  test("every container and init container gets the read-only mount and the three CA variables after the identity ones", () => {
    const { pod: mutated } = run(pod({ initContainers: [{ name: "migrate", image: "python:3" }] }));
    for (const container of [...(mutated.spec.initContainers ?? []), ...mutated.spec.containers]) {
      assert.deepEqual(container.volumeMounts?.at(-1), CA_MOUNT);
      assert.deepEqual(container.env?.slice(-3), CA_ENV);
      assert.equal(container.env?.[0]?.name, "AZURE_CLIENT_ID");
    }
  });

  test("the ConfigMap volume is added once, with the API server's default mode so that re-invocation is empty", () => {
    const { pod: mutated } = run(pod());
    assert.deepEqual(mutated.spec.volumes?.at(-1), CA_VOLUME);
  });

  test("variables the container sets itself are kept, valueFrom included; the others are added", () => {
    const own: JsonObject[] = [
      { name: "NODE_EXTRA_CA_CERTS", value: "/etc/my-ca.pem" },
      { name: "SSL_CERT_FILE", valueFrom: { configMapKeyRef: { name: "x", key: "y" } } },
    ];
    const { pod: mutated } = run(pod({ containers: [{ name: "app", image: "i", env: own }] }));
    const [app] = mutated.spec.containers;
    assert.deepEqual(envOf(app, "NODE_EXTRA_CA_CERTS"), own[0]);
    assert.deepEqual(envOf(app, "SSL_CERT_FILE"), own[1]);
    assert.deepEqual(envOf(app, "REQUESTS_CA_BUNDLE"), {
      name: "REQUESTS_CA_BUNDLE",
      value: EMULATION_CA_FILE,
    });
  });

  test("skipped containers get neither the mount nor the variables", () => {
    const { pod: mutated } = run(
      pod(
        {
          containers: [
            { name: "app", image: "i" },
            { name: "istio-proxy", image: "j" },
          ],
        },
        {
          [SKIP_CONTAINERS_ANNOTATION]: "istio-proxy",
        },
      ),
    );
    const [app, sidecar] = mutated.spec.containers;
    assert.deepEqual(app?.volumeMounts?.at(-1), CA_MOUNT);
    assert.equal(sidecar?.volumeMounts, undefined);
    assert.equal(sidecar?.env, undefined);
  });

  test("the injected proxy sidecar trusts the bundle too", () => {
    const { pod: mutated } = run(pod({}, { [INJECT_PROXY_SIDECAR_ANNOTATION]: "true" }));
    const proxy = mutated.spec.containers.find((c) => c.name === "azwi-proxy");
    assert.deepEqual(envOf(proxy, "SSL_CERT_FILE"), { name: "SSL_CERT_FILE", value: EMULATION_CA_FILE });
  });

  test("a volume or mount already using the reserved name is replaced in place", () => {
    const received = pod({
      containers: [
        {
          name: "app",
          image: "i",
          volumeMounts: [{ name: EMULATION_CA_VOLUME_NAME, mountPath: "/elsewhere" }],
        },
      ],
      volumes: [
        { name: EMULATION_CA_VOLUME_NAME, emptyDir: {} },
        { name: "data", emptyDir: {} },
      ],
    });
    const { pod: mutated, patch } = run(received);
    assert.deepEqual(mutated.spec.volumes?.[0], CA_VOLUME);
    assert.deepEqual(mutated.spec.containers[0]?.volumeMounts, [
      CA_MOUNT,
      mutated.spec.containers[0]?.volumeMounts?.[1],
    ]);
    assert.ok(patch.some((op) => op.op === "replace" && op.path === "/spec/volumes/0"));
  });
});

describe("re-invocation and scope", () => {
  test("mutating the output again yields an empty patch", () => {
    const first = run(pod({ initContainers: [{ name: "migrate", image: "i" }] }));
    assert.deepEqual(run(first.pod as unknown as JsonObject).patch, []);
  });

  test("only add and replace operations are produced", () => {
    const received = pod({
      hostAliases: [{ ip: "10.96.0.50", hostnames: ["x.example"] }],
      volumes: [{ name: EMULATION_CA_VOLUME_NAME, emptyDir: {} }],
    });
    for (const op of run(received).patch) assert.ok(op.op === "add" || op.op === "replace", op.op);
  });

  test("without emulation configured, nothing of it is added", () => {
    const { emulation: _off, ...plain } = CONFIG;
    const { pod: mutated } = run(pod(), plain);
    assert.equal(mutated.spec.hostAliases, undefined);
    assert.equal(envOf(mutated.spec.containers[0], "NODE_EXTRA_CA_CERTS"), undefined);
    assert.equal(
      mutated.spec.volumes?.some((v) => v.name === EMULATION_CA_VOLUME_NAME),
      false,
    );
  });

  test("AZURE_AUTHORITY_HOST stays Microsoft's: in model B the pod reaches wikit under that name", () => {
    const { pod: mutated } = run(pod());
    assert.deepEqual(envOf(mutated.spec.containers[0], "AZURE_AUTHORITY_HOST"), {
      name: "AZURE_AUTHORITY_HOST",
      value: "https://login.microsoftonline.com/",
    });
  });
});
