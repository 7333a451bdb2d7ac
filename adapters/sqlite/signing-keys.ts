/**
 * Signing keys in SQLite, listed in the order they were inserted (oldest first). The retires_at
 * column of the first schema is no longer read: retirement follows from activation times.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { SigningKeyRecord, SigningKeyRepository } from '../../server/ports/storage.ts';
import { withConstraints } from './constraint-errors.ts';

interface SigningKeyRow {
  kid: string;
  alg: string;
  private_jwk_enc: string;
  created_at: number;
  activates_at: number | null;
  revoked_at: number | null;
}

const toRecord = (row: SigningKeyRow): SigningKeyRecord => ({
  kid: row.kid,
  alg: row.alg,
  privateJwkEnc: row.private_jwk_enc,
  createdAt: row.created_at,
  activatesAt: row.activates_at ?? row.created_at,
  revokedAt: row.revoked_at,
});

export function createSigningKeyRepository(db: BetterSqlite3.Database): SigningKeyRepository {
  const all = db.prepare<[], SigningKeyRow>('SELECT * FROM signing_keys ORDER BY seq');
  const insert = db.prepare(`
    INSERT INTO signing_keys (kid, alg, private_jwk_enc, created_at, activates_at, revoked_at)
    VALUES (@kid, @alg, @privateJwkEnc, @createdAt, @activatesAt, @revokedAt)`);
  const setActivatesAt = db.prepare('UPDATE signing_keys SET activates_at = ? WHERE kid = ?');
  const setRevokedAt = db.prepare('UPDATE signing_keys SET revoked_at = ? WHERE kid = ?');
  const remove = db.prepare('DELETE FROM signing_keys WHERE kid = ?');
  return {
    async list() {
      return all.all().map(toRecord);
    },
    async insert(key) {
      withConstraints({ kid: 'kid' }, () => insert.run({ ...key }));
    },
    async setActivatesAt(kid, activatesAt) {
      return setActivatesAt.run(activatesAt, kid).changes > 0;
    },
    async setRevokedAt(kid, revokedAt) {
      return setRevokedAt.run(revokedAt, kid).changes > 0;
    },
    async delete(kid) {
      return remove.run(kid).changes > 0;
    },
  };
}
