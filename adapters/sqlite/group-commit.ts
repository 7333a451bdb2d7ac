/**
 * Group commit: writes that arrive in the same turn of the event loop share one transaction.
 * - Why: in WAL mode a commit appends every page it changed to the WAL. Concurrent creates change
 *   many of the same pages (the last leaf of each rowid or time-ordered index, the AUTOINCREMENT
 *   counter); in one commit each such page is written once, and the lock, the commit and its WAL
 *   frame header are paid once instead of once per write.
 * - Each write runs in its own savepoint (better-sqlite3 nests a transaction function called
 *   inside another as a SAVEPOINT): one that fails (a userName already taken) is rolled back alone
 *   and rejects only its own caller; the others still commit.
 * - A caller's promise settles after the commit, never before: a write reported done is as
 *   durable as one committed alone. A failed commit (disk full, busy past busy_timeout) rejects
 *   every write in it, and none of them happened.
 * - A turn with one write runs it as a plain IMMEDIATE transaction, with no savepoint.
 */
import type BetterSqlite3 from 'better-sqlite3';

interface Pending<A extends unknown[]> {
  args: A;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export function groupCommit<A extends unknown[]>(db: BetterSqlite3.Database, write: BetterSqlite3.Transaction<(...args: A) => void>): (...args: A) => Promise<void> {
  let pending: Pending<A>[] = [];
  const commitAll = db.transaction((batch: Pending<A>[]) =>
    batch.map((item) => {
      try {
        write(...item.args);
        return null;
      } catch (error) {
        // Some failures (disk full, I/O) end the whole transaction, not just the savepoint: then
        // nothing in the batch happened, and the rest must not run outside a transaction.
        if (!db.inTransaction) throw error;
        return { error };
      }
    }),
  );

  function flush(): void {
    const batch = pending;
    pending = [];
    if (batch.length === 1) {
      const [only] = batch;
      try {
        write.immediate(...only.args);
      } catch (error) {
        return only.reject(error);
      }
      return only.resolve();
    }
    let outcomes: ({ error: unknown } | null)[];
    try {
      outcomes = commitAll.immediate(batch);
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, index) => {
      const outcome = outcomes[index];
      if (outcome) item.reject(outcome.error);
      else item.resolve();
    });
  }

  return (...args: A) =>
    new Promise<void>((resolve, reject) => {
      if (pending.push({ args, resolve, reject }) === 1) setImmediate(flush);
    });
}
