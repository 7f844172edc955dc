// Each labelled pod against a running wikit's identities: the federated credential that lets its token in, or the
// field in which the nearest one differs — matched exactly, as the token service matches.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { credentialIssues, type WikitPrincipal } from "../../../src/cluster/doctor/credential-check.ts";

const ISSUER = "https://oidc.example.test/cluster-1/";
const CLIENT_ID = "8a0e4b52-31c1-4f4b-9b5e-4c6a4a7f1d20";
const POD = { namespace: "wlipoc", serviceAccount: "workload-identity-sa", clientId: CLIENT_ID };
const SUBJECT = "system:serviceaccount:wlipoc:workload-identity-sa";

function identity(credentials: WikitPrincipal["credentials"]): WikitPrincipal[] {
  return [{ kind: "managed identity", name: "app-identity", clientId: CLIENT_ID.toUpperCase(), credentials }];
}

const credential = (changes: Partial<WikitPrincipal["credentials"][number]> = {}) => ({
  name: "kube",
  issuer: ISSUER,
  subject: SUBJECT,
  audiences: ["api://AzureADTokenExchange"],
  ...changes,
});

const messages = (principals: WikitPrincipal[], pod: Parameters<typeof credentialIssues>[0] = POD) =>
  credentialIssues(pod, ISSUER, principals).map((issue) => `${issue.level}: ${issue.message}`);

describe("federated credential check", () => {
  test("a credential with the issuer, subject and audience matches (client IDs compare case-insensitively)", () => {
    assert.deepEqual(messages(identity([credential({ issuer: "https://other/" }), credential()])), []);
  });

  test("a claims-matching credential (no subject) is matched on issuer and audience", () => {
    assert.deepEqual(messages(identity([credential({ subject: undefined })])), []);
  });

  const differing: {
    name: string;
    credential: ReturnType<typeof credential>;
    pod?: typeof POD & { audience?: string };
    expected: string;
  }[] = [
    {
      name: "the issuer differs in the trailing slash",
      credential: credential({ issuer: ISSUER.replace(/\/$/, "") }),
      expected: `problem: managed identity 'app-identity''s nearest federated credential 'kube' differs in issuer: the credential names 'https://oidc.example.test/cluster-1', the cluster's tokens carry '${ISSUER}' (they differ in the trailing '/')`,
    },
    {
      name: "the subject names another namespace",
      credential: credential({ subject: "system:serviceaccount:default:workload-identity-sa" }),
      expected: `problem: managed identity 'app-identity''s nearest federated credential 'kube' differs in subject: the credential names 'system:serviceaccount:default:workload-identity-sa', the pod's token has '${SUBJECT}'`,
    },
    {
      name: "the pod's token is for another audience",
      credential: credential(),
      pod: { ...POD, audience: "api://AKSIdentityBinding" },
      expected:
        "problem: managed identity 'app-identity''s nearest federated credential 'kube' differs in audience: the credential accepts 'api://AzureADTokenExchange', the pod's token is for 'api://AKSIdentityBinding'",
    },
  ];
  for (const entry of differing) {
    test(`the differing field is named: ${entry.name}`, () => {
      assert.deepEqual(messages(identity([entry.credential]), entry.pod), [entry.expected]);
    });
  }

  test("the nearest credential is the one with the cluster's issuer", () => {
    const [message] = messages(
      identity([
        credential({ name: "other-cluster", issuer: "https://elsewhere/", subject: "x" }),
        credential({ name: "this-cluster", subject: "system:serviceaccount:wlipoc:other" }),
      ]),
    );
    assert.match(message ?? "", /nearest federated credential 'this-cluster' differs in subject/);
  });

  test("an unknown client ID, an identity without credentials, and a pod without client ID", () => {
    assert.deepEqual(messages([]), [
      `problem: client ID ${CLIENT_ID} names no managed identity or app registration in wikit: create the identity (wikit identity create) or correct the service account's client-id annotation`,
    ]);
    assert.deepEqual(messages(identity([])), [
      `problem: managed identity 'app-identity' has no federated credential: add one with issuer ${ISSUER}, subject ${SUBJECT} and audience api://AzureADTokenExchange`,
    ]);
    assert.deepEqual(messages([], { ...POD, clientId: "" }), []);
  });
});
