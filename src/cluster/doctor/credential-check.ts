// Against a running wikit: does each labelled pod's client ID name a managed identity or app registration whose
// federated credential matches what the pod's token will carry — the cluster's issuer, the subject
// system:serviceaccount:<namespace>:<service account>, and the token's audience? Matching is exact, as the token
// service matches (a trailing '/' counts). The nearest credential's differing fields are named.

import type { Finding } from "../issuer/issuer-verification.ts";
import { DEFAULT_AUDIENCE } from "../webhook/constants.ts";

export interface FederatedCredentialView {
  name: string;
  issuer: string;
  /** Absent for a credential with a claims-matching expression, which this check does not evaluate. */
  subject?: string;
  audiences: string[];
}

/** A managed identity or an app registration of the running wikit, with its federated credentials. */
export interface WikitPrincipal {
  kind: "managed identity" | "application";
  name: string;
  clientId: string;
  credentials: FederatedCredentialView[];
}

/** What a pod's token will carry, from its row in the table. */
export interface PodTokenFacts {
  namespace: string;
  serviceAccount: string;
  clientId: string;
  /** The projected token's audience; the webhook's default when the pod was not mutated. */
  audience?: string;
}

export function serviceAccountSubject(namespace: string, serviceAccount: string): string {
  return `system:serviceaccount:${namespace}:${serviceAccount}`;
}

/** The problems a token exchange by this pod would meet at wikit; none when a credential matches. */
export function credentialIssues(
  pod: PodTokenFacts,
  issuer: string,
  principals: readonly WikitPrincipal[],
): Finding[] {
  if (pod.clientId === "") return [];
  const subject = serviceAccountSubject(pod.namespace, pod.serviceAccount);
  const audience = pod.audience ?? DEFAULT_AUDIENCE;
  const principal = principals.find(
    (candidate) => candidate.clientId.toLowerCase() === pod.clientId.toLowerCase(),
  );
  if (principal === undefined) {
    return [
      {
        level: "problem",
        message: `client ID ${pod.clientId} names no managed identity or app registration in wikit: create the identity (wikit identity create) or correct the service account's client-id annotation`,
      },
    ];
  }
  const named = `${principal.kind} '${principal.name}'`;
  if (principal.credentials.length === 0) {
    return [
      {
        level: "problem",
        message: `${named} has no federated credential: add one with issuer ${issuer}, subject ${subject} and audience ${audience}`,
      },
    ];
  }
  const compared = principal.credentials.map((credential) => {
    const issuerMatches = credential.issuer === issuer;
    const subjectMatches = credential.subject === undefined || credential.subject === subject;
    const audienceMatches = credential.audiences.includes(audience);
    return {
      credential,
      issuerMatches,
      subjectMatches,
      audienceMatches,
      // The issuer decides which credentials are considered at all, then the subject, then the audience.
      score: (issuerMatches ? 4 : 0) + (subjectMatches ? 2 : 0) + (audienceMatches ? 1 : 0),
    };
  });
  const nearest = compared.reduce((best, candidate) => (candidate.score > best.score ? candidate : best));
  if (nearest.score === 7) return [];
  const { credential } = nearest;
  const differences: string[] = [];
  if (!nearest.issuerMatches) {
    const slashOnly = credential.issuer.replace(/\/$/, "") === issuer.replace(/\/$/, "");
    differences.push(
      `issuer: the credential names '${credential.issuer}', the cluster's tokens carry '${issuer}'${slashOnly ? " (they differ in the trailing '/')" : ""}`,
    );
  }
  if (!nearest.subjectMatches) {
    differences.push(
      `subject: the credential names '${credential.subject}', the pod's token has '${subject}'`,
    );
  }
  if (!nearest.audienceMatches) {
    differences.push(
      `audience: the credential accepts ${credential.audiences.map((value) => `'${value}'`).join(", ")}, the pod's token is for '${audience}'`,
    );
  }
  return [
    {
      level: "problem",
      message: `${named}'s nearest federated credential '${credential.name}' differs in ${differences.join("; ")}`,
    },
  ];
}
