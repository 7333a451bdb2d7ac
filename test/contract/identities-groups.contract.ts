/** Storage contract: identities, groups. Registered by describeStoreContract (store-contract.ts). */
import { describe, it, expect } from 'vitest';
import { StoreError, type Store } from '../../server/ports/storage.ts';
import { auditEvent, expectWinners, expectStoreError, NOW, identity, group, passkey, invite, job, ids, sorted, type ContractContext } from './fixtures.ts';

export function describeIdentitiesGroupsContract(ctx: ContractContext): void {
  describe('identities', () => {
    it('stores every field and reads it back by id and by userName, case-insensitively', async () => {
      const record = identity({
        userName: 'Ada.Lovelace@Example.test',
        email: 'ada@example.test',
        emailVerified: false,
        givenName: 'Ada',
        familyName: 'Lovelace',
        displayName: 'Ada Lovelace',
        externalId: 'ext-1',
        oktaUserId: '00u1',
        locale: 'en-GB',
        active: false,
        roles: ['admin', 'auditor'],
        attributes: { emails: [{ value: 'ada@example.test', primary: true }], title: 'Countess' },
        createdAt: NOW - 5,
        updatedAt: NOW - 1,
        version: 3,
      });
      await ctx.store.identities.create(record);
      expect(await ctx.store.identities.get(record.id)).toEqual(record);
      expect(await ctx.store.identities.getByUserName('ada.lovelace@example.TEST')).toEqual(record);
      expect(await ctx.store.identities.get('missing')).toBeNull();
      expect(await ctx.store.identities.getWithGroupIds('missing')).toBeNull();
      expect(await ctx.store.identities.getWithGroupIds(record.id)).toEqual({ identity: record, groupIds: [] });
      expect(await ctx.store.identities.getByUserName('missing')).toBeNull();
    });

    it('rejects a userName that differs only in case, including non-ASCII letters', async () => {
      await ctx.store.identities.create(identity({ userName: 'Alice' }));
      await expectStoreError(ctx.store.identities.create(identity({ userName: 'aLICE' })), 'conflict', 'userName');
      await ctx.store.identities.create(identity({ userName: 'Élise' }));
      await expectStoreError(ctx.store.identities.create(identity({ userName: 'éLISE' })), 'conflict', 'userName');
      expect((await ctx.store.identities.query({ offset: 0, limit: 10, now: NOW })).total).toBe(2);
    });

    it('create appends the audit event it carries in the same write, and nothing when it fails', async () => {
      const record = identity({ userName: 'audited' });
      const event = auditEvent({ action: 'identity.create', target: `identity:${record.id}`, detail: { userName: 'audited' } });
      await ctx.store.identities.create(record, { audit: event });
      expect(await ctx.store.audit.list({ target: event.target!, limit: 10 })).toEqual([event]);
      const refused = auditEvent({ action: 'identity.create', target: 'identity:refused' });
      await expectStoreError(ctx.store.identities.create(identity({ userName: 'AUDITED' }), { audit: refused }), 'conflict', 'userName');
      expect(await ctx.store.audit.list({ target: 'identity:refused', limit: 10 })).toEqual([]);
      await ctx.store.identities.create(identity({ userName: 'unaudited' }));
      expect(await ctx.store.audit.list({ limit: 10 })).toEqual([event]);
    });

    it('rejects a duplicate id', async () => {
      const record = identity();
      await ctx.store.identities.create(record);
      await expectStoreError(ctx.store.identities.create({ ...record, userName: 'other' }), 'conflict');
    });

    it('lets exactly one of two racing creates take a name', async () => {
      await expectWinners(
        [
          ctx.store.identities.create(identity({ userName: 'race' })).then(() => true),
          ctx.store.identities.create(identity({ userName: 'RACE' })).then(() => true),
        ],
        1,
      );
      expect((await ctx.store.identities.query({ offset: 0, limit: 10, now: NOW })).total).toBe(1);
    });

    it('settles concurrent creates one by one: a refused one leaves the others and their audit events in place', async () => {
      await ctx.store.identities.create(identity({ userName: 'taken' }));
      const records = ['c1', 'TAKEN', 'c2', 'c1', 'c3'].map((userName) => identity({ userName }));
      const events = records.map((record) => auditEvent({ action: 'identity.create', target: `identity:${record.id}` }));
      const outcomes = await Promise.allSettled(records.map((record, index) => ctx.store.identities.create(record, { audit: events[index] })));
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
      for (const index of [1, 3]) await expectStoreError(Promise.reject((outcomes[index] as PromiseRejectedResult).reason), 'conflict', 'userName');
      for (const [index, record] of records.entries()) {
        const stored = outcomes[index].status === 'fulfilled';
        expect(await ctx.store.identities.get(record.id)).toEqual(stored ? record : null);
        expect(await ctx.store.audit.list({ target: events[index].target!, limit: 10 })).toEqual(stored ? [events[index]] : []);
      }
    });

    it('updates with the expected version, bumps it, and refuses a stale one', async () => {
      const [record] = await ctx.createIdentities(identity({ version: 1 }));
      const updated = await ctx.store.identities.update({ ...record, displayName: 'New', updatedAt: NOW + 1 }, 1);
      expect(updated.version).toBe(2);
      expect(updated.displayName).toBe('New');
      expect(await ctx.store.identities.get(record.id)).toEqual(updated);

      await expectStoreError(ctx.store.identities.update({ ...updated, displayName: 'Lost' }, 1), 'stale');
      await expectStoreError(ctx.store.identities.update({ ...updated, displayName: 'Lost' }, 3), 'stale');
      expect(await ctx.store.identities.get(record.id)).toEqual(updated);
      await expectStoreError(ctx.store.identities.update(identity({ id: 'missing' }), 1), 'not_found');
    });

    it('lets only one of two racing updates from the same version win', async () => {
      const [record] = await ctx.createIdentities(identity());
      const results = await expectWinners([
        ctx.store.identities.update({ ...record, displayName: 'A' }, record.version),
        ctx.store.identities.update({ ...record, displayName: 'B' }, record.version),
      ]);
      const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect((loser.reason as StoreError).code).toBe('stale');
      expect((await ctx.store.identities.get(record.id))?.version).toBe(record.version + 1);
    });

    it('enforces case-insensitive userName uniqueness on update too', async () => {
      const [alice, bob] = await ctx.createIdentities(identity({ userName: 'alice' }), identity({ userName: 'bob' }));
      await expectStoreError(ctx.store.identities.update({ ...bob, userName: 'ALICE' }, bob.version), 'conflict', 'userName');
      expect(await ctx.store.identities.get(bob.id)).toEqual(bob);
      expect((await ctx.store.identities.getByUserName('bob'))?.id).toBe(bob.id);

      const renamed = await ctx.store.identities.update({ ...alice, userName: 'Alice' }, alice.version);
      expect(renamed.userName).toBe('Alice');
      // The old key is released: another identity may now take "bob" once bob moves away.
      await ctx.store.identities.update({ ...bob, userName: 'robert' }, bob.version);
      await ctx.store.identities.create(identity({ userName: 'Bob' }));
    });

    it('deletes with passkeys, invites and memberships, and enqueues its jobs only when it deleted', async () => {
      const [doomed, kept] = await ctx.createIdentities(identity(), identity());
      const key = passkey(doomed.id);
      const link = invite(doomed.id);
      await ctx.store.passkeys.insert(key);
      await ctx.store.invites.create(link);
      await ctx.store.passkeys.insert(passkey(kept.id));
      const g = group();
      await ctx.store.groups.create(g, [doomed.id, kept.id]);

      const cleanupJob = job({ queue: 'okta-sync', key: `delete:${doomed.id}` });
      expect(await ctx.store.identities.delete(doomed.id, { enqueue: [cleanupJob] })).toBe(true);

      expect(await ctx.store.identities.get(doomed.id)).toBeNull();
      expect(await ctx.store.passkeys.get(key.id)).toBeNull();
      expect(await ctx.store.passkeys.listByIdentity(doomed.id)).toEqual([]);
      expect(await ctx.store.invites.get(link.id)).toBeNull();
      expect(await ctx.store.invites.getByTokenHash(link.tokenHash)).toBeNull();
      expect(await ctx.store.invites.listByIdentity(doomed.id)).toEqual([]);
      expect(await ctx.store.groups.members(g.id)).toEqual([kept.id]);
      expect(await ctx.store.groups.groupIdsOf(doomed.id)).toEqual([]);
      expect(await ctx.store.groups.query({ filter: { attr: 'member', value: doomed.id }, offset: 0, limit: 10 })).toEqual({
        items: [],
        total: 0,
      });
      expect((await ctx.store.jobs.get('okta-sync', cleanupJob.key))?.payload).toEqual(cleanupJob.payload);
      expect(await ctx.store.passkeys.listByIdentity(kept.id)).toHaveLength(1);

      const ghostJob = job({ queue: 'okta-sync' });
      expect(await ctx.store.identities.delete(doomed.id, { enqueue: [ghostJob] })).toBe(false);
      expect(await ctx.store.jobs.get('okta-sync', ghostJob.key)).toBeNull();
    });

    describe('query', () => {
      const setup = async () => {
        const [alice, bob, carol] = await ctx.createIdentities(
          identity({
            userName: 'alice',
            email: 'Alice@Example.test',
            externalId: 'ext-a',
            oktaUserId: '00ua',
            roles: ['admin'],
          }),
          identity({ userName: 'bob', email: 'bob@example.test', externalId: 'ext-b', active: false }),
          identity({ userName: 'carol', email: 'carol@example.test', oktaUserId: '00uc', roles: ['auditor', 'admin'] }),
        );
        return { alice, bob, carol };
      };
      const find = async (filter: Parameters<Store['identities']['query']>[0]['filter']) => {
        const page = await ctx.store.identities.query({ filter, offset: 0, limit: 50, now: NOW });
        expect(page.total).toBe(page.items.length);
        return ids(page.items);
      };

      it('filters on each attribute with eq', async () => {
        const { alice, bob, carol } = await setup();
        expect(await find({ attr: 'id', value: bob.id })).toEqual([bob.id]);
        expect(await find({ attr: 'userName', value: 'ALICE' })).toEqual([alice.id]);
        expect(await find({ attr: 'email', value: 'alice@example.TEST' })).toEqual([alice.id]);
        expect(await find({ attr: 'externalId', value: 'ext-b' })).toEqual([bob.id]);
        expect(await find({ attr: 'externalId', value: 'EXT-B' })).toEqual([]);
        expect(await find({ attr: 'oktaUserId', value: '00uc' })).toEqual([carol.id]);
        expect(await find({ attr: 'active', value: false })).toEqual([bob.id]);
        expect(await find({ attr: 'active', value: true })).toEqual([alice.id, carol.id]);
        expect(await find({ attr: 'userName', value: 'nobody' })).toEqual([]);
        expect(await find(undefined)).toEqual([alice.id, bob.id, carol.id]);
      });

      it('combines filters with and/or, nested', async () => {
        const { alice, bob, carol } = await setup();
        expect(
          await find({ op: 'and', filters: [{ attr: 'active', value: true }, { attr: 'externalId', value: 'ext-a' }] }),
        ).toEqual([alice.id]);
        expect(
          await find({ op: 'and', filters: [{ attr: 'active', value: false }, { attr: 'externalId', value: 'ext-a' }] }),
        ).toEqual([]);
        expect(
          await find({ op: 'or', filters: [{ attr: 'oktaUserId', value: '00uc' }, { attr: 'userName', value: 'bob' }] }),
        ).toEqual([bob.id, carol.id]);
        expect(
          await find({
            op: 'and',
            filters: [
              { attr: 'active', value: true },
              { op: 'or', filters: [{ attr: 'userName', value: 'bob' }, { attr: 'email', value: 'carol@example.test' }] },
            ],
          }),
        ).toEqual([carol.id]);
      });

      it('filters on role by exact element', async () => {
        const { alice, carol } = await setup();
        const byRole = async (role: string) => ids((await ctx.store.identities.query({ role, offset: 0, limit: 50, now: NOW })).items);
        expect(await byRole('admin')).toEqual([alice.id, carol.id]);
        expect(await byRole('auditor')).toEqual([carol.id]);
        expect(await byRole('adm')).toEqual([]);
        // Asked only whether any matches: the items are the same, the total at most a lower bound.
        const any = await ctx.store.identities.query({ role: 'admin', offset: 0, limit: 1, now: NOW, exactTotal: false });
        expect(ids(any.items)).toEqual([alice.id]);
        expect(any.total).toBeGreaterThanOrEqual(1);
        expect(any.total).toBeLessThanOrEqual(2);
        expect((await ctx.store.identities.query({ role: 'adm', offset: 0, limit: 1, now: NOW, exactTotal: false })).items).toEqual([]);
        const page = await ctx.store.identities.query({
          role: 'admin',
          filter: { attr: 'oktaUserId', value: '00ua' },
          offset: 0,
          limit: 50,
          now: NOW,
        });
        expect(ids(page.items)).toEqual([alice.id]);
      });

      it('pages in creation order with a correct total', async () => {
        const records = await ctx.createIdentities(...Array.from({ length: 5 }, () => identity()));
        const page = (offset: number, limit: number) => ctx.store.identities.query({ offset, limit, now: NOW });
        const first = await page(0, 2);
        expect(ids(first.items)).toEqual(ids(records.slice(0, 2)));
        expect(first.total).toBe(5);
        expect(ids((await page(2, 2)).items)).toEqual(ids(records.slice(2, 4)));
        const last = await page(4, 2);
        expect(ids(last.items)).toEqual([records[4].id]);
        expect(last.total).toBe(5);
        expect(await page(10, 2)).toEqual({ items: [], total: 5 });
        expect((await page(0, 10)).total).toBe(5);
        expect(await page(0, 0)).toEqual({ items: [], total: 5 });
        const filtered = await ctx.store.identities.query({
          filter: { attr: 'active', value: true },
          offset: 1,
          limit: 1,
          now: NOW,
        });
        expect(filtered).toEqual({ items: [records[1]], total: 5 });
      });

      it('searches case-insensitive substrings of userName, email, displayName, given and family name', async () => {
        const [byUser, byEmail, byDisplay, byGiven, byFamily, plain] = await ctx.createIdentities(
          identity({ userName: 'Zed_Q', email: 'zq@one.test' }),
          identity({ userName: 'u2', email: 'Mail.Box@Corp.test' }),
          identity({ userName: 'u3', email: 'u3@one.test', displayName: 'Ångström Lab' }),
          identity({ userName: 'u4', email: 'u4@one.test', givenName: 'Marie' }),
          identity({ userName: 'u5', email: 'u5@one.test', familyName: 'Curie' }),
          identity({ userName: 'uxq', email: 'u6@one.test' }),
        );
        const search = async (term: string) =>
          ids((await ctx.store.identities.query({ search: term, offset: 0, limit: 50, now: NOW })).items);
        expect(await search('zED_')).toEqual([byUser.id]);
        expect(await search('box@CORP')).toEqual([byEmail.id]);
        expect(await search('ÅNGSTRÖM')).toEqual([byDisplay.id]);
        expect(await search('mari')).toEqual([byGiven.id]);
        expect(await search('URI')).toEqual([byFamily.id]);
        // SQL LIKE wildcards are plain characters in a search term.
        expect(await search('_')).toEqual([byUser.id]);
        expect(await search('%')).toEqual([]);
        expect(await search('one.test')).toEqual([byUser.id, byDisplay.id, byGiven.id, byFamily.id, plain.id]);
        const page = await ctx.store.identities.query({ search: 'one.test', offset: 1, limit: 2, now: NOW });
        expect(page).toEqual({ items: [byDisplay, byGiven].map((r) => expect.objectContaining({ id: r.id })), total: 5 });
      });

      it('filters on group membership', async () => {
        const [a, b, c] = await ctx.createIdentities(identity({ roles: ['x'] }), identity(), identity({ roles: ['x'] }));
        const g1 = group();
        const g2 = group();
        await ctx.store.groups.create(g1, [c.id, a.id]);
        await ctx.store.groups.create(g2, [b.id]);
        const inGroup = async (groupId: string, role?: string) =>
          ids((await ctx.store.identities.query({ groupId, role, offset: 0, limit: 50, now: NOW })).items);
        expect(await inGroup(g1.id)).toEqual([a.id, c.id]);
        expect(await inGroup(g2.id)).toEqual([b.id]);
        expect(await inGroup('no-such-group')).toEqual([]);
        expect(await inGroup(g2.id, 'x')).toEqual([]);
      });
    });

    it('derives enrollment status from passkeys and invites, in query and statuses alike', async () => {
      const [enrolled, both, pending, expired, expiringNow, spent, revoked, bare] = await ctx.createIdentities(
        ...Array.from({ length: 8 }, () => identity()),
      );
      await ctx.store.passkeys.insert(passkey(enrolled.id));
      await ctx.store.passkeys.insert(passkey(both.id));
      await ctx.store.invites.create(invite(both.id));
      await ctx.store.invites.create(invite(pending.id, { expiresAt: NOW + 1 }));
      await ctx.store.invites.create(invite(expired.id, { expiresAt: NOW - 1 }));
      await ctx.store.invites.create(invite(expiringNow.id, { expiresAt: NOW }));
      const spentInvite = invite(spent.id);
      await ctx.store.invites.create(spentInvite);
      expect(await ctx.store.invites.spend(spentInvite.id, NOW - 1)).toBe(true);
      const revokedInvite = invite(revoked.id);
      await ctx.store.invites.create(revokedInvite);
      expect(await ctx.store.invites.revoke(revokedInvite.id, NOW - 1)).toBe(true);

      const byStatus = async (status: 'enrolled' | 'pending' | 'unenrolled', now = NOW) => {
        const page = await ctx.store.identities.query({ status, offset: 0, limit: 50, now });
        expect(page.total).toBe(page.items.length);
        return ids(page.items);
      };
      expect(await byStatus('enrolled')).toEqual([enrolled.id, both.id]);
      expect(await byStatus('pending')).toEqual([pending.id]);
      expect(await byStatus('unenrolled')).toEqual([expired.id, expiringNow.id, spent.id, revoked.id, bare.id]);
      // "now" is the caller's: earlier, the expired links were still open.
      expect(await byStatus('pending', NOW - 2)).toEqual([pending.id, expired.id, expiringNow.id]);

      const statuses = await ctx.store.identities.statuses([bare.id, enrolled.id, pending.id, both.id, 'missing'], NOW);
      expect(Object.fromEntries(statuses)).toEqual({
        [bare.id]: 'unenrolled',
        [enrolled.id]: 'enrolled',
        [pending.id]: 'pending',
        [both.id]: 'enrolled',
      });
      expect((await ctx.store.identities.statuses([expired.id], NOW - 2)).get(expired.id)).toBe('pending');
      expect((await ctx.store.identities.statuses([], NOW)).size).toBe(0);

      await ctx.store.identities.update({ ...enrolled, active: false }, enrolled.version);
      const combined = await ctx.store.identities.query({
        status: 'enrolled',
        filter: { attr: 'active', value: true },
        offset: 0,
        limit: 50,
        now: NOW,
      });
      expect(ids(combined.items)).toEqual([both.id]);
    });
  });

  describe('groups', () => {
    it('creates with members, ignoring unknown and repeated ids', async () => {
      const [a, b] = await ctx.createIdentities(identity(), identity());
      const g = group({ displayName: 'Engineering', externalId: 'okta-grp-1' });
      await ctx.store.groups.create(g, [a.id, 'ghost', b.id, a.id]);
      expect(await ctx.store.groups.get(g.id)).toEqual(g);
      expect(await ctx.store.groups.getByDisplayName('ENGINEERING')).toEqual(g);
      expect(await ctx.store.groups.get('missing')).toBeNull();
      expect(sorted(await ctx.store.groups.members(g.id))).toEqual(sorted([a.id, b.id]));
      expect(await ctx.store.groups.groupIdsOf(a.id)).toEqual([g.id]);
      expect(await ctx.store.groups.members('missing')).toEqual([]);
      const empty = group();
      await ctx.store.groups.create(empty, []);
      expect(await ctx.store.groups.memberCounts([g.id, empty.id, 'missing'])).toEqual(new Map([[g.id, 2], [empty.id, 0], ['missing', 0]]));
    });

    it('keeps displayName unique case-insensitively on create and update', async () => {
      const ops = group({ displayName: 'Ops' });
      const dev = group({ displayName: 'Dev' });
      await ctx.store.groups.create(ops, []);
      await ctx.store.groups.create(dev, []);
      await expectStoreError(ctx.store.groups.create(group({ displayName: 'OPS' }), []), 'conflict', 'displayName');
      await expectStoreError(ctx.store.groups.update({ ...dev, displayName: 'oPs' }, dev.version), 'conflict', 'displayName');
      expect(await ctx.store.groups.get(dev.id)).toEqual(dev);
      const renamed = await ctx.store.groups.update({ ...ops, displayName: 'OPS' }, ops.version);
      expect(renamed).toEqual({ ...ops, displayName: 'OPS', version: ops.version + 1 });
    });

    it('checks the version on update and applies set/add/remove with the record', async () => {
      const [a, b, c] = await ctx.createIdentities(identity(), identity(), identity());
      const g = group();
      await ctx.store.groups.create(g, [a.id]);
      const members = async () => sorted(await ctx.store.groups.members(g.id));

      let current = await ctx.store.groups.update({ ...g, externalId: 'x1' }, g.version, { add: [b.id, 'ghost'] });
      expect(current.version).toBe(g.version + 1);
      expect(await members()).toEqual(sorted([a.id, b.id]));

      current = await ctx.store.groups.update(current, current.version, { remove: [a.id, 'ghost'] });
      expect(await members()).toEqual([b.id]);

      current = await ctx.store.groups.update(current, current.version, { set: [c.id, 'ghost'], add: [a.id], remove: [c.id] });
      expect(await members()).toEqual([c.id]);

      current = await ctx.store.groups.update(current, current.version, { set: [] });
      expect(await members()).toEqual([]);

      current = await ctx.store.groups.update(current, current.version, { add: [a.id] });
      current = await ctx.store.groups.update({ ...current, displayName: 'Renamed' }, current.version);
      expect(await members()).toEqual([a.id]);
      expect(await ctx.store.groups.get(g.id)).toEqual(current);

      await expectStoreError(ctx.store.groups.update(current, current.version - 1, { add: [b.id] }), 'stale');
      expect(await members()).toEqual([a.id]);
      await expectStoreError(ctx.store.groups.update(group({ id: 'missing' }), 1), 'not_found');
    });

    it('deletes a group and its memberships', async () => {
      const [a] = await ctx.createIdentities(identity());
      const g1 = group();
      const g2 = group();
      await ctx.store.groups.create(g1, [a.id]);
      await ctx.store.groups.create(g2, [a.id]);
      expect(await ctx.store.groups.groupIdsOf(a.id)).toEqual([g1.id, g2.id]);
      expect(await ctx.store.identities.getWithGroupIds(a.id)).toEqual({ identity: a, groupIds: [g1.id, g2.id] });
      expect(await ctx.store.groups.delete(g1.id)).toBe(true);
      expect(await ctx.store.groups.delete(g1.id)).toBe(false);
      expect(await ctx.store.groups.get(g1.id)).toBeNull();
      expect(await ctx.store.groups.getByDisplayName(g1.displayName)).toBeNull();
      expect(await ctx.store.groups.groupIdsOf(a.id)).toEqual([g2.id]);
      expect(await ctx.store.identities.getWithGroupIds(a.id)).toEqual({ identity: a, groupIds: [g2.id] });
      expect(await ctx.store.identities.get(a.id)).not.toBeNull();
      await ctx.store.groups.create(group({ displayName: g1.displayName }), []);
    });

    it('queries by id, displayName, externalId, member, and/or, search, with paging', async () => {
      const [a, b] = await ctx.createIdentities(identity(), identity());
      const [eng, ops, sales] = [
        group({ displayName: 'Engineering', externalId: 'e-1' }),
        group({ displayName: 'Operations', externalId: 'e-2' }),
        group({ displayName: 'Sales Engineering' }),
      ];
      await ctx.store.groups.create(eng, [a.id]);
      await ctx.store.groups.create(ops, [a.id, b.id]);
      await ctx.store.groups.create(sales, []);
      const find = async (query: Partial<Parameters<Store['groups']['query']>[0]>) => {
        const page = await ctx.store.groups.query({ offset: 0, limit: 50, ...query });
        return { ids: ids(page.items), total: page.total };
      };
      expect(await find({})).toEqual({ ids: [eng.id, ops.id, sales.id], total: 3 });
      expect(await find({ filter: { attr: 'id', value: ops.id } })).toEqual({ ids: [ops.id], total: 1 });
      expect(await find({ filter: { attr: 'displayName', value: 'engineering' } })).toEqual({ ids: [eng.id], total: 1 });
      expect(await find({ filter: { attr: 'externalId', value: 'e-2' } })).toEqual({ ids: [ops.id], total: 1 });
      expect(await find({ filter: { attr: 'member', value: a.id } })).toEqual({ ids: [eng.id, ops.id], total: 2 });
      expect(await find({ filter: { attr: 'member', value: b.id } })).toEqual({ ids: [ops.id], total: 1 });
      expect(
        await find({
          filter: { op: 'and', filters: [{ attr: 'member', value: a.id }, { attr: 'externalId', value: 'e-1' }] },
        }),
      ).toEqual({ ids: [eng.id], total: 1 });
      expect(
        await find({
          filter: { op: 'or', filters: [{ attr: 'displayName', value: 'SALES engineering' }, { attr: 'member', value: b.id }] },
        }),
      ).toEqual({ ids: [ops.id, sales.id], total: 2 });
      expect(await find({ search: 'ENGINEER' })).toEqual({ ids: [eng.id, sales.id], total: 2 });
      expect(await find({ search: 'engineer', offset: 1, limit: 1 })).toEqual({ ids: [sales.id], total: 2 });
      expect(await find({ offset: 1, limit: 1 })).toEqual({ ids: [ops.id], total: 3 });
    });
  });
}
