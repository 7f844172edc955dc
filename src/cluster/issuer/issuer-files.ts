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

/** Where the key files sit on the control-plane node, as each distribution's flags name them. */
export interface KeyFilePaths {
  signingKey: string;
  publicKey: string;
}

export type Distribution = "kubeadm" | "minikube" | "kind" | "k3s";

/**
 * Where each distribution keeps the keys: kubeadm's own service-account key paths (kind mounts the files there);
 * minikube's certificate folder, which it fills from ~/.minikube/files/var/lib/minikube/certs/; a folder of k3s's.
 */
export const KEY_FILE_PATHS: Readonly<Record<Distribution, KeyFilePaths>> = {
  kubeadm: { signingKey: "/etc/kubernetes/pki/sa.key", publicKey: "/etc/kubernetes/pki/sa.pub" },
  minikube: { signingKey: "/var/lib/minikube/certs/sa.key", publicKey: "/var/lib/minikube/certs/sa.pub" },
  kind: { signingKey: "/etc/kubernetes/pki/sa.key", publicKey: "/etc/kubernetes/pki/sa.pub" },
  k3s: { signingKey: "/etc/rancher/k3s/sa.key", publicKey: "/etc/rancher/k3s/sa.pub" },
};

/** kubeadm's ClusterConfiguration members that set the issuer and the key files (kind patches the same). */
function clusterConfigurationArgs(issuer: string, files: KeyFilePaths): string[] {
  return [
    "apiServer:",
    "  extraArgs:",
    `    service-account-issuer: ${issuer}`,
    `    service-account-signing-key-file: ${files.signingKey}`,
    `    service-account-key-file: ${files.publicKey}`,
    "controllerManager:",
    "  extraArgs:",
    `    service-account-private-key-file: ${files.signingKey}`,
  ];
}

/** The flags each way of running a cluster takes to sign with the key and name the issuer, as shell or YAML text. */
export function apiServerFlags(issuer: string): Record<Distribution, string> {
  const { kubeadm, minikube, kind, k3s } = KEY_FILE_PATHS;
  return {
    kubeadm: [
      "# ClusterConfiguration (kubeadm init --config …):",
      ...clusterConfigurationArgs(issuer, kubeadm),
    ].join("\n"),
    minikube: [
      "minikube start \\",
      `  --extra-config=apiserver.service-account-issuer=${issuer} \\`,
      `  --extra-config=apiserver.service-account-signing-key-file=${minikube.signingKey} \\`,
      `  --extra-config=apiserver.service-account-key-file=${minikube.publicKey} \\`,
      `  --extra-config=controller-manager.service-account-private-key-file=${minikube.signingKey}`,
    ].join("\n"),
    kind: [
      "# kind create cluster --config kind.yaml, with the key files mounted into the node:",
      "kind: Cluster",
      "apiVersion: kind.x-k8s.io/v1alpha4",
      "nodes:",
      "  - role: control-plane",
      "    extraMounts:",
      `      - {hostPath: ./sa.key, containerPath: ${kind.signingKey}, readOnly: true}`,
      `      - {hostPath: ./sa.pub, containerPath: ${kind.publicKey}, readOnly: true}`,
      "    kubeadmConfigPatches:",
      "      - |",
      "        kind: ClusterConfiguration",
      ...clusterConfigurationArgs(issuer, kind).map((line) => `        ${line}`),
    ].join("\n"),
    k3s: [
      "k3s server \\",
      `  --kube-apiserver-arg=service-account-issuer=${issuer} \\`,
      `  --kube-apiserver-arg=service-account-signing-key-file=${k3s.signingKey} \\`,
      `  --kube-apiserver-arg=service-account-key-file=${k3s.publicKey} \\`,
      `  --kube-controller-manager-arg=service-account-private-key-file=${k3s.signingKey}`,
    ].join("\n"),
  };
}
