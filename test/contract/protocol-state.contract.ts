/** Storage contract: oidc models, one-time values, SCIM tokens, audit, jobs, lifecycle. Registered by describeStoreContract (store-contract.ts). */
import { describe, it, expect } from 'vitest';
import { type ScimTokenRecord, type Store } from '../../server/ports/storage.ts';
import { expectWinners, expectStoreError, NOW, MINUTE, HOUR, unique, auditEvent, job, ids, identity, passkey, type ContractContext } from './fixtures.ts';

export function describeProtocolStateContract(ctx: ContractContext): void {
  describe('oidc models', () => {
    it('upserts and finds until expiry', async () => {
      await ctx.store.oidc.upsert('Session', 's1', { accountId: 'a1', n: 1 }, NOW + HOUR, { uid: 'u1', accountId: 'a1' });
      await ctx.store.oidc.upsert('Client', 'c1', { client_id: 'c1' }, null, {});
      expect(await ctx.store.oidc.find('Session', 's1', NOW)).toEqual({ accountId: 'a1', n: 1 });
      expect(await ctx.store.oidc.find('Session', 's1', NOW + HOUR)).toBeNull();
      expect(await ctx.store.oidc.find('Grant', 's1', NOW)).toBeNull();
      expect(await ctx.store.oidc.find('Client', 'c1', NOW + 1e12)).toEqual({ client_id: 'c1' });

      await ctx.store.oidc.upsert('Session', 's1', { accountId: 'a1', n: 2 }, NOW + 2 * HOUR, { uid: 'u1', accountId: 'a1' });
      expect(await ctx.store.oidc.find('Session', 's1', NOW + HOUR)).toEqual({ accountId: 'a1', n: 2 });
    });

    it('finds by uid and user code within the model, until expiry', async () => {
      await ctx.store.oidc.upsert('Session', 's1', { kind: 'Session' }, NOW + HOUR, { uid: 'uid-1' });
      await ctx.store.oidc.upsert('DeviceCode', 'd1', { kind: 'DeviceCode' }, NOW + HOUR, { userCode: 'ABCD-EFGH' });
      expect(await ctx.store.oidc.findByUid('Session', 'uid-1', NOW)).toEqual({ kind: 'Session' });
      expect(await ctx.store.oidc.findByUid('Interaction', 'uid-1', NOW)).toBeNull();
      expect(await ctx.store.oidc.findByUid('Session', 'uid-1', NOW + HOUR)).toBeNull();
      expect(await ctx.store.oidc.findByUserCode('DeviceCode', 'ABCD-EFGH', NOW)).toEqual({ kind: 'DeviceCode' });
      expect(await ctx.store.oidc.findByUserCode('DeviceCode', 'ZZZZ-ZZZZ', NOW)).toBeNull();
      expect(await ctx.store.oidc.findByUserCode('DeviceCode', 'ABCD-EFGH', NOW + HOUR + 1)).toBeNull();
    });

    it('consumes exactly once, even when two calls race, and find shows it consumed', async () => {
      await ctx.store.oidc.upsert('AuthorizationCode', 'code1', { grantId: 'g1' }, NOW + MINUTE, { grantId: 'g1' });
      expect(await ctx.store.oidc.consume('AuthorizationCode', 'code1', NOW + 1)).toBe(true);
      expect(await ctx.store.oidc.consume('AuthorizationCode', 'code1', NOW + 2)).toBe(false);
      // Epoch seconds, as the port specifies: the unit oidc-provider writes and checks.
      const consumed = Math.floor((NOW + 1) / 1000);
      expect(await ctx.store.oidc.find('AuthorizationCode', 'code1', NOW + 3)).toEqual({ grantId: 'g1', consumed });

      await ctx.store.oidc.upsert('Interaction', 'i1', { n: 1 }, NOW + MINUTE, { uid: 'uid-c' });
      await ctx.store.oidc.upsert('DeviceCode', 'd1', { n: 2 }, NOW + MINUTE, { userCode: 'WXYZ-0000' });
      expect(await ctx.store.oidc.consume('Interaction', 'i1', NOW + 1)).toBe(true);
      expect(await ctx.store.oidc.consume('DeviceCode', 'd1', NOW + 1)).toBe(true);
      expect(await ctx.store.oidc.findByUid('Interaction', 'uid-c', NOW + 2)).toEqual({ n: 1, consumed });
      expect(await ctx.store.oidc.findByUserCode('DeviceCode', 'WXYZ-0000', NOW + 2)).toEqual({ n: 2, consumed });

      await ctx.store.oidc.upsert('AuthorizationCode', 'code2', { grantId: 'g1' }, NOW + MINUTE, { grantId: 'g1' });
      await expectWinners([
        ctx.store.oidc.consume('AuthorizationCode', 'code2', NOW),
        ctx.store.oidc.consume('AuthorizationCode', 'code2', NOW),
      ]);
      expect(await ctx.store.oidc.consume('AuthorizationCode', 'missing', NOW)).toBe(false);
      const fresh = await ctx.store.oidc.find('AuthorizationCode', 'code2', NOW);
      expect(fresh?.consumed).toBeTruthy();
    });

    it('finds a code or token with the session and grant it is bound to, as their own finders answer', async () => {
      await ctx.store.oidc.upsert('Session', 'sb1', { accountId: 'a1', uid: 'ub1' }, NOW + HOUR, { uid: 'ub1', accountId: 'a1' });
      await ctx.store.oidc.upsert('Grant', 'gb1', { accountId: 'a1' }, NOW + HOUR, { grantId: 'gb1', accountId: 'a1' });
      await ctx.store.oidc.upsert('AccessToken', 'atb1', { sessionUid: 'ub1', grantId: 'gb1' }, NOW + MINUTE, { grantId: 'gb1', accountId: 'a1' });
      await ctx.store.oidc.upsert('AccessToken', 'atb2', { sessionUid: 'missing', grantId: 'gb1' }, NOW + MINUTE, { grantId: 'gb1' });
      await ctx.store.oidc.upsert('AuthorizationCode', 'acb1', { grantId: 'gb1' }, NOW + MINUTE, { grantId: 'gb1' });
      await ctx.store.oidc.upsert('AuthorizationCode', 'acb2', { sessionUid: 7, grantId: null }, NOW + MINUTE, {});

      expect(await ctx.store.oidc.findWithBindings('AccessToken', 'atb1', NOW)).toEqual({
        payload: { sessionUid: 'ub1', grantId: 'gb1' },
        session: { accountId: 'a1', uid: 'ub1' },
        grant: { accountId: 'a1' },
        account: null,
      });
      expect(await ctx.store.oidc.findWithBindings('AccessToken', 'atb2', NOW)).toEqual({ payload: { sessionUid: 'missing', grantId: 'gb1' }, session: null, grant: { accountId: 'a1' }, account: null });
      expect(await ctx.store.oidc.findWithBindings('AuthorizationCode', 'acb1', NOW)).toEqual({ payload: { grantId: 'gb1' }, session: null, grant: { accountId: 'a1' }, account: null });
      expect(await ctx.store.oidc.findWithBindings('AuthorizationCode', 'acb2', NOW)).toEqual({ payload: { sessionUid: 7, grantId: null }, session: null, grant: null, account: null });
      expect(await ctx.store.oidc.findWithBindings('AccessToken', 'missing', NOW)).toBeNull();
      // Expiry and consumption as find answers them, for the model and for what it is bound to.
      expect(await ctx.store.oidc.findWithBindings('AccessToken', 'atb1', NOW + MINUTE)).toBeNull();
      expect(await ctx.store.oidc.consume('AuthorizationCode', 'acb1', NOW)).toBe(true);
      expect((await ctx.store.oidc.findWithBindings('AuthorizationCode', 'acb1', NOW))?.payload).toEqual({ grantId: 'gb1', consumed: Math.floor(NOW / 1000) });
      await ctx.store.oidc.upsert('AccessToken', 'atb3', { sessionUid: 'ub1', grantId: 'gb1' }, NOW + 2 * HOUR, {});
      expect(await ctx.store.oidc.findWithBindings('AccessToken', 'atb3', NOW + HOUR)).toEqual({ payload: { sessionUid: 'ub1', grantId: 'gb1' }, session: null, grant: null, account: null });
      // A session whose passkey is gone is not found here either.
      const [owner] = await ctx.createIdentities(identity());
      const key = passkey(owner.id);
      await ctx.store.passkeys.insert(key);
      await ctx.store.oidc.upsert('Session', 'sb2', { uid: 'ub2' }, NOW + HOUR, { uid: 'ub2', passkeyId: key.id });
      await ctx.store.oidc.upsert('AccessToken', 'atb4', { sessionUid: 'ub2' }, NOW + MINUTE, {});
      expect((await ctx.store.oidc.findWithBindings('AccessToken', 'atb4', NOW))?.session).toEqual({ uid: 'ub2' });
      await ctx.store.passkeys.delete(key.id);
      expect((await ctx.store.oidc.findWithBindings('AccessToken', 'atb4', NOW))?.session).toBeNull();
    });

    it('reads the account a code or token names with it, as identities.get answers, as of the same moment', async () => {
      const [person] = await ctx.createIdentities(identity());
      await ctx.store.oidc.upsert('AccessToken', 'ata1', { accountId: person.id, grantId: 'gx' }, NOW + MINUTE, { grantId: 'gx', accountId: person.id });
      await ctx.store.oidc.upsert('AuthorizationCode', 'aca1', { accountId: 'nobody' }, NOW + MINUTE, { accountId: 'nobody' });
      await ctx.store.oidc.upsert('AccessToken', 'ata2', { accountId: 42 }, NOW + MINUTE, {});
      const stored = await ctx.store.identities.get(person.id);
      expect(stored).not.toBeNull();
      expect((await ctx.store.oidc.findWithBindings('AccessToken', 'ata1', NOW))?.account).toEqual(stored);
      expect((await ctx.store.oidc.findWithBindings('AuthorizationCode', 'aca1', NOW))?.account).toBeNull();
      expect((await ctx.store.oidc.findWithBindings('AccessToken', 'ata2', NOW))?.account).toBeNull();
      // A change to the person is seen by the next read: nothing of the account is kept.
      await ctx.store.identities.update({ ...stored!, active: false, version: stored!.version + 1, updatedAt: NOW }, stored!.version);
      expect((await ctx.store.oidc.findWithBindings('AccessToken', 'ata1', NOW))?.account).toMatchObject({ id: person.id, active: false });
    });

    it('revokes every model of a grant', async () => {
      await ctx.store.oidc.upsert('AccessToken', 'at1', {}, NOW + HOUR, { grantId: 'g1', accountId: 'a1' });
      await ctx.store.oidc.upsert('RefreshToken', 'rt1', {}, NOW + HOUR, { grantId: 'g1', accountId: 'a1' });
      await ctx.store.oidc.upsert('AuthorizationCode', 'ac1', {}, NOW + HOUR, { grantId: 'g1' });
      await ctx.store.oidc.upsert('AccessToken', 'at2', {}, NOW + HOUR, { grantId: 'g2', accountId: 'a1' });
      await ctx.store.oidc.revokeByGrantId('g1');
      expect(await ctx.store.oidc.find('AccessToken', 'at1', NOW)).toBeNull();
      expect(await ctx.store.oidc.find('RefreshToken', 'rt1', NOW)).toBeNull();
      expect(await ctx.store.oidc.find('AuthorizationCode', 'ac1', NOW)).toBeNull();
      expect(await ctx.store.oidc.find('AccessToken', 'at2', NOW)).toEqual({});
    });

    it('revokes every session, grant and token of an account', async () => {
      await ctx.store.oidc.upsert('Session', 's1', { a: 1 }, NOW + HOUR, { uid: 'u1', accountId: 'a1' });
      await ctx.store.oidc.upsert('Grant', 'g1', { a: 1 }, NOW + HOUR, { accountId: 'a1' });
      await ctx.store.oidc.upsert('AccessToken', 'at1', { a: 1 }, NOW + HOUR, { grantId: 'g1', accountId: 'a1' });
      await ctx.store.oidc.upsert('Session', 's2', { a: 2 }, NOW + HOUR, { uid: 'u2', accountId: 'a2' });
      await ctx.store.oidc.revokeByAccountId('a1');
      expect(await ctx.store.oidc.find('Session', 's1', NOW)).toBeNull();
      expect(await ctx.store.oidc.findByUid('Session', 'u1', NOW)).toBeNull();
      expect(await ctx.store.oidc.find('Grant', 'g1', NOW)).toBeNull();
      expect(await ctx.store.oidc.find('AccessToken', 'at1', NOW)).toBeNull();
      expect(await ctx.store.oidc.find('Session', 's2', NOW)).toEqual({ a: 2 });
    });

    it('revokes the sessions a passkey opened, with the grants, codes and tokens they hold, and nothing else', async () => {
      // Sessions name real passkeys: one whose passkey is gone is not found at all (next test).
      const [owner] = await ctx.createIdentities(identity());
      await ctx.store.passkeys.insert(passkey(owner.id, { id: 'pk1' }));
      await ctx.store.passkeys.insert(passkey(owner.id, { id: 'pk2' }));
      const session = { accountId: 'a1', authorizations: { appA: { grantId: 'gA', sid: 'x' }, appB: { grantId: 'gB' } } };
      await ctx.store.oidc.upsert('Session', 's1', session, NOW + HOUR, { uid: 'u1', accountId: 'a1', passkeyId: 'pk1' });
      await ctx.store.oidc.upsert('ConsoleSession', 'cs1', { identityId: 'a1' }, NOW + HOUR, { accountId: 'a1', passkeyId: 'pk1', grantId: 'gC' });
      await ctx.store.oidc.upsert('Grant', 'gA', {}, NOW + HOUR, { accountId: 'a1', grantId: 'gA' });
      await ctx.store.oidc.upsert('AccessToken', 'atA', {}, NOW + HOUR, { grantId: 'gA', accountId: 'a1' });
      await ctx.store.oidc.upsert('AuthorizationCode', 'acB', {}, NOW + HOUR, { grantId: 'gB' });
      await ctx.store.oidc.upsert('AccessToken', 'atC', {}, NOW + HOUR, { grantId: 'gC', accountId: 'a1' });
      // The same person's session opened with another passkey, and its grant, stay.
      await ctx.store.oidc.upsert('Session', 's2', { accountId: 'a1', authorizations: { appA: { grantId: 'gZ' } } }, NOW + HOUR, { uid: 'u2', accountId: 'a1', passkeyId: 'pk2' });
      await ctx.store.oidc.upsert('AccessToken', 'atZ', {}, NOW + HOUR, { grantId: 'gZ', accountId: 'a1' });

      expect(await ctx.store.oidc.revokeByPasskeyId('pk1')).toBe(2);
      for (const [model, id] of [['Session', 's1'], ['ConsoleSession', 'cs1'], ['Grant', 'gA'], ['AccessToken', 'atA'], ['AuthorizationCode', 'acB'], ['AccessToken', 'atC']]) {
        expect({ model, id, found: await ctx.store.oidc.find(model, id, NOW) }).toEqual({ model, id, found: null });
      }
      expect(await ctx.store.oidc.findByUid('Session', 'u1', NOW)).toBeNull();
      expect(await ctx.store.oidc.find('Session', 's2', NOW)).not.toBeNull();
      expect(await ctx.store.oidc.find('AccessToken', 'atZ', NOW)).toEqual({});
      expect(await ctx.store.oidc.revokeByPasskeyId('pk1')).toBe(0);
      // A re-save of a session without its passkey drops it from the passkey's index.
      await ctx.store.oidc.upsert('Session', 's2', { accountId: 'a1' }, NOW + HOUR, { uid: 'u2', accountId: 'a1' });
      expect(await ctx.store.oidc.revokeByPasskeyId('pk2')).toBe(0);
      expect(await ctx.store.oidc.find('Session', 's2', NOW)).not.toBeNull();
    });

    it('does not find a model whose passkey is gone, by id, uid or user code, in the same read', async () => {
      const [owner] = await ctx.createIdentities(identity());
      const key = passkey(owner.id);
      await ctx.store.passkeys.insert(key);
      await ctx.store.oidc.upsert('Session', 'sp1', { accountId: owner.id }, NOW + HOUR, { uid: 'up1', accountId: owner.id, passkeyId: key.id });
      await ctx.store.oidc.upsert('ConsoleSession', 'cp1', { identityId: owner.id }, NOW + HOUR, { accountId: owner.id, passkeyId: key.id });
      await ctx.store.oidc.upsert('DeviceCode', 'dp1', {}, NOW + HOUR, { userCode: 'PKPK-0001', passkeyId: key.id });
      await ctx.store.oidc.upsert('Session', 'sp2', { accountId: owner.id }, NOW + HOUR, { uid: 'up2', accountId: owner.id });
      expect(await ctx.store.oidc.find('Session', 'sp1', NOW)).toEqual({ accountId: owner.id });
      expect(await ctx.store.oidc.findByUid('Session', 'up1', NOW)).toEqual({ accountId: owner.id });
      expect(await ctx.store.oidc.find('ConsoleSession', 'cp1', NOW)).toEqual({ identityId: owner.id });
      expect(await ctx.store.oidc.findByUserCode('DeviceCode', 'PKPK-0001', NOW)).toEqual({});

      // Deleted without revoking its sessions (or a re-save raced the revocation): still over.
      expect(await ctx.store.passkeys.delete(key.id)).toBe(true);
      expect(await ctx.store.oidc.find('Session', 'sp1', NOW)).toBeNull();
      expect(await ctx.store.oidc.findByUid('Session', 'up1', NOW)).toBeNull();
      expect(await ctx.store.oidc.find('ConsoleSession', 'cp1', NOW)).toBeNull();
      expect(await ctx.store.oidc.findByUserCode('DeviceCode', 'PKPK-0001', NOW)).toBeNull();
      // A model written without a passkey does not depend on one.
      expect(await ctx.store.oidc.find('Session', 'sp2', NOW)).toEqual({ accountId: owner.id });
    });

    it('writes several upserts and destroys in order, each as its own method would', async () => {
      await ctx.store.oidc.upsert('Interaction', 'iw1', { n: 1 }, NOW + HOUR, { uid: 'iw1' });
      await ctx.store.oidc.upsert('Session', 'sw1', { n: 1 }, NOW + HOUR, { uid: 'uw1', accountId: 'aw1' });
      await ctx.store.oidc.write([
        { op: 'destroy', model: 'Interaction', id: 'iw1' },
        { op: 'upsert', model: 'Grant', id: 'gw1', payload: { n: 2 }, expiresAt: NOW + HOUR, indexes: { grantId: 'gw1', accountId: 'aw1' } },
        { op: 'upsert', model: 'AuthorizationCode', id: 'cw1', payload: { n: 3 }, expiresAt: NOW + MINUTE, indexes: { grantId: 'gw1' } },
        { op: 'upsert', model: 'Session', id: 'sw1', payload: { n: 4 }, expiresAt: NOW + HOUR, indexes: { uid: 'uw2', accountId: 'aw1' } },
        { op: 'upsert', model: 'AccessToken', id: 'tw1', payload: { n: 5 }, expiresAt: NOW + HOUR, indexes: { grantId: 'gw1' } },
        { op: 'destroy', model: 'AccessToken', id: 'tw1' },
      ]);
      expect(await ctx.store.oidc.findByUid('Interaction', 'iw1', NOW)).toBeNull();
      expect(await ctx.store.oidc.find('Grant', 'gw1', NOW)).toEqual({ n: 2 });
      expect(await ctx.store.oidc.find('AuthorizationCode', 'cw1', NOW)).toEqual({ n: 3 });
      expect(await ctx.store.oidc.find('AuthorizationCode', 'cw1', NOW + MINUTE)).toBeNull();
      // The re-upserted session moved to its new uid, as upsert() does.
      expect(await ctx.store.oidc.findByUid('Session', 'uw1', NOW)).toBeNull();
      expect(await ctx.store.oidc.findByUid('Session', 'uw2', NOW)).toEqual({ n: 4 });
      expect(await ctx.store.oidc.find('AccessToken', 'tw1', NOW)).toBeNull();
      await ctx.store.oidc.write([]);
      // Indexed as by upsert(): revoking the grant and the account reaches what write() stored.
      await ctx.store.oidc.revokeByGrantId('gw1');
      expect(await ctx.store.oidc.find('AuthorizationCode', 'cw1', NOW)).toBeNull();
      await ctx.store.oidc.revokeByAccountId('aw1');
      expect(await ctx.store.oidc.find('Session', 'sw1', NOW)).toBeNull();
    });

    it('destroys one model', async () => {
      await ctx.store.oidc.upsert('Session', 's1', {}, null, { uid: 'u1' });
      await ctx.store.oidc.upsert('Interaction', 's1', {}, null, {});
      await ctx.store.oidc.destroy('Session', 's1');
      await ctx.store.oidc.destroy('Session', 'missing');
      expect(await ctx.store.oidc.find('Session', 's1', NOW)).toBeNull();
      expect(await ctx.store.oidc.findByUid('Session', 'u1', NOW)).toBeNull();
      expect(await ctx.store.oidc.find('Interaction', 's1', NOW)).toEqual({});
    });
  });

  describe('expiry sweep', () => {
    it('removes exactly what has expired, and reads never depended on it', async () => {
      await ctx.store.oidc.upsert('Session', 'old', { n: 1 }, NOW - MINUTE, {});
      await ctx.store.oidc.upsert('Session', 'live', { n: 2 }, NOW + HOUR, {});
      await ctx.store.oidc.upsert('Grant', 'forever', { n: 3 }, null, {});
      await ctx.store.oneTime.put('old', 'x', NOW - MINUTE);
      await ctx.store.oneTime.put('live', 'y', NOW + HOUR);
      // Expired rows are invisible before any sweep.
      expect(await ctx.store.oidc.find('Session', 'old', NOW)).toBeNull();
      // A store that reclaims expired rows itself (Redis TTLs) has nothing to sweep; the others
      // delete the two expired rows, and only them.
      expect(await ctx.store.sweepExpired(NOW)).toBe(ctx.reclaimsExpiredItself ? 0 : 2);
      if (!ctx.reclaimsExpiredItself) {
        // Read back with a clock from before the expiry: a swept row is gone from storage, not
        // merely hidden by the expiry check (which would still show it at this earlier time).
        const before = NOW - 2 * MINUTE;
        expect(await ctx.store.oidc.find('Session', 'old', before)).toBeNull();
        expect(await ctx.store.oneTime.take('old', before)).toBeNull();
        expect(await ctx.store.sweepExpired(NOW)).toBe(0);
      }
      expect(await ctx.store.oidc.find('Session', 'live', NOW)).toEqual({ n: 2 });
      expect(await ctx.store.oidc.find('Grant', 'forever', NOW)).toEqual({ n: 3 });
      expect(await ctx.store.oneTime.take('live', NOW)).toBe('y');
      expect(await ctx.store.oneTime.take('old', NOW)).toBeNull();
    });
  });

  describe('one-time values', () => {
    it('takes a value once, and never after expiry', async () => {
      await ctx.store.oneTime.put('challenge:1', 'abc', NOW + HOUR);
      expect(await ctx.store.oneTime.take('challenge:1', NOW)).toBe('abc');
      expect(await ctx.store.oneTime.take('challenge:1', NOW)).toBeNull();
      expect(await ctx.store.oneTime.take('missing', NOW)).toBeNull();

      await ctx.store.oneTime.put('challenge:2', 'old', NOW + HOUR);
      await ctx.store.oneTime.put('challenge:2', 'new', NOW + HOUR);
      await ctx.store.oneTime.put('challenge:3', 'late', NOW + HOUR);
      expect(await ctx.store.oneTime.take('challenge:2', NOW)).toBe('new');
      expect(await ctx.store.oneTime.take('challenge:3', NOW + HOUR)).toBeNull();
      // An expired value is gone for good, not kept for a caller with an older clock.
      expect(await ctx.store.oneTime.take('challenge:3', NOW)).toBeNull();
    });

    it('hands a value to exactly one of two racing takes', async () => {
      await ctx.store.oneTime.put('state', 'v', NOW + HOUR);
      const results = await expectWinners([ctx.store.oneTime.take('state', NOW), ctx.store.oneTime.take('state', NOW)]);
      expect(results.map((r) => (r.status === 'fulfilled' ? r.value : r.reason))).toContain('v');
    });
  });

  describe('SCIM tokens', () => {
    it('creates, lists, finds by hash, touches and revokes', async () => {
      const first: ScimTokenRecord = {
        id: unique('tok'),
        name: 'Okta',
        tokenHash: unique('h'),
        createdAt: NOW,
        expiresAt: NOW + HOUR,
        lastUsedAt: null,
        revokedAt: null,
      };
      const second: ScimTokenRecord = { ...first, id: unique('tok'), name: 'Backup', tokenHash: unique('h'), expiresAt: null };
      await ctx.store.scimTokens.create(first);
      await ctx.store.scimTokens.create(second);
      await expectStoreError(ctx.store.scimTokens.create({ ...second, id: unique('tok') }), 'conflict', 'tokenHash');
      expect(await ctx.store.scimTokens.list()).toEqual([first, second]);
      expect(await ctx.store.scimTokens.getByHash(second.tokenHash)).toEqual(second);
      expect(await ctx.store.scimTokens.getByHash('missing')).toBeNull();

      await ctx.store.scimTokens.touch(first.id, NOW + 5);
      expect((await ctx.store.scimTokens.getByHash(first.tokenHash))?.lastUsedAt).toBe(NOW + 5);

      expect(await ctx.store.scimTokens.revoke(first.id, NOW + 6)).toBe(true);
      expect(await ctx.store.scimTokens.revoke(first.id, NOW + 7)).toBe(false);
      expect(await ctx.store.scimTokens.revoke('missing', NOW)).toBe(false);
      // Still found: whether a token is usable is the caller's decision, made in one place.
      expect(await ctx.store.scimTokens.getByHash(first.tokenHash)).toEqual({ ...first, lastUsedAt: NOW + 5, revokedAt: NOW + 6 });
    });
  });

  describe('audit', () => {
    it('lists newest first with filters, a half-open time window and a limit', async () => {
      const e1 = auditEvent({ at: NOW + 1, kind: 'scim', actor: 'scim-token:t1', target: 'identity:a', detail: { op: 'create' } });
      const e2 = auditEvent({ at: NOW + 2, kind: 'admin', actor: 'cli', target: 'identity:a', outcome: 'failure' });
      const e3 = auditEvent({ at: NOW + 3, kind: 'auth', actor: 'identity:a', target: null });
      const e4 = auditEvent({ at: NOW + 3, kind: 'admin', actor: 'cli', target: 'group:g' });
      const e0 = auditEvent({ at: NOW, kind: 'admin', actor: 'cli', target: 'app:x' });
      for (const event of [e1, e2, e3, e4, e0]) await ctx.store.audit.append(event);

      const list = (query: Partial<Parameters<Store['audit']['list']>[0]>) => ctx.store.audit.list({ limit: 50, ...query });
      expect(await list({})).toEqual([e4, e3, e2, e1, e0]);
      expect(ids(await list({ limit: 2 }))).toEqual(ids([e4, e3]));
      expect(ids(await list({ kind: 'admin' }))).toEqual(ids([e4, e2, e0]));
      expect(ids(await list({ actor: 'cli' }))).toEqual(ids([e4, e2, e0]));
      expect(ids(await list({ target: 'identity:a' }))).toEqual(ids([e2, e1]));
      expect(ids(await list({ since: NOW + 2 }))).toEqual(ids([e4, e3, e2]));
      expect(ids(await list({ until: NOW + 2 }))).toEqual(ids([e1, e0]));
      expect(ids(await list({ since: NOW + 1, until: NOW + 3 }))).toEqual(ids([e2, e1]));
      expect(ids(await list({ kind: 'admin', actor: 'cli', since: NOW + 1, limit: 1 }))).toEqual(ids([e4]));
      expect(await list({ kind: 'okta-sync' })).toEqual([]);
    });
  });

  describe('jobs', () => {
    const LEASE = 30_000;

    it('enqueues once per (queue, key): a re-enqueue replaces the payload and bumps the revision', async () => {
      const input = job({ payload: { v: 1 }, runAt: NOW + 5 });
      await ctx.store.jobs.enqueue(input);
      const first = await ctx.store.jobs.get(input.queue, input.key);
      expect(first).toMatchObject({ ...input, state: 'pending', attempts: 0, lastError: null, lockedBy: null, lockedUntil: null });
      expect(typeof first?.id).toBe('string');

      await ctx.store.jobs.enqueue({ ...input, payload: { v: 2 }, runAt: NOW + 1 });
      const second = await ctx.store.jobs.get(input.queue, input.key);
      expect(second).toMatchObject({ id: first?.id, payload: { v: 2 }, runAt: NOW + 1, revision: (first?.revision ?? 0) + 1 });
      expect(await ctx.store.jobs.list(input.queue, undefined, 10)).toHaveLength(1);
      expect(await ctx.store.jobs.get(input.queue, 'missing')).toBeNull();
      expect(await ctx.store.jobs.get('other-queue', input.key)).toBeNull();
    });

    it('leases only due jobs of the queue, earliest first', async () => {
      const later = job({ runAt: NOW + 100 });
      const early = job({ runAt: NOW - 10 });
      const due = job({ runAt: NOW });
      const elsewhere = job({ queue: 'other', runAt: NOW - 100 });
      for (const input of [later, due, early, elsewhere]) await ctx.store.jobs.enqueue(input);

      const a = await ctx.store.jobs.lease('mail', 'w1', NOW, LEASE);
      expect(a).toMatchObject({ key: early.key, lockedBy: 'w1', lockedUntil: NOW + LEASE, state: 'pending' });
      expect((await ctx.store.jobs.lease('mail', 'w1', NOW, LEASE))?.key).toBe(due.key);
      expect(await ctx.store.jobs.lease('mail', 'w1', NOW, LEASE)).toBeNull();
      expect((await ctx.store.jobs.lease('mail', 'w1', NOW + 100, LEASE))?.key).toBe(later.key);
      expect(await ctx.store.jobs.get('mail', early.key)).toMatchObject({ lockedBy: 'w1', lockedUntil: NOW + LEASE });
    });

    it('gives a job to one worker at a time, and to another once the lease expires', async () => {
      const input = job();
      await ctx.store.jobs.enqueue(input);
      const results = await expectWinners([
        ctx.store.jobs.lease('mail', 'w1', NOW, LEASE),
        ctx.store.jobs.lease('mail', 'w2', NOW, LEASE),
      ]);
      const winner = results.map((r) => (r.status === 'fulfilled' ? r.value : null)).find(Boolean) as { lockedBy: string; revision: number; id: string };
      const loser = winner.lockedBy === 'w1' ? 'w2' : 'w1';
      expect(await ctx.store.jobs.lease('mail', loser, NOW + LEASE - 1, LEASE)).toBeNull();

      const taken = await ctx.store.jobs.lease('mail', loser, NOW + LEASE, LEASE);
      expect(taken).toMatchObject({ id: winner.id, lockedBy: loser, lockedUntil: NOW + 2 * LEASE });
      expect(await ctx.store.jobs.complete(winner.id, winner.lockedBy, winner.revision, NOW + LEASE + 1)).toBe(false);
      expect(await ctx.store.jobs.retry(winner.id, winner.lockedBy, NOW, 'x', NOW + LEASE + 1)).toBe(false);
      expect(await ctx.store.jobs.fail(winner.id, winner.lockedBy, 'x', NOW + LEASE + 1)).toBe(false);
      expect(await ctx.store.jobs.get('mail', input.key)).toMatchObject({ state: 'pending', lockedBy: loser });
      expect(await ctx.store.jobs.complete(winner.id, loser, winner.revision, NOW + LEASE + 2)).toBe(true);
    });

    it('hands two due jobs to two racing workers, one each', async () => {
      await ctx.store.jobs.enqueue(job());
      await ctx.store.jobs.enqueue(job());
      const [a, b] = await Promise.all([
        ctx.store.jobs.lease('mail', 'w1', NOW, LEASE),
        ctx.store.jobs.lease('mail', 'w2', NOW, LEASE),
      ]);
      expect(a && b && a.id !== b.id).toBe(true);
    });

    it('completes with the leased revision', async () => {
      await ctx.store.jobs.enqueue(job());
      const leased = await ctx.store.jobs.lease('mail', 'w1', NOW, LEASE);
      if (!leased) throw new Error('expected a lease');
      expect(await ctx.store.jobs.complete(leased.id, 'w2', leased.revision, NOW + 1)).toBe(false);
      expect(await ctx.store.jobs.complete(leased.id, 'w1', leased.revision, NOW + 1)).toBe(true);
      expect(await ctx.store.jobs.get('mail', leased.key)).toMatchObject({ state: 'done', lockedBy: null, lockedUntil: null });
      expect(await ctx.store.jobs.complete(leased.id, 'w1', leased.revision, NOW + 2)).toBe(false);
      expect(await ctx.store.jobs.lease('mail', 'w1', NOW + 10 * LEASE, LEASE)).toBeNull();
      expect(await ctx.store.jobs.counts('mail')).toEqual({ pending: 0, done: 1, failed: 0 });
    });

    it('keeps a job re-enqueued during its lease pending, so the newer payload is delivered too', async () => {
      const input = job({ payload: { v: 1 } });
      await ctx.store.jobs.enqueue(input);
      const leased = await ctx.store.jobs.lease('mail', 'w1', NOW, LEASE);
      if (!leased) throw new Error('expected a lease');
      await ctx.store.jobs.enqueue({ ...input, payload: { v: 2 }, runAt: NOW });
      // Still held by w1: nobody else runs the job beside it.
      expect(await ctx.store.jobs.lease('mail', 'w2', NOW + 1, LEASE)).toBeNull();

      expect(await ctx.store.jobs.complete(leased.id, 'w1', leased.revision, NOW + 2)).toBe(false);
      const after = await ctx.store.jobs.get('mail', input.key);
      expect(after).toMatchObject({ state: 'pending', payload: { v: 2 }, lockedBy: null, revision: leased.revision + 1 });

      const again = await ctx.store.jobs.lease('mail', 'w2', NOW + 3, LEASE);
      expect(again).toMatchObject({ id: leased.id, payload: { v: 2 }, revision: leased.revision + 1 });
      expect(await ctx.store.jobs.complete(leased.id, 'w2', leased.revision + 1, NOW + 4)).toBe(true);
    });

    it('retries later with attempts counted, and fails for good', async () => {
      const input = job();
      await ctx.store.jobs.enqueue(input);
      const leased = await ctx.store.jobs.lease('mail', 'w1', NOW, LEASE);
      if (!leased) throw new Error('expected a lease');
      expect(await ctx.store.jobs.retry(leased.id, 'w1', NOW + MINUTE, 'smtp timeout', NOW + 1)).toBe(true);
      expect(await ctx.store.jobs.get('mail', input.key)).toMatchObject({
        state: 'pending',
        attempts: 1,
        runAt: NOW + MINUTE,
        lastError: 'smtp timeout',
        lockedBy: null,
      });
      expect(await ctx.store.jobs.lease('mail', 'w1', NOW + 2, LEASE)).toBeNull();
      const retried = await ctx.store.jobs.lease('mail', 'w2', NOW + MINUTE, LEASE);
      expect(retried).toMatchObject({ id: leased.id, attempts: 1 });

      expect(await ctx.store.jobs.fail(leased.id, 'w1', 'nope', NOW + MINUTE + 1)).toBe(false);
      expect(await ctx.store.jobs.fail(leased.id, 'w2', '550 rejected', NOW + MINUTE + 1)).toBe(true);
      expect(await ctx.store.jobs.get('mail', input.key)).toMatchObject({ state: 'failed', lastError: '550 rejected', lockedBy: null });
      expect(await ctx.store.jobs.lease('mail', 'w3', NOW + HOUR, LEASE)).toBeNull();
      expect(await ctx.store.jobs.counts('mail')).toEqual({ pending: 0, done: 0, failed: 1 });

      await ctx.store.jobs.enqueue({ ...input, payload: { v: 'again' } });
      expect(await ctx.store.jobs.get('mail', input.key)).toMatchObject({ state: 'pending', attempts: 0, payload: { v: 'again' } });
      expect((await ctx.store.jobs.lease('mail', 'w3', NOW + HOUR, LEASE))?.id).toBe(leased.id);
    });

    it('brings a done job back to pending on enqueue', async () => {
      const input = job();
      await ctx.store.jobs.enqueue(input);
      const leased = await ctx.store.jobs.lease('mail', 'w1', NOW, LEASE);
      if (!leased) throw new Error('expected a lease');
      await ctx.store.jobs.retry(leased.id, 'w1', NOW, 'flaky', NOW);
      const again = await ctx.store.jobs.lease('mail', 'w1', NOW, LEASE);
      expect(await ctx.store.jobs.complete(leased.id, 'w1', again?.revision ?? -1, NOW)).toBe(true);
      await ctx.store.jobs.enqueue(input);
      expect(await ctx.store.jobs.get('mail', input.key)).toMatchObject({ state: 'pending', attempts: 0, lockedBy: null });
      expect(await ctx.store.jobs.counts('mail')).toEqual({ pending: 1, done: 0, failed: 0 });
    });

    it('lists by state in creation order with a limit, and counts per state', async () => {
      const inputs = [job(), job(), job(), job({ queue: 'other' })];
      for (const input of inputs) await ctx.store.jobs.enqueue(input);
      const leased = await ctx.store.jobs.lease('mail', 'w1', NOW, LEASE);
      if (!leased) throw new Error('expected a lease');
      await ctx.store.jobs.complete(leased.id, 'w1', leased.revision, NOW);
      const keys = (records: { key: string }[]) => records.map((r) => r.key);

      expect(keys(await ctx.store.jobs.list('mail', undefined, 10))).toEqual(keys(inputs.slice(0, 3)));
      expect(keys(await ctx.store.jobs.list('mail', undefined, 2))).toEqual(keys(inputs.slice(0, 2)));
      expect(keys(await ctx.store.jobs.list('mail', 'pending', 10))).toEqual(keys(inputs.slice(1, 3)));
      expect(keys(await ctx.store.jobs.list('mail', 'done', 10))).toEqual([inputs[0].key]);
      expect(await ctx.store.jobs.list('mail', 'failed', 10)).toEqual([]);
      expect(await ctx.store.jobs.counts('mail')).toEqual({ pending: 2, done: 1, failed: 0 });
      expect(await ctx.store.jobs.counts('empty')).toEqual({ pending: 0, done: 0, failed: 0 });
    });

    it('answers when the oldest pending job is due: its runAt, its lease end while leased, null when none', async () => {
      expect(await ctx.store.jobs.oldestDue('mail')).toBeNull();
      const early = job({ runAt: NOW - 5 * MINUTE });
      await ctx.store.jobs.enqueue(early);
      await ctx.store.jobs.enqueue(job({ runAt: NOW + MINUTE }));
      await ctx.store.jobs.enqueue(job({ queue: 'other', runAt: NOW - HOUR }));
      expect(await ctx.store.jobs.oldestDue('mail')).toBe(NOW - 5 * MINUTE);
      const leased = await ctx.store.jobs.lease('mail', 'w1', NOW, LEASE);
      expect(leased?.key).toBe(early.key);
      expect(await ctx.store.jobs.oldestDue('mail')).toBe(NOW + Math.min(LEASE, MINUTE));
      await ctx.store.jobs.fail(leased!.id, 'w1', 'refused', NOW);
      expect(await ctx.store.jobs.oldestDue('mail')).toBe(NOW + MINUTE);
    });
  });

  describe('lifecycle', () => {
    it('pings while open and refuses once closed', async () => {
      await expect(ctx.store.ping()).resolves.toBeUndefined();
      await ctx.store.close();
      ctx.markClosed();
      await expect(ctx.store.ping()).rejects.toThrow();
    });
  });
}
