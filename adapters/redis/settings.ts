/**
 * Settings in Redis, one string per key. setIfAbsent is one SET ... NX GET (Redis >= 7.0): the
 * first writer wins and every racer is answered with the stored value in the same command.
 */
import type { Redis } from 'ioredis';
import type { SettingsRepository } from '../../server/ports/storage.ts';
import type { Keys } from './keys.ts';

export function createSettingsRepository(redis: Redis, keys: Keys): SettingsRepository {
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
  };
}
