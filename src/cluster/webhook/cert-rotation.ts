// The webhook's own TLS: a long-lived CA and a shorter-lived serving certificate for the webhook Service, kept in
// one Secret shared by every replica. `decideRotation` is the decision (no I/O): keep what is stored, re-issue
// the serving certificate, or start over with a new CA. `CertRotator` carries it out against the Kubernetes
// API: it creates or updates the Secret (optimistic concurrency, so replicas starting together converge on one
// Secret), writes the serving pair into the certificate directory the server reloads from, and keeps the
// `caBundle` of every webhook in the MutatingWebhookConfiguration equal to the CA certificates.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  AdmissionregistrationV1Api,
  ApiException,
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Secret,
} from "@kubernetes/client-node";
import {
  createCertificateAuthority,
  isSignedBy,
  issueServingCertificate,
  privateKeyMatchesCertificate,
  readCertificateFacts,
  splitCertificateBundle,
} from "../../pki/certificates.ts";
import { writeFileDurably } from "../../store/durable-file.ts";
import { CERT_SECRET_KEYS } from "./constants.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

/** How long certificates live and when they are renewed. */
export interface RotationPolicy {
  /** Lifetime of a new CA certificate. */
  caValidityDays: number;
  /** Lifetime of a new serving certificate. */
  servingValidityDays: number;
  /** A certificate is renewed once less than this fraction of its own lifetime remains … */
  renewRemainingFraction: number;
  /** … or once fewer than this many days remain, whichever comes first. */
  renewBeforeDays: number;
}

export const DEFAULT_ROTATION_POLICY: RotationPolicy = {
  caValidityDays: 3650,
  servingValidityDays: 365,
  renewRemainingFraction: 1 / 3,
  renewBeforeDays: 30,
};

/** CA common name of the certificates the webhook makes for itself. */
export const WEBHOOK_CA_COMMON_NAME = "wikit-webhook-ca";

/** The PEM texts stored in the Secret. `caCert` may hold the previous CA after the signing CA (a rollover). */
export interface WebhookCertificates {
  caCert: string;
  caKey: string;
  tlsCert: string;
  tlsKey: string;
}

export type RotationDecision =
  | { action: "keep" }
  | { action: "reissue-serving"; reason: string }
  | {
      action: "reissue-all";
      reason: string;
      /** The CA being replaced while it is still valid: kept in the bundle so old serving certs still verify. */
      previousCaCert?: string;
    };

/** The DNS names the API server uses to reach the webhook Service, which the serving certificate must carry. */
export function webhookServiceDnsNames(serviceName: string, namespace: string): string[] {
  return [`${serviceName}.${namespace}.svc`, `${serviceName}.${namespace}.svc.cluster.local`];
}

/** Secret `data` (base64 values) → PEM texts; undefined when a key is missing or empty. */
export function certificatesFromSecretData(
  data: Record<string, string> | undefined,
): Partial<WebhookCertificates> {
  const text = (key: string): string | undefined => {
    const value = data?.[key];
    if (typeof value !== "string" || value === "") return undefined;
    return Buffer.from(value, "base64").toString("utf8");
  };
  const result: Partial<WebhookCertificates> = {};
  const caCert = text(CERT_SECRET_KEYS.caCert);
  const caKey = text(CERT_SECRET_KEYS.caKey);
  const tlsCert = text(CERT_SECRET_KEYS.tlsCert);
  const tlsKey = text(CERT_SECRET_KEYS.tlsKey);
  if (caCert !== undefined) result.caCert = caCert;
  if (caKey !== undefined) result.caKey = caKey;
  if (tlsCert !== undefined) result.tlsCert = tlsCert;
  if (tlsKey !== undefined) result.tlsKey = tlsKey;
  return result;
}

/** PEM texts → Secret `data` (base64 values). */
export function secretDataFromCertificates(certificates: WebhookCertificates): Record<string, string> {
  const encode = (pem: string) => Buffer.from(pem, "utf8").toString("base64");
  return {
    [CERT_SECRET_KEYS.caCert]: encode(certificates.caCert),
    [CERT_SECRET_KEYS.caKey]: encode(certificates.caKey),
    [CERT_SECRET_KEYS.tlsCert]: encode(certificates.tlsCert),
    [CERT_SECRET_KEYS.tlsKey]: encode(certificates.tlsKey),
  };
}

type Facts = ReturnType<typeof readCertificateFacts>;

/** Why a certificate must be renewed at `now`, or undefined when it may be kept. */
function renewalReason(facts: Facts, now: Date, policy: RotationPolicy): string | undefined {
  const remaining = facts.notAfter.getTime() - now.getTime();
  if (facts.notBefore.getTime() > now.getTime()) return "is not valid yet";
  if (remaining <= 0) return "has expired";
  const lifetime = facts.notAfter.getTime() - facts.notBefore.getTime();
  const threshold = Math.max(lifetime * policy.renewRemainingFraction, policy.renewBeforeDays * DAY_MS);
  if (remaining < threshold) return `expires on ${facts.notAfter.toISOString()}, within its renewal window`;
  return undefined;
}

function tryFacts(pem: string): Facts | undefined {
  try {
    return readCertificateFacts(pem);
  } catch {
    return undefined;
  }
}

/**
 * What to do with the certificates stored in the Secret's `data` (undefined: no Secret) for a webhook reached
 * under `dnsNames` at `now`. Anything missing, unparsable or not matching its key or its CA is replaced:
 * a broken CA replaces everything, a broken serving pair only the serving pair.
 */
export async function decideRotation(
  data: Record<string, string> | undefined,
  dnsNames: readonly string[],
  now: Date,
  policy: RotationPolicy = DEFAULT_ROTATION_POLICY,
): Promise<RotationDecision> {
  const stored = certificatesFromSecretData(data);
  if (stored.caCert === undefined && stored.caKey === undefined) {
    return { action: "reissue-all", reason: "no CA certificate stored yet" };
  }
  if (stored.caCert === undefined || stored.caKey === undefined) {
    return { action: "reissue-all", reason: "the CA certificate or its key is missing" };
  }
  let caChain: string[];
  try {
    caChain = splitCertificateBundle(stored.caCert);
  } catch {
    return { action: "reissue-all", reason: "the CA certificate cannot be parsed" };
  }
  const signingCa = caChain[0] as string;
  const caFacts = tryFacts(signingCa);
  if (!caFacts) return { action: "reissue-all", reason: "the CA certificate cannot be parsed" };
  if (!caFacts.isCertificateAuthority) {
    return { action: "reissue-all", reason: "the CA certificate is not a certificate authority" };
  }
  if (!(await privateKeyMatchesCertificate(stored.caKey, signingCa))) {
    return { action: "reissue-all", reason: "the CA key does not belong to the CA certificate" };
  }
  const caRenewal = renewalReason(caFacts, now, policy);
  if (caRenewal !== undefined) {
    const stillValid =
      caFacts.notBefore.getTime() <= now.getTime() && caFacts.notAfter.getTime() > now.getTime();
    return {
      action: "reissue-all",
      reason: `the CA certificate ${caRenewal}`,
      ...(stillValid ? { previousCaCert: signingCa } : {}),
    };
  }

  if (stored.tlsCert === undefined || stored.tlsKey === undefined) {
    return { action: "reissue-serving", reason: "the serving certificate or its key is missing" };
  }
  const servingFacts = tryFacts(stored.tlsCert);
  if (!servingFacts) return { action: "reissue-serving", reason: "the serving certificate cannot be parsed" };
  if (!(await privateKeyMatchesCertificate(stored.tlsKey, stored.tlsCert))) {
    return {
      action: "reissue-serving",
      reason: "the serving key does not belong to the serving certificate",
    };
  }
  if (!(await isSignedBy(stored.tlsCert, signingCa))) {
    return { action: "reissue-serving", reason: "the serving certificate was not issued by the stored CA" };
  }
  const wanted = new Set(dnsNames.map((name) => name.toLowerCase()));
  const present = new Set(servingFacts.subjectAltNames);
  if (wanted.size !== present.size || [...wanted].some((name) => !present.has(name))) {
    return {
      action: "reissue-serving",
      reason: `the serving certificate names ${[...present].join(", ") || "no host"} instead of ${[...wanted].join(", ")}`,
    };
  }
  const servingRenewal = renewalReason(servingFacts, now, policy);
  if (servingRenewal !== undefined) {
    return { action: "reissue-serving", reason: `the serving certificate ${servingRenewal}` };
  }
  return { action: "keep" };
}

/** New certificates as the decision asks (never called with `keep`). */
export async function issueWebhookCertificates(
  decision: Exclude<RotationDecision, { action: "keep" }>,
  stored: Partial<WebhookCertificates>,
  dnsNames: readonly string[],
  now: Date,
  policy: RotationPolicy = DEFAULT_ROTATION_POLICY,
): Promise<WebhookCertificates> {
  let ca: { certPem: string; keyPem: string };
  let caBundle: string;
  if (decision.action === "reissue-all") {
    ca = await createCertificateAuthority(WEBHOOK_CA_COMMON_NAME, policy.caValidityDays, now);
    caBundle = decision.previousCaCert ? `${ca.certPem.trimEnd()}\n${decision.previousCaCert}` : ca.certPem;
  } else {
    if (stored.caCert === undefined || stored.caKey === undefined) {
      throw new Error("re-issuing the serving certificate needs the stored CA");
    }
    caBundle = stored.caCert;
    ca = { certPem: splitCertificateBundle(stored.caCert)[0] as string, keyPem: stored.caKey };
  }
  const serving = await issueServingCertificate(ca, dnsNames, policy.servingValidityDays, now);
  return { caCert: caBundle, caKey: ca.keyPem, tlsCert: serving.certPem, tlsKey: serving.keyPem };
}

// ---- The rotator ---------------------------------------------------------------------------------------

/** The subset of a pino logger the rotator writes to. Never handed certificate keys. */
export interface RotationLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface CertRotatorOptions {
  kubeConfig: KubeConfig;
  /** Namespace of the Secret and of the webhook Service. */
  namespace: string;
  secretName: string;
  serviceName: string;
  webhookConfigurationName: string;
  /** Directory the admission server loads `tls.crt` and `tls.key` from. */
  certDir: string;
  /** Time between two checks once everything is in place (default one minute). */
  checkIntervalMs?: number;
  now?: () => Date;
  policy?: Partial<RotationPolicy>;
  logger?: RotationLogger;
}

export interface CertRotationResult {
  decision: RotationDecision["action"];
  secret: "created" | "updated" | "kept";
  files: "written" | "unchanged";
  /** `configuration-not-found`: the MutatingWebhookConfiguration does not exist (yet); checked again soon. */
  caBundle: "patched" | "current" | "configuration-not-found";
}

export const DEFAULT_CHECK_INTERVAL_MS = 60_000;
/** First delay after a failed check; doubled on each further failure up to the check interval. */
const RETRY_BASE_MS = 1_000;
/** Reads and writes attempted before giving up on a Secret or configuration that keeps changing. */
const MAX_ATTEMPTS = 8;

function statusOf(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

const quietLogger: RotationLogger = { info() {}, warn() {} };

export class CertRotator {
  readonly #options: CertRotatorOptions;
  readonly #core: CoreV1Api;
  readonly #admission: AdmissionregistrationV1Api;
  readonly #policy: RotationPolicy;
  readonly #dnsNames: string[];
  readonly #logger: RotationLogger;
  #queue: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #failures = 0;

  constructor(options: CertRotatorOptions) {
    this.#options = options;
    this.#core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.#admission = options.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
    this.#policy = { ...DEFAULT_ROTATION_POLICY, ...options.policy };
    this.#dnsNames = webhookServiceDnsNames(options.serviceName, options.namespace);
    this.#logger = options.logger ?? quietLogger;
  }

  /** The DNS names the serving certificate is issued for. */
  get dnsNames(): readonly string[] {
    return this.#dnsNames;
  }

  /**
   * Makes everything current once: the Secret holds a valid CA and serving certificate, the certificate
   * directory holds the serving pair, and every webhook of the configuration trusts the CA. Calls are queued,
   * never run concurrently.
   */
  ensure(): Promise<CertRotationResult> {
    const run = this.#queue.then(() => this.#ensureOnce());
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Checks again every `checkIntervalMs`, sooner after a failure or while the configuration is missing. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(this.#interval());
  }

  /** Ends the periodic checks; resolves once a check in progress has finished. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#queue;
  }

  #interval(): number {
    return this.#options.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS;
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => void this.#tick(), delayMs);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    this.#timer = undefined;
    let healthy = false;
    try {
      healthy = (await this.ensure()).caBundle !== "configuration-not-found";
    } catch (error) {
      this.#logger.warn(
        { err: { message: (error as Error).message, status: statusOf(error) } },
        "webhook certificate check failed; retrying",
      );
    }
    this.#failures = healthy ? 0 : this.#failures + 1;
    if (!this.#running) return;
    const interval = this.#interval();
    this.#schedule(
      healthy ? interval : Math.min(interval, RETRY_BASE_MS * 2 ** Math.min(this.#failures - 1, 16)),
    );
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  async #ensureOnce(): Promise<CertRotationResult> {
    const { certificates, decision, secret } = await this.#syncSecret();
    const files = await this.#writeFiles(certificates);
    const caBundle = await this.#injectCaBundle(certificates.caCert);
    return { decision, secret, files, caBundle };
  }

  async #readSecret(): Promise<V1Secret | undefined> {
    const { namespace, secretName: name } = this.#options;
    try {
      return await this.#core.readNamespacedSecret({ name, namespace });
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async #syncSecret(): Promise<{
    certificates: WebhookCertificates;
    decision: RotationDecision["action"];
    secret: CertRotationResult["secret"];
  }> {
    const { namespace, secretName: name } = this.#options;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const existing = await this.#readSecret();
      const now = this.#now();
      const decision = await decideRotation(existing?.data, this.#dnsNames, now, this.#policy);
      const stored = certificatesFromSecretData(existing?.data);
      if (decision.action === "keep") {
        return { certificates: stored as WebhookCertificates, decision: "keep", secret: "kept" };
      }
      const certificates = await issueWebhookCertificates(
        decision,
        stored,
        this.#dnsNames,
        now,
        this.#policy,
      );
      const data = secretDataFromCertificates(certificates);
      try {
        if (existing) {
          // Replacing with the resourceVersion just read: a replica that wrote in between makes this a 409.
          await this.#core.replaceNamespacedSecret({ name, namespace, body: { ...existing, data } });
        } else {
          await this.#core.createNamespacedSecret({
            namespace,
            body: { apiVersion: "v1", kind: "Secret", metadata: { name, namespace }, type: "Opaque", data },
          });
        }
      } catch (error) {
        if (statusOf(error) === 409) continue; // another replica won; read what it stored
        throw error;
      }
      this.#logger.info(
        {
          secret: `${namespace}/${name}`,
          action: decision.action,
          reason: decision.reason,
          notAfter: readCertificateFacts(certificates.tlsCert).notAfter.toISOString(),
        },
        "issued webhook certificates",
      );
      return { certificates, decision: decision.action, secret: existing ? "updated" : "created" };
    }
    throw new Error(
      `the certificate Secret ${namespace}/${name} kept changing during ${MAX_ATTEMPTS} attempts to update it; another writer is fighting over it`,
    );
  }

  async #writeFiles(certificates: WebhookCertificates): Promise<CertRotationResult["files"]> {
    const dir = this.#options.certDir;
    // Key first: a reload triggered by the new certificate then finds the matching key already in place.
    const files: [string, string, number][] = [
      [CERT_SECRET_KEYS.tlsKey, certificates.tlsKey, 0o600],
      [CERT_SECRET_KEYS.tlsCert, certificates.tlsCert, 0o644],
      [CERT_SECRET_KEYS.caCert, certificates.caCert, 0o644],
    ];
    let written = false;
    for (const [file, content, mode] of files) {
      const path = join(dir, file);
      if ((await readIfExists(path)) === content) continue;
      await writeFileDurably(path, content, mode);
      written = true;
    }
    return written ? "written" : "unchanged";
  }

  async #injectCaBundle(caPem: string): Promise<CertRotationResult["caBundle"]> {
    const name = this.#options.webhookConfigurationName;
    const bundle = Buffer.from(caPem, "utf8").toString("base64");
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      let configuration: Awaited<ReturnType<AdmissionregistrationV1Api["readMutatingWebhookConfiguration"]>>;
      try {
        configuration = await this.#admission.readMutatingWebhookConfiguration({ name });
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
        this.#logger.warn(
          { mutatingWebhookConfiguration: name },
          "the MutatingWebhookConfiguration does not exist yet; its caBundle will be set once it does",
        );
        return "configuration-not-found";
      }
      const operations = (configuration.webhooks ?? []).flatMap((webhook, index) =>
        webhook.clientConfig?.caBundle === bundle
          ? []
          : [
              // Guards against the list changing between the read and the patch.
              { op: "test", path: `/webhooks/${index}/name`, value: webhook.name },
              { op: "add", path: `/webhooks/${index}/clientConfig/caBundle`, value: bundle },
            ],
      );
      if (operations.length === 0) return "current";
      try {
        await this.#admission.patchMutatingWebhookConfiguration(
          { name, body: operations },
          setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
        );
      } catch (error) {
        const status = statusOf(error);
        if (status === 409 || status === 422) continue; // changed under us: read again
        if (status === 404) return "configuration-not-found";
        throw error;
      }
      this.#logger.info(
        { mutatingWebhookConfiguration: name, webhooks: operations.length / 2 },
        "set the webhook caBundle",
      );
      return "patched";
    }
    throw new Error(
      `the MutatingWebhookConfiguration ${name} kept changing during ${MAX_ATTEMPTS} attempts to set its caBundle`,
    );
  }
}
