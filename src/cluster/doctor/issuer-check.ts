// The cluster's issuer compared with what token services see. The API server's own discovery document and JWKS
// (read with the kubeconfig's credentials) say which issuer string the cluster puts into tokens and which keys it
// may sign with; the public issuer URL is then checked anonymously as a token service checks it (verifyIssuer),
// and every key the API server publishes must be in the public JWKS, or tokens signed with it fail the exchange.

import { discoveryUrlOf } from "../issuer/discovery.ts";
import {
  type FetchDocument,
  type Fetched,
  type Finding,
  verifyIssuer,
} from "../issuer/issuer-verification.ts";

/** The API server's answers for its two issuer paths, fetched with the kubeconfig's credentials. */
export interface ApiServerIssuerDocuments {
  discovery: Fetched;
  jwks: Fetched;
}

export interface IssuerCheck {
  findings: Finding[];
  /** The issuer string the cluster's tokens carry, when the API server said. */
  clusterIssuer?: string;
}

const JWKS_ACCEPT = "application/jwk-set+json, application/json";

/** `publicIssuerUrl` is what federated credentials name; without it, the API server's own issuer is checked. */
export async function checkClusterIssuer(
  apiServer: ApiServerIssuerDocuments,
  publicIssuerUrl: string | undefined,
  fetchDocument: FetchDocument,
): Promise<IssuerCheck> {
  const findings: Finding[] = [];
  const ok = (message: string) => findings.push({ level: "ok", message });
  const warn = (message: string) => findings.push({ level: "warning", message });
  const problem = (message: string) => findings.push({ level: "problem", message });

  const discovery = apiServerDocument(apiServer.discovery, "discovery document", { warn, problem });
  const clusterIssuer = typeof discovery?.issuer === "string" ? discovery.issuer : undefined;
  if (discovery && clusterIssuer === undefined)
    problem("the API server's discovery document names no issuer");
  const clusterKeys = keyIds(apiServerDocument(apiServer.jwks, "JWKS", { warn, problem }));
  if (clusterIssuer !== undefined) ok(`the cluster signs service-account tokens as issuer ${clusterIssuer}`);

  const issuer = publicIssuerUrl ?? clusterIssuer;
  if (issuer === undefined) {
    problem("the cluster's issuer is unknown: give the URL federated credentials name with --issuer-url");
    return { findings };
  }
  if (publicIssuerUrl !== undefined && clusterIssuer !== undefined && publicIssuerUrl !== clusterIssuer) {
    const slashOnly = publicIssuerUrl.replace(/\/$/, "") === clusterIssuer.replace(/\/$/, "");
    problem(
      slashOnly
        ? `the cluster's tokens carry iss '${clusterIssuer}', the public issuer is '${publicIssuerUrl}': they differ in the trailing '/', and the exchange compares them byte for byte; use the cluster's exact string everywhere`
        : `the cluster's tokens carry iss '${clusterIssuer}', not the public issuer '${publicIssuerUrl}': set kube-apiserver's --service-account-issuer to the public URL (docs/self-managed-cluster.md)`,
    );
  }

  // Each document is fetched once, even though verifyIssuer and the key comparison both read it.
  const fetched = new Map<string, Promise<Fetched>>();
  const fetchOnce: FetchDocument = (url, accept) => {
    const key = `${accept}\n${url}`;
    let answer = fetched.get(key);
    if (answer === undefined) {
      answer = fetchDocument(url, accept);
      fetched.set(key, answer);
    }
    return answer;
  };
  for (const finding of await verifyIssuer(issuer, fetchOnce)) {
    findings.push({ ...finding, message: `public issuer: ${finding.message}` });
  }
  if (clusterKeys === undefined) return { findings, ...(clusterIssuer ? { clusterIssuer } : {}) };

  const publicDiscovery = parseJson(await fetchOnce(discoveryUrlOf(issuer), "application/json"));
  const jwksUri = typeof publicDiscovery?.jwks_uri === "string" ? publicDiscovery.jwks_uri : undefined;
  const publicKeys =
    jwksUri === undefined ? undefined : keyIds(parseJson(await fetchOnce(jwksUri, JWKS_ACCEPT)));
  if (jwksUri === undefined || publicKeys === undefined) {
    problem(
      `the public JWKS could not be read, so none of the cluster's keys (${clusterKeys.join(", ")}) is known to be published`,
    );
    return { findings, ...(clusterIssuer ? { clusterIssuer } : {}) };
  }
  const missing = clusterKeys.filter((kid) => !publicKeys.includes(kid));
  for (const kid of missing) {
    problem(
      `key ${kid}, which the API server publishes and may sign tokens with now, is not in the public JWKS ${jwksUri}: tokens signed with it fail the exchange; publish the API server's current JWKS (kubectl get --raw /openid/v1/jwks)`,
    );
  }
  if (missing.length === 0 && clusterKeys.length > 0) {
    ok(`the public JWKS holds every key the API server publishes: ${clusterKeys.join(", ")}`);
  }
  const retired = publicKeys.filter((kid) => !clusterKeys.includes(kid));
  if (retired.length > 0) {
    ok(
      `the public JWKS also holds ${retired.join(", ")}, which the API server no longer publishes: remove once tokens signed with it have expired`,
    );
  }
  return { findings, ...(clusterIssuer ? { clusterIssuer } : {}) };
}

function apiServerDocument(
  fetched: Fetched,
  what: string,
  report: { warn(message: string): void; problem(message: string): void },
): Record<string, unknown> | undefined {
  if (!fetched.ok) {
    report.problem(`the API server's ${what} could not be read: ${fetched.error}`);
    return undefined;
  }
  if (fetched.status === 401 || fetched.status === 403) {
    report.warn(
      `the kubeconfig's user may not read the API server's ${what} (${fetched.status}): bind the ClusterRole system:service-account-issuer-discovery to it, or give --issuer-url`,
    );
    return undefined;
  }
  if (fetched.status === 404) {
    report.problem(
      `the API server serves no ${what}: service-account issuer discovery is off; start kube-apiserver with --service-account-issuer (https) and --service-account-jwks-uri`,
    );
    return undefined;
  }
  if (fetched.status !== 200) {
    report.problem(`the API server answers ${fetched.status} for its ${what}`);
    return undefined;
  }
  const parsed = parseJson(fetched);
  if (parsed === undefined) report.problem(`the API server's ${what} is not a JSON object`);
  return parsed;
}

function parseJson(fetched: Fetched): Record<string, unknown> | undefined {
  if (!fetched.ok || fetched.status !== 200) return undefined;
  try {
    const parsed = JSON.parse(fetched.body) as unknown;
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The `kid`s of a JWKS, or undefined when it is not one. */
function keyIds(jwks: Record<string, unknown> | undefined): string[] | undefined {
  if (jwks === undefined || !Array.isArray(jwks.keys)) return undefined;
  return jwks.keys.map((key) => String((key as { kid?: unknown }).kid ?? "(no kid)"));
}
