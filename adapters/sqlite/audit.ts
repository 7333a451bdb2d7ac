/**
 * Audit log in SQLite. list() is newest first (at, then append order) over the half-open window
 * since <= at < until, so paging back with until = the oldest `at` seen never repeats an event.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { AuditEvent, AuditRepository } from '../../server/ports/storage.ts';

export interface AuditRow {
  id: string;
  at: number;
  kind: string;
  action: string;
  actor: string;
  target: string | null;
  outcome: AuditEvent['outcome'];
  detail: string;
}

export const toEvent = (row: AuditRow): AuditEvent => ({
  id: row.id,
  at: row.at,
  kind: row.kind,
  action: row.action,
  actor: row.actor,
  target: row.target,
  outcome: row.outcome,
  detail: JSON.parse(row.detail) as Record<string, unknown>,
});

/** Appends an event inside whatever transaction is open: other repositories' writes use it (WriteOptions.audit). */
export type AuditWriter = (event: AuditEvent | undefined) => void;

export function createAuditWriter(db: BetterSqlite3.Database): AuditWriter {
  const insert = db.prepare(`
    INSERT INTO audit (id, at, kind, action, actor, target, outcome, detail)
    VALUES (@id, @at, @kind, @action, @actor, @target, @outcome, @detail)`);
  return (event) => {
    if (event) insert.run({ ...event, detail: JSON.stringify(event.detail) });
  };
}

export function createAuditRepository(db: BetterSqlite3.Database, write: AuditWriter = createAuditWriter(db)): AuditRepository {
  return {
    async append(event) {
      write(event);
    },
    async list(query) {
      const clauses: string[] = [];
      const params: unknown[] = [];
      for (const [column, value] of [
        ['kind', query.kind],
        ['actor', query.actor],
        ['target', query.target],
      ] as const) {
        if (value === undefined) continue;
        clauses.push(`${column} = ?`);
        params.push(value);
      }
      if (query.since !== undefined) {
        clauses.push('at >= ?');
        params.push(query.since);
      }
      if (query.until !== undefined) {
        clauses.push('at < ?');
        params.push(query.until);
      }
      const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
      const rows = db
        .prepare(`SELECT * FROM audit ${where} ORDER BY at DESC, seq DESC LIMIT ?`)
        .all(...params, Math.max(0, query.limit)) as AuditRow[];
      return rows.map(toEvent);
    },
  };
}
