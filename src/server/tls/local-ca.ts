import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type CertificateWithKey,
  createCertificateAuthority,
  isServingCertificateCurrent,
  issueServingCertificate,
  pemFile,
} from "../../pki/certificates.ts";
import { writeFileDurably } from "../../store/durable-file.ts";

const CA_VALIDITY_DAYS = 3650;
const SERVING_VALIDITY_DAYS = 397;
const RENEW_BEFORE_DAYS = 30;

export interface LocalTls {
  ca: CertificateWithKey;
  /** Path of the CA certificate that clients must trust. */
  caFile: string;
  serving: CertificateWithKey;
}

async function readPair(certFile: string, keyFile: string): Promise<CertificateWithKey | undefined> {
  if (!existsSync(certFile) || !existsSync(keyFile)) return undefined;
  return { certPem: await readFile(certFile, "utf8"), keyPem: await readFile(keyFile, "utf8") };
}

/**
 * The local CA (made on first start, then reused so that trust set up once keeps working) and a
 * serving certificate for `names`, re-issued when the names change or expiry comes near.
 */
export async function loadLocalTls(dataDir: string, names: readonly string[]): Promise<LocalTls> {
  const { ca, caFile } = await loadLocalCa(dataDir);
  const certFile = join(dataDir, "tls.crt");
  const keyFile = join(dataDir, "tls.key");
  let serving = await readPair(certFile, keyFile);
  if (
    !serving ||
    !(await isServingCertificateCurrent(serving.certPem, ca.certPem, names, RENEW_BEFORE_DAYS))
  ) {
    serving = await issueServingCertificate(ca, names, SERVING_VALIDITY_DAYS);
    await writeFileDurably(keyFile, serving.keyPem, 0o600);
    await writeFileDurably(certFile, serving.certPem, 0o644);
  }
  return { ca, caFile, serving };
}

/** The data directory's local CA: made on first use, then reused so that trust set up once keeps working. */
export async function loadLocalCa(dataDir: string): Promise<{ ca: CertificateWithKey; caFile: string }> {
  const caFile = join(dataDir, "ca.crt");
  const caKeyFile = join(dataDir, "ca.key");
  let ca = await readPair(caFile, caKeyFile);
  if (!ca) {
    ca = await createCertificateAuthority("wikit local CA", CA_VALIDITY_DAYS);
    await writeFileDurably(caKeyFile, ca.keyPem, 0o600);
    await writeFileDurably(caFile, ca.certPem, 0o644);
  } else if (ca.certPem !== pemFile(ca.certPem)) {
    // Written by an earlier wikit without the final newline, which breaks `cat ca.crt >> bundle.pem`.
    ca = { ...ca, certPem: pemFile(ca.certPem) };
    await writeFileDurably(caFile, ca.certPem, 0o644);
  }
  return { ca, caFile };
}
