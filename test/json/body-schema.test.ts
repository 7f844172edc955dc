import assert from "node:assert/strict";
import { describe, test } from "node:test";
import Fastify from "fastify";
import { createBodyValidation } from "../../src/json/body-schema.ts";
import { isPlainObject } from "../../src/json/json-value.ts";

/** An API's own error, as a caller of the shared module would have one. */
class ApiError extends Error {
  readonly kind: string;

  constructor(kind: string, message: string) {
    super(message);
    this.kind = kind;
  }
}

const validation = createBodyValidation<ApiError>({
  keyword: "apiError",
  declaredError: (declared) =>
    isPlainObject(declared) && typeof declared.message === "string"
      ? new ApiError("declared", declared.message)
      : undefined,
  undeclaredError: (failure) => new ApiError("undeclared", `${failure?.instancePath} ${failure?.message}`),
});

const BODY = {
  type: "object",
  apiError: { message: "the body must be an object" },
  properties: {
    name: { type: "string", apiError: { message: "name must be a string" } },
    size: { type: "integer", apiError: { message: "size must be an integer" } },
    tags: { type: "object", additionalProperties: { type: "string" } },
  },
};

/** A route that answers with the error its handler raised, or the body it accepted. */
async function start() {
  const app = Fastify();
  app.post("/things", validation.bodySchema(BODY), async (request) => {
    try {
      return { body: validation.validatedBody(request) };
    } catch (error) {
      assert.ok(error instanceof ApiError, String(error));
      return { kind: error.kind, message: error.message };
    }
  });
  await app.ready();
  return async (payload: unknown) =>
    (await app.inject({ method: "POST", url: "/things", payload: payload as object })).json();
}

describe("body schemas with declared errors", () => {
  test("a failing (sub)schema's declared error is the one raised, by the handler", async () => {
    const post = await start();
    assert.deepEqual(await post([1]), { kind: "declared", message: "the body must be an object" });
    assert.deepEqual(await post({ size: 1.5 }), { kind: "declared", message: "size must be an integer" });
    assert.deepEqual(await post({ name: "a", size: 2 }), { body: { name: "a", size: 2 } });
  });

  test("values are not coerced: a number is not a string, a string is not a number", async () => {
    const post = await start();
    assert.deepEqual(await post({ name: 7 }), { kind: "declared", message: "name must be a string" });
    assert.deepEqual(await post({ size: "2" }), { kind: "declared", message: "size must be an integer" });
  });

  test("the first failure, in schema order, is the one answered", async () => {
    const post = await start();
    assert.deepEqual(await post({ size: "x", name: 7 }), {
      kind: "declared",
      message: "name must be a string",
    });
  });

  test("a failure whose schema declares no error gets the caller's undeclared error", async () => {
    const post = await start();
    assert.deepEqual(await post({ tags: { a: 1 } }), {
      kind: "undeclared",
      message: "/tags/a must be string",
    });
  });

  test("a value check throws the same declared errors, where its caller runs it", () => {
    const check = validation.valueCheck(BODY);
    check({ name: "a" });
    assert.throws(() => check({ name: 1, size: "x" }), new ApiError("declared", "name must be a string"));
    assert.throws(() => check(null), { kind: "declared", message: "the body must be an object" });
  });
});
