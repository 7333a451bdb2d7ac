/**
 * Redis stores written before issue 11 have records without `source` and without the filter
 * indexes (source, displayName, every address, time zsets): opening the store upgrades them once.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { openRedisStore } from '../../adapters/redis/redis-store.ts';
import { NOW, group, identity } from './fixtures.ts';

const url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `latchkey-test:${randomUUID()}:`;
const redis = new Redis(url);

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.unlink(...keys);
  await redis.quit();
});

describe('redis index upgrade', () => {
  it('gives old records a source guess and the index entries the new filters read', async () => {
    const first = await openRedisStore({ url, keyPrefix: prefix });
    await first.identities.create(identity({ id: 'old-1', externalId: 'okta-1', displayName: 'Old One', attributes: { emails: [{ value: 'second@example.test' }] }, createdAt: NOW - 10 }));
    await first.groups.create(group({ id: 'old-g', externalId: null, source: 'console' }), []);
    await first.close();
    // What a store written by an older release looks like: no source, none of the new index keys.
    await redis.hdel(`${prefix}identity:old-1`, 'source');
    await redis.hdel(`${prefix}group:old-g`, 'source');
    for (const pattern of ['identities:by-source:*', 'identities:by-displayName:*', 'identities:by-createdAt', 'identities:by-updatedAt', 'groups:by-source:*', 'upgrade:*']) {
      const keys = await redis.keys(`${prefix}${pattern}`);
      if (keys.length) await redis.unlink(...keys);
    }
    await redis.srem(`${prefix}identities:by-email:second@example.test`, 'old-1');

    const store = await openRedisStore({ url, keyPrefix: prefix });
    try {
      const ids = async (filter: Parameters<typeof store.identities.query>[0]['filter']) => (await store.identities.query({ filter, offset: 0, limit: 10, now: NOW })).items.map((item) => item.id);
      expect((await store.identities.get('old-1'))?.source).toBe('scim');
      expect(await ids({ attr: 'source', value: 'scim' })).toEqual(['old-1']);
      expect(await ids({ attr: 'displayName', value: 'old one' })).toEqual(['old-1']);
      expect(await ids({ attr: 'email', value: 'second@example.test' })).toEqual(['old-1']);
      expect(await ids({ attr: 'createdAt', op: 'lt', value: NOW })).toEqual(['old-1']);
      expect((await store.groups.get('old-g'))?.source).toBe('cli');
      expect((await store.groups.query({ filter: { attr: 'source', value: 'cli' }, offset: 0, limit: 10 })).items.map((item) => item.id)).toEqual(['old-g']);
    } finally {
      await store.close();
    }
  });
});

describe('redis passkeys written before attestation was recorded', () => {
  it('read as attestation "none", not attested', async () => {
    const { passkey } = await import('./fixtures.ts');
    const store = await openRedisStore({ url, keyPrefix: prefix });
    try {
      await store.identities.create(identity({ id: 'holder' }));
      const key = passkey('holder', { attestationFormat: 'packed', attested: true });
      await store.passkeys.insert(key);
      await redis.hdel(`${prefix}passkey:${key.id}`, 'attestationFormat', 'attested');
      expect(await store.passkeys.get(key.id)).toEqual({ ...key, attestationFormat: 'none', attested: false });
      expect(await store.passkeys.listByIdentity('holder')).toEqual([{ ...key, attestationFormat: 'none', attested: false }]);
    } finally {
      await store.close();
    }
  });
});
