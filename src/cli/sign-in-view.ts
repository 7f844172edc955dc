// How the CLI shows the sign-in log: `--since` parsed, records as table rows, and the one-line hint `wikit run`
// prints when its command's exchange fails — the code, what differs, and the command that fixes it.

import { DEFAULT_AUDIENCE } from "../cluster/webhook/constants.ts";

/** The members of a sign-in record (as the management API returns it) that the CLI reads. */
export interface SignInView {
  createdDateTime: string;
  tenant: string;
  clientId?: string;
  identityId?: string;
  issuer?: string;
  subject?: string;
  audiences?: string[];
  resource?: string;
  errorCode: number;
  failureReason?: string;
  credential?: string;
  nearestCredential?: string;
  explanation?: string;
  cause?: string;
}

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: a duration back from `now` (`30s`, `10m`, `2h`, `7d`) or an ISO 8601 time; answered as ISO. */
export function parseSince(text: string, now = Date.now()): string {
  const duration = /^(\d+)([smhd])$/.exec(text.trim());
  if (duration) return new Date(now - Number(duration[1]) * (UNIT_MS[duration[2] ?? "s"] ?? 0)).toISOString();
  const time = Date.parse(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(time)) return new Date(time).toISOString();
  throw new Error(
    `--since takes a duration such as 30s, 10m, 2h or 7d, or a time such as 2026-12-04T10:00:00Z, not '${text}'`,
  );
}

/** The rows of `wikit signin list -o table`: one per record, newest first, times in local time. */
export function signInRows(records: readonly SignInView[]): Record<string, string>[] {
  return records.map((record) => ({
    Time: localTime(record.createdDateTime),
    Result: record.errorCode === 0 ? "Success" : `AADSTS${record.errorCode}`,
    ClientId: record.clientId ?? "",
    Subject: record.subject ?? "",
    Credential:
      record.credential ?? (record.nearestCredential ? `(nearest: ${record.nearestCredential})` : ""),
    Detail: record.errorCode === 0 ? (record.resource ?? "") : detailOf(record),
  }));
}

/** What went wrong, in a line: wikit's explanation, else Entra's first sentence, with the cause when known. */
function detailOf(record: SignInView): string {
  const reason = record.explanation?.replace(/^wikit: /, "") ?? firstSentence(record.failureReason ?? "");
  return record.cause ? `${reason} (${record.cause})` : reason;
}

function firstSentence(text: string): string {
  const withoutCode = text.replace(/^AADSTS\d+: /, "");
  const end = withoutCode.search(/\.(\s|$)/);
  return end === -1 ? withoutCode : withoutCode.slice(0, end + 1);
}

const NO_MATCH_CODES = new Set([700211, 700212, 700213, 7002138, 70025]);

/**
 * The line `wikit run` prints on stderr when its command's exchange failed: code, what differs, and the wikit
 * command that fixes it — a credential trusting exactly the token the command presented, added beside the
 * identity's others so that no other workload loses its own.
 */
export function runHint(record: SignInView): string {
  const prefix = `wikit run: sign-in failed with AADSTS${record.errorCode}`;
  if (NO_MATCH_CODES.has(record.errorCode)) {
    const what = record.explanation?.replace(/^wikit: /, "") ?? firstSentence(record.failureReason ?? "");
    const fix = credentialFix(record);
    return fix ? `${prefix}: ${what} Fix: ${fix}` : `${prefix}: ${what}`;
  }
  if (record.errorCode === 7000215) {
    return `${prefix}: the command sent a client secret, not its service-account token. Fix: unset AZURE_CLIENT_SECRET (and AZURE_CLIENT_CERTIFICATE_PATH) for it, so that the SDK uses AZURE_FEDERATED_TOKEN_FILE`;
  }
  if (record.errorCode === 700016) {
    return `${prefix}: nothing in tenant '${record.tenant}' signs in with client ID '${record.clientId ?? ""}' (no identity there, nor an app with a service principal there). Fix: find it with \`wikit identity list\` or \`wikit ad app list\`, then wikit serviceaccount create phase service-account --namespace <ns> --name <name> --client-id <client-id> [--tenant-id <its tenant>]`;
  }
  if (record.errorCode === 7000229) {
    return `${prefix}: the app has no service principal in its tenant. Fix: wikit ad sp create --id ${record.clientId ?? "<app-id>"}`;
  }
  const reason = firstSentence(record.failureReason ?? "");
  return record.cause ? `${prefix}: ${reason} Cause: ${record.cause}` : `${prefix}: ${reason}`;
}

function credentialFix(record: SignInView): string | undefined {
  if (record.issuer === undefined || record.subject === undefined) return undefined;
  const account = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(record.subject);
  const name = account ? `${account[1]}-${account[2]}` : "wikit-run";
  const audience = record.audiences?.[0];
  const application = /^\/tenants\/[^/]+\/applications\/([^/]+)$/i.exec(record.identityId ?? "");
  if (application) {
    const parameters = JSON.stringify({
      name,
      issuer: record.issuer,
      subject: record.subject,
      audiences: [audience ?? DEFAULT_AUDIENCE],
    });
    return `wikit ad app federated-credential create --id ${application[1]} --parameters ${quoted(parameters)}`;
  }
  const identity = /\/resourceGroups\/([^/]+)\/providers\/[^/]+\/userAssignedIdentities\/([^/]+)$/i.exec(
    record.identityId ?? "",
  );
  if (!identity) return undefined;
  return [
    "wikit identity federated-credential create",
    `-g ${quoted(identity[1] ?? "")} --identity-name ${quoted(identity[2] ?? "")} -n ${quoted(name)}`,
    `--issuer ${quoted(record.issuer)} --subject ${quoted(record.subject)}`,
    ...(audience !== undefined && audience !== DEFAULT_AUDIENCE ? [`--audiences ${quoted(audience)}`] : []),
  ].join(" ");
}

/** A shell word: plain text as it is, anything else in single quotes. */
function quoted(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

function localTime(iso: string): string {
  const date = new Date(iso);
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
