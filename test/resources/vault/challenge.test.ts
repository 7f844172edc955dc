import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { challengeHeader, vaultResourceForHost } from "../../../src/resources/vault/challenge.ts";

const TENANT = "5e7c6f1a-0d3b-4c52-9a8e-2b1f4d6c8e90";

describe("challenge header", () => {
  test("names the authority with the tenant as its only path segment, then the resource", () => {
    assert.equal(
      challengeHeader({
        authorityHost: "https://login.microsoftonline.com",
        tenantId: TENANT,
        resource: "https://vault.azure.net",
      }),
      `Bearer authorization="https://login.microsoftonline.com/${TENANT}", resource="https://vault.azure.net"`,
    );
  });

  test("a trailing slash on the authority host does not double (the JS SDK would read tenant '/{id}')", () => {
    assert.equal(
      challengeHeader({
        authorityHost: "https://localhost:8443/",
        tenantId: TENANT,
        resource: "https://vault.example.test:8443",
      }),
      `Bearer authorization="https://localhost:8443/${TENANT}", resource="https://vault.example.test:8443"`,
    );
  });
});

describe("resource for a vault host (keyvault.md §6)", () => {
  const table: [string, string | undefined][] = [
    ["myvault.vault.azure.net", "https://vault.azure.net"],
    ["kv1.vault.example.test", "https://vault.example.test"],
    ["myvault.vault.example.test:8443", "https://vault.example.test:8443"],
    ["kv.ns.svc.cluster.local", "https://ns.svc.cluster.local"],
    ["MyVault.Vault.Azure.NET", "https://vault.azure.net"],
    ["localhost:8443", undefined],
    ["localhost", undefined],
    ["127.0.0.1:8443", undefined],
    ["[::1]:8443", undefined],
    ["", undefined],
  ];
  for (const [host, resource] of table) {
    test(`Host '${host}' → ${resource ?? "no resource any SDK accepts"}`, () => {
      assert.equal(vaultResourceForHost(host), resource);
    });
  }

  test("property: the resource passes the JavaScript, Python and Go resource checks", () => {
    const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,14}[a-z0-9]$/);
    const port = fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined });
    fc.assert(
      fc.property(label, fc.array(label, { minLength: 1, maxLength: 4 }), port, (vault, domain, p) => {
        const host = `${vault}.${domain.join(".")}${p === undefined ? "" : `:${p}`}`;
        const resource = vaultResourceForHost(host);
        assert.ok(resource);
        const request = new URL(`https://${host}/secrets/x`);
        const challenge = new URL(resource);
        // JS: hostnames, port ignored.
        assert.ok(request.hostname.endsWith(`.${challenge.hostname}`));
        // Python and Go: host with port, taken from the request exactly as sent.
        assert.ok(host.endsWith(`.${resource.slice("https://".length)}`));
      }),
    );
  });
});
