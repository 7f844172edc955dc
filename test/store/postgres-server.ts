// A private PostgreSQL server for tests: Debian's initdb and pg_ctl in a temporary directory, listening on
// 127.0.0.1 and a free port, trust authentication for one test user. As root, the server runs as `postgres`
// (PostgreSQL refuses to run as root). Tests fail, never skip, where PostgreSQL is missing: CI installs it.
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

const DEBIAN_POSTGRESQL = "/usr/lib/postgresql";
const TEST_USER = "wikit_test";

/** The newest PostgreSQL under /usr/lib/postgresql/<version>/bin that has initdb and pg_ctl. */
function postgresBinDir(): string {
  const versions = existsSync(DEBIAN_POSTGRESQL)
    ? readdirSync(DEBIAN_POSTGRESQL)
        .filter((version) => existsSync(join(DEBIAN_POSTGRESQL, version, "bin", "pg_ctl")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) {
    throw new Error(
      `no PostgreSQL server under ${DEBIAN_POSTGRESQL}/<version>/bin: install Debian's postgresql package (.ci/run does)`,
    );
  }
  return join(DEBIAN_POSTGRESQL, newest, "bin");
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

export class PostgresTestServer {
  readonly port: number;
  readonly #bin: string;
  readonly #dir: string;
  readonly #asPostgres: boolean;
  #running = false;
  #databases = 0;

  private constructor(bin: string, dir: string, port: number) {
    this.#bin = bin;
    this.#dir = dir;
    this.port = port;
    this.#asPostgres = process.getuid?.() === 0;
  }

  /** Initialises a cluster in a new temporary directory and starts it. */
  static async start(): Promise<PostgresTestServer> {
    const bin = postgresBinDir();
    const dir = mkdtempSync(join(tmpdir(), "wikit-pg-"));
    const server = new PostgresTestServer(bin, dir, await freePort());
    try {
      if (server.#asPostgres) {
        const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
        const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
        chownSync(dir, uid, gid);
      }
      server.#run("initdb", [
        "--pgdata",
        server.#dataDir,
        "--username",
        TEST_USER,
        "--auth",
        "trust",
        "--encoding",
        "UTF8",
        "--no-sync",
      ]);
      server.#stopOnExit();
      await server.startAgain();
      return server;
    } catch (error) {
      await server.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  get #dataDir(): string {
    return join(this.#dir, "data");
  }

  #run(program: string, args: string[]): string {
    const path = join(this.#bin, program);
    const [command, commandArgs] = this.#asPostgres
      ? ["runuser", ["-u", "postgres", "--", path, ...args]]
      : [path, args];
    return execFileSync(command, commandArgs, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  }

  /** Starts the server (again, after `stop`) on the same port and data directory. */
  async startAgain(): Promise<void> {
    // fsync off: a test server need not survive a power cut, and flushing every database made per test slows
    // each checkpoint (a restart) to seconds. Commits still wait for the server, as in production.
    const options = `-c listen_addresses=127.0.0.1 -c fsync=off -p ${this.port} -k ${this.#dir}`;
    this.#run("pg_ctl", [
      "start",
      "--pgdata",
      this.#dataDir,
      "--wait",
      "--timeout",
      "60",
      "--log",
      join(this.#dir, "server.log"),
      "-o",
      options,
    ]);
    this.#running = true;
  }

  /** Stops the server, ending its connections (fast shutdown); the data stays for `startAgain`. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#run("pg_ctl", ["stop", "--pgdata", this.#dataDir, "--wait", "--mode", "fast"]);
    this.#running = false;
  }

  /** Stops the server and removes its directory. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  /** What the server has logged so far: every error it answered a client with is there. */
  log(): string {
    return readFileSync(join(this.#dir, "server.log"), "utf8");
  }

  url(database = "postgres", password?: string): string {
    const credentials = password === undefined ? TEST_USER : `${TEST_USER}:${encodeURIComponent(password)}`;
    return `postgres://${credentials}@127.0.0.1:${this.port}/${database}`;
  }

  /** A new empty database on this server, as its URL: one per test keeps tests apart. */
  async createDatabase(): Promise<string> {
    this.#databases += 1;
    const name = `wikit_${this.#databases}`;
    const admin = new pg.Client({ connectionString: this.url() });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    return this.url(name);
  }

  /** Should the test process die without its `after` hooks, the server must not outlive it. */
  #stopOnExit(): void {
    process.once("exit", () => {
      if (!this.#running) return;
      try {
        this.#run("pg_ctl", ["stop", "--pgdata", this.#dataDir, "--mode", "immediate"]);
        rmSync(this.#dir, { recursive: true, force: true });
      } catch {
        // Best effort while exiting.
      }
    });
  }
}
