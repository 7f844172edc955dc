// Client assertions signed with an app registration's own certificate (Entra's certificate credentials), through the
// token endpoint: what MSAL sends (x5t, RS256; x5t#S256, PS256) gets a token; a wrong audience, subject, thumbprint,
// signature or lifetime gets Entra's code. Only RSA certificates are taken as keyCredentials.

import assert from "node:assert/strict";
import { createHash, createPrivateKey, randomUUID, X509Certificate } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { decodeJwt, SignJWT } from "jose";
import { DirectoryError } from "../../../src/identity/directory/directory-error.ts";
import { createCertificateAuthority, createClientCertificate } from "../../../src/pki/certificates.ts";
import { HOST, JWT_BEARER, postForm, type StsApp, startStsApp } from "./sts-app.ts";

describe("exchange with a certificate credential", () => {
  let sts: StsApp;
  let appId: string;
  let tenant: string;
  let certificate: Awaited<ReturnType<typeof createClientCertificate>>;
  let stranger: Awaited<ReturnType<typeof createClientCertificate>>;

  const thumbprint = (pem: string, hash: "sha1" | "sha256") =>
    createHash(hash).update(new X509Certificate(pem).raw).digest("base64url");
  const assertion = async (
    options: {
      alg?: "RS256" | "PS256";
      aud?: string;
      sub?: string;
      key?: typeof certificate;
      header?: Record<string, string>;
      exp?: number;
    } = {},
  ) => {
    const signer = options.key ?? certificate;
    const alg = options.alg ?? "RS256";
    const header =
      options.header ??
      (alg === "RS256"
        ? { x5t: `${thumbprint(signer.certPem, "sha1")}=` }
        : { "x5t#S256": thumbprint(signer.certPem, "sha256") });
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg, typ: "JWT", ...header })
      .setIssuer(appId)
      .setSubject(options.sub ?? appId)
      .setAudience(options.aud ?? `https://${HOST}/${tenant}/oauth2/v2.0/token`)
      .setNotBefore(now)
      .setExpirationTime(options.exp ?? now + 600)
      .sign(createPrivateKey(signer.keyPem));
  };
  const exchange = async (clientAssertion: string) =>
    postForm(sts.app, `/${tenant}/oauth2/v2.0/token`, {
      grant_type: "client_credentials",
      client_id: appId,
      client_assertion_type: JWT_BEARER,
      client_assertion: clientAssertion,
      scope: "https://vault.azure.net/.default",
    });
  const code = (response: { json(): unknown }) =>
    (response.json() as { error_codes?: number[] }).error_codes?.[0];

  before(async () => {
    // The real validator (no federated issuer is consulted: certificate assertions need none).
    sts = await startStsApp({
      issuerKeys: {
        getKey: async () => {
          throw new Error("a certificate assertion must not reach an issuer");
        },
      },
    });
    tenant = sts.tenant.tenantId;
    certificate = await createClientCertificate("ci", 30);
    stranger = await createClientCertificate("stranger", 30);
    const app = await sts.directory.apps.createApplication(tenant, {
      displayName: "ci",
      keyCredentials: [
        { type: "AsymmetricX509Cert", usage: "Verify", key: certificate.derBase64, displayName: "ci key" },
      ],
    });
    appId = String(app.appId);
    assert.equal(
      (app.keyCredentials as { key: unknown }[])[0]?.key,
      null,
      "Graph does not return the certificate",
    );
    await sts.directory.apps.createServicePrincipal(tenant, { appId });
  });
  after(async () => sts.close());

  test("RS256 with x5t (MSAL for Python pads it) and PS256 with x5t#S256 both get a token as the app", async () => {
    for (const alg of ["RS256", "PS256"] as const) {
      const response = await exchange(await assertion({ alg }));
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(decodeJwt((response.json() as { access_token: string }).access_token).appid, appId);
    }
    const v1 = await exchange(
      await assertion({ aud: `https://login.microsoftonline.com/${tenant}/oauth2/token` }),
    );
    assert.equal(v1.statusCode, 200, "the v1 endpoint's URL, on any host, is an audience too");
  });

  test("a wrong audience, subject, certificate, signature or lifetime is refused with Entra's code", async () => {
    assert.equal(
      code(await exchange(await assertion({ aud: `https://${HOST}/${randomUUID()}/oauth2/v2.0/token` }))),
      50027,
    );
    assert.equal(code(await exchange(await assertion({ sub: randomUUID() }))), 700021);
    assert.equal(
      code(await exchange(await assertion({ key: stranger }))),
      700027,
      "a certificate the app does not have",
    );
    const forged = await assertion({
      key: stranger,
      header: { x5t: thumbprint(certificate.certPem, "sha1") },
    });
    assert.equal(code(await exchange(forged)), 700027, "the app's thumbprint, another key's signature");
    assert.equal(
      code(await exchange(await assertion({ exp: Math.floor(Date.now() / 1000) - 3600 }))),
      700024,
    );
  });

  test("keyCredentials take RSA verification certificates only", async () => {
    const ec = await createCertificateAuthority("ec", 30);
    const der = Buffer.from(new X509Certificate(ec.certPem).raw).toString("base64");
    await assert.rejects(
      sts.directory.apps.createApplication(tenant, {
        displayName: "ec",
        keyCredentials: [{ type: "AsymmetricX509Cert", usage: "Verify", key: der }],
      }),
      (error: unknown) => error instanceof DirectoryError && /RSA certificate/.test(error.message),
    );
    await assert.rejects(
      sts.directory.apps.createApplication(tenant, {
        displayName: "sym",
        keyCredentials: [{ type: "Symmetric", usage: "Sign", key: "c2VjcmV0" }],
      }),
      (error: unknown) => error instanceof DirectoryError && /AsymmetricX509Cert/.test(error.message),
    );
  });
});
