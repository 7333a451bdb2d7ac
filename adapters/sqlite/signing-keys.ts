/** Signing keys in SQLite, listed in the order they were inserted (oldest first). */
import type BetterSqlite3 from 'better-sqlite3';
import type { SigningKeyRecord, SigningKeyRepository } from '../../server/ports/storage.ts';
import { withConstraints } from './constraint-errors.ts';

interface SigningKeyRow {
  kid: string;
  alg: string;
  private_jwk_enc: string;
  created_at: number;
  retires_at: number | null;
}

const toRecord = (row: SigningKeyRow): SigningKeyRecord => ({
  kid: row.kid,
  alg: row.alg,
  privateJwkEnc: row.private_jwk_enc,
  createdAt: row.created_at,
  retiresAt: row.retires_at,
});

export function createSigningKeyRepository(db: BetterSqlite3.Database): SigningKeyRepository {
  const all = db.prepare<[], SigningKeyRow>('SELECT * FROM signing_keys ORDER BY seq');
  const insert = db.prepare(`
    INSERT INTO signing_keys (kid, alg, private_jwk_enc, created_at, retires_at)
    VALUES (@kid, @alg, @privateJwkEnc, @createdAt, @retiresAt)`);
  const setRetiresAt = db.prepare('UPDATE signing_keys SET retires_at = ? WHERE kid = ?');
  const remove = db.prepare('DELETE FROM signing_keys WHERE kid = ?');
  return {
    async list() {
      return all.all().map(toRecord);
    },
    async insert(key) {
      withConstraints({ kid: 'kid' }, () => insert.run({ ...key }));
    },
    async setRetiresAt(kid, retiresAt) {
      setRetiresAt.run(retiresAt, kid);
    },
    async delete(kid) {
      return remove.run(kid).changes > 0;
    },
  };
}
