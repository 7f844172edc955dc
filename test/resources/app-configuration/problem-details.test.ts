import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FilterError, parseNameFilter } from "../../../src/resources/app-configuration/name-filter.ts";
import { invalidFilter, keyLocked } from "../../../src/resources/app-configuration/problem-details.ts";

describe("App Configuration problem details", () => {
  test("a refused filter is the service's invalid-argument problem, naming the parameter", () => {
    let refusal: FilterError | undefined;
    try {
      parseNameFilter("label", "a*,b", { nullLabel: true });
    } catch (error) {
      refusal = error as FilterError;
    }
    assert.ok(refusal instanceof FilterError);
    const problem = invalidFilter(refusal);
    assert.equal(problem.type, "https://azconfig.io/errors/invalid-argument");
    assert.equal(problem.title, "Invalid request parameter 'label'");
    assert.equal(problem.name, "label");
    assert.equal(problem.status, 400);
    assert.match(problem.detail ?? "", /^label: a wildcard and a comma-separated list cannot be combined/);
  });

  test("a write to a locked key-value is the service's key-locked problem", () => {
    assert.deepEqual(keyLocked("myapp:color"), {
      type: "https://azconfig.io/errors/key-locked",
      title: "Modifing key 'myapp:color' is not allowed",
      name: "myapp:color",
      detail: "The key is read-only. To allow modification unlock it first.",
      status: 409,
    });
  });
});
