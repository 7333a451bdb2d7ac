/**
 * SCIM bearer tokens: shown once, stored hashed, expiring by default, several valid at once, and
 * one answer (null) for unknown, revoked and expired tokens. A good token is remembered after its
 * first use, and a revocation anywhere (this process, another instance on the same Redis, the CLI
 * on the same SQLite file) ends it in every process.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../adapters/sqlite/sqlite-store.ts';
import { openRedisStore } from '../../adapters/redis/redis-store.ts';
import { CHANGE_DELIVERY_MS, type Store } from '../../server/ports/storage.ts';
import { dropRedisPrefix, REDIS_URL } from '../support/test-server.ts';
import { createAuditLog } from '../../server/domain/audit.ts';
import { hashToken } from '../../server/domain/secrets.ts';
import { LAST_USED_RESOLUTION_MS } from '../../server/domain/last-used.ts';
import { DEFAULT_SCIM_TOKEN_TTL_MS, SCIM_TOKENS_TOPIC, createScimTokenService, type ScimTokenService } from '../../server/domain/scim-tokens.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

const DAY = 24 * 60 * 60 * 1000;

const tokenServiceOn = (store: Store, clock = { now: () => Date.now() }) => createScimTokenService({ store, clock, audit: createAuditLog(store.audit, clock) });

/** Counts the store's token reads, to tell a cached answer from a read. */
function countingReads(store: Store): { store: Store; reads: () => number } {
  let reads = 0;
  const scimTokens = { ...store.scimTokens, getByHash: (hash: string) => (reads++, store.scimTokens.getByHash(hash)) };
  return { store: Object.assign(Object.create(store) as Store, { scimTokens }), reads: () => reads };
}

/** Resolves when `store` next hears `topic` (the token service subscribed first, so it has already run). */
const nextChange = (store: Store, topic: string, withinMs = CHANGE_DELIVERY_MS + 1_000) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${topic} not heard within ${withinMs} ms`)), withinMs);
    const stop = store.changes.subscribe(topic, () => {
      clearTimeout(timer);
      stop();
      resolve();
    });
  });

describe('SCIM tokens', () => {
  let dir: string;
  let store: Store;
  let now: number;
  let tokens: ScimTokenService;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-scim-tokens-'));
    store = await openSqliteStore({ dataDir: dir });
    now = Date.UTC(2026, 0, 1);
    const clock = { now: () => now };
    tokens = createScimTokenService({ store, clock, audit: createAuditLog(store.audit, clock) });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a token that expires in 90 days by default, stores only its hash, and never lists it', async () => {
    const { token, info } = await tokens.create({ name: ' Okta SCIM Token ' }, CLI_ACTOR);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(info).toEqual({ id: expect.any(String), name: 'Okta SCIM Token', createdAt: now, expiresAt: now + DEFAULT_SCIM_TOKEN_TTL_MS, lastUsedAt: null, revokedAt: null, state: 'active' });
    const [stored] = await store.scimTokens.list();
    expect(stored.tokenHash).toBe(hashToken(token));
    expect(JSON.stringify(await store.scimTokens.list())).not.toContain(token);
    const listed = await tokens.list();
    expect(listed).toEqual([info]);
    expect(JSON.stringify(listed)).not.toContain(stored.tokenHash);
    expect((await store.audit.list({ actor: 'cli', limit: 10 })).map((event) => event.action)).toEqual(['scim-token.create']);
  });

  it('has no expiry only when explicitly asked, and refuses an expiry in the past or an empty name', async () => {
    expect((await tokens.create({ name: 'forever', expiresAt: null }, CLI_ACTOR)).info.expiresAt).toBeNull();
    expect((await tokens.create({ name: 'dated', expiresAt: now + DAY }, CLI_ACTOR)).info.expiresAt).toBe(now + DAY);
    await expect(tokens.create({ name: 'late', expiresAt: now - 1 }, CLI_ACTOR)).rejects.toMatchObject({ code: 'invalid_input', field: 'expiresAt' });
    await expect(tokens.create({ name: '  ' }, CLI_ACTOR)).rejects.toMatchObject({ code: 'invalid_input', field: 'name' });
  });

  it('authenticates several valid tokens at once and touches lastUsedAt at most once a minute', async () => {
    const first = await tokens.create({ name: 'old' }, CLI_ACTOR);
    const second = await tokens.create({ name: 'new' }, CLI_ACTOR);
    expect((await tokens.authenticate(first.token))?.id).toBe(first.info.id);
    expect((await tokens.authenticate(second.token))?.id).toBe(second.info.id);
    const touchedAt = now;
    now += LAST_USED_RESOLUTION_MS - 1;
    await tokens.authenticate(first.token);
    expect((await tokens.list()).find((token) => token.id === first.info.id)?.lastUsedAt).toBe(touchedAt);
    now += 1;
    await tokens.authenticate(first.token);
    expect((await tokens.list()).find((token) => token.id === first.info.id)?.lastUsedAt).toBe(now);
  });

  it('answers null alike for unknown, empty, revoked and expired tokens', async () => {
    const revoked = await tokens.create({ name: 'revoked' }, CLI_ACTOR);
    const expiring = await tokens.create({ name: 'expiring', expiresAt: now + DAY }, CLI_ACTOR);
    expect((await tokens.revoke(revoked.info.id, CLI_ACTOR)).state).toBe('revoked');
    expect(await tokens.authenticate(revoked.token)).toBeNull();
    expect(await tokens.authenticate('not-a-token')).toBeNull();
    expect(await tokens.authenticate('')).toBeNull();
    expect(await tokens.authenticate(expiring.token)).not.toBeNull();
    now += DAY;
    expect(await tokens.authenticate(expiring.token)).toBeNull();
    expect((await tokens.list()).map((token) => token.state)).toEqual(['revoked', 'expired']);
  });

  it('revoke is idempotent, audited once, and says so when the id is unknown', async () => {
    const { info } = await tokens.create({ name: 'x' }, CLI_ACTOR);
    now += 1000;
    await tokens.revoke(info.id, CLI_ACTOR);
    now += 1000;
    expect((await tokens.revoke(info.id, CLI_ACTOR)).revokedAt).toBe(now - 1000);
    expect((await store.audit.list({ target: `scim-token:${info.id}`, limit: 10 })).map((event) => event.action)).toEqual(['scim-token.revoke', 'scim-token.create']);
    await expect(tokens.revoke('nope', CLI_ACTOR)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('reads a good token once, still refuses it once expired, and a revocation here ends it at once', async () => {
    const counted = countingReads(store);
    const service = tokenServiceOn(counted.store, { now: () => now });
    const { token, info } = await tokens.create({ name: 'okta', expiresAt: now + DAY }, CLI_ACTOR);
    const other = await tokens.create({ name: 'other' }, CLI_ACTOR);
    expect((await service.authenticate(token))?.id).toBe(info.id);
    expect((await service.authenticate(token))?.id).toBe(info.id);
    expect(counted.reads()).toBe(1);
    expect(await service.authenticate(`${token}x`)).toBeNull();
    expect(await service.authenticate(`${token}x`)).toBeNull();
    expect(counted.reads()).toBe(3);
    expect((await service.authenticate(other.token))?.id).toBe(other.info.id);
    await service.revoke(other.info.id, CLI_ACTOR);
    expect(await service.authenticate(other.token)).toBeNull();
    now += DAY;
    expect(await service.authenticate(token)).toBeNull();
  });

  it('a token the CLI revokes in another process on the same file stops working on the server', async () => {
    const server = tokenServiceOn(store);
    const { token, info } = await server.create({ name: 'okta' }, CLI_ACTOR);
    expect((await server.authenticate(token))?.id).toBe(info.id);
    const cliStore = await openSqliteStore({ dataDir: dir });
    try {
      const heard = nextChange(store, SCIM_TOKENS_TOPIC);
      await tokenServiceOn(cliStore).revoke(info.id, CLI_ACTOR);
      await heard;
      expect(await server.authenticate(token)).toBeNull();
    } finally {
      await cliStore.close();
    }
  });
});

describe('SCIM tokens on two instances sharing one Redis', () => {
  const keyPrefix = `latchkey-test:scim-tokens:${randomUUID()}:`;
  let stores: Store[] = [];
  afterEach(async () => {
    for (const opened of stores) await opened.close();
    stores = [];
    await dropRedisPrefix(keyPrefix);
  });

  it('a token revoked on one instance stops working on the other, which had it cached', async () => {
    stores = [await openRedisStore({ url: REDIS_URL, keyPrefix }), await openRedisStore({ url: REDIS_URL, keyPrefix })];
    const [one, two] = stores;
    const counted = countingReads(two);
    const first = tokenServiceOn(one);
    const second = tokenServiceOn(counted.store);
    const { token, info } = await first.create({ name: 'okta' }, CLI_ACTOR);
    const spare = await first.create({ name: 'spare' }, CLI_ACTOR);
    expect((await second.authenticate(token))?.id).toBe(info.id);
    expect((await second.authenticate(spare.token))?.id).toBe(spare.info.id);
    expect((await second.authenticate(token))?.id).toBe(info.id);
    expect(counted.reads()).toBe(2);
    const heard = nextChange(two, SCIM_TOKENS_TOPIC);
    await first.revoke(info.id, CLI_ACTOR);
    await heard;
    expect(await second.authenticate(token)).toBeNull();
    // The whole cache went: the token still good is read again, and still works.
    expect((await second.authenticate(spare.token))?.id).toBe(spare.info.id);
    expect(counted.reads()).toBe(4);
  });
});
