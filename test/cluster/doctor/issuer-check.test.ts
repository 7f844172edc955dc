// The issuer half of `wikit doctor`: the API server's own discovery document and JWKS against the public issuer's,
// as a token service fetches them — the issuer strings (a trailing slash too), every key the cluster publishes,
// and a public issuer that cannot be reached or is not served at all.

import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, test } from "node:test";
import { checkClusterIssuer } from "../../../src/cluster/doctor/issuer-check.ts";
import { issuerDocuments } from "../../../src/cluster/issuer/issuer-files.ts";
import type { Fetched, Finding } from "../../../src/cluster/issuer/issuer-verification.ts";
import { keyIdOf } from "../../../src/signing-keys/key-id.ts";

const ISSUER = "https://oidc.example.test/cluster-1/";
const current = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
const next = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;

const json = (body: string, contentType = "application/json"): Fetched => ({
  ok: true,
  status: 200,
  contentType,
  body,
});

/** What the API server answers, for the documents of `issuer` with `keys`. */
function apiServer(issuer: string, keys = [current]) {
  const documents = issuerDocuments(issuer, keys);
  return { discovery: json(documents.discovery), jwks: json(documents.jwks, "application/jwk-set+json") };
}

/** A public host serving the documents of `issuer` with `keys`; anything else is 404. */
function publicHost(issuer: string, keys = [current]) {
  const documents = issuerDocuments(issuer, keys);
  const base = issuer.replace(/\/$/, "");
  const site: Record<string, Fetched> = {
    [`${base}/.well-known/openid-configuration`]: json(documents.discovery),
    [`${base}/openid/v1/jwks`]: json(documents.jwks, "application/jwk-set+json"),
  };
  return async (url: string): Promise<Fetched> =>
    site[url] ?? { ok: true, status: 404, contentType: "text/plain", body: "not found" };
}

const problems = (findings: Finding[]) =>
  findings.filter((finding) => finding.level === "problem").map((finding) => finding.message);

describe("cluster issuer check", () => {
  test("the public issuer serves what the API server serves: no problem, and the cluster's issuer is named", async () => {
    const check = await checkClusterIssuer(apiServer(ISSUER), undefined, publicHost(ISSUER));
    assert.deepEqual(problems(check.findings), []);
    assert.equal(check.clusterIssuer, ISSUER);
    assert.ok(
      check.findings.some((finding) => /holds every key the API server publishes/.test(finding.message)),
    );
  });

  test("a key the API server publishes but the public JWKS lacks is named: tokens signed with it fail", async () => {
    const check = await checkClusterIssuer(apiServer(ISSUER, [current, next]), undefined, publicHost(ISSUER));
    assert.deepEqual(problems(check.findings), [
      `key ${keyIdOf(next)}, which the API server publishes and may sign tokens with now, is not in the public JWKS ${ISSUER}openid/v1/jwks: tokens signed with it fail the exchange; publish the API server's current JWKS (kubectl get --raw /openid/v1/jwks)`,
    ]);
  });

  test("an older key still published is fine", async () => {
    const check = await checkClusterIssuer(
      apiServer(ISSUER, [next]),
      undefined,
      publicHost(ISSUER, [current, next]),
    );
    assert.deepEqual(problems(check.findings), []);
    assert.ok(check.findings.some((finding) => finding.message.includes(`also holds ${keyIdOf(current)}`)));
  });

  test("--issuer-url differing from the cluster's issuer in the trailing slash is a problem that says so", async () => {
    const withoutSlash = ISSUER.replace(/\/$/, "");
    const check = await checkClusterIssuer(apiServer(ISSUER), withoutSlash, publicHost(withoutSlash));
    assert.ok(
      problems(check.findings).some((message) => /differ in the trailing '\/'/.test(message)),
      JSON.stringify(check.findings, null, 2),
    );
  });

  test("a cluster issuer no token service can reach is reported unreachable, over http too", async () => {
    const internal = "https://kubernetes.default.svc.cluster.local";
    const unreachable = async (): Promise<Fetched> => ({ ok: false, error: "getaddrinfo ENOTFOUND" });
    const check = await checkClusterIssuer(apiServer(internal), undefined, unreachable);
    assert.ok(
      problems(check.findings).some((message) =>
        /public issuer: .* is unreachable: getaddrinfo ENOTFOUND/.test(message),
      ),
    );

    const plain = "http://oidc.example.test/c2";
    const http = await checkClusterIssuer(apiServer(plain), undefined, publicHost(plain));
    assert.ok(
      problems(http.findings).some((message) =>
        /uses http: token services fetch keys over https only/.test(message),
      ),
    );
  });

  test("an API server without issuer discovery is told how to turn it on; --issuer-url still gets checked", async () => {
    const notFound: Fetched = { ok: true, status: 404, contentType: "application/json", body: "{}" };
    const check = await checkClusterIssuer(
      { discovery: notFound, jwks: notFound },
      ISSUER,
      publicHost(ISSUER),
    );
    assert.ok(problems(check.findings).some((message) => /--service-account-issuer/.test(message)));
    assert.ok(
      check.findings.some((finding) => finding.level === "ok" && /^public issuer: /.test(finding.message)),
    );

    const none = await checkClusterIssuer(
      { discovery: notFound, jwks: notFound },
      undefined,
      publicHost(ISSUER),
    );
    assert.ok(
      problems(none.findings).some((message) =>
        /give the URL federated credentials name with --issuer-url/.test(message),
      ),
    );
  });
});
