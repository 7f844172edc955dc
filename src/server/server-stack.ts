import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Server as HttpsServer } from "node:https";
import { hostname } from "node:os";
import type { FastifyInstance } from "fastify";
import { createDirectory } from "../identity/directory/directory.ts";
import { IssuerMetadataClient } from "../identity/exchange/issuer-metadata.ts";
import { SignInLog } from "../identity/sign-ins/sign-in-log.ts";
import { issueServingCertificate } from "../pki/certificates.ts";
import { eraseVaultSecrets } from "../resources/vault/deleted-secrets.ts";
import { SigningKeyRing } from "../signing-keys/key-ring.ts";
import type { RotationPolicy } from "../signing-keys/rotation-policy.ts";
import { openStore } from "../store/open-store.ts";
import { describePostgresUrl, isPostgresUrl } from "../store/postgres-url.ts";
import { SealedSecretsStore } from "../store/sealed-secrets.ts";
import { loadAdminTokenFile } from "./data-dir.ts";
import { registerFederation } from "./federation-routes.ts";
import { createHttpsApp } from "./https-app.ts";
import { withLease } from "./lease.ts";
import { resealVaultSecrets } from "./reseal-secrets.ts";
import { loadOrCreateSecretKeyRing } from "./secret-key-ring-file.ts";
import { ServerMetrics } from "./server-metrics.ts";
import { loadOrCreateStoreCa } from "./tls/store-ca.ts";

const DAY_SECONDS = 24 * 60 * 60;
const SERVING_VALIDITY_DAYS = 397;

export interface ServerOptions {
  /** A `postgres://` URL, shared by replicas, or the path of a SQLite file. */
  store: string;
  port: number;
  listenAddress: string;
  /** The URL clients reach the server by (through its load balancer): the authority and the management API. */
  publicUrl: string;
  vaultDomain: string;
  /** App Configuration stores answer at `https://{name}.{appConfigDomain}`; by default `azconfig.` beside the vaults' domain. */
  appConfigDomain?: string;
  /** The key ring that seals secret values and private keys; every replica reads the same one. */
  secretKeyFile: string;
  /** The admin credential; every replica reads the same one. */
  adminTokenFile: string;
  /** A serving certificate and key (PEM files); without them, one is issued from the CA kept in the store. */
  tls?: { certFile: string; keyFile: string };
  logLevel?: string;
  logStream?: NodeJS.WritableStream;
  /** Accept issuers on private addresses (a cluster's issuer inside the same network). */
  allowPrivateIssuers?: boolean;
  /** Extra CA certificates (PEM file) trusted for issuers' discovery documents and key sets. */
  issuerCaFile?: string;
  /** When the token service's signing key is replaced; defaults: 30 days, published 1 day ahead, kept 1 day. */
  keyRotation?: Partial<RotationPolicy>;
  /** How often each replica rereads the shared keys and the lease holder rotates them. Default 30 s. */
  keyMaintenanceMs?: number;
  /** Say in failed exchanges which field of the nearest credential differs (default off: Entra does not). */
  explainErrors?: boolean;
  /** Connections to PostgreSQL per process (default 10). */
  storePoolSize?: number;
  /** How often given certificate files are reread (default 60 s). */
  certificateCheckMs?: number;
}

export interface RunningServer {
  app: FastifyInstance;
  /** The address it listens on (the port chosen, when 0 was asked for). */
  port: number;
  /** This replica's name in leases and logs. */
  replicaId: string;
  /** The CA the serving certificate was issued from, when it was (PEM). */
  caCertPem?: string;
  /** Stops saying it is ready (load balancers stop sending new requests) while it goes on answering. */
  drain(): void;
  close(): Promise<void>;
}

/**
 * `wikit serve`: the token service, the vaults and the management API as one replica of many sharing a store.
 * Nothing lives in the replica alone: tenants, identities, secrets (sealed), the token service's signing keys and
 * the CA are in the store; the key ring and the admin credential are files every replica is given.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const replicaId = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  const publicUrl = URL.parse(options.publicUrl) ?? new URL("invalid:");
  if (publicUrl.protocol !== "https:" || publicUrl.pathname !== "/" || publicUrl.search || publicUrl.hash) {
    throw new Error(
      `--public-url must be an https:// URL with no path, e.g. https://wikit.example.test (got ${options.publicUrl})`,
    );
  }
  const vaultDomain = options.vaultDomain.toLowerCase();
  const appConfigDomain = (options.appConfigDomain ?? defaultAppConfigDomain(vaultDomain)).toLowerCase();
  const portSuffix = publicUrl.port ? `:${publicUrl.port}` : "";
  const baseUrl = () => publicUrl.origin;
  const rotation: RotationPolicy = {
    rotateAfterSeconds: 30 * DAY_SECONDS,
    overlapSeconds: DAY_SECONDS,
    retainSeconds: DAY_SECONDS,
    ...options.keyRotation,
  };

  const keyRing = await loadOrCreateSecretKeyRing(options.secretKeyFile);
  const adminToken = await loadAdminTokenFile(options.adminTokenFile);
  let stsKeys: SigningKeyRing | undefined;
  const metrics = new ServerMetrics(() => stsKeys?.activeKeyAgeSeconds() ?? 0);
  const sealed = new SealedSecretsStore(
    await openStore(options.store, { poolSize: options.storePoolSize }),
    keyRing,
  );
  const store = metrics.timed(sealed);
  const directory = createDirectory(store, {
    eraseVaultContents: (vaultId) => eraseVaultSecrets(store, vaultId),
  });

  // What must be made once, by one replica: the default tenant, the first keys, the CA. Resealing values under the
  // current key-encryption key is done by one replica at a time too.
  const { tenant, keys, ca } = await withLease(
    store,
    "bootstrap",
    replicaId,
    { ttlMs: 30_000, waitMs: 10 * 60_000 },
    async () => {
      const { tenant } = await directory.tenants.ensureDefaults();
      const keys = await SigningKeyRing.open(store, "sts", { retainRetiredSeconds: rotation.retainSeconds });
      const ca = await loadOrCreateStoreCa(store);
      await resealVaultSecrets(sealed);
      return { tenant, keys, ca };
    },
  );
  stsKeys = keys;

  const serving = options.tls
    ? {
        certPem: await readFile(options.tls.certFile, "utf8"),
        keyPem: await readFile(options.tls.keyFile, "utf8"),
      }
    : await issueServingCertificate(
        ca,
        [publicUrl.hostname, `*.${vaultDomain}`, vaultDomain, `*.${appConfigDomain}`],
        SERVING_VALIDITY_DAYS,
      );
  const app = createHttpsApp({ tls: serving, logLevel: options.logLevel, logStream: options.logStream });
  metrics.instrument(app);
  app.log.info(
    {
      replica: replicaId,
      store: isPostgresUrl(options.store) ? describePostgresUrl(options.store) : options.store,
    },
    "wikit serve starting",
  );

  const signIns = new SignInLog(store, {
    onWriteError: (error, lost) =>
      app.log.error({ err: error, lost }, "sign-in records could not be written and are lost"),
  });

  app.get("/healthz", async () => ({ status: "ok" }));
  let draining = false;
  app.get("/readyz", async (_request, reply) => {
    if (draining) return reply.code(503).send({ status: "unavailable", reason: "shutting down" });
    try {
      // The store answers and the keys are loaded: this replica can issue and check tokens.
      await withTimeout(store.getSetting("default.tenant"), 2000, "the store did not answer within 2 s");
      void keys.active;
      return { status: "ready" };
    } catch (error) {
      return reply.code(503).send({ status: "unavailable", reason: (error as Error).message });
    }
  });
  if (!options.tls) {
    // The CA is public: clients fetch it once to trust every replica's certificate.
    app.get("/wikit/ca.crt", async (_request, reply) =>
      reply.type("application/x-pem-file").send(ca.certPem),
    );
  }

  const issuerCa = options.issuerCaFile ? await readFile(options.issuerCaFile, "utf8") : undefined;
  await registerFederation(app, {
    store,
    directory,
    signIns,
    stsKeys: keys,
    issuerKeys: new IssuerMetadataClient({
      ca: issuerCa,
      allowPrivateNetworks: options.allowPrivateIssuers ?? false,
    }),
    endpoints: {
      baseUrl,
      authorityHostname: publicUrl.hostname,
      vaultDomain,
      vaultResource: () => `https://${vaultDomain}${portSuffix}`,
      vaultResourceAliases: () => [],
      vaultUri: (name) => `https://${name.toLowerCase()}.${vaultDomain}${portSuffix}/`,
      appConfigDomain,
      configurationStoreEndpoint: (name) => `https://${name.toLowerCase()}.${appConfigDomain}${portSuffix}`,
    },
    explainErrors: options.explainErrors ?? false,
    adminToken,
    defaultTenant: () => tenant.tenantId,
  });

  // Every replica rereads the shared keys; the holder of the rotation lease also rotates them.
  const maintenanceMs = options.keyMaintenanceMs ?? 30_000;
  const maintainKeys = async () => {
    try {
      await keys.reload();
      if (await store.tryLease("sts-key-rotation", replicaId, maintenanceMs * 3)) {
        const step = await keys.maintain(rotation);
        if (step) app.log.info({ step, kid: keys.active.kid }, "token service signing keys rotated");
      }
    } catch (error) {
      app.log.warn({ err: error }, "the signing keys could not be refreshed; trying again later");
    }
  };
  await maintainKeys();
  const maintenance = setInterval(() => void maintainKeys(), maintenanceMs);
  maintenance.unref();

  await app.listen({ host: options.listenAddress, port: options.port });
  const address = app.server.address();
  const port = address && typeof address === "object" ? address.port : options.port;
  app.log.info({ url: baseUrl(), port, replica: replicaId }, "wikit serve listening");

  // A renewed certificate (cert-manager rewrites the Secret's files) is served without a restart.
  const certificateReload = options.tls
    ? watchServingCertificate(
        app,
        options.tls,
        serving.certPem + serving.keyPem,
        options.certificateCheckMs ?? CERTIFICATE_CHECK_MS,
      )
    : undefined;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      clearInterval(maintenance);
      clearInterval(certificateReload);
      await app.close();
      await signIns.flush();
      await store.releaseLease("sts-key-rotation", replicaId).catch(() => {});
      await store.close();
    })();
    return closing;
  };
  const drain = () => {
    draining = true;
  };
  return { app, port, replicaId, caCertPem: options.tls ? undefined : ca.certPem, drain, close };
}

const CERTIFICATE_CHECK_MS = 60_000;

/** Rereads the serving certificate's files every `everyMs` and serves them once they change. */
function watchServingCertificate(
  app: FastifyInstance,
  files: { certFile: string; keyFile: string },
  loaded: string,
  everyMs: number,
) {
  let current = loaded;
  const check = async () => {
    try {
      const [certPem, keyPem] = await Promise.all([
        readFile(files.certFile, "utf8"),
        readFile(files.keyFile, "utf8"),
      ]);
      if (certPem + keyPem === current) return;
      (app.server as HttpsServer).setSecureContext({ cert: certPem, key: keyPem });
      current = certPem + keyPem;
      app.log.info({ file: files.certFile }, "serving certificate reloaded");
    } catch (error) {
      app.log.warn({ err: error }, "the serving certificate could not be reread; the one loaded is kept");
    }
  };
  const timer = setInterval(() => void check(), everyMs);
  timer.unref();
  return timer;
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** `azconfig.example.test` beside `vault.example.test`; `azconfig.<vault domain>` when it has no `vault.` label. */
export function defaultAppConfigDomain(vaultDomain: string): string {
  return vaultDomain.startsWith("vault.")
    ? `azconfig.${vaultDomain.slice("vault.".length)}`
    : `azconfig.${vaultDomain}`;
}
