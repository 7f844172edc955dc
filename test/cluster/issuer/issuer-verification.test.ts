// `wikit issuer verify`'s checks over what an issuer serves, each problem a token service would meet reported.

import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, test } from "node:test";
import { SignJWT } from "jose";
import { issuerDocuments } from "../../../src/cluster/issuer/issuer-files.ts";
import { type Fetched, verifyIssuer } from "../../../src/cluster/issuer/issuer-verification.ts";
import { keyIdOf } from "../../../src/signing-keys/key-id.ts";

const ISSUER = "https://oidc.example.test/c1/";
const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 });
const documents = issuerDocuments(ISSUER, [keys.publicKey]);

type Site = Record<string, Fetched | ((accept: string) => Fetched)>;
const served =
  (site: Site) =>
  async (url: string, accept: string): Promise<Fetched> => {
    const answer = site[url];
    if (answer === undefined) return { ok: true, status: 404, contentType: "text/plain", body: "not found" };
    return typeof answer === "function" ? answer(accept) : answer;
  };
const json = (body: string, contentType = "application/json"): Fetched => ({
  ok: true,
  status: 200,
  contentType,
  body,
});
const goodSite = (overrides: Site = {}): Site => ({
  [`${ISSUER}.well-known/openid-configuration`]: json(documents.discovery),
  [`${ISSUER}openid/v1/jwks`]: json(documents.jwks, "application/jwk-set+json"),
  ...overrides,
});
const token = (key = keys.privateKey, kid = keyIdOf(keys.publicKey), iss = ISSUER) =>
  new SignJWT({ sub: "system:serviceaccount:default:sa" })
    .setProtectedHeader({ alg: "RS256", kid })
    .setIssuer(iss)
    .sign(key);
const problems = (findings: { level: string; message: string }[]) =>
  findings.filter((finding) => finding.level === "problem").map((finding) => finding.message);

describe("issuer verify", () => {
  test("a well-served issuer and its own token: no problem", async () => {
    const findings = await verifyIssuer(ISSUER, served(goodSite()), await token());
    assert.deepEqual(problems(findings), []);
    assert.ok(findings.some((finding) => /signature verifies/.test(finding.message)));
  });

  test("the issuer differing only in its trailing slash is named as such", async () => {
    const [problem] = problems(
      await verifyIssuer(
        "https://oidc.example.test/c1",
        served(
          goodSite({
            "https://oidc.example.test/c1/.well-known/openid-configuration": json(documents.discovery),
          }),
        ),
      ),
    );
    assert.match(problem ?? "", /differ in the trailing '\/'/);
  });

  test("http, unreachable documents, 406 to a narrow Accept, a JWKS without use or alg", async () => {
    assert.match(
      problems(await verifyIssuer("http://oidc.example.test/c1/", served({})))[0] ?? "",
      /https only/,
    );
    const down = await verifyIssuer(ISSUER, async () => ({ ok: false, error: "connect ECONNREFUSED" }));
    assert.match(problems(down)[0] ?? "", /unreachable: connect ECONNREFUSED/);
    const picky = await verifyIssuer(
      ISSUER,
      served(
        goodSite({
          [`${ISSUER}openid/v1/jwks`]: (accept) =>
            accept === "application/json"
              ? { ok: true, status: 406, contentType: "", body: "" }
              : json(documents.jwks, "application/jwk-set+json"),
        }),
      ),
    );
    assert.match(problems(picky)[0] ?? "", /answers 406 to 'Accept: application\/json'/);
    const bare = JSON.stringify({
      keys: JSON.parse(documents.jwks).keys.map(
        ({ use: _use, alg: _alg, ...key }: Record<string, string>) => key,
      ),
    });
    const warnings = (
      await verifyIssuer(ISSUER, served(goodSite({ [`${ISSUER}openid/v1/jwks`]: json(bare, "text/plain") })))
    )
      .filter((finding) => finding.level === "warning")
      .map((finding) => finding.message);
    assert.equal(warnings.length, 3, warnings.join("\n"));
  });

  test("a token whose kid is not published, whose signature is another key's, or whose iss differs", async () => {
    const site = served(goodSite());
    assert.match(
      problems(
        await verifyIssuer(ISSUER, site, await token(stranger.privateKey, keyIdOf(stranger.publicKey))),
      )[0] ?? "",
      /is not in the JWKS/,
    );
    assert.match(
      problems(await verifyIssuer(ISSUER, site, await token(stranger.privateKey)))[0] ?? "",
      /does not verify/,
    );
    assert.match(
      problems(
        await verifyIssuer(ISSUER, site, await token(keys.privateKey, undefined, "https://elsewhere/")),
      )[0] ?? "",
      /iss is 'https:\/\/elsewhere\/'/,
    );
  });
});
