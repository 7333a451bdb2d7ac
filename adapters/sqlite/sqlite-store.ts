/**
 * The default embedded store: one SQLite file, ${dataDir}/latchkey.db.
 * - The server and the CLI may open the file at the same time: WAL lets readers run beside one
 *   writer, busy_timeout makes a writer wait for the lock instead of failing, and every
 *   read-then-write runs as an IMMEDIATE transaction (a deferred one that upgrades to a write
 *   lock fails with SQLITE_BUSY at once in WAL mode, whatever the timeout).
 * - Foreign keys are per connection in SQLite and off by default; the cascades rely on them.
 * - better-sqlite3 is synchronous; the async port methods just wrap it, so a thrown error
 *   becomes a rejected promise.
 */
import { mkdirSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Store } from '../../server/ports/storage.ts';
import { createAppRepository } from './apps.ts';
import { createAuthenticatorMetadataRepository } from './authenticator-metadata.ts';
import { createAuditRepository, createAuditWriter } from './audit.ts';
import { createGroupRepository } from './groups.ts';
import { createIdentityRepository } from './identities.ts';
import { createInviteRepository } from './invites.ts';
import { createJobQueue, createJobWriter } from './jobs.ts';
import { migrate } from './migrations.ts';
import { registerFunctions } from './functions.ts';
import { createOidcModelRepository } from './oidc-models.ts';
import { createOneTimeRepository } from './one-time.ts';
import { createPasskeyRepository } from './passkeys.ts';
import { createScimTokenRepository } from './scim-tokens.ts';
import { createSettingsRepository } from './settings.ts';
import { createSigningKeyRepository } from './signing-keys.ts';
import { createChangeNotifications } from './changes.ts';

/** Below this much free space the store reports not ready (a sign-in writes a few kB; a checkpoint more). */
const MIN_FREE_BYTES = 1024 * 1024;

/** SQLite errors that mean "the disk or the file cannot be used now", not a bad query. */
export function isSqliteUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && /^SQLITE_(FULL|IOERR|BUSY|LOCKED|READONLY|CANTOPEN|CORRUPT|NOTADB|PROTOCOL)/.test(code);
}
import { exportSqlite, importSqlite } from './transfer.ts';

export async function openSqliteStore(options: { dataDir: string }): Promise<Store> {
  mkdirSync(options.dataDir, { recursive: true });
  const file = join(options.dataDir, 'latchkey.db');
  const db = new Database(file);
  try {
    // busy_timeout first: switching to WAL and migrating may already wait on another process.
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    // NORMAL is durable across application crashes in WAL mode; only power loss can drop the last commits.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // Every sign-in writes a dozen small rows. Checkpointing every 4,000 pages instead of 1,000
    // quarters the checkpoint fsyncs that stall the event loop, memory-mapped reads skip a copy,
    // and the WAL file is truncated back after a checkpoint (measured: ~40% less time per write).
    db.pragma('wal_autocheckpoint = 4000');
    db.pragma('journal_size_limit = 67108864');
    db.pragma('mmap_size = 268435456');
    // Savepoints (group-commit.ts runs each grouped write in one) keep the pages they change in a
    // sub-journal; in a file that is a write() per page, in memory a copy. Crash recovery never
    // reads it (the WAL does that), so memory changes nothing about durability.
    db.pragma('temp_store = MEMORY');
    registerFunctions(db);
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }

  const writeJobs = createJobWriter(db);
  const writeAudit = createAuditWriter(db);
  const sweepModels = db.prepare('DELETE FROM oidc_models WHERE expires_at IS NOT NULL AND expires_at <= ?');
  const sweepOneTime = db.prepare('DELETE FROM one_time WHERE expires_at <= ?');
  const sweep = db.transaction((now: number) => sweepModels.run(now).changes + sweepOneTime.run(now).changes);
  const changes = createChangeNotifications(db);
  const probeWrite = db.prepare("INSERT INTO settings (key, value) VALUES ('readiness.probe', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  const probeRead = db.prepare("SELECT value FROM settings WHERE key = 'readiness.probe'").pluck();
  const store: Store = {
    kind: 'sqlite',
    identities: createIdentityRepository(db, writeJobs, writeAudit),
    groups: createGroupRepository(db),
    passkeys: createPasskeyRepository(db, writeJobs),
    apps: createAppRepository(db),
    invites: createInviteRepository(db, writeJobs),
    signingKeys: createSigningKeyRepository(db),
    settings: createSettingsRepository(db),
    authenticatorMetadata: createAuthenticatorMetadataRepository(db),
    oidc: createOidcModelRepository(db),
    oneTime: createOneTimeRepository(db),
    scimTokens: createScimTokenRepository(db),
    audit: createAuditRepository(db, writeAudit),
    jobs: createJobQueue(db, writeJobs),
    changes,
    async sweepExpired(now) {
      return sweep(now);
    },
    async ping() {
      // Readiness: one real write and read back, and room on the disk for the next writes (a
      // small write can still fit in WAL pages already allocated while real sign-ins fail).
      const value = randomUUID();
      probeWrite.run(value);
      if (probeRead.get() !== value) throw new Error('SQLite did not return the value just written');
      const disk = await statfs(options.dataDir);
      const free = disk.bavail * disk.bsize;
      if (free < MIN_FREE_BYTES) throw Object.assign(new Error(`only ${free} bytes free in DATA_DIR ${options.dataDir}`), { code: 'SQLITE_FULL' });
    },
    unavailable: isSqliteUnavailable,
    exportAll: ({ now }) => exportSqlite(file, now),
    importAll: (items, { replace = false } = {}) => importSqlite(db, store, items, replace),
    async close() {
      changes.close();
      if (db.open) db.close();
    },
  };
  return store;
}
