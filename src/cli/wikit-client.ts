import { readFile } from "node:fs/promises";
import { GUID } from "../names/guid.ts";
import { GRAPH_TENANT_HEADER, KUBE_API_PREFIX, KUBE_API_ROOT } from "../names/local-stack-names.ts";
import { AZURE_RESOURCE_MANAGER } from "../names/microsoft-hosts.ts";
import {
  isProcessAlive,
  readAdminToken,
  readCliProfile,
  readServerInfo,
  type ServerInfo,
} from "../server/data-dir.ts";
import {
  type AdminPrincipalFiles,
  adminAssertion,
  cachedAccessToken,
  readAdminPrincipalFiles,
} from "./admin-sign-in.ts";
import { CliError } from "./cli-error.ts";
import { callHttps } from "./https-call.ts";
import { type RemoteServer, remoteServer } from "./server-target.ts";

export const ARM_API_VERSION = "2023-01-31";

/** A subscription as ARM's `GET /subscriptions` returns it (the members the CLI reads). */
export interface SubscriptionBody {
  id: string;
  subscriptionId: string;
  tenantId: string;
  displayName: string;
  state: string;
}

/** A directory object as Graph lists it: its members, `id` among them. */
export type GraphListItem = Record<string, unknown> & { id: string };

/** A string as an OData literal in a `$filter`: single-quoted, quotes doubled. */
export function odataString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A managed cluster as the management API returns it (the members the CLI reads). */
interface ManagedClusterBody {
  id: string;
  name: string;
  properties: { oidcIssuerProfile?: { issuerUrl?: string }; localCluster?: { key?: string } };
}

/** A cluster a command works on: where its Kubernetes API is, its issuer, and its subscription's tenant. */
export interface ClusterTarget {
  name: string;
  resourceGroup: string;
  subscriptionId: string;
  tenantId: string;
  issuerUrl: string;
  /** The path of its Kubernetes API on the server, e.g. `/clusters/local`. */
  kubePath: string;
}

function clusterTarget(cluster: ManagedClusterBody, subscription: SubscriptionBody): ClusterTarget {
  return {
    name: cluster.name,
    resourceGroup: /\/resourceGroups\/([^/]+)/i.exec(cluster.id)?.[1] ?? "",
    subscriptionId: subscription.subscriptionId,
    tenantId: subscription.tenantId,
    issuerUrl: cluster.properties.oidcIssuerProfile?.issuerUrl ?? "",
    kubePath: `${KUBE_API_ROOT}/${cluster.properties.localCluster?.key ?? ""}`,
  };
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

/** Microsoft Graph's resource, as the CLI asks for tokens for the Graph-shaped routes. */
const GRAPH_RESOURCE = "https://graph.microsoft.com";
const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/**
 * The CLI's connection to the running `wikit up` of a data directory, as its admin: the admin principal's access
 * tokens (admin.pem), or the admin-token file of a data directory that has no admin principal yet.
 */
export class WikitClient {
  readonly info: ServerInfo;
  readonly dataDir: string;
  readonly #admin: AdminPrincipalFiles | undefined;
  readonly #adminToken: string | undefined;
  readonly #ca: string | undefined;
  /** The host the server is reached at: 127.0.0.1 for the local `wikit up`, the URL's host for `--server`. */
  readonly #address: string;

  private constructor(
    dataDir: string,
    info: ServerInfo,
    admin: AdminPrincipalFiles | undefined,
    adminToken: string | undefined,
    ca: string | undefined,
    address = "127.0.0.1",
  ) {
    this.dataDir = dataDir;
    this.info = info;
    this.#admin = admin;
    this.#adminToken = adminToken;
    this.#ca = ca;
    this.#address = address;
  }

  /** The client of the server `--server` / WIKIT_SERVER names, else of the `wikit up` of `dataDir`. */
  static async connect(dataDir: string): Promise<WikitClient> {
    const remote = await remoteServer();
    if (remote) return WikitClient.#connectRemote(dataDir, remote);
    const info = await readServerInfo(dataDir);
    if (!info || !isProcessAlive(info.pid)) {
      throw new CliError(
        `wikit is not running for data directory ${dataDir}. Start it with \`wikit up\` (add --detach to run it in the background), or point --data-dir / WIKIT_HOME at the directory it runs from.`,
      );
    }
    const admin = await readAdminPrincipalFiles(dataDir);
    const adminToken = admin ? undefined : await readAdminToken(dataDir);
    if (!admin && !adminToken) {
      throw new CliError(
        `the admin principal's files (${dataDir}/admin.json, admin.pem) are missing or unreadable; run the CLI as the user that ran \`wikit up\`.`,
      );
    }
    return new WikitClient(dataDir, info, admin, adminToken, await readFile(info.caFile, "utf8"));
  }

  /** A `wikit serve` reached by URL with the admin token; its default tenant and subscription asked of it. */
  static async #connectRemote(dataDir: string, remote: RemoteServer): Promise<WikitClient> {
    const { url } = remote;
    const port = Number(url.port || 443);
    const info: ServerInfo = {
      pid: 0,
      url: url.origin,
      port,
      caFile: "",
      tenantId: "",
      subscriptionId: "",
      issuerUrl: "",
      vaultDomain: "",
      appConfigDomain: "",
      startedAt: "",
    };
    const client = new WikitClient(dataDir, info, undefined, remote.adminToken, remote.ca, url.hostname);
    // The server's default subscription is the one its first start made, named `wikit` as `wikit up`'s is.
    const subscriptions = await client.subscriptions();
    const chosen =
      subscriptions.find((subscription) => subscription.displayName === "wikit") ?? subscriptions[0];
    if (chosen) Object.assign(info, { tenantId: chosen.tenantId, subscriptionId: chosen.subscriptionId });
    return client;
  }

  /** The admin's bearer value for `resource` in `tenant`: an access token of the admin principal, cached. */
  async #bearer(tenant: string, resource: string): Promise<string> {
    const admin = this.#admin;
    if (!admin) return this.#adminToken ?? "";
    return cachedAccessToken(this.dataDir, `${tenant} ${resource}`, async () => {
      const assertion = await adminAssertion(admin, `${this.info.url}/${tenant}/oauth2/v2.0/token`);
      const response = await this.requestToken(tenant, {
        grant_type: "client_credentials",
        client_id: admin.clientId,
        client_assertion_type: JWT_BEARER,
        client_assertion: assertion,
        scope: `${resource}/.default`,
      });
      const body = response.body as {
        access_token?: string;
        expires_in?: number;
        error_description?: string;
      };
      if (response.status !== 200 || typeof body.access_token !== "string") {
        throw new CliError(
          `the admin principal could not sign in: ${body.error_description ?? response.status}`,
        );
      }
      return {
        accessToken: body.access_token,
        expiresOn: Math.floor(Date.now() / 1000) + Number(body.expires_in ?? 0),
      };
    });
  }

  /** Sends a request to the management API as admin; `path` may carry a query string. */
  async request(method: string, path: string, body?: unknown): Promise<ApiResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const tenant = this.#admin?.tenantId ?? this.info.tenantId;
    return this.#send(method, path, payload, {
      authorization: `Bearer ${await this.#bearer(tenant, AZURE_RESOURCE_MANAGER.replace(/\/$/, ""))}`,
      ...(payload === undefined ? {} : { "content-type": "application/json" }),
    });
  }

  /**
   * A client-credentials request to the token service, as a workload makes it (no admin credential):
   * `POST /{tenant}/oauth2/v2.0/token` with `form`.
   */
  async requestToken(tenant: string, form: Record<string, string>): Promise<ApiResponse> {
    return this.#send(
      "POST",
      `/${encodeURIComponent(tenant)}/oauth2/v2.0/token`,
      new URLSearchParams(form).toString(),
      {
        "content-type": "application/x-www-form-urlencoded",
      },
    );
  }

  /**
   * A Key Vault data-plane request to the vault at `vaultUri` (wikit's name for it, which resolves here), with a
   * caller's access token: the vault decides by RBAC, as Key Vault does.
   */
  async vaultRequest(
    method: string,
    vaultUri: string,
    path: string,
    accessToken: string,
  ): Promise<ApiResponse> {
    const host = new URL(vaultUri).hostname;
    return this.#send(method, path, undefined, { authorization: `Bearer ${accessToken}` }, host);
  }

  #send(
    method: string,
    path: string,
    payload: string | undefined,
    headers: Record<string, string>,
    hostName = this.#address === "127.0.0.1" ? "localhost" : this.#address,
  ) {
    return callHttps({
      address: this.#address,
      port: this.info.port,
      servername: hostName,
      ca: this.#ca,
      method,
      path,
      headers: { host: `${hostName}:${this.info.port}`, accept: "application/json", ...headers },
      body: payload,
      unreachable: (error) =>
        new CliError(
          `cannot reach wikit at ${this.info.url}: ${error.message}. ${this.info.pid ? "Is `wikit up` still running?" : "Is the server running, and its address right?"}`,
        ),
    });
  }

  /** An ARM call that must succeed: failures become a CliError carrying the server's message. */
  async arm(method: string, id: string, body?: unknown): Promise<unknown> {
    const separator = id.includes("?") ? "&" : "?";
    const response = await this.request(
      method,
      `${encodePath(id)}${separator}api-version=${ARM_API_VERSION}`,
      body,
    );
    return expectSuccess(response);
  }

  /** The subscriptions the admin sees, in ARM's shape. */
  async subscriptions(): Promise<SubscriptionBody[]> {
    return ((await this.arm("GET", "/subscriptions")) as { value: SubscriptionBody[] }).value;
  }

  /**
   * The ID of the subscription a command works in: `nameOrId` (a subscription's ID or display name, as az takes
   * it) when given, else the current one (`wikit account set`), else wikit's default.
   */
  async subscriptionId(nameOrId?: string): Promise<string> {
    const wanted = nameOrId ?? (await readCliProfile(this.dataDir)).subscription;
    if (wanted === undefined) return this.info.subscriptionId;
    if (GUID.test(wanted) && nameOrId === undefined) return wanted;
    const found = (await this.subscriptions()).find(
      (subscription) =>
        subscription.subscriptionId.toLowerCase() === wanted.toLowerCase() ||
        subscription.displayName.toLowerCase() === wanted.toLowerCase(),
    );
    if (!found) {
      throw new CliError(
        `The subscription of '${wanted}' doesn't exist in wikit. List them with \`wikit account list\`.`,
      );
    }
    return found.subscriptionId;
  }

  /** The tenant a subscription (by default the current one) belongs to. */
  async tenantOf(subscriptionId?: string): Promise<string> {
    const wanted = await this.subscriptionId(subscriptionId);
    const found = (await this.subscriptions()).find((subscription) => subscription.subscriptionId === wanted);
    if (!found) throw new CliError(`The subscription '${wanted}' doesn't exist in wikit.`);
    return found.tenantId;
  }

  /**
   * A call to the Graph-shaped directory (`/v1.0/…`) in `tenant`, as admin; failures become a CliError carrying
   * Graph's message. A 204 resolves to undefined.
   */
  async graph(tenant: string, method: string, path: string, body?: unknown): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    // The admin principal's token names its tenant; the admin-token file names it by header.
    const response = await this.#send(method, `/v1.0${path}`, payload, {
      authorization: `Bearer ${await this.#bearer(tenant, GRAPH_RESOURCE)}`,
      ...(this.#admin ? {} : { [GRAPH_TENANT_HEADER]: tenant }),
      ...(payload === undefined ? {} : { "content-type": "application/json" }),
    });
    return expectSuccess(response);
  }

  /** A Graph collection in `tenant` (its `value`), filtered by an OData `$filter` when given. */
  async graphList(tenant: string, path: string, filter?: string): Promise<GraphListItem[]> {
    const query = filter === undefined ? "" : `?$filter=${encodeURIComponent(filter)}`;
    return ((await this.graph(tenant, "GET", `${path}${query}`)) as { value: GraphListItem[] }).value;
  }

  /**
   * The cluster a command works on: the one named (in any subscription), else the current one (`wikit aks
   * get-credentials`), else the only one, else wikit up's own.
   */
  async cluster(name?: string): Promise<ClusterTarget> {
    const profile = await readCliProfile(this.dataDir);
    const all: ClusterTarget[] = [];
    for (const subscription of await this.subscriptions()) {
      const { value } = (await this.arm(
        "GET",
        `/subscriptions/${subscription.subscriptionId}/providers/Microsoft.ContainerService/managedClusters`,
      )) as { value: ManagedClusterBody[] };
      all.push(...value.map((cluster) => clusterTarget(cluster, subscription)));
    }
    const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
    if (name !== undefined) {
      const named = all.filter((cluster) => same(cluster.name, name));
      if (named.length === 1 && named[0]) return named[0];
      if (named.length === 0) {
        throw new CliError(
          `No cluster is named '${name}'. See \`wikit aks list\`, or make it with \`wikit aks create -g RG -n ${name}\`.`,
        );
      }
      throw new CliError(
        `${named.length} clusters are named '${name}' (groups ${named.map((cluster) => `'${cluster.resourceGroup}'`).join(", ")}); make one current with \`wikit aks get-credentials -g RG -n ${name}\` and leave out --cluster.`,
      );
    }
    const current = profile.cluster;
    if (current) {
      const found = all.find(
        (cluster) =>
          same(cluster.subscriptionId, current.subscription) &&
          same(cluster.resourceGroup, current.resourceGroup) &&
          same(cluster.name, current.name),
      );
      if (found) return found;
    }
    if (all.length === 1 && all[0]) return all[0];
    const local = all.find((cluster) => cluster.kubePath === KUBE_API_PREFIX);
    if (!local) throw new CliError("wikit up's own cluster is missing; restart wikit up.");
    return local;
  }

  /** A Kubernetes API call on a cluster (`cluster.kubePath`; wikit up's own by default). */
  async kube(method: string, path: string, body?: unknown, kubePath = KUBE_API_PREFIX): Promise<ApiResponse> {
    return this.request(method, `${kubePath}${path}`, body);
  }
}

function encodePath(path: string): string {
  const [pathname = "", query] = path.split("?");
  const encoded = pathname
    .split("/")
    .map((segment) => encodeURIComponent(decodeURIComponent(segment)))
    .join("/");
  return query === undefined ? encoded : `${encoded}?${query}`;
}

export function expectSuccess(response: ApiResponse): unknown {
  if (response.status >= 200 && response.status < 300) return response.body;
  const body = response.body as { error?: { code?: string; message?: string }; message?: string } | undefined;
  const code = body?.error?.code;
  const message = body?.error?.message ?? body?.message ?? JSON.stringify(response.body);
  throw new CliError(code ? `(${code}) ${message}` : message);
}

/** For `.catch`: a Graph 404 becomes undefined; any other failure stays a failure. */
export function graphNotFoundAsUndefined(error: unknown): undefined {
  if (error instanceof CliError && error.message.startsWith("(Request_ResourceNotFound)")) return undefined;
  throw error;
}
