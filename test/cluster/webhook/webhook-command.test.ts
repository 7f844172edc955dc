// `wikit webhook mutate` (the offline dry run) and `wikit webhook serve`, run as the real CLI process: what
// they print, their errors for unreadable files and bad settings, and the server's life from start-up against
// a fake API server to a graceful SIGTERM, with and without a shutdown delay.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { decodePatch } from "../../../src/cluster/webhook/admission-review.ts";
import { createCertificateAuthority, issueServingCertificate } from "../../../src/pki/certificates.ts";
import { runWikit } from "../../compat/local-stack.ts";
import { eventually } from "../../eventually.ts";
import { ADMISSION_REVIEW_TEXT as FIXTURE_TEXT } from "../../fixtures/kubernetes.ts";
import { FakeKubeApi } from "./fake-kube-api.ts";
import { writeFakeKubeconfig } from "./fake-kubeconfig.ts";
import { applyJsonPatch } from "./json-patch.ts";
import { postReview } from "./post-review.ts";

const MAIN = new URL("../../../src/cli/main.ts", import.meta.url).pathname;
const FIXTURE = JSON.parse(FIXTURE_TEXT);
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID = "8a0e4b52-31c1-4f4b-9b5e-4c6a4a7f1d20";
const SA_YAML = `apiVersion: v1
kind: ServiceAccount
metadata:
  name: workload-sa
  namespace: wi-probe
  annotations:
    azure.workload.identity/client-id: "${CLIENT_ID}"
`;

/** The environment without anything that configures the webhook, plus `extra`. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) =>
        !/^(CONFIG_)?(AZURE_|PROXY_|WIKIT_EMULATION_|WIKIT_AUTHORITY_HOST|POD_NAMESPACE|KUBECONFIG)/.test(
          name,
        ),
    ),
  );
  return { ...env, ...extra };
}

/** `wikit ARGS` as its own process, in the clean environment plus `env`; its exit code and output. */
const wikit = (args: string[], env: Record<string, string> = {}) => runWikit(args, { env: cleanEnv(env) });

// About twenty CLI processes, each a few seconds to start on a loaded 2-core machine.
describe("wikit webhook mutate", { timeout: 240_000 }, () => {
  let dir: string;
  const file = (name: string) => join(dir, name);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wikit-mutate-"));
    await writeFile(file("pod.json"), JSON.stringify(FIXTURE.request.object));
    await writeFile(file("review.json"), FIXTURE_TEXT);
    await writeFile(file("sa.yaml"), SA_YAML);
    await writeFile(file("bad.yaml"), "metadata: [unclosed\n");
    await writeFile(file("two.yaml"), "a: 1\n---\nb: 2\n");
    await writeFile(file("list.yaml"), "- 1\n- 2\n");
    await writeFile(file("other-sa.yaml"), SA_YAML.replace("name: workload-sa", "name: someone-else"));
    await writeFile(
      file("proxy-pod.yaml"),
      `apiVersion: v1
kind: Pod
metadata:
  name: api
  annotations:
    azure.workload.identity/inject-proxy-sidecar: "true"
spec:
  serviceAccountName: workload-sa
  containers:
  - name: api
    image: example/api:1
`,
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const base = () => ["webhook", "mutate", "--service-account", file("sa.yaml"), "--namespace", "wi-probe"];

  test("prints the mutated pod: the request's pod with the identity env, mount and projected token volume", async () => {
    const { code, stdout, stderr } = await wikit([...base(), "--pod", file("pod.json")], {
      AZURE_TENANT_ID: TENANT,
    });
    assert.equal(code, 0, stderr);
    const pod = JSON.parse(stdout);
    const sidecar = pod.spec.containers[1];
    assert.deepEqual(
      sidecar.env.map((entry: { name: string }) => entry.name),
      ["AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST"],
    );
    assert.equal(sidecar.env[0].value, CLIENT_ID);
    assert.equal(sidecar.env[1].value, TENANT);
    assert.equal(
      pod.spec.volumes.at(-1).name,
      "azure-workload-identity-reserved-c6c331958744bb3f00902fd3e50704",
    );
    assert.deepEqual(pod.metadata, FIXTURE.request.object.metadata, "metadata untouched");
  });

  test("--response prints the AdmissionResponse, whose patch gives the same pod; an AdmissionReview file keeps its uid", async () => {
    const plain = await wikit([...base(), "--pod", file("pod.json")], { AZURE_TENANT_ID: TENANT });
    const { code, stdout } = await wikit([...base(), "--pod", file("review.json"), "--response"], {
      AZURE_TENANT_ID: TENANT,
    });
    assert.equal(code, 0);
    const response = JSON.parse(stdout);
    assert.deepEqual(Object.keys(response), ["uid", "allowed", "status", "patchType", "patch"]);
    assert.equal(response.uid, FIXTURE.request.uid);
    assert.deepEqual(response.status, { code: 200 });
    assert.deepEqual(
      applyJsonPatch(FIXTURE.request.object, decodePatch(response.patch)),
      JSON.parse(plain.stdout),
    );
    const withoutUid = JSON.parse(
      (await wikit([...base(), "--pod", file("pod.json"), "--response"], { AZURE_TENANT_ID: TENANT })).stdout,
    );
    assert.deepEqual(Object.keys(withoutUid), ["allowed", "status", "patchType", "patch"]);
  });

  test("--tenant-id replaces AZURE_TENANT_ID; without either the upstream start-up error is shown", async () => {
    const flagged = await wikit([...base(), "--pod", file("pod.json"), "--tenant-id", "t-flag"]);
    assert.equal(JSON.parse(flagged.stdout).spec.containers[1].env[1].value, "t-flag");
    const missing = await wikit([...base(), "--pod", file("pod.json")]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, "wikit: required key AZURE_TENANT_ID missing value\n");
  });

  test("--service-account none: the pod would be denied, said on stderr (exit 1) or as a response (exit 0)", async () => {
    const args = [
      "webhook",
      "mutate",
      "--pod",
      file("pod.json"),
      "--service-account",
      "none",
      "--namespace",
      "wi-probe",
    ];
    const denied = await wikit(args, { AZURE_TENANT_ID: TENANT });
    assert.equal(denied.code, 1);
    assert.equal(
      denied.stderr,
      'wikit: the webhook would deny this pod with code 400: serviceaccounts "workload-sa" not found\n',
    );
    const response = await wikit([...args, "--response"], { AZURE_TENANT_ID: TENANT });
    assert.equal(response.code, 0);
    assert.deepEqual(JSON.parse(response.stdout), {
      allowed: false,
      status: { code: 400, message: 'serviceaccounts "workload-sa" not found' },
    });
  });

  const fileErrors: [string, () => string[], RegExp][] = [
    [
      "a missing pod file",
      () => ["--pod", file("nope.json")],
      /^wikit: cannot read --pod .*nope\.json: ENOENT/,
    ],
    ["unparsable YAML", () => ["--pod", file("bad.yaml")], /^wikit: cannot parse --pod .*bad\.yaml: /],
    [
      "two documents",
      () => ["--pod", file("two.yaml")],
      /holds 2 documents; give a file with exactly one object/,
    ],
    ["a list instead of an object", () => ["--pod", file("list.yaml")], /list\.yaml does not hold an object/],
  ];
  for (const [what, args, message] of fileErrors) {
    test(`${what} is a clear error`, async () => {
      const result = await wikit([...base(), ...args()], { AZURE_TENANT_ID: TENANT });
      assert.equal(result.code, 1);
      assert.match(result.stderr, message);
      assert.equal(result.stdout, "");
    });
  }

  test("a ServiceAccount file for another name or namespace is refused", async () => {
    const otherName = await wikit(
      [
        "webhook",
        "mutate",
        "--pod",
        file("pod.json"),
        "--service-account",
        file("other-sa.yaml"),
        "--namespace",
        "wi-probe",
      ],
      { AZURE_TENANT_ID: TENANT },
    );
    assert.match(
      otherName.stderr,
      /the pod uses service account "workload-sa" but --service-account holds "someone-else"/,
    );
    const otherNamespace = await wikit(
      [
        "webhook",
        "mutate",
        "--pod",
        file("pod.json"),
        "--service-account",
        file("sa.yaml"),
        "--namespace",
        "prod",
      ],
      { AZURE_TENANT_ID: TENANT },
    );
    assert.match(
      otherNamespace.stderr,
      /--service-account is in namespace "wi-probe" but --namespace is "prod"/,
    );
  });

  test("--kubernetes-version decides where the proxy goes: a native sidecar from 1.32", async () => {
    const args = [
      "webhook",
      "mutate",
      "--pod",
      file("proxy-pod.yaml"),
      "--service-account",
      file("sa.yaml"),
      "--namespace",
      "wi-probe",
    ];
    const old = JSON.parse((await wikit(args, { AZURE_TENANT_ID: TENANT })).stdout);
    assert.equal(old.spec.containers[0].name, "azwi-proxy");
    const native = JSON.parse(
      (await wikit([...args, "--kubernetes-version", "1.32.0"], { AZURE_TENANT_ID: TENANT })).stdout,
    );
    assert.equal(native.spec.initContainers[0].name, "azwi-proxy");
    assert.equal(native.spec.initContainers[0].restartPolicy, "Always");
  });

  test("configuration flags and variables shape the mutation: audience, cloud, emulation", async () => {
    const { code, stdout, stderr } = await wikit(
      [
        ...base(),
        "--pod",
        file("pod.json"),
        "--audience",
        "api://wikit",
        "--emulation-address",
        "10.96.0.50",
        "--emulation-host-names",
        "login.microsoftonline.com,myvault.vault.azure.net",
        "--emulation-ca-configmap",
        "wikit-ca",
      ],
      { AZURE_TENANT_ID: TENANT, AZURE_ENVIRONMENT: "AzureChinaCloud" },
    );
    assert.equal(code, 0, stderr);
    const pod = JSON.parse(stdout);
    assert.equal(pod.spec.volumes.at(-2).projected.sources[0].serviceAccountToken.audience, "api://wikit");
    assert.equal(
      pod.spec.containers[0].env.find((e: { name: string }) => e.name === "AZURE_AUTHORITY_HOST").value,
      "https://login.chinacloudapi.cn/",
    );
    assert.deepEqual(pod.spec.hostAliases, [
      { ip: "10.96.0.50", hostnames: ["login.microsoftonline.com", "myvault.vault.azure.net"] },
    ]);
  });

  test("an invalid setting is reported with upstream's text", async () => {
    const result = await wikit(
      [...base(), "--pod", file("pod.json"), "--custom-token-endpoint-audience", "api://x"],
      {
        AZURE_TENANT_ID: TENANT,
      },
    );
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      "wikit: custom token endpoint annotation suffix cannot be empty when audience is set\n",
    );
  });
});

describe("wikit webhook serve", { timeout: 60_000 }, () => {
  let api: FakeKubeApi;
  let dir: string;

  before(async () => {
    api = await FakeKubeApi.start({ gitVersion: "v1.33.1" });
    api.put({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: {
        name: "workload-sa",
        namespace: "wi-probe",
        annotations: { "azure.workload.identity/client-id": CLIENT_ID },
      },
    });
    dir = await mkdtemp(join(tmpdir(), "wikit-serve-"));
    await writeFakeKubeconfig(join(dir, "kubeconfig"), api.url, { token: "t" });
  });
  after(async () => {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("invalid settings stop it before anything starts", async () => {
    const result = await wikit(["webhook", "serve", "--tls-min-version", "1.4"], { AZURE_TENANT_ID: TENANT });
    assert.equal(result.code, 1);
    assert.equal(result.stderr, "wikit: invalid TLS version. Must be one of: 1.0, 1.1, 1.2, 1.3\n");
  });

  /** `wikit webhook serve` with brought-in certificates, as a child process whose JSON log lines are gathered. */
  async function startServe(extraArgs: string[] = []) {
    const ca = await createCertificateAuthority("serve test CA", 1);
    const serving = await issueServingCertificate(ca, ["127.0.0.1"], 1);
    const certDir = await mkdtemp(join(dir, "certs-"));
    await writeFile(join(certDir, "tls.crt"), serving.certPem);
    await writeFile(join(certDir, "tls.key"), serving.keyPem);
    const child = spawn(
      process.execPath,
      [
        MAIN,
        "webhook",
        "serve",
        "--disable-cert-rotation",
        "--webhook-cert-dir",
        certDir,
        "--port",
        "0",
        "--health-addr",
        "127.0.0.1:0",
        "--metrics-addr",
        "127.0.0.1:0",
        ...extraArgs,
      ],
      { env: cleanEnv({ AZURE_TENANT_ID: TENANT, KUBECONFIG: join(dir, "kubeconfig") }) },
    );
    const lines: Record<string, unknown>[] = [];
    const waiters: { message: string; resolve: (line: Record<string, unknown>) => void }[] = [];
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on("close", (code, signal) => resolve({ code, signal })),
    );
    createInterface(child.stdout).on("line", (text) => {
      const line = JSON.parse(text);
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.message === line.msg)) waiter.resolve(line);
    });
    /** The first log line with this message, logged already or still to come. */
    const logged = (message: string) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const seen = lines.find((line) => line.msg === message);
        if (seen) return resolve(seen);
        waiters.push({ message, resolve });
        exited.then(() => reject(new Error(`exited before "${message}": ${JSON.stringify(lines)}`)));
      });
    const [webhookPort, healthPort] = await Promise.all([
      logged("admission webhook listening").then((line) => Number(line.port)),
      logged("health checks listening").then((line) => Number(line.port)),
    ]);
    return { child, lines, exited, logged, webhookPort, healthPort, ca: ca.certPem };
  }

  function readyz(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      http
        .get({ host: "127.0.0.1", port, path: "/readyz", agent: false }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        })
        .on("error", reject);
    });
  }

  test("it serves the fixture with brought-in certificates, then stops gracefully on SIGTERM", async () => {
    const serve = await startServe();
    try {
      const answer = await postReview(serve.webhookPort, serve.ca, FIXTURE_TEXT);
      assert.equal(answer.status, 200);
      assert.equal(answer.json.response.allowed, true);
      const pod = applyJsonPatch(FIXTURE.request.object, decodePatch(answer.json.response.patch ?? "")) as {
        spec: { containers: { env: { name: string; value: string }[] }[] };
      };
      assert.equal(pod.spec.containers[1]?.env[0]?.value, CLIENT_ID);
      assert.ok(
        serve.lines.some(
          (line) => line.msg === "API server version read" && line.kubernetesVersion === "v1.33.1",
        ),
      );
    } finally {
      serve.child.kill("SIGTERM");
    }
    assert.deepEqual(await serve.exited, { code: 0, signal: null });
    assert.ok(serve.lines.some((line) => line.msg === "webhook stopped"));
  });

  test("with --shutdown-delay-seconds, SIGTERM makes it not ready while it still answers; then it stops", async () => {
    const serve = await startServe(["--shutdown-delay-seconds", "5"]);
    try {
      await eventually(async () => (await readyz(serve.healthPort)) === 200);
      serve.child.kill("SIGTERM");
      await serve.logged("not ready; still answering until the delay ends");
      assert.equal(await readyz(serve.healthPort), 500);
      assert.equal((await postReview(serve.webhookPort, serve.ca, FIXTURE_TEXT)).status, 200);
    } finally {
      assert.deepEqual(await serve.exited, { code: 0, signal: null });
    }
    assert.ok(serve.lines.some((line) => line.msg === "webhook stopped"));
  });

  test("a second SIGTERM during the shutdown delay ends it at once", async () => {
    const serve = await startServe(["--shutdown-delay-seconds", "600"]);
    serve.child.kill("SIGTERM");
    await serve.logged("not ready; still answering until the delay ends");
    serve.child.kill("SIGTERM");
    assert.deepEqual(await serve.exited, { code: null, signal: "SIGTERM" });
  });
});
