import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { constants as osConstants } from "node:os";
import { join } from "node:path";
import { getCACertificates, rootCertificates } from "node:tls";
import { AZURE_FEDERATED_TOKEN_FILE } from "../webhook/constants.ts";
import { type MutationConfig, mutatePod } from "../webhook/mutation.ts";
import type { ServiceAccountLike } from "../webhook/pod-facts.ts";
import { type AuthorityProxy, startAuthorityProxy } from "./authority-proxy.ts";
import { podView, standInPod } from "./pod-view.ts";
import { refreshDelaySeconds, writeTokenFile } from "./token-file.ts";

export interface LocalRunDeps {
  getServiceAccount(namespace: string, name: string): Promise<ServiceAccountLike | undefined>;
  requestToken(
    namespace: string,
    name: string,
    spec: {
      audiences: string[];
      expirationSeconds: number;
      boundObjectRef: { kind: "Pod"; apiVersion: "v1"; name: string; uid: string };
    },
  ): Promise<string>;
  mutation: MutationConfig;
  /** PEM of the CA that signs wikit's certificates, to be trusted by the child. */
  caFile: string;
  /** Directory for this run's token volume and trust bundle (removed afterwards). */
  runsDir: string;
  /**
   * wikit's own address: tunnels to Microsoft's authority hosts and to `localNames` are sent there (see
   * authority-proxy.ts). Undefined, or a proxy already set in the environment, leaves the child's proxy
   * settings alone; wikit's names must then resolve through DNS.
   */
  authorityProxyTarget?: { host: string; port: number };
  /** wikit's host names: exact, or suffixes starting with `.`. */
  localNames: string[];
  /** Reports refresh failures; the child keeps running on the previous token meanwhile. */
  warn(message: string): void;
}

export interface LocalRunRequest {
  namespace: string;
  serviceAccount: string;
  command: string;
  args: string[];
  /** The container's own env (`--env`): wins over what the webhook injects, as in a pod spec. */
  env: Record<string, string>;
}

export class LocalRunError extends Error {}

const FORWARDED_SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];
/** Signals a terminal sends to its whole foreground process group: the child already has them. */
const TERMINAL_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGQUIT"];
const RETRY_SECONDS = 10;

/** The system's trusted roots plus wikit's CA: Python and Go replace their trust store with such a file. */
async function trustBundle(caFile: string): Promise<string> {
  const system = typeof getCACertificates === "function" ? getCACertificates("system") : [];
  const roots = system.length > 0 ? system : rootCertificates;
  return `${roots.join("\n")}\n${await readFile(caFile, "utf8")}`;
}

/**
 * `wikit run`: runs a command as a labelled pod using the service account would run. The env and
 * the projected token come from the webhook's own mutation; the token file is refreshed at 80 % of
 * its lifetime; wikit's CA is trusted; exit code and signals pass through. Resolves to the exit code.
 */
export async function runAsPod(request: LocalRunRequest, deps: LocalRunDeps): Promise<number> {
  const serviceAccount = await deps.getServiceAccount(request.namespace, request.serviceAccount);
  const pod = standInPod(request.namespace, request.serviceAccount, request.env);
  const outcome = mutatePod({
    pod: pod.manifest,
    serviceAccount,
    namespace: request.namespace,
    config: deps.mutation,
  });
  if (!outcome.allowed) {
    const hint = serviceAccount
      ? ""
      : ` Create it with: wikit serviceaccount create phase service-account --namespace ${request.namespace} --name ${request.serviceAccount} --client-id <client-id>`;
    throw new LocalRunError(`the webhook would deny this pod: ${outcome.message}.${hint}`);
  }
  let view: ReturnType<typeof podView>;
  try {
    view = podView(outcome.pod);
  } catch (error) {
    throw new LocalRunError(
      `${(error as Error).message}; do not set AZURE_FEDERATED_TOKEN_FILE with --env, wikit run provides the token file`,
    );
  }
  const runDir = join(deps.runsDir, pod.name);
  const tokenFile = join(runDir, view.token.mountPath, view.token.path);
  const bundleFile = join(runDir, "ca-bundle.pem");

  // Set once the run is over: a refresh still in flight then writes nothing and schedules nothing, so the
  // run directory, once removed, stays removed.
  let stopped = false;
  let writing: Promise<void> | undefined;
  const refreshToken = async (): Promise<void> => {
    const token = await deps.requestToken(request.namespace, request.serviceAccount, {
      audiences: [view.token.audience],
      expirationSeconds: view.token.expirationSeconds,
      boundObjectRef: { kind: "Pod", apiVersion: "v1", name: pod.name, uid: pod.uid },
    });
    if (stopped) return;
    writing = writeTokenFile(tokenFile, token);
    await writing;
  };
  try {
    await refreshToken();
    await writeFile(bundleFile, await trustBundle(deps.caFile), { mode: 0o644 });
  } catch (error) {
    await rm(runDir, { recursive: true, force: true });
    throw error;
  }

  let timer: NodeJS.Timeout | undefined;
  const schedule = (seconds: number) => {
    timer = setTimeout(() => {
      refreshToken().then(
        () => {
          if (!stopped) schedule(refreshDelaySeconds(view.token.expirationSeconds));
        },
        (error: unknown) => {
          if (stopped) return;
          deps.warn(
            `could not refresh the service-account token: ${(error as Error).message}; retrying in ${RETRY_SECONDS} s`,
          );
          schedule(RETRY_SECONDS);
        },
      );
    }, seconds * 1000);
    timer.unref();
  };
  schedule(refreshDelaySeconds(view.token.expirationSeconds));

  // A proxy of the user's, in the environment or given with --env, is left alone.
  const userProxy = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"].some(
    (name) => request.env[name] || process.env[name],
  );
  const proxy: AuthorityProxy | undefined =
    deps.authorityProxyTarget && !userProxy
      ? await startAuthorityProxy(deps.authorityProxyTarget, deps.localNames)
      : undefined;
  // wikit's names must go through the proxy (it resolves them), whatever the user's NO_PROXY says.
  const noProxy = withoutLocalNames(process.env.NO_PROXY ?? process.env.no_proxy ?? "", deps.localNames);
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_EXTRA_CA_CERTS: deps.caFile,
    REQUESTS_CA_BUNDLE: bundleFile,
    SSL_CERT_FILE: bundleFile,
    ...(proxy
      ? { HTTPS_PROXY: proxy.url, https_proxy: proxy.url, NO_PROXY: noProxy, no_proxy: noProxy }
      : {}),
    ...view.env,
    ...request.env,
    [AZURE_FEDERATED_TOKEN_FILE]: tokenFile,
  };
  const child = spawn(request.command, request.args, { stdio: "inherit", env: childEnv });
  const forward = (signal: NodeJS.Signals) => {
    if (!(process.stdin.isTTY && TERMINAL_SIGNALS.includes(signal))) child.kill(signal);
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  try {
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve, reject) => {
        child.once("error", (error) =>
          reject(
            new LocalRunError(
              `cannot start '${request.command}': ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "command not found" : error.message}`,
            ),
          ),
        );
        child.once("exit", (exitCode, exitSignal) => resolve({ code: exitCode, signal: exitSignal }));
      },
    );
    if (signal) return 128 + (osConstants.signals[signal] ?? 0);
    return code ?? 1;
  } finally {
    stopped = true;
    clearTimeout(timer);
    await proxy?.close();
    for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
    await writing?.catch(() => {});
    if (existsSync(runDir)) await rm(runDir, { recursive: true, force: true });
  }
}

/**
 * The user's NO_PROXY minus entries that would let wikit's names bypass the proxy (it is what resolves
 * them): `localhost`, `.localhost`, `*.vault.localhost`… all go.
 */
export function withoutLocalNames(noProxy: string, localNames: readonly string[]): string {
  const coversLocalName = (entry: string) => {
    const suffix = entry.replace(/^\*/, "").toLowerCase();
    return localNames.some((name) =>
      suffix.startsWith(".")
        ? `.${name.replace(/^\./, "")}`.endsWith(suffix)
        : name.replace(/^\./, "") === suffix,
    );
  };
  return noProxy
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry && !coversLocalName(entry))
    .join(",");
}
