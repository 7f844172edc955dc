import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, test } from "node:test";
import {
  apiServerFlags,
  checkIssuerUrl,
  IssuerUrlError,
  issuerDocuments,
} from "../../../src/cluster/issuer/issuer-files.ts";
import { keyIdOf } from "../../../src/signing-keys/key-id.ts";

describe("issuer files", () => {
  test("the issuer URL is kept exactly, and must be https without query or fragment", () => {
    assert.equal(checkIssuerUrl("https://oidc.example.com/c1/"), "https://oidc.example.com/c1/");
    assert.equal(checkIssuerUrl("https://oidc.example.com/c1"), "https://oidc.example.com/c1");
    for (const [bad, why] of [
      ["http://oidc.example.com/", /must use https/],
      ["https://oidc.example.com/?a=1", /no query or fragment/],
      ["https://oidc.example.com/#x", /no query or fragment/],
      ["oidc.example.com", /is not a URL/],
    ] as const) {
      assert.throws(
        () => checkIssuerUrl(bad),
        (error: unknown) => error instanceof IssuerUrlError && why.test(error.message),
      );
    }
  });

  test("the documents: kube-apiserver's discovery members naming the issuer and its JWKS; the key by its kid", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey;
    const { discovery, jwks } = issuerDocuments("https://oidc.example.com/c1/", [rsa, ec]);
    assert.deepEqual(JSON.parse(discovery), {
      issuer: "https://oidc.example.com/c1/",
      jwks_uri: "https://oidc.example.com/c1/openid/v1/jwks",
      response_types_supported: ["id_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["ES256", "RS256"],
    });
    assert.deepEqual(
      JSON.parse(jwks).keys.map((key: { kid: string }) => key.kid),
      [keyIdOf(rsa), keyIdOf(ec)],
    );
  });

  test("flags for kubeadm, minikube (W4's --extra-config), kind and k3s name the issuer and the key files", () => {
    const flags = apiServerFlags("https://oidc.example.com/c1/");
    assert.match(
      flags.minikube,
      /--extra-config=apiserver\.service-account-issuer=https:\/\/oidc\.example\.com\/c1\//,
    );
    assert.match(
      flags.minikube,
      /--extra-config=controller-manager\.service-account-private-key-file=\/var\/lib\/minikube\/certs\/sa\.key/,
    );
    assert.match(flags.kubeadm, /service-account-signing-key-file: \/etc\/kubernetes\/pki\/sa\.key/);
    assert.match(flags.kind, /containerPath: \/etc\/kubernetes\/pki\/sa\.pub/);
    assert.match(flags.k3s, /--kube-apiserver-arg=service-account-key-file=\/etc\/rancher\/k3s\/sa\.pub/);
  });
});
