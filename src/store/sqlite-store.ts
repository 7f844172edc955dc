import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import {
  type KeyValueRevisionRow,
  keyPrefixRange,
  keyValueRevision,
  keyValueToWrite,
  labelColumn,
} from "./key-value-rows.ts";
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

const SCHEMA_VERSION = "2";

/** Each step takes a store of schema `from` to the next: applied in order, each in one transaction. */
const MIGRATIONS: readonly { from: string; sql: string }[] = [
  {
    // Version 2: several local clusters, each with its own Kubernetes objects; version 1's belong to `local`.
    from: "1",
    sql: `
      CREATE TABLE kube_objects_v2 (
        cluster TEXT NOT NULL, kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (cluster, kind, namespace, name));
      INSERT INTO kube_objects_v2 (cluster, kind, namespace, name, body)
        SELECT 'local', kind, namespace, name, body FROM kube_objects;
      DROP TABLE kube_objects;
      ALTER TABLE kube_objects_v2 RENAME TO kube_objects;`,
  },
];
/** Property names safe to write into SQL as they are: letters and digits. */
const PLAIN_PROPERTY_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS resources (
  key TEXT PRIMARY KEY,          -- lower-cased ARM ID: ARM IDs compare case-insensitively
  type TEXT NOT NULL,            -- lower-cased resource type
  body TEXT NOT NULL             -- the ARM document as JSON, IDs in the case they were created with
);
CREATE INDEX IF NOT EXISTS resources_by_type ON resources (type);
-- Identities (by client ID) or applications and service principals (by app ID) are looked up on every token
-- exchange, and role assignments by principal ID on every
-- vault request: indexed so that the cost does not grow with the directory.
CREATE INDEX IF NOT EXISTS resources_by_client_id ON resources (type, json_extract(body, '$.properties.clientId'));
CREATE INDEX IF NOT EXISTS resources_by_principal_id ON resources (type, json_extract(body, '$.properties.principalId'));
CREATE INDEX IF NOT EXISTS resources_by_app_id ON resources (type, json_extract(body, '$.properties.appId'));
CREATE TABLE IF NOT EXISTS kube_objects (
  cluster TEXT NOT NULL,         -- which local cluster: 'local', or a created cluster's key
  kind TEXT NOT NULL,
  namespace TEXT NOT NULL,       -- '' for cluster-scoped objects
  name TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (cluster, kind, namespace, name)
);
CREATE TABLE IF NOT EXISTS secret_versions (
  vault_key TEXT NOT NULL,
  name_key TEXT NOT NULL,        -- secret names are case-insensitive in Key Vault
  version TEXT NOT NULL,
  seq INTEGER NOT NULL,          -- insertion order: the highest is the latest version
  body TEXT NOT NULL,
  PRIMARY KEY (vault_key, name_key, version)
);
CREATE TABLE IF NOT EXISTS sign_ins (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  time INTEGER NOT NULL,         -- epoch milliseconds
  client_key TEXT NOT NULL,      -- lower-cased client ID, '' when the request named none
  failed INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sign_ins_by_time ON sign_ins (time);
CREATE INDEX IF NOT EXISTS sign_ins_by_client ON sign_ins (client_key, seq);
CREATE TABLE IF NOT EXISTS credential_usage (
  key TEXT PRIMARY KEY,          -- lower-cased ARM ID of the federated credential
  id TEXT NOT NULL,
  sign_ins INTEGER NOT NULL,
  last_sign_in INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS signing_keys (
  purpose TEXT NOT NULL,
  kid TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (purpose, kid)
);
-- Leases: which process does the work one process must do (key rotation), until it stops renewing.
CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires INTEGER NOT NULL);
-- App Configuration key-values. Keys and labels compare case-sensitively, in code-point order (BINARY collation);
-- the primary key's order is the listing order, and a key prefix is a range of it.
CREATE TABLE IF NOT EXISTS key_values (
  store_key TEXT NOT NULL,       -- lower-cased ARM ID of the configuration store
  key TEXT NOT NULL,
  label TEXT NOT NULL,           -- '' for the null label: the data plane never tells the empty label from it
  body TEXT NOT NULL,            -- the key-value as JSON
  PRIMARY KEY (store_key, key, label)
);
CREATE TABLE IF NOT EXISTS key_value_revisions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, -- every store's changes in one order; never reused, even after deletes
  store_key TEXT NOT NULL,
  key TEXT NOT NULL,
  label TEXT NOT NULL,
  at INTEGER NOT NULL,           -- epoch milliseconds
  body TEXT                      -- the key-value as written, NULL for its deletion
);
CREATE INDEX IF NOT EXISTS key_value_revisions_by_key ON key_value_revisions (store_key, key, seq);
-- A stamp per store that every change replaces, so that a cached list of its key-values can be checked cheaply.
-- Also the highest sequence of the store's revisions, for the Sync-Token of each answer.
CREATE TABLE IF NOT EXISTS key_value_versions (
  store_key TEXT PRIMARY KEY,
  stamp TEXT NOT NULL,
  sequence INTEGER NOT NULL
);
`;

/**
 * The embedded store: one SQLite file in the data directory. WAL journal with synchronous=FULL,
 * so every committed write is on disk before the call returns.
 */
export class SqliteStore implements Store {
  readonly #db: DatabaseSync;
  /** Compiled statements by SQL text: compiling costs as much as running the lookups a token exchange makes. */
  readonly #statements = new Map<string, StatementSync>();
  #seq = 0;

  constructor(path: string) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
    this.#migrate();
    this.#db.exec(SCHEMA);
    const version = this.#get<{ value: string }>("SELECT value FROM settings WHERE key = 'schema'");
    if (!version) this.#run("INSERT INTO settings (key, value) VALUES ('schema', ?)", SCHEMA_VERSION);
    else if (version.value !== SCHEMA_VERSION) {
      throw new Error(
        `the data directory uses storage schema ${version.value}, this wikit understands ${SCHEMA_VERSION}`,
      );
    }
    this.#seq = this.#get<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM secret_versions")?.seq ?? 0;
  }

  /** Brings an existing store of an older schema to this one; a new store starts at the current schema. */
  #migrate(): void {
    const hasSettings = this.#db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'settings'")
      .get();
    if (!hasSettings) return;
    for (const step of MIGRATIONS) {
      const row = this.#db.prepare("SELECT value FROM settings WHERE key = 'schema'").get() as
        | { value: string }
        | undefined;
      if (row?.value !== step.from) continue;
      const next = String(Number(step.from) + 1);
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        this.#db.exec(step.sql);
        this.#db.prepare("UPDATE settings SET value = ? WHERE key = 'schema'").run(next);
        this.#db.exec("COMMIT");
      } catch (error) {
        this.#db.exec("ROLLBACK");
        throw error;
      }
    }
  }

  #prepare(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #run(sql: string, ...params: (string | number | null)[]): number {
    return Number(this.#prepare(sql).run(...params).changes);
  }

  #get<T>(sql: string, ...params: (string | number | null)[]): T | undefined {
    return this.#prepare(sql).get(...params) as T | undefined;
  }

  #all<T>(sql: string, ...params: (string | number | null)[]): T[] {
    return this.#prepare(sql).all(...params) as T[];
  }

  async getSetting(key: string): Promise<string | undefined> {
    return this.#get<{ value: string }>("SELECT value FROM settings WHERE key = ?", key)?.value;
  }

  async putSetting(key: string, value: string): Promise<void> {
    this.#run(
      "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }

  async getResource(id: string): Promise<ArmResource | undefined> {
    const row = this.#get<{ body: string }>("SELECT body FROM resources WHERE key = ?", id.toLowerCase());
    return row ? (JSON.parse(row.body) as ArmResource) : undefined;
  }

  async putResource(resource: ArmResource): Promise<void> {
    this.#putResource(resource);
  }

  #putResource(resource: ArmResource): void {
    this.#run(
      "INSERT INTO resources (key, type, body) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET type = excluded.type, body = excluded.body",
      resource.id.toLowerCase(),
      resource.type.toLowerCase(),
      JSON.stringify(resource),
    );
  }

  async deleteResource(id: string): Promise<boolean> {
    const key = id.toLowerCase();
    let deleted = 0;
    this.#transaction(() => {
      deleted = this.#run("DELETE FROM resources WHERE key = ?", key);
      if (deleted > 0) {
        this.#run("DELETE FROM resources WHERE key > ? AND key < ?", `${key}/`, `${key}0`);
        this.#run("DELETE FROM credential_usage WHERE key > ? AND key < ?", `${key}/`, `${key}0`);
      }
      this.#run("DELETE FROM credential_usage WHERE key = ?", key);
    });
    return deleted > 0;
  }

  async listResources(query: ResourceQuery): Promise<ArmResource[]> {
    return this.#listResources(query);
  }

  async putResourceAmong(
    among: ResourceQuery,
    decide: (current: ArmResource[]) => ArmResource,
  ): Promise<ArmResource> {
    // BEGIN IMMEDIATE holds the database's write lock from the read on: no other writer, in this process or
    // another, comes between what `decide` saw and what it wrote.
    let resource: ArmResource | undefined;
    this.#transaction(() => {
      resource = decide(this.#listResources(among));
      this.#putResource(resource);
    });
    return resource as ArmResource;
  }

  async tryLease(name: string, holder: string, ttlMs: number, now = Date.now()): Promise<boolean> {
    const changed = this.#run(
      `INSERT INTO leases (name, holder, expires) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
       WHERE leases.holder = excluded.holder OR leases.expires <= ?`,
      name,
      holder,
      now + ttlMs,
      now,
    );
    return changed > 0;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    this.#run("DELETE FROM leases WHERE name = ? AND holder = ?", name, holder);
  }

  #listResources(query: ResourceQuery): ArmResource[] {
    const clauses: string[] = [];
    const params: string[] = [];
    if (query.type) {
      // Within a subtree the key range is the narrower search; `+type` keeps SQLite from choosing the type index.
      clauses.push(query.under ? "+type = ?" : "type = ?");
      params.push(query.type.toLowerCase());
    }
    if (query.under) {
      // A key range ('/' is followed by '0' in byte order), so the primary key index finds the subtree.
      const scope = query.under.toLowerCase().replace(/\/+$/, "");
      clauses.push("(key = ? OR (key > ? AND key < ?))");
      params.push(scope, `${scope}/`, `${scope}0`);
    }
    if (query.property) {
      // A plain name is written into the SQL, so that SQLite can use the expression indexes above; any other is
      // bound, quoted, so that it names one member and cannot reach into others.
      const { name, value } = query.property;
      if (PLAIN_PROPERTY_NAME.test(name)) {
        clauses.push(`json_extract(body, '$.properties.${name}') = ?`);
      } else {
        clauses.push("json_extract(body, ?) = ?");
        params.push(`$.properties.${JSON.stringify(name)}`);
      }
      params.push(value);
    }
    const where = clauses.length > 0 ? `WHERE ${clauses.join(" AND ")}` : "";
    return this.#all<{ body: string }>(`SELECT body FROM resources ${where} ORDER BY key`, ...params).map(
      (row) => JSON.parse(row.body) as ArmResource,
    );
  }

  async getKubeObject(
    cluster: string,
    kind: string,
    namespace: string,
    name: string,
  ): Promise<KubeObject | undefined> {
    const row = this.#get<{ body: string }>(
      "SELECT body FROM kube_objects WHERE cluster = ? AND kind = ? AND namespace = ? AND name = ?",
      cluster,
      kind,
      namespace,
      name,
    );
    return row ? (JSON.parse(row.body) as KubeObject) : undefined;
  }

  async putKubeObject(cluster: string, object: KubeObject): Promise<KubeObject> {
    const resourceVersion = String(this.#nextResourceVersion());
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion } };
    this.#run(
      "INSERT INTO kube_objects (cluster, kind, namespace, name, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT (cluster, kind, namespace, name) DO UPDATE SET body = excluded.body",
      cluster,
      object.kind,
      object.metadata.namespace ?? "",
      object.metadata.name,
      JSON.stringify(stored),
    );
    return stored;
  }

  #nextResourceVersion(): number {
    const current = Number(
      this.#get<{ value: string }>("SELECT value FROM settings WHERE key = 'kube.rv'")?.value ?? 0,
    );
    this.#run(
      "INSERT INTO settings (key, value) VALUES ('kube.rv', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      String(current + 1),
    );
    return current + 1;
  }

  async deleteKubeObject(cluster: string, kind: string, namespace: string, name: string): Promise<boolean> {
    return (
      this.#run(
        "DELETE FROM kube_objects WHERE cluster = ? AND kind = ? AND namespace = ? AND name = ?",
        cluster,
        kind,
        namespace,
        name,
      ) > 0
    );
  }

  async listKubeObjects(cluster: string, kind: string, namespace?: string): Promise<KubeObject[]> {
    const rows =
      namespace === undefined
        ? this.#all<{ body: string }>(
            "SELECT body FROM kube_objects WHERE cluster = ? AND kind = ? ORDER BY namespace, name",
            cluster,
            kind,
          )
        : this.#all<{ body: string }>(
            "SELECT body FROM kube_objects WHERE cluster = ? AND kind = ? AND namespace = ? ORDER BY name",
            cluster,
            kind,
            namespace,
          );
    return rows.map((row) => JSON.parse(row.body) as KubeObject);
  }

  async putSecretVersion(secret: SecretVersion): Promise<void> {
    this.#seq += 1;
    this.#run(
      "INSERT INTO secret_versions (vault_key, name_key, version, seq, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT (vault_key, name_key, version) DO UPDATE SET body = excluded.body",
      secret.vaultId.toLowerCase(),
      secret.name.toLowerCase(),
      secret.version,
      this.#seq,
      JSON.stringify(secret),
    );
  }

  async getSecretVersion(
    vaultId: string,
    name: string,
    version?: string,
  ): Promise<SecretVersion | undefined> {
    const row =
      version === undefined
        ? this.#get<{ body: string }>(
            "SELECT body FROM secret_versions WHERE vault_key = ? AND name_key = ? ORDER BY seq DESC LIMIT 1",
            vaultId.toLowerCase(),
            name.toLowerCase(),
          )
        : this.#get<{ body: string }>(
            "SELECT body FROM secret_versions WHERE vault_key = ? AND name_key = ? AND version = ?",
            vaultId.toLowerCase(),
            name.toLowerCase(),
            version,
          );
    return row ? (JSON.parse(row.body) as SecretVersion) : undefined;
  }

  async listSecretVersions(vaultId: string, name: string): Promise<SecretVersion[]> {
    return this.#all<{ body: string }>(
      "SELECT body FROM secret_versions WHERE vault_key = ? AND name_key = ? ORDER BY seq",
      vaultId.toLowerCase(),
      name.toLowerCase(),
    ).map((row) => JSON.parse(row.body) as SecretVersion);
  }

  async listLatestSecrets(vaultId: string): Promise<SecretVersion[]> {
    return this.#all<{ body: string }>(
      `SELECT body FROM secret_versions s WHERE vault_key = ? AND seq = (
         SELECT MAX(seq) FROM secret_versions t WHERE t.vault_key = s.vault_key AND t.name_key = s.name_key)
       ORDER BY name_key`,
      vaultId.toLowerCase(),
    ).map((row) => JSON.parse(row.body) as SecretVersion);
  }

  async deleteSecret(vaultId: string, name: string): Promise<boolean> {
    return (
      this.#run(
        "DELETE FROM secret_versions WHERE vault_key = ? AND name_key = ?",
        vaultId.toLowerCase(),
        name.toLowerCase(),
      ) > 0
    );
  }

  async getKeyValue(
    configStoreId: string,
    key: string,
    label: string | null,
  ): Promise<StoredKeyValue | undefined> {
    return this.#keyValue(configStoreId.toLowerCase(), key, labelColumn(label));
  }

  #keyValue(storeKey: string, key: string, labelKey: string): StoredKeyValue | undefined {
    const row = this.#get<{ body: string }>(
      "SELECT body FROM key_values WHERE store_key = ? AND key = ? AND label = ?",
      storeKey,
      key,
      labelKey,
    );
    return row ? (JSON.parse(row.body) as StoredKeyValue) : undefined;
  }

  async listKeyValues(configStoreId: string, query: KeyValueQuery = {}): Promise<StoredKeyValue[]> {
    const { clause, params } = keyPrefixClause(query);
    return this.#all<{ body: string }>(
      `SELECT body FROM key_values WHERE store_key = ? ${clause} ORDER BY key, label`,
      configStoreId.toLowerCase(),
      ...params,
    ).map((row) => JSON.parse(row.body) as StoredKeyValue);
  }

  async changeKeyValue(
    configStoreId: string,
    key: string,
    label: string | null,
    change: (current: StoredKeyValue | undefined) => KeyValueChange,
  ): Promise<{ keyValue: StoredKeyValue | undefined; sequence?: number }> {
    const storeKey = configStoreId.toLowerCase();
    const labelKey = labelColumn(label);
    let outcome: { keyValue: StoredKeyValue | undefined; sequence?: number } = { keyValue: undefined };
    // BEGIN IMMEDIATE, as in putResourceAmong: no writer in another process comes between the read and the write.
    this.#transaction(() => {
      const current = this.#keyValue(storeKey, key, labelKey);
      const decided = change(current);
      if ("keep" in decided) {
        outcome = { keyValue: current };
      } else if ("delete" in decided) {
        if (current === undefined) return;
        this.#run(
          "DELETE FROM key_values WHERE store_key = ? AND key = ? AND label = ?",
          storeKey,
          key,
          labelKey,
        );
        outcome = {
          keyValue: undefined,
          sequence: this.#addRevision(storeKey, key, labelKey, decided.at, null),
        };
      } else {
        const written = keyValueToWrite(decided.put, key, label);
        const body = JSON.stringify(written);
        this.#run(
          "INSERT INTO key_values (store_key, key, label, body) VALUES (?, ?, ?, ?) ON CONFLICT (store_key, key, label) DO UPDATE SET body = excluded.body",
          storeKey,
          key,
          labelKey,
          body,
        );
        outcome = {
          keyValue: written,
          sequence: this.#addRevision(storeKey, key, labelKey, written.lastModified, body),
        };
      }
    });
    return outcome;
  }

  async keyValuesVersion(configStoreId: string): Promise<KeyValuesVersion> {
    const row = this.#get<{ stamp: string; sequence: number }>(
      "SELECT stamp, sequence FROM key_value_versions WHERE store_key = ?",
      configStoreId.toLowerCase(),
    );
    return { stamp: row?.stamp ?? "", sequence: Number(row?.sequence ?? 0) };
  }

  /** Records a change in the history and replaces the store's stamp; returns the change's sequence. */
  #addRevision(storeKey: string, key: string, labelKey: string, at: number, body: string | null): number {
    const row = this.#get<{ seq: number }>(
      "INSERT INTO key_value_revisions (store_key, key, label, at, body) VALUES (?, ?, ?, ?, ?) RETURNING seq",
      storeKey,
      key,
      labelKey,
      at,
      body,
    );
    this.#run(
      "INSERT INTO key_value_versions (store_key, stamp, sequence) VALUES (?, ?, ?) ON CONFLICT (store_key) DO UPDATE SET stamp = excluded.stamp, sequence = max(sequence, excluded.sequence)",
      storeKey,
      randomUUID(),
      Number(row?.seq),
    );
    return Number(row?.seq);
  }

  async listKeyValueRevisions(configStoreId: string, query: KeyValueQuery = {}): Promise<KeyValueRevision[]> {
    const { clause, params } = keyPrefixClause(query);
    return this.#all<KeyValueRevisionRow>(
      `SELECT seq, key, label, at, body FROM key_value_revisions WHERE store_key = ? ${clause} ORDER BY seq`,
      configStoreId.toLowerCase(),
      ...params,
    ).map(keyValueRevision);
  }

  async deleteKeyValues(configStoreId: string): Promise<void> {
    const storeKey = configStoreId.toLowerCase();
    this.#transaction(() => {
      this.#run("DELETE FROM key_values WHERE store_key = ?", storeKey);
      this.#run("DELETE FROM key_value_revisions WHERE store_key = ?", storeKey);
      this.#run("DELETE FROM key_value_versions WHERE store_key = ?", storeKey);
    });
  }

  async listSigningKeys(purpose: string): Promise<StoredSigningKey[]> {
    return this.#all<{ body: string }>(
      "SELECT body FROM signing_keys WHERE purpose = ? ORDER BY rowid",
      purpose,
    ).map((row) => JSON.parse(row.body) as StoredSigningKey);
  }

  async putSigningKey(key: StoredSigningKey): Promise<void> {
    this.#run(
      "INSERT INTO signing_keys (purpose, kid, body) VALUES (?, ?, ?) ON CONFLICT (purpose, kid) DO UPDATE SET body = excluded.body",
      key.purpose,
      key.kid,
      JSON.stringify(key),
    );
  }

  async appendSignIns(
    records: readonly { record: SignInRecord; credentialId?: string }[],
    retention: SignInRetention,
  ): Promise<void> {
    this.#transaction(
      () => {
        const insert = this.#prepare(
          "INSERT INTO sign_ins (time, client_key, failed, body) VALUES (?, ?, ?, ?)",
        );
        const count = this.#prepare(
          `INSERT INTO credential_usage (key, id, sign_ins, last_sign_in) VALUES (?, ?, 1, ?)
         ON CONFLICT (key) DO UPDATE SET sign_ins = sign_ins + 1, last_sign_in = MAX(last_sign_in, excluded.last_sign_in)`,
        );
        for (const { record, credentialId } of records) {
          insert.run(
            record.time,
            (record.clientId ?? "").toLowerCase(),
            record.errorCode === 0 ? 0 : 1,
            JSON.stringify(record),
          );
          if (credentialId !== undefined && record.errorCode === 0) {
            count.run(credentialId.toLowerCase(), credentialId, record.time);
          }
        }
        this.#run("DELETE FROM sign_ins WHERE time < ?", Date.now() - retention.maxAgeMs);
        // By position, not `MAX(seq) - maxRecords`: the age limit above leaves gaps in seq.
        this.#run(
          "DELETE FROM sign_ins WHERE seq <= (SELECT seq FROM sign_ins ORDER BY seq DESC LIMIT 1 OFFSET ?)",
          retention.maxRecords,
        );
        // Diagnostics, written every fraction of a second: not worth a disk flush on the event loop each time.
      },
      { flushToDisk: false },
    );
  }

  async listSignIns(query: SignInQuery): Promise<SignInRecord[]> {
    const clauses: string[] = [];
    const params: (string | number)[] = [];
    if (query.since !== undefined) {
      clauses.push("time >= ?");
      params.push(query.since);
    }
    if (query.clientId !== undefined) {
      clauses.push("client_key = ?");
      params.push(query.clientId.toLowerCase());
    }
    if (query.failedOnly) clauses.push("failed = 1");
    const where = clauses.length > 0 ? `WHERE ${clauses.join(" AND ")}` : "";
    params.push(query.limit ?? -1);
    return this.#all<{ body: string }>(
      `SELECT body FROM sign_ins ${where} ORDER BY seq DESC LIMIT ?`,
      ...params,
    ).map((row) => JSON.parse(row.body) as SignInRecord);
  }

  async listCredentialUsage(identityId: string): Promise<CredentialUsage[]> {
    const key = identityId.toLowerCase().replace(/\/+$/, "");
    return this.#all<{ id: string; sign_ins: number; last_sign_in: number }>(
      "SELECT id, sign_ins, last_sign_in FROM credential_usage WHERE key > ? AND key < ? ORDER BY key",
      `${key}/`,
      `${key}0`,
    ).map((row) => ({ credentialId: row.id, signIns: row.sign_ins, lastSignIn: row.last_sign_in }));
  }

  /** Runs `work` in one write transaction: all of it is durable, or none. */
  #transaction(work: () => void, { flushToDisk = true } = {}): void {
    // Without the flush a commit survives the process but not the machine: the WAL reaches the disk with the next
    // flushed commit or checkpoint. The flush is what blocks the event loop for milliseconds.
    if (!flushToDisk) this.#db.exec("PRAGMA synchronous = NORMAL");
    try {
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        work();
        this.#db.exec("COMMIT");
      } catch (error) {
        this.#db.exec("ROLLBACK");
        throw error;
      }
    } finally {
      if (!flushToDisk) this.#db.exec("PRAGMA synchronous = FULL");
    }
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}

/** `AND` the range of keys that start with the query's prefix, if it has one; exact for any characters. */
function keyPrefixClause(query: KeyValueQuery): { clause: string; params: string[] } {
  if (!query.keyPrefix) return { clause: "", params: [] };
  const { from, below } = keyPrefixRange(query.keyPrefix);
  return below === undefined
    ? { clause: "AND key >= ?", params: [from] }
    : { clause: "AND key >= ? AND key < ?", params: [from, below] };
}
