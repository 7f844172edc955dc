// `--output` laid out exactly as az lays it out, with az's own formatters (knack) as the oracle, on ARM-shaped
// results and on generated values; and `--query` with JMESPath.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { applyQuery, QueryError, renderResult } from "../../src/cli/output-format.ts";
import { knackAvailable, knackRender } from "./knack-oracle.ts";

const IDENTITY = {
  clientId: "0a8ca96d-78ef-4740-85be-2fe24206c16c",
  id: "/subscriptions/929d7a1b-0000-4000-8000-000000000001/resourcegroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app-identity",
  location: "westeurope",
  name: "app-identity",
  principalId: "5f3c2a10-0000-4000-8000-000000000002",
  resourceGroup: "rg1",
  tags: {},
  tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
  type: "Microsoft.ManagedIdentity/userAssignedIdentities",
};
const CREDENTIAL = {
  audiences: ["api://AzureADTokenExchange"],
  id: `${IDENTITY.id}/federatedIdentityCredentials/kube`,
  issuer: "https://localhost:8443/oidc/5c41add9-338b-4e08-9ef2-1f99dd02f9db/",
  name: "kube",
  resourceGroup: "rg1",
  subject: "system:serviceaccount:wlipoc:workload-identity-sa",
  type: "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
  signIns: 3,
  lastSignInDateTime: null,
};

const SAMPLES: { name: string; value: unknown; queryActive?: boolean }[] = [
  { name: "an identity", value: IDENTITY },
  { name: "a list of credentials", value: [CREDENTIAL, { ...CREDENTIAL, name: "other", signIns: 0 }] },
  {
    name: "rows with different keys",
    value: [
      { name: "a", enabled: true },
      { name: "bb", extra: "e", count: 10.5 },
    ],
  },
  { name: "a query's projection, order kept", value: [{ z: "1", a: "2" }], queryActive: true },
  {
    name: "a list of lists",
    value: [
      ["a", 1],
      ["b", true],
    ],
  },
  { name: "a list of strings", value: ["x", "y"] },
  { name: "one string", value: "https://localhost:8443/oidc/x/" },
  { name: "a lone boolean", value: true },
  { name: "a number", value: 42 },
  { name: "an empty list", value: [] },
  {
    name: "YAML 1.1 words and numbers in strings",
    value: { a: "yes", b: "1", c: "2026-01-01", d: "", e: "a: b", f: "on" },
  },
  { name: "non-ASCII text and nesting", value: { u: "ünï ✓", nested: { list: [{ k: 1 }, [2, 3]] } } },
];

test("az's formatters are here to compare with wherever CI runs", (t) => {
  if (knackAvailable()) return;
  assert.ok(!process.env.CI, "CI must install Debian's azure-cli");
  t.skip("Debian's azure-cli (knack) is not installed");
});

describe("--output, against az's own formatters", {
  skip: !knackAvailable() && "Debian's azure-cli (knack) is not installed",
}, () => {
  const cases = SAMPLES.map(({ value, queryActive }) => ({ value, queryActive: queryActive ?? false }));
  const expected = knackAvailable() ? knackRender(cases) : [];
  SAMPLES.forEach((sample, index) => {
    for (const format of ["json", "yaml", "table", "tsv"] as const) {
      test(`${format}: ${sample.name}`, () => {
        const want = expected[index]?.[format] ?? "";
        if (want.startsWith("error: ")) {
          assert.throws(() => renderResult(sample.value, { format, queryActive: sample.queryActive }));
        } else {
          assert.equal(renderResult(sample.value, { format, queryActive: sample.queryActive }), want);
        }
      });
    }
  });

  test("json, table and tsv match az on generated ARM-like results", () => {
    const scalar = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.integer({ min: -1000, max: 1_000_000 }),
      fc.boolean(),
      fc.constant(null),
    );
    const key = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9]{0,8}$/);
    const value = fc.oneof(
      scalar,
      fc.array(scalar, { maxLength: 3 }),
      fc.dictionary(key, scalar, { maxKeys: 3 }),
    );
    const result = fc.oneof(
      fc.dictionary(key, value, { minKeys: 1, maxKeys: 6 }),
      fc.array(fc.dictionary(key, value, { minKeys: 1, maxKeys: 5 }), { minLength: 1, maxLength: 4 }),
    );
    const values = fc.sample(result, { numRuns: 150, seed: 20261204 });
    const renderings = knackRender(values.map((value) => ({ value, queryActive: false })));
    values.forEach((value, index) => {
      const want = renderings[index];
      for (const format of ["json", "tsv"] as const) {
        assert.equal(
          renderResult(value, { format }),
          want?.[format],
          `${format} of ${JSON.stringify(value)}`,
        );
      }
      if (!want?.table.startsWith("error: ")) {
        assert.equal(
          renderResult(value, { format: "table" }),
          want?.table,
          `table of ${JSON.stringify(value)}`,
        );
      }
    });
  });
});

describe("--output without the oracle", () => {
  test("none prints nothing, and no result prints nothing in any format", () => {
    assert.equal(renderResult(IDENTITY, { format: "none" }), "");
    for (const format of ["json", "yaml", "table", "tsv"] as const)
      assert.equal(renderResult(null, { format }), "");
  });

  test("jsonc and yamlc colour a terminal and are json and yaml elsewhere", () => {
    assert.equal(renderResult(IDENTITY, { format: "jsonc" }), renderResult(IDENTITY, { format: "json" }));
    assert.equal(renderResult(IDENTITY, { format: "yamlc" }), renderResult(IDENTITY, { format: "yaml" }));
    const colored = renderResult({ a: "b", n: 1 }, { format: "jsonc", color: true });
    const esc = "\u001b";
    assert.ok(colored.includes(`${esc}[94m"a"${esc}[0m: ${esc}[32m"b"${esc}[0m`), colored);
    const plain = [94, 32, 36, 0].reduce((text, code) => text.replaceAll(`${esc}[${code}m`, ""), colored);
    assert.equal(plain, renderResult({ a: "b", n: 1 }, { format: "json" }));
  });
});

describe("--query", () => {
  test("az's walkthrough queries", () => {
    assert.equal(
      applyQuery({ oidcIssuerProfile: { issuerUrl: "https://x/" } }, "oidcIssuerProfile.issuerUrl"),
      "https://x/",
    );
    assert.equal(applyQuery(IDENTITY, "clientId"), IDENTITY.clientId);
    assert.deepEqual(applyQuery([CREDENTIAL], "[].{name:name, subject:subject}"), [
      { name: "kube", subject: CREDENTIAL.subject },
    ]);
    assert.deepEqual(
      applyQuery([CREDENTIAL, { ...CREDENTIAL, name: "x", signIns: 0 }], "[?signIns > `0`].name"),
      ["kube"],
    );
    assert.equal(applyQuery(IDENTITY, "missing"), null);
  });

  test("a malformed query is an argument error that quotes it", () => {
    assert.throws(
      () => applyQuery(IDENTITY, "[?name =="),
      (error: unknown) => {
        assert.ok(error instanceof QueryError);
        assert.match(error.message, /^argument --query: invalid jmespath query '\[\?name ==': /);
        return true;
      },
    );
  });
});
