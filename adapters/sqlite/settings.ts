/**
 * Settings in SQLite. setIfAbsent inserts-or-ignores and reads back in one IMMEDIATE transaction,
 * so two instances starting together agree on one value (e.g. the instance secret).
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { SettingsRepository } from '../../server/ports/storage.ts';

export function createSettingsRepository(db: BetterSqlite3.Database): SettingsRepository {
  const get = db.prepare<[string], string>('SELECT value FROM settings WHERE key = ?').pluck();
  const set = db.prepare(
    'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  const insertIfAbsent = db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING');
  const setIfAbsent = db.transaction((key: string, value: string): string => {
    insertIfAbsent.run(key, value);
    return get.get(key) as string;
  });
  const replace = db.prepare('UPDATE settings SET value = ? WHERE key = ? AND value = ?');
  const compareAndSet = db.transaction((key: string, expected: string | null, value: string): boolean =>
    expected === null ? insertIfAbsent.run(key, value).changes > 0 : replace.run(value, key, expected).changes > 0,
  );
  return {
    async get(key) {
      return get.get(key) ?? null;
    },
    async set(key, value) {
      set.run(key, value);
    },
    async setIfAbsent(key, value) {
      return setIfAbsent.immediate(key, value);
    },
    async compareAndSet(key, expected, value) {
      return compareAndSet.immediate(key, expected, value);
    },
  };
}
