/**
 * SCIM bearer tokens in SQLite, stored by hash only. getByHash returns revoked and expired tokens
 * too: whether a token is still good is decided in one place, by the caller.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { ScimTokenRecord, ScimTokenRepository } from '../../server/ports/storage.ts';
import { withConstraints } from './constraint-errors.ts';

interface ScimTokenRow {
  id: string;
  name: string;
  token_hash: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

const toRecord = (row: ScimTokenRow): ScimTokenRecord => ({
  id: row.id,
  name: row.name,
  tokenHash: row.token_hash,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  lastUsedAt: row.last_used_at,
  revokedAt: row.revoked_at,
});

export function createScimTokenRepository(db: BetterSqlite3.Database): ScimTokenRepository {
  const insert = db.prepare(`
    INSERT INTO scim_tokens (id, name, token_hash, created_at, expires_at, last_used_at, revoked_at)
    VALUES (@id, @name, @tokenHash, @createdAt, @expiresAt, @lastUsedAt, @revokedAt)`);
  const all = db.prepare<[], ScimTokenRow>('SELECT * FROM scim_tokens ORDER BY seq');
  const byHash = db.prepare<[string], ScimTokenRow>('SELECT * FROM scim_tokens WHERE token_hash = ?');
  const touch = db.prepare('UPDATE scim_tokens SET last_used_at = ? WHERE id = ?');
  const revoke = db.prepare('UPDATE scim_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  return {
    async create(token) {
      withConstraints({ id: 'id', token_hash: 'tokenHash' }, () => insert.run({ ...token }));
    },
    async list() {
      return all.all().map(toRecord);
    },
    async getByHash(tokenHash) {
      const row = byHash.get(tokenHash);
      return row ? toRecord(row) : null;
    },
    async touch(id, at) {
      touch.run(at, id);
    },
    async revoke(id, at) {
      return revoke.run(at, id).changes > 0;
    },
  };
}
