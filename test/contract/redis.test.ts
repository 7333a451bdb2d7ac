/**
 * Runs the storage contract against the Redis adapter. Every store gets its own key prefix (the
 * contract wants an empty store per test); afterwards every key under this run's prefix goes.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { openRedisStore } from '../../adapters/redis/redis-store.ts';
import { describeStoreContract } from './store-contract.ts';

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
