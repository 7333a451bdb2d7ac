/**
 * The imported FIDO MDS3 BLOB in SQLite: a single row. replace() compares and writes in one
 * IMMEDIATE transaction, so a lower or equal `no` never overwrites a higher one, even when the
 * CLI on two hosts imports at once.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { AuthenticatorMetadataRecord, AuthenticatorMetadataRepository } from '../../server/ports/storage.ts';

interface Row {
  no: number;
  next_update: string;
  legal_header: string;
  signer: string;
  imported_at: number;
  entries: string;
}

export function createAuthenticatorMetadataRepository(db: BetterSqlite3.Database): AuthenticatorMetadataRepository {
  const select = db.prepare<[], Row>('SELECT * FROM authenticator_metadata WHERE id = 1');
  const selectNo = db.prepare<[], number>('SELECT no FROM authenticator_metadata WHERE id = 1').pluck();
  const upsert = db.prepare(`
    INSERT INTO authenticator_metadata (id, no, next_update, legal_header, signer, imported_at, entries)
    VALUES (1, @no, @nextUpdate, @legalHeader, @signer, @importedAt, @entries)
    ON CONFLICT (id) DO UPDATE SET no = excluded.no, next_update = excluded.next_update, legal_header = excluded.legal_header,
      signer = excluded.signer, imported_at = excluded.imported_at, entries = excluded.entries`);
  const replace = db.transaction((record: AuthenticatorMetadataRecord) => {
    const current = selectNo.get();
    if (current !== undefined && current >= record.no) return { stored: false, currentNo: current };
    upsert.run({ ...record, entries: JSON.stringify(record.entries) });
    return { stored: true, currentNo: record.no };
  });
  return {
    async get() {
      const row = select.get();
      if (!row) return null;
      return {
        no: row.no,
        nextUpdate: row.next_update,
        legalHeader: row.legal_header,
        signer: row.signer,
        importedAt: row.imported_at,
        entries: JSON.parse(row.entries) as AuthenticatorMetadataRecord['entries'],
      };
    },
    async currentNo() {
      return selectNo.get() ?? null;
    },
    async replace(record) {
      return replace.immediate(record);
    },
  };
}
