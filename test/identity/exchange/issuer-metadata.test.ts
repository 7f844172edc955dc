import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import { AadstsError } from "../../../src/identity/exchange/aadsts-errors.ts";
import {
  IssuerMetadataClient,
  type IssuerMetadataOptions,
} from "../../../src/identity/exchange/issuer-metadata.ts";
import { type IssuerServer, SERVED_NAMES, startIssuerServer } from "./issuer-server.ts";

const ISSUER = "https://issuer.test";
const DISCOVERY = "/.well-known/openid-configuration";
const JWKS = "/openid/v1/jwks";

async function signingJwk(kid: string): Promise<JWK> {
  const { publicKey } = await generateKeyPair("RS256", { extractable: true });
  return { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
}

async function rejectsWith(promise: Promise<unknown>, code: number, cause?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AadstsError, `expected an AadstsError, got ${error}`);
    assert.equal(error.code, code, error.description);
    if (cause !== undefined) assert.match(String((error.cause as Error | undefined)?.message), cause);
    return true;
  });
}

describe("IssuerMetadataClient", () => {
  let server: IssuerServer;
  let clock: number;
  let keyA: JWK;
  let keyB: JWK;

  /** A client that trusts the test CA and dials the test server for every test name. */
  function client(options: IssuerMetadataOptions = {}): IssuerMetadataClient {
    return new IssuerMetadataClient({
      ca: server.caPem,
      allowPrivateNetworks: true,
      now: () => clock,
      connectTo: (host) =>
        SERVED_NAMES.includes(host) ? { host: "127.0.0.1", port: server.port } : undefined,
      ...options,
    });
  }

  function publish(
    keys: JWK[],
    headers: Record<string, string> = { "cache-control": "public, max-age=3600" },
  ) {
    server.serveJson(DISCOVERY, { issuer: ISSUER, jwks_uri: `${ISSUER}${JWKS}` }, headers);
    server.serveJson(JWKS, { keys }, headers);
  }

  const fetchesOf = (path: string) => server.requests.filter((request) => request.endsWith(path)).length;

  before(async () => {
    server = await startIssuerServer();
    [keyA, keyB] = await Promise.all([signingJwk("key-a"), signingJwk("key-b")]);
  });
  after(() => server.close());
  beforeEach(() => {
    server.routes.clear();
    server.requests.length = 0;
    server.serverNames.length = 0;
    clock = Date.parse("2030-01-01T00:00:00Z");
  });

  test("fetches discovery, then the JWKS it names, and returns the key the kid selects", async () => {
    publish([keyA, keyB]);
    const key = await client().getKey(ISSUER, { alg: "RS256", kid: "key-b" });
    assert.equal(key.type, "public");
    assert.deepEqual(server.requests, [`issuer.test${DISCOVERY}`, `issuer.test${JWKS}`]);
  });

  test("drops the issuer's trailing slash before appending the well-known path", async () => {
    const issuer = "https://issuer.test/cluster-1/";
    server.serveJson(`/cluster-1${DISCOVERY}`, { issuer, jwks_uri: "https://issuer.test/cluster-1/jwks" });
    server.serveJson("/cluster-1/jwks", { keys: [keyA] });
    await client().getKey(issuer, { alg: "RS256", kid: "key-a" });
    assert.equal(server.requests[0], `issuer.test/cluster-1${DISCOVERY}`);
  });

  test("accepts a jwks_uri on another HTTPS host and sends that host's name as Host and SNI", async () => {
    server.serveJson(DISCOVERY, { issuer: ISSUER, jwks_uri: "https://keys.test/jwks" });
    server.serveJson("/jwks", { keys: [keyA] });
    await client().getKey(ISSUER, { alg: "RS256", kid: "key-a" });
    assert.deepEqual(server.requests, [`issuer.test${DISCOVERY}`, "keys.test/jwks"]);
    assert.deepEqual(server.serverNames, ["issuer.test", "keys.test"]);
  });

  test("refuses a discovery document for another issuer, even one differing only by a trailing slash", async () => {
    server.serveJson(DISCOVERY, { issuer: `${ISSUER}/`, jwks_uri: `${ISSUER}${JWKS}` });
    server.serveJson(JWKS, { keys: [keyA] });
    await rejectsWith(
      client().getKey(ISSUER, { alg: "RS256", kid: "key-a" }),
      90061,
      /not https:\/\/issuer\.test$/,
    );
    assert.equal(fetchesOf(JWKS), 0);
  });

  test("refuses plain-HTTP issuers and jwks_uri values", async () => {
    await rejectsWith(
      client().getKey("http://issuer.test", { alg: "RS256", kid: "key-a" }),
      90061,
      /not HTTPS/,
    );
    server.serveJson(DISCOVERY, { issuer: ISSUER, jwks_uri: `http://issuer.test${JWKS}` });
    await rejectsWith(client().getKey(ISSUER, { alg: "RS256", kid: "key-a" }), 90061, /not HTTPS/);
    assert.equal(fetchesOf(JWKS), 0);
  });

  test("does not follow redirects", async () => {
    server.routes.set(DISCOVERY, (_, response) => {
      response.writeHead(302, { location: `https://keys.test${DISCOVERY}` }).end();
    });
    await rejectsWith(client().getKey(ISSUER, { alg: "RS256", kid: "key-a" }), 90061, /HTTP 302/);
    assert.deepEqual(server.requests, [`issuer.test${DISCOVERY}`]);
  });

  test("refuses a body larger than maxBytes, whether declared up front or streamed", async () => {
    publish([keyA, keyB]);
    await rejectsWith(
      client({ maxBytes: 512 }).getKey(ISSUER, { alg: "RS256", kid: "key-a" }),
      90061,
      /larger/,
    );

    server.routes.set(JWKS, (_, response) => {
      response.writeHead(200, { "content-type": "application/json" }); // chunked: no content-length
      for (let i = 0; i < 8; i++) response.write(" ".repeat(1024));
      response.end('{"keys":[]}');
    });
    await rejectsWith(
      client({ maxBytes: 4096 }).getKey(ISSUER, { alg: "RS256", kid: "key-a" }),
      90061,
      /larger/,
    );
  });

  test("gives up on a server that does not answer within fetchTimeoutMs, and says which document it waited for", async () => {
    server.routes.set(DISCOVERY, () => {}); // never responds
    const started = performance.now();
    await rejectsWith(
      client({ fetchTimeoutMs: 300 }).getKey(ISSUER, { alg: "RS256", kid: "key-a" }),
      90061,
      /\/\.well-known\/openid-configuration: no response within 300 ms$/,
    );
    assert.ok(performance.now() - started < 3000);
  });

  test("verifies the server certificate: an untrusted CA is refused", async () => {
    publish([keyA]);
    const untrusting = client({ ca: [] });
    await rejectsWith(untrusting.getKey(ISSUER, { alg: "RS256", kid: "key-a" }), 90061, /certificate/i);
  });

  test("checks the certificate against the URL's host, not the dialled address", async () => {
    const elsewhere = client({ connectTo: () => ({ host: "127.0.0.1", port: server.port }) });
    await rejectsWith(
      elsewhere.getKey("https://not-in-the-cert.test", { alg: "RS256", kid: "key-a" }),
      90061,
      /altnames.*not-in-the-cert\.test/,
    );
    // The certificate names 127.0.0.1, the address dialled, but not 127.0.0.2, the address the URL names.
    await rejectsWith(
      elsewhere.getKey("https://127.0.0.2", { alg: "RS256", kid: "key-a" }),
      90061,
      /altnames.*127\.0\.0\.2/,
    );
    assert.equal(server.requests.length, 0);
  });

  describe("issuers as real servers serve their documents", () => {
    /** Answers like kube-apiserver: 406 unless the request accepts `type`, which the body is then served as. */
    function serveStrictly(path: string, type: string, document: unknown) {
      server.routes.set(path, (request, response) => {
        const accepted = String(request.headers.accept ?? "")
          .split(",")
          .map((entry) => entry.split(";")[0]?.trim());
        if (!accepted.includes(type)) {
          response.writeHead(406, { "content-type": "text/plain; charset=utf-8" }).end("406: Not Acceptable");
          return;
        }
        response.writeHead(200, { "content-type": type }).end(JSON.stringify(document));
      });
    }

    test("kube-apiserver's JWKS, served only as application/jwk-set+json with 406 to a narrower Accept, is fetched", async () => {
      serveStrictly(DISCOVERY, "application/json", { issuer: ISSUER, jwks_uri: `${ISSUER}${JWKS}` });
      serveStrictly(JWKS, "application/jwk-set+json", { keys: [keyA] });
      const key = await client().getKey(ISSUER, { alg: "RS256", kid: "key-a" });
      assert.equal(key.type, "public");
    });

    test("documents an object store or web server labels text/plain or octet-stream are taken as JSON", async () => {
      for (const type of ["text/plain", "application/octet-stream", "binary/octet-stream"]) {
        server.routes.clear();
        publish([keyA], { "content-type": type, "cache-control": "no-store" });
        const key = await client().getKey(ISSUER, { alg: "RS256", kid: "key-a" });
        assert.equal(key.type, "public", type);
      }
    });

    test("a refused fetch names the URL, the status and the content type in the AADSTS90061 cause", async () => {
      server.serveJson(DISCOVERY, { issuer: ISSUER, jwks_uri: `${ISSUER}${JWKS}` });
      server.routes.set(JWKS, (_, response) => {
        response.writeHead(406, { "content-type": "text/plain; charset=utf-8" }).end();
      });
      await rejectsWith(
        client().getKey(ISSUER, { alg: "RS256", kid: "key-a" }),
        90061,
        /^https:\/\/issuer\.test\/openid\/v1\/jwks: HTTP 406 \(text\/plain; charset=utf-8\)/,
      );
    });

    test("a document that is not JSON is reported with its URL and content type", async () => {
      server.routes.set(DISCOVERY, (_, response) => {
        response.writeHead(200, { "content-type": "text/html" }).end("<html>sign in</html>");
      });
      await rejectsWith(
        client().getKey(ISSUER, { alg: "RS256", kid: "key-a" }),
        90061,
        /openid-configuration \(text\/html\) is not JSON/,
      );
      server.serveJson(DISCOVERY, { issuer: ISSUER, jwks_uri: `${ISSUER}${JWKS}` });
      server.routes.set(JWKS, (_, response) => {
        response.writeHead(200, { "content-type": "text/html" }).end("<html>sign in</html>");
      });
      await rejectsWith(
        client().getKey(ISSUER, { alg: "RS256", kid: "key-a" }),
        900612,
        /jwks \(text\/html\) is not a usable JWKS/,
      );
    });
  });

  describe("SSRF guard", () => {
    test("never fetches from link-local addresses such as the cloud metadata endpoint", async () => {
      const permissive = client({ allowPrivateNetworks: true });
      for (const issuer of [
        "https://169.254.169.254",
        "https://[fe80::1]",
        "https://[::ffff:169.254.169.254]",
      ]) {
        await rejectsWith(permissive.getKey(issuer, { alg: "RS256", kid: "k" }), 90061, /never fetched/);
      }
    });

    test("never fetches from unspecified or multicast addresses", async () => {
      const permissive = client({ allowPrivateNetworks: true });
      for (const issuer of ["https://0.0.0.0", "https://[::]", "https://224.0.0.1", "https://[ff02::1]"]) {
        await rejectsWith(permissive.getKey(issuer, { alg: "RS256", kid: "k" }), 90061, /never fetched/);
      }
    });

    test("vets the address a name resolves to, not just literal addresses", async () => {
      const rebinding = client({ connectTo: () => ({ host: "169.254.169.254", port: 443 }) });
      await rejectsWith(rebinding.getKey(ISSUER, { alg: "RS256", kid: "k" }), 90061, /never fetched/);
      const strict = new IssuerMetadataClient({ fetchTimeoutMs: 2000 });
      await rejectsWith(strict.getKey("https://localhost", { alg: "RS256", kid: "k" }), 90061, /private/);
    });

    test("refuses loopback and private ranges unless allowPrivateNetworks is set", async () => {
      publish([keyA]);
      const strict = client({ allowPrivateNetworks: false });
      for (const issuer of [
        "https://127.0.0.1",
        "https://10.1.2.3",
        "https://192.168.0.1",
        "https://[::1]",
      ]) {
        await rejectsWith(strict.getKey(issuer, { alg: "RS256", kid: "k" }), 90061, /private/);
      }
      // issuer.test is dialled at 127.0.0.1, so it is refused too, and nothing reaches the server.
      await rejectsWith(strict.getKey(ISSUER, { alg: "RS256", kid: "key-a" }), 90061, /private/);
      assert.equal(server.requests.length, 0);
    });
  });

  describe("JWKS content", () => {
    test("an unparsable JWKS is AADSTS900612, an unparsable discovery document 90061", async () => {
      server.serveJson(DISCOVERY, { issuer: ISSUER, jwks_uri: `${ISSUER}${JWKS}` });
      server.routes.set(JWKS, (_, response) => response.end("not json"));
      await rejectsWith(client().getKey(ISSUER, { alg: "RS256", kid: "key-a" }), 900612);
      server.serveJson(JWKS, { keys: "none" });
      await rejectsWith(client().getKey(ISSUER, { alg: "RS256", kid: "key-a" }), 900612);
      server.routes.set(DISCOVERY, (_, response) => response.end("{"));
      await rejectsWith(client().getKey(ISSUER, { alg: "RS256", kid: "key-a" }), 90061);
    });

    test("a JWKS that publishes a private key, or two keys under one kid, is AADSTS900612", async () => {
      const { privateKey } = await generateKeyPair("RS256", { extractable: true });
      publish([{ ...(await exportJWK(privateKey)), kid: "leaked" }, keyA, { ...keyB, kid: "key-a" }]);
      const metadata = client();
      await rejectsWith(metadata.getKey(ISSUER, { alg: "RS256", kid: "leaked" }), 900612);
      await rejectsWith(metadata.getKey(ISSUER, { alg: "RS256", kid: "key-a" }), 900612);
    });

    test("only the first 100 keys are considered", async () => {
      const filler = Array.from({ length: 100 }, (_, i) => ({ ...keyA, kid: `filler-${i}` }));
      publish([...filler, keyB]);
      const metadata = client();
      await metadata.getKey(ISSUER, { alg: "RS256", kid: "filler-99" });
      await rejectsWith(metadata.getKey(ISSUER, { alg: "RS256", kid: "key-b" }), 7000272);
    });

    test("a header without kid is refused rather than matched against any key", async () => {
      publish([keyA]);
      await rejectsWith(client().getKey(ISSUER, { alg: "RS256" }), 5002723);
      assert.equal(server.requests.length, 0);
    });
  });

  describe("caching and refresh", () => {
    test("serves from cache within max-age and refetches after it", async () => {
      publish([keyA], { "cache-control": "public, max-age=60" });
      const metadata = client();
      await metadata.getKey(ISSUER, { alg: "RS256", kid: "key-a" });
      clock += 59_000;
      await metadata.getKey(ISSUER, { alg: "RS256", kid: "key-a" });
      assert.equal(fetchesOf(DISCOVERY), 1);
      clock += 2_000;
      await metadata.getKey(ISSUER, { alg: "RS256", kid: "key-a" });
      assert.equal(fetchesOf(DISCOVERY), 2);
      assert.equal(fetchesOf(JWKS), 2);
    });

    test("uses the shorter max-age of the two documents", async () => {
      server.serveJson(
        DISCOVERY,
        { issuer: ISSUER, jwks_uri: `${ISSUER}${JWKS}` },
        { "cache-control": "max-age=3600" },
      );
      server.serveJson(JWKS, { keys: [keyA] }, { "cache-control": "max-age=10" });
      const metadata = client();
      await metadata.getKey(ISSUER, { alg: "RS256", kid: "key-a" });
      clock += 11_000;
      await metadata.getKey(ISSUER, { alg: "RS256", kid: "key-a" });
      assert.equal(fetchesOf(JWKS), 2);
    });

    test("caches for at most one hour whatever max-age says", async () => {
      publish([keyA], { "cache-control": "max-age=86400" });
      const metadata = client();
      await metadata.getKey(ISSUER, { alg: "RS256", kid: "key-a" });
      clock += 3_599_000;
      await metadata.getKey(ISSUER, { alg: "RS256", kid: "key-a" });
      assert.equal(fetchesOf(JWKS), 1);
      clock += 2_000;
      await metadata.getKey(ISSUER, { alg: "RS256", kid: "key-a" });
      assert.equal(fetchesOf(JWKS), 2);
    });

    test("does not cache a no-store response", async () => {
      publish([keyA], { "cache-control": "no-store" });
      const metadata = client();
      await metadata.getKey(ISSUER, { alg: "RS256", kid: "key-a" });
      await metadata.getKey(ISSUER, { alg: "RS256", kid: "key-a" });
      assert.equal(fetchesOf(JWKS), 2);
    });

    test("concurrent callers share one load", async () => {
      publish([keyA]);
      const metadata = client();
      await Promise.all(
        Array.from({ length: 5 }, () => metadata.getKey(ISSUER, { alg: "RS256", kid: "key-a" })),
      );
      assert.equal(fetchesOf(DISCOVERY), 1);
    });

    test("a failed load is not cached", async () => {
      server.routes.set(DISCOVERY, (_, response) => response.writeHead(503).end());
      const metadata = client();
      await rejectsWith(metadata.getKey(ISSUER, { alg: "RS256", kid: "key-a" }), 90061, /HTTP 503/);
      publish([keyA]);
      await metadata.getKey(ISSUER, { alg: "RS256", kid: "key-a" });
    });

    test("an unknown kid forces one refresh, which finds a key the issuer rotated in", async () => {
      publish([keyA]);
      const metadata = client();
      await metadata.getKey(ISSUER, { alg: "RS256", kid: "key-a" });
      publish([keyA, keyB]);
      clock += 31_000;
      const key = await metadata.getKey(ISSUER, { alg: "RS256", kid: "key-b" });
      assert.equal(key.type, "public");
      assert.equal(fetchesOf(JWKS), 2);
    });

    test("an unknown kid still missing after the refresh is AADSTS7000272", async () => {
      publish([keyA]);
      const metadata = client();
      await metadata.getKey(ISSUER, { alg: "RS256", kid: "key-a" });
      clock += 31_000;
      const error = await metadata.getKey(ISSUER, { alg: "RS256", kid: "unknown" }).catch((e: unknown) => e);
      assert.ok(error instanceof AadstsError);
      assert.equal(error.code, 7000272);
      assert.equal(error.status, 401);
      assert.match(error.description, /identifier unknown .* identity provider https:\/\/issuer\.test\./);
      assert.equal(fetchesOf(JWKS), 2);
    });

    test("forced refreshes are rate-limited per issuer, so bogus kids cannot drive traffic", async () => {
      publish([keyA]);
      const metadata = client();
      // Straight after the first load, a refresh would fetch the same documents: none is made.
      await rejectsWith(metadata.getKey(ISSUER, { alg: "RS256", kid: "bogus-1" }), 7000272);
      assert.equal(fetchesOf(JWKS), 1);
      clock += 31_000;
      await rejectsWith(metadata.getKey(ISSUER, { alg: "RS256", kid: "bogus-2" }), 7000272);
      assert.equal(fetchesOf(JWKS), 2);
      clock += 10_000;
      for (let i = 0; i < 5; i++) {
        await rejectsWith(metadata.getKey(ISSUER, { alg: "RS256", kid: `bogus-${i + 3}` }), 7000272);
      }
      assert.equal(fetchesOf(JWKS), 2);
      clock += 21_000;
      await rejectsWith(metadata.getKey(ISSUER, { alg: "RS256", kid: "bogus-9" }), 7000272);
      assert.equal(fetchesOf(JWKS), 3);
    });

    test("a failed forced refresh keeps the keys already cached", async () => {
      publish([keyA]);
      const metadata = client();
      await metadata.getKey(ISSUER, { alg: "RS256", kid: "key-a" });
      server.routes.set(DISCOVERY, (_, response) => response.writeHead(500).end());
      clock += 31_000;
      await rejectsWith(metadata.getKey(ISSUER, { alg: "RS256", kid: "key-b" }), 90061);
      await metadata.getKey(ISSUER, { alg: "RS256", kid: "key-a" });
      assert.equal(fetchesOf(JWKS), 1);
    });
  });
});
