// The admission server's certificate, from `<certDir>/tls.crt` and `tls.key` — files that the certificate
// rotator writes, or that Kubernetes updates in place when they come from a mounted Secret. The files are
// read again every interval; a new, usable pair is handed over without restarting the server. A pair that
// cannot be used (missing file, key not matching the certificate — as while the files are being replaced)
// is reported once and the previous pair stays in service.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import type { Logger } from "pino";
import { SERVING_CERT_FILE, SERVING_KEY_FILE } from "./constants.ts";

export interface ServingCertificate {
  cert: string;
  key: string;
}

export interface ServingCertificateWatcherOptions {
  certDir: string;
  /** Called with each new usable pair, the first one included. */
  onCertificate: (certificate: ServingCertificate) => void | Promise<void>;
  /** How often the files are read again. Default 10 s. */
  pollIntervalMs?: number;
  logger?: Pick<Logger, "info" | "warn">;
}

export class ServingCertificateWatcher {
  readonly #options: ServingCertificateWatcherOptions;
  #current: ServingCertificate | undefined;
  /** Contents last seen, usable or not, so that a bad pair is reported once. */
  #lastSeen = "";
  #timer: NodeJS.Timeout | undefined;
  #checking: Promise<boolean> | undefined;

  constructor(options: ServingCertificateWatcherOptions) {
    this.#options = options;
  }

  /** The pair in service, if any has been loaded. */
  get current(): ServingCertificate | undefined {
    return this.#current;
  }

  get certFile(): string {
    return join(this.#options.certDir, SERVING_CERT_FILE);
  }

  get keyFile(): string {
    return join(this.#options.certDir, SERVING_KEY_FILE);
  }

  /** Reads the files now, then every interval. */
  start(): Promise<boolean> {
    const first = this.check();
    this.#timer = setInterval(() => void this.check(), this.#options.pollIntervalMs ?? 10_000);
    this.#timer.unref();
    return first;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Reads the files; resolves true when a new pair was taken into service. Concurrent calls share one read. */
  check(): Promise<boolean> {
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async #check(): Promise<boolean> {
    let pair: ServingCertificate;
    try {
      pair = { cert: await readFile(this.certFile, "utf8"), key: await readFile(this.keyFile, "utf8") };
    } catch (error) {
      this.#report(`missing:${(error as NodeJS.ErrnoException).code}`, () =>
        this.#options.logger?.warn(
          { certDir: this.#options.certDir, error: (error as Error).message },
          "serving certificate files are not readable yet",
        ),
      );
      return false;
    }
    const seen = `${pair.cert}\n${pair.key}`;
    if (this.#current !== undefined && seen === `${this.#current.cert}\n${this.#current.key}`) return false;
    try {
      createSecureContext({ cert: pair.cert, key: pair.key });
    } catch (error) {
      this.#report(seen, () =>
        this.#options.logger?.warn(
          { certDir: this.#options.certDir, error: (error as Error).message },
          "serving certificate files are not usable; keeping the previous certificate",
        ),
      );
      return false;
    }
    await this.#options.onCertificate(pair);
    this.#current = pair;
    this.#lastSeen = seen;
    this.#options.logger?.info({ certDir: this.#options.certDir }, "serving certificate loaded");
    return true;
  }

  #report(seen: string, log: () => void): void {
    if (seen === this.#lastSeen) return;
    this.#lastSeen = seen;
    log();
  }
}
