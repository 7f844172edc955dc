// The tests' JSON Patch applier (json-patch.ts) checked against an independent implementation, fast-json-patch:
// on RFC 6902 cases, and on the patches the mutation produces for random pods, which both appliers must turn
// into exactly the pod the mutation returned.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import jsonpatch, { type Operation } from "fast-json-patch";
import {
  CLIENT_ID_ANNOTATION,
  customTokenEndpointAnnotation,
  INJECT_PROXY_SIDECAR_ANNOTATION,
  PROXY_SIDECAR_PORT_ANNOTATION,
  SKIP_CONTAINERS_ANNOTATION,
  TENANT_ID_ANNOTATION,
  TOKEN_EXPIRATION_ANNOTATION,
  USE_LABEL,
} from "../../../src/cluster/webhook/constants.ts";
import type { CustomTokenEndpointConfig } from "../../../src/cluster/webhook/custom-token-endpoint.ts";
import type { EmulationConfig } from "../../../src/cluster/webhook/emulation.ts";
import { type MutationConfig, mutatePod } from "../../../src/cluster/webhook/mutation.ts";
import type { JsonPatchOperation } from "../../../src/cluster/webhook/pod-editor.ts";
import { reservedVolumeName, type ServiceAccountLike } from "../../../src/cluster/webhook/pod-facts.ts";
import type { JsonObject, JsonValue } from "../../../src/json/json-value.ts";
import { applyJsonPatch } from "./json-patch.ts";

/** fast-json-patch on deep copies, validating every operation, with its `__proto__` ban left on. */
function referenceApply(doc: JsonValue, patch: readonly JsonPatchOperation[]): JsonValue {
  const operations = structuredClone(patch) as Operation[];
  return jsonpatch.applyPatch(structuredClone(doc), operations, true, true).newDocument;
}

describe("the tests' JSON Patch applier agrees with fast-json-patch", () => {
  const doc: JsonObject = { list: [1, 3], map: { a: 1, "a/b": 2, "c~d": 3 }, scalar: 3 };
  const cases: { name: string; patch: JsonPatchOperation[]; expected: JsonValue }[] = [
    {
      name: "add with '-' appends to an array",
      patch: [{ op: "add", path: "/list/-", value: 4 }],
      expected: { ...doc, list: [1, 3, 4] },
    },
    {
      name: "add at an index inserts before that element",
      patch: [{ op: "add", path: "/list/1", value: 2 }],
      expected: { ...doc, list: [1, 2, 3] },
    },
    {
      name: "add at the array's length appends",
      patch: [{ op: "add", path: "/list/2", value: 4 }],
      expected: { ...doc, list: [1, 3, 4] },
    },
    {
      name: "add creates a missing member",
      patch: [{ op: "add", path: "/map/b", value: [] }],
      expected: { ...doc, map: { a: 1, "a/b": 2, "c~d": 3, b: [] } },
    },
    {
      name: "add on an existing member replaces its value",
      patch: [{ op: "add", path: "/map/a", value: { deep: true } }],
      expected: { ...doc, map: { a: { deep: true }, "a/b": 2, "c~d": 3 } },
    },
    {
      name: "replace swaps an array element in place",
      patch: [{ op: "replace", path: "/list/0", value: 0 }],
      expected: { ...doc, list: [0, 3] },
    },
    {
      name: "~1 in a pointer stands for '/' and ~0 for '~'",
      patch: [
        { op: "replace", path: "/map/a~1b", value: "slash" },
        { op: "replace", path: "/map/c~0d", value: "tilde" },
        { op: "add", path: "/map/~01", value: "not a slash" },
      ],
      expected: { ...doc, map: { a: 1, "a/b": "slash", "c~d": "tilde", "~1": "not a slash" } },
    },
    {
      name: "a later operation sees the earlier ones",
      patch: [
        { op: "add", path: "/map/b", value: { list: [] } },
        { op: "add", path: "/map/b/list/-", value: "x" },
        { op: "add", path: "/map/b/list/0", value: "y" },
      ],
      expected: { ...doc, map: { a: 1, "a/b": 2, "c~d": 3, b: { list: ["y", "x"] } } },
    },
    {
      name: "an empty path replaces the whole document",
      patch: [{ op: "replace", path: "", value: [1] }],
      expected: [1],
    },
  ];
  for (const { name, patch, expected } of cases) {
    test(name, () => {
      assert.deepStrictEqual(applyJsonPatch(doc, patch), expected);
      assert.deepStrictEqual(referenceApply(doc, patch), expected);
    });
  }

  test("both refuse paths that do not resolve or indices out of range", () => {
    const invalid: JsonPatchOperation[] = [
      { op: "add", path: "/missing/child", value: 1 },
      { op: "add", path: "/list/3", value: 1 },
      { op: "add", path: "/list/-1", value: 1 },
      { op: "add", path: "/list/x", value: 1 },
      { op: "replace", path: "/list/2", value: 1 },
      { op: "replace", path: "/list/-", value: 1 },
      { op: "replace", path: "/map/b", value: 1 },
      { op: "add", path: "/scalar/x", value: 1 },
      { op: "add", path: "map/a", value: 1 },
    ];
    for (const operation of invalid) {
      const label = JSON.stringify(operation);
      assert.throws(() => applyJsonPatch(doc, [operation]), Error, label);
      assert.throws(() => referenceApply(doc, [operation]), Error, label);
    }
  });

  test("ours also refuses what RFC 6901 forbids and fast-json-patch lets through: leading zeros, bad escapes", () => {
    const invalid: JsonPatchOperation[] = [
      { op: "add", path: "/list/01", value: 1 },
      { op: "add", path: "/map/a~2", value: 1 },
      { op: "add", path: "/map/a~", value: 1 },
    ];
    for (const operation of invalid) {
      assert.throws(() => applyJsonPatch(doc, [operation]), Error, JSON.stringify(operation));
    }
  });

  test("a member named __proto__ becomes plain data, not the prototype (fast-json-patch refuses it)", () => {
    const patch: JsonPatchOperation[] = [{ op: "add", path: "/__proto__", value: { polluted: true } }];
    const patched = applyJsonPatch({}, patch) as JsonObject;
    assert.deepEqual(Object.keys(patched), ["__proto__"]);
    assert.equal(Object.getPrototypeOf(patched), Object.prototype);
    assert.equal(({} as JsonObject).polluted, undefined);
    assert.throws(() => referenceApply({}, patch), TypeError);
  });
});

// ---- Random pods ----------------------------------------------------------------------------------------

const CUSTOM_SUFFIX = "custom-endpoint";
const CUSTOM_ENDPOINT: CustomTokenEndpointConfig = {
  annotationSuffix: CUSTOM_SUFFIX,
  audience: "custom-audience",
  tokenProxy: "https://proxy.example:8443",
  caConfigMapName: "custom-ca",
};
const EMULATION: EmulationConfig = {
  address: "10.0.0.5",
  hostNames: ["login.microsoftonline.com", "myvault.vault.azure.net"],
  caConfigMap: "wikit-ca",
};
const POD_NAMES = ["web-0", "worker"];
const CONTAINER_NAMES = ["app", "sidecar", "azwi-proxy"];
const INIT_CONTAINER_NAMES = ["setup", "azwi-proxy-init"];
const ENV_NAMES = ["AZURE_CLIENT_ID", "AZURE_TENANT_ID", "SSL_CERT_FILE", "OTHER"];
/** Volume names the mutation looks for, so that existing entries get replaced or left alone. */
const VOLUME_NAMES = ["data", "wikit-ca", ...POD_NAMES.map(reservedVolumeName)];

/** Members the mutation does not know, which must survive it; `x-` keeps them apart from real fields. */
const unknownMembers = fc.dictionary(
  fc.string({ maxLength: 3 }).map((key) => `x-${key}`),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 2 },
);

function withUnknown<T extends JsonObject>(known: fc.Arbitrary<T>): fc.Arbitrary<JsonObject> {
  return fc.tuple(unknownMembers, known).map(([unknown, fields]) => ({ ...unknown, ...fields }));
}

const envEntry = (name: string) =>
  fc
    .constantFrom<JsonObject>(
      { value: "preset" },
      { value: "" },
      { valueFrom: { fieldRef: { fieldPath: "x" } } },
    )
    .map((source) => ({ name, ...source }));

const volumeMount = (name: string) =>
  fc
    .constantFrom("/mnt/data", "/var/run/secrets/azure/tokens")
    .map((mountPath) => ({ name, readOnly: true, mountPath }));

/** A volume of this name: sometimes empty, sometimes a projected token source like the webhook's own. */
const volume = (name: string) =>
  fc.oneof(
    fc.constant<JsonObject>({ name, emptyDir: {} }),
    fc.integer({ min: 3600, max: 7200 }).map(
      (expirationSeconds): JsonObject => ({
        name,
        projected: {
          sources: [{ serviceAccountToken: { path: "azure-identity-token", expirationSeconds } }],
        },
      }),
    ),
  );

/** Picks unique names and builds one element for each: lists as a pod holds them, keyed by name. */
function namedList(names: readonly string[], element: (name: string) => fc.Arbitrary<JsonValue>) {
  return fc
    .uniqueArray(fc.constantFrom(...names), { maxLength: names.length })
    .chain((picked) => fc.tuple(...picked.map(element)));
}

/** Present, absent, or (where a decoder would accept it) null. */
function maybe<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | null | undefined> {
  return fc.option(fc.option(arbitrary, { nil: null }), { nil: undefined });
}

function definedMembers(fields: Record<string, JsonValue | undefined>): JsonObject {
  const object: JsonObject = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) object[key] = value;
  return object;
}

const container = (name: string) =>
  withUnknown(
    fc
      .record({
        env: maybe(namedList(ENV_NAMES, envEntry)),
        volumeMounts: maybe(namedList(VOLUME_NAMES, volumeMount)),
      })
      .map(({ env, volumeMounts }) => definedMembers({ name, image: "busybox", env, volumeMounts })),
  );

/** The opt-in and configuration annotations the mutation reads, each present or not, all with valid values. */
const annotations = fc
  .record(
    {
      [INJECT_PROXY_SIDECAR_ANNOTATION]: fc.constantFrom("", "true"),
      [PROXY_SIDECAR_PORT_ANNOTATION]: fc.integer({ min: 1, max: 65535 }).map(String),
      [TOKEN_EXPIRATION_ANNOTATION]: fc.integer({ min: 3600, max: 86400 }).map(String),
      [SKIP_CONTAINERS_ANNOTATION]: fc.subarray(CONTAINER_NAMES).map((names) => names.join(";")),
      [customTokenEndpointAnnotation(CUSTOM_SUFFIX)]: fc.constantFrom("true", "True", "false"),
      "example.com/note": fc.string(),
    },
    { requiredKeys: [] },
    // Absent keys are left out rather than set to undefined, so these are plain string maps.
  )
  .map((fields) => fields as Record<string, string>);

const pod: fc.Arbitrary<JsonObject> = withUnknown(
  fc
    .record({
      metadata: fc.record({
        name: fc.constantFrom(...POD_NAMES),
        labels: fc.constant({ [USE_LABEL]: "true" }),
        annotations: maybe(annotations),
      }),
      spec: maybe(
        fc
          .record({
            serviceAccountName: fc.option(fc.constantFrom("workload", ""), { nil: undefined }),
            initContainers: maybe(namedList(INIT_CONTAINER_NAMES, container)),
            containers: namedList(CONTAINER_NAMES, container),
            volumes: maybe(namedList(VOLUME_NAMES, volume)),
            hostAliases: maybe(
              fc.array(
                fc.record({
                  ip: fc.constantFrom(EMULATION.address, "10.1.1.1"),
                  hostnames: fc.subarray([...EMULATION.hostNames, "other.example"]),
                }),
                { maxLength: 2 },
              ),
            ),
          })
          .map((spec) => definedMembers(spec)),
      ),
    })
    .map(({ metadata, spec }) =>
      definedMembers({ apiVersion: "v1", kind: "Pod", metadata: definedMembers(metadata), spec }),
    ),
);

const serviceAccount: fc.Arbitrary<ServiceAccountLike> = fc
  .record(
    {
      [CLIENT_ID_ANNOTATION]: fc.constantFrom("", "8a0e4b52-31c1-4f4b-9b5e-4c6a4a7f1d20"),
      [TENANT_ID_ANNOTATION]: fc.constant("0a1b2c3d-0000-4000-8000-000000000001"),
      [TOKEN_EXPIRATION_ANNOTATION]: fc.integer({ min: 3600, max: 86400 }).map(String),
    },
    { requiredKeys: [] },
  )
  .map((saAnnotations) => ({ metadata: { name: "workload", annotations: saAnnotations } }));

const config: fc.Arbitrary<MutationConfig> = fc
  .record({
    kubernetesVersion: fc.constantFrom("v1.31.4", "v1.32.0"),
    customTokenEndpoint: fc.option(fc.constant(CUSTOM_ENDPOINT), { nil: undefined }),
    emulation: fc.option(fc.constant(EMULATION), { nil: undefined }),
  })
  .map((options) => ({
    tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
    authorityHost: "https://login.microsoftonline.com/",
    ...options,
  }));

describe("the mutation's patches, replayed", () => {
  test("on random pods, both appliers turn the received pod and the patch into exactly the returned pod", () => {
    let allowed = 0;
    fc.assert(
      fc.property(pod, serviceAccount, config, (received, sa, mutationConfig) => {
        const outcome = mutatePod({
          pod: received,
          serviceAccount: sa,
          namespace: "default",
          config: mutationConfig,
        });
        if (!outcome.allowed) return;
        allowed += 1;
        assert.deepStrictEqual(applyJsonPatch(received, outcome.patch), outcome.pod);
        assert.deepStrictEqual(referenceApply(received, outcome.patch), outcome.pod);
      }),
      { numRuns: 300 },
    );
    // The generator makes valid pods: the property must not hold only because every pod was denied.
    assert.ok(allowed > 250, `only ${allowed} of 300 pods were admitted`);
  });
});
