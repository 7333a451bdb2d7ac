/**
 * The portable export format across adapters: every collection survives SQLite -> Redis -> SQLite
 * unchanged (the same export each time) and still behaves afterwards (counters, consumed codes,
 * leasable jobs, uniqueness, list order). And on each adapter, an export is one point in time:
 * writes landing while it runs are not in it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../adapters/sqlite/sqlite-store.ts';
import { openRedisStore } from '../../adapters/redis/redis-store.ts';
import type { Store } from '../../server/ports/storage.ts';
import type { ExportItem } from '../../server/ports/store-export.ts';
import { EXPORT_COLLECTIONS } from '../../server/ports/store-export.ts';
import { dropRedisPrefix, REDIS_URL } from '../support/test-server.ts';
import { metadataBlob } from './authenticator-metadata.contract.ts';
import { app, auditEvent, group, HOUR, identity, invite, job, MINUTE, NOW, passkey } from './fixtures.ts';

const dirs: string[] = [];
const prefixes: string[] = [];
const sqlite = () => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-transfer-'));
  dirs.push(dir);
  return openSqliteStore({ dataDir: dir });
};
const redis = () => {
  const prefix = `latchkey-test:transfer:${randomUUID()}:`;
  prefixes.push(prefix);
  return openRedisStore({ url: REDIS_URL, keyPrefix: prefix });
};
afterAll(async () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  for (const prefix of prefixes) await dropRedisPrefix(prefix);
});

async function collect(store: Store, now = NOW): Promise<ExportItem[]> {
  const items: ExportItem[] = [];
  for await (const item of store.exportAll({ now })) items.push(item);
  return items;
}

/** One or more records in every collection, in states a real install has. */
async function fill(store: Store) {
  const alice = identity({ userName: 'Alice@Example.test', roles: ['admin'], attributes: { emails: [{ value: 'a@x', primary: true }] }, oktaUserId: '00u1', version: 3 });
  const bob = identity({ active: false, externalId: 'ext-bob' });
  await store.identities.create(alice);
  await store.identities.create(bob);
  const team = group({ externalId: 'okta-grp' });
  await store.groups.create(team, [alice.id, bob.id]);
  await store.groups.create(group(), []);
  const key = passkey(alice.id, { counter: 7, lastUsedAt: NOW - MINUTE });
  await store.passkeys.insert(key);
  await store.passkeys.insert(passkey(alice.id, { name: 'YubiKey', deviceType: 'singleDevice', backedUp: false, attestationFormat: 'packed', attested: true }));
  const spent = invite(bob.id, { spentAt: NOW - MINUTE });
  await store.invites.create(spent);
  await store.invites.create(invite(bob.id, { delivery: 'email', sendState: 'sent' }));
  await store.apps.create(app({ assignedGroupIds: [team.id] }));
  await store.apps.create(app({ kind: 'okta', oktaDomain: 'https://dev.okta.test', clientSecretEnc: 'v1.sealed' }));
  await store.signingKeys.insert({ kid: 'k1', alg: 'RS256', privateJwkEnc: 'v1.a.b.c', createdAt: NOW - HOUR, activatesAt: NOW - HOUR, revokedAt: null });
  await store.signingKeys.insert({ kid: 'k2', alg: 'RS256', privateJwkEnc: 'v1.d.e.f', createdAt: NOW, activatesAt: NOW + HOUR, revokedAt: null });
  await store.settings.set('cookie_keys', '["x"]');
  await store.settings.set('okta:connection', '{"domain":"d"}');
  await store.authenticatorMetadata.replace(metadataBlob(42));
  await store.scimTokens.create({ id: 'st1', name: 'Okta', tokenHash: 'h1', createdAt: NOW, expiresAt: null, lastUsedAt: NOW, revokedAt: null });
  await store.oidc.upsert('Session', 's1', { accountId: alice.id, n: 1 }, NOW + HOUR, { uid: 'u1', accountId: alice.id });
  await store.oidc.upsert('AuthorizationCode', 'c1', { grantId: 'g1' }, NOW + MINUTE, { grantId: 'g1' });
  await store.oidc.consume('AuthorizationCode', 'c1', NOW + 1000);
  await store.oidc.upsert('Client', 'static', { client_id: 'static' }, null, {});
  await store.oidc.upsert('AccessToken', 'gone', { n: 0 }, NOW - 1000, { grantId: 'g1' });
  await store.oneTime.put('challenge:1', 'abc', NOW + MINUTE);
  await store.oneTime.put('challenge:old', 'zzz', NOW - 1000);
  for (let i = 0; i < 3; i++) await store.audit.append(auditEvent({ at: NOW + (i === 2 ? 0 : i), action: `a${i}`, detail: { i } }));
  await store.jobs.enqueue(job({ queue: 'okta-flag', key: 'done-one' }));
  await store.jobs.enqueue(job({ queue: 'okta-flag', key: 'pending-one' }));
  await store.jobs.enqueue(job({ queue: 'mail', key: 'retried', runAt: NOW - 10 }));
  const done = await store.jobs.lease('okta-flag', 'w', NOW, 1000);
  await store.jobs.complete(done!.id, 'w', done!.revision, NOW);
  const retried = await store.jobs.lease('mail', 'w', NOW, 1000);
  await store.jobs.retry(retried!.id, 'w', NOW + MINUTE, 'smtp 451', NOW);
  return { alice, bob, key };
}

describe('portable export: sqlite -> redis -> sqlite', () => {
  it('carries every collection unchanged, and the copies behave like the original', async () => {
    const source = await sqlite();
    const { alice, key } = await fill(source);
    const first = await collect(source);
    expect(new Set(first.map((item) => item.collection))).toEqual(new Set(EXPORT_COLLECTIONS));
    // Expired protocol state is already invisible and is left out.
    expect(first.some((item) => item.collection === 'oidcModels' && item.record.id === 'gone')).toBe(false);
    expect(first.some((item) => item.collection === 'oneTime' && item.record.key === 'challenge:old')).toBe(false);

    const middle = await redis();
    const counts = await middle.importAll(first);
    expect(counts).toMatchObject({ identities: 2, groups: 2, passkeys: 2, invites: 2, apps: 2, signingKeys: 2, settings: 2, authenticatorMetadata: 1, scimTokens: 1, oidcModels: 3, oneTime: 1, audit: 3, jobs: 3 });
    const second = await collect(middle);
    expect(second).toEqual(first);

    const last = await sqlite();
    await last.importAll(second);
    expect(await collect(last)).toEqual(first);

    for (const copy of [middle, last]) {
      expect((await copy.identities.getByUserName('alice@example.TEST'))?.version).toBe(3);
      expect(await copy.passkeys.recordUse(key.id, 6, 8, NOW)).toBe(false);
      expect(await copy.passkeys.recordUse(key.id, 7, 8, NOW)).toBe(true);
      expect((await copy.oidc.find('AuthorizationCode', 'c1', NOW))?.consumed).toBe(Math.floor((NOW + 1000) / 1000));
      expect(await copy.oidc.findByUid('Session', 'u1', NOW)).toEqual({ accountId: alice.id, n: 1 });
      await copy.oidc.revokeByAccountId(alice.id);
      expect(await copy.oidc.find('Session', 's1', NOW)).toBeNull();
      expect(await copy.oneTime.take('challenge:1', NOW)).toBe('abc');
      expect((await copy.audit.list({ limit: 10 })).map((event) => event.action)).toEqual(['a1', 'a2', 'a0']);
      expect(await copy.jobs.counts('okta-flag')).toEqual({ pending: 1, done: 1, failed: 0 });
      expect(await copy.jobs.lease('mail', 'w2', NOW, 1000)).toBeNull();
      const leased = await copy.jobs.lease('mail', 'w2', NOW + MINUTE, 1000);
      expect(leased).toMatchObject({ key: 'retried', attempts: 1, lastError: 'smtp 451' });
      expect((await copy.jobs.lease('okta-flag', 'w2', NOW, 1000))?.key).toBe('pending-one');
      // Re-enqueueing an imported key reuses its record: the (queue, key) index came along.
      await copy.jobs.enqueue(job({ queue: 'okta-flag', key: 'done-one' }));
      expect(await copy.jobs.counts('okta-flag')).toEqual({ pending: 2, done: 0, failed: 0 });
      expect(await copy.scimTokens.getByHash('h1')).toMatchObject({ id: 'st1' });
      // The imported BLOB came along and still refuses a rollback.
      expect(await copy.authenticatorMetadata.replace(metadataBlob(41))).toEqual({ stored: false, currentNo: 42 });
    }
    for (const store of [source, middle, last]) await store.close();
  });

  it('replace clears the target first; a failed SQLite import changes nothing', async () => {
    const source = await sqlite();
    await fill(source);
    const items = await collect(source);
    for (const open of [sqlite, redis]) {
      const target = await open();
      await target.settings.set('stale', 'yes');
      await target.importAll(items, { replace: true });
      expect(await target.settings.get('stale')).toBeNull();
      expect(await collect(target)).toEqual(items);
      await target.close();
    }
    const target = await sqlite();
    await target.settings.set('kept', 'yes');
    const broken = [...items.slice(0, 5), { collection: 'passkeys', record: passkey('no-such-identity') } as ExportItem];
    await expect(target.importAll(broken)).rejects.toThrow();
    expect(await collect(target)).toEqual([{ collection: 'settings', record: { key: 'kept', value: 'yes' } }]);
    await target.close();
    await source.close();
  });
});

describe('redis export and replace stay inside this deployment', () => {
  it('neither copies nor deletes the keys of a deployment whose prefix extends ours', async () => {
    const prefix = `latchkey-test:transfer:${randomUUID()}:`;
    prefixes.push(prefix);
    const ours = await openRedisStore({ url: REDIS_URL, keyPrefix: prefix });
    const theirs = await openRedisStore({ url: REDIS_URL, keyPrefix: `${prefix}staging:` });
    await ours.settings.set('mine', '1');
    await theirs.settings.set('theirs', '2');
    await theirs.identities.create(identity());
    expect(await collect(ours)).toEqual([{ collection: 'settings', record: { key: 'mine', value: '1' } }]);
    await ours.importAll([{ collection: 'settings', record: { key: 'restored', value: '3' } }], { replace: true });
    expect(await ours.settings.get('mine')).toBeNull();
    expect(await ours.settings.get('restored')).toBe('3');
    expect(await theirs.settings.get('theirs')).toBe('2');
    expect((await collect(theirs)).filter((item) => item.collection === 'identities')).toHaveLength(1);
    await ours.close();
    await theirs.close();
  });
});

describe.each([
  ['sqlite', sqlite],
  ['redis', redis],
] as const)('export on %s is one point in time', (_name, open) => {
  it('leaves out writes that land while the export runs', async () => {
    const store = await open();
    await fill(store);
    const iterator = store.exportAll({ now: NOW })[Symbol.asyncIterator]();
    const firstItem = await iterator.next();
    expect(firstItem.value?.collection).toBe('identities');
    // Written after the export began: a new person, a counter moved, an audit event.
    await store.identities.create(identity({ userName: 'late@example.test' }));
    await store.audit.append(auditEvent({ action: 'late' }));
    await store.settings.set('cookie_keys', '["changed"]');
    const rest: ExportItem[] = [firstItem.value!];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest.push(next.value);
    const names = rest.filter((item) => item.collection === 'identities').map((item) => (item.record as { userName: string }).userName);
    expect(names).not.toContain('late@example.test');
    expect(rest.some((item) => item.collection === 'audit' && item.record.action === 'late')).toBe(false);
    expect(rest.find((item) => item.collection === 'settings' && item.record.key === 'cookie_keys')?.record).toEqual({ key: 'cookie_keys', value: '["x"]' });
    // The live store has them, and a second export sees them.
    const again = await collect(store);
    expect(again.some((item) => item.collection === 'audit' && item.record.action === 'late')).toBe(true);
    await store.close();
  });
});

describe('importing a backup written before passkeys recorded attestation', () => {
  it('gives its passkeys attestation "none", not attested, in both stores', async () => {
    const owner = identity();
    const { attestationFormat: _format, attested: _attested, ...old } = passkey(owner.id, { deviceType: 'singleDevice', backedUp: false });
    const items = [{ collection: 'identities', record: owner }, { collection: 'passkeys', record: old }] as ExportItem[];
    for (const open of [sqlite, redis]) {
      const store = await open();
      await store.importAll(items);
      expect(await store.passkeys.get(old.id)).toEqual({ ...old, attestationFormat: 'none', attested: false });
      await store.close();
    }
  });
});
