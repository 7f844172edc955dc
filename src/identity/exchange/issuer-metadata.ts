// Signing keys of external issuers (reference/entra.md §5.1, §12): `{issuer}/.well-known/openid-configuration`,
// then its `jwks_uri`. The issuer is named by a token the STS has not verified yet, so every fetch is treated as
// hostile: HTTPS only, no redirects, bounded size and time, and an SSRF guard that vets the resolved addresses
// and connects to exactly the address it vetted (no second resolution an attacker's DNS could answer
// differently). Callers fetch only issuers that one of their federated credentials names.

import type { LookupAddress } from "node:dns";
import { lookup } from "node:dns/promises";
import https from "node:https";
import { BlockList, isIP } from "node:net";
import tls from "node:tls";
import { type CryptoKey, createLocalJWKSet, errors, type KeyObject, type LocalJWKSet } from "jose";
import { isPlainObject } from "../../json/json-value.ts";
import { ACCEPT_DISCOVERY, ACCEPT_JWKS } from "../../names/oidc-media-types.ts";
import { AadstsError } from "./aadsts-errors.ts";

/** What assertion validation needs from an issuer: the verification key a token header points at. */
export interface IssuerKeySource {
  getKey(issuer: string, header: { kid?: string; alg: string }): Promise<CryptoKey | KeyObject>;
}

export interface IssuerMetadataOptions {
  /** Extra trusted CA certificates (PEM), added to the default roots; e.g. a self-managed issuer's own CA. */
  ca?: string | string[];
  /** Allow loopback and private addresses (local clusters, tests). Link-local and the like stay refused. */
  allowPrivateNetworks?: boolean;
  /** Whole-request budget per document: DNS, connect, TLS and body. Default 5000. */
  fetchTimeoutMs?: number;
  /** Largest accepted document in bytes. Default 256 KiB. */
  maxBytes?: number;
  /** Clock in epoch milliseconds, for cache ages and the refresh rate limit. */
  now?: () => number;
  /**
   * Dial another host or port than the URL names (split-horizon DNS, tests). The dialled address still passes
   * the SSRF guard; TLS name verification, SNI and `Host` still use the URL's host.
   */
  connectTo?: (host: string, port: number) => { host: string; port: number } | undefined;
}

const DEFAULT_FETCH_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_BYTES = 256 * 1024;
/** Upper bound on caching, whatever the issuer's `Cache-Control` says. */
const MAX_CACHE_SECONDS = 3600;
/** An unknown `kid` refetches the documents at most this often per issuer, so bogus kids cannot drive traffic. */
const FORCED_REFRESH_INTERVAL_MS = 30_000;
/** Entra considers only the first 100 keys of a JWKS. */
const MAX_KEYS = 100;

function blockList(subnets: ReadonlyArray<readonly [string, number]>): BlockList {
  const list = new BlockList();
  for (const [network, prefix] of subnets)
    list.addSubnet(network, prefix, isIP(network) === 6 ? "ipv6" : "ipv4");
  return list;
}

// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are matched against the IPv4 rules by BlockList itself.
const NEVER_FETCHED = blockList([
  ["0.0.0.0", 8], // unspecified, "this network"
  ["169.254.0.0", 16], // link-local, cloud instance metadata
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
  ["::", 128], // unspecified
  ["fe80::", 10], // link-local
  ["ff00::", 8], // multicast
]);
const PRIVATE_NETWORKS = blockList([
  ["127.0.0.0", 8],
  ["10.0.0.0", 8],
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["::1", 128],
  ["fc00::", 7], // unique local
]);

interface IssuerKeys {
  select: LocalJWKSet;
  expiresAt: number;
}

interface FetchedDocument {
  url: string;
  /** As the server labelled it; not checked, only reported when the body is not what was expected. */
  contentType: string;
  body: string;
  maxAgeSeconds: number;
}

export class IssuerMetadataClient implements IssuerKeySource {
  #ca: string[] | undefined;
  #allowPrivateNetworks: boolean;
  #fetchTimeoutMs: number;
  #maxBytes: number;
  #now: () => number;
  #connectTo: IssuerMetadataOptions["connectTo"];
  /** Per issuer: the loaded keys, or the load in flight that concurrent callers share. */
  #cache = new Map<string, Promise<IssuerKeys>>();
  #lastLoadStartedAt = new Map<string, number>();

  constructor(options: IssuerMetadataOptions = {}) {
    const extraCa = options.ca === undefined ? [] : [options.ca].flat();
    // Node's `ca` replaces the default roots, so the extra CAs are appended to them.
    this.#ca = extraCa.length > 0 ? [...tls.getCACertificates("default"), ...extraCa] : undefined;
    this.#allowPrivateNetworks = options.allowPrivateNetworks ?? false;
    this.#fetchTimeoutMs = options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.#now = options.now ?? Date.now;
    this.#connectTo = options.connectTo;
  }

  /**
   * The issuer's key for `header.kid`. Rejects with AADSTS90061 (fetch failed), 900612 (JWKS unusable) or
   * 7000272 (no such `kid`, even after one forced refresh).
   */
  async getKey(issuer: string, header: { kid?: string; alg: string }): Promise<CryptoKey> {
    // Without a kid jose would pick any key of the right type; an assertion must name its key.
    if (!header.kid) throw new AadstsError(5002723);
    const keys = await this.#keys(issuer);
    const key = await pickKey(keys, header);
    if (key !== undefined) return key;

    // Unknown kid: the issuer may have rotated its keys since they were cached. Within the rate limit,
    // wait for a load already in flight (perhaps another caller's refresh) instead of starting one.
    const lastLoad = this.#lastLoadStartedAt.get(issuer) ?? Number.NEGATIVE_INFINITY;
    const refreshed =
      this.#now() - lastLoad >= FORCED_REFRESH_INTERVAL_MS
        ? await this.#load(issuer)
        : await (this.#cache.get(issuer) ?? keys);
    const rotated = await pickKey(refreshed, header);
    if (rotated !== undefined) return rotated;
    throw new AadstsError(7000272, { kid: header.kid, issuer });
  }

  async #keys(issuer: string): Promise<IssuerKeys> {
    const cached = this.#cache.get(issuer);
    if (cached === undefined) return this.#load(issuer);
    const keys = await cached;
    if (this.#now() < keys.expiresAt) return keys;
    const current = this.#cache.get(issuer);
    return current !== undefined && current !== cached ? current : this.#load(issuer);
  }

  /** Starts a fresh load and caches it; if it fails, the previous entry (if any) stays in place. */
  #load(issuer: string): Promise<IssuerKeys> {
    const previous = this.#cache.get(issuer);
    this.#lastLoadStartedAt.set(issuer, this.#now());
    const loading = this.#fetchKeys(issuer);
    this.#cache.set(issuer, loading);
    loading.catch(() => {
      if (this.#cache.get(issuer) !== loading) return;
      if (previous === undefined) this.#cache.delete(issuer);
      else this.#cache.set(issuer, previous);
    });
    return loading;
  }

  async #fetchKeys(issuer: string): Promise<IssuerKeys> {
    const startedAt = this.#now();
    let discovery: FetchedDocument;
    let jwks: FetchedDocument;
    try {
      const issuerUrl = new URL(issuer);
      if (issuerUrl.search || issuerUrl.hash) throw new Error("an issuer URL has no query or fragment");
      // OpenID Connect Discovery §4: drop one trailing slash before appending the well-known path.
      discovery = await this.#get(
        `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`,
        ACCEPT_DISCOVERY,
      );
      jwks = await this.#get(jwksUriOf(discovery, issuer), ACCEPT_JWKS);
    } catch (cause) {
      throw new AadstsError(90061, {}, { cause });
    }
    const maxAgeSeconds = Math.min(discovery.maxAgeSeconds, jwks.maxAgeSeconds, MAX_CACHE_SECONDS);
    return { select: keySetOf(jwks), expiresAt: startedAt + maxAgeSeconds * 1000 };
  }

  /** One GET within the time budget; anything but a 200 (a redirect included) is a failure. */
  async #get(url: string, accept: string): Promise<FetchedDocument> {
    const signal = AbortSignal.timeout(this.#fetchTimeoutMs);
    const deadline = new Promise<never>((_, reject) => {
      signal.addEventListener("abort", () =>
        reject(new Error(`no response within ${this.#fetchTimeoutMs} ms`)),
      );
    });
    // Every failure names the document, so that an operator reading the cause knows which fetch it was.
    return Promise.race([this.#getWithin(new URL(url), accept, signal), deadline]).catch((error: Error) => {
      throw error.message.startsWith(url) ? error : new Error(`${url}: ${error.message}`);
    });
  }

  async #getWithin(url: URL, accept: string, signal: AbortSignal): Promise<FetchedDocument> {
    if (url.protocol !== "https:") throw new Error(`${url.origin} is not HTTPS`);
    const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1"); // IPv6 literals come bracketed
    const port = Number(url.port || 443);
    const dial = this.#connectTo?.(hostname, port) ?? { host: hostname, port };
    const address = await this.#vettedAddress(dial.host);
    return await new Promise<FetchedDocument>((resolve, reject) => {
      const request = https.request(
        {
          host: address.address,
          family: address.family,
          port: dial.port,
          path: `${url.pathname}${url.search}`,
          headers: { host: url.host, accept },
          // SNI is for names only; the certificate is checked against the URL's host, not the dialled address.
          servername: isIP(hostname) ? undefined : hostname,
          checkServerIdentity: (_, certificate) => tls.checkServerIdentity(hostname, certificate),
          ca: this.#ca,
          agent: false,
          signal,
        },
        (response) => {
          const fail = (reason: string) => {
            response.destroy();
            reject(new Error(`${url.href}: ${reason}`));
          };
          if (response.statusCode !== 200) {
            const type = response.headers["content-type"] ?? "no content type";
            return fail(
              `HTTP ${response.statusCode} (${type}); only 200 is accepted and redirects are not followed`,
            );
          }
          if (Number(response.headers["content-length"]) > this.#maxBytes) {
            return fail(`body larger than ${this.#maxBytes} bytes`);
          }
          const chunks: Buffer[] = [];
          let size = 0;
          response.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > this.#maxBytes) fail(`body larger than ${this.#maxBytes} bytes`);
            else chunks.push(chunk);
          });
          response.on("error", reject);
          response.on("end", () =>
            resolve({
              url: url.href,
              contentType: response.headers["content-type"] ?? "no content type",
              body: Buffer.concat(chunks).toString("utf8"),
              maxAgeSeconds: maxAgeOf(response.headers["cache-control"]),
            }),
          );
        },
      );
      request.on("error", reject);
      request.end();
    });
  }

  /** Resolves `host` once and vets every address, so a name cannot smuggle a forbidden one in among good ones. */
  async #vettedAddress(host: string): Promise<LookupAddress> {
    const family = isIP(host);
    const addresses =
      family !== 0 ? [{ address: host, family }] : await lookup(host, { all: true, verbatim: true });
    for (const { address, family } of addresses) {
      const type = family === 6 ? "ipv6" : "ipv4";
      if (NEVER_FETCHED.check(address, type)) {
        throw new Error(`${host} resolves to ${address}, an address issuer metadata is never fetched from`);
      }
      if (!this.#allowPrivateNetworks && PRIVATE_NETWORKS.check(address, type)) {
        throw new Error(`${host} resolves to ${address}, a private address (allowPrivateNetworks is off)`);
      }
    }
    const [first] = addresses;
    if (first === undefined) throw new Error(`${host} has no address`);
    return first;
  }
}

/** The discovery document must be for exactly this issuer, byte for byte, and name an absolute `jwks_uri`. */
function jwksUriOf(discovery: FetchedDocument, issuer: string): string {
  let document: unknown;
  try {
    document = JSON.parse(discovery.body);
  } catch (cause) {
    throw new Error(`${discovery.url} (${discovery.contentType}) is not JSON: ${(cause as Error).message}`);
  }
  if (!isPlainObject(document)) throw new Error("the discovery document is not a JSON object");
  if (document.issuer !== issuer) {
    throw new Error(`the discovery document is for issuer ${JSON.stringify(document.issuer)}, not ${issuer}`);
  }
  if (typeof document.jwks_uri !== "string") throw new Error("the discovery document has no jwks_uri");
  return document.jwks_uri;
}

function keySetOf(jwks: FetchedDocument): LocalJWKSet {
  try {
    const document: unknown = JSON.parse(jwks.body);
    if (!isPlainObject(document) || !Array.isArray(document.keys)) throw new Error("it has no keys array");
    return createLocalJWKSet({ keys: document.keys.slice(0, MAX_KEYS) });
  } catch (cause) {
    const reason = new Error(
      `${jwks.url} (${jwks.contentType}) is not a usable JWKS: ${(cause as Error).message}`,
    );
    throw new AadstsError(900612, {}, { cause: reason });
  }
}

/** The key for the header, or undefined when the set has no key with that `kid` (and a usable type). */
async function pickKey(
  keys: IssuerKeys,
  header: { kid?: string; alg: string },
): Promise<CryptoKey | undefined> {
  try {
    return await keys.select({ alg: header.alg, kid: header.kid });
  } catch (cause) {
    if (cause instanceof errors.JWKSNoMatchingKey) return undefined;
    // Unimportable key material, several keys under one kid, a private key published: the set is unusable.
    throw new AadstsError(900612, {}, { cause });
  }
}

/** Seconds a response may be cached: its `max-age`, none for no-store/no-cache, the cap when it says nothing. */
function maxAgeOf(cacheControl: string | undefined): number {
  if (cacheControl === undefined) return MAX_CACHE_SECONDS;
  if (/(?:^|[\s,])no-(?:store|cache)\b/i.test(cacheControl)) return 0;
  const maxAge = /(?:^|[\s,])max-age\s*=\s*"?(\d+)/i.exec(cacheControl)?.[1];
  return maxAge === undefined ? MAX_CACHE_SECONDS : Number(maxAge);
}
