// How a client-credentials request names its resource (entra.md §2.1 scope rules): v2.0's `scope` must be exactly
// one `{resource}/.default`; the resource keeps the caller's spelling (aud echoes it), while matching against the
// known resources ignores case and trailing slashes.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { AadstsError } from "../../../src/identity/exchange/aadsts-errors.ts";
import { resourceFromScope, resourceKey } from "../../../src/identity/http/requested-resource.ts";

function aadstsCodeOf(run: () => unknown): number | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof AadstsError) return error.code;
    throw error;
  }
  return undefined;
}

describe("resourceFromScope", () => {
  const accepted: Array<[scope: string, resource: string]> = [
    ["https://vault.azure.net/.default", "https://vault.azure.net"],
    ["https://management.core.windows.net//.default", "https://management.core.windows.net/"],
    ["https://vault.example.test:8443/.default", "https://vault.example.test:8443"],
    ["api://9f3b2c1d-0000-4000-8000-000000000001/.default", "api://9f3b2c1d-0000-4000-8000-000000000001"],
    ["9f3b2c1d-0000-4000-8000-000000000001/.default", "9f3b2c1d-0000-4000-8000-000000000001"],
    ["HTTPS://Vault.Azure.Net/.default", "HTTPS://Vault.Azure.Net"],
    [" https://vault.azure.net/.default\t", "https://vault.azure.net"],
  ];
  for (const [scope, resource] of accepted) {
    test(`${JSON.stringify(scope)} asks for ${resource}`, () => {
      assert.equal(resourceFromScope(scope), resource);
    });
  }

  const rejected: Array<[scope: string | undefined, code: number]> = [
    [undefined, 900144],
    ["", 900144],
    ["   ", 900144],
    ["https://vault.azure.net", 1002012],
    ["https://vault.azure.net/user_impersonation", 1002012],
    ["https://vault.azure.net/.Default", 1002012],
    ["https://vault.azure.net/.default openid", 70011],
    ["https://vault.azure.net/.default https://management.azure.com/.default", 70011],
    ["openid https://vault.azure.net/.default", 70011],
    ["/.default", 70011],
  ];
  for (const [scope, code] of rejected) {
    test(`${JSON.stringify(scope)} → AADSTS${code}`, () => {
      assert.equal(
        aadstsCodeOf(() => resourceFromScope(scope)),
        code,
      );
    });
  }

  test("the 1002012 and 70011 messages name the offending scope", () => {
    assert.throws(
      () => resourceFromScope("https://vault.azure.net/read"),
      (error: AadstsError) =>
        error.error === "invalid_scope" &&
        error.description.startsWith(
          "AADSTS1002012: The provided value for scope https://vault.azure.net/read is not valid.",
        ),
    );
    assert.throws(
      () => resourceFromScope("a/.default b/.default"),
      (error: AadstsError) =>
        error.error === "invalid_scope" &&
        error.description.endsWith("The scope a/.default b/.default is not valid."),
    );
  });

  test("property: any single whitespace-free `{resource}/.default` gives back exactly `{resource}`", () => {
    const resource = fc.stringMatching(/^[!-~]{1,60}$/);
    fc.assert(
      fc.property(resource, (name) => {
        assert.equal(resourceFromScope(`${name}/.default`), name);
      }),
    );
  });

  test("property: a scope never throws anything but an AadstsError", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (scope) => {
        const code = aadstsCodeOf(() => resourceFromScope(scope));
        assert.ok(code === undefined || [900144, 70011, 1002012].includes(code));
      }),
    );
  });
});

describe("resourceKey", () => {
  test("ignores case and trailing slashes, keeps everything else", () => {
    assert.equal(resourceKey("https://Management.Core.Windows.NET/"), "https://management.core.windows.net");
    assert.equal(resourceKey("https://management.core.windows.net//"), "https://management.core.windows.net");
    assert.equal(resourceKey("https://vault.example.test:8443"), "https://vault.example.test:8443");
    assert.notEqual(
      resourceKey("https://vault.example.test:8443"),
      resourceKey("https://vault.example.test"),
    );
    assert.notEqual(resourceKey("https://vault.azure.net/x"), resourceKey("https://vault.azure.net"));
  });

  test("property: idempotent, and a resource and its slash-suffixed spelling share a key", () => {
    const resource = fc.stringMatching(/^[!-~]{0,40}$/);
    fc.assert(
      fc.property(resource, fc.integer({ min: 0, max: 3 }), (name, slashes) => {
        const key = resourceKey(name);
        assert.equal(resourceKey(key), key);
        assert.equal(resourceKey(`${name}${"/".repeat(slashes)}`), key);
      }),
    );
  });
});
