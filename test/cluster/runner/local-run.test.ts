// `wikit run` (runAsPod) with fake cluster deps and real child processes (`node -e …`): the child sees the env
// the webhook would inject, the projected token file and wikit's CA; `--env` wins; exit codes and signals pass
// through; the token is refreshed at 80 % of its lifetime (node:test mock timers); the run directory goes away;
// the authority proxy is offered unless the user has a proxy of their own. Children report through files,
// never stdout, which belongs to the test runner.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { type AddressInfo, connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, mock, test } from "node:test";
import {
  type LocalRunDeps,
  LocalRunError,
  runAsPod,
  withoutLocalNames,
} from "../../../src/cluster/runner/local-run.ts";
import { CLIENT_ID_ANNOTATION, TOKEN_EXPIRATION_ANNOTATION } from "../../../src/cluster/webhook/constants.ts";
import type { ServiceAccountLike } from "../../../src/cluster/webhook/pod-facts.ts";
import { createCertificateAuthority } from "../../../src/pki/certificates.ts";
import { eventually } from "../../eventually.ts";

const CLIENT_ID = "5a1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const TENANT_ID = "11111111-2222-3333-4444-555555555555";
const AUTHORITY_HOST = "https://localhost:8443/";
const PROXY_VARIABLES = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"];
const WAIT_MS = 10_000;
/** Captured before any test mocks timers, so that bounded waits keep real time. */
const realSetTimeout = globalThis.setTimeout;

const sleep = (ms: number) => new Promise<void>((resolve) => realSetTimeout(resolve, ms));

/** Polls `condition` every 10 ms of real time, failing after WAIT_MS. */
const waitFor = (condition: () => boolean, what: string) =>
  eventually(condition, { timeoutMs: WAIT_MS, intervalMs: 10, what });

/** `node -e <script> <out>`: the child writes what it saw to `out` (a JSON report). */
const REPORT_SCRIPT = `
const fs = require("node:fs");
const file = process.env.AZURE_FEDERATED_TOKEN_FILE;
const bundlePath = process.env.REQUESTS_CA_BUNDLE;
fs.writeFileSync(process.argv[1], JSON.stringify({
  env: process.env,
  token: fs.readFileSync(file, "utf8"),
  tokenMode: fs.statSync(file).mode & 0o777,
  bundle: bundlePath && fs.existsSync(bundlePath) ? fs.readFileSync(bundlePath, "utf8") : null,
}));
`;

interface Report {
  env: Record<string, string | undefined>;
  token: string;
  tokenMode: number;
  bundle: string | null;
}

interface TokenCall {
  namespace: string;
  name: string;
  spec: Parameters<LocalRunDeps["requestToken"]>[2];
}

interface Harness {
  deps: LocalRunDeps;
  calls: TokenCall[];
  warnings: string[];
}

describe("runAsPod", { timeout: 120_000 }, () => {
  let root: string;
  let caFile: string;
  let caPem: string;
  let runsDir: string;
  let out: string;
  const savedEnv: Record<string, string | undefined> = {};

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "wikit-run-"));
    caPem = (await createCertificateAuthority("wikit run test CA", 1)).certPem;
    caFile = join(root, "ca.pem");
    await writeFile(caFile, caPem);
    for (const name of PROXY_VARIABLES) savedEnv[name] = process.env[name];
  });
  after(() => rm(root, { recursive: true, force: true }));

  let testCount = 0;
  beforeEach(async () => {
    testCount += 1;
    runsDir = join(root, `runs-${testCount}`);
    out = join(root, `report-${testCount}.json`);
    await mkdir(runsDir);
    for (const name of PROXY_VARIABLES) delete process.env[name];
  });
  afterEach(() => {
    for (const name of PROXY_VARIABLES) {
      const saved = savedEnv[name];
      if (saved === undefined) delete process.env[name];
      else process.env[name] = saved;
    }
  });

  function serviceAccount(annotations: Record<string, string> = {}): ServiceAccountLike {
    return { metadata: { name: "api", annotations: { [CLIENT_ID_ANNOTATION]: CLIENT_ID, ...annotations } } };
  }

  /** Fake cluster deps: every token request returns `token-<n>` (n counts requests), unless `requestToken` is given. */
  function harness(overrides: Partial<LocalRunDeps> = {}, account = serviceAccount()): Harness {
    const calls: TokenCall[] = [];
    const warnings: string[] = [];
    const requestToken = overrides.requestToken;
    const deps: LocalRunDeps = {
      getServiceAccount: async (_namespace, name) => (name === "api" ? account : undefined),
      mutation: { tenantId: TENANT_ID, authorityHost: AUTHORITY_HOST },
      caFile,
      runsDir,
      localNames: ["localhost", ".vault.localhost"],
      warn: (message) => warnings.push(message),
      ...overrides,
      requestToken: async (namespace, name, spec) => {
        calls.push({ namespace, name, spec });
        return requestToken ? requestToken(namespace, name, spec) : `token-${calls.length}`;
      },
    };
    return { deps, calls, warnings };
  }

  const nodeScript = (script: string, ...args: string[]) => ({
    command: process.execPath,
    args: ["-e", script, ...args],
  });

  function run(
    deps: LocalRunDeps,
    child: { command: string; args: string[] },
    env: Record<string, string> = {},
    serviceAccountName = "api",
  ) {
    return runAsPod({ namespace: "payments", serviceAccount: serviceAccountName, env, ...child }, deps);
  }

  const readReport = async (): Promise<Report> => JSON.parse(await readFile(out, "utf8"));

  test("the child sees the injected AZURE_* env, the token file (0600, bare token) and wikit's CA", async () => {
    const { deps, calls } = harness();
    const code = await run(deps, nodeScript(REPORT_SCRIPT, out));
    assert.equal(code, 0);
    const report = await readReport();
    assert.equal(report.env.AZURE_CLIENT_ID, CLIENT_ID);
    assert.equal(report.env.AZURE_TENANT_ID, TENANT_ID);
    assert.equal(report.env.AZURE_AUTHORITY_HOST, AUTHORITY_HOST);
    const tokenFile = report.env.AZURE_FEDERATED_TOKEN_FILE ?? "";
    assert.match(
      tokenFile,
      new RegExp(
        `^${runsDir}/wikit-run-[0-9a-f]{6}/var/run/secrets/azure/wi/[0-9a-f]{30}/token/azure-identity-token$`,
      ),
    );
    assert.equal(report.token, "token-1");
    assert.equal(report.tokenMode, 0o600);

    assert.equal(report.env.NODE_EXTRA_CA_CERTS, caFile);
    const bundleFile = join(tokenFile.split("/var/run/secrets/")[0] ?? "", "ca-bundle.pem");
    assert.equal(report.env.REQUESTS_CA_BUNDLE, bundleFile);
    assert.equal(report.env.SSL_CERT_FILE, bundleFile);
    assert.ok(report.bundle?.includes(caPem.trim()), "the bundle holds wikit's CA");
    const certificates = report.bundle?.match(/-----BEGIN CERTIFICATE-----/g) ?? [];
    assert.ok(
      certificates.length > 1,
      "the bundle also holds the system roots, which it replaces for Python",
    );

    assert.equal(calls.length, 1);
    const [call] = calls;
    assert.equal(call?.namespace, "payments");
    assert.equal(call?.name, "api");
    assert.deepEqual(call?.spec.audiences, ["api://AzureADTokenExchange"]);
    assert.equal(call?.spec.expirationSeconds, 3600);
    assert.equal(call?.spec.boundObjectRef.kind, "Pod");
    assert.equal(call?.spec.boundObjectRef.apiVersion, "v1");
    assert.match(call?.spec.boundObjectRef.name ?? "", /^wikit-run-[0-9a-f]{6}$/);
    assert.ok(
      tokenFile.includes(`/${call?.spec.boundObjectRef.name}/`),
      "the run directory is named for the pod",
    );
    assert.match(call?.spec.boundObjectRef.uid ?? "", /^[0-9a-f-]{36}$/);
  });

  test("the run directory is removed afterwards", async () => {
    const { deps } = harness();
    assert.equal(await run(deps, nodeScript(REPORT_SCRIPT, out)), 0);
    const tokenFile = (await readReport()).env.AZURE_FEDERATED_TOKEN_FILE ?? "";
    assert.equal(existsSync(tokenFile), false);
    assert.deepEqual(await readdir(runsDir), []);
  });

  test("the service account's expiration annotation sets the requested token lifetime", async () => {
    const { deps, calls } = harness({}, serviceAccount({ [TOKEN_EXPIRATION_ANNOTATION]: "86400" }));
    assert.equal(await run(deps, nodeScript("")), 0);
    assert.equal(calls[0]?.spec.expirationSeconds, 86400);
  });

  test("--env values win over injected ones and reach the child", async () => {
    const { deps } = harness();
    const code = await run(deps, nodeScript(REPORT_SCRIPT, out), {
      AZURE_CLIENT_ID: "from-env",
      AZURE_AUTHORITY_HOST: "https://sts.example.test/",
      NODE_EXTRA_CA_CERTS: caFile,
      LOG_LEVEL: "debug",
    });
    assert.equal(code, 0);
    const { env } = await readReport();
    assert.equal(env.AZURE_CLIENT_ID, "from-env");
    assert.equal(env.AZURE_AUTHORITY_HOST, "https://sts.example.test/");
    assert.equal(env.LOG_LEVEL, "debug");
    assert.equal(env.AZURE_TENANT_ID, TENANT_ID);
  });

  test("the child's exit code is returned (exit 7 → 7)", async () => {
    const { deps } = harness();
    assert.equal(await run(deps, nodeScript("process.exit(7)")), 7);
  });

  for (const [signal, number] of [
    ["SIGKILL", 9],
    ["SIGTERM", 15],
  ] as const) {
    test(`a child killed by ${signal} gives 128 + ${number}`, async () => {
      const { deps } = harness();
      assert.equal(await run(deps, nodeScript(`process.kill(process.pid, "${signal}")`)), 128 + number);
    });
  }

  test("a missing service account is refused with a hint naming `wikit serviceaccount create`", async () => {
    const { deps, calls } = harness();
    await assert.rejects(run(deps, nodeScript(REPORT_SCRIPT, out), {}, "missing"), (error: Error) => {
      assert.ok(error instanceof LocalRunError, String(error));
      assert.match(error.message, /serviceaccounts "missing" not found/);
      assert.match(
        error.message,
        /wikit serviceaccount create phase service-account --namespace payments --name missing --client-id <client-id>/,
      );
      return true;
    });
    assert.equal(calls.length, 0, "no token is requested");
    assert.equal(existsSync(out), false, "nothing was run");
    assert.deepEqual(await readdir(runsDir), []);
  });

  test("a pod the webhook denies for another reason is refused without the create hint", async () => {
    const { deps } = harness({}, serviceAccount({ [TOKEN_EXPIRATION_ANNOTATION]: "60" }));
    await assert.rejects(run(deps, nodeScript("")), (error: Error) => {
      assert.ok(error instanceof LocalRunError);
      assert.match(error.message, /^the webhook would deny this pod: token expiration 60 not valid/);
      assert.doesNotMatch(error.message, /serviceaccount create/);
      return true;
    });
  });

  test("AZURE_FEDERATED_TOKEN_FILE given with --env is refused with a LocalRunError that says why", async () => {
    const { deps } = harness();
    await assert.rejects(
      run(deps, nodeScript(""), { AZURE_FEDERATED_TOKEN_FILE: "/tmp/mine" }),
      (error: Error) => {
        assert.ok(error instanceof LocalRunError, String(error));
        assert.match(error.message, /wikit run provides the token file/);
        return true;
      },
    );
  });

  test("a command that does not exist is a LocalRunError, and the run directory is still removed", async () => {
    const { deps } = harness();
    await assert.rejects(
      run(deps, { command: join(root, "no-such-command"), args: [] }),
      (error: Error) => error instanceof LocalRunError && /command not found/.test(error.message),
    );
    assert.deepEqual(await readdir(runsDir), []);
  });

  test("a CA file that cannot be read fails the run and leaves no token behind", async () => {
    const { deps } = harness({ caFile: join(root, "missing-ca.pem") });
    await assert.rejects(run(deps, nodeScript("")), { code: "ENOENT" });
    assert.deepEqual(await readdir(runsDir), []);
  });

  describe("token refresh", () => {
    /** Child: records the token, then waits (bounded) for `token-<last>` and reports every token it saw. */
    const watchScript = (last: number) => `
const fs = require("node:fs");
const file = process.env.AZURE_FEDERATED_TOKEN_FILE;
const seen = [fs.readFileSync(file, "utf8")];
fs.writeFileSync(process.argv[1] + ".started", seen[0]);
const deadline = Date.now() + ${WAIT_MS};
(function poll() {
  const token = fs.readFileSync(file, "utf8");
  if (token !== seen.at(-1)) seen.push(token);
  if (token === "token-${last}") { fs.writeFileSync(process.argv[1], JSON.stringify(seen)); process.exit(0); }
  if (Date.now() > deadline) process.exit(3);
  setTimeout(poll, 10);
})();
`;

    test("at 80 % of the lifetime, and a failed refresh is retried in 10 s while the child keeps its token", async () => {
      mock.timers.enable({ apis: ["setTimeout"] });
      const scheduled = mock.method(globalThis, "setTimeout");
      try {
        const delays = () => scheduled.mock.calls.map((call) => call.arguments[1]);
        const { deps, calls, warnings } = harness({
          requestToken: async (_namespace, _name, _spec) => {
            if (calls.length === 2) throw new Error("the API server is unavailable");
            return `token-${calls.length}`;
          },
        });
        const running = run(deps, nodeScript(watchScript(3), out));
        await waitFor(() => existsSync(`${out}.started`), "the child to start");
        assert.equal(calls.length, 1);
        assert.deepEqual(delays(), [2880 * 1000], "3600 s token → refreshed after 2880 s");

        mock.timers.tick(2880 * 1000 - 1);
        assert.equal(calls.length, 1, "not refreshed before 80 % of the lifetime");
        mock.timers.tick(1);
        assert.equal(calls.length, 2, "refreshed at 80 % of the lifetime");
        await waitFor(() => delays().length === 2, "the retry to be scheduled");
        assert.deepEqual(warnings, [
          "could not refresh the service-account token: the API server is unavailable; retrying in 10 s",
        ]);
        assert.equal(delays()[1], 10 * 1000);

        mock.timers.tick(10 * 1000 - 1);
        assert.equal(calls.length, 2);
        mock.timers.tick(1);
        assert.equal(calls.length, 3, "retried after 10 s");
        assert.equal(await running, 0);
        assert.deepEqual(JSON.parse(await readFile(out, "utf8")), ["token-1", "token-3"]);
        await waitFor(() => delays().length === 3, "the next refresh to be scheduled");
        assert.equal(delays()[2], 2880 * 1000, "after a success the next refresh is again at 80 %");
        for (const call of calls)
          assert.deepEqual(call.spec, calls[0]?.spec, "every token is bound to the same pod");
        assert.deepEqual(await readdir(runsDir), []);
      } finally {
        scheduled.mock.restore();
        mock.timers.reset();
      }
    });

    test("a refresh still in flight when the child exits does not recreate the run directory", async () => {
      mock.timers.enable({ apis: ["setTimeout"] });
      let release: ((token: string) => void) | undefined;
      try {
        const { deps, calls } = harness({
          requestToken: (_namespace, _name, _spec) =>
            calls.length === 1
              ? Promise.resolve("token-1")
              : new Promise<string>((resolve) => {
                  release = resolve;
                }),
        });
        const gate = join(root, `gate-${testCount}`);
        const script = `
const fs = require("node:fs");
fs.writeFileSync(process.argv[1], "started");
const deadline = Date.now() + ${WAIT_MS};
(function wait() {
  if (fs.existsSync(process.argv[2]) || Date.now() > deadline) process.exit(0);
  setTimeout(wait, 10);
})();
`;
        const running = run(deps, nodeScript(script, out, gate));
        await waitFor(() => existsSync(out), "the child to start");
        mock.timers.tick(2880 * 1000);
        assert.equal(calls.length, 2, "the refresh is in flight");
        await writeFile(gate, "");
        assert.equal(await running, 0);
        assert.deepEqual(await readdir(runsDir), []);
        release?.("token-2");
        // The late token must not be written: give a stale write ample (bounded) time to show up.
        for (let turn = 0; turn < 20; turn++) {
          await sleep(10);
          assert.deepEqual(await readdir(runsDir), [], "the run directory came back with a stale token");
        }
      } finally {
        mock.timers.reset();
      }
    });
  });

  describe("authority proxy", () => {
    let target: Server;
    let targetPort: number;
    before(async () => {
      target = createServer((socket) => {
        socket.on("error", () => {});
        socket.end("wikit-greeting");
      });
      target.listen(0, "127.0.0.1");
      await once(target, "listening");
      targetPort = (target.address() as AddressInfo).port;
    });
    after(() => new Promise<void>((resolve) => target.close(() => resolve())));

    /** Child: tunnels to the authority given as its second argument through HTTPS_PROXY, reports what answered. */
    const PROXY_SCRIPT = `
const fs = require("node:fs");
const http = require("node:http");
const proxy = new URL(process.env.HTTPS_PROXY);
const request = http.request({ host: proxy.hostname, port: proxy.port, method: "CONNECT", path: process.argv[2] });
request.on("connect", (response, socket, head) => {
  let data = head.toString();
  socket.on("data", (chunk) => { data += chunk; });
  socket.on("end", () => {
    fs.writeFileSync(process.argv[1], JSON.stringify({ env: process.env, status: response.statusCode, data }));
    process.exit(0);
  });
});
request.on("error", (error) => { fs.writeFileSync(process.argv[1], JSON.stringify({ error: error.message })); process.exit(2); });
request.end();
`;

    test("without a proxy of the user's, the child gets HTTPS_PROXY tunnelling the authority hosts to wikit", async () => {
      // wikit's names must go through the proxy: they are taken out of the user's NO_PROXY.
      process.env.NO_PROXY =
        "corp.example, localhost,vault.localhost,.vault.localhost,.localhost,*.vault.localhost,10.0.0.0/8";
      const { deps } = harness({ authorityProxyTarget: { host: "127.0.0.1", port: targetPort } });
      assert.equal(await run(deps, nodeScript(PROXY_SCRIPT, out, "login.microsoftonline.com:443")), 0);
      const report = JSON.parse(await readFile(out, "utf8"));
      assert.equal(report.status, 200, JSON.stringify(report));
      assert.equal(report.data, "wikit-greeting");
      assert.match(report.env.HTTPS_PROXY, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(report.env.https_proxy, report.env.HTTPS_PROXY);
      assert.equal(report.env.NO_PROXY, "corp.example,10.0.0.0/8");
      assert.equal(report.env.no_proxy, report.env.NO_PROXY);
      // The proxy lives only as long as the run.
      const probe = connect(Number(new URL(report.env.HTTPS_PROXY).port), "127.0.0.1");
      const [error] = (await once(probe, "error")) as [NodeJS.ErrnoException];
      assert.equal(error.code, "ECONNREFUSED");
    });

    test("wikit's own names reach wikit through the proxy, on the port they name", async () => {
      // `.test` names resolve nowhere, and the target's port is 1 (nothing there): only the proxy routing the
      // name to wikit's host, on the name's own port, reaches the test server.
      const { deps } = harness({
        authorityProxyTarget: { host: "127.0.0.1", port: 1 },
        localNames: [".vault.wikit.test"],
      });
      assert.equal(await run(deps, nodeScript(PROXY_SCRIPT, out, `kv1.vault.wikit.test:${targetPort}`)), 0);
      const report = JSON.parse(await readFile(out, "utf8"));
      assert.equal(report.status, 200, JSON.stringify(report));
      assert.equal(report.data, "wikit-greeting");
    });

    for (const name of ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"]) {
      test(`a user-set ${name} leaves the proxy off and the proxy variables untouched`, async () => {
        process.env[name] = "http://proxy.corp.example:3128";
        const { deps } = harness({ authorityProxyTarget: { host: "127.0.0.1", port: targetPort } });
        assert.equal(await run(deps, nodeScript(REPORT_SCRIPT, out)), 0);
        const { env } = await readReport();
        for (const variable of PROXY_VARIABLES) {
          assert.equal(
            env[variable],
            variable === name ? "http://proxy.corp.example:3128" : undefined,
            variable,
          );
        }
      });
    }

    test("a proxy given with --env also leaves the authority proxy off", async () => {
      const { deps } = harness({ authorityProxyTarget: { host: "127.0.0.1", port: targetPort } });
      const code = await run(deps, nodeScript(REPORT_SCRIPT, out), {
        HTTPS_PROXY: "http://proxy.corp.example:3128",
      });
      assert.equal(code, 0);
      const { env } = await readReport();
      assert.equal(env.HTTPS_PROXY, "http://proxy.corp.example:3128");
      assert.equal(env.https_proxy, undefined, "no lower-case variable pointing elsewhere");
      assert.equal(env.NO_PROXY, undefined);
    });

    test("without a target the child's proxy settings are left alone", async () => {
      const { deps } = harness();
      assert.equal(await run(deps, nodeScript(REPORT_SCRIPT, out)), 0);
      const { env } = await readReport();
      for (const variable of PROXY_VARIABLES) assert.equal(env[variable], undefined, variable);
    });
  });

  describe("signals", () => {
    /** Child: says it is ready, then on SIGTERM/SIGINT says so and exits 42; gives up (exit 9) after WAIT_MS. */
    const SIGNAL_SCRIPT = `
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => { process.stdout.write("child got " + signal + "\\n"); process.exit(42); });
}
process.stdout.write("child ready\\n");
setTimeout(() => process.exit(9), ${WAIT_MS});
`;

    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      test(`${signal} sent to wikit run is forwarded to the child, whose exit code passes through`, async () => {
        const wrapper = spawn(
          process.execPath,
          [
            new URL("./run-as-pod-process.ts", import.meta.url).pathname,
            runsDir,
            caFile,
            process.execPath,
            "-e",
            SIGNAL_SCRIPT,
          ],
          { stdio: ["ignore", "pipe", "pipe"] },
        );
        let stdout = "";
        let stderr = "";
        wrapper.stdout.on("data", (chunk) => {
          stdout += chunk;
        });
        wrapper.stderr.on("data", (chunk) => {
          stderr += chunk;
        });
        const exited = once(wrapper, "exit");
        try {
          await waitFor(() => stdout.includes("child ready"), `the child to start (stderr: ${stderr})`);
          wrapper.kill(signal);
          const [code, killedBy] = (await Promise.race([
            exited,
            sleep(WAIT_MS).then(() => {
              throw new Error("wikit run did not exit");
            }),
          ])) as [number | null, NodeJS.Signals | null];
          assert.equal(killedBy, null, `wikit run itself died of ${killedBy}; stderr: ${stderr}`);
          assert.match(stdout, new RegExp(`child got ${signal}\\n`));
          assert.match(stdout, /wikit-run exit=42\n/);
          assert.equal(code, 42);
          assert.deepEqual(await readdir(runsDir), []);
        } finally {
          if (wrapper.exitCode === null && wrapper.signalCode === null) wrapper.kill("SIGKILL");
        }
      });
    }
  });
});

describe("withoutLocalNames", () => {
  const local = ["localhost", ".vault.localhost"];
  for (const [entry, kept] of [
    ["localhost", false],
    [".localhost", false],
    ["*.localhost", false],
    [".vault.localhost", false],
    ["*.vault.localhost", false],
    ["vault.localhost", false],
    ["corp.example", true],
    [".example.com", true],
    ["10.0.0.0/8", true],
    ["otherlocalhost", true],
  ] as const) {
    test(`NO_PROXY entry '${entry}' is ${kept ? "kept" : "dropped"}`, () => {
      assert.equal(withoutLocalNames(`a.test, ${entry}`, local), kept ? `a.test,${entry}` : "a.test");
    });
  }
});
