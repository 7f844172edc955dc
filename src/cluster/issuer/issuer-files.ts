// What a self-managed cluster needs to be its own OIDC issuer (walkthrough W4), as files: the discovery document and
// the JWKS at exactly the paths token services fetch (`{issuer}/.well-known/openid-configuration` and
// `{issuer}/openid/v1/jwks`), and the kube-apiserver flags that make the cluster sign with the key and name the
// issuer, for each way of running one. Pure: the issuer URL and keys in, text out.

import type { KeyObject } from "node:crypto";
import { issuerDiscoveryDocument } from "./discovery.ts";
import { verificationJwk } from "./public-key-jwks.ts";

/** Paths of the published documents, relative to where the issuer URL points. */
export const DISCOVERY_PATH = ".well-known/openid-configuration";
export const JWKS_PATH = "openid/v1/jwks";

export class IssuerUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IssuerUrlError";
  }
}

/**
 * An issuer URL kube-apiserver serves discovery for and token services accept: https, no query or fragment. It is
 * kept exactly as given: federated credentials must name it byte for byte, trailing slash included.
 */
export function checkIssuerUrl(issuer: string): string {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new IssuerUrlError(
      `'${issuer}' is not a URL; the issuer must be an https URL such as https://oidc.example.com/cluster-1/`,
    );
  }
  if (url.protocol !== "https:")
    throw new IssuerUrlError(
      `the issuer '${issuer}' must use https: token services fetch its keys over https only`,
    );
  if (url.search || url.hash || issuer.includes("?") || issuer.includes("#")) {
    throw new IssuerUrlError(`the issuer '${issuer}' must have no query or fragment`);
  }
  return issuer;
}

/** The discovery document and JWKS of an issuer whose tokens the given keys sign or verify. */
export function issuerDocuments(
  issuer: string,
  keys: readonly KeyObject[],
): { discovery: string; jwks: string } {
  const jwks = keys.map(verificationJwk);
  return {
    discovery: `${JSON.stringify(issuerDiscoveryDocument(issuer, jwks), null, 2)}\n`,
    jwks: `${JSON.stringify({ keys: jwks }, null, 2)}\n`,
  };
}

/** The key files the apiserver is started with, by name in the issuer directory (and on the node). */
export interface KeyFileNames {
  /** The key that signs new tokens. */
  signingKey: string;
  /** Every verification key: all of them are published, and tokens any of them signed are accepted. */
  publicKeys: readonly string[];
}

/** What `issuer init` writes, and what a finished rotation leaves. */
export const DEFAULT_KEY_FILES: KeyFileNames = { signingKey: "sa.key", publicKeys: ["sa.pub"] };

export type Distribution = "kubeadm" | "minikube" | "kind" | "k3s";

/**
 * Where each distribution keeps the keys: kubeadm's own service-account key folder (kind mounts the files there);
 * minikube's certificate folder, which it fills from ~/.minikube/files/var/lib/minikube/certs/; a folder of k3s's.
 */
export const KEY_FILE_DIRECTORIES: Readonly<Record<Distribution, string>> = {
  kubeadm: "/etc/kubernetes/pki",
  minikube: "/var/lib/minikube/certs",
  kind: "/etc/kubernetes/pki",
  k3s: "/etc/rancher/k3s",
};

/** The files' paths on a distribution's control-plane node. */
function onNode(
  distribution: Distribution,
  files: KeyFileNames,
): { signingKey: string; publicKeys: string[] } {
  const directory = KEY_FILE_DIRECTORIES[distribution];
  return {
    signingKey: `${directory}/${files.signingKey}`,
    publicKeys: files.publicKeys.map((name) => `${directory}/${name}`),
  };
}

/**
 * kubeadm's ClusterConfiguration members that set the issuer and the key files (kind patches the same). One
 * verification key fits v1beta3's map of extraArgs; several need v1beta4's list (kubeadm 1.31+), where a flag may
 * repeat.
 */
function clusterConfigurationArgs(
  issuer: string,
  files: { signingKey: string; publicKeys: string[] },
): string[] {
  const apiServer: [string, string][] = [
    ["service-account-issuer", issuer],
    ["service-account-signing-key-file", files.signingKey],
    ...files.publicKeys.map((file): [string, string] => ["service-account-key-file", file]),
  ];
  const controllerManager: [string, string][] = [["service-account-private-key-file", files.signingKey]];
  const args = (pairs: [string, string][]) =>
    files.publicKeys.length > 1
      ? pairs.flatMap(([name, value]) => [`    - name: ${name}`, `      value: ${value}`])
      : pairs.map(([name, value]) => `    ${name}: ${value}`);
  return [
    ...(files.publicKeys.length > 1 ? ["apiVersion: kubeadm.k8s.io/v1beta4"] : []),
    "apiServer:",
    "  extraArgs:",
    ...args(apiServer),
    "controllerManager:",
    "  extraArgs:",
    ...args(controllerManager),
  ];
}

/**
 * The flags each way of running a cluster takes to name the issuer, sign with one key and verify with every
 * published one, as shell or YAML text. The files are named as in the issuer directory; each distribution keeps
 * them in its own folder on the node.
 */
export function apiServerFlags(
  issuer: string,
  files: KeyFileNames = DEFAULT_KEY_FILES,
): Record<Distribution, string> {
  const kubeadm = onNode("kubeadm", files);
  const minikube = onNode("minikube", files);
  const kind = onNode("kind", files);
  const k3s = onNode("k3s", files);
  const continued = (lines: string[]) =>
    lines.map((line, index) => (index < lines.length - 1 ? `${line} \\` : line));
  return {
    kubeadm: [
      "# ClusterConfiguration (kubeadm init --config …):",
      ...clusterConfigurationArgs(issuer, kubeadm),
    ].join("\n"),
    minikube: continued([
      "minikube start",
      `  --extra-config=apiserver.service-account-issuer=${issuer}`,
      `  --extra-config=apiserver.service-account-signing-key-file=${minikube.signingKey}`,
      ...minikube.publicKeys.map((file) => `  --extra-config=apiserver.service-account-key-file=${file}`),
      `  --extra-config=controller-manager.service-account-private-key-file=${minikube.signingKey}`,
    ]).join("\n"),
    kind: [
      "# kind create cluster --config kind.yaml, with the key files mounted into the node:",
      "kind: Cluster",
      "apiVersion: kind.x-k8s.io/v1alpha4",
      "nodes:",
      "  - role: control-plane",
      "    extraMounts:",
      ...[files.signingKey, ...files.publicKeys].map(
        (name) =>
          `      - {hostPath: ./${name}, containerPath: ${KEY_FILE_DIRECTORIES.kind}/${name}, readOnly: true}`,
      ),
      "    kubeadmConfigPatches:",
      "      - |",
      "        kind: ClusterConfiguration",
      ...clusterConfigurationArgs(issuer, kind).map((line) => `        ${line}`),
    ].join("\n"),
    k3s: continued([
      "k3s server",
      `  --kube-apiserver-arg=service-account-issuer=${issuer}`,
      `  --kube-apiserver-arg=service-account-signing-key-file=${k3s.signingKey}`,
      ...k3s.publicKeys.map((file) => `  --kube-apiserver-arg=service-account-key-file=${file}`),
      `  --kube-controller-manager-arg=service-account-private-key-file=${k3s.signingKey}`,
    ]).join("\n"),
  };
}
