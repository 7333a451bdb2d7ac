/**
 * Brings records written before `source` and the filter indexes existed (issue 11) up to date:
 * each identity and group gets a `source` (best guess: an externalId means SCIM, else the CLI),
 * and joins the index sets and time zsets its current fields call for. Rules:
 * - runs once per key prefix, claimed by SET NX on a marker, so instances starting together do
 *   not all do it; it only adds what is missing, so running it again is harmless;
 * - records are read and written in pipelined batches, never all at once.
 */
import type { Redis } from 'ioredis';
import type { GroupRecord, IdentityRecord } from '../../server/ports/storage.ts';
import { groupIndexKeys } from './groups.ts';
import { identityIndexKeys } from './identities.ts';
import type { Keys } from './keys.ts';
import { decodeHash } from './script.ts';

const BATCH = 500;

async function upgrade<T extends { id: string; externalId: string | null; source?: string }>(
  redis: Redis,
  ids: string[],
  recordKey: (id: string) => string,
  indexKeys: (record: T) => string[],
  extra: (pipeline: ReturnType<Redis['pipeline']>, record: T) => void,
): Promise<void> {
  for (let start = 0; start < ids.length; start += BATCH) {
    const batch = ids.slice(start, start + BATCH);
    const read = redis.pipeline();
    for (const id of batch) read.hgetall(recordKey(id));
    const write = redis.pipeline();
    for (const [, hash] of (await read.exec()) ?? []) {
      const record = decodeHash<T>((hash ?? {}) as Record<string, string>);
      if (!record) continue;
      if (!record.source) {
        record.source = record.externalId !== null ? 'scim' : 'cli';
        write.hset(recordKey(record.id), 'source', JSON.stringify(record.source));
      }
      const previous = JSON.parse((hash as Record<string, string>)._idx ?? '[]') as string[];
      const wanted = indexKeys(record);
      for (const key of wanted) write.sadd(key, record.id);
      write.hset(recordKey(record.id), '_idx', JSON.stringify([...new Set([...previous, ...wanted])]));
      extra(write, record);
    }
    await write.exec();
  }
}

export async function upgradeIndexes(redis: Redis, keys: Keys): Promise<void> {
  if ((await redis.set(keys.key('upgrade', 'scim-filters-v1'), String(Date.now()), 'NX')) === null) return;
  await upgrade<IdentityRecord>(redis, await redis.zrange(keys.identitiesAll(), 0, -1), keys.identity, (identity) => identityIndexKeys(keys, identity), (pipeline, identity) => {
    pipeline.zadd(keys.identitiesByTime('createdAt'), identity.createdAt, identity.id);
    pipeline.zadd(keys.identitiesByTime('updatedAt'), identity.updatedAt, identity.id);
  });
  await upgrade<GroupRecord>(redis, await redis.zrange(keys.groupsAll(), 0, -1), keys.group, (group) => groupIndexKeys(keys, group), () => undefined);
}
