/**
 * Runs the storage contract against SQLite on disk (a fresh directory per store), plus what only a
 * file shared by several processes can show: two connections racing, and reopening a migrated file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../adapters/sqlite/sqlite-store.ts';
import type { Store } from '../../server/ports/storage.ts';
import { describeStoreContract } from './store-contract.ts';
import { describeChangeNotificationsContract } from './changes.contract.ts';

const dirs: string[] = [];
const freshDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-sqlite-'));
  dirs.push(dir);
  return dir;
};
const removeDirs = async (): Promise<void> => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
};

describeStoreContract('sqlite', () => openSqliteStore({ dataDir: freshDir() }), removeDirs);

describeChangeNotificationsContract('sqlite', async () => {
  const dataDir = freshDir();
  return [await openSqliteStore({ dataDir }), await openSqliteStore({ dataDir })];
});

describe('sqlite: one file, two connections', () => {
  afterAll(removeDirs);
  const NOW = Date.now();

  it('creates the data directory, and reopens a migrated file with its data', async () => {
    const dataDir = join(freshDir(), 'nested', 'data');
    const first = await openSqliteStore({ dataDir });
    await first.settings.set('k', 'v');
    await first.close();
    const again = await openSqliteStore({ dataDir });
    expect(await again.settings.get('k')).toBe('v');
    await again.close();
  });

  it('lets a single winner through across connections', async () => {
    const dataDir = freshDir();
    // Two connections on one file, as the server and the CLI have; the second finds it migrated.
    const [a, b] = await Promise.all([openSqliteStore({ dataDir }), openSqliteStore({ dataDir })]);
    const stores: Store[] = [a, b];
    try {
      await a.identities.create({
        id: 'i1', userName: 'shared', email: 's@example.test', emailVerified: true, source: 'cli', givenName: null,
        familyName: null, displayName: null, externalId: null, oktaUserId: null, locale: null, active: true,
        roles: [], attributes: {}, createdAt: NOW, updatedAt: NOW, version: 1,
      });
      const seen = await b.identities.getByUserName('SHARED');
      expect(seen?.id).toBe('i1');
      if (!seen) return;
      const updates = await Promise.allSettled([
        a.identities.update({ ...seen, displayName: 'A' }, 1),
        b.identities.update({ ...seen, displayName: 'B' }, 1),
      ]);
      expect(updates.filter((r) => r.status === 'fulfilled')).toHaveLength(1);

      expect(await Promise.all([a.settings.setIfAbsent('secret', 'a'), b.settings.setIfAbsent('secret', 'b')])).toEqual(['a', 'a']);
      await a.jobs.enqueue({ queue: 'q', key: 'k', payload: {}, runAt: NOW });
      const leases = await Promise.all([a.jobs.lease('q', 'wa', NOW, 1000), b.jobs.lease('q', 'wb', NOW, 1000)]);
      expect(leases.filter(Boolean)).toHaveLength(1);
    } finally {
      for (const store of stores) await store.close();
    }
  });
});

describe('SQLite: the provider writes of concurrent requests share a commit', () => {
  afterAll(removeDirs);

  it('commits each request\'s set whole, and reports it written only when another connection sees it', async () => {
    const dataDir = freshDir();
    const [a, b] = [await openSqliteStore({ dataDir }), await openSqliteStore({ dataDir })];
    try {
      const now = Date.now();
      const grant = (n: number) => ({ op: 'upsert' as const, model: 'Grant', id: `g${n}`, payload: { n }, expiresAt: now + 60_000, indexes: { accountId: `acct${n}` } });
      const code = (n: number) => ({ op: 'upsert' as const, model: 'AuthorizationCode', id: `c${n}`, payload: { grantId: `g${n}` }, expiresAt: now + 60_000, indexes: { grantId: `g${n}` } });
      // Eight requests in one turn, as concurrent sign-ins reach oidc.write.
      const writes = Array.from({ length: 8 }, (_, n) =>
        a.oidc.write([grant(n), code(n)]).then(async () => [await b.oidc.find('Grant', `g${n}`, now), await b.oidc.find('AuthorizationCode', `c${n}`, now)]),
      );
      const seen = await Promise.all(writes);
      expect(seen).toEqual(Array.from({ length: 8 }, (_, n) => [{ n }, { grantId: `g${n}` }]));
      // A set in a later turn that destroys one code and re-saves a grant lands in order.
      await a.oidc.write([{ op: 'destroy', model: 'AuthorizationCode', id: 'c0' }, { ...grant(0), payload: { n: 'again' } }]);
      expect([await b.oidc.find('AuthorizationCode', 'c0', now), await b.oidc.find('Grant', 'g0', now)]).toEqual([null, { n: 'again' }]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('writes the sets of one turn in one commit: fewer WAL frames than the same sets one after another', async () => {
    const dataDir = freshDir();
    const store = await openSqliteStore({ dataDir });
    // A third connection reads the WAL's length (frames since it was last truncated).
    const observer = new Database(join(dataDir, 'latchkey.db'));
    try {
      const now = Date.now();
      const set = (prefix: string, n: number) => [
        { op: 'upsert' as const, model: 'Grant', id: `${prefix}g${n}`, payload: { n }, expiresAt: now + 60_000, indexes: { accountId: `${prefix}a${n}` } },
        { op: 'upsert' as const, model: 'AuthorizationCode', id: `${prefix}c${n}`, payload: { n }, expiresAt: now + 60_000, indexes: { grantId: `${prefix}g${n}` } },
      ];
      const walFrames = () => (observer.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0].log;
      observer.pragma('wal_checkpoint(TRUNCATE)');
      await Promise.all(Array.from({ length: 8 }, (_, n) => store.oidc.write(set('together', n))));
      const together = walFrames();
      observer.pragma('wal_checkpoint(TRUNCATE)');
      for (let n = 0; n < 8; n++) await store.oidc.write(set('apart', n));
      const apart = walFrames();
      expect(together).toBeGreaterThan(0);
      expect(together * 3).toBeLessThan(apart);
    } finally {
      observer.close();
      await store.close();
    }
  });
});

describe('SQLite expiry sweep', () => {
  it('deletes expired protocol rows from the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-sweep-'));
    const store = await openSqliteStore({ dataDir: dir });
    const now = Date.now();
    await store.oidc.upsert('AuthorizationCode', 'a', { n: 1 }, now - 1000, { grantId: 'g' });
    await store.oidc.upsert('AuthorizationCode', 'b', { n: 2 }, now + 60_000, { grantId: 'g' });
    await store.oneTime.put('c', 'v', now - 1000);
    expect(await store.sweepExpired(now)).toBe(2);
    expect(await store.sweepExpired(now)).toBe(0);
    expect(await store.oidc.find('AuthorizationCode', 'b', now)).toEqual({ n: 2 });
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('SQLite migration to canonical identity keys', () => {
  it('re-keys existing rows oldest first and keeps younger duplicates editable, unverified', async () => {
    const dataDir = freshDir();
    // A file as the previous release left it: schema version 2, keys lowercased only.
    const { default: Database } = await import('better-sqlite3');
    const { migrations } = await import('../../adapters/sqlite/migrations.ts');
    const legacy = new Database(join(dataDir, 'latchkey.db'));
    for (const sql of migrations.slice(0, 2)) legacy.exec(sql);
    legacy.pragma('user_version = 2');
    const insert = legacy.prepare(`INSERT INTO identities (id, user_name, user_name_key, email, email_key, email_verified,
      active, roles, attributes, search_text, created_at, updated_at, version)
      VALUES (?, ?, ?, ?, ?, 1, 1, '[]', '{}', '', 0, 0, 1)`);
    insert.run('old', 'jos\u00e9', 'jos\u00e9', 'Shared@example.test', 'shared@example.test');
    insert.run('young', 'jose\u0301', 'jose\u0301', 'shared@EXAMPLE.test', 'shared@example.test');
    insert.run('look', 'm\u0430llory', 'm\u0430llory', 'look@example.test', 'look@example.test');
    insert.run('mallory', 'mallory', 'mallory', 'mallory@example.test', 'mallory@example.test');
    legacy.close();

    const store = await openSqliteStore({ dataDir });
    try {
      expect((await store.identities.getByUserName('JOSE\u0301'))?.id).toBe('old');
      const byEmail = await store.identities.query({ filter: { attr: 'email', value: 'SHARED@example.test' }, offset: 0, limit: 10, now: Date.now() });
      // Both still carry the address (the email filter matches every address a person has); only
      // the older one holds the unique claim, so nobody new can take it.
      expect(byEmail.items.map((item) => item.id).sort()).toEqual(['old', 'young']);
      const emailIds = async (op: 'eq' | 'co', value: string) =>
        (await store.identities.query({ filter: { attr: 'email', op, value }, offset: 0, limit: 10, now: Date.now() })).items.map((item) => item.id).sort();
      // The placeholder key (" young") is no address: nothing matches it.
      expect(await emailIds('co', 'young')).toEqual([]);
      await expect(store.identities.create({ ...(await store.identities.get('old'))!, id: 'third', userName: 'third', email: 'SHARED@example.test' })).rejects.toMatchObject({ field: 'email' });
      const young = await store.identities.get('young');
      expect(young?.emailVerified).toBe(false);
      expect((await store.identities.get('old'))?.emailVerified).toBe(true);
      // The younger duplicate can still be deactivated, and can take its own address.
      const deactivated = await store.identities.update({ ...young!, active: false }, young!.version);
      await store.identities.update({ ...deactivated, email: 'young@example.test' }, deactivated.version);
      expect(await emailIds('eq', 'Young@example.test')).toEqual(['young']);
      expect(await emailIds('co', 'young')).toEqual(['young']);
      expect(await emailIds('eq', 'shared@example.test')).toEqual(['old']);
      // The older confusable keeps the skeleton: a new look-alike is refused.
      await expect(store.identities.create({ ...young!, id: 'new', userName: 'rnallory', email: 'n@example.test' })).rejects.toMatchObject({ field: 'userNameSkeleton' });
      expect((await store.identities.getByUserName('mallory'))?.id).toBe('mallory');
    } finally {
      await store.close();
    }
  });
});

describe('SQLite migration recording attestation', () => {
  it('reads passkeys stored before it as attestation "none", not attested', async () => {
    const dataDir = freshDir();
    const { identity, passkey } = await import('./fixtures.ts');
    const first = await openSqliteStore({ dataDir });
    await first.identities.create(identity({ id: 'p' }));
    await first.close();
    // The file as the release before it left it: without the two columns, one schema version back.
    const { default: Database } = await import('better-sqlite3');
    const { migrations } = await import('../../adapters/sqlite/migrations.ts');
    const before = migrations.findIndex((sql) => sql.includes('attestation_format'));
    const legacy = new Database(join(dataDir, 'latchkey.db'));
    // Later migrations are undone too, since they run again on open.
    legacy.exec('ALTER TABLE passkeys DROP COLUMN attestation_format; ALTER TABLE passkeys DROP COLUMN attested; DROP TABLE IF EXISTS authenticator_metadata;');
    legacy.pragma(`user_version = ${before}`);
    const old = passkey('p', { id: 'old-cred', deviceType: 'singleDevice', backedUp: false });
    legacy.prepare(`INSERT INTO passkeys (id, identity_id, public_key, counter, transports, aaguid, device_type, backed_up, name, created_at, last_used_at)
      VALUES (?, 'p', ?, 0, '[]', ?, 'singleDevice', 0, ?, ?, NULL)`).run(old.id, old.publicKey, old.aaguid, old.name, old.createdAt);
    legacy.close();

    const store = await openSqliteStore({ dataDir });
    try {
      expect(await store.passkeys.get('old-cred')).toEqual({ ...old, transports: [], attestationFormat: 'none', attested: false });
    } finally {
      await store.close();
    }
  });
});
