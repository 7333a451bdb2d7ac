/**
 * The portable export format shared by backup, restore and `latchkey migrate`: every record of a
 * store as port-level records, collection by collection, so any adapter can read what any other
 * adapter wrote (SQLite -> Redis and back).
 * - Port records, never adapter rows or Redis keys: an adapter's internal layout can change
 *   without breaking old backups.
 * - Sealed values (client secrets, signing keys, the Okta token) stay sealed and hashed values
 *   stay hashed: the export never needs, and never contains, the instance secret.
 * - Order matters on import: identities before the groups, passkeys and invites that point at
 *   them; within a collection, creation order, so lists keep their order after an import.
 */
import type {
  AppRecord,
  AuditEvent,
  AuthenticatorMetadataRecord,
  GroupRecord,
  IdentityRecord,
  InviteRecord,
  JobRecord,
  OidcModelIndexes,
  PasskeyRecord,
  ScimTokenRecord,
  SigningKeyRecord,
} from './storage.ts';

export interface GroupExport extends GroupRecord {
  memberIds: string[];
}

export interface OidcModelExport {
  model: string;
  id: string;
  payload: Record<string, unknown>;
  expiresAt: number | null;
  /** Epoch ms of consumption (authorization codes, refresh tokens), or null. */
  consumedAt: number | null;
  indexes: OidcModelIndexes;
}

export interface SettingExport {
  key: string;
  value: string;
}

export interface OneTimeExport {
  key: string;
  value: string;
  expiresAt: number;
}

export interface ExportedRecords {
  identities: IdentityRecord;
  groups: GroupExport;
  passkeys: PasskeyRecord;
  invites: InviteRecord;
  apps: AppRecord;
  signingKeys: SigningKeyRecord;
  scimTokens: ScimTokenRecord;
  settings: SettingExport;
  authenticatorMetadata: AuthenticatorMetadataRecord;
  oidcModels: OidcModelExport;
  oneTime: OneTimeExport;
  audit: AuditEvent;
  jobs: JobRecord;
}

export type ExportCollection = keyof ExportedRecords;

/** Collections in the order an export yields them and an import needs them. */
export const EXPORT_COLLECTIONS: readonly ExportCollection[] = [
  'identities', 'groups', 'passkeys', 'invites', 'apps', 'signingKeys', 'scimTokens', 'settings',
  'authenticatorMetadata', 'oidcModels', 'oneTime', 'audit', 'jobs',
];

export type ExportItem = { [C in ExportCollection]: { collection: C; record: ExportedRecords[C] } }[ExportCollection];

export type ImportCounts = Record<ExportCollection, number>;

export function emptyCounts(): ImportCounts {
  return Object.fromEntries(EXPORT_COLLECTIONS.map((collection) => [collection, 0])) as ImportCounts;
}

export interface ExportOptions {
  /** oidc-provider models and one-time values expired at `now` are left out (already invisible). */
  now: number;
}

export interface ImportOptions {
  /** Delete everything in the target first. Without it, the caller must have checked it is empty. */
  replace?: boolean;
}
