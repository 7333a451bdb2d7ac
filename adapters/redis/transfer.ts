/**
 * exportAll/importAll for Redis (see server/ports/store-export.ts).
 * - Consistency: one Lua script COPYs every key under the prefix to a scratch prefix
 *   (`{prefix}tmp:snapshot-{nonce}:`). A script runs atomically, so the copy is a point-in-time
 *   snapshot of the whole store across every instance's writes; the export then reads the copy
 *   at leisure through the ordinary repositories and deletes it. The script blocks Redis while
 *   it copies, in proportion to the number of keys (about 8 per person; see
 *   bench/transfer-bench.ts); the copy doubles the prefix's memory until the export ends, and
 *   expires on its own (SNAPSHOT_TTL_MS) if the exporting process dies.
 * - Import writes record by record through the repositories (each write atomic on its own), not
 *   in one transaction: a failed import leaves part of the data, so restore refuses a non-empty
 *   target and `--force` clears the prefix first.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AuditEvent, JobRecord, Store } from '../../server/ports/storage.ts';
import type { ExportItem, ImportCounts, OidcModelExport } from '../../server/ports/store-export.ts';
import { exportThroughRepositories, importThroughRepositories } from '../transfer.ts';
import { createAppRepository } from './apps.ts';
import { createAuthenticatorMetadataRepository } from './authenticator-metadata.ts';
import { createGroupRepository } from './groups.ts';
import { createIdentityRepository } from './identities.ts';
import { createInviteRepository } from './invites.ts';
import { Keys } from './keys.ts';
import { createPasskeyRepository } from './passkeys.ts';
import { createScimTokenRepository } from './scim-tokens.ts';
import { createSigningKeyRepository } from './signing-keys.ts';
import { decodeHash, defineScript, fieldArgs } from './script.ts';

const SNAPSHOT_TTL_MS = 6 * 60 * 60 * 1000;
const BATCH = 500;

/**
 * The first segment of every key this store writes (see keys.ts). Keys under the prefix with any
 * other first segment belong to someone else (another deployment whose prefix extends ours, such
 * as "latchkey:staging:"): a snapshot skips them and a replacing import never deletes them.
 */
const OWN_ROOTS = ['identity', 'identities', 'group', 'groups', 'passkey', 'passkeys', 'invite', 'invites', 'app', 'apps', 'signing-key', 'signing-keys', 'scim-token', 'scim-tokens', 'setting', 'authenticator-metadata', 'oidc', 'one-time', 'audit', 'job', 'jobs'];
const ownKey = (prefix: string, key: string) => OWN_ROOTS.includes(key.slice(prefix.length).split(':')[0]);

// A: KEYS pattern of the prefix, scratch prefix, ttl for copies that have none, own roots...
const SNAPSHOT = `
local own = {}
for i = 4, #A do own[A[i]] = true end
local n = 0
for _, key in ipairs(redis.call('KEYS', A[1])) do
  local rest = string.sub(key, #P + 1)
  local root = string.match(rest, '^[^:]*')
  if own[root] then
    local copy = A[2] .. rest
    redis.call('COPY', key, copy, 'REPLACE')
    if redis.call('PTTL', copy) == -1 then redis.call('PEXPIRE', copy, tonumber(A[3])) end
    n = n + 1
  end
end
return n
`;

// A: id, queue, key, state, fields (count, pairs...): a job as exported, with its indexes (see jobs.ts)
const PUT_JOB = `
local id, q, key, state = A[1], A[2], A[3], A[4]
local jk = K('job', id)
if redis.call('EXISTS', jk) == 1 or redis.call('EXISTS', K('jobs', q, 'key', key)) == 1 then return 0 end
local seq = redis.call('INCR', K('jobs', 'seq'))
hset_pairs(jk, 6, tonumber(A[5]))
redis.call('HSET', jk, '_seq', seq)
redis.call('SET', K('jobs', q, 'key', key), id)
redis.call('ZADD', K('jobs', q, 'all'), seq, id)
redis.call('ZADD', K('jobs', q, 'state', state), seq, id)
if state == 'pending' then
  local f = redis.call('HMGET', jk, 'runAt', 'lockedBy', 'lockedUntil')
  local at = tonumber(f[1])
  local lockedUntil = num(f[3])
  if f[2] ~= 'null' and lockedUntil and lockedUntil > at then at = lockedUntil end
  redis.call('ZADD', K('jobs', q, 'due'), at, string.format('%016d', seq) .. ':' .. id)
end
return 1
`;

/** KEYS/SCAN patterns are globs: a prefix may contain glob characters of its own. */
export const globEscape = (text: string): string => text.replace(/[*?[\]\\]/g, '\\$&');

async function* scanKeys(redis: Redis, pattern: string): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (found.length) yield found;
  } while (cursor !== '0');
}

async function deleteUnderPrefix(redis: Redis, prefix: string, only: (key: string) => boolean = () => true): Promise<void> {
  for await (const batch of scanKeys(redis, `${globEscape(prefix)}*`)) {
    const mine = batch.filter(only);
    if (mine.length) await redis.unlink(...mine);
  }
}

export async function* exportRedis(redis: Redis, keys: Keys, now: number): AsyncGenerator<ExportItem> {
  const scratch = new Keys(`${keys.prefix}tmp:snapshot-${randomBytes(8).toString('hex')}:`);
  const snapshot = defineScript(redis, keys.prefix, 'latchkeySnapshot', SNAPSHOT);
  await snapshot(`${globEscape(keys.prefix)}*`, scratch.prefix, SNAPSHOT_TTL_MS, ...OWN_ROOTS);
  const under = (...parts: string[]) => `${globEscape(scratch.key(...parts))}`;
  try {
    const repos = {
      identities: createIdentityRepository(redis, scratch),
      groups: createGroupRepository(redis, scratch),
      passkeys: createPasskeyRepository(redis, scratch),
      invites: createInviteRepository(redis, scratch),
      apps: createAppRepository(redis, scratch),
      signingKeys: createSigningKeyRepository(redis, scratch),
      scimTokens: createScimTokenRepository(redis, scratch),
      authenticatorMetadata: createAuthenticatorMetadataRepository(redis, scratch),
    };
    yield* exportThroughRepositories(
      repos,
      {
        async *settings() {
          const found: { key: string; value: string }[] = [];
          for await (const batch of scanKeys(redis, `${under('setting')}:*`)) {
            const values = await redis.mget(batch);
            batch.forEach((key, i) => {
              if (values[i] !== null) found.push({ key: key.slice(scratch.setting('').length), value: values[i]! });
            });
          }
          yield* found.sort((a, b) => (a.key < b.key ? -1 : 1));
        },
        async *oidcModels() {
          const found: OidcModelExport[] = [];
          for await (const batch of scanKeys(redis, `${under('oidc')}:*`)) {
            const types = await batch.reduce((pipe, key) => pipe.type(key), redis.pipeline()).exec();
            const hashes = batch.filter((_, i) => types?.[i]?.[1] === 'hash');
            const bodies = await hashes.reduce((pipe, key) => pipe.hgetall(key), redis.pipeline()).exec();
            hashes.forEach((key, i) => {
              const hash = (bodies?.[i]?.[1] ?? {}) as Record<string, string>;
              if (hash.payload === undefined) return;
              const [model, id] = key.slice(scratch.key('oidc', '').length).split(':');
              const expiresAt = hash.expiresAt === undefined ? null : Number(hash.expiresAt);
              if (expiresAt !== null && expiresAt <= now) return;
              const indexes: OidcModelExport['indexes'] = {};
              for (const name of ['grantId', 'uid', 'userCode', 'accountId'] as const) if (hash[name] !== undefined) indexes[name] = hash[name];
              found.push({ model, id, payload: JSON.parse(hash.payload), expiresAt, consumedAt: hash.consumed === undefined ? null : Number(hash.consumed), indexes });
            });
          }
          yield* found.sort((a, b) => (a.model === b.model ? (a.id < b.id ? -1 : 1) : a.model < b.model ? -1 : 1));
        },
        async *oneTime() {
          for await (const batch of scanKeys(redis, `${under('one-time')}:*`)) {
            const values = await redis.mget(batch);
            for (const [i, key] of batch.entries()) {
              const stored = values[i];
              if (stored === null) continue;
              const split = stored.indexOf(':');
              const expiresAt = Number(stored.slice(0, split));
              if (expiresAt > now) yield { key: key.slice(scratch.oneTime('').length), value: stored.slice(split + 1), expiresAt };
            }
          }
        },
        async *audit() {
          // by-time orders by `at`, then "{seq}:{id}": the order the events were appended in.
          for (let offset = 0; ; offset += BATCH) {
            const members = await redis.zrange(scratch.auditByTime(), offset, offset + BATCH - 1);
            if (members.length === 0) return;
            const events = await redis.mget(members.map((member) => scratch.auditEvent(member.slice(17))));
            for (const json of events) if (json !== null) yield JSON.parse(json) as AuditEvent;
            if (members.length < BATCH) return;
          }
        },
        async *jobs() {
          const found: { seq: number; job: JobRecord }[] = [];
          for await (const batch of scanKeys(redis, `${under('job')}:*`)) {
            const hashes = await batch.reduce((pipe, key) => pipe.hgetall(key), redis.pipeline()).exec();
            for (const [, hash] of hashes ?? []) {
              const job = decodeHash<JobRecord>(hash as Record<string, string>);
              if (job) found.push({ seq: Number((hash as Record<string, string>)._seq), job });
            }
          }
          for (const { job } of found.sort((a, b) => a.seq - b.seq)) yield job;
        },
      },
      now,
    );
  } finally {
    await deleteUnderPrefix(redis, scratch.prefix);
  }
}

export async function importRedis(
  redis: Redis,
  keys: Keys,
  store: Store,
  items: AsyncIterable<ExportItem> | Iterable<ExportItem>,
  replace: boolean,
): Promise<ImportCounts> {
  const putJob = defineScript(redis, keys.prefix, 'latchkeyImportJob', PUT_JOB);
  if (replace) await deleteUnderPrefix(redis, keys.prefix, (key) => ownKey(keys.prefix, key));
  return importThroughRepositories(store, items, async (job) => {
    if ((await putJob(job.id, job.queue, job.key, job.state, ...fieldArgs(job))) !== 1) {
      throw new Error(`job ${job.queue}/${job.key} already exists in the target`);
    }
  });
}
