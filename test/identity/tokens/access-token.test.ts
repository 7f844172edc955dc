// Access-token issuance against entra.md §7: the v1 app-only token Key Vault and ARM receive — header, the exact
// claim set, the five-minute back-dating, lifetimes, `xms_mirid` and `xms_cc` — signed by the STS key ring so that
// it verifies against the published keys.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import {
  type AccessTokenSubject,
  DEFAULT_ACCESS_TOKEN_LIFETIME_SECONDS,
  issueAccessToken,
  v1Issuer,
  v2Issuer,
} from "../../../src/identity/tokens/access-token.ts";
import { SigningKeyRing } from "../../../src/signing-keys/key-ring.ts";
import { SqliteStore } from "../../../src/store/sqlite-store.ts";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID = "1d1f5c1e-7c4b-4a43-9d0c-2b6e1a8f0e11";
const PRINCIPAL_ID = "8e2b6a0c-3c5d-4f6e-9a1b-7c8d9e0f1a2b";
const NOW = Date.parse("2030-06-01T12:00:00Z") / 1000;
const IDENTITY_ID =
  "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/Payments-RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/Payments-API";

const subject: AccessTokenSubject = {
  tenantId: TENANT,
  clientId: CLIENT_ID,
  principalId: PRINCIPAL_ID,
  managedIdentityResourceId: IDENTITY_ID,
};

describe("issueAccessToken", () => {
  const store = new SqliteStore(":memory:");
  let ring: SigningKeyRing;
  before(async () => {
    ring = await SigningKeyRing.open(store, "sts");
  });
  after(() => store.close());

  test("header: typ JWT, alg RS256, kid and x5t naming the signing key", async () => {
    const { token } = await issueAccessToken(subject, "https://vault.azure.net", ring.active, { now: NOW });
    assert.deepEqual(decodeProtectedHeader(token), {
      typ: "JWT",
      alg: "RS256",
      kid: ring.active.kid,
      x5t: ring.active.kid,
    });
  });

  test("claims: Entra's v1 app-only set, nothing more", async () => {
    const { token } = await issueAccessToken(subject, "https://vault.azure.net", ring.active, { now: NOW });
    const claims = decodeJwt(token);
    assert.deepEqual(Object.keys(claims).sort(), [
      "aio",
      "appid",
      "appidacr",
      "aud",
      "exp",
      "iat",
      "idp",
      "idtyp",
      "iss",
      "nbf",
      "oid",
      "rh",
      "sub",
      "tid",
      "uti",
      "ver",
      "xms_mirid",
    ]);
    assert.equal(claims.aud, "https://vault.azure.net");
    assert.equal(claims.iss, `https://sts.windows.net/${TENANT}/`);
    assert.equal(claims.idp, `https://sts.windows.net/${TENANT}/`);
    assert.equal(claims.iat, NOW - 300);
    assert.equal(claims.nbf, NOW - 300);
    assert.equal(claims.exp, NOW + 3600);
    assert.equal(claims.appid, CLIENT_ID);
    assert.equal(claims.appidacr, "2");
    assert.equal(claims.idtyp, "app");
    assert.equal(claims.oid, PRINCIPAL_ID);
    assert.equal(claims.sub, PRINCIPAL_ID);
    assert.equal(claims.tid, TENANT);
    assert.equal(claims.ver, "1.0");
    assert.match(String(claims.uti), /^[A-Za-z0-9_-]{22}$/);
    assert.match(String(claims.aio), /^[A-Za-z0-9_-]+$/);
    assert.match(String(claims.rh), /^[A-Za-z0-9_-]+$/);
  });

  test("xms_mirid spells the resourcegroups segment in lower case and keeps every other name as given", async () => {
    const { token } = await issueAccessToken(subject, "https://vault.azure.net", ring.active, { now: NOW });
    assert.equal(
      decodeJwt(token).xms_mirid,
      "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourcegroups/Payments-RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/Payments-API",
    );
  });

  test("no xms_mirid without a managed identity, no xms_cc without capabilities", async () => {
    const { managedIdentityResourceId: _, ...application } = subject;
    for (const clientCapabilities of [undefined, []]) {
      const { token } = await issueAccessToken(application, "https://vault.azure.net", ring.active, {
        now: NOW,
        clientCapabilities,
      });
      const claims = decodeJwt(token);
      assert.equal("xms_mirid" in claims, false);
      assert.equal("xms_cc" in claims, false);
    }
  });

  test("client capabilities are echoed as xms_cc", async () => {
    const { token } = await issueAccessToken(subject, "https://vault.azure.net", ring.active, {
      now: NOW,
      clientCapabilities: ["cp1"],
    });
    assert.deepEqual(decodeJwt(token).xms_cc, ["cp1"]);
  });

  test("aud is the resource exactly as requested: trailing slash and port kept", async () => {
    for (const audience of ["https://management.core.windows.net/", "https://vault.example.test:8443"]) {
      const { token } = await issueAccessToken(subject, audience, ring.active, { now: NOW });
      assert.equal(decodeJwt(token).aud, audience);
    }
  });

  test("lifetimes: default 3600 s reported as expires_in 3599; exp − nbf = lifetime + 300", async () => {
    assert.equal(DEFAULT_ACCESS_TOKEN_LIFETIME_SECONDS, 3600);
    const issued = await issueAccessToken(subject, "https://vault.azure.net", ring.active, { now: NOW });
    assert.deepEqual(
      { expiresIn: issued.expiresIn, expiresOn: issued.expiresOn, notBefore: issued.notBefore },
      { expiresIn: 3599, expiresOn: NOW + 3600, notBefore: NOW - 300 },
    );
    const claims = decodeJwt(issued.token);
    assert.equal((claims.exp ?? 0) - (claims.nbf ?? 0), 3900);

    const daily = await issueAccessToken(subject, "https://vault.azure.net", ring.active, {
      now: NOW,
      lifetimeSeconds: 86400,
    });
    assert.equal(daily.expiresIn, 86399);
    assert.equal(decodeJwt(daily.token).exp, NOW + 86400);
  });

  test("without `now`, the token is dated by the clock", async () => {
    const before = Math.floor(Date.now() / 1000);
    const issued = await issueAccessToken(subject, "https://vault.azure.net", ring.active);
    const after = Math.floor(Date.now() / 1000);
    assert.ok(issued.notBefore >= before - 300 && issued.notBefore <= after - 300);
    assert.equal(issued.expiresOn - issued.notBefore, 3900);
  });

  test("verifies against the ring's published JWKS; a token from another ring does not", async () => {
    const { token } = await issueAccessToken(subject, "https://vault.azure.net", ring.active);
    const jwks = createLocalJWKSet({ keys: ring.publicJwks() });
    const { payload } = await jwtVerify(token, jwks, {
      algorithms: ["RS256"],
      issuer: v1Issuer(TENANT),
      audience: "https://vault.azure.net",
    });
    assert.equal(payload.oid, PRINCIPAL_ID);

    const otherStore = new SqliteStore(":memory:");
    try {
      const other = await SigningKeyRing.open(otherStore, "sts");
      const forged = await issueAccessToken(subject, "https://vault.azure.net", other.active);
      await assert.rejects(jwtVerify(forged.token, jwks), { code: "ERR_JWKS_NO_MATCHING_KEY" });
    } finally {
      await otherStore.close();
    }
  });

  test("uti is fresh for every token", async () => {
    const utis = new Set<unknown>();
    for (let i = 0; i < 5; i++) {
      const { token } = await issueAccessToken(subject, "https://vault.azure.net", ring.active, { now: NOW });
      utis.add(decodeJwt(token).uti);
    }
    assert.equal(utis.size, 5);
  });
});

describe("issuer names", () => {
  test("v1Issuer is sts.windows.net whatever host the token service runs on", () => {
    assert.equal(v1Issuer(TENANT), `https://sts.windows.net/${TENANT}/`);
  });

  test("v2Issuer joins authority and tenant with exactly one slash", () => {
    assert.equal(v2Issuer("https://localhost:8443", TENANT), `https://localhost:8443/${TENANT}/v2.0`);
    assert.equal(v2Issuer("https://localhost:8443/", TENANT), `https://localhost:8443/${TENANT}/v2.0`);
  });
});
