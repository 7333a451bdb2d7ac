/**
 * The FIDO Metadata Service BLOB an operator imports (`latchkey metadata import`). Rules:
 * - only a verified BLOB reaches this module (edges/webauthn/metadata-blob.ts checks the x5c chain
 *   to the FIDO root and the JWS signature); here it is stored, announced and audited;
 * - rollback is refused: a BLOB whose `no` is lower than the stored one is an older, replayed
 *   BLOB (FIDO Metadata Service v3.0 §3.1.6 "ignore the file if its number is less or equal");
 *   the same `no` again changes nothing;
 * - a BLOB past its `nextUpdate` is still accepted (it is the best data there is, and refusing it
 *   would leave none), but it is reported stale in the import result, `metadata show` and /readyz,
 *   because FIDO expects relying parties to fetch the next one by then (§3.1.6 `nextUpdate`);
 * - status reports decide trust (§3.1.4 AuthenticatorStatus): see untrustedStatus().
 */
import type { Clock } from '../ports/clock.ts';
import type { AuthenticatorMetadataEntry, AuthenticatorMetadataRecord, Store } from '../ports/storage.ts';
import type { Actor } from './actor.ts';
import type { AuditLog } from './audit.ts';
import { AppError } from './errors.ts';

/** Store change topic: every instance reloads its metadata (MetadataService, names, icons). */
export const AUTHENTICATOR_METADATA_TOPIC = 'authenticator-metadata';

/** What the BLOB verifier hands over: the checked payload, reduced to FIDO2 (AAGUID) entries. */
export type VerifiedMetadataBlob = Omit<AuthenticatorMetadataRecord, 'importedAt'>;

/**
 * Statuses after which an authenticator's attestation proves nothing (MDS3 §3.1.4): its
 * certification was revoked, or keys or user verification were found compromised. A compromise
 * counts whenever it was reported, even if a later report (a re-certified firmware) follows:
 * devices with the broken firmware keep the same AAGUID and attestation certificates.
 */
const COMPROMISE = new Set(['USER_VERIFICATION_BYPASS', 'ATTESTATION_KEY_COMPROMISE', 'USER_KEY_REMOTE_COMPROMISE', 'USER_KEY_PHYSICAL_COMPROMISE']);

/** The latest status report (by effectiveDate; reports without one count as oldest), or null. */
export function latestStatus(entry: Pick<AuthenticatorMetadataEntry, 'statusReports'>): string | null {
  const sorted = [...entry.statusReports].sort((a, b) => (a.effectiveDate ?? '').localeCompare(b.effectiveDate ?? ''));
  return sorted.at(-1)?.status ?? null;
}

/** Why an entry's attestation must not be trusted, or null when nothing speaks against it. */
export function untrustedStatus(entry: Pick<AuthenticatorMetadataEntry, 'statusReports'>): string | null {
  if (latestStatus(entry) === 'REVOKED') return 'REVOKED';
  return entry.statusReports.find((report) => COMPROMISE.has(report.status))?.status ?? null;
}

/** True when the BLOB's nextUpdate day has passed (UTC): FIDO has published a newer one. */
export function isStale(nextUpdate: string, now: number): boolean {
  return new Date(now).toISOString().slice(0, 10) > nextUpdate;
}

export interface MetadataSummary {
  no: number;
  nextUpdate: string;
  stale: boolean;
  statements: number;
  signer: string;
  legalHeader: string;
  importedAt: number;
}

export function summarize(record: AuthenticatorMetadataRecord, now: number): MetadataSummary {
  return {
    no: record.no,
    nextUpdate: record.nextUpdate,
    stale: isStale(record.nextUpdate, now),
    statements: record.entries.filter((entry) => entry.metadataStatement).length,
    signer: record.signer,
    legalHeader: record.legalHeader,
    importedAt: record.importedAt,
  };
}

export function createAuthenticatorMetadataService(deps: { store: Store; clock: Clock; audit: AuditLog }) {
  const { store, clock, audit } = deps;
  return {
    /** Stores a verified BLOB unless it is older than the stored one; tells every instance. */
    async import(blob: VerifiedMetadataBlob, actor: Actor): Promise<MetadataSummary & { changed: boolean; previousNo: number | null }> {
      const now = clock.now();
      const previousNo = await store.authenticatorMetadata.currentNo();
      const record: AuthenticatorMetadataRecord = { ...blob, importedAt: now };
      const result = await store.authenticatorMetadata.replace(record);
      if (!result.stored && result.currentNo > blob.no) {
        await audit.record({ actor, action: 'metadata.import', outcome: 'failure', detail: { no: blob.no, storedNo: result.currentNo, reason: 'rollback' } });
        throw new AppError('conflict', `refused: this BLOB is number ${blob.no}, older than the imported number ${result.currentNo} (a rollback); download the current BLOB from the FIDO Metadata Service`);
      }
      if (result.stored) {
        await store.changes.publish(AUTHENTICATOR_METADATA_TOPIC);
        await audit.record({ actor, action: 'metadata.import', detail: { no: blob.no, nextUpdate: blob.nextUpdate, previousNo } });
      }
      const stored = result.stored ? record : ((await store.authenticatorMetadata.get()) ?? record);
      return { ...summarize(stored, now), changed: result.stored, previousNo };
    },

    async summary(): Promise<MetadataSummary | null> {
      const record = await store.authenticatorMetadata.get();
      return record ? summarize(record, clock.now()) : null;
    },
  };
}

export type AuthenticatorMetadataService = ReturnType<typeof createAuthenticatorMetadataService>;
