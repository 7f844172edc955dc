// `wikit doctor` as the real CLI process against a faithful fake API server on loopback (HTTPS, bearer token,
// a kubeconfig file written for it) and a public issuer served by `wikit issuer serve`'s server: labelled pods
// admitted by the project's real mutation code or not at all, the table and JSON it prints, the exit code, the
// issuer's keys compared, and --repair restarting exactly the workloads a restart fixes.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { issuerDocuments } from "../../src/cluster/issuer/issuer-files.ts";
import { type StaticIssuer, startStaticIssuer } from "../../src/cluster/issuer/static-issuer-server.ts";
import { createCertificateAuthority, issueServingCertificate } from "../../src/pki/certificates.ts";
import { keyIdOf } from "../../src/signing-keys/key-id.ts";
import {
  deployment,
  LABELS,
  NAMESPACE,
  pod,
  replicaSet,
  serviceAccount,
  webhookObjects,
} from "../cluster/doctor/doctor-fixtures.ts";
import { FakeKubeApi } from "../cluster/webhook/fake-kube-api.ts";
import { writeFakeKubeconfig } from "../cluster/webhook/fake-kubeconfig.ts";
import { freePort } from "../compat/issuer-host.ts";
import { runWikit } from "../compat/local-stack.ts";

const MAIN = new URL("../../src/cli/main.ts", import.meta.url).pathname;
const TOKEN = "doctor-token";
const signingKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
const nextKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;

/** util-linux `script` gives the CLI a terminal, for the confirmation question. */

/** No wikit runs in this data directory, so the doctor checks no federated credentials (see doctor-wikit-up). */
let emptyWikitHome = "";

function wikit(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== "KUBECONFIG")),
    WIKIT_HOME: emptyWikitHome,
  };
  return runWikit(args, { env });
}

interface Row {
  namespace: string;
  workload: string;
  pod: string;
  serviceAccount: string;
  clientId: string;
  mutated: string;
  problem: string;
}

describe("wikit doctor against a cluster", () => {
  let dir: string;
  let api: FakeKubeApi;
  let issuerServer: StaticIssuer;
  let issuer: string;
  let kubeconfig: string;
  let issuerCaFile: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wikit-doctor-"));
    emptyWikitHome = join(dir, "wikit-home");
    const kubeCa = await createCertificateAuthority("fake kube CA", 1);
    const kubeServing = await issueServingCertificate(kubeCa, ["127.0.0.1"], 1);
    const issuerCa = await createCertificateAuthority("issuer CA", 1);
    const issuerServing = await issueServingCertificate(issuerCa, ["127.0.0.1"], 1);
    const webhookCa = await createCertificateAuthority("azure-workload-identity-ca", 3650);

    // The public issuer, published as `wikit issuer init` lays it out and served by `wikit issuer serve`'s server.
    const port = await freePort();
    issuer = `https://127.0.0.1:${port}/cluster-1`;
    const published = issuerDocuments(issuer, [signingKey]);
    await mkdir(join(dir, "issuer", "public", ".well-known"), { recursive: true });
    await mkdir(join(dir, "issuer", "public", "openid", "v1"), { recursive: true });
    await writeFile(
      join(dir, "issuer", "public", ".well-known", "openid-configuration"),
      published.discovery,
    );
    await writeFile(join(dir, "issuer", "public", "openid", "v1", "jwks"), published.jwks);
    issuerServer = await startStaticIssuer({
      dir: join(dir, "issuer"),
      hosts: ["127.0.0.1"],
      tls: issuerServing,
      port,
      bindAddress: "127.0.0.1",
    });
    issuerCaFile = join(dir, "issuer-ca.crt");
    await writeFile(issuerCaFile, issuerCa.certPem);

    api = await FakeKubeApi.start({
      tls: { certPem: kubeServing.certPem, keyPem: kubeServing.keyPem, caPem: kubeCa.certPem },
      token: TOKEN,
      serviceAccountIssuer: {
        discovery: JSON.parse(published.discovery),
        jwks: JSON.parse(published.jwks),
      },
    });
    kubeconfig = join(dir, "kubeconfig");
    await writeFakeKubeconfig(kubeconfig, api.url, {
      caPem: kubeCa.certPem,
      token: TOKEN,
      otherContexts: ["elsewhere"],
      currentContext: "elsewhere",
    });

    const webhook = webhookObjects(webhookCa.certPem);
    for (const object of Object.values(webhook)) api.put(object as never);
    api.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } });
    const identitySa = serviceAccount("workload-identity-sa");
    api.put(identitySa as never);
    // Created a day after the pods that use it: those pods were admitted before it existed.
    api.put(serviceAccount("late-sa", { created: "2026-06-02T00:00:00Z" }) as never);

    api.put(deployment("api", { template: LABELS }) as never);
    api.put(replicaSet("api-6b7c9d8f5", "api") as never);
    api.put(
      pod(
        {
          name: "api-6b7c9d8f5-q7w2e",
          generateName: "api-6b7c9d8f5-",
          serviceAccountName: "workload-identity-sa",
          owner: { kind: "ReplicaSet", name: "api-6b7c9d8f5" },
        },
        identitySa,
      ) as never,
    );
    api.put(deployment("late", { template: LABELS }, { serviceAccountName: "late-sa" }) as never);
    api.put(replicaSet("late-7f9c", "late") as never);
    api.put(
      pod({
        name: "late-7f9c-abcde",
        generateName: "late-7f9c-",
        serviceAccountName: "late-sa",
        owner: { kind: "ReplicaSet", name: "late-7f9c" },
      }) as never,
    );
    api.put(pod({ name: "debug", serviceAccountName: "workload-identity-sa" }) as never);
    api.put(deployment("web", { metadata: LABELS }) as never);
  });

  after(async () => {
    await api?.close();
    await issuerServer?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const base = () => ["doctor", "--kubeconfig", kubeconfig, "--context", "fake", "--ca-file", issuerCaFile];

  test("-o json: every labelled pod and workload with its state and cause; the issuer and webhook pass; exit 1", async () => {
    const result = await wikit([...base(), "-o", "json"]);
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as {
      clusterIssuer: string;
      findings: { area: string; level: string; message: string }[];
      workloads: Row[];
    };
    assert.equal(report.clusterIssuer, issuer);
    const notOk = report.findings.filter((finding) => finding.area !== "workloads" && finding.level !== "ok");
    assert.deepEqual(notOk, []);
    assert.ok(
      report.findings.some((finding) => /holds every key the API server publishes/.test(finding.message)),
    );
    assert.deepEqual(
      report.workloads.map((row) => [row.workload, row.pod, row.serviceAccount, row.mutated]),
      [
        ["-", "debug", "workload-identity-sa", "no"],
        ["Deployment/api", "api-6b7c9d8f5-q7w2e", "workload-identity-sa", "yes"],
        ["Deployment/late", "late-7f9c-abcde", "late-sa", "no"],
        ["Deployment/web", "-", "workload-identity-sa", "no"],
      ],
    );
    const [debug, api_, late, web] = report.workloads;
    assert.equal(api_?.problem, "");
    assert.equal(api_?.clientId, "8a0e4b52-31c1-4f4b-9b5e-4c6a4a7f1d20");
    assert.match(
      late?.problem ?? "",
      /service account late-sa was created \(2026-06-02T00:00:00Z\) after the pod/,
    );
    assert.match(debug?.problem ?? "", /did not mutate it: check the webhook's logs/);
    assert.match(web?.problem ?? "", /label the pod template/);
    assert.match(
      result.stderr,
      /^ok +webhook: MutatingWebhookConfiguration wikit-webhook sends labelled pods/m,
    );
    assert.match(result.stderr, /^PROBLEM {2}workloads: 3 of 4 labelled pods or workloads in any namespace/m);
  });

  test("-o table: az's table of the workloads", async () => {
    const result = await wikit([...base(), "--namespace", NAMESPACE, "-o", "table"]);
    assert.equal(result.code, 1);
    const lines = result.stdout.trimEnd().split("\n");
    assert.match(
      lines[0] ?? "",
      /^Namespace\s+Workload\s+Pod\s+ServiceAccount\s+ClientId\s+Mutated\s+Problem$/,
    );
    assert.match(lines[1] ?? "", /^-+\s+-+/);
    assert.match(
      lines[3] ?? "",
      /^wlipoc\s+Deployment\/api\s+api-6b7c9d8f5-q7w2e\s+workload-identity-sa\s+8a0e4b52-\S+\s+yes$/,
    );
    assert.equal(lines.length, 6);
  });

  test("a kubeconfig context that does not exist is named, with the ones that do", async () => {
    const result = await wikit(["doctor", "--kubeconfig", kubeconfig, "--context", "nope"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /the kubeconfig has no context 'nope'; it has: fake, elsewhere/);
  });

  test("a key the API server signs with that the public JWKS lacks is a problem that names its kid", async () => {
    api.setServiceAccountIssuer({
      discovery: JSON.parse(issuerDocuments(issuer, [signingKey, nextKey]).discovery),
      jwks: JSON.parse(issuerDocuments(issuer, [signingKey, nextKey]).jwks),
    });
    try {
      const result = await wikit([...base(), "--issuer-url", issuer, "-o", "none"]);
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        new RegExp(
          `^PROBLEM  issuer: key ${keyIdOf(nextKey)}, which the API server publishes .* is not in the public JWKS`,
          "m",
        ),
      );
    } finally {
      api.setServiceAccountIssuer({
        discovery: JSON.parse(issuerDocuments(issuer, [signingKey]).discovery),
        jwks: JSON.parse(issuerDocuments(issuer, [signingKey]).jwks),
      });
    }
  });

  // util-linux's `script` (Debian's essential bsdutils) gives the command a terminal.
  test("--repair on a terminal asks first, and an answer other than yes restarts nothing", async () => {
    const command = [process.execPath, MAIN, ...base(), "--repair", "-o", "none"]
      .map((arg) => `'${arg}'`)
      .join(" ");
    const child = spawn("script", ["-qec", command, "/dev/null"], {
      env: { ...process.env, WIKIT_HOME: emptyWikitHome },
    });
    let output = "";
    let answered = false;
    child.stdin.on("error", () => {}); // the command may have exited before the answer is flushed
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk;
      if (!answered && output.includes("[y/N]")) {
        answered = true;
        child.stdin.write("n\n");
      }
    });
    const code = await new Promise<number>((resolve) => child.on("close", (exit) => resolve(exit ?? -1)));
    assert.match(output, /Restart wlipoc\/Deployment\/late\? \[y\/N\]/);
    assert.match(output, /wikit: nothing was restarted/);
    assert.equal(code, 1);
    assert.equal(api.requestsMatching({ verb: "patch" }).length, 0);
  });

  test("--repair without a terminal and without --yes refuses and changes nothing", async () => {
    const result = await wikit([...base(), "--repair", "-o", "none"]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /--repair would restart wlipoc\/Deployment\/late: there is no terminal to confirm on; add --yes/,
    );
    assert.equal(api.requestsMatching({ verb: "patch" }).length, 0);
  });

  test("--repair --yes restarts the Deployment whose pod a restart fixes, as kubectl rollout restart does", async () => {
    const before = api.get("apps/v1", "Deployment", NAMESPACE, "late");
    const started = Date.now();
    const result = await wikit([...base(), "--repair", "--yes", "-o", "json"]);
    assert.equal(result.code, 1, result.stderr);
    const patched = api.requestsMatching({ verb: "patch" }).map((request) => request.path);
    assert.deepEqual(patched, ["/apis/apps/v1/namespaces/wlipoc/deployments/late"]);
    const late = api.get("apps/v1", "Deployment", NAMESPACE, "late") as {
      metadata: { generation: number };
      spec: {
        template: { metadata: { annotations?: Record<string, string>; labels: Record<string, string> } };
      };
    };
    const restartedAt = late.spec.template.metadata.annotations?.["kubectl.kubernetes.io/restartedAt"] ?? "";
    assert.match(restartedAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    assert.ok(Date.parse(restartedAt) >= Math.floor(started / 1000) * 1000);
    assert.equal(late.metadata.generation, Number(before?.metadata?.generation) + 1);
    assert.deepEqual(late.spec.template.metadata.labels, { app: "late", ...LABELS });
    const apiDeployment = api.get("apps/v1", "Deployment", NAMESPACE, "api") as {
      spec: { template: { metadata: { annotations?: unknown } } };
    };
    assert.equal(apiDeployment.spec.template.metadata.annotations, undefined);
    assert.match(result.stderr, /^recreate wlipoc\/debug: a bare pod must be recreated/m);
    assert.match(result.stderr, /^restarted wlipoc\/Deployment\/late$/m);
    const report = JSON.parse(result.stdout) as { repair: { restarted: { kind: string; name: string }[] } };
    assert.deepEqual(
      report.repair.restarted.map((workload) => `${workload.kind}/${workload.name}`),
      ["Deployment/late"],
    );
  });
});
