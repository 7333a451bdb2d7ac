/**
 * Enrollment invites in SQLite.
 * - Only the newest link of an identity works: create() revokes the others (revokedAt = the new
 *   invite's createdAt) in the same transaction as the insert.
 * - spend() and revoke() are single conditional UPDATEs, so of two racing calls exactly one wins.
 * - revoke() applies only to an invite that is neither spent nor already revoked.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { InviteRecord, InviteRepository, WriteOptions } from '../../server/ports/storage.ts';
import { withConstraints } from './constraint-errors.ts';
import type { JobWriter } from './jobs.ts';

const FIELDS = { id: 'id', token_hash: 'tokenHash' };

interface InviteRow {
  id: string;
  identity_id: string;
  token_hash: string;
  created_at: number;
  expires_at: number;
  spent_at: number | null;
  revoked_at: number | null;
  delivery: InviteRecord['delivery'];
  send_state: InviteRecord['sendState'];
  send_error: string | null;
  created_by: string;
}

function toRecord(row: InviteRow): InviteRecord {
  return {
    id: row.id,
    identityId: row.identity_id,
    tokenHash: row.token_hash,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    spentAt: row.spent_at,
    revokedAt: row.revoked_at,
    delivery: row.delivery,
    sendState: row.send_state,
    sendError: row.send_error,
    createdBy: row.created_by,
  };
}

export function createInviteRepository(db: BetterSqlite3.Database, writeJobs: JobWriter): InviteRepository {
  const insert = db.prepare(`
    INSERT INTO invites (id, identity_id, token_hash, created_at, expires_at, spent_at, revoked_at, delivery,
      send_state, send_error, created_by)
    VALUES (@id, @identity_id, @token_hash, @created_at, @expires_at, @spent_at, @revoked_at, @delivery,
      @send_state, @send_error, @created_by)`);
  const revokeOthers = db.prepare(`
    UPDATE invites SET revoked_at = ?
    WHERE identity_id = ? AND spent_at IS NULL AND revoked_at IS NULL`);
  const byId = db.prepare<[string], InviteRow>('SELECT * FROM invites WHERE id = ?');
  const byHash = db.prepare<[string], InviteRow>('SELECT * FROM invites WHERE token_hash = ?');
  const byIdentity = db.prepare<[string], InviteRow>('SELECT * FROM invites WHERE identity_id = ? ORDER BY seq');
  const spend = db.prepare(`
    UPDATE invites SET spent_at = @at
    WHERE id = @id AND spent_at IS NULL AND revoked_at IS NULL AND expires_at > @at`);
  const revoke = db.prepare(`
    UPDATE invites SET revoked_at = @at WHERE id = @id AND spent_at IS NULL AND revoked_at IS NULL`);
  const sendState = db.prepare('UPDATE invites SET send_state = ?, send_error = ? WHERE id = ?');

  const createWithJobs = db.transaction((invite: InviteRecord, jobs: WriteOptions['enqueue']) => {
    revokeOthers.run(invite.createdAt, invite.identityId);
    insert.run({
      id: invite.id,
      identity_id: invite.identityId,
      token_hash: invite.tokenHash,
      created_at: invite.createdAt,
      expires_at: invite.expiresAt,
      spent_at: invite.spentAt,
      revoked_at: invite.revokedAt,
      delivery: invite.delivery,
      send_state: invite.sendState,
      send_error: invite.sendError,
      created_by: invite.createdBy,
    });
    writeJobs(jobs);
  });

  return {
    async create(invite, options) {
      withConstraints(FIELDS, () => createWithJobs.immediate(invite, options?.enqueue));
    },
    async get(id) {
      const row = byId.get(id);
      return row ? toRecord(row) : null;
    },
    async getByTokenHash(tokenHash) {
      const row = byHash.get(tokenHash);
      return row ? toRecord(row) : null;
    },
    async listByIdentity(identityId) {
      return byIdentity.all(identityId).map(toRecord);
    },
    async spend(id, at) {
      return spend.run({ id, at }).changes > 0;
    },
    async revoke(id, at) {
      return revoke.run({ id, at }).changes > 0;
    },
    async setSendState(id, state, error) {
      sendState.run(state, error, id);
    },
  };
}
