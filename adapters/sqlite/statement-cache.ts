import type BetterSqlite3 from 'better-sqlite3';

/**
 * Prepared statements for SQL built at run time (filtered queries). Preparing costs as much as
 * running a small query; the same few filter shapes (Okta's `userName eq`) recur on every request.
 * Values are always bound parameters, so the SQL text itself repeats and the cache stays small.
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
