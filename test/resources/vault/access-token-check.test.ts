import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SignJWT, UnsecuredJWT } from "jose";
import { acceptedIssuers, checkAccessToken } from "../../../src/resources/vault/access-token-check.ts";
import {
  accessTokenKey,
  CALLER_OID,
  mintAccessToken,
  NOW_MS,
  TENANT,
  VAULT_RESOURCE,
} from "./vault-fixture.ts";

function check(authorization: string | undefined) {
  return checkAccessToken({
    authorization,
    getKey: accessTokenKey,
    resource: VAULT_RESOURCE,
    tenantId: TENANT,
    now: new Date(NOW_MS),
  });
}

async function rejectionOf(token: string): Promise<string> {
  const result = await check(`Bearer ${token}`);
  assert.equal(result.ok, false);
  return result.ok ? "" : result.message;
}

describe("access token check", () => {
  test("a token from the token service for this vault yields its claims", async () => {
    const result = await check(`Bearer ${await mintAccessToken()}`);
    assert.ok(result.ok);
    assert.equal(result.claims.oid, CALLER_OID);
    assert.equal(result.claims.tid, TENANT);
  });

  test("the Bearer scheme name is case-insensitive", async () => {
    assert.ok((await check(`bearer ${await mintAccessToken()}`)).ok);
  });

  test("a missing header, another scheme or an empty token is AKV10000", async () => {
    for (const header of [undefined, "", "Basic dXNlcjpwYXNz", "Bearer ", "PoP abc"]) {
      assert.deepEqual(await check(header), {
        ok: false,
        message: "AKV10000: Request is missing a Bearer or PoP token.",
      });
    }
  });

  test("both v1 and v2 issuers of the vault's tenant are accepted", async () => {
    assert.deepEqual(acceptedIssuers(TENANT), [
      `https://sts.windows.net/${TENANT}/`,
      `https://login.microsoftonline.com/${TENANT}/v2.0`,
    ]);
    const v2 = await mintAccessToken({ claims: { iss: `https://login.microsoftonline.com/${TENANT}/v2.0` } });
    assert.ok((await check(`Bearer ${v2}`)).ok);
  });

  test("threat: an unsigned token (alg none) is refused", async () => {
    const unsigned = new UnsecuredJWT({ aud: VAULT_RESOURCE, oid: CALLER_OID })
      .setExpirationTime("1h")
      .encode();
    assert.match(await rejectionOf(unsigned), /RS256/);
  });

  test("threat: an HMAC token keyed with public material is refused before any key is used", async () => {
    const hmac = await new SignJWT({ aud: VAULT_RESOURCE, oid: CALLER_OID })
      .setProtectedHeader({ alg: "HS256", kid: "sts-key-1" })
      .setExpirationTime(Math.floor(NOW_MS / 1000) + 600)
      .sign(new TextEncoder().encode("a-shared-secret-anyone-could-guess"));
    assert.match(await rejectionOf(hmac), /RS256/);
  });

  test("threat: a token signed with an unpublished key under a published kid is refused", async () => {
    assert.match(await rejectionOf(await mintAccessToken({ forged: true })), /signature does not verify/);
  });

  test("threat: a token with a tampered payload is refused", async () => {
    const [header, , signature] = (await mintAccessToken()).split(".");
    const payload = Buffer.from(JSON.stringify({ aud: VAULT_RESOURCE, oid: "someone-else" })).toString(
      "base64url",
    );
    assert.match(await rejectionOf(`${header}.${payload}.${signature}`), /signature does not verify/);
  });

  test("garbage is refused as malformed", async () => {
    assert.match(await rejectionOf("not-a-jwt"), /not a well-formed signed JWT/);
  });

  test("expiry is enforced with five minutes of tolerance", async () => {
    assert.ok((await check(`Bearer ${await mintAccessToken({ expiresIn: -299 })}`)).ok);
    assert.match(await rejectionOf(await mintAccessToken({ expiresIn: -301 })), /expired at 2025-06-15T/);
  });

  test("a token that is not valid yet is refused beyond the tolerance", async () => {
    const early = await mintAccessToken({ claims: { nbf: Math.floor(NOW_MS / 1000) + 600 } });
    assert.match(await rejectionOf(early), /not valid before/);
  });

  test("threat: a token that never expires is refused", async () => {
    assert.match(await rejectionOf(await mintAccessToken({ claims: { exp: undefined } })), /no 'exp' claim/);
  });

  test("a token without oid cannot be matched to role assignments and is refused", async () => {
    assert.match(await rejectionOf(await mintAccessToken({ claims: { oid: undefined } })), /no 'oid' claim/);
  });

  test("an audience list is not the vault's resource string", async () => {
    const listed = await mintAccessToken({ claims: { aud: [VAULT_RESOURCE, "https://other"] } });
    assert.equal(
      await rejectionOf(listed),
      `AKV10022: Invalid audience. Expected ${VAULT_RESOURCE}, found: ["${VAULT_RESOURCE}","https://other"].`,
    );
  });
});
