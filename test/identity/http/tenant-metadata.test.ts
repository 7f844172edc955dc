// The STS metadata endpoints against entra.md §8: tenant discovery (v2.0 and v1) on the caller's host and port,
// the `{tenantid}` placeholder for the multi-tenant aliases, `invalid_tenant` for unknown tenants, the keys
// endpoints, and instance discovery as MSAL-node, msal-python and the Azure CLI call it.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { LightMyRequestResponse } from "fastify";
import {
  instanceDiscovery,
  isMultiTenantAlias,
  MULTI_TENANT_ALIASES,
  v1TenantDiscovery,
  v2TenantDiscovery,
} from "../../../src/identity/http/tenant-metadata.ts";
import { AUTHORITY, getJson, type StsApp, startStsApp } from "./sts-app.ts";

/** Members MSAL-node, msal-go and msal-python require of a v2.0 tenant discovery document (§8.1). */
const REQUIRED_V2_MEMBERS = ["authorization_endpoint", "token_endpoint", "issuer", "jwks_uri"];
const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

function assertInvalidTenant(response: LightMyRequestResponse, code: number): void {
  assert.equal(response.statusCode, 400, response.body);
  assert.equal(response.headers["content-type"], "application/json; charset=utf-8");
  const body = response.json();
  assert.equal(body.error, "invalid_tenant");
  assert.deepEqual(body.error_codes, [code]);
  assert.match(body.error_description, new RegExp(`^AADSTS${code}: `));
}

describe("tenant discovery and keys over HTTP", () => {
  let sts: StsApp;
  let tid: string;
  before(async () => {
    sts = await startStsApp();
    tid = sts.tenant.tenantId;
  });
  after(() => sts.close());

  describe("v2.0 tenant discovery (§8.1)", () => {
    test("issuer shares scheme, host and port with the authority the caller used", async () => {
      const response = await getJson(sts.app, `/${tid}/v2.0/.well-known/openid-configuration`);
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers["content-type"], "application/json; charset=utf-8");
      const document = response.json();
      for (const member of REQUIRED_V2_MEMBERS) assert.equal(typeof document[member], "string", member);
      assert.equal(document.issuer, `https://localhost:8443/${tid}/v2.0`);
      assert.equal(document.token_endpoint, `https://localhost:8443/${tid}/oauth2/v2.0/token`);
      assert.equal(document.authorization_endpoint, `https://localhost:8443/${tid}/oauth2/v2.0/authorize`);
      assert.equal(document.jwks_uri, `https://localhost:8443/${tid}/discovery/v2.0/keys`);
      assert.equal(document.cloud_instance_name, "localhost:8443");
    });

    test("another Host header gives documents for that host (model B: login.microsoftonline.com)", async () => {
      const response = await getJson(
        sts.app,
        `/${tid}/v2.0/.well-known/openid-configuration`,
        "login.microsoftonline.com",
      );
      const document = response.json();
      assert.equal(document.issuer, `https://login.microsoftonline.com/${tid}/v2.0`);
      assert.equal(document.token_endpoint, `https://login.microsoftonline.com/${tid}/oauth2/v2.0/token`);
    });

    test("the token_endpoint it names is served", async () => {
      const document = (await getJson(sts.app, `/${tid}/v2.0/.well-known/openid-configuration`)).json();
      const path = new URL(document.token_endpoint).pathname;
      const response = await sts.app.inject({
        method: "POST",
        url: path,
        headers: { host: "localhost:8443", "content-type": "application/x-www-form-urlencoded" },
        payload: "",
      });
      // A token error, not a 404: the route exists.
      assert.deepEqual(response.json().error_codes, [900144]);
    });

    test("a tenant named by its domain: endpoints keep the domain, issuer names the tenant GUID", async () => {
      const document = (
        await getJson(sts.app, `/${sts.tenant.defaultDomain}/v2.0/.well-known/openid-configuration`)
      ).json();
      assert.equal(document.issuer, `https://localhost:8443/${tid}/v2.0`);
      assert.equal(
        document.token_endpoint,
        `https://localhost:8443/${sts.tenant.defaultDomain}/oauth2/v2.0/token`,
      );
    });

    for (const alias of ["common", "organizations", "consumers", "Common"]) {
      test(`/${alias}/v2.0 publishes the {tenantid} placeholder as issuer`, async () => {
        const response = await getJson(sts.app, `/${alias}/v2.0/.well-known/openid-configuration`);
        assert.equal(response.statusCode, 200);
        const document = response.json();
        assert.equal(document.issuer, "https://localhost:8443/{tenantid}/v2.0");
        assert.equal(document.token_endpoint, `https://localhost:8443/${alias}/oauth2/v2.0/token`);
      });
    }

    test("unknown tenant → 400 invalid_tenant AADSTS90002", async () => {
      const tenant = randomUUID();
      const response = await getJson(sts.app, `/${tenant}/v2.0/.well-known/openid-configuration`);
      assertInvalidTenant(response, 90002);
      assert.ok(response.json().error_description.includes(`Tenant '${tenant}' not found.`));
    });

    test("malformed tenant → 400 invalid_tenant AADSTS900023", async () => {
      assertInvalidTenant(
        await getJson(sts.app, "/not_a_tenant/v2.0/.well-known/openid-configuration"),
        900023,
      );
    });
  });

  describe("v1 tenant discovery (§8.2)", () => {
    test("issuer is sts.windows.net; keys at /common/discovery/keys; v1 token and authorize endpoints", async () => {
      const response = await getJson(sts.app, `/${tid}/.well-known/openid-configuration`);
      assert.equal(response.statusCode, 200);
      const document = response.json();
      assert.equal(document.issuer, `https://sts.windows.net/${tid}/`);
      assert.equal(document.jwks_uri, "https://localhost:8443/common/discovery/keys");
      assert.equal(document.token_endpoint, `https://localhost:8443/${tid}/oauth2/token`);
      assert.equal(document.authorization_endpoint, `https://localhost:8443/${tid}/oauth2/authorize`);
    });

    test("common → {tenantid} placeholder; unknown tenant → invalid_tenant", async () => {
      const common = (await getJson(sts.app, "/common/.well-known/openid-configuration")).json();
      assert.equal(common.issuer, "https://sts.windows.net/{tenantid}/");
      assertInvalidTenant(await getJson(sts.app, `/${randomUUID()}/.well-known/openid-configuration`), 90002);
    });
  });

  describe("keys (§8.3)", () => {
    test("v1 keys: RSA signing keys with kid = x5t, no issuer, nothing private", async () => {
      const response = await getJson(sts.app, "/common/discovery/keys");
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers["content-type"], "application/json; charset=utf-8");
      const { keys } = response.json();
      assert.equal(keys.length, 1);
      const [key] = keys;
      assert.deepEqual(Object.keys(key), ["kty", "use", "kid", "x5t", "n", "e"]);
      assert.equal(key.kty, "RSA");
      assert.equal(key.use, "sig");
      assert.equal(key.kid, sts.keys.active.kid);
      assert.equal(key.x5t, key.kid);
      assert.equal(key.e, "AQAB");
    });

    test("v2 keys carry issuer with the {tenantid} placeholder on the caller's host", async () => {
      const { keys } = (await getJson(sts.app, "/common/discovery/v2.0/keys")).json();
      assert.equal(keys[0].issuer, "https://localhost:8443/{tenantid}/v2.0");
      assert.equal(keys[0].kid, sts.keys.active.kid);
    });

    test("tenant-specific keys answer for a known tenant and invalid_tenant for an unknown one", async () => {
      const known = await getJson(sts.app, `/${tid}/discovery/v2.0/keys`);
      assert.equal(known.statusCode, 200);
      assert.equal(known.json().keys[0].kid, sts.keys.active.kid);
      assert.equal((await getJson(sts.app, `/${tid}/discovery/keys`)).statusCode, 200);
      assertInvalidTenant(await getJson(sts.app, `/${randomUUID()}/discovery/keys`), 90002);
      assertInvalidTenant(await getJson(sts.app, `/${randomUUID()}/discovery/v2.0/keys`), 90002);
    });

    test("after a rotation both the new and the retired key are published, none with private members", async () => {
      const rotating = await startStsApp();
      try {
        const retired = rotating.keys.active.kid;
        const active = (await rotating.keys.rotate()).kid;
        for (const path of ["/common/discovery/keys", "/common/discovery/v2.0/keys"]) {
          const { keys } = (await getJson(rotating.app, path)).json();
          assert.deepEqual(
            keys.map((key: { kid: string }) => key.kid),
            [retired, active],
          );
          for (const key of keys) {
            for (const member of PRIVATE_JWK_MEMBERS)
              assert.equal(key[member], undefined, `${path} leaks ${member}`);
          }
        }
      } finally {
        await rotating.close();
      }
    });
  });

  describe("instance discovery (§8.4)", () => {
    const instance = (query: string) => getJson(sts.app, `/common/discovery/instance?${query}`);

    test("MSAL-node's request for wikit's own authority names it, port included", async () => {
      const endpoint = `https://localhost:8443/${tid}/oauth2/v2.0/authorize`;
      const response = await instance(
        `api-version=1.1&authorization_endpoint=${encodeURIComponent(endpoint)}`,
      );
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), {
        tenant_discovery_endpoint: `https://localhost:8443/${tid}/v2.0/.well-known/openid-configuration`,
        "api-version": "1.1",
        metadata: [
          {
            preferred_network: "localhost:8443",
            preferred_cache: "localhost:8443",
            aliases: ["localhost:8443"],
          },
        ],
      });
    });

    test("msal-python drops the port from authorization_endpoint: the answer still points at the port", async () => {
      const response = await instance(
        `authorization_endpoint=https%3A%2F%2Flocalhost%2F${tid}%2Foauth2%2Fv2.0%2Fauthorize&api-version=1.0`,
      );
      assert.equal(response.statusCode, 200);
      const body = response.json();
      assert.equal(
        body.tenant_discovery_endpoint,
        `${AUTHORITY}/${tid}/v2.0/.well-known/openid-configuration`,
      );
      assert.deepEqual(body.metadata[0].aliases, ["localhost"]);
    });

    test("the Azure CLI's token-cache alias lookup for login.microsoftonline.com/common", async () => {
      const response = await instance(
        "api-version=1.1&authorization_endpoint=https://login.microsoftonline.com/common/oauth2/authorize",
      );
      assert.equal(response.statusCode, 200);
      const body = response.json();
      assert.equal(
        body.tenant_discovery_endpoint,
        "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration",
      );
      assert.deepEqual(body.metadata, [
        {
          preferred_network: "login.microsoftonline.com",
          preferred_cache: "login.microsoftonline.com",
          aliases: ["login.microsoftonline.com"],
        },
      ]);
    });

    const refused: Array<[name: string, query: string]> = [
      ["an unknown host", "authorization_endpoint=https://login.evil.example/common/oauth2/v2.0/authorize"],
      ["plain http", "authorization_endpoint=http://localhost:8443/common/oauth2/v2.0/authorize"],
      ["not a URL", "authorization_endpoint=localhost"],
      ["no authorization_endpoint", "api-version=1.1"],
    ];
    for (const [name, query] of refused) {
      test(`${name} → 400 invalid_instance AADSTS50049`, async () => {
        const response = await instance(query);
        assert.equal(response.statusCode, 400);
        const body = response.json();
        assert.equal(body.error, "invalid_instance");
        assert.deepEqual(body.error_codes, [50049]);
        assert.match(body.error_description, /^AADSTS50049: Unknown or invalid instance\.\r\n/);
      });
    }
  });
});

describe("tenant-metadata documents", () => {
  test("isMultiTenantAlias: common, organizations, consumers in any case; nothing else", () => {
    assert.deepEqual([...MULTI_TENANT_ALIASES], ["common", "organizations", "consumers"]);
    for (const alias of ["common", "ORGANIZATIONS", "Consumers"])
      assert.equal(isMultiTenantAlias(alias), true);
    for (const other of ["commons", "", "adfs", randomUUID(), "common "])
      assert.equal(isMultiTenantAlias(other), false);
  });

  test("v2TenantDiscovery: every endpoint under the authority and the tenant path", () => {
    const document = v2TenantDiscovery("https://sts.example.test:9443", "contoso.example", "tid-1");
    assert.equal(document.issuer, "https://sts.example.test:9443/tid-1/v2.0");
    for (const member of [
      "token_endpoint",
      "jwks_uri",
      "authorization_endpoint",
      "device_authorization_endpoint",
      "end_session_endpoint",
      "kerberos_endpoint",
    ] as const) {
      assert.ok(document[member].startsWith("https://sts.example.test:9443/contoso.example/"), member);
    }
    assert.equal(document.cloud_instance_name, "sts.example.test:9443");
    assert.deepEqual(document.id_token_signing_alg_values_supported, ["RS256"]);
    assert.equal(document.tenant_region_scope, null);
  });

  test("v1TenantDiscovery: sts.windows.net issuer whatever the host", () => {
    const document = v1TenantDiscovery("https://sts.example.test", "tid-1", "tid-1");
    assert.equal(document.issuer, "https://sts.windows.net/tid-1/");
    assert.equal(document.jwks_uri, "https://sts.example.test/common/discovery/keys");
  });

  test("instanceDiscovery asks authorityFor with the lower-cased host name only", () => {
    const asked: string[] = [];
    const answer = instanceDiscovery(
      "https://LOGIN.microsoftonline.com:443/Tenant-1/oauth2/v2.0/authorize",
      (host) => {
        asked.push(host);
        return "https://wikit.test:8443";
      },
    );
    assert.deepEqual(asked, ["login.microsoftonline.com"]);
    assert.equal(
      answer?.tenant_discovery_endpoint,
      "https://wikit.test:8443/Tenant-1/v2.0/.well-known/openid-configuration",
    );
  });

  test("instanceDiscovery without a tenant in the path uses common", () => {
    const answer = instanceDiscovery("https://localhost:8443", () => "https://localhost:8443");
    assert.equal(
      answer?.tenant_discovery_endpoint,
      "https://localhost:8443/common/v2.0/.well-known/openid-configuration",
    );
  });
});
