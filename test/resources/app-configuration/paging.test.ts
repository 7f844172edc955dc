import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { KeyValueError } from "../../../src/resources/app-configuration/key-value-documents.ts";
import { linkHeader, pageOf } from "../../../src/resources/app-configuration/paging.ts";

const KEYS = Array.from({ length: 1050 }, (_, i) => `myapp:${String(i).padStart(4, "0")}`);
const request = (query: string) => ({ path: "/kv", query: new URLSearchParams(query) });

describe("App Configuration paging", () => {
  test("1,050 items come in pages of 100, each naming the next, none lost or repeated", () => {
    const seen: string[] = [];
    let query = "key=myapp%3A*&label=prd&api-version=2023-11-01";
    for (let pages = 0; pages < 20; pages++) {
      const page = pageOf(KEYS, (key) => key, request(query));
      seen.push(...page.items);
      if (!page.nextLink) break;
      assert.equal(page.items.length, 100);
      const next = new URL(page.nextLink, "https://settings.azconfig.localhost");
      assert.equal(next.pathname, "/kv");
      assert.equal(next.searchParams.get("key"), "myapp:*", "the filters carry over");
      assert.equal(next.searchParams.get("label"), "prd");
      assert.match(linkHeader(page.nextLink), /^<\/kv\?.*after=[A-Za-z0-9_-]+.*>; rel="next"$/);
      query = next.searchParams.toString();
    }
    assert.deepEqual(seen, KEYS);
  });

  test("a list that fits one page names no next page; a forged token is refused", () => {
    assert.deepEqual(
      pageOf(["a", "b"], (key) => key, request("")),
      { items: ["a", "b"] },
    );
    assert.throws(() => pageOf(["a"], (key) => key, request("after=%25%25")), KeyValueError);
  });
  test("the after token comes last in the next link, even when the request named it first", () => {
    const page = pageOf(KEYS, (key) => key, request("after=bXlhcHA6MDA5OQ&key=myapp%3A*&api-version=1.0"));
    const link = page.nextLink ?? assert.fail("a next page");
    assert.match(link, /^\/kv\?key=myapp%3A\*&api-version=1\.0&after=[A-Za-z0-9_-]+$/);
    // How the JS SDK reads it: URLSearchParams over the whole link, path and all.
    assert.ok(new URLSearchParams(link).get("after"));
  });
});
