// docs/troubleshooting.md follows the AADSTS catalogue: one `### AADSTS<code>` section per code the token service
// can answer, none for a code it cannot, each stating the code's OAuth error and HTTP status as the catalogue does.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, test } from "node:test";
import { AADSTS_CATALOGUE } from "../../src/identity/exchange/aadsts-errors.ts";

const guide = await readFile(new URL("../../docs/troubleshooting.md", import.meta.url), "utf8");

/** Each `### AADSTS<code>` section of the guide: its code and its text up to the next heading. */
function sections(markdown: string): { code: number; text: string }[] {
  const found: { code: number; text: string }[] = [];
  const heading = /^### AADSTS(\d+)\b.*$/gm;
  for (let match = heading.exec(markdown); match !== null; match = heading.exec(markdown)) {
    const start = match.index + match[0].length;
    const next = markdown.slice(start).search(/^#{1,3} /m);
    found.push({
      code: Number(match[1]),
      text: markdown.slice(start, next === -1 ? undefined : start + next),
    });
  }
  return found;
}

const catalogued = Object.keys(AADSTS_CATALOGUE)
  .map(Number)
  .sort((a, b) => a - b);
const documented = sections(guide);

describe("docs/troubleshooting.md", () => {
  test("has a ### AADSTS<code> section for every code of the catalogue, and none for another code", () => {
    assert.deepEqual(
      [...new Set(documented.map(({ code }) => code))].sort((a, b) => a - b),
      catalogued,
    );
  });

  test("documents each code once", () => {
    const codes = documented.map(({ code }) => code);
    assert.deepEqual(
      codes.filter((code, index) => codes.indexOf(code) !== index),
      [],
    );
  });

  test("states each code's OAuth error and HTTP status as the catalogue has them", () => {
    for (const { code, text } of documented) {
      const entry: { error: string; status: number } | undefined =
        AADSTS_CATALOGUE[code as keyof typeof AADSTS_CATALOGUE];
      if (entry === undefined) continue; // reported by the first test
      assert.ok(
        text.includes(`\`${entry.error}\`, HTTP ${entry.status}`),
        `AADSTS${code}: expected "\`${entry.error}\`, HTTP ${entry.status}"`,
      );
    }
  });

  test("mentions no other ### heading that looks like a code", () => {
    const headings = guide.match(/^### .*AADSTS.*$/gm) ?? [];
    assert.equal(headings.length, documented.length, headings.join("\n"));
  });
});
