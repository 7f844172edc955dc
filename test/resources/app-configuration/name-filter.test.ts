import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  FilterError,
  matchesNameFilter,
  type NameFilter,
  parseNameFilter,
} from "../../../src/resources/app-configuration/name-filter.ts";

const NAMES = ["myapp:color", "myapp:size", "myapp", "other:color", "a*b", "a,b", "a\\b", "", null] as const;

/** The names of NAMES a key filter selects. */
const selected = (filter: NameFilter) => NAMES.filter((name) => matchesNameFilter(filter, name));

describe("App Configuration key and label filters", () => {
  test("each form selects what the reference says", () => {
    const cases: [string | undefined, (string | null)[]][] = [
      [undefined, [...NAMES]],
      ["*", [...NAMES]],
      ["myapp:color", ["myapp:color"]],
      ["myapp:*", ["myapp:color", "myapp:size"]],
      ["myapp*", ["myapp:color", "myapp:size", "myapp"]],
      ["myapp:color,other:color", ["myapp:color", "other:color"]],
      ["a\\*b", ["a*b"]],
      ["a\\,b", ["a,b"]],
      ["a\\\\b", ["a\\b"]],
      ["a\\**", ["a*b"]],
      ["myapp\\:color", ["myapp:color"]],
      ["nothing", []],
    ];
    for (const [filter, expected] of cases) {
      assert.deepEqual(selected(parseNameFilter("key", filter)), expected, `key=${filter}`);
    }
  });

  test("in a label filter the NUL character is the null label, alone or in a list", () => {
    assert.deepEqual(parseNameFilter("label", "\0", { nullLabel: true }), { kind: "names", names: [null] });
    assert.deepEqual(selected(parseNameFilter("label", "\0,myapp", { nullLabel: true })), ["myapp", null]);
    assert.equal(matchesNameFilter(parseNameFilter("label", "prd*", { nullLabel: true }), null), false);
  });

  test("refusals name the parameter and say what is allowed", () => {
    const refusals: [string, string, RegExp][] = [
      ["key", "a*,b", /key: a wildcard and a comma-separated list cannot be combined/],
      ["key", "*a", /'\*' is allowed only at the end of a name/],
      ["key", "a*b", /'\*' is allowed only at the end of a name/],
      ["key", "a,b,c,d,e,f", /up to 5 comma-separated names/],
      ["key", "a\\", /key\(2\): a filter cannot end in '\\'/],
      ["key", "a,,b", /a name in the list is empty/],
      ["key", "\0", /the NUL character may only stand alone, for the null label/],
      ["label", "x\0", /label: the NUL character/],
    ];
    for (const [parameter, filter, message] of refusals) {
      assert.throws(
        () => parseNameFilter(parameter as "key" | "label", filter, { nullLabel: parameter === "label" }),
        (error: unknown) =>
          error instanceof FilterError && error.parameter === parameter && message.test(error.message),
        `${parameter}=${JSON.stringify(filter)}`,
      );
    }
  });

  test("any text either parses or is refused with a FilterError, and matching never throws", () => {
    const text = fc.string({
      unit: fc.constantFrom("a", "b", ":", "*", ",", "\\", "\0", "é"),
      maxLength: 12,
    });
    fc.assert(
      fc.property(text, fc.boolean(), fc.option(text, { nil: null }), (filter, nullLabel, name) => {
        let parsed: NameFilter;
        try {
          parsed = parseNameFilter("label", filter, { nullLabel });
        } catch (error) {
          assert.ok(error instanceof FilterError, String(error));
          return;
        }
        assert.equal(typeof matchesNameFilter(parsed, name), "boolean");
      }),
      { numRuns: 5000 },
    );
  });

  test("a parsed exact name matches itself, and a prefix every name that starts with it", () => {
    const plain = fc.string({ unit: fc.constantFrom("a", "b", ":", "."), minLength: 1, maxLength: 10 });
    fc.assert(
      fc.property(plain, plain, (name, rest) => {
        assert.ok(matchesNameFilter(parseNameFilter("key", name), name));
        assert.ok(matchesNameFilter(parseNameFilter("key", `${name}*`), `${name}${rest}`));
      }),
    );
  });
});
