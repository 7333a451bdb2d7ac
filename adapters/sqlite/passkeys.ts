/**
 * Passkeys in SQLite.
 * - The credential id is UNIQUE: registering one twice is a conflict on field 'id' (WebAuthn L3
 *   §7.1 step 25: a credential id already registered must be rejected).
 * - recordUse is one compare-and-set UPDATE on the counter, so two racing assertions cannot both
 *   move it (signature counter check, WebAuthn L3 §7.2 step 21).
 * - Outbox jobs commit in the same transaction as the insert or delete, and only if it happened.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { PasskeyRecord, PasskeyRepository, WriteOptions } from '../../server/ports/storage.ts';
import { toFlag, withConstraints } from './constraint-errors.ts';
import type { JobWriter } from './jobs.ts';

const FIELDS = { id: 'id' };

interface PasskeyRow {
  id: string;
  identity_id: string;
  public_key: string;
  counter: number;
  transports: string;
  aaguid: string;
  device_type: PasskeyRecord['deviceType'];
  backed_up: number;
  attestation_format: string;
  attested: number;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

function toRecord(row: PasskeyRow): PasskeyRecord {
  return {
    id: row.id,
    identityId: row.identity_id,
    publicKey: row.public_key,
    counter: row.counter,
    transports: JSON.parse(row.transports) as string[],
    aaguid: row.aaguid,
    deviceType: row.device_type,
    backedUp: row.backed_up === 1,
    attestationFormat: row.attestation_format,
    attested: row.attested === 1,
    name: row.name,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

export function createPasskeyRepository(db: BetterSqlite3.Database, writeJobs: JobWriter): PasskeyRepository {
  const insert = db.prepare(`
    INSERT INTO passkeys (id, identity_id, public_key, counter, transports, aaguid, device_type, backed_up,
      attestation_format, attested, name, created_at, last_used_at)
    VALUES (@id, @identity_id, @public_key, @counter, @transports, @aaguid, @device_type, @backed_up,
      @attestation_format, @attested, @name, @created_at, @last_used_at)`);
  const byId = db.prepare<[string], PasskeyRow>('SELECT * FROM passkeys WHERE id = ?');
  const byIdentity = db.prepare<[string], PasskeyRow>('SELECT * FROM passkeys WHERE identity_id = ? ORDER BY seq');
  const recordUse = db.prepare(
    'UPDATE passkeys SET counter = ?, last_used_at = ? WHERE id = ? AND counter = ?',
  );
  const rename = db.prepare('UPDATE passkeys SET name = ? WHERE id = ?');
  const remove = db.prepare('DELETE FROM passkeys WHERE id = ?');

  const insertWithJobs = db.transaction((passkey: PasskeyRecord, jobs: WriteOptions['enqueue']) => {
    insert.run({
      id: passkey.id,
      identity_id: passkey.identityId,
      public_key: passkey.publicKey,
      counter: passkey.counter,
      transports: JSON.stringify(passkey.transports),
      aaguid: passkey.aaguid,
      device_type: passkey.deviceType,
      backed_up: toFlag(passkey.backedUp),
      attestation_format: passkey.attestationFormat,
      attested: toFlag(passkey.attested),
      name: passkey.name,
      created_at: passkey.createdAt,
      last_used_at: passkey.lastUsedAt,
    });
    writeJobs(jobs);
  });
  const deleteWithJobs = db.transaction((id: string, jobs: WriteOptions['enqueue']): boolean => {
    if (remove.run(id).changes === 0) return false;
    writeJobs(jobs);
    return true;
  });

  return {
    async insert(passkey, options) {
      withConstraints(FIELDS, () => insertWithJobs.immediate(passkey, options?.enqueue));
    },
    async get(id) {
      const row = byId.get(id);
      return row ? toRecord(row) : null;
    },
    async listByIdentity(identityId) {
      return byIdentity.all(identityId).map(toRecord);
    },
    async recordUse(id, expectedCounter, newCounter, usedAt) {
      return recordUse.run(newCounter, usedAt, id, expectedCounter).changes > 0;
    },
    async rename(id, name) {
      return rename.run(name, id).changes > 0;
    },
    async delete(id, options) {
      return deleteWithJobs.immediate(id, options?.enqueue);
    },
  };
}
