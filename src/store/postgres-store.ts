import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import {
  type KeyValueRevisionRow,
  keyPrefixRange,
  keyValueRevision,
  keyValueToWrite,
  labelColumn,
} from "./key-value-rows.ts";
import { describePostgresUrl } from "./postgres-url.ts";
import type {
  ArmResource,
  CredentialUsage,
  KeyValueChange,
  KeyValueQuery,
  KeyValueRevision,
  KeyValuesVersion,
  KubeObject,
  ResourceQuery,
  SecretVersion,
  SignInQuery,
  SignInRecord,
  SignInRetention,
  Store,
  StoredKeyValue,
  StoredSigningKey,
} from "./store.ts";
import { StoreUnavailableError } from "./store-unavailable-error.ts";

export interface PostgresStoreOptions {
  /** Connections this process holds at most; N replicas hold N times this many. Default 10. */
  poolSize?: number;
  /** How long to wait for a connection before the call fails as unavailable. Default 5000. */
  connectTimeoutMs?: number;
  /** How often a transaction that lost a serialization conflict or a deadlock is tried again. Default 5. */
  conflictRetries?: number;
}

/**
 * Each migration takes the database to its `version`, in one transaction, recorded in `schema_migrations`.
 * Append only: a released migration is never edited.
 *
 * Keys are `COLLATE "C"` so that ordering and the `key > 'id/' AND key < 'id0'` subtree ranges follow byte order,
 * as in SQLite, whatever the database's locale. Bodies are `text`, so documents come back exactly as written (jsonb
 * would reorder their members); the lookups made on every token exchange parse them through expression indexes.
 */
const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE settings (key text COLLATE "C" PRIMARY KEY, value text NOT NULL);
      CREATE TABLE resources (
        key text COLLATE "C" PRIMARY KEY,   -- lower-cased ARM ID: ARM IDs compare case-insensitively
        type text COLLATE "C" NOT NULL,     -- lower-cased resource type
        body text NOT NULL                  -- the ARM document as JSON, IDs in the case they were created with
      );
      CREATE INDEX resources_by_type ON resources (type);
      CREATE INDEX resources_by_client_id ON resources (type, ((body::jsonb) -> 'properties' -> 'clientId'));
      CREATE INDEX resources_by_principal_id ON resources (type, ((body::jsonb) -> 'properties' -> 'principalId'));
      CREATE INDEX resources_by_app_id ON resources (type, ((body::jsonb) -> 'properties' -> 'appId'));
      CREATE TABLE kube_objects (
        cluster text COLLATE "C" NOT NULL,
        kind text COLLATE "C" NOT NULL,
        namespace text COLLATE "C" NOT NULL, -- '' for cluster-scoped objects
        name text COLLATE "C" NOT NULL,
        body text NOT NULL,
        PRIMARY KEY (cluster, kind, namespace, name)
      );
      -- resourceVersions of Kubernetes objects: a sequence, so that replicas never hand out the same one.
      CREATE SEQUENCE kube_resource_version;
      CREATE TABLE secret_versions (
        vault_key text COLLATE "C" NOT NULL,
        name_key text COLLATE "C" NOT NULL, -- secret names are case-insensitive in Key Vault
        version text COLLATE "C" NOT NULL,
        seq bigint GENERATED ALWAYS AS IDENTITY, -- insertion order: the highest is the latest version
        body text NOT NULL,
        PRIMARY KEY (vault_key, name_key, version)
      );
      CREATE INDEX secret_versions_by_seq ON secret_versions (vault_key, name_key, seq);
      CREATE TABLE sign_ins (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        time bigint NOT NULL,               -- epoch milliseconds
        client_key text COLLATE "C" NOT NULL, -- lower-cased client ID, '' when the request named none
        failed boolean NOT NULL,
        body text NOT NULL
      );
      CREATE INDEX sign_ins_by_time ON sign_ins (time);
      CREATE INDEX sign_ins_by_client ON sign_ins (client_key, seq);
      CREATE TABLE credential_usage (
        key text COLLATE "C" PRIMARY KEY,   -- lower-cased ARM ID of the federated credential
        id text NOT NULL,
        sign_ins bigint NOT NULL,
        last_sign_in bigint NOT NULL
      );
      CREATE TABLE signing_keys (
        purpose text COLLATE "C" NOT NULL,
        kid text COLLATE "C" NOT NULL,
        seq bigint GENERATED ALWAYS AS IDENTITY, -- the order keys were first stored in
        body text NOT NULL,
        PRIMARY KEY (purpose, kid)
      );`,
  },
  {
    version: 2,
    sql: `
      -- Leases: which replica does the work one replica must do (key rotation), until it stops renewing.
      CREATE TABLE leases (
        name text COLLATE "C" PRIMARY KEY,
        holder text NOT NULL,
        expires bigint NOT NULL             -- epoch milliseconds
      );`,
  },
  {
    version: 3,
    sql: `
      -- App Configuration key-values. Keys and labels compare case-sensitively, in code-point order (COLLATE "C");
      -- the primary key's order is the listing order, and a key prefix is a range of it.
      CREATE TABLE key_values (
        store_key text COLLATE "C" NOT NULL, -- lower-cased ARM ID of the configuration store
        key text COLLATE "C" NOT NULL,
        label text COLLATE "C" NOT NULL,     -- '' for the null label, which the data plane never tells from ''
        body text NOT NULL,                  -- the key-value as JSON
        PRIMARY KEY (store_key, key, label)
      );
      CREATE TABLE key_value_revisions (
        -- Every store's changes in one order. Changes of one key-value commit in sequence order (they queue on its
        -- lock); changes of different key-values in two replicas may become visible out of it.
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        store_key text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        label text COLLATE "C" NOT NULL,
        at bigint NOT NULL,                  -- epoch milliseconds
        body text                            -- the key-value as written, NULL for its deletion
      );
      CREATE INDEX key_value_revisions_by_key ON key_value_revisions (store_key, key, seq);
      -- A stamp per store that every change replaces, so that a cached list of its key-values can be checked cheaply.
      -- Also the highest sequence of the store's revisions, for the Sync-Token of each answer.
      CREATE TABLE key_value_versions (
        store_key text COLLATE "C" PRIMARY KEY,
        stamp text NOT NULL,
        sequence bigint NOT NULL
      );`,
  },
];
const SCHEMA_VERSION = MIGRATIONS.length;

/** The advisory lock every wikit process takes to migrate: one migrates, the others wait and find nothing to do. */
const MIGRATION_LOCK = 0x77696b6974; // "wikit"

/** Property names safe to write into SQL as they are, so that the expression indexes apply. */
const PLAIN_PROPERTY_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

/** SQLSTATEs after which the transaction was rolled back and running it again may well succeed. */
const CONFLICT_CODES = new Set(["40001", "40P01"]); // serialization_failure, deadlock_detected
/** SQLSTATEs meaning the server went away or will not take connections now. */
const UNAVAILABLE_CODES = new Set(["57P01", "57P02", "57P03", "53300"]);
/** What node-postgres says, without a SQLSTATE, when a connection breaks or cannot be made. */
const CONNECTION_FAILURE_MESSAGE =
  /connection|terminated|timeout exceeded when trying to connect|not queryable/i;

type Queryable = Pick<pg.PoolClient, "query">;

/**
 * The store on a PostgreSQL server, which several wikit processes may share. Every call resolves only once its
 * write has committed; counters and orderings come from the database (sequences, `x = x + n`), never from a value
 * one process read, so that concurrent replicas stay correct.
 */
export class PostgresStore implements Store {
  readonly #pool: pg.Pool;
  readonly #target: string;
  readonly #conflictRetries: number;
  #closed = false;

  private constructor(url: string, options: PostgresStoreOptions) {
    this.#target = describePostgresUrl(url);
    this.#conflictRetries = options.conflictRetries ?? 5;
    this.#pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      application_name: "wikit",
    });
    // An idle connection the server drops (restart, failover) is reported here; unhandled, it would end the
    // process. The pool discards it, and the next call connects anew or fails as unavailable.
    this.#pool.on("error", () => {});
  }

  /** Connects, brings the schema up to date (once across all processes starting together), and returns the store. */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    // Checked here, because node-postgres's parser would throw an error that carries the whole URL as `input`.
    if (!URL.canParse(url)) {
      throw new Error(
        "the PostgreSQL URL cannot be parsed (it is not shown: it may hold a password): expected postgres://user:password@host:port/database",
      );
    }
    const store = new PostgresStore(url, options);
    try {
      await store.#translated(() => store.#migrate());
      return store;
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  /**
   * A connection of this call's own. The pool stops listening for a connection's errors while it is lent out: an
   * error between two statements of a transaction would end the process. It fails the next statement instead.
   */
  async #checkout(): Promise<{ client: pg.PoolClient; release: (broken: boolean) => void }> {
    const client = await this.#pool.connect();
    const failLater = (): void => {};
    client.on("error", failLater);
    return {
      client,
      release: (broken) => {
        client.off("error", failLater);
        // A connection that failed mid-way may still hold a lock or a transaction: closed, never reused.
        client.release(broken);
      },
    };
  }

  async #migrate(): Promise<void> {
    const { client, release } = await this.#checkout();
    let broken = false;
    try {
      await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
      try {
        await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
          version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
        const { rows } = await client.query<{ version: number }>("SELECT version FROM schema_migrations");
        const applied = new Set(rows.map((row) => row.version));
        const newest = Math.max(0, ...applied);
        if (newest > SCHEMA_VERSION) {
          throw new Error(
            `${this.#target} uses storage schema ${newest}, this wikit understands up to ${SCHEMA_VERSION}: upgrade wikit`,
          );
        }
        for (const migration of MIGRATIONS) {
          if (applied.has(migration.version)) continue;
          await client.query("BEGIN");
          try {
            await client.query(migration.sql);
            await client.query("INSERT INTO schema_migrations (version) VALUES ($1)", [migration.version]);
            await client.query("COMMIT");
          } catch (error) {
            await client.query("ROLLBACK");
            throw error;
          }
        }
      } finally {
        await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
      }
    } catch (error) {
      broken = true;
      throw error;
    } finally {
      release(broken);
    }
  }

  /** Runs `work`, again on a serialization conflict or deadlock, and reports a lost server as unavailable. */
  async #translated<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (isConflict(error) && attempt < this.#conflictRetries) {
          // Jittered, growing pauses, so that the transactions that collided do not collide again.
          await sleep(Math.random() * 10 * 2 ** attempt);
          continue;
        }
        if (isConnectionFailure(error)) {
          throw new StoreUnavailableError(`${this.#target} is unavailable: ${describeCause(error)}`, {
            cause: error,
          });
        }
        throw error;
      }
    }
  }

  async #query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    return this.#translated(() => this.#pool.query<R>(sql, params));
  }

  /** Runs `work` in one transaction on one connection: all of it commits, or none. */
  async #transaction<T>(
    work: (client: Queryable) => Promise<T>,
    { synchronousCommit = true } = {},
  ): Promise<T> {
    return this.#translated(async () => {
      const { client, release } = await this.#checkout();
      let broken = false;
      try {
        await client.query("BEGIN");
        if (!synchronousCommit) await client.query("SET LOCAL synchronous_commit = off");
        const result = await work(client);
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {
          broken = true;
        });
        throw error;
      } finally {
        release(broken);
      }
    });
  }

  async #bodies<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const { rows } = await this.#query<{ body: string }>(sql, params);
    return rows.map((row) => JSON.parse(row.body) as T);
  }

  async #body<T>(sql: string, params: unknown[] = []): Promise<T | undefined> {
    return (await this.#bodies<T>(sql, params))[0];
  }

  async getSetting(key: string): Promise<string | undefined> {
    const { rows } = await this.#query<{ value: string }>("SELECT value FROM settings WHERE key = $1", [key]);
    return rows[0]?.value;
  }

  async putSetting(key: string, value: string): Promise<void> {
    await this.#query(
      "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      [key, value],
    );
  }

  async getResource(id: string): Promise<ArmResource | undefined> {
    return this.#body<ArmResource>("SELECT body FROM resources WHERE key = $1", [id.toLowerCase()]);
  }

  async putResource(resource: ArmResource): Promise<void> {
    await this.#query(PUT_RESOURCE, resourceRow(resource));
  }

  async deleteResource(id: string): Promise<boolean> {
    const key = id.toLowerCase();
    return this.#transaction(async (client) => {
      const deleted = (await client.query("DELETE FROM resources WHERE key = $1", [key])).rowCount ?? 0;
      if (deleted > 0) {
        // '/' is followed by '0' in byte order: the range is exactly the subtree beneath the ID.
        await client.query("DELETE FROM resources WHERE key > $1 AND key < $2", [`${key}/`, `${key}0`]);
        await client.query("DELETE FROM credential_usage WHERE key > $1 AND key < $2", [
          `${key}/`,
          `${key}0`,
        ]);
      }
      await client.query("DELETE FROM credential_usage WHERE key = $1", [key]);
      return deleted > 0;
    });
  }

  async listResources(query: ResourceQuery): Promise<ArmResource[]> {
    const { sql, params } = resourceSelect(query);
    return this.#bodies<ArmResource>(sql, params);
  }

  async putResourceAmong(
    among: ResourceQuery,
    decide: (current: ArmResource[]) => ArmResource,
  ): Promise<ArmResource> {
    return this.#transaction(async (client) => {
      // Writers of the same set queue on one lock for the length of their transaction: each decides on what the
      // previous one committed, whichever replica it runs in.
      await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [
        JSON.stringify([among.type?.toLowerCase(), among.under?.toLowerCase(), among.property]),
      ]);
      const { sql, params } = resourceSelect(among);
      const { rows } = await client.query<{ body: string }>(sql, params);
      const resource = decide(rows.map((row) => JSON.parse(row.body) as ArmResource));
      await client.query(PUT_RESOURCE, resourceRow(resource));
      return resource;
    });
  }

  async tryLease(name: string, holder: string, ttlMs: number, now = Date.now()): Promise<boolean> {
    const { rowCount } = await this.#query(
      `INSERT INTO leases (name, holder, expires) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
       WHERE leases.holder = excluded.holder OR leases.expires <= $4`,
      [name, holder, now + ttlMs, now],
    );
    return (rowCount ?? 0) > 0;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.#query("DELETE FROM leases WHERE name = $1 AND holder = $2", [name, holder]);
  }

  async getKubeObject(
    cluster: string,
    kind: string,
    namespace: string,
    name: string,
  ): Promise<KubeObject | undefined> {
    return this.#body<KubeObject>(
      "SELECT body FROM kube_objects WHERE cluster = $1 AND kind = $2 AND namespace = $3 AND name = $4",
      [cluster, kind, namespace, name],
    );
  }

  async putKubeObject(cluster: string, object: KubeObject): Promise<KubeObject> {
    const { rows } = await this.#query<{ rv: string }>("SELECT nextval('kube_resource_version') AS rv");
    const resourceVersion = String(rows[0]?.rv);
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion } };
    await this.#query(
      "INSERT INTO kube_objects (cluster, kind, namespace, name, body) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (cluster, kind, namespace, name) DO UPDATE SET body = excluded.body",
      [cluster, object.kind, object.metadata.namespace ?? "", object.metadata.name, JSON.stringify(stored)],
    );
    return stored;
  }

  async deleteKubeObject(cluster: string, kind: string, namespace: string, name: string): Promise<boolean> {
    const { rowCount } = await this.#query(
      "DELETE FROM kube_objects WHERE cluster = $1 AND kind = $2 AND namespace = $3 AND name = $4",
      [cluster, kind, namespace, name],
    );
    return (rowCount ?? 0) > 0;
  }

  async listKubeObjects(cluster: string, kind: string, namespace?: string): Promise<KubeObject[]> {
    return namespace === undefined
      ? this.#bodies<KubeObject>(
          "SELECT body FROM kube_objects WHERE cluster = $1 AND kind = $2 ORDER BY namespace, name",
          [cluster, kind],
        )
      : this.#bodies<KubeObject>(
          "SELECT body FROM kube_objects WHERE cluster = $1 AND kind = $2 AND namespace = $3 ORDER BY name",
          [cluster, kind, namespace],
        );
  }

  async putSecretVersion(secret: SecretVersion): Promise<void> {
    // A rewrite keeps the version's place (its seq); a new version takes the next one from the identity column.
    await this.#query(
      "INSERT INTO secret_versions (vault_key, name_key, version, body) VALUES ($1, $2, $3, $4) ON CONFLICT (vault_key, name_key, version) DO UPDATE SET body = excluded.body",
      [secret.vaultId.toLowerCase(), secret.name.toLowerCase(), secret.version, JSON.stringify(secret)],
    );
  }

  async getSecretVersion(
    vaultId: string,
    name: string,
    version?: string,
  ): Promise<SecretVersion | undefined> {
    return version === undefined
      ? this.#body<SecretVersion>(
          "SELECT body FROM secret_versions WHERE vault_key = $1 AND name_key = $2 ORDER BY seq DESC LIMIT 1",
          [vaultId.toLowerCase(), name.toLowerCase()],
        )
      : this.#body<SecretVersion>(
          "SELECT body FROM secret_versions WHERE vault_key = $1 AND name_key = $2 AND version = $3",
          [vaultId.toLowerCase(), name.toLowerCase(), version],
        );
  }

  async listSecretVersions(vaultId: string, name: string): Promise<SecretVersion[]> {
    return this.#bodies<SecretVersion>(
      "SELECT body FROM secret_versions WHERE vault_key = $1 AND name_key = $2 ORDER BY seq",
      [vaultId.toLowerCase(), name.toLowerCase()],
    );
  }

  async listLatestSecrets(vaultId: string): Promise<SecretVersion[]> {
    return this.#bodies<SecretVersion>(
      "SELECT DISTINCT ON (name_key) body FROM secret_versions WHERE vault_key = $1 ORDER BY name_key, seq DESC",
      [vaultId.toLowerCase()],
    );
  }

  async deleteSecret(vaultId: string, name: string): Promise<boolean> {
    const { rowCount } = await this.#query(
      "DELETE FROM secret_versions WHERE vault_key = $1 AND name_key = $2",
      [vaultId.toLowerCase(), name.toLowerCase()],
    );
    return (rowCount ?? 0) > 0;
  }

  async getKeyValue(
    configStoreId: string,
    key: string,
    label: string | null,
  ): Promise<StoredKeyValue | undefined> {
    return this.#body<StoredKeyValue>(SELECT_KEY_VALUE, [
      configStoreId.toLowerCase(),
      key,
      labelColumn(label),
    ]);
  }

  async listKeyValues(configStoreId: string, query: KeyValueQuery = {}): Promise<StoredKeyValue[]> {
    const { clause, params } = keyPrefixClause(query, [configStoreId.toLowerCase()]);
    return this.#bodies<StoredKeyValue>(
      `SELECT body FROM key_values WHERE store_key = $1 ${clause} ORDER BY key, label`,
      params,
    );
  }

  async changeKeyValue(
    configStoreId: string,
    key: string,
    label: string | null,
    change: (current: StoredKeyValue | undefined) => KeyValueChange,
  ): Promise<{ keyValue: StoredKeyValue | undefined; sequence?: number }> {
    const names = [configStoreId.toLowerCase(), key, labelColumn(label)];
    return this.#transaction(async (client) => {
      // SELECT … FOR UPDATE locks no row that does not exist yet: two creations of one key-value would both see
      // none. Writers of one key-value queue on a lock of its name instead, whether it exists or not.
      await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [
        JSON.stringify(["key-value", ...names]),
      ]);
      const { rows } = await client.query<{ body: string }>(SELECT_KEY_VALUE, names);
      const current = rows[0] && (JSON.parse(rows[0].body) as StoredKeyValue);
      const decided = change(current);
      if ("keep" in decided) return { keyValue: current };
      if ("delete" in decided) {
        if (current === undefined) return { keyValue: undefined };
        await client.query("DELETE FROM key_values WHERE store_key = $1 AND key = $2 AND label = $3", names);
        return { keyValue: undefined, sequence: await addRevision(client, names, decided.at, null) };
      }
      const written = keyValueToWrite(decided.put, key, label);
      const body = JSON.stringify(written);
      await client.query(
        "INSERT INTO key_values (store_key, key, label, body) VALUES ($1, $2, $3, $4) ON CONFLICT (store_key, key, label) DO UPDATE SET body = excluded.body",
        [...names, body],
      );
      return { keyValue: written, sequence: await addRevision(client, names, written.lastModified, body) };
    });
  }

  async keyValuesVersion(configStoreId: string): Promise<KeyValuesVersion> {
    const { rows } = await this.#query<{ stamp: string; sequence: string }>(
      "SELECT stamp, sequence FROM key_value_versions WHERE store_key = $1",
      [configStoreId.toLowerCase()],
    );
    return { stamp: rows[0]?.stamp ?? "", sequence: Number(rows[0]?.sequence ?? 0) };
  }

  async listKeyValueRevisions(configStoreId: string, query: KeyValueQuery = {}): Promise<KeyValueRevision[]> {
    const { clause, params } = keyPrefixClause(query, [configStoreId.toLowerCase()]);
    const { rows } = await this.#query<KeyValueRevisionRow>(
      `SELECT seq, key, label, at, body FROM key_value_revisions WHERE store_key = $1 ${clause} ORDER BY seq`,
      params,
    );
    return rows.map(keyValueRevision);
  }

  async deleteKeyValues(configStoreId: string): Promise<void> {
    const storeKey = configStoreId.toLowerCase();
    await this.#transaction(async (client) => {
      await client.query("DELETE FROM key_values WHERE store_key = $1", [storeKey]);
      await client.query("DELETE FROM key_value_revisions WHERE store_key = $1", [storeKey]);
      await client.query("DELETE FROM key_value_versions WHERE store_key = $1", [storeKey]);
    });
  }

  async listSigningKeys(purpose: string): Promise<StoredSigningKey[]> {
    return this.#bodies<StoredSigningKey>("SELECT body FROM signing_keys WHERE purpose = $1 ORDER BY seq", [
      purpose,
    ]);
  }

  async putSigningKey(key: StoredSigningKey): Promise<void> {
    await this.#query(
      "INSERT INTO signing_keys (purpose, kid, body) VALUES ($1, $2, $3) ON CONFLICT (purpose, kid) DO UPDATE SET body = excluded.body",
      [key.purpose, key.kid, JSON.stringify(key)],
    );
  }

  async appendSignIns(
    records: readonly { record: SignInRecord; credentialId?: string }[],
    retention: SignInRetention,
  ): Promise<void> {
    // One row per credential, in key order: a single upsert cannot touch a row twice, and replicas that lock
    // rows in the same order do not deadlock one another.
    const usage = new Map<string, { id: string; count: number; last: number }>();
    for (const { record, credentialId } of records) {
      if (credentialId === undefined || record.errorCode !== 0) continue;
      const key = credentialId.toLowerCase();
      const counted = usage.get(key);
      if (counted) {
        counted.count += 1;
        counted.last = Math.max(counted.last, record.time);
      } else usage.set(key, { id: credentialId, count: 1, last: record.time });
    }
    const keys = [...usage.keys()].sort();
    await this.#transaction(
      async (client) => {
        if (records.length > 0) {
          await client.query(
            `INSERT INTO sign_ins (time, client_key, failed, body)
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::boolean[], $4::text[])`,
            [
              records.map(({ record }) => record.time),
              records.map(({ record }) => (record.clientId ?? "").toLowerCase()),
              records.map(({ record }) => record.errorCode !== 0),
              records.map(({ record }) => JSON.stringify(record)),
            ],
          );
        }
        if (keys.length > 0) {
          await client.query(
            `INSERT INTO credential_usage (key, id, sign_ins, last_sign_in)
             SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])
             ON CONFLICT (key) DO UPDATE SET sign_ins = credential_usage.sign_ins + excluded.sign_ins,
               last_sign_in = GREATEST(credential_usage.last_sign_in, excluded.last_sign_in)`,
            [
              keys,
              keys.map((key) => usage.get(key)?.id),
              keys.map((key) => usage.get(key)?.count),
              keys.map((key) => usage.get(key)?.last),
            ],
          );
        }
        await client.query("DELETE FROM sign_ins WHERE time < $1", [Date.now() - retention.maxAgeMs]);
        // By position rather than by seq arithmetic: identity values have gaps (rolled-back inserts, replicas).
        await client.query(
          "DELETE FROM sign_ins WHERE seq <= (SELECT seq FROM sign_ins ORDER BY seq DESC OFFSET $1 LIMIT 1)",
          [retention.maxRecords],
        );
      },
      // Diagnostics, as in SQLite: a commit survives a crash of wikit or of PostgreSQL (the WAL is written), but
      // may be lost to a power failure in the moment after it resolves; not worth waiting for a flush each time.
      { synchronousCommit: false },
    );
  }

  async listSignIns(query: SignInQuery): Promise<SignInRecord[]> {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (query.since !== undefined) {
      params.push(query.since);
      clauses.push(`time >= $${params.length}`);
    }
    if (query.clientId !== undefined) {
      params.push(query.clientId.toLowerCase());
      clauses.push(`client_key = $${params.length}`);
    }
    if (query.failedOnly) clauses.push("failed");
    const where = clauses.length > 0 ? `WHERE ${clauses.join(" AND ")}` : "";
    params.push(query.limit ?? null); // LIMIT NULL: no limit
    return this.#bodies<SignInRecord>(
      `SELECT body FROM sign_ins ${where} ORDER BY seq DESC LIMIT $${params.length}`,
      params,
    );
  }

  async listCredentialUsage(identityId: string): Promise<CredentialUsage[]> {
    const key = identityId.toLowerCase().replace(/\/+$/, "");
    const { rows } = await this.#query<{ id: string; sign_ins: string; last_sign_in: string }>(
      "SELECT id, sign_ins, last_sign_in FROM credential_usage WHERE key > $1 AND key < $2 ORDER BY key",
      [`${key}/`, `${key}0`],
    );
    // bigint columns arrive as strings; counts and epoch milliseconds are well within a double's exact range.
    return rows.map((row) => ({
      credentialId: row.id,
      signIns: Number(row.sign_ins),
      lastSignIn: Number(row.last_sign_in),
    }));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function isConflict(error: unknown): boolean {
  return CONFLICT_CODES.has(sqlState(error) ?? "");
}

function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = sqlState(error);
  if (error instanceof pg.DatabaseError)
    return code !== undefined && (code.startsWith("08") || UNAVAILABLE_CODES.has(code));
  // Socket errors (ECONNREFUSED, ECONNRESET, ETIMEDOUT, ENOTFOUND…), and node-postgres's own for broken connections.
  if (code !== undefined && /^E[A-Z]+$/.test(code)) return true;
  if (error instanceof AggregateError) return error.errors.some(isConnectionFailure);
  return CONNECTION_FAILURE_MESSAGE.test(error.message);
}

function describeCause(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describeCause(error.errors[0]);
  const code = sqlState(error);
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

const PUT_RESOURCE =
  "INSERT INTO resources (key, type, body) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET type = excluded.type, body = excluded.body";

const resourceRow = (resource: ArmResource): string[] => [
  resource.id.toLowerCase(),
  resource.type.toLowerCase(),
  JSON.stringify(resource),
];

/** The SELECT of the resources a query matches, in key order. */
function resourceSelect(query: ResourceQuery): { sql: string; params: string[] } {
  const clauses: string[] = [];
  const params: string[] = [];
  const param = (value: string): string => {
    params.push(value);
    return `$${params.length}`;
  };
  if (query.type) clauses.push(`type = ${param(query.type.toLowerCase())}`);
  if (query.under) {
    const scope = query.under.toLowerCase().replace(/\/+$/, "");
    clauses.push(`(key = ${param(scope)} OR (key > ${param(`${scope}/`)} AND key < ${param(`${scope}0`)}))`);
  }
  if (query.property) {
    // A plain name is written into the SQL so that the expression indexes apply; any other is bound, so that it
    // names one member and cannot reach into others. Compared as JSON: a string equals only the same string.
    const { name, value } = query.property;
    const member = PLAIN_PROPERTY_NAME.test(name) ? `'${name}'` : `${param(name)}::text`;
    clauses.push(`(body::jsonb) -> 'properties' -> ${member} = to_jsonb(${param(value)}::text)`);
  }
  const where = clauses.length > 0 ? `WHERE ${clauses.join(" AND ")}` : "";
  return { sql: `SELECT body FROM resources ${where} ORDER BY key`, params };
}

const SELECT_KEY_VALUE = "SELECT body FROM key_values WHERE store_key = $1 AND key = $2 AND label = $3";

/**
 * Records a change of the key-value `names` (store, key, label column) in the history and replaces the store's
 * stamp; resolves to the change's sequence.
 */
async function addRevision(
  client: Queryable,
  names: readonly string[],
  at: number,
  body: string | null,
): Promise<number> {
  const { rows } = await client.query<{ seq: string }>(
    "INSERT INTO key_value_revisions (store_key, key, label, at, body) VALUES ($1, $2, $3, $4, $5) RETURNING seq",
    [...names, at, body],
  );
  await client.query(
    "INSERT INTO key_value_versions (store_key, stamp, sequence) VALUES ($1, $2, $3) ON CONFLICT (store_key) DO UPDATE SET stamp = excluded.stamp, sequence = GREATEST(key_value_versions.sequence, excluded.sequence)",
    [names[0], randomUUID(), rows[0]?.seq],
  );
  return Number(rows[0]?.seq);
}

/** `AND` the range of keys that start with the query's prefix, if it has one, its values bound after `params`. */
function keyPrefixClause(query: KeyValueQuery, params: string[]): { clause: string; params: string[] } {
  if (!query.keyPrefix) return { clause: "", params };
  const { from, below } = keyPrefixRange(query.keyPrefix);
  const bound = [...params, from];
  if (below === undefined) return { clause: `AND key >= $${bound.length}`, params: bound };
  bound.push(below);
  return { clause: `AND key >= $${bound.length - 1} AND key < $${bound.length}`, params: bound };
}
