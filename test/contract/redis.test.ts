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
import { startRedisProcess } from '../support/redis-process.ts';

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

describe('Redis: re-keying records written before unique claims', () => {
  it('gives each key to the oldest holder and keeps younger duplicates editable, unverified', async () => {
    const prefix = `${runPrefix}legacy:`;
    const first = await openRedisStore({ url, keyPrefix: prefix });
    const base = {
      emailVerified: true, givenName: null, familyName: null, displayName: null, externalId: null,
      oktaUserId: null, locale: null, active: true, roles: [], attributes: {}, source: 'cli' as const, createdAt: 1, updatedAt: 1, version: 1,
    };
    await first.identities.create({ ...base, id: 'old', userName: 'jos\u00e9', email: 'Shared@example.test' });
    await first.identities.create({ ...base, id: 'young', userName: 'someone', email: 'other@example.test' });
    await first.close();

    // Rewrite both into the previous release's layout: one lowercased userName key, no claims,
    // email only in a non-unique set, and the younger one sharing the older one's address.
    const redis = new Redis(url);
    try {
      const all = await redis.keys(`${prefix}identities:by-*`);
      if (all.length) await redis.del(...all);
      await redis.del(`${prefix}schema:identity-claims`);
      await redis.hdel(`${prefix}identity:old`, '_claims');
      await redis.hdel(`${prefix}identity:young`, '_claims');
      await redis.hset(`${prefix}identity:old`, '_ukey', `${prefix}identities:by-userName:jos\u00e9`);
      await redis.hset(`${prefix}identity:young`, '_ukey', `${prefix}identities:by-userName:jose\u0301`,
        'userName', JSON.stringify('jose\u0301'), 'email', JSON.stringify('shared@EXAMPLE.test'));
      await redis.set(`${prefix}identities:by-userName:jos\u00e9`, 'old');
      await redis.set(`${prefix}identities:by-userName:jose\u0301`, 'young');
    } finally {
      await redis.quit();
    }

    const store = await openRedisStore({ url, keyPrefix: prefix });
    try {
      expect((await store.identities.getByUserName('JOSE\u0301'))?.id).toBe('old');
      const byEmail = await store.identities.query({ filter: { attr: 'email', value: 'SHARED@example.test' }, offset: 0, limit: 10, now: Date.now() });
      // Both still carry the address (the email filter matches every address a person has); only
      // the older one holds the unique claim, so nobody new can take it.
      expect(byEmail.items.map((item) => item.id).sort()).toEqual(['old', 'young']);
      await expect(store.identities.create({ ...(await store.identities.get('old'))!, id: 'third', userName: 'third', email: 'SHARED@example.test' })).rejects.toMatchObject({ field: 'email' });
      const young = await store.identities.get('young');
      expect(young?.emailVerified).toBe(false);
      const deactivated = await store.identities.update({ ...young!, active: false }, young!.version);
      await store.identities.update({ ...deactivated, email: 'young@example.test', userName: 'young' }, deactivated.version);
      await expect(store.identities.create({ ...base, id: 'new', userName: 'JOSÉ', email: 'n@example.test' })).rejects.toMatchObject({ field: 'userName' });
    } finally {
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

// Scripts run by SHA1 (adapters/redis/script.ts); a Redis that forgot them (restart, failover,
// SCRIPT FLUSH) must get them again, not fail the write. A private redis-server: SCRIPT FLUSH is
// server-wide, and the shared one is not ours to flush.
describe('redis: scripts after the server forgot them', () => {
  it('a write through a script succeeds after SCRIPT FLUSH, and the script is cached again', async () => {
    const server = await startRedisProcess();
    const store = await openRedisStore({ url: server.url, keyPrefix: 'flush:' });
    const admin = new Redis(server.url);
    try {
      const now = Date.now();
      await store.oidc.upsert('Session', 'before', { n: 1 }, now + 60_000, { uid: 'u-before' });
      expect(await store.oidc.find('Session', 'before', now)).toEqual({ n: 1 });
      await admin.script('FLUSH');
      expect(Number((await admin.info('memory')).match(/number_of_cached_scripts:(\d+)/)?.[1])).toBe(0);
      await store.oidc.upsert('Session', 'after', { n: 2 }, now + 60_000, { uid: 'u-after' });
      expect(await store.oidc.find('Session', 'after', now)).toEqual({ n: 2 });
      expect(await store.oidc.consume('Session', 'after', now)).toBe(true);
      const cached = (await admin.info('memory')).match(/number_of_cached_scripts:(\d+)/)?.[1];
      expect(Number(cached)).toBeGreaterThan(0);
    } finally {
      admin.disconnect();
      await store.close();
      await server.stop();
    }
  });
});
