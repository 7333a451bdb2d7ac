/**
 * One-time values in SQLite. take() is a single DELETE ... RETURNING, so a value (a WebAuthn
 * challenge, a magic-link state) is handed to exactly one caller even across processes.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { OneTimeRepository } from '../../server/ports/storage.ts';

export function createOneTimeRepository(db: BetterSqlite3.Database): OneTimeRepository {
  const put = db.prepare(`
    INSERT INTO one_time (key, value, expires_at) VALUES (?, ?, ?)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`);
  const take = db.prepare<[string], { value: string; expires_at: number }>(
    'DELETE FROM one_time WHERE key = ? RETURNING value, expires_at',
  );
  return {
    async put(key, value, expiresAt) {
      put.run(key, value, expiresAt);
    },
    async take(key, now) {
      const row = take.get(key);
      // An expired value is deleted all the same: it can never be taken again.
      return row && row.expires_at > now ? row.value : null;
    },
  };
}
