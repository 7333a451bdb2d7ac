/**
 * What both adapters share for exportAll/importAll (server/ports/store-export.ts): walking the
 * collections through the repositories, which already return port records, and writing them
 * back through the repositories, which already keep every index and uniqueness rule.
 * - The adapter supplies a snapshot: repositories opened on a read transaction (SQLite) or on a
 *   frozen copy of the key space (Redis), so the walk is consistent however long it takes.
 * - What the repositories cannot list or write as-is (settings, protocol state, the audit log in
 *   full, jobs with their state) comes from the adapter's own raw readers and writer.
 */
import type { Store } from '../server/ports/storage.ts';
import {
  emptyCounts,
  type ExportItem,
  type ImportCounts,
  type OidcModelExport,
  type OneTimeExport,
  type SettingExport,
} from '../server/ports/store-export.ts';
import type { AuditEvent, JobRecord } from '../server/ports/storage.ts';

const PAGE = 500;

export type SnapshotRepositories = Pick<Store, 'identities' | 'groups' | 'passkeys' | 'invites' | 'apps' | 'signingKeys' | 'scimTokens' | 'authenticatorMetadata'>;

export interface RawReaders {
  settings(): AsyncIterable<SettingExport>;
  /** Live models only (expiresAt null or after now). */
  oidcModels(): AsyncIterable<OidcModelExport>;
  oneTime(): AsyncIterable<OneTimeExport>;
  /** Oldest first. */
  audit(): AsyncIterable<AuditEvent>;
  /** Creation order. */
  jobs(): AsyncIterable<JobRecord>;
}

export async function* exportThroughRepositories(repos: SnapshotRepositories, raw: RawReaders, now: number): AsyncGenerator<ExportItem> {
  const identityIds: string[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await repos.identities.query({ offset, limit: PAGE, now });
    for (const record of page.items) {
      identityIds.push(record.id);
      yield { collection: 'identities', record };
    }
    if (page.items.length < PAGE) break;
  }
  for (let offset = 0; ; offset += PAGE) {
    const page = await repos.groups.query({ offset, limit: PAGE });
    for (const group of page.items) {
      yield { collection: 'groups', record: { ...group, memberIds: await repos.groups.members(group.id) } };
    }
    if (page.items.length < PAGE) break;
  }
  for (const id of identityIds) {
    for (const record of await repos.passkeys.listByIdentity(id)) yield { collection: 'passkeys', record };
  }
  for (const id of identityIds) {
    for (const record of await repos.invites.listByIdentity(id)) yield { collection: 'invites', record };
  }
  for (const record of await repos.apps.list()) yield { collection: 'apps', record };
  for (const record of await repos.signingKeys.list()) yield { collection: 'signingKeys', record };
  for (const record of await repos.scimTokens.list()) yield { collection: 'scimTokens', record };
  for await (const record of raw.settings()) yield { collection: 'settings', record };
  const metadata = await repos.authenticatorMetadata.get();
  if (metadata) yield { collection: 'authenticatorMetadata', record: metadata };
  for await (const record of raw.oidcModels()) yield { collection: 'oidcModels', record };
  for await (const record of raw.oneTime()) yield { collection: 'oneTime', record };
  for await (const record of raw.audit()) yield { collection: 'audit', record };
  for await (const record of raw.jobs()) yield { collection: 'jobs', record };
}

/** Writes each item through the store's repositories; jobs go through the adapter's putJob. */
export async function importThroughRepositories(
  store: Store,
  items: AsyncIterable<ExportItem> | Iterable<ExportItem>,
  putJob: (job: JobRecord) => Promise<void>,
): Promise<ImportCounts> {
  const counts = emptyCounts();
  for await (const item of items) {
    switch (item.collection) {
      case 'identities':
        await store.identities.create(item.record);
        break;
      case 'groups': {
        const { memberIds, ...group } = item.record;
        await store.groups.create(group, memberIds);
        break;
      }
      case 'passkeys':
        // Backups written before attestation was recorded: such passkeys attested nothing.
        await store.passkeys.insert({ ...item.record, attestationFormat: item.record.attestationFormat ?? 'none', attested: item.record.attested ?? false });
        break;
      case 'invites':
        // Older invites of the identity come first and are already spent or revoked, so the
        // "revoke every other unspent invite" rule of create() changes nothing here.
        await store.invites.create(item.record);
        break;
      case 'apps':
        await store.apps.create(item.record);
        break;
      case 'signingKeys':
        await store.signingKeys.insert(item.record);
        break;
      case 'scimTokens':
        await store.scimTokens.create(item.record);
        break;
      case 'settings':
        await store.settings.set(item.record.key, item.record.value);
        break;
      case 'authenticatorMetadata':
        await store.authenticatorMetadata.replace(item.record);
        break;
      case 'oidcModels': {
        const { model, id, payload, expiresAt, consumedAt, indexes } = item.record;
        await store.oidc.upsert(model, id, payload, expiresAt, indexes);
        // A consumed code must stay consumed: its reuse revokes what it issued (RFC 6749 §4.1.2).
        if (consumedAt !== null) await store.oidc.consume(model, id, consumedAt);
        break;
      }
      case 'oneTime':
        await store.oneTime.put(item.record.key, item.record.value, item.record.expiresAt);
        break;
      case 'audit':
        await store.audit.append(item.record);
        break;
      case 'jobs':
        await putJob(item.record);
        break;
      default: {
        const unknown: never = item;
        throw new Error(`unknown collection in import: ${JSON.stringify((unknown as { collection: unknown }).collection)}`);
      }
    }
    counts[item.collection]++;
  }
  return counts;
}
