// The webhook's pure mutation core against webhook.md §3–§15: every rule and error text as a table test,
// the real AdmissionReview fixture, and fast-check properties for the patch and re-invocation guarantees.
// Mutations are judged by the patched object (the patch applied to the received pod), not by op lists,
// except where the shape of the patch itself is the rule.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  authorityHostForCloud,
  CLIENT_ID_ANNOTATION,
  EMULATION_CA_FILE,
  EMULATION_CA_MOUNT_PATH,
  EMULATION_CA_VOLUME_NAME,
  findAzureCloud,
  INJECT_PROXY_SIDECAR_ANNOTATION,
  PROXY_SIDECAR_PORT_ANNOTATION,
  SKIP_CONTAINERS_ANNOTATION,
  TENANT_ID_ANNOTATION,
  TOKEN_EXPIRATION_ANNOTATION,
  USE_LABEL,
  unknownCloudMessage,
} from "../../../src/cluster/webhook/constants.ts";
import type { CustomTokenEndpointConfig } from "../../../src/cluster/webhook/custom-token-endpoint.ts";
import type { EmulationConfig } from "../../../src/cluster/webhook/emulation.ts";
import {
  type MutationConfig,
  type MutationOutcome,
  mutatePod,
  podPatch,
} from "../../../src/cluster/webhook/mutation.ts";
import { type JsonPatchOperation, jsonPointer } from "../../../src/cluster/webhook/pod-editor.ts";
import {
  federatedTokenFile,
  podIdentityString,
  proxySidecarPort,
  reservedVolumeName,
  type ServiceAccountLike,
  serviceAccountName,
  tokenExpirationSeconds,
  tokenMountPath,
} from "../../../src/cluster/webhook/pod-facts.ts";
import { supportsNativeSidecars } from "../../../src/cluster/webhook/proxy-sidecar.ts";
import type { JsonObject, JsonValue } from "../../../src/json/json-value.ts";
import { ADMISSION_REVIEW_TEXT } from "../../fixtures/kubernetes.ts";
import { applyJsonPatch } from "./json-patch.ts";

// ---- Shapes used to read mutated pods ---------------------------------------------------------------------

type EnvEntry = { name: string; value?: string; valueFrom?: JsonValue };
type Mount = { name: string; mountPath: string; readOnly?: boolean };
type Container = { name: string; env?: EnvEntry[] | null; volumeMounts?: Mount[]; [field: string]: unknown };
type Volume = {
  name: string;
  projected?: { sources: JsonObject[]; defaultMode?: number };
  [field: string]: unknown;
};
type Pod = {
  metadata: {
    name?: string;
    generateName?: string;
    annotations?: Record<string, string>;
    [field: string]: unknown;
  };
  spec: {
    containers: Container[];
    initContainers?: Container[];
    volumes?: Volume[];
    [field: string]: unknown;
  };
  [field: string]: unknown;
};

// ---- Fixed facts from webhook.md ------------------------------------------------------------------------

const NGINX_VOLUME = "azure-workload-identity-reserved-5be1ecc7935f1dd85635d4feedaf66";
const NGINX_MOUNT_PATH = "/var/run/secrets/azure/wi/5be1ecc7935f1dd85635d4feedaf66";
const NGINX_TOKEN_FILE = `${NGINX_MOUNT_PATH}/token/azure-identity-token`;
const PUBLIC_AUTHORITY = "https://login.microsoftonline.com/";
const CLIENT_ID = "8a0e4b52-31c1-4f4b-9b5e-4c6a4a7f1d20";
const WEBHOOK_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const SA_TENANT = "0b1c9f3e-5a6d-4f1e-8c2b-9d7e6f5a4b3c";

const CONFIG: MutationConfig = { tenantId: WEBHOOK_TENANT, authorityHost: PUBLIC_AUTHORITY };
const CUSTOM_ENDPOINT: CustomTokenEndpointConfig = {
  annotationSuffix: "identity-binding",
  audience: "api://AKSIdentityBinding",
  tokenProxy: "https://10.0.0.1:443",
  sniName: "identity-binding.example",
  caConfigMapName: "identity-binding-ca",
};
const CUSTOM_OPT_IN = "azure.workload.identity/use-identity-binding";

const NGINX_MOUNT: Mount = { name: NGINX_VOLUME, readOnly: true, mountPath: NGINX_MOUNT_PATH };

function identityEnv(options: { clientId?: string; tenantId?: string } = {}): EnvEntry[] {
  return [
    { name: "AZURE_CLIENT_ID", value: options.clientId ?? CLIENT_ID },
    { name: "AZURE_TENANT_ID", value: options.tenantId ?? WEBHOOK_TENANT },
    { name: "AZURE_FEDERATED_TOKEN_FILE", value: NGINX_TOKEN_FILE },
    { name: "AZURE_AUTHORITY_HOST", value: PUBLIC_AUTHORITY },
  ];
}

function tokenVolume(
  name: string,
  expirationSeconds = 3600,
  audience = "api://AzureADTokenExchange",
): { name: string; projected: { sources: JsonObject[] } } {
  return {
    name,
    projected: {
      sources: [{ serviceAccountToken: { path: "token/azure-identity-token", expirationSeconds, audience } }],
    },
  };
}

// ---- Builders and runners -------------------------------------------------------------------------------

function serviceAccount(
  annotations: Record<string, string> = { [CLIENT_ID_ANNOTATION]: CLIENT_ID },
): ServiceAccountLike {
  return { metadata: { name: "workload-sa", annotations } };
}

/** A labelled pod named `nginx` with one container and nothing else, as a test would write it. */
function nginxPod(
  options: { annotations?: Record<string, string>; spec?: JsonObject; containers?: JsonValue[] } = {},
): JsonObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "nginx",
      namespace: "default",
      labels: { [USE_LABEL]: "true" },
      ...(options.annotations ? { annotations: options.annotations } : {}),
    },
    spec: {
      serviceAccountName: "workload-sa",
      containers: options.containers ?? [{ name: "nginx", image: "nginx:1.27" }],
      ...options.spec,
    },
  };
}

type RunOptions = { sa?: ServiceAccountLike | undefined; config?: Partial<MutationConfig> };

function run(pod: unknown, options: RunOptions = {}): MutationOutcome {
  const sa = "sa" in options ? options.sa : serviceAccount();
  return mutatePod({
    pod,
    serviceAccount: sa,
    namespace: "default",
    config: { ...CONFIG, ...options.config },
  });
}

/** Mutates, checks the patch replays onto the received pod, and returns the patched pod. */
function mutated(pod: JsonObject, options: RunOptions = {}): Pod {
  const outcome = run(pod, options);
  if (!outcome.allowed) return assert.fail(`expected the pod to be allowed, got: ${outcome.message}`);
  const patched = applyJsonPatch(pod, outcome.patch);
  assert.deepStrictEqual(patched, outcome.pod);
  return patched as unknown as Pod;
}

function patchOf(pod: JsonObject, options: RunOptions = {}): JsonPatchOperation[] {
  const outcome = run(pod, options);
  if (!outcome.allowed) return assert.fail(`expected the pod to be allowed, got: ${outcome.message}`);
  return outcome.patch;
}

function denial(pod: unknown, options: RunOptions = {}): { code: number; message: string } {
  const outcome = run(pod, options);
  if (outcome.allowed) return assert.fail("expected the pod to be denied");
  return { code: outcome.code, message: outcome.message };
}

function container(pod: Pod, name: string): Container {
  const found = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find((c) => c.name === name);
  return found ?? assert.fail(`no container named ${name}`);
}

function envNames(c: Container): string[] {
  return (c.env ?? []).map((entry) => entry.name);
}

function opSummary(patch: JsonPatchOperation[]): string[] {
  return patch.map((operation) => `${operation.op} ${operation.path}`);
}

// ---- Naming -----------------------------------------------------------------------------------------------

describe("pod identity and reserved names", () => {
  const workedExamples = [
    ["injected", "c6c331958744bb3f00902fd3e50704"],
    ["nginx", "5be1ecc7935f1dd85635d4feedaf66"],
    ["api-6b7c9d8f5- (prefix)", "00259b856dfe691ded18e7138dbca2"],
    ["api-6b7c9d8f5-q7w2e", "bc9f39b26d9c1be263271b54bc77e9"],
  ] as const;
  for (const [identity, hash] of workedExamples) {
    test(`identity "${identity}" gives the volume name and v1.6.1 mount path of webhook.md §6.1`, () => {
      assert.equal(reservedVolumeName(identity), `azure-workload-identity-reserved-${hash}`);
      assert.equal(tokenMountPath(identity), `/var/run/secrets/azure/wi/${hash}`);
      assert.equal(
        federatedTokenFile(identity),
        `/var/run/secrets/azure/wi/${hash}/token/azure-identity-token`,
      );
    });
  }

  test("the reserved volume name fills a DNS label exactly (63 characters)", () => {
    for (const [identity] of workedExamples) assert.equal(reservedVolumeName(identity).length, 63);
  });

  test("identity string is metadata.name, else generateName followed by ' (prefix)'", () => {
    const cases: [unknown, string][] = [
      [{ metadata: { name: "nginx", generateName: "ignored-" } }, "nginx"],
      [{ metadata: { generateName: "api-6b7c9d8f5-" } }, "api-6b7c9d8f5- (prefix)"],
      [{ metadata: { name: "", generateName: "api-6b7c9d8f5-" } }, "api-6b7c9d8f5- (prefix)"],
      [{ metadata: {} }, " (prefix)"],
      [{}, " (prefix)"],
    ];
    for (const [pod, expected] of cases) assert.equal(podIdentityString(pod), expected);
  });

  test("a generateName pod is mutated under its '<generateName> (prefix)' identity", () => {
    const pod = nginxPod();
    (pod.metadata as JsonObject) = { generateName: "api-6b7c9d8f5-" };
    const patched = mutated(pod);
    assert.deepEqual(
      patched.spec.volumes?.map((v) => v.name),
      ["azure-workload-identity-reserved-00259b856dfe691ded18e7138dbca2"],
    );
  });

  test("the ServiceAccount name is spec.serviceAccountName, else 'default'; spec.serviceAccount is never read", () => {
    assert.equal(serviceAccountName({ spec: { serviceAccountName: "workload-sa" } }), "workload-sa");
    assert.equal(serviceAccountName({ spec: { serviceAccountName: "" } }), "default");
    assert.equal(serviceAccountName({ spec: { serviceAccount: "deprecated" } }), "default");
    assert.equal(serviceAccountName({}), "default");
  });
});

describe("cloud table", () => {
  test("cloud names resolve case-insensitively to the authority host with its trailing slash", () => {
    const cases: [string, string][] = [
      ["AzurePublicCloud", "https://login.microsoftonline.com/"],
      ["azurepubliccloud", "https://login.microsoftonline.com/"],
      ["", "https://login.microsoftonline.com/"],
      ["AzureCloud", "https://login.microsoftonline.com/"],
      ["AZUREUSGOVERNMENTCLOUD", "https://login.microsoftonline.us/"],
      ["AzureUSGovernment", "https://login.microsoftonline.us/"],
      ["AzureChinaCloud", "https://login.chinacloudapi.cn/"],
      ["AzureGermanCloud", "https://login.microsoftonline.de/"],
    ];
    for (const [name, host] of cases) assert.equal(authorityHostForCloud(name), host, name);
    assert.equal(
      findAzureCloud("azurechinacloud")?.graphEndpoint,
      "https://microsoftgraph.chinacloudapi.cn/",
    );
  });

  test("an unknown cloud name resolves to undefined and has the upstream start-up error text", () => {
    assert.equal(authorityHostForCloud("AzureMarsCloud"), undefined);
    assert.equal(authorityHostForCloud("AzureStackCloud"), undefined);
    assert.equal(
      unknownCloudMessage("AzureMarsCloud"),
      'failed to get AAD endpoint: autorest/azure: There is no cloud environment matching the name "AZUREMARSCLOUD"',
    );
  });
});

// ---- Handler order and denials ----------------------------------------------------------------------------

describe("handler order and denials", () => {
  test("an object that is not a JSON object is denied 400 with couldn't get version/kind", () => {
    for (const garbage of [null, undefined, "garbage", 42, [], true]) {
      const { code, message } = denial(garbage);
      assert.equal(code, 400);
      assert.match(message, /couldn't get version\/kind/);
    }
  });

  test("a field the mutation reads with the wrong JSON type is denied 400 naming the field", () => {
    const cases: [JsonObject, string][] = [
      [nginxPod({ spec: { containers: "nginx" } }), "spec.containers must be an array, got string"],
      [
        nginxPod({ containers: [{ name: "nginx", env: { A: "1" } }] }),
        "spec.containers[0].env must be an array",
      ],
      [
        nginxPod({ containers: [{ name: "nginx", volumeMounts: [42] }] }),
        "spec.containers[0].volumeMounts[0]",
      ],
      [
        nginxPod({
          annotations: { [TOKEN_EXPIRATION_ANNOTATION]: 7200 } as unknown as Record<string, string>,
        }),
        "metadata.annotations",
      ],
      [nginxPod({ spec: { hostNetwork: "true" } }), "spec.hostNetwork must be a boolean"],
      [nginxPod({ spec: { volumes: [{ name: 3 }] } }), "spec.volumes[0].name must be a string"],
    ];
    for (const [pod, fragment] of cases) {
      const { code, message } = denial(pod);
      assert.equal(code, 400);
      assert.ok(message.includes(fragment), `"${message}" should contain "${fragment}"`);
    }
  });

  test("null fields decode as unset, like Go's JSON decoder", () => {
    const pod = nginxPod({
      containers: [{ name: "nginx", env: null, volumeMounts: null }],
      spec: { volumes: null },
    });
    const patched = mutated(pod);
    assert.deepEqual(container(patched, "nginx").env, identityEnv());
    assert.deepEqual(container(patched, "nginx").volumeMounts, [NGINX_MOUNT]);
    assert.deepEqual(patched.spec.volumes, [tokenVolume(NGINX_VOLUME)]);
  });

  test("a missing ServiceAccount is denied 400 with the API server's not-found text", () => {
    assert.deepEqual(denial(nginxPod(), { sa: undefined }), {
      code: 400,
      message: 'serviceaccounts "workload-sa" not found',
    });
    assert.deepEqual(denial(nginxPod({ spec: { serviceAccountName: "" } }), { sa: undefined }), {
      code: 400,
      message: 'serviceaccounts "default" not found',
    });
  });

  test("decoding is checked before the ServiceAccount", () => {
    assert.match(denial("garbage", { sa: undefined }).message, /couldn't get version\/kind/);
  });

  test("the ServiceAccount is checked before the proxy sidecar", () => {
    const pod = nginxPod({
      annotations: { [INJECT_PROXY_SIDECAR_ANNOTATION]: "" },
      spec: { hostNetwork: true },
    });
    assert.equal(denial(pod, { sa: undefined }).message, 'serviceaccounts "workload-sa" not found');
  });

  test("hostNetwork denial comes before proxy port parsing and token expiration", () => {
    const pod = nginxPod({
      annotations: {
        [INJECT_PROXY_SIDECAR_ANNOTATION]: "true",
        [PROXY_SIDECAR_PORT_ANNOTATION]: "http",
        [TOKEN_EXPIRATION_ANNOTATION]: "1",
      },
      spec: { hostNetwork: true },
    });
    assert.deepEqual(denial(pod), {
      code: 400,
      message: "hostNetwork is set to true, cannot inject proxy sidecar",
    });
  });

  test("a bad proxy port is reported before a bad token expiration", () => {
    const pod = nginxPod({
      annotations: {
        [INJECT_PROXY_SIDECAR_ANNOTATION]: "true",
        [PROXY_SIDECAR_PORT_ANNOTATION]: "http",
        [TOKEN_EXPIRATION_ANNOTATION]: "1",
      },
    });
    assert.equal(
      denial(pod).message,
      'failed to parse proxy sidecar port: strconv.ParseInt: parsing "http": invalid syntax',
    );
  });

  test("a bad token expiration denies the pod with code 400", () => {
    const pod = nginxPod({ annotations: { [TOKEN_EXPIRATION_ANNOTATION]: "3600s" } });
    assert.deepEqual(denial(pod), {
      code: 400,
      message: 'strconv.ParseInt: parsing "3600s": invalid syntax',
    });
    const short = nginxPod({ annotations: { [TOKEN_EXPIRATION_ANNOTATION]: "600" } });
    assert.deepEqual(denial(short), {
      code: 400,
      message: "token expiration 600 not valid. Expected value to be between 3600 and 86400",
    });
  });

  test("the handler checks no label: an unlabelled pod is mutated too", () => {
    const pod = nginxPod();
    (pod.metadata as JsonObject).labels = {};
    assert.deepEqual(container(mutated(pod), "nginx").env, identityEnv());
  });

  test("client-id, tenant-id and use as pod annotations are ignored", () => {
    const pod = nginxPod({
      annotations: {
        [CLIENT_ID_ANNOTATION]: "pod-client",
        [TENANT_ID_ANNOTATION]: "pod-tenant",
        [USE_LABEL]: "true",
      },
    });
    assert.deepEqual(container(mutated(pod), "nginx").env, identityEnv());
  });

  test("the namespace comes from the request: a pod without metadata.namespace is mutated and its metadata untouched", () => {
    const pod = nginxPod();
    delete (pod.metadata as JsonObject).namespace;
    const patch = patchOf(pod);
    assert.ok(patch.every((operation) => !operation.path.startsWith("/metadata")));
  });
});

// ---- Token expiration -----------------------------------------------------------------------------------

describe("token expiration", () => {
  const syntax = (value: string) => `strconv.ParseInt: parsing ${value}: invalid syntax`;
  const range = (value: string) => `strconv.ParseInt: parsing ${value}: value out of range`;
  const notValid = (n: string) =>
    `token expiration ${n} not valid. Expected value to be between 3600 and 86400`;
  // [pod annotation, ServiceAccount annotation, expected seconds or error text]
  const cases: [string | undefined, string | undefined, number | string][] = [
    [undefined, undefined, 3600],
    ["7200", undefined, 7200],
    [undefined, "5400", 5400],
    ["7200", "5400", 7200],
    ["", "5400", 5400],
    ["", "", 3600],
    ["3600", "garbage", 3600],
    ["+3600", undefined, 3600],
    ["0086400", undefined, 86400],
    ["3600", undefined, 3600],
    ["86400", undefined, 86400],
    ["3600s", undefined, syntax('"3600s"')],
    [undefined, "1h", syntax('"1h"')],
    [" 3600", undefined, syntax('" 3600"')],
    ["3600 ", undefined, syntax('"3600 "')],
    ["1e4", undefined, syntax('"1e4"')],
    ["36_00", undefined, syntax('"36_00"')],
    ["0x1000", undefined, syntax('"0x1000"')],
    ["+", undefined, syntax('"+"')],
    ["-", undefined, syntax('"-"')],
    ["+-3600", undefined, syntax('"+-3600"')],
    ["３６００", undefined, syntax('"３６００"')],
    ["\n", undefined, syntax('"\\n"')],
    ['36"00', undefined, syntax('"36\\"00"')],
    ["36\\00", undefined, syntax('"36\\\\00"')],
    ["\x01", undefined, syntax('"\\x01"')],
    ["\u00a0", undefined, syntax('"\\u00a0"')],
    ["é", undefined, syntax('"é"')],
    ["3599", undefined, notValid("3599")],
    ["86401", undefined, notValid("86401")],
    ["0", undefined, notValid("0")],
    ["-0", undefined, notValid("0")],
    ["-3600", undefined, notValid("-3600")],
    ["9223372036854775807", undefined, notValid("9223372036854775807")],
    ["-9223372036854775808", undefined, notValid("-9223372036854775808")],
    ["9223372036854775808", undefined, range('"9223372036854775808"')],
    ["-9223372036854775809", undefined, range('"-9223372036854775809"')],
    ["99999999999999999999x", undefined, range('"99999999999999999999x"')],
  ];
  for (const [onPod, onServiceAccount, expected] of cases) {
    test(`pod ${JSON.stringify(onPod)}, ServiceAccount ${JSON.stringify(onServiceAccount)} → ${JSON.stringify(expected)}`, () => {
      const pod =
        onPod === undefined ? {} : { metadata: { annotations: { [TOKEN_EXPIRATION_ANNOTATION]: onPod } } };
      const sa =
        onServiceAccount === undefined
          ? {}
          : serviceAccount({ [TOKEN_EXPIRATION_ANNOTATION]: onServiceAccount });
      const result = tokenExpirationSeconds(pod, sa);
      assert.deepEqual(
        result,
        typeof expected === "number" ? { ok: true, value: expected } : { ok: false, error: expected },
      );
    });
  }

  test("every integer in [3600, 86400], with sign and leading zeros, is accepted; others are rejected with the range text", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -200_000, max: 200_000 }),
        fc.constantFrom("", "+", "0", "00"),
        (n, prefix) => {
          const written = n < 0 || prefix === "" ? String(n) : `${prefix}${n}`;
          const result = tokenExpirationSeconds(
            { metadata: { annotations: { [TOKEN_EXPIRATION_ANNOTATION]: written } } },
            {},
          );
          const inRange = n >= 3600 && n <= 86400;
          assert.deepEqual(
            result,
            inRange ? { ok: true, value: n } : { ok: false, error: notValid(String(n)) },
          );
        },
      ),
    );
  });

  test("the projected token carries the resolved expiration", () => {
    const pod = nginxPod({ annotations: { [TOKEN_EXPIRATION_ANNOTATION]: "" } });
    const sa = serviceAccount({ [CLIENT_ID_ANNOTATION]: CLIENT_ID, [TOKEN_EXPIRATION_ANNOTATION]: "43200" });
    assert.deepEqual(mutated(pod, { sa }).spec.volumes, [tokenVolume(NGINX_VOLUME, 43200)]);
  });
});

// ---- Environment variables --------------------------------------------------------------------------------

describe("environment variables", () => {
  test("the four identity variables are appended after existing entries, in order", () => {
    const pod = nginxPod({ containers: [{ name: "nginx", env: [{ name: "EXISTING", value: "1" }] }] });
    assert.deepEqual(container(mutated(pod), "nginx").env, [
      { name: "EXISTING", value: "1" },
      ...identityEnv(),
    ]);
  });

  test("an existing variable of the same name is never overwritten, valueFrom entries included", () => {
    const preset: EnvEntry[] = [
      { name: "AZURE_AUTHORITY_HOST", value: "https://sts.wikit.test/" },
      { name: "AZURE_CLIENT_ID", valueFrom: { secretKeyRef: { name: "id", key: "client" } } },
    ];
    const pod = nginxPod({ containers: [{ name: "nginx", env: preset }] });
    const env = container(mutated(pod), "nginx").env;
    assert.deepEqual(env, [...preset, identityEnv()[1], identityEnv()[2]]);
  });

  test("envFrom is not inspected, so injected variables shadow it", () => {
    const pod = nginxPod({ containers: [{ name: "nginx", envFrom: [{ configMapRef: { name: "azure" } }] }] });
    const patched = container(mutated(pod), "nginx");
    assert.deepEqual(patched.env, identityEnv());
    assert.deepEqual(patched.envFrom, [{ configMapRef: { name: "azure" } }]);
  });

  test("an absent or empty client-id annotation injects no AZURE_CLIENT_ID", () => {
    const cases: Record<string, string>[] = [{}, { [CLIENT_ID_ANNOTATION]: "" }];
    for (const annotations of cases) {
      const env = container(mutated(nginxPod(), { sa: serviceAccount(annotations) }), "nginx").env;
      assert.deepEqual(env, identityEnv().slice(1));
    }
  });

  test("a tenant-id annotation overrides the webhook's tenant", () => {
    const sa = serviceAccount({ [CLIENT_ID_ANNOTATION]: CLIENT_ID, [TENANT_ID_ANNOTATION]: SA_TENANT });
    assert.deepEqual(
      container(mutated(nginxPod(), { sa }), "nginx").env,
      identityEnv({ tenantId: SA_TENANT }),
    );
  });

  test("a tenant-id annotation that is present but empty wins, so no AZURE_TENANT_ID is injected", () => {
    const sa = serviceAccount({ [CLIENT_ID_ANNOTATION]: CLIENT_ID, [TENANT_ID_ANNOTATION]: "" });
    const env = container(mutated(nginxPod(), { sa }), "nginx").env;
    assert.deepEqual(envNames({ name: "", env }), [
      "AZURE_CLIENT_ID",
      "AZURE_FEDERATED_TOKEN_FILE",
      "AZURE_AUTHORITY_HOST",
    ]);
  });

  test("with no annotations and an empty webhook tenant only the token file and authority host are injected", () => {
    const patched = mutated(nginxPod(), { sa: serviceAccount({}), config: { tenantId: "" } });
    assert.deepEqual(container(patched, "nginx").env, identityEnv().slice(2));
  });

  test("AZURE_AUTHORITY_HOST is the configured authority, verbatim", () => {
    const patched = mutated(nginxPod(), { config: { authorityHost: "https://sts.wikit.test:8443/" } });
    assert.deepEqual(container(patched, "nginx").env?.[3], {
      name: "AZURE_AUTHORITY_HOST",
      value: "https://sts.wikit.test:8443/",
    });
  });
});

// ---- Volume and mounts --------------------------------------------------------------------------------------

describe("projected volume and mounts", () => {
  test("a bare pod gets exactly the env, mount and projected volume of webhook.md §5–§7", () => {
    const expected = nginxPod({
      containers: [{ name: "nginx", image: "nginx:1.27", env: identityEnv(), volumeMounts: [NGINX_MOUNT] }],
      spec: { volumes: [tokenVolume(NGINX_VOLUME)] },
    });
    assert.deepStrictEqual(mutated(nginxPod()), expected);
  });

  test("missing arrays are created with one add each, init containers first (webhook.md §12 op set)", () => {
    const pod = nginxPod({ spec: { initContainers: [{ name: "migrate", image: "busybox" }] } });
    assert.deepEqual(opSummary(patchOf(pod)), [
      "add /spec/initContainers/0/env",
      "add /spec/initContainers/0/volumeMounts",
      "add /spec/containers/0/env",
      "add /spec/containers/0/volumeMounts",
      "add /spec/volumes",
    ]);
  });

  test("existing arrays are appended to with /-", () => {
    const pod = nginxPod({
      containers: [
        {
          name: "nginx",
          env: [{ name: "A", value: "1" }],
          volumeMounts: [{ name: "data", mountPath: "/data" }],
        },
      ],
      spec: { volumes: [{ name: "data", emptyDir: {} }] },
    });
    const ops = opSummary(patchOf(pod));
    assert.deepEqual(ops, [
      ...Array(4).fill("add /spec/containers/0/env/-"),
      "add /spec/containers/0/volumeMounts/-",
      "add /spec/volumes/-",
    ]);
  });

  test("a volume with the reserved name is replaced in place", () => {
    const stale = { name: NGINX_VOLUME, emptyDir: {} };
    const pod = nginxPod({ spec: { volumes: [stale, { name: "data", emptyDir: {} }] } });
    assert.deepEqual(mutated(pod).spec.volumes, [tokenVolume(NGINX_VOLUME), { name: "data", emptyDir: {} }]);
  });

  test("a mount with the reserved name is replaced in place", () => {
    const mounts: JsonObject[] = [
      { name: NGINX_VOLUME, mountPath: "/var/run/secrets/azure/wi", readOnly: false },
      { name: "data", mountPath: "/data" },
    ];
    const pod = nginxPod({ containers: [{ name: "nginx", volumeMounts: mounts }] });
    assert.deepEqual(container(mutated(pod), "nginx").volumeMounts, [
      NGINX_MOUNT,
      { name: "data", mountPath: "/data" },
    ]);
  });

  test("a user mount at the injected path under another name is not checked (the API server rejects it)", () => {
    const userMount = { name: "mine", mountPath: NGINX_MOUNT_PATH };
    const pod = nginxPod({ containers: [{ name: "nginx", volumeMounts: [userMount] }] });
    assert.deepEqual(container(mutated(pod), "nginx").volumeMounts, [userMount, NGINX_MOUNT]);
  });

  test("the --audience setting replaces the default audience", () => {
    const patched = mutated(nginxPod(), { config: { audience: "api://wikit" } });
    assert.deepEqual(patched.spec.volumes, [tokenVolume(NGINX_VOLUME, 3600, "api://wikit")]);
  });

  test("the volume is added even when every container is skipped", () => {
    const pod = nginxPod({ annotations: { [SKIP_CONTAINERS_ANNOTATION]: "nginx" } });
    const patched = mutated(pod);
    assert.equal(container(patched, "nginx").env, undefined);
    assert.deepEqual(patched.spec.volumes, [tokenVolume(NGINX_VOLUME)]);
  });

  test("a pod without spec gets one, holding the volume", () => {
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "nginx" } };
    assert.deepEqual(mutated(pod).spec, { volumes: [tokenVolume(NGINX_VOLUME)] });
  });

  test("re-invocation after the API server defaulted the volume's defaultMode yields an empty patch", () => {
    const first = mutated(nginxPod());
    const volume = first.spec.volumes?.[0];
    if (volume?.projected === undefined) return assert.fail("no projected volume");
    volume.projected.defaultMode = 420;
    assert.deepEqual(patchOf(first as unknown as JsonObject), []);
  });

  test("a container added by a later webhook is mutated on re-invocation; nothing else changes", () => {
    const first = mutated(nginxPod());
    first.spec.containers.push({ name: "dapr", image: "daprd" });
    const second = patchOf(first as unknown as JsonObject);
    assert.deepEqual(opSummary(second), [
      "add /spec/containers/1/env",
      "add /spec/containers/1/volumeMounts",
    ]);
  });

  test("when the pod's name appears between passes, a second volume gets a distinct path and the token file stays", () => {
    const pod = nginxPod();
    (pod.metadata as JsonObject) = { generateName: "api-6b7c9d8f5-" };
    const first = mutated(pod);
    first.metadata.name = "api-6b7c9d8f5-q7w2e";
    const second = mutated(first as unknown as JsonObject);
    const app = container(second, "nginx");
    assert.deepEqual(
      app.volumeMounts?.map((m) => m.mountPath),
      [
        "/var/run/secrets/azure/wi/00259b856dfe691ded18e7138dbca2",
        "/var/run/secrets/azure/wi/bc9f39b26d9c1be263271b54bc77e9",
      ],
    );
    assert.equal(
      app.env?.find((e) => e.name === "AZURE_FEDERATED_TOKEN_FILE")?.value,
      "/var/run/secrets/azure/wi/00259b856dfe691ded18e7138dbca2/token/azure-identity-token",
    );
    assert.equal(second.spec.volumes?.length, 2);
  });
});

// ---- Init containers and skip-containers --------------------------------------------------------------------

describe("init containers and skip-containers", () => {
  test("init containers get the same env and mount, and fields the webhook does not own survive", () => {
    const sidecar = {
      name: "log-shipper",
      image: "fluent-bit",
      restartPolicy: "Always",
      resizePolicy: [{ resourceName: "cpu", restartPolicy: "NotRequired" }],
      futureField: { nested: [1, 2, 3] },
    };
    const patched = mutated(nginxPod({ spec: { initContainers: [sidecar] } }));
    assert.deepStrictEqual(container(patched, "log-shipper"), {
      ...sidecar,
      env: identityEnv(),
      volumeMounts: [NGINX_MOUNT],
    });
  });

  test("skip-containers is split on ';', trimmed, matched exactly, and applies to both lists", () => {
    const pod = nginxPod({
      annotations: { [SKIP_CONTAINERS_ANNOTATION]: " migrate ;; Nginx; sidecar ;" },
      containers: [
        { name: "nginx", image: "nginx" },
        { name: "sidecar", image: "busybox" },
      ],
      spec: { initContainers: [{ name: "migrate", image: "busybox" }] },
    });
    const patched = mutated(pod);
    assert.equal(container(patched, "migrate").env, undefined);
    assert.equal(container(patched, "sidecar").env, undefined);
    assert.equal(container(patched, "sidecar").volumeMounts, undefined);
    assert.deepEqual(container(patched, "nginx").env, identityEnv());
  });

  test("ephemeral containers are not touched", () => {
    const ephemeral = [{ name: "debugger", image: "busybox", targetContainerName: "nginx" }];
    const patched = mutated(nginxPod({ spec: { ephemeralContainers: ephemeral } }));
    assert.deepStrictEqual(patched.spec.ephemeralContainers, ephemeral);
  });
});

// ---- Proxy sidecar ------------------------------------------------------------------------------------------

describe("proxy sidecar", () => {
  const proxyAnnotations = (extra: Record<string, string> = {}) => ({
    [INJECT_PROXY_SIDECAR_ANNOTATION]: "true",
    ...extra,
  });

  function expectedProxy(
    port = 8000,
    logLevel = "warning",
    image = "mcr.microsoft.com/oss/azure/workload-identity/proxy:v1.6.1",
  ) {
    return {
      name: "azwi-proxy",
      image,
      imagePullPolicy: "IfNotPresent",
      args: [`--proxy-port=${port}`, `--log-level=${logLevel}`],
      ports: [{ containerPort: port }],
      lifecycle: {
        postStart: {
          exec: { command: ["/proxy", `--proxy-port=${port}`, "--probe", `--log-level=${logLevel}`] },
        },
      },
      securityContext: {
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        privileged: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
      },
    };
  }

  function expectedProxyInit(
    port = 8000,
    image = "mcr.microsoft.com/oss/azure/workload-identity/proxy-init:v1.6.1",
  ) {
    return {
      name: "azwi-proxy-init",
      image,
      imagePullPolicy: "IfNotPresent",
      securityContext: {
        capabilities: { add: ["NET_ADMIN"], drop: ["ALL"] },
        privileged: true,
        runAsNonRoot: false,
        runAsUser: 0,
      },
      env: [{ name: "PROXY_PORT", value: String(port) }],
    };
  }

  test("before Kubernetes 1.32 the proxy is prepended to containers and proxy-init appended to init containers, both mutated", () => {
    const pod = nginxPod({
      annotations: proxyAnnotations(),
      spec: { initContainers: [{ name: "migrate", image: "busybox" }] },
    });
    const patched = mutated(pod, { config: { kubernetesVersion: "v1.31.4" } });
    const identity = { env: identityEnv(), volumeMounts: [NGINX_MOUNT] };
    assert.deepStrictEqual(patched.spec.containers, [
      { ...expectedProxy(), ...identity },
      { name: "nginx", image: "nginx:1.27", ...identity },
    ]);
    const init = expectedProxyInit();
    assert.deepStrictEqual(patched.spec.initContainers, [
      { name: "migrate", image: "busybox", ...identity },
      { ...init, env: [...init.env, ...identityEnv()], volumeMounts: [NGINX_MOUNT] },
    ]);
  });

  test("the proxy container becomes index 0 of containers, shifting the user's container", () => {
    const ops = opSummary(patchOf(nginxPod({ annotations: proxyAnnotations() })));
    assert.deepEqual(ops.slice(0, 2), ["add /spec/initContainers", "add /spec/containers/0"]);
  });

  test("from Kubernetes 1.32 the proxy is a native sidecar at the front of init containers", () => {
    const pod = nginxPod({
      annotations: proxyAnnotations(),
      spec: { initContainers: [{ name: "migrate", image: "busybox" }] },
    });
    const patched = mutated(pod, { config: { kubernetesVersion: "v1.32.0" } });
    assert.deepEqual(
      patched.spec.initContainers?.map((c) => c.name),
      ["azwi-proxy", "migrate", "azwi-proxy-init"],
    );
    assert.deepEqual(
      patched.spec.containers.map((c) => c.name),
      ["nginx"],
    );
    const { env: _env, volumeMounts: _mounts, ...proxy } = container(patched, "azwi-proxy");
    assert.deepStrictEqual(proxy, { ...expectedProxy(), restartPolicy: "Always" });
  });

  const versions: [string | undefined, boolean][] = [
    ["v1.31.9", false],
    ["v1.32.0", true],
    ["1.32", true],
    ["v1.33.1+k3s1", true],
    ["v1.32.2-eks-7f9249a", true],
    ["v1.32.0-rc.1", false],
    ["v2.0.0", true],
    ["v1.4.0", false],
    ["", false],
    [undefined, false],
    ["unknown", false],
  ];
  for (const [version, native] of versions) {
    test(`API server ${JSON.stringify(version)} ${native ? "supports" : "does not support"} native sidecars`, () => {
      assert.equal(supportsNativeSidecars(version), native);
    });
  }

  test("the inject annotation works by key presence: 'false' and '' still inject", () => {
    for (const value of ["false", ""]) {
      const patched = mutated(nginxPod({ annotations: { [INJECT_PROXY_SIDECAR_ANNOTATION]: value } }));
      assert.deepEqual(
        patched.spec.containers.map((c) => c.name),
        ["azwi-proxy", "nginx"],
      );
    }
  });

  test("hostNetwork false does not block the proxy", () => {
    const patched = mutated(nginxPod({ annotations: proxyAnnotations(), spec: { hostNetwork: false } }));
    assert.equal(patched.spec.containers[0]?.name, "azwi-proxy");
  });

  // [annotation value or undefined, expected port or parse error]
  const ports: [string | undefined, number | string][] = [
    [undefined, 8000],
    ["9000", 9000],
    ["+9000", 9000],
    ["09000", 9000],
    ["0", 0],
    ["-1", -1],
    ["70000", 70000],
    ["2147483647", 2147483647],
    ["-2147483648", -2147483648],
    ["2147483648", 'strconv.ParseInt: parsing "2147483648": value out of range'],
    ["-2147483649", 'strconv.ParseInt: parsing "-2147483649": value out of range'],
    ["99999999999x", 'strconv.ParseInt: parsing "99999999999x": value out of range'],
    ["", 'strconv.ParseInt: parsing "": invalid syntax'],
    ["http", 'strconv.ParseInt: parsing "http": invalid syntax'],
    [" 8000", 'strconv.ParseInt: parsing " 8000": invalid syntax'],
    ["8000.0", 'strconv.ParseInt: parsing "8000.0": invalid syntax'],
  ];
  for (const [value, expected] of ports) {
    test(`proxy port annotation ${JSON.stringify(value)} → ${JSON.stringify(expected)}`, () => {
      const annotations: Record<string, string> =
        value === undefined ? {} : { [PROXY_SIDECAR_PORT_ANNOTATION]: value };
      const parsed = proxySidecarPort({ metadata: { annotations } });
      assert.deepEqual(
        parsed,
        typeof expected === "number" ? { ok: true, value: expected } : { ok: false, error: expected },
      );
      const pod = nginxPod({ annotations: proxyAnnotations(annotations) });
      if (typeof expected === "string") {
        assert.deepEqual(denial(pod), {
          code: 400,
          message: `failed to parse proxy sidecar port: ${expected}`,
        });
      } else {
        const patched = mutated(pod);
        assert.deepEqual(container(patched, "azwi-proxy").ports, [{ containerPort: expected }]);
        assert.deepEqual(container(patched, "azwi-proxy-init").env?.[0], {
          name: "PROXY_PORT",
          value: String(expected),
        });
      }
    });
  }

  test("the proxy logs at the webhook's own level, or warning when the webhook's level is empty", () => {
    const cases: [string | undefined, string][] = [
      [undefined, "warning"],
      ["", "warning"],
      ["info", "info"],
      ["debug", "debug"],
      ["trace", "trace"],
      ["all", "all"],
    ];
    for (const [logLevel, expected] of cases) {
      const patched = mutated(nginxPod({ annotations: proxyAnnotations() }), { config: { logLevel } });
      const { env: _env, volumeMounts: _mounts, ...proxy } = container(patched, "azwi-proxy");
      assert.deepStrictEqual(proxy, expectedProxy(8000, expected));
    }
  });

  test("PROXY_IMAGE and PROXY_INIT_IMAGE override the default images", () => {
    const config = { proxyImage: "registry.test/proxy:dev", proxyInitImage: "registry.test/proxy-init:dev" };
    const patched = mutated(nginxPod({ annotations: proxyAnnotations() }), { config });
    assert.equal(container(patched, "azwi-proxy").image, "registry.test/proxy:dev");
    assert.equal(container(patched, "azwi-proxy-init").image, "registry.test/proxy-init:dev");
  });

  test("containers already named azwi-proxy and azwi-proxy-init are kept as they are, whatever their content", () => {
    const pod = nginxPod({
      annotations: proxyAnnotations(),
      containers: [
        { name: "nginx", image: "nginx" },
        { name: "azwi-proxy", image: "custom/proxy" },
      ],
      spec: { initContainers: [{ name: "azwi-proxy-init", image: "custom/init" }] },
    });
    const patched = mutated(pod);
    assert.deepEqual(
      patched.spec.containers.map((c) => [c.name, c.image]),
      [
        ["nginx", "nginx"],
        ["azwi-proxy", "custom/proxy"],
      ],
    );
    assert.deepEqual(
      patched.spec.initContainers?.map((c) => [c.name, c.image]),
      [["azwi-proxy-init", "custom/init"]],
    );
  });

  test("skipping azwi-proxy leaves the proxy without identity variables", () => {
    const pod = nginxPod({ annotations: proxyAnnotations({ [SKIP_CONTAINERS_ANNOTATION]: "azwi-proxy" }) });
    const patched = mutated(pod);
    assert.equal(container(patched, "azwi-proxy").env, undefined);
    assert.deepEqual(envNames(container(patched, "azwi-proxy-init")), [
      "PROXY_PORT",
      ...envNames({ name: "", env: identityEnv() }),
    ]);
  });

  test("re-invocation with the proxy injected yields an empty patch, native or not", () => {
    for (const kubernetesVersion of ["v1.30.0", "v1.32.0"]) {
      const first = mutated(nginxPod({ annotations: proxyAnnotations() }), { config: { kubernetesVersion } });
      assert.deepEqual(patchOf(first as unknown as JsonObject, { config: { kubernetesVersion } }), []);
    }
  });
});

// ---- Custom token endpoint ----------------------------------------------------------------------------------

describe("custom token endpoint", () => {
  const caFile = `${NGINX_MOUNT_PATH}/ca-cert/ca.crt`;
  const customEnv = (custom: CustomTokenEndpointConfig) =>
    [
      ["AZURE_KUBERNETES_TOKEN_PROXY", custom.tokenProxy],
      ["AZURE_KUBERNETES_SNI_NAME", custom.sniName],
      ["AZURE_KUBERNETES_CA_FILE", caFile],
      ["AZURE_KUBERNETES_CA_DATA", custom.caData],
    ].flatMap(([name, value]) => (value ? [{ name, value }] : []));
  const optedIn = (value = "true") => nginxPod({ annotations: { [CUSTOM_OPT_IN]: value } });

  test("an opted-in pod gets the custom audience, variables 5–8 and the CA ConfigMap in the token volume", () => {
    const patched = mutated(optedIn(), { config: { customTokenEndpoint: CUSTOM_ENDPOINT } });
    assert.deepEqual(container(patched, "nginx").env, [...identityEnv(), ...customEnv(CUSTOM_ENDPOINT)]);
    assert.deepEqual(patched.spec.volumes, [
      {
        name: NGINX_VOLUME,
        projected: {
          sources: [
            {
              serviceAccountToken: {
                path: "token/azure-identity-token",
                expirationSeconds: 3600,
                audience: "api://AKSIdentityBinding",
              },
            },
            {
              configMap: {
                name: "identity-binding-ca",
                items: [{ key: "ca.crt", path: "ca-cert/ca.crt" }],
                optional: false,
              },
            },
          ],
        },
      },
    ]);
  });

  test("the opt-in value is 'true' compared case-insensitively; anything else gives the normal mutation", () => {
    const config = { customTokenEndpoint: CUSTOM_ENDPOINT };
    for (const value of ["TRUE", "True", "tRuE"]) {
      assert.equal(
        mutated(optedIn(value), { config }).spec.volumes?.[0]?.projected?.sources.length,
        2,
        value,
      );
    }
    for (const value of ["yes", "1", "", "true "]) {
      assert.deepEqual(mutated(optedIn(value), { config }).spec.volumes, [tokenVolume(NGINX_VOLUME)], value);
    }
  });

  test("the opt-in annotation key is matched exactly as configured", () => {
    const config = { customTokenEndpoint: { ...CUSTOM_ENDPOINT, annotationSuffix: "Identity-Binding" } };
    assert.deepEqual(mutated(optedIn(), { config }).spec.volumes, [tokenVolume(NGINX_VOLUME)]);
  });

  test("the feature stays off unless both the suffix and the audience are configured", () => {
    for (const customTokenEndpoint of [
      undefined,
      { ...CUSTOM_ENDPOINT, audience: "" },
      { ...CUSTOM_ENDPOINT, annotationSuffix: "" },
    ]) {
      const patched = mutated(optedIn(), { config: { customTokenEndpoint } });
      assert.deepEqual(patched.spec.volumes, [tokenVolume(NGINX_VOLUME)]);
      assert.deepEqual(container(patched, "nginx").env, identityEnv());
    }
  });

  test("a ClusterTrustBundle CA is projected with its label selector, or without one when unset", () => {
    const base = { annotationSuffix: "identity-binding", audience: "api://AKSIdentityBinding" };
    const selector = { matchLabels: { "wikit.dev/ca": "true" } };
    const withSelector = {
      ...base,
      caClusterTrustBundleSignerName: "wikit.dev/ca",
      caClusterTrustBundleLabelSelector: selector,
    };
    const withoutSelector = { ...base, caClusterTrustBundleSignerName: "wikit.dev/ca" };
    const source = (custom: CustomTokenEndpointConfig) =>
      mutated(optedIn(), { config: { customTokenEndpoint: custom } }).spec.volumes?.[0]?.projected
        ?.sources[1];
    assert.deepEqual(source(withSelector), {
      clusterTrustBundle: {
        signerName: "wikit.dev/ca",
        labelSelector: selector,
        path: "ca-cert/ca.crt",
        optional: false,
      },
    });
    assert.deepEqual(source(withoutSelector), {
      clusterTrustBundle: { signerName: "wikit.dev/ca", path: "ca-cert/ca.crt", optional: false },
    });
  });

  test("inline CA data adds no volume source, yet both AZURE_KUBERNETES_CA_FILE and _CA_DATA are injected", () => {
    const custom = {
      annotationSuffix: "identity-binding",
      audience: "api://AKSIdentityBinding",
      caData: "-----BEGIN CERTIFICATE-----",
    };
    const patched = mutated(optedIn(), { config: { customTokenEndpoint: custom } });
    assert.deepEqual(patched.spec.volumes?.[0]?.projected?.sources.length, 1);
    assert.deepEqual(container(patched, "nginx").env, [
      ...identityEnv(),
      { name: "AZURE_KUBERNETES_CA_FILE", value: caFile },
      { name: "AZURE_KUBERNETES_CA_DATA", value: "-----BEGIN CERTIFICATE-----" },
    ]);
  });

  test("re-invocation of an opted-in pod yields an empty patch", () => {
    const config = { customTokenEndpoint: CUSTOM_ENDPOINT };
    const first = mutated(optedIn(), { config });
    assert.deepEqual(patchOf(first as unknown as JsonObject, { config }), []);
  });
});

// ---- The real AdmissionReview ---------------------------------------------------------------------------------

describe("real AdmissionReview fixture", () => {
  const review = JSON.parse(ADMISSION_REVIEW_TEXT);
  const fixturePod = review.request.object as JsonObject;
  const volume = "azure-workload-identity-reserved-c6c331958744bb3f00902fd3e50704";
  const mountPath = "/var/run/secrets/azure/wi/c6c331958744bb3f00902fd3e50704";
  const env: EnvEntry[] = [
    { name: "AZURE_CLIENT_ID", value: CLIENT_ID },
    { name: "AZURE_TENANT_ID", value: WEBHOOK_TENANT },
    { name: "AZURE_FEDERATED_TOKEN_FILE", value: `${mountPath}/token/azure-identity-token` },
    { name: "AZURE_AUTHORITY_HOST", value: PUBLIC_AUTHORITY },
  ];
  const run = (pod: JsonObject) =>
    mutatePod({ pod, serviceAccount: serviceAccount(), namespace: review.request.namespace, config: CONFIG });

  test("the fixture pod, with a ServiceAccount annotated client-id, patches to the expected pod", () => {
    const expected = structuredClone(fixturePod) as unknown as Pod;
    const [app, sidecar] = expected.spec.containers;
    if (app === undefined || sidecar === undefined) return assert.fail("fixture has two containers");
    const mount = { name: volume, readOnly: true, mountPath };
    app.env = [...(app.env ?? []), ...env];
    app.volumeMounts?.push(mount);
    sidecar.env = env;
    sidecar.volumeMounts?.push(mount);
    expected.spec.volumes?.push(tokenVolume(volume));

    const outcome = run(fixturePod);
    if (!outcome.allowed) return assert.fail(outcome.message);
    assert.deepStrictEqual(applyJsonPatch(fixturePod, outcome.patch), expected);
  });

  test("the sidecar without env gets its env array created by one add; everything else is appended", () => {
    const outcome = run(fixturePod);
    if (!outcome.allowed) return assert.fail(outcome.message);
    assert.deepEqual(opSummary(outcome.patch), [
      ...Array(4).fill("add /spec/containers/0/env/-"),
      "add /spec/containers/0/volumeMounts/-",
      "add /spec/containers/1/env",
      "add /spec/containers/1/volumeMounts/-",
      "add /spec/volumes/-",
    ]);
  });

  test("re-invoking on the fixture's mutated pod yields an empty patch", () => {
    const outcome = run(fixturePod);
    if (!outcome.allowed) return assert.fail(outcome.message);
    assert.deepEqual(run(outcome.pod), { allowed: true, pod: outcome.pod, patch: [] });
  });
});

// ---- JSON Patch ---------------------------------------------------------------------------------------------

describe("JSON Patch", () => {
  test("add appends with '-', inserts at an index, creates members; replace swaps in place", () => {
    const doc = { list: [1, 3], map: { a: 1 } };
    const ops: JsonPatchOperation[] = [
      { op: "add", path: "/list/-", value: 4 },
      { op: "add", path: "/list/1", value: 2 },
      { op: "add", path: "/list/4", value: 5 },
      { op: "add", path: "/map/b", value: [] },
      { op: "replace", path: "/map/a", value: { deep: true } },
      { op: "replace", path: "/list/0", value: 0 },
    ];
    assert.deepStrictEqual(applyJsonPatch(doc, ops), {
      list: [0, 2, 3, 4, 5],
      map: { a: { deep: true }, b: [] },
    });
  });

  test("pointers escape '~' as ~0 and '/' as ~1 (RFC 6901)", () => {
    assert.equal(
      jsonPointer(["metadata", "annotations", "azure.workload.identity/use"]),
      "/metadata/annotations/azure.workload.identity~1use",
    );
    assert.equal(jsonPointer(["a~b", "~1", 0]), "/a~0b/~01/0");
    const doc = { metadata: { annotations: {} } };
    const ops: JsonPatchOperation[] = [
      { op: "add", path: jsonPointer(["metadata", "annotations", "a/b~c"]), value: "x" },
      { op: "add", path: "/metadata/annotations/~01", value: "y" },
    ];
    assert.deepStrictEqual(applyJsonPatch(doc, ops), {
      metadata: { annotations: { "a/b~c": "x", "~1": "y" } },
    });
  });

  test("an empty path replaces the whole document", () => {
    assert.deepStrictEqual(applyJsonPatch({ a: 1 }, [{ op: "replace", path: "", value: [1] }]), [1]);
  });

  test("invalid operations and paths throw instead of being guessed at", () => {
    const doc = { list: [1, 2], map: { a: 1 }, scalar: 3 };
    const invalid: unknown[] = [
      { op: "remove", path: "/map/a" },
      { op: "move", from: "/map/a", path: "/map/b" },
      { op: "add", path: "/missing/child", value: 1 },
      { op: "add", path: "/list/3", value: 1 },
      { op: "add", path: "/list/01", value: 1 },
      { op: "add", path: "/list/-1", value: 1 },
      { op: "replace", path: "/list/2", value: 1 },
      { op: "replace", path: "/list/-", value: 1 },
      { op: "replace", path: "/map/b", value: 1 },
      { op: "add", path: "/scalar/x", value: 1 },
      { op: "add", path: "map/a", value: 1 },
      { op: "add", path: "/map/a~2", value: 1 },
      { op: "add", path: "/map/a~", value: 1 },
    ];
    for (const operation of invalid) {
      assert.throws(
        () => applyJsonPatch(doc, [operation as JsonPatchOperation]),
        Error,
        JSON.stringify(operation),
      );
    }
  });

  test("a member named __proto__ is stored as plain data", () => {
    const patched = applyJsonPatch({}, [
      { op: "add", path: "/__proto__", value: { polluted: true } },
    ]) as JsonObject;
    assert.deepEqual(Object.keys(patched), ["__proto__"]);
    assert.equal(({} as JsonObject).polluted, undefined);
  });

  test("the returned pod shares nothing with the received pod: changing it leaves the received pod as it was", () => {
    const pod = nginxPod({ containers: [{ name: "app", env: [{ name: "A", value: "1" }], resources: {} }] });
    const before = structuredClone(pod);
    const outcome = run(pod);
    if (!outcome.allowed) return assert.fail(outcome.message);
    const returned = outcome.pod as unknown as Pod & { metadata: JsonObject };
    returned.metadata.name = "changed";
    (returned.spec.containers[0] as unknown as JsonObject).resources = { limits: {} };
    returned.spec.containers[0]?.env?.push({ name: "B", value: "2" });
    assert.deepStrictEqual(pod, before);
  });

  test("neither applyJsonPatch nor mutatePod modifies its input", () => {
    const doc = { list: [1] };
    applyJsonPatch(doc, [{ op: "add", path: "/list/-", value: 2 }]);
    assert.deepStrictEqual(doc, { list: [1] });
    const pod = nginxPod({ annotations: { [INJECT_PROXY_SIDECAR_ANNOTATION]: "" } });
    const before = structuredClone(pod);
    mutated(pod);
    assert.deepStrictEqual(pod, before);
  });
});

// ---- Properties -----------------------------------------------------------------------------------------------

describe("properties", () => {
  const IDENTITIES = ["nginx", "api-6b7c9d8f5-q7w2e"];
  const GENERATE_NAME = "api-6b7c9d8f5-";
  const RESERVED = [...IDENTITIES, `${GENERATE_NAME} (prefix)`].map(reservedVolumeName);
  const CONTAINER_NAMES = ["app", "sidecar", "worker", "azwi-proxy"];
  const INIT_NAMES = ["migrate", "log-shipper", "azwi-proxy-init"];
  const ENV_NAMES = [
    "EXISTING",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
    "AZURE_KUBERNETES_CA_FILE",
    "NODE_EXTRA_CA_CERTS",
    "SSL_CERT_FILE",
  ];
  const EMULATION: EmulationConfig = {
    address: "10.0.0.5",
    hostNames: ["login.microsoftonline.com", "myvault.vault.azure.net"],
    caConfigMap: "wikit-ca",
  };
  const HOST_NAMES = [...EMULATION.hostNames, "LOGIN.microsoftonline.com", "other.example"];

  // Unknown members use an `x-` prefix so that they can be found again after mutation.
  const unknownFields = fc.dictionary(
    fc.string({ maxLength: 4 }).map((key) => `x-${key}`),
    fc.jsonValue({ maxDepth: 2 }),
    { maxKeys: 2 },
  );
  const envEntry = (name: string) =>
    fc
      .tuple(
        fc.constantFrom<JsonObject>(
          { value: "preset" },
          { value: "" },
          { valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        ),
        unknownFields,
      )
      .map(([source, extra]) => ({ ...extra, name, ...source }));
  const envList = fc
    .uniqueArray(fc.constantFrom(...ENV_NAMES), { maxLength: 4 })
    .chain((names) => fc.tuple(...names.map(envEntry)));
  const mountList = fc
    .uniqueArray(fc.constantFrom("data", "cache", EMULATION_CA_VOLUME_NAME, ...RESERVED), { maxLength: 3 })
    .map((names) => names.map((name) => ({ name, readOnly: true, mountPath: `/mnt/${name}` })));
  const containerOf = (name: string) =>
    fc
      .record({
        env: fc.option(fc.oneof(envList, fc.constant(null)), { nil: undefined }),
        volumeMounts: fc.option(mountList, { nil: undefined }),
        extra: unknownFields,
      })
      .map(({ env, volumeMounts, extra }) => ({
        ...extra,
        name,
        image: "busybox",
        ...(env === undefined ? {} : { env }),
        ...(volumeMounts === undefined ? {} : { volumeMounts }),
      }));
  const containerList = (names: string[], minLength: number) =>
    fc
      .uniqueArray(fc.constantFrom(...names), { minLength, maxLength: 3 })
      .chain((picked) => fc.tuple(...picked.map(containerOf)));
  const volumeList = fc
    .uniqueArray(fc.constantFrom("data", "cache", EMULATION_CA_VOLUME_NAME, ...RESERVED), { maxLength: 3 })
    .map((names) => names.map((name) => ({ name, emptyDir: {} })));
  // Entries for wikit's address and for another one, possibly repeated, possibly already naming the hosts.
  const hostAliasList = fc.array(
    fc
      .record({
        ip: fc.constantFrom(EMULATION.address, "10.1.1.1"),
        hostnames: fc.option(fc.subarray(HOST_NAMES), { nil: undefined }),
        extra: unknownFields,
      })
      .map(({ ip, hostnames, extra }) => ({
        ...extra,
        ip,
        ...(hostnames === undefined ? {} : { hostnames }),
      })),
    { maxLength: 3 },
  );
  const annotations = fc.record(
    {
      [SKIP_CONTAINERS_ANNOTATION]: fc
        .subarray([...CONTAINER_NAMES, ...INIT_NAMES])
        .map((names) => names.join(" ; ")),
      [INJECT_PROXY_SIDECAR_ANNOTATION]: fc.constantFrom("", "true", "false"),
      [PROXY_SIDECAR_PORT_ANNOTATION]: fc.integer({ min: 1, max: 65535 }).map(String),
      [TOKEN_EXPIRATION_ANNOTATION]: fc.integer({ min: 3600, max: 86400 }).map(String),
      [CUSTOM_OPT_IN]: fc.constantFrom("true", "TRUE", "no"),
      "x-other": fc.string(),
    },
    { requiredKeys: [] },
  );
  const podArbitrary = (identity: fc.Arbitrary<JsonObject>) =>
    fc
      .record({
        identity,
        annotations,
        containers: containerList(CONTAINER_NAMES, 1),
        initContainers: fc.option(containerList(INIT_NAMES, 0), { nil: undefined }),
        volumes: fc.option(volumeList, { nil: undefined }),
        hostAliases: fc.option(hostAliasList, { nil: undefined }),
        podExtra: unknownFields,
        metadataExtra: unknownFields,
        specExtra: unknownFields,
      })
      .map(
        (p): JsonObject => ({
          ...p.podExtra,
          apiVersion: "v1",
          kind: "Pod",
          metadata: { ...p.metadataExtra, ...p.identity, annotations: p.annotations },
          spec: {
            ...p.specExtra,
            serviceAccountName: "workload-sa",
            containers: p.containers,
            ...(p.initContainers === undefined ? {} : { initContainers: p.initContainers }),
            ...(p.volumes === undefined ? {} : { volumes: p.volumes }),
            ...(p.hostAliases === undefined ? {} : { hostAliases: p.hostAliases }),
          },
        }),
      )
      // Exactly what a webhook receives: decoded JSON (plain prototypes, no undefined members).
      .map((pod) => JSON.parse(JSON.stringify(pod)) as JsonObject);
  const anyIdentity = fc.oneof(
    fc.constantFrom(...IDENTITIES).map((name): JsonObject => ({ name })),
    fc.constant<JsonObject>({ generateName: GENERATE_NAME }),
  );
  const serviceAccounts = fc
    .record(
      {
        [CLIENT_ID_ANNOTATION]: fc.constantFrom("", CLIENT_ID),
        [TENANT_ID_ANNOTATION]: fc.constantFrom("", SA_TENANT),
        [TOKEN_EXPIRATION_ANNOTATION]: fc.integer({ min: 3600, max: 86400 }).map(String),
      },
      { requiredKeys: [] },
    )
    .map(serviceAccount);
  const configs = fc.record({
    tenantId: fc.constantFrom("", WEBHOOK_TENANT),
    authorityHost: fc.constant(PUBLIC_AUTHORITY),
    kubernetesVersion: fc.constantFrom("v1.31.4", "v1.32.0"),
    customTokenEndpoint: fc.constantFrom<CustomTokenEndpointConfig>(
      CUSTOM_ENDPOINT,
      { ...CUSTOM_ENDPOINT, caConfigMapName: undefined, caData: "pem" },
      {
        annotationSuffix: "identity-binding",
        audience: "api://AKSIdentityBinding",
        caClusterTrustBundleSignerName: "wikit.dev/ca",
      },
    ),
    emulation: fc.option(fc.constant(EMULATION), { nil: undefined }),
  });
  const scenario = fc.record({ pod: podArbitrary(anyIdentity), sa: serviceAccounts, config: configs });

  function allowed(pod: JsonObject, sa: ServiceAccountLike, config: MutationConfig) {
    const outcome = mutatePod({ pod, serviceAccount: sa, namespace: "default", config });
    if (!outcome.allowed) return assert.fail(outcome.message);
    return outcome;
  }

  function assertUnique(values: unknown[], what: string): void {
    assert.equal(new Set(values).size, values.length, `duplicate ${what}: ${JSON.stringify(values)}`);
  }

  function assertPodInvariants(pod: Pod): void {
    assertUnique(
      (pod.spec.volumes ?? []).map((v) => v.name),
      "volume names",
    );
    for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
      assertUnique(
        (c.volumeMounts ?? []).map((m) => m.name),
        `mount names in ${c.name}`,
      );
      assertUnique(
        (c.volumeMounts ?? []).map((m) => m.mountPath),
        `mount paths in ${c.name}`,
      );
      assertUnique(envNames(c), `env names in ${c.name}`);
    }
  }

  /** Every `x-` member anywhere in the document, as sorted `key=value` strings. */
  function unknownMembers(value: unknown): string[] {
    const found: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (typeof node === "object" && node !== null) {
        for (const [key, child] of Object.entries(node)) {
          if (key.startsWith("x-")) found.push(`${key}=${JSON.stringify(child)}`);
          walk(child);
        }
      }
    };
    walk(value);
    return found.sort();
  }

  test("replaying the patch on the received pod gives exactly the returned pod", () => {
    fc.assert(
      fc.property(scenario, ({ pod, sa, config }) => {
        const outcome = allowed(pod, sa, config);
        assert.deepStrictEqual(applyJsonPatch(pod, outcome.patch), outcome.pod);
      }),
      { numRuns: 300 },
    );
  });

  test("podPatch, what the admission handler answers with, decides exactly as mutatePod", () => {
    fc.assert(
      fc.property(scenario, ({ pod, sa, config }) => {
        const input = { pod, serviceAccount: sa, namespace: "default", config };
        const full = mutatePod(input);
        const patchOnly = podPatch(input);
        assert.deepStrictEqual(patchOnly, full.allowed ? { allowed: true, patch: full.patch } : full);
      }),
      { numRuns: 300 },
    );
  });

  test("the patch holds only add and replace operations", () => {
    fc.assert(
      fc.property(scenario, ({ pod, sa, config }) => {
        for (const operation of allowed(pod, sa, config).patch)
          assert.ok(["add", "replace"].includes(operation.op));
      }),
      { numRuns: 300 },
    );
  });

  test("mutating the output again yields an empty patch", () => {
    fc.assert(
      fc.property(scenario, ({ pod, sa, config }) => {
        const first = allowed(pod, sa, config);
        assert.deepEqual(allowed(first.pod, sa, config).patch, []);
      }),
      { numRuns: 300 },
    );
  });

  test("unknown members survive mutation and the received pod is left unmodified", () => {
    fc.assert(
      fc.property(scenario, ({ pod, sa, config }) => {
        const before = structuredClone(pod);
        const outcome = allowed(pod, sa, config);
        assert.deepStrictEqual(pod, before);
        assert.deepEqual(unknownMembers(outcome.pod), unknownMembers(pod));
      }),
      { numRuns: 300 },
    );
  });

  test("no duplicate volume names, mount names, mount paths or env names after mutation", () => {
    fc.assert(
      fc.property(scenario, ({ pod, sa, config }) => {
        assertPodInvariants(allowed(pod, sa, config).pod as unknown as Pod);
      }),
      { numRuns: 300 },
    );
  });

  test("invariants hold when the pod gains its final name between passes, and a third pass is empty", () => {
    const generated = fc.record({
      pod: podArbitrary(fc.constant<JsonObject>({ generateName: GENERATE_NAME })),
      sa: serviceAccounts,
      config: configs,
    });
    fc.assert(
      fc.property(generated, ({ pod, sa, config }) => {
        const first = allowed(pod, sa, config).pod;
        (first.metadata as JsonObject).name = "api-6b7c9d8f5-q7w2e";
        const second = allowed(first, sa, config).pod;
        assertPodInvariants(second as unknown as Pod);
        assert.deepEqual(allowed(second, sa, config).patch, []);
      }),
      { numRuns: 200 },
    );
  });

  test("emulation maps every configured host name once, keeps every existing mapping, and adds no second entry for its address", () => {
    type Alias = { ip: string; hostnames?: string[] };
    const pairs = (aliases: Alias[] | undefined) =>
      (aliases ?? []).flatMap((alias) => (alias.hostnames ?? []).map((name) => `${alias.ip} ${name}`));
    fc.assert(
      fc.property(scenario, ({ pod, sa, config }) => {
        const before = (pod.spec as JsonObject).hostAliases as Alias[] | undefined;
        const after = (allowed(pod, sa, { ...config, emulation: EMULATION }).pod.spec as JsonObject)
          .hostAliases as Alias[];
        // Nothing the pod had is lost, and entries keep their order.
        const kept = pairs(after);
        for (const pair of pairs(before)) assert.ok(kept.includes(pair), `lost ${pair}`);
        assert.deepEqual(
          after.slice(0, before?.length ?? 0).map((alias) => alias.ip),
          (before ?? []).map((alias) => alias.ip),
        );
        // Every configured name resolves, to wikit unless the pod mapped it itself.
        const names = after.flatMap((alias) => (alias.hostnames ?? []).map((name) => name.toLowerCase()));
        for (const name of EMULATION.hostNames) assert.ok(names.includes(name), `${name} is not mapped`);
        const added = kept.filter((pair) => !pairs(before).includes(pair));
        assertUnique(added, "added mappings");
        for (const pair of added)
          assert.ok(pair.startsWith(`${EMULATION.address} `), `${pair} maps elsewhere`);
        // A new entry only when the pod had none for the address.
        const entriesFor = (aliases: Alias[] | undefined) =>
          (aliases ?? []).filter((alias) => alias.ip === EMULATION.address).length;
        assert.equal(entriesFor(after), Math.max(entriesFor(before), added.length > 0 ? 1 : 0));
      }),
      { numRuns: 300 },
    );
  });

  test("with emulation, every non-skipped container trusts the CA bundle and keeps its own CA variables", () => {
    fc.assert(
      fc.property(scenario, ({ pod, sa, config }) => {
        const after = allowed(pod, sa, { ...config, emulation: EMULATION }).pod as unknown as Pod;
        const skipped = new Set(
          (pod.metadata as Pod["metadata"]).annotations?.[SKIP_CONTAINERS_ANNOTATION]
            ?.split(";")
            .map((n) => n.trim()) ?? [],
        );
        const received = pod as unknown as Pod;
        const lists = (p: Pod) => [
          ...(p.spec.initContainers ?? []).map((c) => ({ key: `init/${c.name}`, c })),
          ...p.spec.containers.map((c) => ({ key: `main/${c.name}`, c })),
        ];
        const original = new Map(lists(received).map(({ key, c }) => [key, c]));
        for (const { key, c } of lists(after)) {
          const had = original.get(key)?.env ?? [];
          for (const name of ["NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"]) {
            const entry = (c.env ?? []).find((e) => e.name === name);
            const own = had.find((e) => e.name === name);
            if (own !== undefined) assert.deepEqual(entry, own, `${c.name}: ${name} was overwritten`);
            else if (skipped.has(c.name)) assert.equal(entry, undefined, `${c.name} is skipped`);
            else assert.deepEqual(entry, { name, value: EMULATION_CA_FILE });
          }
          const mount = (c.volumeMounts ?? []).find((m) => m.name === EMULATION_CA_VOLUME_NAME);
          if (!skipped.has(c.name)) {
            assert.deepEqual(mount, {
              name: EMULATION_CA_VOLUME_NAME,
              readOnly: true,
              mountPath: EMULATION_CA_MOUNT_PATH,
            });
          }
        }
        assert.equal(after.spec.volumes?.filter((v) => v.name === EMULATION_CA_VOLUME_NAME).length, 1);
      }),
      { numRuns: 300 },
    );
  });
});
