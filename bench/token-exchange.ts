// Federated token exchanges per second and their latency, from wikit's token service as `wikit up` runs it: POST
// /{tenant}/oauth2/v2.0/token, grant_type=client_credentials, a Kubernetes service-account token as the client
// assertion (RS256, issued by the local cluster's TokenRequest API and trusted by one of the identity's federated
// credentials), scope={resource}/.default. wikit runs with the store holding each of `--credentials` federated
// credentials (identities of at most 20 each, the benchmarked one among them), so that the cost of finding the
// identity and its credentials shows as the directory grows. Two baselines are measured in the same run:
//
// - the crypto floor: one RS256 verify of the same service-account token plus one RS256 sign of an access token
//   with jose, in this process, one at a time (one core): what any exchange costs at least;
// - oidc-provider's client_credentials grant with private_key_jwt client authentication and RS256 JWT access
//   tokens (resource indicators): the same work (verify a signed JWT, sign an access token) in a general OAuth
//   server. Its assertions need a fresh `jti` each (it refuses replays), so they are signed before the timed
//   window; wikit's workload presents one token again and again, as the SDKs do until they reread the file.
//
// Each server runs in its own process; this process is the client (node:https, keep-alive agent, TLS to
// `localhost`). wikit logs at the default level, one line per request, to its log file as `wikit up --detach`
// does; oidc-provider writes no request log. Per server and round: closed-loop saturation (`--connections`
// requests in flight for `--seconds`) with server and client CPU per exchange, then `--sequential` exchanges one
// at a time, whose latency is the exchange's own, without queueing. Rounds rotate which participant goes first,
// so that drift in the machine's speed hits all alike; medians are reported with their spread. Memory of each
// wikit server (after a forced GC) is taken right after start, against a store with no identities, and after
// the rounds.
//
//   node bench/token-exchange.ts [--rounds 5] [--seconds 5] [--connections 8] [--sequential 300]
//                                [--credentials 1000,10000,100000] [--cpu-prof-dir DIR]

import { type ChildProcess, spawn } from "node:child_process";
import { generateKeyPairSync, type KeyObject, randomUUID, sign } from "node:crypto";
import { closeSync, createWriteStream, openSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import * as https from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { compactVerify, createLocalJWKSet, decodeJwt, decodeProtectedHeader, type JWK, SignJWT } from "jose";
import {
  serviceAccountTokenClaims,
  signServiceAccountToken,
} from "../src/cluster/tokens/service-account-token.ts";
import { KUBE_API_PREFIX, LOCAL_HOST } from "../src/names/local-stack-names.ts";
import {
  type CertificateWithKey,
  createCertificateAuthority,
  issueServingCertificate,
} from "../src/pki/certificates.ts";
import { dataDirFiles, readAdminToken, type ServerInfo } from "../src/server/data-dir.ts";
import { startLocalStack } from "../src/server/local-stack.ts";
import { keyIdOf } from "../src/signing-keys/key-id.ts";
import { publishedJwk } from "../src/signing-keys/published-jwk.ts";
import { AUDIENCE, loadDirectory } from "./credential-directory.ts";
import { closedLoop, median, option, percentile, type Sample } from "./load.ts";

const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const NAMESPACE = "default";
const SERVICE_ACCOUNT = "workload";
const POD_NAME = "workload-7d9f8c6b5-x2x4q";
const OIDC_CLIENT_ID = "bench-client";
const OIDC_RESOURCE = "https://vault.azure.net";

function textOption(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

// ---- Server processes -------------------------------------------------------------------------------------
// A server reports on its IPC channel: {ready}, then answers "cpu" (its CPU time so far, µs) and "memory"
// (after a forced GC). It exits when the channel closes.

interface ReadyMessage {
  ready: { port: number; info?: ServerInfo };
}

/** `wikit up` over an existing data directory; its log lines go to stdout, which is the log file. */
async function serveWikit(dataDir: string, port: number): Promise<ReadyMessage["ready"]> {
  const stack = await startLocalStack({ dataDir, port, logLevel: "info" });
  return { port: stack.info.port, info: stack.info };
}

/** oidc-provider with one private_key_jwt client, issuing RS256 JWT access tokens for one resource. */
async function serveOidcProvider(
  certDir: string,
  port: number,
  clientJwk: JWK,
): Promise<ReadyMessage["ready"]> {
  const { default: Provider } = await import("oidc-provider");
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const signingJwk = {
    ...privateKey.export({ format: "jwk" }),
    kid: keyIdOf(privateKey),
    alg: "RS256",
    use: "sig",
  };
  const provider = new Provider(`https://${LOCAL_HOST}:${port}`, {
    clients: [
      {
        client_id: OIDC_CLIENT_ID,
        token_endpoint_auth_method: "private_key_jwt",
        token_endpoint_auth_signing_alg: "RS256",
        jwks: { keys: [clientJwk] },
        grant_types: ["client_credentials"],
        response_types: [],
        redirect_uris: [],
      },
    ],
    jwks: { keys: [signingJwk] },
    cookies: { keys: [randomUUID()] },
    features: {
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => OIDC_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => ({
          audience: resource,
          scope: "secrets",
          accessTokenTTL: 3600,
          accessTokenFormat: "jwt",
          jwt: { sign: { alg: "RS256" } },
        }),
      },
    },
  });
  const server = https.createServer(
    { cert: readFileSync(join(certDir, "tls.crt")), key: readFileSync(join(certDir, "tls.key")) },
    provider.callback(),
  );
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { port };
}

async function serve(role: string): Promise<void> {
  const ready =
    role === "wikit"
      ? await serveWikit(textOption("data-dir") ?? "", option("port", 0))
      : await serveOidcProvider(
          textOption("cert-dir") ?? "",
          option("port", 0),
          JSON.parse(textOption("client-jwk") ?? "{}") as JWK,
        );
  process.send?.({ ready } satisfies ReadyMessage);
  process.on("message", (message) => {
    if (message === "cpu") {
      const { user, system } = process.cpuUsage();
      process.send?.({ cpu: user + system });
    } else if (message === "memory") {
      (globalThis as { gc?: () => void }).gc?.();
      const { rss, heapUsed, external } = process.memoryUsage();
      process.send?.({ memory: { rss, heapUsed, external } });
    }
  });
  process.on("disconnect", () => process.exit(0));
}

// ---- Client ---------------------------------------------------------------------------------------------

interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
}

interface ServerProcess {
  port: number;
  info: ServerInfo | undefined;
  /** The server process's CPU time so far, in µs. */
  cpu(): Promise<number>;
  memory(): Promise<Memory>;
  stop(): Promise<void>;
}

async function startServer(args: string[], logFile: string, profileDir?: string): Promise<ServerProcess> {
  const log = openSync(logFile, "a");
  const flags = ["--expose-gc", ...(profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [])];
  const child: ChildProcess = spawn(
    process.execPath,
    [...flags, new URL(import.meta.url).pathname, ...args],
    {
      stdio: ["ignore", log, "pipe", "ipc"],
    },
  );
  closeSync(log);
  // oidc-provider warns at start that it runs on its in-memory adapter and on a Node it does not list: expected.
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) => {
    if (!line.startsWith("oidc-provider WARNING")) process.stderr.write(`${line}\n`);
  });
  const waiters = { cpu: [] as ((value: number) => void)[], memory: [] as ((value: Memory) => void)[] };
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const ready = await new Promise<ReadyMessage["ready"]>((resolve, reject) => {
    child.on("message", (message: { ready?: ReadyMessage["ready"]; cpu?: number; memory?: Memory }) => {
      if (message.ready) resolve(message.ready);
      if (message.cpu !== undefined) waiters.cpu.shift()?.(message.cpu);
      if (message.memory) waiters.memory.shift()?.(message.memory);
    });
    child.once("exit", (code) => reject(new Error(`server ${args.join(" ")} exited with ${code}`)));
  });
  return {
    port: ready.port,
    info: ready.info,
    cpu: () =>
      new Promise((resolve) => {
        waiters.cpu.push(resolve);
        child.send("cpu");
      }),
    memory: () =>
      new Promise((resolve) => {
        waiters.memory.push(resolve);
        child.send("memory");
      }),
    stop: async () => {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}

interface Reply {
  status: number;
  text: string;
}

/** One HTTPS request to `localhost` (dialled at 127.0.0.1); with `keepBody` false the body is read and dropped. */
function call(
  agent: https.Agent | undefined,
  ca: string,
  port: number,
  request: { method: string; path: string; headers?: Record<string, string>; body?: Buffer },
  keepBody = true,
): Promise<Reply> {
  return new Promise((resolve) => {
    const body = request.body ?? Buffer.alloc(0);
    const outgoing = https.request(
      {
        host: "127.0.0.1",
        servername: LOCAL_HOST,
        port,
        method: request.method,
        path: request.path,
        ca,
        agent,
        headers: { host: `${LOCAL_HOST}:${port}`, "content-length": body.length, ...request.headers },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => {
          if (keepBody) chunks.push(chunk);
        });
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
      },
    );
    outgoing.on("error", (error) => resolve({ status: 0, text: error.message }));
    outgoing.end(body);
  });
}

const FORM = { "content-type": "application/x-www-form-urlencoded" };

/** A token endpoint and the form that asks it for a token; `body()` may hand out a fresh assertion each time. */
interface Target {
  port: number;
  path: string;
  body(): Buffer;
}

async function exchange(agent: https.Agent, ca: string, target: Target, keepBody = false): Promise<Reply> {
  return call(
    agent,
    ca,
    target.port,
    { method: "POST", path: target.path, headers: FORM, body: target.body() },
    keepBody,
  );
}

/** Closed loop: `connections` exchanges in flight for `seconds`, after a warm-up that `onWarm` follows. */
async function saturate(
  ca: string,
  target: Target,
  seconds: number,
  connections: number,
  warmup: number,
  onWarm: () => Promise<void>,
): Promise<Sample> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: connections });
  return closedLoop(
    agent,
    async () => (await exchange(agent, ca, target)).status === 200,
    { connections, seconds, warmup },
    onWarm,
  );
}

/** `count` exchanges one at a time on one kept-alive connection; the form is built before each timed request. */
async function sequential(ca: string, target: Target, count: number): Promise<Sample> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  for (let index = 0; index < 10; index += 1) await exchange(agent, ca, target);
  const latenciesMs: number[] = [];
  let ok = 0;
  let failed = 0;
  let busy = 0;
  for (let index = 0; index < count; index += 1) {
    const body = target.body();
    const sent = performance.now();
    const reply = await call(
      agent,
      ca,
      target.port,
      { method: "POST", path: target.path, headers: FORM, body },
      false,
    );
    const latency = performance.now() - sent;
    busy += latency;
    if (reply.status === 200) ok += 1;
    else failed += 1;
    latenciesMs.push(latency);
  }
  agent.destroy();
  return { ok, failed, seconds: busy / 1000, latenciesMs };
}

// ---- The crypto floor -------------------------------------------------------------------------------------

interface Floor {
  opsPerSecond: number;
  /** CPU of this process, all threads, per verify + sign, µs. */
  cpuPerOpUs: number;
}

/** The two RS256 operations of an exchange, with jose as the token service calls them. */
async function floorOperation(): Promise<() => Promise<void>> {
  const issuer = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const sts = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const issuerKey = { kid: keyIdOf(issuer.publicKey), alg: "RS256", ...issuer };
  const stsKid = keyIdOf(sts.publicKey);
  const token = await signServiceAccountToken(
    serviceAccountTokenClaims({
      issuer: "https://localhost:8443/oidc/5b1c3f9e-7a52-4d0e-9c83-0f6f2b3a1d44/",
      namespace: NAMESPACE,
      serviceAccount: { name: SERVICE_ACCOUNT, uid: randomUUID() },
      audiences: [AUDIENCE],
      expirationSeconds: 3600,
      pod: { name: POD_NAME, uid: randomUUID() },
    }),
    issuerKey,
  );
  // As the issuer metadata client holds a fetched JWKS.
  const keys = createLocalJWKSet({
    keys: [publishedJwk(issuer.publicKey.export({ format: "jwk" }) as JWK, issuerKey.kid, "RS256")],
  });
  const tenantId = randomUUID();
  const now = Math.floor(Date.now() / 1000);
  // An access token's claims as the token service signs them.
  const claims = {
    aud: "https://vault.localhost:8443",
    iss: `https://sts.windows.net/${tenantId}/`,
    iat: now - 300,
    nbf: now - 300,
    exp: now + 3600,
    aio: "k2dgYPh6Sm5Q2Wb0f3z1v9yJ8uXoQn7R",
    appid: randomUUID(),
    appidacr: "2",
    idp: `https://sts.windows.net/${tenantId}/`,
    idtyp: "app",
    oid: randomUUID(),
    rh: "0.AUoAv4j5cvGGr0GRqy180BHbR1N3zKJ5mQ9Cu1Qh3hxk",
    sub: randomUUID(),
    tid: tenantId,
    uti: "o8Qm2mM7f0ykq0yv1PjQAA",
    ver: "1.0",
    xms_mirid: `/subscriptions/${randomUUID()}/resourcegroups/bench/providers/Microsoft.ManagedIdentity/userAssignedIdentities/workload-002500`,
  };
  return async () => {
    await compactVerify(token, keys, { algorithms: ["RS256", "RS384", "RS512"] });
    await new SignJWT(claims)
      .setProtectedHeader({ typ: "JWT", alg: "RS256", kid: stsKid, x5t: stsKid })
      .sign(sts.privateKey);
  };
}

/** The crypto floor: verify + sign one at a time, so on one core, for `seconds`. */
async function cryptoFloor(once: () => Promise<void>, seconds: number): Promise<Floor> {
  for (let index = 0; index < 50; index += 1) await once();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let ops = 0;
  while (performance.now() - started < seconds * 1000) {
    await once();
    ops += 1;
  }
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { opsPerSecond: ops / elapsed, cpuPerOpUs: (cpu.user + cpu.system) / ops };
}

// ---- oidc-provider's client assertions --------------------------------------------------------------------

/** private_key_jwt assertions, each with its own `jti`, signed ahead of the timed window. */
class AssertionPool {
  readonly #key: KeyObject;
  readonly #kid: string;
  readonly #audience: string;
  #pool: string[] = [];
  /** Assertions the pool ran out of and signed during a timed window (which then cost the client CPU). */
  signedLate = 0;

  constructor(key: KeyObject, kid: string, audience: string) {
    this.#key = key;
    this.#kid = kid;
    this.#audience = audience;
  }

  #sign(): string {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: "RS256", kid: this.#kid };
    const payload = {
      iss: OIDC_CLIENT_ID,
      sub: OIDC_CLIENT_ID,
      aud: this.#audience,
      jti: randomUUID(),
      iat: now,
      exp: now + 3600,
    };
    const input = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
    return `${input}.${sign("sha256", Buffer.from(input), this.#key).toString("base64url")}`;
  }

  fill(count: number): void {
    while (this.#pool.length < count) this.#pool.push(this.#sign());
  }

  take(): string {
    const taken = this.#pool.pop();
    if (taken !== undefined) return taken;
    this.signedLate += 1;
    return this.#sign();
  }
}

// ---- Setup ------------------------------------------------------------------------------------------------

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === "object" && address !== null ? address.port : 0;
}

interface WikitServer {
  credentials: number;
  identities: number;
  databaseBytes: number;
  server: ServerProcess;
  target: Target;
  afterStart: Memory;
}

interface DataDir {
  path: string;
  port: number;
  issuerUrl: string;
}

/**
 * A data directory as the first `wikit up` leaves it: started once, in this process, to learn its port and its
 * cluster's issuer (which credentials name exactly), then stopped so that the directory can be loaded.
 */
async function initDataDir(workDir: string, ca: CertificateWithKey, name: string): Promise<DataDir> {
  const path = join(workDir, name);
  await mkdir(path, { recursive: true, mode: 0o700 });
  // One CA for every server, so that the client trusts one anchor.
  await writeFile(join(path, "ca.crt"), ca.certPem);
  await writeFile(join(path, "ca.key"), ca.keyPem, { mode: 0o600 });
  const first = await startLocalStack({ dataDir: path, port: 0, logStream: createWriteStream("/dev/null") });
  await first.close();
  return { path, port: first.info.port, issuerUrl: first.info.issuerUrl };
}

function startWikitProcess(dataDir: DataDir, profileDir?: string): Promise<ServerProcess> {
  return startServer(
    ["--serve", "wikit", "--data-dir", dataDir.path, "--port", String(dataDir.port)],
    dataDirFiles.log(dataDir.path),
    profileDir,
  );
}

/** Memory of `wikit up` right after start over a store with no identities. */
async function emptyStoreMemory(workDir: string, ca: CertificateWithKey): Promise<Memory> {
  const server = await startWikitProcess(await initDataDir(workDir, ca, "wikit-empty"));
  const memory = await server.memory();
  await server.stop();
  return memory;
}

/**
 * `wikit up` in its own process over a store holding `credentials` federated credentials, and the form of an
 * exchange with a service-account token from the local cluster's TokenRequest API.
 */
async function startWikit(
  workDir: string,
  ca: CertificateWithKey,
  credentials: number,
  profileDir: string | undefined,
): Promise<WikitServer> {
  const dataDir = await initDataDir(workDir, ca, `wikit-${credentials}`);
  const subject = `system:serviceaccount:${NAMESPACE}:${SERVICE_ACCOUNT}`;
  const loaded = await loadDirectory(dataDir.path, { credentials, issuer: dataDir.issuerUrl, subject });
  const databaseBytes = (await stat(dataDirFiles.database(dataDir.path))).size;
  const server = await startWikitProcess(dataDir, profileDir);
  const afterStart = await server.memory();
  const { info } = server;
  if (info?.issuerUrl !== dataDir.issuerUrl) {
    throw new Error(`the issuer moved: ${info?.issuerUrl} vs. ${dataDir.issuerUrl}`);
  }
  const port = info.port;

  // The workload's token, as the kubelet asks for it: a pod-bound TokenRequest for the exchange audience.
  const admin = {
    authorization: `Bearer ${await readAdminToken(dataDir.path)}`,
    "content-type": "application/json",
  };
  const accountPath = `${KUBE_API_PREFIX}/api/v1/namespaces/${NAMESPACE}/serviceaccounts/${SERVICE_ACCOUNT}`;
  const account = await call(undefined, ca.certPem, port, {
    method: "PUT",
    path: accountPath,
    headers: admin,
    body: Buffer.from(
      JSON.stringify({
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: {
          name: SERVICE_ACCOUNT,
          annotations: { "azure.workload.identity/client-id": loaded.clientId },
        },
      }),
    ),
  });
  if (account.status >= 300) throw new Error(`service account: ${account.status} ${account.text}`);
  const tokenRequest = await call(undefined, ca.certPem, port, {
    method: "POST",
    path: `${accountPath}/token`,
    headers: admin,
    body: Buffer.from(
      JSON.stringify({
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: {
          audiences: [AUDIENCE],
          expirationSeconds: 3600,
          boundObjectRef: { kind: "Pod", apiVersion: "v1", name: POD_NAME, uid: randomUUID() },
        },
      }),
    ),
  });
  if (tokenRequest.status !== 201)
    throw new Error(`TokenRequest: ${tokenRequest.status} ${tokenRequest.text}`);
  const token = (JSON.parse(tokenRequest.text) as { status: { token: string } }).status.token;
  const body = Buffer.from(
    new URLSearchParams({
      grant_type: "client_credentials",
      client_id: loaded.clientId,
      client_assertion_type: JWT_BEARER,
      client_assertion: token,
      scope: `${vaultResource(info)}/.default`,
    }).toString(),
  );
  return {
    credentials: loaded.credentials,
    identities: loaded.identities,
    databaseBytes,
    server,
    afterStart,
    target: { port, path: `/${info.tenantId}/oauth2/v2.0/token`, body: () => body },
  };
}

/** The local stack's vault resource, which its token service issues tokens for. */
const vaultResource = (info: ServerInfo) => `https://${info.vaultDomain}:${info.port}`;

/** One exchange whose answer must be an RS256 access token for the resource asked. */
async function checkExchange(ca: string, target: Target, label: string, resource: string): Promise<number> {
  const agent = new https.Agent({ keepAlive: false });
  const reply = await exchange(agent, ca, target, true);
  agent.destroy();
  const token =
    reply.status === 200 ? (JSON.parse(reply.text) as { access_token?: string }).access_token : undefined;
  const header = token ? decodeProtectedHeader(token) : {};
  const audience = token ? decodeJwt(token).aud : undefined;
  if (header.alg !== "RS256" || audience !== resource) {
    throw new Error(`${label}: no RS256 access token for ${resource}: ${reply.status} ${reply.text}`);
  }
  return reply.text.length;
}

// ---- Rounds -----------------------------------------------------------------------------------------------

interface Options {
  rounds: number;
  seconds: number;
  connections: number;
  sequential: number;
  credentials: number[];
  profileDir: string | undefined;
}

interface ServerRound {
  saturated: Sample;
  oneAtATime: Sample;
  /** Server CPU per answered exchange during saturation, µs. */
  serverCpuUs: number;
  /** This process's CPU per answered exchange during saturation, µs. */
  clientCpuUs: number;
}

async function measureServer(
  server: ServerProcess,
  ca: string,
  target: Target,
  options: Options,
): Promise<ServerRound> {
  let serverBefore = 0;
  let clientBefore = process.cpuUsage();
  const saturated = await saturate(
    ca,
    target,
    options.seconds,
    options.connections,
    options.connections * 10,
    async () => {
      serverBefore = await server.cpu();
      clientBefore = process.cpuUsage();
    },
  );
  const client = process.cpuUsage(clientBefore);
  const serverCpuUs = ((await server.cpu()) - serverBefore) / saturated.ok;
  const clientCpuUs = (client.user + client.system) / saturated.ok;
  const oneAtATime = await sequential(ca, target, options.sequential);
  return { saturated, oneAtATime, serverCpuUs, clientCpuUs };
}

function parseOptions(): Options {
  const list = textOption("credentials") ?? "1000,10000,100000";
  const credentials = list.split(",").map(Number);
  if (credentials.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--credentials ${list}`);
  return {
    rounds: option("rounds", 5),
    seconds: option("seconds", 5),
    connections: option("connections", 8),
    sequential: option("sequential", 300),
    credentials,
    profileDir: textOption("cpu-prof-dir"),
  };
}

const noop = async () => {};
const formatCount = (value: number) => Math.round(value).toLocaleString("en-US");
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1).replace(/^-0\.0$/, "0.0")} MiB`;
const signedMib = (bytes: number) => (bytes > 0 ? `+${mib(bytes)}` : mib(bytes));

/** oidc-provider in its own process, its serving certificate from the same CA, and its client's key. */
async function startOidcProvider(workDir: string, ca: CertificateWithKey) {
  const certDir = join(workDir, "oidc-provider");
  await mkdir(certDir);
  const serving = await issueServingCertificate(ca, [LOCAL_HOST, "127.0.0.1"], 1);
  await writeFile(join(certDir, "tls.crt"), serving.certPem);
  await writeFile(join(certDir, "tls.key"), serving.keyPem);
  const clientKey = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const clientKid = keyIdOf(clientKey.publicKey);
  const clientJwk = publishedJwk(clientKey.publicKey.export({ format: "jwk" }) as JWK, clientKid, "RS256");
  const port = await freePort();
  const server = await startServer(
    [
      "--serve",
      "oidc-provider",
      "--cert-dir",
      certDir,
      "--port",
      String(port),
      "--client-jwk",
      JSON.stringify(clientJwk),
    ],
    "/dev/null",
  );
  const pool = new AssertionPool(clientKey.privateKey, clientKid, `https://${LOCAL_HOST}:${port}`);
  const target: Target = {
    port,
    path: "/token",
    body: () =>
      Buffer.from(
        new URLSearchParams({
          grant_type: "client_credentials",
          client_id: OIDC_CLIENT_ID,
          client_assertion_type: JWT_BEARER,
          client_assertion: pool.take(),
          resource: OIDC_RESOURCE,
        }).toString(),
      ),
  };
  return { server, target, pool };
}

async function main(): Promise<void> {
  const options = parseOptions();
  const startedAt = performance.now();
  const workDir = await mkdtemp(join(tmpdir(), "wikit-bench-exchange-"));
  const running: ServerProcess[] = [];
  try {
    const ca = await createCertificateAuthority("bench CA", 1);
    const empty = await emptyStoreMemory(workDir, ca);
    console.error(`wikit, no identities: RSS ${mib(empty.rss)}, heap ${mib(empty.heapUsed)} after start`);

    const wikits: WikitServer[] = [];
    for (const credentials of options.credentials) {
      const loadStarted = performance.now();
      const wikit = await startWikit(workDir, ca, credentials, options.profileDir);
      running.push(wikit.server);
      wikits.push(wikit);
      const resource = vaultResource(wikit.server.info as ServerInfo);
      const bytes = await checkExchange(ca.certPem, wikit.target, `wikit ${credentials}`, resource);
      console.error(
        `wikit, ${formatCount(credentials)} credentials on ${formatCount(wikit.identities)} identities: loaded and started in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s, database ${mib(wikit.databaseBytes)}, token response ${bytes} bytes`,
      );
    }
    const oidc = await startOidcProvider(workDir, ca);
    running.push(oidc.server);
    const oidcBytes = await checkExchange(ca.certPem, oidc.target, "oidc-provider", OIDC_RESOURCE);
    console.error(`oidc-provider: token response ${oidcBytes} bytes`);

    // Warm every server up (JIT, connections) before the first round. oidc-provider's warm-up rate sizes its
    // first pool of assertions.
    const warmup = 200;
    for (const { target } of wikits) await saturate(ca.certPem, target, 0, options.connections, warmup, noop);
    oidc.pool.fill(warmup);
    const warmStarted = performance.now();
    await saturate(ca.certPem, oidc.target, 0, options.connections, warmup, noop);
    let oidcRateGuess = (2 * warmup) / ((performance.now() - warmStarted) / 1000);
    oidc.pool.signedLate = 0;

    const floorOnce = await floorOperation();
    type Participant = { kind: "floor" } | { kind: "wikit"; index: number } | { kind: "oidc-provider" };
    const participants: Participant[] = [
      { kind: "floor" },
      ...wikits.map((_, index) => ({ kind: "wikit" as const, index })),
      { kind: "oidc-provider" },
    ];
    const floors: Floor[] = [];
    const wikitRounds: ServerRound[][] = wikits.map(() => []);
    const oidcRounds: ServerRound[] = [];
    for (let round = 0; round < options.rounds; round += 1) {
      const line: string[] = [];
      for (let step = 0; step < participants.length; step += 1) {
        const participant = participants[(round + step) % participants.length] as Participant;
        if (participant.kind === "floor") {
          const floor = await cryptoFloor(floorOnce, options.seconds);
          floors.push(floor);
          line.push(`floor ${floor.opsPerSecond.toFixed(0)} ops/s ${floor.cpuPerOpUs.toFixed(0)} µs`);
        } else if (participant.kind === "wikit") {
          const wikit = wikits[participant.index] as WikitServer;
          const result = await measureServer(wikit.server, ca.certPem, wikit.target, options);
          wikitRounds[participant.index]?.push(result);
          line.push(
            `wikit ${wikit.credentials} ${rate(result.saturated).toFixed(0)}/s ${result.serverCpuUs.toFixed(0)} µs`,
          );
        } else {
          // Enough assertions for the whole measurement, signed before it starts.
          oidc.pool.fill(
            Math.ceil(1.3 * Math.max(oidcRateGuess, floors.at(-1)?.opsPerSecond ?? 0) * options.seconds) +
              options.connections * 10 +
              options.sequential +
              20,
          );
          const result = await measureServer(oidc.server, ca.certPem, oidc.target, options);
          oidcRateGuess = Math.max(oidcRateGuess, rate(result.saturated));
          oidcRounds.push(result);
          line.push(
            `oidc-provider ${rate(result.saturated).toFixed(0)}/s ${result.serverCpuUs.toFixed(0)} µs`,
          );
        }
      }
      console.error(`round ${round + 1}: ${line.join("; ")}`);
    }
    const afterRun = await Promise.all(wikits.map((wikit) => wikit.server.memory()));
    report(options, {
      empty,
      wikits,
      afterRun,
      floors,
      wikitRounds,
      oidcRounds,
      signedLate: oidc.pool.signedLate,
    });
    console.log(
      `\nNode ${process.version}; ${((performance.now() - startedAt) / 1000).toFixed(0)} s in all.`,
    );
  } finally {
    for (const server of running) await server.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

function rate(sample: Sample): number {
  return sample.ok / sample.seconds;
}

interface Results {
  empty: Memory;
  wikits: WikitServer[];
  afterRun: Memory[];
  floors: Floor[];
  wikitRounds: ServerRound[][];
  oidcRounds: ServerRound[];
  signedLate: number;
}

function report(options: Options, results: Results): void {
  const { wikits, floors, wikitRounds, oidcRounds } = results;
  const summary = (rounds: ServerRound[]) => {
    const rates = rounds.map((r) => rate(r.saturated));
    return {
      rate: median(rates),
      spread: `${Math.min(...rates).toFixed(0)}–${Math.max(...rates).toFixed(0)}`,
      p50: median(rounds.map((r) => percentile(r.saturated.latenciesMs, 50))),
      p99: median(rounds.map((r) => percentile(r.saturated.latenciesMs, 99))),
      oneP50: median(rounds.map((r) => percentile(r.oneAtATime.latenciesMs, 50))),
      oneP99: median(rounds.map((r) => percentile(r.oneAtATime.latenciesMs, 99))),
      serverCpu: median(rounds.map((r) => r.serverCpuUs)),
      clientCpu: median(rounds.map((r) => r.clientCpuUs)),
      failed: rounds.reduce((sum, r) => sum + r.saturated.failed + r.oneAtATime.failed, 0),
    };
  };
  const floor = {
    ops: median(floors.map((f) => f.opsPerSecond)),
    spread: `${Math.min(...floors.map((f) => f.opsPerSecond)).toFixed(0)}–${Math.max(...floors.map((f) => f.opsPerSecond)).toFixed(0)}`,
    cpu: median(floors.map((f) => f.cpuPerOpUs)),
  };
  const floorPerCore = 1e6 / floor.cpu;
  console.log(
    `Federated token exchanges over HTTPS keep-alive on loopback, ${options.rounds} rounds (medians, range in brackets): ${options.connections} connections for ${options.seconds} s, then ${options.sequential} exchanges one at a time.\n`,
  );
  console.log(
    "| Server | exchanges/s | p50 ms | p99 ms | p50 ms, one at a time | p99 ms, one at a time | server CPU µs/exchange | exchanges/s per server core | client CPU µs/exchange | failed |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  console.log(
    `| crypto floor: jose RS256 verify + sign, one at a time | ${floor.ops.toFixed(0)} (${floor.spread}) | | | | | ${floor.cpu.toFixed(0)} | ${floorPerCore.toFixed(0)} | | |`,
  );
  const row = (label: string, s: ReturnType<typeof summary>) =>
    console.log(
      `| ${label} | ${s.rate.toFixed(0)} (${s.spread}) | ${s.p50.toFixed(1)} | ${s.p99.toFixed(1)} | ${s.oneP50.toFixed(2)} | ${s.oneP99.toFixed(2)} | ${s.serverCpu.toFixed(0)} | ${(1e6 / s.serverCpu).toFixed(0)} | ${s.clientCpu.toFixed(0)} | ${s.failed} |`,
    );
  const wikitSummaries = wikitRounds.map(summary);
  wikits.forEach((wikit, index) => {
    row(
      `wikit, ${formatCount(wikit.credentials)} credentials (${formatCount(wikit.identities)} identities)`,
      wikitSummaries[index] as ReturnType<typeof summary>,
    );
  });
  const oidc = summary(oidcRounds);
  row("oidc-provider 9.13.3, private_key_jwt, RS256 JWT access tokens", oidc);
  if (results.signedLate > 0) {
    console.log(`\n(${results.signedLate} oidc-provider assertions were signed inside timed windows.)`);
  }

  console.log("\nTargets:");
  wikits.forEach((wikit, index) => {
    const s = wikitSummaries[index] as ReturnType<typeof summary>;
    const perCore = 1e6 / s.serverCpu / floorPerCore;
    const ratios = (wikitRounds[index] as ServerRound[]).map(
      (r, round) => rate(r.saturated) / rate((oidcRounds[round] as ServerRound).saturated),
    );
    console.log(
      `- wikit, ${formatCount(wikit.credentials)} credentials: ${perCore.toFixed(2)}× the crypto floor per server core (target ≥ 0.6×) ${perCore >= 0.6 ? "met" : "NOT met"}; ${median(ratios).toFixed(2)}× oidc-provider's throughput (rounds: ${ratios.map((r) => r.toFixed(2)).join(", ")}; target ≥ 1.5×) ${median(ratios) >= 1.5 ? "met" : "NOT met"}`,
    );
  });
  const first = wikitSummaries[0];
  const last = wikitSummaries.at(-1);
  if (first && last && wikits.length > 1) {
    const growth = last.oneP50 / first.oneP50;
    const saturatedGrowth = last.p50 / first.p50;
    console.log(
      `- p50 one at a time, ${formatCount(wikits.at(-1)?.credentials ?? 0)} vs. ${formatCount(wikits[0]?.credentials ?? 0)} credentials: ${growth.toFixed(2)}× (target ≤ 1.2×) ${growth <= 1.2 ? "met" : "NOT met"}; under saturation ${saturatedGrowth.toFixed(2)}×`,
    );
  }

  console.log("\nMemory of the wikit server (after a forced GC): right after start; after the rounds.\n");
  console.log(
    "| Store | database | RSS after start | heap after start | RSS after rounds | heap after rounds |",
  );
  console.log("|---|---|---|---|---|---|");
  console.log(`| no identities | | ${mib(results.empty.rss)} | ${mib(results.empty.heapUsed)} | | |`);
  wikits.forEach((wikit, index) => {
    const after = results.afterRun[index] as Memory;
    console.log(
      `| ${formatCount(wikit.credentials)} credentials | ${mib(wikit.databaseBytes)} | ${mib(wikit.afterStart.rss)} | ${mib(wikit.afterStart.heapUsed)} | ${mib(after.rss)} | ${mib(after.heapUsed)} |`,
    );
  });
  const largest = wikits.at(-1);
  const smallest = wikits[0];
  if (largest && smallest) {
    // Scaled to 100k credentials: after start against the empty store, after the rounds against the smallest.
    const per100k = (difference: number, credentials: number) =>
      signedMib((difference * 100_000) / credentials);
    const afterLargest = results.afterRun.at(-1) as Memory;
    const afterSmallest = results.afterRun[0] as Memory;
    const span = largest.credentials - smallest.credentials;
    console.log(
      `\nPer 100k credentials: database ${per100k(largest.databaseBytes, largest.credentials)}; after start, RSS ${per100k(largest.afterStart.rss - results.empty.rss, largest.credentials)}, heap ${per100k(largest.afterStart.heapUsed - results.empty.heapUsed, largest.credentials)} over the empty store` +
        (span > 0
          ? `; after the rounds, RSS ${per100k(afterLargest.rss - afterSmallest.rss, span)}, heap ${per100k(afterLargest.heapUsed - afterSmallest.heapUsed, span)} (${formatCount(largest.credentials)} vs. ${formatCount(smallest.credentials)} credentials)`
          : ""),
    );
  }
}

// Last, so that every constant above is initialised before either side runs.
if (process.argv.includes("--serve")) {
  await serve(textOption("serve") ?? "");
} else {
  await main();
}
