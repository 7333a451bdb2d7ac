/**
 * Passkeys in Redis.
 * - The credential id is the record key: registering one twice is a conflict on field 'id'
 *   (WebAuthn L3 §7.1 step 25: a credential id already registered must be rejected).
 * - recordUse is one compare-and-set script on the counter, so two racing assertions cannot both
 *   move it (signature counter check, WebAuthn L3 §7.2 step 21).
 * - Insert and delete keep identities:with-passkey, the enrolled side of enrollment status, in the
 *   same script; outbox jobs are written there too, and only if the change happened.
 * - A passkey must belong to an existing identity ('not_found' otherwise), so no orphan can make a
 *   later identity look enrolled.
 */
import type { Redis } from 'ioredis';
import type { PasskeyRecord, PasskeyRepository } from '../../server/ports/storage.ts';
import { ENQUEUE_LUA, jobArgs } from './jobs.ts';
import type { Keys } from './keys.ts';
import { decodeHash, decodeList, defineScript, fail, fieldArgs, HSET_IF_EXISTS, LIST_BY_INDEX } from './script.ts';

// A: id, identity id, now, fields (count, pairs...), jobs...
const INSERT = `${ENQUEUE_LUA}
local id, owner = A[1], A[2]
local rk = K('passkey', id)
if redis.call('EXISTS', rk) == 1 then return { 'conflict', 'id' } end
if redis.call('EXISTS', K('identity', owner)) == 0 then return { 'not_found' } end
local seq = redis.call('INCR', K('passkeys', 'seq'))
local n = tonumber(A[4])
hset_pairs(rk, 5, n)
redis.call('HSET', rk, '_seq', seq, '_owner', owner)
redis.call('ZADD', K('identity', owner, 'passkeys'), seq, id)
redis.call('SADD', K('identities', 'with-passkey'), owner)
enqueue_jobs(5 + n * 2, tonumber(A[3]))
return { 'ok' }
`;

// A: id, now, jobs...
const DELETE = `${ENQUEUE_LUA}
local id = A[1]
local rk = K('passkey', id)
local owner = redis.call('HGET', rk, '_owner')
if not owner then return 0 end
redis.call('DEL', rk)
local list = K('identity', owner, 'passkeys')
redis.call('ZREM', list, id)
if redis.call('ZCARD', list) == 0 then redis.call('SREM', K('identities', 'with-passkey'), owner) end
enqueue_jobs(3, tonumber(A[2]))
return 1
`;

// A: id, expected counter, new counter (JSON), usedAt (JSON)
const RECORD_USE = `
local rk = K('passkey', A[1])
local counter = num(redis.call('HGET', rk, 'counter'))
if counter == nil or counter ~= tonumber(A[2]) then return 0 end
redis.call('HSET', rk, 'counter', A[3], 'lastUsedAt', A[4])
return 1
`;

/** Passkeys written before attestation was recorded read as attestation 'none', not attested. */
function withDefaults(record: PasskeyRecord | null): PasskeyRecord | null {
  return record ? { ...record, attestationFormat: record.attestationFormat ?? 'none', attested: record.attested ?? false } : null;
}

export function createPasskeyRepository(redis: Redis, keys: Keys): PasskeyRepository {
  const s = (name: string, body: string) => defineScript(redis, keys.prefix, `latchkeyPasskeys${name}`, body);
  const insert = s('Insert', INSERT);
  const remove = s('Delete', DELETE);
  const recordUse = s('RecordUse', RECORD_USE);
  const hsetIfExists = s('HsetIfExists', HSET_IF_EXISTS);
  const listByIndex = s('ListByIndex', LIST_BY_INDEX);

  return {
    async insert(passkey, options) {
      fail(
        await insert(passkey.id, passkey.identityId, Date.now(), ...fieldArgs(passkey), ...jobArgs(options?.enqueue)),
        `passkey ${passkey.id}`,
      );
    },
    async get(id) {
      return withDefaults(decodeHash<PasskeyRecord>(await redis.hgetall(keys.passkey(id))));
    },
    async listByIdentity(identityId) {
      return decodeList<PasskeyRecord>(await listByIndex(keys.identityPasskeys(identityId), keys.passkey(''))).map((record) => withDefaults(record)!);
    },
    async recordUse(id, expectedCounter, newCounter, usedAt) {
      return (await recordUse(id, expectedCounter, JSON.stringify(newCounter), JSON.stringify(usedAt))) === 1;
    },
    async rename(id, name) {
      return (await hsetIfExists(keys.passkey(id), 1, 'name', JSON.stringify(name))) === 1;
    },
    async delete(id, options) {
      return (await remove(id, Date.now(), ...jobArgs(options?.enqueue))) === 1;
    },
  };
}
