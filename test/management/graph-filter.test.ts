import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { GraphFilterError, parseGraphFilter } from "../../src/management/graph-filter.ts";

const app = {
  appId: "0b5c6a8e-1111-4222-8333-944445555666",
  displayName: "O'Brien's App",
  identifierUris: ["api://orders", "https://orders.example.test"],
  servicePrincipalNames: ["0b5c6a8e-1111-4222-8333-944445555666"],
  accountEnabled: true,
  notes: null,
};

describe("Graph $filter", () => {
  const cases: [string, boolean][] = [
    ["appId eq '0b5c6a8e-1111-4222-8333-944445555666'", true],
    ["appId eq '0B5C6A8E-1111-4222-8333-944445555666'", true],
    ["appId eq 'other'", false],
    ["appId ne 'other'", true],
    ["displayName eq 'O''Brien''s App'", true],
    ["startswith(displayName,'o''brien')", true],
    ["startswith(displayName, 'App')", false],
    ["identifierUris/any(s:s eq 'api://orders')", true],
    ["identifierUris/any(x: x eq 'API://ORDERS')", true],
    ["identifierUris/any(s:s eq 'api://other')", false],
    ["startswith(displayName,'O') and identifierUris/any(s:s eq 'api://orders')", true],
    ["startswith(displayName,'X') or appId eq '0b5c6a8e-1111-4222-8333-944445555666'", true],
    ["not (startswith(displayName,'X') or accountEnabled eq false)", true],
    ["accountEnabled eq true and notes eq null", true],
    ["missing eq 'x'", false],
    ["startswith(missing,'x')", false],
  ];
  for (const [filter, expected] of cases) {
    test(`${filter} → ${expected}`, () => assert.equal(parseGraphFilter(filter)(app), expected));
  }

  const refused: [string, GraphFilterError["code"]][] = [
    ["appId eq 'open", "BadRequest"],
    ["appId eq", "BadRequest"],
    ["appId 'x'", "BadRequest"],
    ["(appId eq 'x'", "BadRequest"],
    ["appId eq 'x' trailing", "BadRequest"],
    ["appId eq 'x' & 1", "BadRequest"],
    ["appId gt 'x'", "Request_UnsupportedQuery"],
    ["identifierUris/all(s:s eq 'x')", "Request_UnsupportedQuery"],
    ["identifierUris/any(s:t eq 'x')", "Request_UnsupportedQuery"],
    [`${"(".repeat(40)}appId eq 'x'${")".repeat(40)}`, "BadRequest"],
    ["x".repeat(3000), "BadRequest"],
  ];
  for (const [filter, code] of refused) {
    test(`refused with ${code}: ${filter.slice(0, 40)}`, () =>
      assert.throws(
        () => parseGraphFilter(filter),
        (error: unknown) => error instanceof GraphFilterError && error.code === code,
      ));
  }

  test("fuzz: any text either parses or is refused with a GraphFilterError, never another error", () => {
    const alphabet = [
      "appId",
      " eq ",
      " and ",
      " or ",
      "not ",
      "(",
      ")",
      "'",
      "''",
      ",",
      "/",
      ":",
      "any",
      "startswith",
      "s",
      "x",
      " ",
      "true",
      "null",
      "\u0000",
      "é",
    ];
    let seed = 42;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let round = 0; round < 5000; round += 1) {
      let text = "";
      const length = next() % 12;
      for (let index = 0; index < length; index += 1) text += alphabet[next() % alphabet.length];
      try {
        parseGraphFilter(text)(app);
      } catch (error) {
        assert.ok(error instanceof GraphFilterError, `${JSON.stringify(text)}: ${String(error)}`);
      }
    }
  });
});
