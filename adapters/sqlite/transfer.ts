/**
 * exportAll/importAll for SQLite (see server/ports/store-export.ts).
 * - Export reads on a connection of its own inside one read transaction: in WAL mode that is a
 *   snapshot of the file as of its first read, so a live server keeps writing beside it and the
 *   export still sees one point in time (online and consistent).
 * - Import runs in one IMMEDIATE transaction on the store's own connection: a failed restore
 *   leaves the file as it was. The repositories' own transactions nest as savepoints. Nothing
 *   else may use that connection meanwhile, so restore and migrate run from the CLI, not a server.
 */
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import type { JobRecord, Store } from '../../server/ports/storage.ts';
import type { ExportItem, ImportCounts, OidcModelExport } from '../../server/ports/store-export.ts';
import { exportThroughRepositories, importThroughRepositories } from '../transfer.ts';
import { createAppRepository } from './apps.ts';
import { createAuthenticatorMetadataRepository } from './authenticator-metadata.ts';
import { toEvent, type AuditRow } from './audit.ts';
import { createGroupRepository } from './groups.ts';
import { createIdentityRepository } from './identities.ts';
import { createInviteRepository } from './invites.ts';
import { createJobWriter, toRecord as jobFromRow, type JobRow } from './jobs.ts';
import { createPasskeyRepository } from './passkeys.ts';
import { createScimTokenRepository } from './scim-tokens.ts';
import { createSigningKeyRepository } from './signing-keys.ts';

const PAGE = 1000;

interface OidcRow {
  model: string;
  id: string;
  payload: string;
  expires_at: number | null;
  consumed_at: number | null;
  grant_id: string | null;
  uid: string | null;
  user_code: string | null;
  account_id: string | null;
}

function oidcFromRow(row: OidcRow): OidcModelExport {
  const indexes: OidcModelExport['indexes'] = {};
  if (row.grant_id !== null) indexes.grantId = row.grant_id;
  if (row.uid !== null) indexes.uid = row.uid;
  if (row.user_code !== null) indexes.userCode = row.user_code;
  if (row.account_id !== null) indexes.accountId = row.account_id;
  return { model: row.model, id: row.id, payload: JSON.parse(row.payload), expiresAt: row.expires_at, consumedAt: row.consumed_at, indexes };
}

/** Rows of a table with an integer seq, in seq order, a page at a time. */
function* bySeq<Row>(db: BetterSqlite3.Database, table: string): Generator<Row> {
  const page = db.prepare<[number, number], Row & { seq: number }>(`SELECT * FROM ${table} WHERE seq > ? ORDER BY seq LIMIT ?`);
  for (let after = 0; ; ) {
    const rows = page.all(after, PAGE);
    yield* rows;
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1].seq;
  }
}

export async function* exportSqlite(file: string, now: number): AsyncGenerator<ExportItem> {
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.exec('BEGIN');
    // The snapshot starts at the first read of the transaction, not at BEGIN.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    const writeJobs = createJobWriter(db);
    const repos = {
      identities: createIdentityRepository(db, writeJobs),
      groups: createGroupRepository(db),
      passkeys: createPasskeyRepository(db, writeJobs),
      invites: createInviteRepository(db, writeJobs),
      apps: createAppRepository(db),
      signingKeys: createSigningKeyRepository(db),
      scimTokens: createScimTokenRepository(db),
      authenticatorMetadata: createAuthenticatorMetadataRepository(db),
    };
    yield* exportThroughRepositories(
      repos,
      {
        async *settings() {
          yield* db.prepare<[], { key: string; value: string }>('SELECT key, value FROM settings ORDER BY key').all();
        },
        async *oidcModels() {
          const page = db.prepare<[string, string, number, number], OidcRow>(
            'SELECT * FROM oidc_models WHERE (model, id) > (?, ?) AND (expires_at IS NULL OR expires_at > ?) ORDER BY model, id LIMIT ?',
          );
          for (let after: [string, string] = ['', '']; ; ) {
            const rows = page.all(after[0], after[1], now, PAGE);
            for (const row of rows) yield oidcFromRow(row);
            if (rows.length < PAGE) return;
            after = [rows[rows.length - 1].model, rows[rows.length - 1].id];
          }
        },
        async *oneTime() {
          const rows = db.prepare<[number], { key: string; value: string; expires_at: number }>(
            'SELECT key, value, expires_at FROM one_time WHERE expires_at > ? ORDER BY key',
          ).all(now);
          for (const row of rows) yield { key: row.key, value: row.value, expiresAt: row.expires_at };
        },
        async *audit() {
          // By time, then append order: the order list() reads them in (and Redis keeps them in).
          const page = db.prepare<[number, number, number], AuditRow & { seq: number }>(
            'SELECT * FROM audit WHERE (at, seq) > (?, ?) ORDER BY at, seq LIMIT ?',
          );
          for (let after: [number, number] = [Number.MIN_SAFE_INTEGER, 0]; ; ) {
            const rows = page.all(after[0], after[1], PAGE);
            for (const row of rows) yield toEvent(row);
            if (rows.length < PAGE) return;
            after = [rows[rows.length - 1].at, rows[rows.length - 1].seq];
          }
        },
        async *jobs() {
          for (const row of bySeq<JobRow>(db, 'jobs')) yield jobFromRow(row);
        },
      },
      now,
    );
  } finally {
    if (db.inTransaction) db.exec('COMMIT');
    db.close();
  }
}

const TABLES = ['group_members', 'passkeys', 'invites', 'groups', 'identities', 'apps', 'signing_keys', 'settings', 'authenticator_metadata', 'oidc_models', 'one_time', 'scim_tokens', 'audit', 'jobs'];

export async function importSqlite(
  db: BetterSqlite3.Database,
  store: Store,
  items: AsyncIterable<ExportItem> | Iterable<ExportItem>,
  replace: boolean,
): Promise<ImportCounts> {
  const insertJob = db.prepare(`
    INSERT INTO jobs (id, queue, key, payload, run_at, state, attempts, revision, last_error, locked_by, locked_until, created_at, updated_at)
    VALUES (@id, @queue, @key, @payload, @runAt, @state, @attempts, @revision, @lastError, @lockedBy, @lockedUntil, @createdAt, @updatedAt)`);
  const putJob = async (job: JobRecord) => {
    insertJob.run({ ...job, payload: JSON.stringify(job.payload) });
  };
  db.exec('BEGIN IMMEDIATE');
  try {
    if (replace) for (const table of TABLES) db.exec(`DELETE FROM ${table}`);
    const counts = await importThroughRepositories(store, items, putJob);
    db.exec('COMMIT');
    return counts;
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
