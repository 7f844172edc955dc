// Claims-matching expressions: the grammar, an error with a position and what was expected for every malformed
// expression, the wildcard semantics, and fuzzing: random text never crashes the parser, printed expressions
// parse back to themselves, and `matches` agrees with a regular-expression oracle.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  type ClaimsComparison,
  ClaimsExpressionError,
  claimsMatch,
  MAX_CLAIMS_EXPRESSION_LENGTH,
  parseClaimsExpression,
} from "../../../src/identity/exchange/claims-expression.ts";

const NAMESPACE_RULE = "claims['sub'] matches 'system:serviceaccount:team-a:*'";

function rejects(source: string, position: number, message: RegExp): void {
  assert.throws(
    () => parseClaimsExpression(source),
    (error: unknown) => {
      assert.ok(error instanceof ClaimsExpressionError, `expected a ClaimsExpressionError, got ${error}`);
      assert.equal(error.position, position, error.message);
      assert.match(error.message, message);
      return true;
    },
  );
}

describe("claims expressions: grammar", () => {
  test("one comparison, with matches or eq", () => {
    assert.deepEqual(parseClaimsExpression(NAMESPACE_RULE).all, [
      { claim: "sub", operator: "matches", value: "system:serviceaccount:team-a:*" },
    ]);
    assert.deepEqual(parseClaimsExpression("claims['aud'] eq 'api://AzureADTokenExchange'").all, [
      { claim: "aud", operator: "eq", value: "api://AzureADTokenExchange" },
    ]);
  });

  test("comparisons joined by and, whitespace anywhere between tokens", () => {
    const parsed = parseClaimsExpression(
      "  claims [ 'sub' ]matches'system:serviceaccount:*:api'\n and claims['kubernetes.io/namespace'] eq 'x'  ",
    );
    assert.deepEqual(
      parsed.all.map((comparison) => comparison.claim),
      ["sub", "kubernetes.io/namespace"],
    );
  });

  test("strings escape a quote and a backslash, nothing else", () => {
    assert.equal(parseClaimsExpression("claims['sub'] eq 'it\\'s \\\\ here'").all[0]?.value, "it's \\ here");
    rejects("claims['sub'] eq 'a\\n'", 20, /expected \\' or \\\\ after a backslash/);
  });

  test("a malformed expression is reported with the position and what was expected there", () => {
    rejects("", 1, /expected claims, found the end of the expression/);
    rejects("claim['sub'] eq 'x'", 1, /expected claims, found 'claim'/);
    rejects("claims('sub') eq 'x'", 7, /unexpected '\('/);
    rejects("claims[sub] eq 'x'", 8, /expected a claim name in quotes, e\.g\. 'sub', found 'sub'/);
    rejects("claims['sub' eq 'x'", 14, /expected '\]', found 'eq'/);
    rejects("claims['sub'] equals 'x'", 15, /expected 'eq' or 'matches', found 'equals'/);
    rejects("claims['sub'] eq x", 18, /expected a value in quotes, found 'x'/);
    rejects(
      "claims['sub'] eq 'x' or claims['aud'] eq 'y'",
      22,
      /expected 'and' or the end of the expression, found 'or'/,
    );
    rejects("claims['sub'] eq 'x' and", 25, /expected claims, found the end of the expression/);
    rejects("claims['sub'] eq 'x", 18, /this string has no closing quote/);
    rejects("claims[''] eq 'x'", 8, /the claim name is empty/);
    rejects(
      `claims['sub'] eq '${"x".repeat(MAX_CLAIMS_EXPRESSION_LENGTH)}'`,
      MAX_CLAIMS_EXPRESSION_LENGTH + 1,
      /longer than/,
    );
  });
});

describe("claims expressions: matching", () => {
  const rule = parseClaimsExpression(NAMESPACE_RULE);

  test("matches takes * for any run of characters, ? for one, the rest literally and case-sensitively", () => {
    assert.ok(claimsMatch(rule, { sub: "system:serviceaccount:team-a:api" }));
    assert.ok(claimsMatch(rule, { sub: "system:serviceaccount:team-a:" }));
    assert.ok(!claimsMatch(rule, { sub: "system:serviceaccount:team-b:api" }));
    assert.ok(!claimsMatch(rule, { sub: "System:serviceaccount:team-a:api" }));
    const one = parseClaimsExpression("claims['sub'] matches 'pod-?'");
    assert.ok(claimsMatch(one, { sub: "pod-1" }));
    assert.ok(!claimsMatch(one, { sub: "pod-12" }));
  });

  test("eq compares exactly; every comparison of an and must hold", () => {
    const both = parseClaimsExpression(`${NAMESPACE_RULE} and claims['team'] eq 'a'`);
    assert.ok(claimsMatch(both, { sub: "system:serviceaccount:team-a:api", team: "a" }));
    assert.ok(!claimsMatch(both, { sub: "system:serviceaccount:team-a:api", team: "A" }));
  });

  test("a claim that is missing, inherited or not a string satisfies no comparison", () => {
    assert.ok(!claimsMatch(rule, {}));
    assert.ok(!claimsMatch(rule, { sub: ["system:serviceaccount:team-a:api"] }));
    assert.ok(!claimsMatch(parseClaimsExpression("claims['toString'] matches '*'"), {}));
  });
});

describe("claims expressions: fuzz", () => {
  test("any text either parses or is a ClaimsExpressionError with a position inside it, never another failure", () => {
    const alphabet = fc.constantFrom(..."claims[]'\\ eqmatchesand*?sub\n".split(""));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: alphabet, maxLength: 80 })), (source) => {
        try {
          parseClaimsExpression(source);
        } catch (error) {
          assert.ok(error instanceof ClaimsExpressionError, String(error));
          assert.ok(error.position >= 1 && error.position <= Math.max(source.length, 0) + 1, error.message);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test("printed expressions parse back to the same comparisons", () => {
    const text = fc.string({ maxLength: 20 });
    const comparison = fc.record({
      claim: text.filter((name) => name !== ""),
      operator: fc.constantFrom("eq" as const, "matches" as const),
      value: text,
    });
    const quote = (value: string) => `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
    const print = (all: ClaimsComparison[]) =>
      all
        .map(({ claim, operator, value }) => `claims[${quote(claim)}] ${operator} ${quote(value)}`)
        .join(" and ");
    fc.assert(
      fc.property(fc.array(comparison, { minLength: 1, maxLength: 4 }), (all) => {
        fc.pre(print(all).length <= MAX_CLAIMS_EXPRESSION_LENGTH);
        // fast-check may build records without a prototype; compare the members only.
        assert.deepEqual(
          parseClaimsExpression(print(all)).all,
          all.map((comparison) => ({ ...comparison })),
        );
      }),
    );
  });

  test("matches agrees with a regular-expression oracle, and stays fast on patterns built to backtrack", () => {
    const alphabet = fc.constantFrom("a", "b", "*", "?");
    const oracle = (pattern: string, value: string) =>
      new RegExp(`^${pattern.replaceAll("*", ".*").replaceAll("?", ".")}$`, "s").test(value);
    fc.assert(
      fc.property(
        fc.string({ unit: alphabet, maxLength: 12 }),
        fc.string({ unit: fc.constantFrom("a", "b"), maxLength: 16 }),
        (pattern, value) => {
          const expression = { all: [{ claim: "sub", operator: "matches" as const, value: pattern }] };
          assert.equal(claimsMatch(expression, { sub: value }), oracle(pattern, value));
        },
      ),
      { numRuns: 3000 },
    );
    const hostile = { all: [{ claim: "sub", operator: "matches" as const, value: `${"*a".repeat(50)}b` }] };
    assert.equal(claimsMatch(hostile, { sub: "a".repeat(5000) }), false);
  });
});
