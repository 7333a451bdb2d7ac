import type BetterSqlite3 from 'better-sqlite3';

/**
 * LIMIT and OFFSET written into the SQL, never bound: SQLite re-prepares a statement every time a
 * parameter of its LIMIT is bound (measured: a 0-row `user_name_key = ?` lookup took 42 µs with
 * `LIMIT ? OFFSET ?`, 6 µs with literals). Callers page with few distinct values (Okta: 100 from 0),
 * so the statement cache still hits.
 */
export function limitSql(limit: number, offset: number): string {
  const unlimited = limit === Number.POSITIVE_INFINITY;
  if ((!unlimited && !(Number.isSafeInteger(limit) && limit >= 0)) || !(Number.isSafeInteger(offset) && offset >= 0)) {
    throw new RangeError(`limit and offset must be non-negative integers, got ${limit} and ${offset}`);
  }
  // No limit at all is SQLite's LIMIT -1.
  return `LIMIT ${unlimited ? -1 : limit} OFFSET ${offset}`;
}

/**
 * Prepared statements for SQL built at run time (filtered queries). Preparing costs as much as
 * running a small query; the same few filter shapes (Okta's `userName eq`) recur on every request.
 * Values are bound parameters (LIMIT and OFFSET excepted, above), so the SQL text itself repeats
 * and the cache stays small.
 */
export function createStatementCache(db: BetterSqlite3.Database, limit = 256) {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return (sql: string): BetterSqlite3.Statement => {
    let statement = statements.get(sql);
    if (!statement) {
      if (statements.size >= limit) statements.delete(statements.keys().next().value!);
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
}
