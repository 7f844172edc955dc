import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BUILT_IN_ROLE_GUIDS } from "../../../src/identity/directory/built-in-roles.ts";
import {
  assignment,
  CALLER_APPID,
  CALLER_OID,
  mintAccessToken,
  NOW,
  startVault,
  TENANT,
  VAULT_HOST,
  VAULT_ID,
  VAULT_ORIGIN,
  VAULT_RESOURCE,
} from "./vault-fixture.ts";

const API = "api-version=7.4";
const CHALLENGE = `Bearer authorization="https://login.example.test:8443/${TENANT}", resource="${VAULT_RESOURCE}"`;
const JSON_UTF8 = "application/json; charset=utf-8";

type Response = Awaited<ReturnType<Awaited<ReturnType<typeof startVault>>["call"]>>;

function assertError(response: Response, status: number, code: string, message?: string | RegExp): void {
  assert.equal(response.statusCode, status, response.body);
  assert.equal(response.headers["content-type"], JSON_UTF8);
  const { error } = response.json();
  assert.equal(error.code, code);
  if (typeof message === "string") assert.equal(error.message, message);
  else if (message) assert.match(error.message, message);
}

function assertChallenge(response: Response, message: string | RegExp): void {
  assertError(response, 401, "Unauthorized", message);
  assert.equal(response.headers["www-authenticate"], CHALLENGE);
}

describe("vault routes: challenge handshake and token checks", () => {
  test("a token-less GET gets the 401 challenge with the AKV10000 body", async () => {
    const { call } = await startVault();
    assertChallenge(
      await call("GET", `/secrets/db/?${API}`, { token: null }),
      "AKV10000: Request is missing a Bearer or PoP token.",
    );
  });

  test("a token-less, body-less PUT (the SDK's first request) gets the challenge, never a 400", async () => {
    const { app } = await startVault();
    const response = await app.inject({
      method: "PUT",
      url: "/secrets/db?api%2Dversion=2025-07-01",
      headers: { host: VAULT_HOST, "content-type": "application/json", "content-length": "0" },
    });
    assertChallenge(response, /^AKV10000/);
  });

  test("a token-less PUT with a malformed body and an invalid name still gets the challenge first", async () => {
    const { call } = await startVault();
    assertChallenge(await call("PUT", "/secrets/not_valid", { token: null, body: "{oops" }), /^AKV10000/);
  });

  test("a token for another audience is AKV10022 naming expected and found", async () => {
    const { call } = await startVault();
    const token = await mintAccessToken({ claims: { aud: "https://vault.azure.net" } });
    assertChallenge(
      await call("GET", `/secrets/db?${API}`, { token }),
      `AKV10022: Invalid audience. Expected ${VAULT_RESOURCE}, found: https://vault.azure.net.`,
    );
  });

  test("a token from another tenant is AKV10032 listing the accepted issuers", async () => {
    const { call } = await startVault();
    const foreign = "https://sts.windows.net/00000000-0000-0000-0000-000000000001/";
    const token = await mintAccessToken({ claims: { iss: foreign } });
    assertChallenge(
      await call("GET", `/secrets/db?${API}`, { token }),
      `AKV10032: Invalid issuer. Expected one of https://sts.windows.net/${TENANT}/, https://login.microsoftonline.com/${TENANT}/v2.0, found ${foreign}.`,
    );
  });

  test("an expired token gets the challenge, so the SDK fetches a new one", async () => {
    const { call } = await startVault();
    const token = await mintAccessToken({ expiresIn: -3600 });
    assertChallenge(await call("GET", `/secrets/db?${API}`, { token }), /expired at/);
  });

  test("threat: a token with a forged signature gets the challenge", async () => {
    const { call } = await startVault();
    const token = await mintAccessToken({ forged: true });
    assertChallenge(await call("GET", `/secrets/db?${API}`, { token }), /signature does not verify/);
  });

  test("a host that names no vault is a 404 that says so, before any token check", async () => {
    const { call } = await startVault();
    const response = await call("GET", `/secrets/db?${API}`, {
      token: null,
      host: "kv9.vault.example.test:8443",
    });
    assertError(response, 404, "VaultNotFound", /No vault answers at host 'kv9\.vault\.example\.test:8443'/);
    assert.equal(response.headers["www-authenticate"], undefined);
  });
});

describe("vault routes: RBAC", () => {
  test("a caller without assignments gets Key Vault's exact ForbiddenByRbac message", async () => {
    const { call } = await startVault([]);
    const response = await call("GET", `/secrets/DB-Password?${API}`);
    assert.equal(response.statusCode, 403);
    assert.equal(response.headers["content-type"], JSON_UTF8);
    assert.deepEqual(response.json(), {
      error: {
        code: "Forbidden",
        message: [
          "Caller is not authorized to perform action on resource.",
          "If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.",
          `Caller: appid=${CALLER_APPID};oid=${CALLER_OID};iss=https://sts.windows.net/${TENANT}/`,
          "Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'",
          `Resource: '${VAULT_ID.toLowerCase()}/secrets/db-password'`,
          "Assignment: (not found)",
          "DenyAssignmentId: null",
          "DecisionReason: 'DeniedWithNoValidRBAC' ",
          "Vault: kv1;location=westeurope",
        ].join("\r\n"),
        innererror: { code: "ForbiddenByRbac" },
      },
    });
  });

  test("Reader on the subscription cannot read a secret value", async () => {
    const { call } = await startVault([
      assignment(BUILT_IN_ROLE_GUIDS.reader, `/subscriptions/${VAULT_ID.split("/")[2]}`),
    ]);
    assertError(await call("GET", `/secrets/db?${API}`), 403, "Forbidden", /getSecret\/action/);
  });

  test("Secrets User may get but not set", async () => {
    const vault = await startVault([assignment(BUILT_IN_ROLE_GUIDS.keyVaultSecretsUser, VAULT_ID)]);
    assertError(await vault.call("GET", `/secrets/db?${API}`), 404, "SecretNotFound");
    assertError(
      await vault.call("PUT", `/secrets/db?${API}`, { body: { value: "x" } }),
      403,
      "Forbidden",
      /Action: 'Microsoft\.KeyVault\/vaults\/secrets\/setSecret\/action'/,
    );
  });

  test("an assignment on one secret reaches that secret only", async () => {
    const { call, store } = await startVault([
      assignment(BUILT_IN_ROLE_GUIDS.keyVaultSecretsOfficer, `${VAULT_ID}/secrets/mine`),
    ]);
    assert.equal((await call("PUT", `/secrets/mine?${API}`, { body: { value: "m" } })).statusCode, 200);
    assertError(await call("PUT", `/secrets/theirs?${API}`, { body: { value: "t" } }), 403, "Forbidden");
    assertError(await call("GET", `/secrets?${API}`), 403, "Forbidden", /Resource: '[^']*\/vaults\/kv1'/);
    assert.equal(await store.getSecretVersion(VAULT_ID, "theirs"), undefined);
  });

  test("threat: an encoded path in the name cannot climb out of the secret it was granted", async () => {
    const { call, store } = await startVault([
      assignment(BUILT_IN_ROLE_GUIDS.keyVaultSecretsOfficer, `${VAULT_ID}/secrets/mine`),
    ]);
    const response = await call("PUT", `/secrets/mine%2F..%2Ftheirs?${API}`, { body: { value: "x" } });
    assertError(response, 403, "Forbidden");
    assert.deepEqual(await store.listLatestSecrets(VAULT_ID), []);
  });

  test("a disabled secret is 403 SecretDisabled for get, while its metadata can still be updated", async () => {
    const { call } = await startVault();
    await call("PUT", `/secrets/db?${API}`, { body: { value: "v", attributes: { enabled: false } } });
    assertError(
      await call("GET", `/secrets/db/?${API}`),
      403,
      "Forbidden",
      "Operation get is not allowed on a disabled secret.",
    );
    assert.equal((await call("GET", `/secrets/db/?${API}`)).json().error.innererror.code, "SecretDisabled");
    const enabled = await call("PATCH", `/secrets/db/?${API}`, { body: { attributes: { enabled: true } } });
    assert.equal(enabled.statusCode, 200);
    assert.equal((await call("GET", `/secrets/db?${API}`)).json().value, "v");
  });
});

describe("vault routes: validation after authentication", () => {
  test("an unknown secret is 404 SecretNotFound with Key Vault's text", async () => {
    const { call } = await startVault();
    assertError(
      await call("GET", `/secrets/missing/?${API}`),
      404,
      "SecretNotFound",
      "A secret with (name/id) missing was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182",
    );
  });

  test("an authenticated PUT without a body is 400 BadParameter showing what to send", async () => {
    const { call } = await startVault();
    assertError(await call("PUT", `/secrets/db?${API}`, { body: "" }), 400, "BadParameter", /body is empty/);
    assertError(
      await call("PUT", `/secrets/db?${API}`, { body: { value: 1 } }),
      400,
      "BadParameter",
      /'value'/,
    );
  });

  test("an invalid name or version is 400 BadParameter", async () => {
    const { call } = await startVault();
    assertError(
      await call("PUT", `/secrets/db_pw?${API}`, { body: { value: "x" } }),
      400,
      "BadParameter",
      /db_pw/,
    );
    assertError(await call("GET", `/secrets/db/LATEST?${API}`), 400, "BadParameter", /32 lowercase/);
  });

  test("a request without api-version is 400 BadParameter (once authenticated)", async () => {
    const { call } = await startVault();
    assertError(await call("GET", "/secrets/db"), 400, "BadParameter", /api-version/);
    assertChallenge(await call("GET", "/secrets/db", { token: null }), /^AKV10000/);
  });
});

describe("vault routes: secrets", () => {
  test("set then get with a trailing slash and the percent-encoded api%2Dversion name", async () => {
    const { call } = await startVault();
    const set = await call("PUT", `/secrets/db-password?${API}`, {
      body: { value: "s3cr3t", contentType: "text/plain", tags: { team: "payments" } },
    });
    assert.equal(set.statusCode, 200);
    assert.equal(set.headers["content-type"], JSON_UTF8);
    const bundle = set.json();
    assert.match(bundle.id, /^http:\/\/kv1\.vault\.example\.test:8443\/secrets\/db-password\/[0-9a-f]{32}$/);
    assert.deepEqual(bundle, {
      value: "s3cr3t",
      id: bundle.id,
      contentType: "text/plain",
      attributes: {
        enabled: true,
        created: NOW,
        updated: NOW,
        recoveryLevel: "Recoverable+Purgeable",
        recoverableDays: 90,
      },
      tags: { team: "payments" },
    });
    const got = await call("GET", "/secrets/db-password/?api%2Dversion=2026-04-01");
    assert.equal(got.statusCode, 200);
    assert.deepEqual(got.json(), bundle);
    assert.deepEqual((await call("GET", `/secrets/DB-PASSWORD?${API}`)).json(), bundle);
  });

  test("each PUT adds a version; the latest answers by default and older ones by version", async () => {
    const { call } = await startVault();
    const first = (await call("PUT", `/secrets/db?${API}`, { body: { value: "one" } })).json();
    const second = (await call("PUT", `/secrets/db?${API}`, { body: { value: "two" } })).json();
    assert.notEqual(first.id, second.id);
    assert.equal((await call("GET", `/secrets/db?${API}`)).json().value, "two");
    const firstVersion = first.id.split("/").at(-1);
    assert.equal((await call("GET", `/secrets/db/${firstVersion}?${API}`)).json().value, "one");
    const versions = (await call("GET", `/secrets/db/versions?${API}`)).json();
    assert.deepEqual(
      versions.value.map((item: { id: string }) => item.id),
      [first.id, second.id],
    );
    assert.equal(versions.nextLink, null);
    assert.equal("value" in versions.value[0], false);
    assertError(
      await call("GET", `/secrets/db/${"0".repeat(32)}?${API}`),
      404,
      "SecretNotFound",
      /db\/0{32}/,
    );
  });

  test("PATCH changes metadata of one version and never returns the value", async () => {
    const { call } = await startVault();
    const { id } = (
      await call("PUT", `/secrets/db?${API}`, { body: { value: "v", tags: { a: "1" } } })
    ).json();
    const patched = await call("PATCH", `/secrets/db/${id.split("/").at(-1)}?${API}`, {
      body: { contentType: "application/x-pem-file", attributes: { exp: NOW + 60 } },
    });
    assert.equal(patched.statusCode, 200);
    const body = patched.json();
    assert.equal("value" in body, false);
    assert.equal(body.id, id);
    assert.equal(body.contentType, "application/x-pem-file");
    assert.equal(body.attributes.exp, NOW + 60);
    assert.deepEqual(body.tags, { a: "1" });
    assert.equal((await call("GET", `/secrets/db?${API}`)).json().value, "v");
  });

  test("lists page with maxresults and an absolute nextLink carrying api-version and $skiptoken", async () => {
    const { call } = await startVault();
    for (const name of ["alpha", "bravo", "charlie"]) {
      await call("PUT", `/secrets/${name}?${API}`, { body: { value: name } });
    }
    const first = (await call("GET", "/secrets?api%2Dversion=2025-07-01&maxresults=2")).json();
    assert.deepEqual(
      first.value.map((item: { id: string }) => item.id),
      [`${VAULT_ORIGIN}/secrets/alpha`, `${VAULT_ORIGIN}/secrets/bravo`],
    );
    assert.equal(
      first.value.some((item: object) => "value" in item),
      false,
    );
    const next = new URL(first.nextLink);
    assert.equal(next.origin, VAULT_ORIGIN);
    assert.equal(next.pathname, "/secrets");
    assert.equal(next.searchParams.get("api-version"), "2025-07-01");
    assert.ok(next.searchParams.get("$skiptoken"));
    const second = (await call("GET", `${next.pathname}${next.search}`)).json();
    assert.deepEqual(
      second.value.map((item: { id: string }) => item.id),
      [`${VAULT_ORIGIN}/secrets/charlie`],
    );
    assert.equal(second.nextLink, null);
  });

  test("maxresults outside 1-25 and foreign skip tokens are 400 BadParameter", async () => {
    const { call } = await startVault();
    for (const query of ["maxresults=0", "maxresults=26", "maxresults=two", "$skiptoken=abc"]) {
      assertError(await call("GET", `/secrets?${API}&${query}`), 400, "BadParameter");
    }
  });
});

describe("vault routes: delete, recover, purge", () => {
  test("delete keeps the secret recoverable; recover brings back every version", async () => {
    const { call } = await startVault();
    const first = (await call("PUT", `/secrets/db?${API}`, { body: { value: "one" } })).json();
    const second = (await call("PUT", `/secrets/db?${API}`, { body: { value: "two" } })).json();

    const deleted = await call("DELETE", `/secrets/db?${API}`);
    assert.equal(deleted.statusCode, 200);
    const bundle = deleted.json();
    assert.equal(bundle.id, second.id);
    assert.equal(bundle.recoveryId, `${VAULT_ORIGIN}/deletedsecrets/db`);
    assert.equal(bundle.deletedDate, NOW);
    assert.equal(bundle.scheduledPurgeDate, NOW + 90 * 86400);
    assert.equal("value" in bundle, false);

    assertError(await call("GET", `/secrets/db/?${API}`), 404, "SecretNotFound");
    assert.deepEqual((await call("GET", `/secrets?${API}`)).json(), { value: [], nextLink: null });
    assert.equal((await call("GET", `/deletedsecrets/db?${API}`)).json().recoveryId, bundle.recoveryId);
    const listed = (await call("GET", `/deletedsecrets?${API}`)).json();
    assert.deepEqual(
      listed.value.map((item: { id: string; deletedDate: number }) => [item.id, item.deletedDate]),
      [[`${VAULT_ORIGIN}/secrets/db`, NOW]],
    );

    const reuse = await call("PUT", `/secrets/db?${API}`, { body: { value: "three" } });
    assertError(reuse, 409, "Conflict", /deleted and still recoverable/);
    assert.equal(reuse.json().error.innererror.code, "ObjectIsDeletedButRecoverable");

    const recovered = await call("POST", `/deletedsecrets/db/recover?${API}`);
    assert.equal(recovered.statusCode, 200);
    assert.equal(recovered.json().id, second.id);
    assert.equal("value" in recovered.json(), false);
    assert.equal((await call("GET", `/secrets/db?${API}`)).json().value, "two");
    assert.equal((await call("GET", `/secrets/db/${first.id.split("/").at(-1)}?${API}`)).json().value, "one");
    assertError(
      await call("GET", `/deletedsecrets/db?${API}`),
      404,
      "SecretNotFound",
      /No deleted secret named db/,
    );
  });

  test("purge erases a deleted secret for good and frees its name", async () => {
    const { call } = await startVault();
    await call("PUT", `/secrets/db?${API}`, { body: { value: "old" } });
    assertError(await call("DELETE", `/deletedsecrets/db?${API}`), 404, "SecretNotFound");
    await call("DELETE", `/secrets/db?${API}`);
    const purged = await call("DELETE", `/deletedsecrets/db?${API}`);
    assert.equal(purged.statusCode, 204);
    assert.equal(purged.body, "");
    assertError(await call("GET", `/deletedsecrets/db?${API}`), 404, "SecretNotFound");
    assertError(await call("POST", `/deletedsecrets/db/recover?${API}`), 404, "SecretNotFound");
    assert.equal((await call("PUT", `/secrets/db?${API}`, { body: { value: "new" } })).statusCode, 200);
    assert.deepEqual((await call("GET", `/secrets/db/versions?${API}`)).json().value.length, 1);
  });

  test("deleting an unknown secret is 404 SecretNotFound", async () => {
    const { call } = await startVault();
    assertError(await call("DELETE", `/secrets/nope?${API}`), 404, "SecretNotFound");
  });

  test("purge needs purge/action: Secrets User is refused", async () => {
    const { call } = await startVault([assignment(BUILT_IN_ROLE_GUIDS.keyVaultSecretsUser, VAULT_ID)]);
    assertError(await call("DELETE", `/deletedsecrets/db?${API}`), 403, "Forbidden", /purge\/action/);
  });
});

describe("vault routes: backup and restore", () => {
  test("a backup restores every version after the secret was deleted and purged", async () => {
    const { call } = await startVault();
    const first = (await call("PUT", `/secrets/db?${API}`, { body: { value: "one" } })).json();
    const second = (
      await call("PUT", `/secrets/db?${API}`, { body: { value: "two", tags: { t: "x" } } })
    ).json();
    const backup = await call("POST", `/secrets/db/backup?${API}`);
    assert.equal(backup.statusCode, 200);
    const blob = backup.json().value;
    assert.match(blob, /^[A-Za-z0-9_-]+$/);

    assertError(
      await call("POST", `/secrets/restore?${API}`, { body: { value: blob } }),
      409,
      "Conflict",
      /already exists/,
    );
    await call("DELETE", `/secrets/db?${API}`);
    assertError(await call("POST", `/secrets/restore?${API}`, { body: { value: blob } }), 409, "Conflict");
    await call("DELETE", `/deletedsecrets/db?${API}`);

    const restored = await call("POST", `/secrets/restore?${API}`, { body: { value: blob } });
    assert.equal(restored.statusCode, 200);
    assert.equal(restored.json().id, second.id);
    assert.deepEqual(restored.json().tags, { t: "x" });
    assert.equal("value" in restored.json(), false);
    assert.equal((await call("GET", `/secrets/db?${API}`)).json().value, "two");
    assert.equal((await call("GET", `/secrets/db/${first.id.split("/").at(-1)}?${API}`)).json().value, "one");
  });

  test("a tampered or foreign blob is 400 BadParameter", async () => {
    const { call } = await startVault();
    const forged = Buffer.from(JSON.stringify({ format: "other", name: "x", versions: [] })).toString(
      "base64url",
    );
    for (const value of ["%%%", forged, 42]) {
      assertError(
        await call("POST", `/secrets/restore?${API}`, { body: { value } }),
        400,
        "BadParameter",
        /backup blob/,
      );
    }
  });

  test("backing up an unknown secret is 404 SecretNotFound", async () => {
    const { call } = await startVault();
    assertError(await call("POST", `/secrets/nope/backup?${API}`), 404, "SecretNotFound");
  });
});
