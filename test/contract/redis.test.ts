/**
 * Runs the storage contract against the Redis adapter. Every store gets its own key prefix (the
 * contract wants an empty store per test); afterwards every key under this run's prefix goes.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { openRedisStore } from '../../adapters/redis/redis-store.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { EXPIRY_ALLOWANCE_MS } from '../../adapters/redis/script.ts';
import { describeStoreContract } from './store-contract.ts';
import { describeChangeNotificationsContract } from './changes.contract.ts';
import { CHANGE_DELIVERY_MS } from '../../server/ports/storage.ts';

const url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const runPrefix = `latchkey-test:${randomUUID()}:`;
let stores = 0;

async function removeRunKeys(): Promise<void> {
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${runPrefix}*`, 'COUNT', 1000);
      if (keys.length) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}

describeStoreContract('redis', () => openRedisStore({ url, keyPrefix: `${runPrefix}${++stores}:` }), removeRunKeys, { reclaimsExpiredItself: true });

// What the contract takes on trust for Redis (sweepExpired returns 0): every expired row carries a
// TTL, so Redis itself reclaims it, within the allowance after its expiry.
describe('redis: expired rows carry their own TTL', () => {
  afterAll(removeRunKeys);

  it('sets PEXPIREAT on expired oidc models and one-time values, no later than the allowance', async () => {
    const keyPrefix = `${runPrefix}ttl:`;
    const store = await openRedisStore({ url, keyPrefix });
    const redis = new Redis(url);
    try {
      const now = Date.now();
      await store.oidc.upsert('Session', 'old', { n: 1 }, now - 60_000, { uid: 'u-old' });
      await store.oneTime.put('old', 'x', now - 60_000);
      await store.oidc.upsert('Grant', 'forever', { n: 2 }, null, {});
      for (const key of ['oidc:Session:old', 'oidc:Session:uid:u-old', 'one-time:old']) {
        const expireAt = await redis.pexpiretime(`${keyPrefix}${key}`);
        expect({ key, ok: expireAt > now && expireAt <= Date.now() + EXPIRY_ALLOWANCE_MS }).toEqual({ key, ok: true });
      }
      expect(await redis.pexpiretime(`${keyPrefix}oidc:Grant:forever`)).toBe(-1);
    } finally {
      redis.disconnect();
      await store.close();
    }
  });
});

describeChangeNotificationsContract('redis', async () => {
  const keyPrefix = `${runPrefix}${++stores}:`;
  return [await openRedisStore({ url, keyPrefix }), await openRedisStore({ url, keyPrefix })];
});

describe('redis change notifications without pub/sub', () => {
  it('a change whose message was lost (subscriber away) still reaches listeners by the version check', async () => {
    const keyPrefix = `${runPrefix}${++stores}:`;
    const store = await openRedisStore({ url, keyPrefix });
    const redis = new Redis(url);
    try {
      let called = 0;
      store.changes.subscribe('topic-a', () => called++);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const before = called;
      // What publish() does, minus the PUBLISH: as if the subscriber had been disconnected.
      await redis.incr(`${keyPrefix}changes:topic-a`);
      const start = Date.now();
      while (called === before && Date.now() - start < 2 * CHANGE_DELIVERY_MS + 500) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(called).toBe(before + 1);
    } finally {
      await store.close();
      await redis.quit();
    }
  });
});
