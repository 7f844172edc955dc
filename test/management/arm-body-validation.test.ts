import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { ADMIN_TOKEN, API, assertArmError, startManagement } from "./management-fixture.ts";

describe("ARM body schemas", () => {
  test("a body that fails its schema is refused before the directory is asked (no 404 for a bad body)", async () => {
    const { call } = await startManagement();
    const error = assertArmError(
      await call("PUT", `/subscriptions/${randomUUID()}/resourceGroups/Apps`, { tags: { n: 1 } }),
      400,
      "InvalidRequestContent",
    );
    assert.equal(error.message, "'tags' values must be strings.");
  });

  test("values are checked as sent: a number is not coerced into a string tag or secret value", async () => {
    const { call, groupPath } = await startManagement();
    assertArmError(await call("PUT", groupPath("Apps"), { location: 7 }), 400, "InvalidRequestContent");
    await call("PUT", groupPath("Apps"), {});
    await call("PUT", `${groupPath("Apps")}/providers/Microsoft.KeyVault/vaults/kv1`, {});
    const error = assertArmError(
      await call("PUT", `${groupPath("Apps")}/providers/Microsoft.KeyVault/vaults/kv1/secrets/s`, {
        properties: { value: 7 },
      }),
      400,
      "BadRequest",
    );
    assert.equal(error.message, "The secret needs 'properties.value', a string.");
  });

  test("a PUT without a body, or with null members, asks for defaults", async () => {
    const { app, call, groupPath } = await startManagement();
    const bare = await app.inject({
      method: "PUT",
      url: `${groupPath("Apps")}?${API}`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(bare.statusCode, 201, bare.body);
    const nulls = await call("PUT", groupPath("Apps"), { location: null, tags: null });
    assert.equal(nulls.statusCode, 200, nulls.body);
    assert.deepEqual(nulls.json().tags, {});
  });

  test("read-only and unknown paths answer as before, whatever the body", async () => {
    const { call, subPath } = await startManagement();
    assertArmError(
      await call("PUT", `${subPath}/providers/Microsoft.Authorization/roleDefinitions/x`, { properties: 3 }),
      400,
      "OperationNotAllowed",
    );
    assertArmError(
      await call("PUT", `${subPath}/providers/Microsoft.Nothing/things/x`, { properties: 3 }),
      404,
      "InvalidResourceType",
    );
  });
});
