/** Storage contract: passkeys, apps, invites, signing keys, settings. Registered by describeStoreContract (store-contract.ts). */
import { describe, it, expect } from 'vitest';
import { expectWinners, expectStoreError, NOW, MINUTE, HOUR, unique, identity, passkey, invite, app, job, ids, type ContractContext } from './fixtures.ts';

export function describeCredentialsContract(ctx: ContractContext): void {
  describe('passkeys', () => {
    it('inserts, reads, and lists by identity in creation order', async () => {
      const [a, b] = await ctx.createIdentities(identity(), identity());
      const first = passkey(a.id, { counter: 7, transports: ['usb'], deviceType: 'singleDevice', backedUp: false, attestationFormat: 'packed', attested: true, lastUsedAt: NOW - 9 });
      const second = passkey(a.id);
      await ctx.store.passkeys.insert(first);
      await ctx.store.passkeys.insert(passkey(b.id));
      await ctx.store.passkeys.insert(second);
      expect(await ctx.store.passkeys.get(first.id)).toEqual(first);
      expect(await ctx.store.passkeys.get('missing')).toBeNull();
      expect(await ctx.store.passkeys.listByIdentity(a.id)).toEqual([first, second]);
      expect(await ctx.store.passkeys.listByIdentity('missing')).toEqual([]);
    });

    it('rejects a registered credential id, enqueueing nothing', async () => {
      const [a, b] = await ctx.createIdentities(identity(), identity());
      const key = passkey(a.id);
      await ctx.store.passkeys.insert(key);
      const notice = job({ queue: 'mail' });
      await expectStoreError(ctx.store.passkeys.insert({ ...key, identityId: b.id }, { enqueue: [notice] }), 'conflict', 'id');
      expect(await ctx.store.jobs.get('mail', notice.key)).toBeNull();
      expect((await ctx.store.passkeys.get(key.id))?.identityId).toBe(a.id);
    });

    it('enqueues jobs with an insert and a delete, the delete only when it deleted', async () => {
      const [a] = await ctx.createIdentities(identity());
      const key = passkey(a.id);
      const added = job({ payload: { event: 'passkey.added' } });
      await ctx.store.passkeys.insert(key, { enqueue: [added] });
      expect(await ctx.store.jobs.get(added.queue, added.key)).toMatchObject({ payload: added.payload, state: 'pending' });

      const removed = job({ payload: { event: 'passkey.removed' } });
      expect(await ctx.store.passkeys.delete(key.id, { enqueue: [removed] })).toBe(true);
      expect(await ctx.store.passkeys.get(key.id)).toBeNull();
      expect(await ctx.store.jobs.get(removed.queue, removed.key)).toMatchObject({ payload: removed.payload });

      const again = job();
      expect(await ctx.store.passkeys.delete(key.id, { enqueue: [again] })).toBe(false);
      expect(await ctx.store.jobs.get(again.queue, again.key)).toBeNull();
    });

    it('records a use only from the expected counter', async () => {
      const [a] = await ctx.createIdentities(identity());
      const key = passkey(a.id, { counter: 5 });
      await ctx.store.passkeys.insert(key);
      expect(await ctx.store.passkeys.recordUse(key.id, 5, 6, NOW + 1)).toBe(true);
      expect(await ctx.store.passkeys.get(key.id)).toEqual({ ...key, counter: 6, lastUsedAt: NOW + 1 });
      expect(await ctx.store.passkeys.recordUse(key.id, 5, 6, NOW + 2)).toBe(false);
      expect((await ctx.store.passkeys.get(key.id))?.lastUsedAt).toBe(NOW + 1);
      expect(await ctx.store.passkeys.recordUse('missing', 0, 1, NOW)).toBe(false);

      await expectWinners([
        ctx.store.passkeys.recordUse(key.id, 6, 7, NOW + 3),
        ctx.store.passkeys.recordUse(key.id, 6, 7, NOW + 4),
      ]);
      expect((await ctx.store.passkeys.get(key.id))?.counter).toBe(7);
    });

    it('renames', async () => {
      const [a] = await ctx.createIdentities(identity());
      const key = passkey(a.id);
      await ctx.store.passkeys.insert(key);
      expect(await ctx.store.passkeys.rename(key.id, 'Work YubiKey')).toBe(true);
      expect((await ctx.store.passkeys.get(key.id))?.name).toBe('Work YubiKey');
      expect(await ctx.store.passkeys.rename('missing', 'x')).toBe(false);
    });
  });

  describe('apps', () => {
    it('creates, reads, lists in creation order, updates and deletes', async () => {
      const okta = app({ kind: 'okta', name: 'Okta', clientSecretEnc: null, oktaDomain: 'acme.okta.com', assignedGroupIds: ['g1', 'g2'] });
      const bookmark = app({ kind: 'bookmark', clientSecretEnc: null, redirectUris: [], loginUrl: 'https://x.test', iconDataUri: 'data:image/png;base64,AA==' });
      await ctx.store.apps.create(okta);
      await ctx.store.apps.create(bookmark);
      await expectStoreError(ctx.store.apps.create(okta), 'conflict');
      expect(await ctx.store.apps.get(okta.id)).toEqual(okta);
      expect(await ctx.store.apps.get('missing')).toBeNull();
      expect(await ctx.store.apps.list()).toEqual([okta, bookmark]);

      const changed = { ...okta, name: 'Okta prod', assignedGroupIds: [], updatedAt: NOW + 1 };
      await ctx.store.apps.update(changed);
      expect(await ctx.store.apps.get(okta.id)).toEqual(changed);
      await expectStoreError(ctx.store.apps.update(app({ id: 'missing' })), 'not_found');
      expect(await ctx.store.apps.get('missing')).toBeNull();

      expect(await ctx.store.apps.delete(okta.id)).toBe(true);
      expect(await ctx.store.apps.delete(okta.id)).toBe(false);
      expect(await ctx.store.apps.list()).toEqual([bookmark]);
    });
  });

  describe('invites', () => {
    it('stores and finds by id, token hash and identity', async () => {
      const [a] = await ctx.createIdentities(identity());
      const link = invite(a.id, { delivery: 'email', sendState: 'queued', createdBy: 'identity:admin' });
      await ctx.store.invites.create(link);
      expect(await ctx.store.invites.get(link.id)).toEqual(link);
      expect(await ctx.store.invites.getByTokenHash(link.tokenHash)).toEqual(link);
      expect(await ctx.store.invites.getByTokenHash('missing')).toBeNull();
      expect(await ctx.store.invites.listByIdentity(a.id)).toEqual([link]);
    });

    it("revokes the identity's other unspent invites when a new one is created", async () => {
      const [a, b] = await ctx.createIdentities(identity(), identity());
      const spent = invite(a.id, { createdAt: NOW - 40 });
      const revokedEarlier = invite(a.id, { createdAt: NOW - 30 });
      const open = invite(a.id, { createdAt: NOW - 20 });
      const othersOpen = invite(b.id, { createdAt: NOW - 20 });
      await ctx.store.invites.create(spent);
      expect(await ctx.store.invites.spend(spent.id, NOW - 35)).toBe(true);
      await ctx.store.invites.create(revokedEarlier);
      expect(await ctx.store.invites.revoke(revokedEarlier.id, NOW - 25)).toBe(true);
      await ctx.store.invites.create(open);
      await ctx.store.invites.create(othersOpen);

      const fresh = invite(a.id, { createdAt: NOW });
      await ctx.store.invites.create(fresh);
      expect(await ctx.store.invites.get(spent.id)).toMatchObject({ spentAt: NOW - 35, revokedAt: null });
      expect((await ctx.store.invites.get(revokedEarlier.id))?.revokedAt).toBe(NOW - 25);
      expect((await ctx.store.invites.get(open.id))?.revokedAt).toBe(NOW);
      expect((await ctx.store.invites.get(fresh.id))?.revokedAt).toBeNull();
      expect((await ctx.store.invites.get(othersOpen.id))?.revokedAt).toBeNull();
      expect(ids(await ctx.store.invites.listByIdentity(a.id))).toEqual(ids([spent, revokedEarlier, open, fresh]));
    });

    it('creates atomically with its jobs: a token-hash conflict revokes nothing and enqueues nothing', async () => {
      const [a] = await ctx.createIdentities(identity());
      const first = invite(a.id);
      const mail = job({ queue: 'mail', payload: { invite: first.id } });
      await ctx.store.invites.create(first, { enqueue: [mail] });
      expect(await ctx.store.jobs.get('mail', mail.key)).toMatchObject({ payload: mail.payload, state: 'pending' });

      const clash = invite(a.id, { tokenHash: first.tokenHash, createdAt: NOW + 1 });
      const clashMail = job({ queue: 'mail' });
      await expectStoreError(ctx.store.invites.create(clash, { enqueue: [clashMail] }), 'conflict', 'tokenHash');
      expect(await ctx.store.jobs.get('mail', clashMail.key)).toBeNull();
      expect((await ctx.store.invites.get(first.id))?.revokedAt).toBeNull();
      expect(await ctx.store.invites.get(clash.id)).toBeNull();
    });

    it('spends once, and never after expiry or revocation', async () => {
      const [a, b, c] = await ctx.createIdentities(identity(), identity(), identity());
      const link = invite(a.id);
      await ctx.store.invites.create(link);
      expect(await ctx.store.invites.spend(link.id, NOW + 1)).toBe(true);
      expect(await ctx.store.invites.spend(link.id, NOW + 2)).toBe(false);
      expect((await ctx.store.invites.get(link.id))?.spentAt).toBe(NOW + 1);

      const raced = invite(b.id);
      await ctx.store.invites.create(raced);
      await expectWinners([ctx.store.invites.spend(raced.id, NOW), ctx.store.invites.spend(raced.id, NOW)]);

      const expiring = invite(c.id, { expiresAt: NOW + 10 });
      await ctx.store.invites.create(expiring);
      expect(await ctx.store.invites.spend(expiring.id, NOW + 10)).toBe(false);
      expect(await ctx.store.invites.spend(expiring.id, NOW + 11)).toBe(false);
      expect((await ctx.store.invites.get(expiring.id))?.spentAt).toBeNull();

      const revoked = invite(c.id);
      await ctx.store.invites.create(revoked);
      expect(await ctx.store.invites.revoke(revoked.id, NOW)).toBe(true);
      expect(await ctx.store.invites.spend(revoked.id, NOW + 1)).toBe(false);
      expect(await ctx.store.invites.spend('missing', NOW)).toBe(false);
    });

    it('revokes only a live invite', async () => {
      const [a, b] = await ctx.createIdentities(identity(), identity());
      const link = invite(a.id);
      await ctx.store.invites.create(link);
      expect(await ctx.store.invites.revoke(link.id, NOW + 1)).toBe(true);
      expect(await ctx.store.invites.revoke(link.id, NOW + 2)).toBe(false);
      expect((await ctx.store.invites.get(link.id))?.revokedAt).toBe(NOW + 1);
      const spent = invite(b.id);
      await ctx.store.invites.create(spent);
      await ctx.store.invites.spend(spent.id, NOW);
      expect(await ctx.store.invites.revoke(spent.id, NOW + 1)).toBe(false);
      expect(await ctx.store.invites.revoke('missing', NOW)).toBe(false);
    });

    it('records the email send state', async () => {
      const [a] = await ctx.createIdentities(identity());
      const link = invite(a.id, { delivery: 'email', sendState: 'queued' });
      await ctx.store.invites.create(link);
      await ctx.store.invites.setSendState(link.id, 'failed', '550 mailbox unavailable');
      expect(await ctx.store.invites.get(link.id)).toMatchObject({ sendState: 'failed', sendError: '550 mailbox unavailable' });
      await ctx.store.invites.setSendState(link.id, 'sent', null);
      expect(await ctx.store.invites.get(link.id)).toEqual({ ...link, sendState: 'sent', sendError: null });
    });
  });

  describe('signing keys', () => {
    it('inserts, lists in insertion order, sets activation and revocation times and deletes', async () => {
      const older = { kid: unique('kid'), alg: 'ES256', privateJwkEnc: 'enc:1', createdAt: NOW, activatesAt: NOW, revokedAt: null };
      const newer = { kid: unique('kid'), alg: 'RS256', privateJwkEnc: 'enc:2', createdAt: NOW, activatesAt: NOW + HOUR, revokedAt: null };
      await ctx.store.signingKeys.insert(older);
      await ctx.store.signingKeys.insert(newer);
      expect(await ctx.store.signingKeys.list()).toEqual([older, newer]);
      expect(await ctx.store.signingKeys.setActivatesAt(newer.kid, NOW + MINUTE)).toBe(true);
      expect(await ctx.store.signingKeys.setRevokedAt(older.kid, NOW + 2 * MINUTE)).toBe(true);
      expect(await ctx.store.signingKeys.list()).toEqual([{ ...older, revokedAt: NOW + 2 * MINUTE }, { ...newer, activatesAt: NOW + MINUTE }]);
      expect(await ctx.store.signingKeys.setRevokedAt('no-such-kid', NOW)).toBe(false);
      expect(await ctx.store.signingKeys.setActivatesAt('no-such-kid', NOW)).toBe(false);
      expect(await ctx.store.signingKeys.delete(older.kid)).toBe(true);
      expect(await ctx.store.signingKeys.delete(older.kid)).toBe(false);
      expect(await ctx.store.signingKeys.list()).toEqual([{ ...newer, activatesAt: NOW + MINUTE }]);
    });
  });

  describe('settings', () => {
    it('gets, sets and overwrites', async () => {
      expect(await ctx.store.settings.get('issuer')).toBeNull();
      await ctx.store.settings.set('issuer', 'https://a.test');
      await ctx.store.settings.set('issuer', 'https://b.test');
      expect(await ctx.store.settings.get('issuer')).toBe('https://b.test');
    });

    it('setIfAbsent keeps the first value, even when two calls race', async () => {
      expect(await ctx.store.settings.setIfAbsent('secret', 'one')).toBe('one');
      expect(await ctx.store.settings.setIfAbsent('secret', 'two')).toBe('one');
      const [x, y] = await Promise.all([
        ctx.store.settings.setIfAbsent('raced', 'x'),
        ctx.store.settings.setIfAbsent('raced', 'y'),
      ]);
      expect(x).toBe(y);
      expect(await ctx.store.settings.get('raced')).toBe(x);
    });

    it('compareAndSet writes only over the value the caller read; of two racers exactly one wins', async () => {
      expect(await ctx.store.settings.compareAndSet('policy', 'anything', 'v1')).toBe(false);
      expect(await ctx.store.settings.get('policy')).toBeNull();
      expect(await ctx.store.settings.compareAndSet('policy', null, 'v1')).toBe(true);
      expect(await ctx.store.settings.compareAndSet('policy', null, 'v1b')).toBe(false);
      expect(await ctx.store.settings.compareAndSet('policy', 'v0', 'v2')).toBe(false);
      expect(await ctx.store.settings.get('policy')).toBe('v1');
      const results = await Promise.all([
        ctx.store.settings.compareAndSet('policy', 'v1', 'from-a'),
        ctx.store.settings.compareAndSet('policy', 'v1', 'from-b'),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await ctx.store.settings.get('policy')).toBe(results[0] ? 'from-a' : 'from-b');
      // An empty string is a value, not absence.
      expect(await ctx.store.settings.compareAndSet('empty', null, '')).toBe(true);
      expect(await ctx.store.settings.compareAndSet('empty', null, 'x')).toBe(false);
      expect(await ctx.store.settings.compareAndSet('empty', '', 'x')).toBe(true);
    });
  });
}
