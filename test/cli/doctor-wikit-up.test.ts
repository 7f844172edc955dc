// `wikit doctor --data-dir` against a real `wikit up`: each labelled pod's client ID is looked up among the
// running wikit's identities, and its federated credential compared with what the pod's token will carry — the
// cluster's issuer (from the API server), system:serviceaccount:<ns>:<sa> and the audience — naming the field
// that differs. The cluster is the faithful fake API server; the pods are admitted by the real mutation code.

import assert from "node:assert/strict";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { issuerDocuments } from "../../src/cluster/issuer/issuer-files.ts";
import { createCertificateAuthority } from "../../src/pki/certificates.ts";
import { pod, serviceAccount, webhookObjects } from "../cluster/doctor/doctor-fixtures.ts";
import { FakeKubeApi } from "../cluster/webhook/fake-kube-api.ts";
import { writeFakeKubeconfig } from "../cluster/webhook/fake-kubeconfig.ts";
import {
  identityWithCredential,
  newDataDir,
  runWikit,
  wikitOk,
  wikit as wikitSync,
} from "../compat/local-stack.ts";

// Nothing listens on port 9: the public issuer check fails fast, which this test does not look at.
const ISSUER = "https://127.0.0.1:9/cluster-1/";

/** `wikit doctor ARGS` as its own process; its exit code and output. */
const doctor = (args: string[]) => runWikit(["doctor", ...args]);

describe("wikit doctor with a running wikit", { timeout: 300_000 }, () => {
  const dataDir = newDataDir();
  let dir = "";
  let api: FakeKubeApi;
  let kubeconfig = "";
  const clientIds: Record<string, string> = {};

  const ok = (args: string[]) => wikitOk(dataDir, args);
  /** Managed identity `name` in rg-doctor, trusting `issuer` and `subject`; its client ID goes to clientIds. */
  const identityFor = (name: string, issuer: string, subject: string) => {
    clientIds[name] = identityWithCredential(
      dataDir,
      { group: "rg-doctor", identity: name, credential: "kube" },
      issuer,
      subject,
    );
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wikit-doctor-up-"));
    // The CLI runs synchronously here, before the in-process API server exists.
    ok(["up", "--port", "0", "--detach"]);
    ok(["group", "create", "-n", "rg-doctor", "-o", "none"]);
    identityFor("mi-good", ISSUER, "system:serviceaccount:wlipoc:good-sa");
    identityFor("mi-slash", ISSUER.replace(/\/$/, ""), "system:serviceaccount:wlipoc:slash-sa");

    const documents = issuerDocuments(ISSUER, [
      generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey,
    ]);
    api = await FakeKubeApi.start({
      serviceAccountIssuer: { discovery: JSON.parse(documents.discovery), jwks: JSON.parse(documents.jwks) },
    });
    const webhookCa = await createCertificateAuthority("azure-workload-identity-ca", 365);
    for (const object of Object.values(webhookObjects(webhookCa.certPem))) api.put(object as never);
    const accounts = {
      "good-sa": clientIds["mi-good"],
      "slash-sa": clientIds["mi-slash"],
      "stranger-sa": randomUUID(),
    };
    for (const [name, clientId] of Object.entries(accounts)) {
      const account = serviceAccount(name, { clientId: clientId ?? "" });
      api.put(account as never);
      api.put(pod({ name: name.replace(/-sa$/, ""), serviceAccountName: name }, account) as never);
    }
    kubeconfig = join(dir, "kubeconfig");
    await writeFakeKubeconfig(kubeconfig, api.url);
  });

  after(async () => {
    await api?.close();
    wikitSync(dataDir, ["down"]);
    await rm(dir, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  });

  test("each pod's credential is checked at wikit; the differing field of the nearest one is named", async () => {
    const result = await doctor(["--kubeconfig", kubeconfig, "--data-dir", dataDir, "-o", "json"]);
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as {
      findings: { area: string; level: string; message: string }[];
      workloads: { pod: string; clientId: string; mutated: string; problem: string }[];
    };
    const byPod = Object.fromEntries(report.workloads.map((row) => [row.pod, row]));
    assert.equal(byPod.good?.mutated, "yes");
    assert.equal(byPod.good?.problem, "");
    assert.equal(byPod.good?.clientId, clientIds["mi-good"]);
    assert.equal(
      byPod.slash?.problem,
      `managed identity 'mi-slash''s nearest federated credential 'kube' differs in issuer: the credential names '${ISSUER.replace(/\/$/, "")}', the cluster's tokens carry '${ISSUER}' (they differ in the trailing '/')`,
    );
    assert.match(byPod.stranger?.problem ?? "", /names no managed identity or app registration in wikit/);
    const credentials = report.findings.filter((finding) => finding.area === "credentials");
    assert.deepEqual(
      credentials.map((finding) => finding.level),
      ["problem"],
    );
    assert.match(
      credentials[0]?.message ?? "",
      /^2 of 3 labelled pods with a client ID would fail the token exchange at wikit/,
    );
  });
});
