/**
 * Runs the storage contract against the Redis adapter. Every store gets its own key prefix (the
 * contract wants an empty store per test); afterwards every key under this run's prefix goes.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { openRedisStore } from '../../adapters/redis/redis-store.ts';
import { describe, expect, it } from 'vitest';
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

describeStoreContract('redis', () => openRedisStore({ url, keyPrefix: `${runPrefix}${++stores}:` }), removeRunKeys);

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
