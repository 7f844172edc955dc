// What `wikit doctor` costs on a cluster with many labelled pods, against what merely listing them costs. A Kubernetes
// API server on loopback (the faithful fake of the tests, over HTTPS with a bearer token, as a kubeconfig reaches a
// real one) holds wikit's webhook, `--deployments` Deployments of `--replicas` pods each (admitted by the webhook's
// own mutation code, every fifth Deployment's pods without it), their ReplicaSets and service accounts. Measured,
// in alternating runs:
//   baseline  the labelled pods and the service accounts listed through @kubernetes/client-node, as
//             `kubectl get pods -A -l azure.workload.identity/use` and `kubectl get sa -A` read them: the floor;
//   doctor    everything the doctor reads (readClusterSnapshot) and its diagnosis (diagnoseCluster), with the
//             public issuer's documents answered from memory, so that only the cluster side is timed.
// Medians of each, and the ratio doctor / baseline.
//
//   node bench/doctor.ts [--deployments 100] [--replicas 20] [--runs 7]

import { generateKeyPairSync } from "node:crypto";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { diagnoseCluster } from "../src/cluster/doctor/cluster-diagnosis.ts";
import { readClusterSnapshot } from "../src/cluster/doctor/cluster-reader.ts";
import { DISCOVERY_PATH, issuerDocuments, JWKS_PATH } from "../src/cluster/issuer/issuer-files.ts";
import { USE_LABEL } from "../src/cluster/webhook/constants.ts";
import { createCertificateAuthority, issueServingCertificate } from "../src/pki/certificates.ts";
import {
  deployment,
  pod,
  replicaSet,
  serviceAccount,
  webhookObjects,
} from "../test/cluster/doctor/doctor-fixtures.ts";
import { FakeKubeApi } from "../test/cluster/webhook/fake-kube-api.ts";
import { median, option } from "./load.ts";

const deployments = option("deployments", 100);
const replicas = option("replicas", 20);
const runs = option("runs", 7);
const TOKEN = "bench-token";
const ISSUER = "https://oidc.example.com/bench-cluster/";

const kubeCa = await createCertificateAuthority("bench kube CA", 1);
const serving = await issueServingCertificate(kubeCa, ["127.0.0.1"], 1);
const webhookCa = await createCertificateAuthority("azure-workload-identity-ca", 3650);
const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const documents = issuerDocuments(ISSUER, [publicKey]);

const api = await FakeKubeApi.start({
  tls: { certPem: serving.certPem, keyPem: serving.keyPem, caPem: kubeCa.certPem },
  token: TOKEN,
  serviceAccountIssuer: { discovery: JSON.parse(documents.discovery), jwks: JSON.parse(documents.jwks) },
});
for (const object of Object.values(webhookObjects(webhookCa.certPem))) api.put(object as never);
for (let index = 0; index < deployments; index += 1) {
  const namespace = `team-${index % 10}`;
  const name = `app-${index}`;
  const account = serviceAccount(`${name}-sa`, { namespace });
  api.put(account as never);
  api.put(
    deployment(
      name,
      { template: { [USE_LABEL]: "true" } },
      { namespace, serviceAccountName: `${name}-sa` },
    ) as never,
  );
  api.put(replicaSet(`${name}-7d4b9c`, name, namespace) as never);
  const admittedWith = index % 5 === 4 ? undefined : account;
  for (let replica = 0; replica < replicas; replica += 1) {
    api.put(
      pod(
        {
          name: `${name}-7d4b9c-${replica}`,
          generateName: `${name}-7d4b9c-`,
          namespace,
          serviceAccountName: `${name}-sa`,
          owner: { kind: "ReplicaSet", name: `${name}-7d4b9c` },
        },
        admittedWith,
      ) as never,
    );
  }
}
const kubeConfig: KubeConfig = api.kubeConfig();
const fromMemory = async (url: string) => ({
  ok: true as const,
  status: 200,
  contentType: "application/json",
  body: url.endsWith(JWKS_PATH) ? documents.jwks : url.endsWith(DISCOVERY_PATH) ? documents.discovery : "{}",
});

async function baseline(): Promise<number> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const [pods] = await Promise.all([
    core.listPodForAllNamespaces({ labelSelector: USE_LABEL }),
    core.listServiceAccountForAllNamespaces(),
  ]);
  return pods.items.length;
}

/** Milliseconds of the doctor's diagnosis alone, per run: the pure part of its time. */
const diagnosisMs: number[] = [];

async function doctor(): Promise<number> {
  const snapshot = await readClusterSnapshot(kubeConfig, undefined);
  const started = performance.now();
  const diagnosis = await diagnoseCluster(snapshot, { fetchDocument: fromMemory, now: new Date() });
  diagnosisMs.push(performance.now() - started);
  return diagnosis.workloads.length;
}

async function timed(run: () => Promise<number>): Promise<{ ms: number; count: number }> {
  const started = performance.now();
  const count = await run();
  return { ms: performance.now() - started, count };
}

try {
  // One warm-up of each: connections, JIT.
  const listed = (await timed(baseline)).count;
  const rows = (await timed(doctor)).count;
  const samples = { baseline: [] as number[], doctor: [] as number[] };
  for (let run = 0; run < runs; run += 1) {
    samples.baseline.push((await timed(baseline)).ms);
    samples.doctor.push((await timed(doctor)).ms);
  }
  const baselineMs = median(samples.baseline);
  const doctorMs = median(samples.doctor);
  console.log(
    `${deployments} Deployments × ${replicas} pods: ${listed} labelled pods listed, ${rows} rows diagnosed, ${runs} runs each`,
  );
  console.log(`baseline (list pods + service accounts)  median ${baselineMs.toFixed(0)} ms`);
  console.log(`wikit doctor (read + diagnose)           median ${doctorMs.toFixed(0)} ms`);
  console.log(
    `  of which the diagnosis (pure)          median ${median(diagnosisMs.slice(1)).toFixed(0)} ms`,
  );
  console.log(`ratio doctor / baseline                  ${(doctorMs / baselineMs).toFixed(2)}×`);
} finally {
  await api.close();
}
