/**
 * JS functions SQL calls, registered on every connection before migrating (migrations use them):
 * - latchkey_fold(text): caseKey() from record-filter.ts, the one case-insensitive comparison form
 *   (SQLite's lower()/NOCASE fold only ASCII);
 * - latchkey_ends_with(text, suffix): the `ew` filter operator, counted in characters.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { caseKey } from '../../server/ports/record-filter.ts';

export function registerFunctions(db: BetterSqlite3.Database): void {
  db.function('latchkey_fold', { deterministic: true }, (value: unknown) => (typeof value === 'string' ? caseKey(value) : null));
  db.function('latchkey_ends_with', { deterministic: true }, (value: unknown, suffix: unknown) =>
    typeof value === 'string' && typeof suffix === 'string' && value.endsWith(suffix) ? 1 : 0,
  );
}
