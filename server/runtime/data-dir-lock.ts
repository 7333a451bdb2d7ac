/**
 * One server per embedded store. Two servers on one SQLite file would each run their own workers,
 * sweeps and caches against it; only one may. Rules:
 * - the lock is an exclusive SQLite lock (a POSIX advisory lock held by an open transaction) on
 *   `${DATA_DIR}/server.lock`: the operating system drops it when the process ends in any way,
 *   kill -9 included, so a stale lock can never block a restart;
 * - `server.pid` beside it names the holder, for the refusal message only;
 * - the CLI never takes it: commands beside a running server share the database through WAL.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { StartupError, causeOf } from './startup-error.ts';

export interface DataDirLock {
  release(): void;
}

export function lockDataDir(dataDir: string): DataDirLock {
  const pidFile = join(dataDir, 'server.pid');
  let db: Database.Database;
  try {
    mkdirSync(dataDir, { recursive: true });
    db = new Database(join(dataDir, 'server.lock'));
  } catch (error) {
    throw new StartupError(`DATA_DIR ${dataDir} cannot be used (${causeOf(error)})`, { cause: error });
  }
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw new StartupError(`DATA_DIR ${dataDir} cannot be locked (${causeOf(error)})`, { cause: error });
    let holder = '';
    try {
      holder = ` (pid ${readFileSync(pidFile, 'utf8').trim()})`;
    } catch {
      // The holder is starting and has not written its pid yet.
    }
    throw new StartupError(`DATA_DIR ${dataDir} is in use by another Latchkey server${holder}; stop it first, or use STORE=redis to run several instances`);
  }
  writeFileSync(pidFile, `${process.pid}\n`);
  return {
    release() {
      if (db.open) db.close();
    },
  };
}
