// Listing 1,000 key-values with a filter from an App Configuration store of a real `wikit up`, as a client lists
// them: `GET /kv?key=bench:*&label=prd`, then each `Link: <…>; rel="next"` until the last page (the service pages by
// 100, so one list is 10 requests), every request HMAC-signed with the store's access key. The store holds the
// 1,000 key-values under `prd` and as many under `dev`, so that the label filter has work to do.
//
// The baseline, measured in the same run: a second Fastify instance made by the same `createHttpsApp` as wikit's
// (the same TLS certificate, one log line per request at the same level, to a file as `wikit up --detach` logs),
// in its own process, answering the same URLs with wikit's own pages, recorded once: the same bytes, Link headers
// and content type, from a static table. wikit up has no hook for an extra route, so the baseline is a separate
// server rather than a route beside the store's. The client sends both the same signed requests and reads every
// body to the end without parsing it.
//
// Per server and round: closed-loop saturation (`--connections` lists in flight for `--seconds`), with the server's
// CPU time per list from /proc. Rounds alternate which server goes first; medians with their spread.
//
//   node bench/appconfig.ts [--rounds 5] [--seconds 5] [--connections 8] [--items 1000]

import { type ChildProcess, spawn } from "node:child_process";
import { createHash, createHmac, randomUUID } from "node:crypto";
import { closeSync, openSync, readFileSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import * as https from "node:https";
import { join } from "node:path";
import { WikitClient } from "../src/cli/wikit-client.ts";
import { readServerInfo, type ServerInfo } from "../src/server/data-dir.ts";
import { createHttpsApp } from "../src/server/https-app.ts";
import { newDataDir, wikitJson, wikitOk } from "../test/compat/local-stack.ts";
import { closedLoop, median, option, percentile, type Sample } from "./load.ts";

const LIST_PATH = "/kv?key=bench:*&label=prd&api-version=1.0";
const GROUP = "rg-bench";
const KV_JSON = "application/vnd.microsoft.appconfig.kv+json";

interface RecordedPage {
  status: number;
  contentType: string;
  link?: string;
  body: string;
}

// ---- The baseline server (a child process) ---------------------------------------------------------------

/** Serves the recorded pages by URL from a Fastify app made as wikit's; reports its port over IPC. */
async function serveBaseline(dataDir: string, pagesFile: string): Promise<void> {
  const pages = new Map(
    Object.entries(JSON.parse(readFileSync(pagesFile, "utf8")) as Record<string, RecordedPage>),
  );
  const app = createHttpsApp({
    tls: {
      keyPem: readFileSync(join(dataDir, "tls.key"), "utf8"),
      certPem: readFileSync(join(dataDir, "tls.crt"), "utf8"),
    },
    logLevel: "info",
  });
  app.get("/kv", async (request, reply) => {
    const page = pages.get(request.url);
    if (!page) return reply.code(404).send();
    if (page.link) reply.header("link", page.link);
    return reply.code(page.status).type(page.contentType).send(page.body);
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  process.send?.({ port: typeof address === "object" && address ? address.port : 0 });
  process.on("disconnect", () => {
    void app.close().then(() => process.exit(0));
  });
}

// ---- Client ----------------------------------------------------------------------------------------------

interface Target {
  port: number;
  /** The Host header: the store's name under the App Configuration domain. */
  host: string;
  ca: string;
  key: { id: string; secret: Buffer };
}

function signedHeaders(target: Target, method: string, pathAndQuery: string, body: string) {
  const contentHash = createHash("sha256").update(body).digest("base64");
  const date = new Date().toUTCString();
  const signature = createHmac("sha256", target.key.secret)
    .update(`${method}\n${pathAndQuery}\n${date};${target.host};${contentHash}`)
    .digest("base64");
  return {
    host: target.host,
    "x-ms-date": date,
    "x-ms-content-sha256": contentHash,
    authorization: `HMAC-SHA256 Credential=${target.key.id}&SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`,
  };
}

function send(
  target: Target,
  agent: https.Agent | undefined,
  method: string,
  pathAndQuery: string,
  body = "",
  extraHeaders: Record<string, string> = {},
): Promise<RecordedPage> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: "127.0.0.1",
        port: target.port,
        servername: "localhost",
        ca: target.ca,
        agent,
        method,
        path: pathAndQuery,
        headers: { ...signedHeaders(target, method, pathAndQuery, body), ...extraHeaders },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            contentType: String(response.headers["content-type"] ?? ""),
            link: typeof response.headers.link === "string" ? response.headers.link : undefined,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/** The URL of the next page from a `Link: <…>; rel="next"` header. */
const nextOf = (link: string | undefined) => (link ? /^<([^>]+)>;\s*rel="next"/.exec(link)?.[1] : undefined);

/** One whole list, page after page; resolves whether every page came back 200. */
async function listAll(target: Target, agent: https.Agent): Promise<boolean> {
  try {
    for (let path: string | undefined = LIST_PATH; path; ) {
      const page = await send(target, agent, "GET", path);
      if (page.status !== 200) return false;
      path = nextOf(page.link);
    }
    return true;
  } catch {
    return false;
  }
}

/** The pages of one list from wikit, by URL, as the baseline will serve them. */
async function recordPages(target: Target): Promise<Record<string, RecordedPage>> {
  const pages: Record<string, RecordedPage> = {};
  for (let path: string | undefined = LIST_PATH; path; ) {
    const page = await send(target, undefined, "GET", path);
    if (page.status !== 200) throw new Error(`GET ${path}: ${page.status} ${page.body}`);
    pages[path] = page;
    path = nextOf(page.link);
  }
  return pages;
}

/** CPU time of a process so far, in µs, from /proc (user + system clock ticks of 10 ms). */
function processCpuMicroseconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

interface Round {
  sample: Sample;
  /** Server CPU per list, µs. */
  cpuPerList: number;
}

async function measure(
  target: Target,
  pid: number,
  { seconds, connections }: { seconds: number; connections: number },
): Promise<Round> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: connections });
  let cpuBefore = 0;
  const sample = await closedLoop(
    agent,
    () => listAll(target, agent),
    { connections, seconds, warmup: connections * 5 },
    async () => {
      cpuBefore = processCpuMicroseconds(pid);
    },
  );
  return { sample, cpuPerList: (processCpuMicroseconds(pid) - cpuBefore) / sample.ok };
}

async function seed(target: Target, items: number): Promise<void> {
  const writes: { key: string; label: string }[] = [];
  for (let index = 0; index < items; index += 1) {
    const key = `bench:setting-${String(index).padStart(5, "0")}`;
    writes.push({ key, label: "prd" }, { key, label: "dev" });
  }
  const agent = new https.Agent({ keepAlive: true, maxSockets: 8 });
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let write = writes.shift(); write; write = writes.shift()) {
        const body = JSON.stringify({
          value: `${write.label} value of ${write.key}: ${randomUUID()}`,
          content_type: "text/plain",
          tags: { team: "bench" },
        });
        const path = `/kv/${encodeURIComponent(write.key)}?label=${write.label}&api-version=1.0`;
        const answer = await send(target, agent, "PUT", path, body, { "content-type": KV_JSON });
        if (answer.status !== 200) throw new Error(`PUT ${path}: ${answer.status} ${answer.body}`);
      }
    }),
  );
  agent.destroy();
}

async function startBaseline(
  dataDir: string,
  pagesFile: string,
): Promise<{ child: ChildProcess; port: number }> {
  const log = openSync(join(dataDir, "baseline.log"), "a", 0o600);
  const child = spawn(
    process.execPath,
    [new URL(import.meta.url).pathname, "--serve-baseline", "--data-dir", dataDir, "--pages", pagesFile],
    { stdio: ["ignore", log, log, "ipc"] },
  );
  closeSync(log);
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (message) => resolve((message as { port: number }).port));
    child.once("exit", (code) => reject(new Error(`the baseline exited with ${code}; see baseline.log`)));
  });
  return { child, port };
}

async function main(): Promise<void> {
  const rounds = option("rounds", 5);
  const measureOptions = { seconds: option("seconds", 5), connections: option("connections", 8) };
  const items = option("items", 1000);
  const dataDir = newDataDir();
  let baseline: ChildProcess | undefined;
  try {
    wikitOk(dataDir, ["up", "--port", "0", "--detach"]);
    const info = (await readServerInfo(dataDir)) as ServerInfo;
    const admin = await WikitClient.connect(dataDir);
    wikitJson(dataDir, ["group", "create", "--name", GROUP]);
    const storePath = `/subscriptions/${info.subscriptionId}/resourceGroups/${GROUP}/providers/Microsoft.AppConfiguration/configurationStores/bench-${randomUUID().slice(0, 8)}`;
    const created = await admin.request("PUT", `${storePath}?api-version=2024-05-01`, {
      location: "local",
      sku: { name: "standard" },
      properties: {},
    });
    if (created.status >= 300) throw new Error(`creating the store: ${JSON.stringify(created.body)}`);
    const store = created.body as { id: string; properties: { endpoint: string } };
    const keys = (await admin.request("POST", `${store.id}/listKeys?api-version=2024-05-01`)).body as {
      value: { id: string; name: string; value: string }[];
    };
    const primary = keys.value.find((key) => key.name === "Primary");
    if (!primary) throw new Error(`listKeys gave no Primary key: ${JSON.stringify(keys)}`);
    const ca = readFileSync(info.caFile, "utf8");
    const wikit: Target = {
      port: info.port,
      host: new URL(store.properties.endpoint).host,
      ca,
      key: { id: primary.id, secret: Buffer.from(primary.value, "base64") },
    };
    await seed(wikit, items);

    const pages = await recordPages(wikit);
    const listed = Object.values(pages).reduce(
      (sum, page) => sum + (JSON.parse(page.body) as { items: unknown[] }).items.length,
      0,
    );
    if (listed !== items) throw new Error(`the filter listed ${listed} key-values, not ${items}`);
    const bytes = Object.values(pages).reduce((sum, page) => sum + Buffer.byteLength(page.body), 0);
    const pagesFile = join(dataDir, "baseline-pages.json");
    await writeFile(pagesFile, JSON.stringify(pages));
    const started = await startBaseline(dataDir, pagesFile);
    baseline = started.child;
    const servers = {
      wikit: { target: wikit, pid: info.pid },
      baseline: { target: { ...wikit, port: started.port }, pid: started.child.pid as number },
    };
    console.log(
      `one list: ${Object.keys(pages).length} requests, ${listed} key-values, ${bytes} bytes of JSON; ${measureOptions.connections} lists in flight for ${measureOptions.seconds} s per server and round`,
    );

    const results: Record<"wikit" | "baseline", Round>[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const order = round % 2 === 0 ? (["baseline", "wikit"] as const) : (["wikit", "baseline"] as const);
      const result: Partial<Record<"wikit" | "baseline", Round>> = {};
      for (const name of order) {
        result[name] = await measure(servers[name].target, servers[name].pid, measureOptions);
      }
      const complete = result as Record<"wikit" | "baseline", Round>;
      results.push(complete);
      const line = (r: Round) =>
        `${(r.sample.ok / r.sample.seconds).toFixed(1)} lists/s (${r.sample.failed} failed), ${(r.cpuPerList / 1000).toFixed(1)} ms server CPU/list`;
      console.error(`round ${round + 1}: baseline ${line(complete.baseline)}; wikit ${line(complete.wikit)}`);
    }

    const perSecond = (r: Round) => r.sample.ok / r.sample.seconds;
    const pageCount = Object.keys(pages).length;
    for (const name of ["baseline", "wikit"] as const) {
      const picked = results.map((result) => result[name]);
      const rates = picked.map(perSecond);
      console.log(
        `${name.padEnd(8)}  ${median(rates).toFixed(1)} lists/s (${Math.min(...rates).toFixed(1)}–${Math.max(...rates).toFixed(1)}), ` +
          `${(median(rates) * pageCount).toFixed(0)} requests/s, list p50 ${median(picked.map((r) => percentile(r.sample.latenciesMs, 50))).toFixed(1)} ms, ` +
          `p99 ${median(picked.map((r) => percentile(r.sample.latenciesMs, 99))).toFixed(1)} ms, ` +
          `server CPU ${(median(picked.map((r) => r.cpuPerList)) / 1000).toFixed(1)} ms/list, failed ${picked.reduce((sum, r) => sum + r.sample.failed, 0)}`,
      );
    }
    const ratios = results.map((result) => perSecond(result.wikit) / perSecond(result.baseline));
    const ratio = median(ratios);
    console.log(
      `\nwikit / baseline: ${ratio.toFixed(2)}× (rounds: ${ratios.map((r) => r.toFixed(2)).join(", ")}; target ≥ 0.5×) ${ratio >= 0.5 ? "met" : "NOT met"}`,
    );
  } finally {
    baseline?.disconnect();
    wikitOk(dataDir, ["down"]);
    await rm(dataDir, { recursive: true, force: true });
  }
}

// ---- Entry: the baseline server when started as one, else the benchmark -----------------------------------

if (process.argv.includes("--serve-baseline")) {
  const argument = (name: string) => process.argv[process.argv.indexOf(name) + 1] ?? "";
  await serveBaseline(argument("--data-dir"), argument("--pages"));
} else {
  await main();
}
