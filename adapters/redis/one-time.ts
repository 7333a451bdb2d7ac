/**
 * One-time values in Redis. take() is a single GETDEL, so a value (a WebAuthn challenge, a
 * magic-link state) is handed to exactly one caller even across instances. Expiry is judged
 * against the caller's `now`; the Redis TTL only collects what nobody took.
 */
import type { Redis } from 'ioredis';
import type { OneTimeRepository } from '../../server/ports/storage.ts';
import type { Keys } from './keys.ts';
import { gcExpireAt } from './script.ts';

export function createOneTimeRepository(redis: Redis, keys: Keys): OneTimeRepository {
  return {
    async put(key, value, expiresAt) {
      await redis.set(keys.oneTime(key), `${expiresAt}:${value}`, 'PXAT', gcExpireAt(expiresAt));
    },
    async take(key, now) {
      const stored = await redis.getdel(keys.oneTime(key));
      if (stored === null) return null;
      const split = stored.indexOf(':');
      // An expired value is deleted all the same: it can never be taken again.
      return Number(stored.slice(0, split)) > now ? stored.slice(split + 1) : null;
    },
  };
}
