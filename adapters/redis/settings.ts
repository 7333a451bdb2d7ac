/**
 * Settings in Redis, one string per key. setIfAbsent is one SET ... NX GET (Redis >= 7.0): the
 * first writer wins and every racer is answered with the stored value in the same command.
 */
import type { Redis } from 'ioredis';
import type { SettingsRepository } from '../../server/ports/storage.ts';
import type { Keys } from './keys.ts';
import { defineScript } from './script.ts';

// A: key, expected ('' with A[3] = '0': must be absent), value, expected-present flag
const COMPARE_AND_SET = `
local rk = K('setting', A[1])
local current = redis.call('GET', rk)
if A[4] == '0' then
  if current then return 0 end
elseif current ~= A[2] then
  return 0
end
redis.call('SET', rk, A[3])
return 1
`;

export function createSettingsRepository(redis: Redis, keys: Keys): SettingsRepository {
  const compareAndSet = defineScript(redis, keys.prefix, 'latchkeySettingsCompareAndSet', COMPARE_AND_SET);
  return {
    async get(key) {
      return redis.get(keys.setting(key));
    },
    async set(key, value) {
      await redis.set(keys.setting(key), value);
    },
    async setIfAbsent(key, value) {
      const previous = (await redis.call('SET', keys.setting(key), value, 'NX', 'GET')) as string | null;
      return previous ?? value;
    },
    async compareAndSet(key, expected, value) {
      return (await compareAndSet(key, expected ?? '', value, expected === null ? '0' : '1')) === 1;
    },
  };
}
