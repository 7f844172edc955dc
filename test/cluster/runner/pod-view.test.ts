// How `wikit run` sees a local process as a pod: the stand-in pod goes through the webhook's real mutation,
// and podView reads back the four AZURE_* variables and the projected token the container would get.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { podView, RUN_CONTAINER, standInPod } from "../../../src/cluster/runner/pod-view.ts";
import {
  CLIENT_ID_ANNOTATION,
  TENANT_ID_ANNOTATION,
  TOKEN_EXPIRATION_ANNOTATION,
  USE_LABEL,
} from "../../../src/cluster/webhook/constants.ts";
import { type MutationConfig, mutatePod } from "../../../src/cluster/webhook/mutation.ts";
import {
  federatedTokenFile,
  type ServiceAccountLike,
  tokenMountPath,
} from "../../../src/cluster/webhook/pod-facts.ts";
import type { JsonObject } from "../../../src/json/json-value.ts";

const CLIENT_ID = "5a1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const CONFIG_TENANT = "11111111-2222-3333-4444-555555555555";
const config: MutationConfig = { tenantId: CONFIG_TENANT, authorityHost: "https://localhost:8443/" };

function serviceAccount(annotations: Record<string, string> = {}): ServiceAccountLike {
  return { metadata: { name: "api", annotations: { [CLIENT_ID_ANNOTATION]: CLIENT_ID, ...annotations } } };
}

/** The stand-in pod through the real mutation; fails the test on a denial. */
function mutated(
  account: ServiceAccountLike | undefined,
  env: Record<string, string> = {},
  mutation: MutationConfig = config,
) {
  const pod = standInPod("payments", "api", env);
  const outcome = mutatePod({
    pod: pod.manifest,
    serviceAccount: account,
    namespace: "payments",
    config: mutation,
  });
  if (!outcome.allowed) throw new Error(`denied: ${outcome.message}`);
  return { pod, mutated: outcome.pod };
}

describe("standInPod", () => {
  test("a labelled pod in the namespace, running the service account, with one container", () => {
    const pod = standInPod("payments", "api", {});
    assert.match(pod.name, /^wikit-run-[0-9a-f]{6}$/);
    assert.match(pod.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual(pod.manifest, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: pod.name, namespace: "payments", labels: { [USE_LABEL]: "true" } },
      spec: { serviceAccountName: "api", containers: [{ name: RUN_CONTAINER, image: "local-process" }] },
    });
  });

  test("the container's own env, in order", () => {
    const pod = standInPod("payments", "api", { LOG_LEVEL: "debug", AZURE_CLIENT_ID: "mine" });
    const spec = pod.manifest.spec as { containers: JsonObject[] };
    assert.deepEqual(spec.containers[0]?.env, [
      { name: "LOG_LEVEL", value: "debug" },
      { name: "AZURE_CLIENT_ID", value: "mine" },
    ]);
  });

  test("each stand-in pod has its own name and uid", () => {
    const first = standInPod("payments", "api", {});
    const second = standInPod("payments", "api", {});
    assert.notEqual(first.name, second.name);
    assert.notEqual(first.uid, second.uid);
  });
});

describe("podView of the mutated stand-in pod", () => {
  test("the four AZURE_* variables: client ID from the annotation, tenant from config, authority with its slash", () => {
    const { pod, mutated: result } = mutated(serviceAccount());
    const view = podView(result);
    assert.deepEqual(view.env, {
      AZURE_CLIENT_ID: CLIENT_ID,
      AZURE_TENANT_ID: CONFIG_TENANT,
      AZURE_FEDERATED_TOKEN_FILE: federatedTokenFile(pod.name),
      AZURE_AUTHORITY_HOST: "https://localhost:8443/",
    });
    assert.ok(view.env.AZURE_AUTHORITY_HOST?.endsWith("/"));
  });

  test("the tenant-id annotation wins over the configured tenant", () => {
    const tenant = "99999999-8888-7777-6666-555555555555";
    const view = podView(mutated(serviceAccount({ [TENANT_ID_ANNOTATION]: tenant })).mutated);
    assert.equal(view.env.AZURE_TENANT_ID, tenant);
  });

  test("the projected token: api://AzureADTokenExchange, 3600 s, mounted where AZURE_FEDERATED_TOKEN_FILE points", () => {
    const { pod, mutated: result } = mutated(serviceAccount());
    const view = podView(result);
    assert.deepEqual(view.token, {
      audience: "api://AzureADTokenExchange",
      expirationSeconds: 3600,
      mountPath: tokenMountPath(pod.name),
      path: "token/azure-identity-token",
    });
    assert.equal(view.env.AZURE_FEDERATED_TOKEN_FILE, `${view.token.mountPath}/${view.token.path}`);
  });

  test("the service account's expiration annotation sets the token lifetime", () => {
    const view = podView(mutated(serviceAccount({ [TOKEN_EXPIRATION_ANNOTATION]: "86400" })).mutated);
    assert.equal(view.token.expirationSeconds, 86400);
  });

  test("a configured audience is the token's audience", () => {
    const view = podView(mutated(serviceAccount(), {}, { ...config, audience: "api://wikit" }).mutated);
    assert.equal(view.token.audience, "api://wikit");
  });

  test("the container's own env stays and wins over injected variables, as in a pod spec", () => {
    const view = podView(
      mutated(serviceAccount(), {
        AZURE_CLIENT_ID: "from-env",
        AZURE_AUTHORITY_HOST: "https://sts.example.test/",
      }).mutated,
    );
    assert.equal(view.env.AZURE_CLIENT_ID, "from-env");
    assert.equal(view.env.AZURE_AUTHORITY_HOST, "https://sts.example.test/");
    assert.equal(view.env.AZURE_TENANT_ID, CONFIG_TENANT);
  });

  test("a service account without a client-id annotation gives no AZURE_CLIENT_ID", () => {
    const view = podView(mutated({ metadata: { name: "api" } }).mutated);
    assert.equal("AZURE_CLIENT_ID" in view.env, false);
    assert.equal(view.env.AZURE_TENANT_ID, CONFIG_TENANT);
  });

  test("env entries without a literal value (valueFrom) are left out", () => {
    const { mutated: result } = mutated(serviceAccount());
    const spec = result.spec as { containers: { env: JsonObject[] }[] };
    spec.containers[0]?.env.push({
      name: "FROM_SECRET",
      valueFrom: { secretKeyRef: { name: "s", key: "k" } },
    });
    assert.equal("FROM_SECRET" in podView(result).env, false);
  });

  test("a pod without the run container, or without the token volume, is refused", () => {
    assert.throws(
      () => podView({ spec: { containers: [{ name: "other" }] } }),
      /the mutated pod lost its container/,
    );
    const { mutated: result } = mutated(serviceAccount());
    (result.spec as JsonObject).volumes = [];
    assert.throws(
      () => podView(result),
      /no projected service-account token behind AZURE_FEDERATED_TOKEN_FILE/,
    );
  });
});
