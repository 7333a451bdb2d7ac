/**
 * Durable job queue and the transactional outbox writer.
 * - One row per (queue, key): enqueueing again replaces payload and runAt, bumps revision, resets
 *   attempts, and brings a done or failed job back to pending under the same id.
 * - A re-enqueue keeps an existing lease, so no second worker picks the job up while the first
 *   still works on the old payload; complete() then sees the moved revision and releases it.
 * - lease() is a single UPDATE ... RETURNING, so choosing and locking a job is one atomic step
 *   even when several processes share the file.
 * - enqueue() takes no clock, so createdAt/updatedAt of an enqueue come from Date.now().
 */
import { randomUUID } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import type { JobInput, JobQueue, JobRecord, WriteOptions } from '../../server/ports/storage.ts';

export interface JobRow {
  id: string;
  queue: string;
  key: string;
  payload: string;
  run_at: number;
  state: JobRecord['state'];
  attempts: number;
  revision: number;
  last_error: string | null;
  locked_by: string | null;
  locked_until: number | null;
  created_at: number;
  updated_at: number;
}

export function toRecord(row: JobRow): JobRecord {
  return {
    id: row.id,
    queue: row.queue,
    key: row.key,
    payload: JSON.parse(row.payload) as Record<string, unknown>,
    runAt: row.run_at,
    state: row.state,
    attempts: row.attempts,
    revision: row.revision,
    lastError: row.last_error,
    lockedBy: row.locked_by,
    lockedUntil: row.locked_until,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export type JobWriter = (jobs: WriteOptions['enqueue']) => void;

/** Must be called inside the caller's transaction so the jobs commit or roll back with its write. */
export function createJobWriter(db: BetterSqlite3.Database): JobWriter {
  const upsert = db.prepare(`
    INSERT INTO jobs (id, queue, key, payload, run_at, state, attempts, revision, created_at, updated_at)
    VALUES (@id, @queue, @key, @payload, @runAt, 'pending', 0, 1, @now, @now)
    ON CONFLICT (queue, key) DO UPDATE SET
      payload = excluded.payload, run_at = excluded.run_at, state = 'pending', attempts = 0,
      revision = jobs.revision + 1, last_error = NULL, updated_at = excluded.updated_at`);
  return (jobs) => {
    for (const job of jobs ?? []) {
      upsert.run({
        id: randomUUID(),
        queue: job.queue,
        key: job.key,
        payload: JSON.stringify(job.payload),
        runAt: job.runAt,
        now: Date.now(),
      });
    }
  };
}

export function createJobQueue(db: BetterSqlite3.Database, writeJobs: JobWriter): JobQueue {
  const enqueueOne = db.transaction((job: JobInput) => writeJobs([job]));
  const lease = db.prepare<{ queue: string; worker: string; now: number; until: number }, JobRow>(`
    UPDATE jobs SET locked_by = @worker, locked_until = @until, updated_at = @now
    WHERE seq = (
      SELECT seq FROM jobs
      WHERE queue = @queue AND state = 'pending' AND run_at <= @now
        AND (locked_until IS NULL OR locked_until <= @now)
      ORDER BY run_at, seq LIMIT 1)
    RETURNING *`);
  const byId = db.prepare<[string], JobRow>('SELECT * FROM jobs WHERE id = ?');
  const byKey = db.prepare<[string, string], JobRow>('SELECT * FROM jobs WHERE queue = ? AND key = ?');
  const finish = db.prepare(`
    UPDATE jobs SET state = @state, last_error = @error, locked_by = NULL, locked_until = NULL, updated_at = @now
    WHERE id = @id AND state = 'pending' AND locked_by = @worker`);
  const release = db.prepare(
    'UPDATE jobs SET locked_by = NULL, locked_until = NULL, updated_at = ? WHERE id = ?',
  );
  const retry = db.prepare(`
    UPDATE jobs SET attempts = attempts + 1, run_at = @runAt, last_error = @error,
      locked_by = NULL, locked_until = NULL, updated_at = @now
    WHERE id = @id AND state = 'pending' AND locked_by = @worker`);
  const listAll = db.prepare<[string, number], JobRow>('SELECT * FROM jobs WHERE queue = ? ORDER BY seq LIMIT ?');
  const listState = db.prepare<[string, string, number], JobRow>(
    'SELECT * FROM jobs WHERE queue = ? AND state = ? ORDER BY seq LIMIT ?',
  );
  const counts = db.prepare<[string], { state: JobRecord['state']; n: number }>(
    'SELECT state, count(*) AS n FROM jobs WHERE queue = ? GROUP BY state',
  );

  // max(run_at, locked_until) of a leased job is when it may be leased again; jobs_due serves the scan.
  const oldestDue = db.prepare<[string], number | null>(`
    SELECT min(CASE WHEN locked_by IS NOT NULL AND locked_until > run_at THEN locked_until ELSE run_at END)
    FROM jobs WHERE queue = ? AND state = 'pending'`).pluck();
  const complete = db.transaction((id: string, worker: string, revision: number, now: number): boolean => {
    const row = byId.get(id);
    if (!row || row.state !== 'pending' || row.locked_by !== worker) return false;
    if (row.revision !== revision) {
      release.run(now, id);
      return false;
    }
    finish.run({ id, worker, state: 'done', error: null, now });
    return true;
  });

  return {
    async enqueue(job) {
      enqueueOne.immediate(job);
    },
    async lease(queue, worker, now, leaseMs) {
      const row = lease.get({ queue, worker, now, until: now + leaseMs });
      return row ? toRecord(row) : null;
    },
    async complete(id, worker, revision, now) {
      return complete.immediate(id, worker, revision, now);
    },
    async retry(id, worker, runAt, error, now) {
      return retry.run({ id, worker, runAt, error, now }).changes > 0;
    },
    async fail(id, worker, error, now) {
      return finish.run({ id, worker, state: 'failed', error, now }).changes > 0;
    },
    async get(queue, key) {
      const row = byKey.get(queue, key);
      return row ? toRecord(row) : null;
    },
    async list(queue, state, limit) {
      const rows = state ? listState.all(queue, state, Math.max(0, limit)) : listAll.all(queue, Math.max(0, limit));
      return rows.map(toRecord);
    },
    async counts(queue) {
      const result: Record<JobRecord['state'], number> = { pending: 0, done: 0, failed: 0 };
      for (const { state, n } of counts.all(queue)) result[state] = n;
      return result;
    },
    async oldestDue(queue) {
      return oldestDue.get(queue) ?? null;
    },
  };
}
