/**
 * The imported FIDO MDS3 BLOB in Redis: one hash, `no` beside the JSON record, so the rollback
 * check reads a number and the compare-and-write is one script (atomic across instances).
 */
import type { Redis } from 'ioredis';
import type { AuthenticatorMetadataRecord, AuthenticatorMetadataRepository } from '../../server/ports/storage.ts';
import type { Keys } from './keys.ts';

// KEYS[1]: the hash; ARGV: no, record JSON. Answers the `no` stored afterwards and 1 if this call stored it.
const REPLACE = `
local current = tonumber(redis.call('HGET', KEYS[1], 'no'))
local no = tonumber(ARGV[1])
if current and current >= no then return {current, 0} end
redis.call('HSET', KEYS[1], 'no', ARGV[1], 'record', ARGV[2])
return {no, 1}
`;

export function createAuthenticatorMetadataRepository(redis: Redis, keys: Keys): AuthenticatorMetadataRepository {
  const key = keys.authenticatorMetadata();
  return {
    async get() {
      const json = await redis.hget(key, 'record');
      return json === null ? null : (JSON.parse(json) as AuthenticatorMetadataRecord);
    },
    async currentNo() {
      const no = await redis.hget(key, 'no');
      return no === null ? null : Number(no);
    },
    async replace(record) {
      const [currentNo, stored] = (await redis.eval(REPLACE, 1, key, String(record.no), JSON.stringify(record))) as [number, number];
      return { stored: stored === 1, currentNo };
    },
  };
}
