import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ADMIN_TOKEN, API, assertArmError, startManagement } from "./management-fixture.ts";

describe("management API: admin authentication", () => {
  test("a request without Authorization is a 401 AuthenticationFailed with a Bearer challenge", async () => {
    const { app, subPath } = await startManagement();
    const response = await app.inject({ method: "GET", url: `${subPath}?${API}` });
    const error = assertArmError(response, 401, "AuthenticationFailed");
    assert.match(error.message, /admin-token/);
    assert.equal(response.headers["www-authenticate"], 'Bearer realm="wikit management"');
  });

  const wrong: [string, string][] = [
    ["another credential", "Bearer not-the-admin-token"],
    ["the credential with a suffix", `Bearer ${ADMIN_TOKEN}x`],
    ["a prefix of the credential", `Bearer ${ADMIN_TOKEN.slice(0, -1)}`],
    ["the credential under another scheme", `Basic ${ADMIN_TOKEN}`],
    ["the bare credential", ADMIN_TOKEN],
    ["an empty Bearer", "Bearer "],
    ["two tokens", `Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}`],
  ];
  for (const [label, authorization] of wrong) {
    test(`${label} is a 401 InvalidAuthenticationToken`, async () => {
      const { app, subPath } = await startManagement();
      const response = await app.inject({
        method: "GET",
        url: `${subPath}?${API}`,
        headers: { authorization },
      });
      assertArmError(response, 401, "InvalidAuthenticationToken");
      assert.equal(
        response.headers["www-authenticate"],
        'Bearer realm="wikit management", error="invalid_token"',
      );
    });
  }

  test("nothing is written by a rejected request", async () => {
    const { app, directory, sub } = await startManagement();
    const response = await app.inject({
      method: "PUT",
      url: `/subscriptions/${sub}/resourceGroups/sneaky?${API}`,
      headers: { authorization: "Bearer guess" },
      payload: {},
    });
    assert.equal(response.statusCode, 401);
    await assert.rejects(directory.groups.get(sub, "sneaky"));
  });

  test("authentication is checked before the request is validated", async () => {
    const { app, subPath } = await startManagement();
    const response = await app.inject({ method: "GET", url: subPath });
    assertArmError(response, 401, "AuthenticationFailed");
  });

  test("the admin credential is accepted as a Bearer token, scheme in any case", async () => {
    const { app, subPath, sub } = await startManagement();
    for (const scheme of ["Bearer", "bearer", "BEARER"]) {
      const response = await app.inject({
        method: "GET",
        url: `${subPath}?${API}`,
        headers: { authorization: `${scheme} ${ADMIN_TOKEN}` },
      });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.json().subscriptionId, sub);
    }
  });

  test("the ARM secret routes are guarded too", async () => {
    const { app, groupPath } = await startManagement();
    const response = await app.inject({
      method: "PUT",
      url: `${groupPath("rg")}/providers/Microsoft.KeyVault/vaults/kv1/secrets/s?${API}`,
      payload: { properties: { value: "x" } },
    });
    assertArmError(response, 401, "AuthenticationFailed");
  });
});
