/**
 * Runs the storage contract against SQLite on disk (a fresh directory per store), plus what only a
 * file shared by several processes can show: two connections racing, and reopening a migrated file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
