/** What a PostgreSQL URL may show in messages and logs: host, port and database, never the user's password. */
export function describePostgresUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Never echo the text back: a mistyped URL still holds the password.
    return "PostgreSQL (unparseable URL)";
  }
  const host = parsed.hostname || "localhost";
  const port = parsed.port || "5432";
  const database = parsed.pathname.replace(/^\//, "") || "(default database)";
  return `PostgreSQL at ${host}:${port}/${database}`;
}

/** Whether a store location names a PostgreSQL server rather than a SQLite file. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}
