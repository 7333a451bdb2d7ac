/**
 * The storage contract: every adapter of server/ports/storage.ts passes this same suite.
 * - Port-level only: nothing here knows which backend runs, so it runs unchanged on Redis.
 * - makeStore() must return an empty store (a fresh file, a fresh key prefix); each test gets its
 *   own and closes it. cleanup, if given, runs once after the whole suite.
 * - "Concurrent" cases fire both calls before awaiting either: an adapter that reads, awaits and
 *   then writes interleaves there and lets both win.
 * - Time is passed in, never read by the adapter. NOW is the wall clock at load, and every "still
 *   valid" window is an hour or more, so an adapter may also let native TTLs (Redis PEXPIREAT)
 *   collect expired values; expiry itself is always judged against the `now` argument.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  StoreError,
  type AppRecord,
  type AuditEvent,
  type GroupRecord,
  type IdentityRecord,
  type InviteRecord,
  type JobInput,
  type PasskeyRecord,
  type ScimTokenRecord,
  type Store,
  type StoreErrorCode,
} from '../../server/ports/storage.ts';

const NOW = Date.now();
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const run = randomUUID().slice(0, 8);
let serial = 0;
/** Unique per call; ids made in a row sort in reverse, so ordering by id instead of creation shows. */
const unique = (prefix: string): string => `${prefix}-${run}-${(1e6 - ++serial).toString().padStart(7, '0')}`;

function identity(over: Partial<IdentityRecord> = {}): IdentityRecord {
  const id = over.id ?? unique('idn');
  return {
    id,
    userName: `${id}@example.test`,
    email: `${id}@example.test`,
    emailVerified: true,
    givenName: null,
    familyName: null,
    displayName: null,
    externalId: null,
    oktaUserId: null,
    locale: null,
    active: true,
    roles: [],
    attributes: {},
    createdAt: NOW,
    updatedAt: NOW,
    version: 1,
    ...over,
  };
}

function group(over: Partial<GroupRecord> = {}): GroupRecord {
  const id = over.id ?? unique('grp');
  return { id, displayName: `Group ${id}`, externalId: null, createdAt: NOW, updatedAt: NOW, version: 1, ...over };
}

function passkey(identityId: string, over: Partial<PasskeyRecord> = {}): PasskeyRecord {
  return {
    id: unique('cred'),
    identityId,
    publicKey: 'pQECAyYgASFYIG',
    counter: 0,
    transports: ['internal', 'hybrid'],
    aaguid: 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd',
    deviceType: 'multiDevice',
    backedUp: true,
    name: 'iCloud Keychain',
    createdAt: NOW,
    lastUsedAt: null,
    ...over,
  };
}

function invite(identityId: string, over: Partial<InviteRecord> = {}): InviteRecord {
  return {
    id: unique('inv'),
    identityId,
    tokenHash: unique('hash'),
    createdAt: NOW,
    expiresAt: NOW + HOUR,
    spentAt: null,
    revokedAt: null,
    delivery: 'link',
    sendState: null,
    sendError: null,
    createdBy: 'cli',
    ...over,
  };
}

function app(over: Partial<AppRecord> = {}): AppRecord {
  return {
    id: unique('app'),
    kind: 'oidc',
    name: 'Wiki',
    clientSecretEnc: 'enc:v1:abc',
    redirectUris: ['https://wiki.example.test/cb'],
    oktaDomain: null,
    loginUrl: null,
    iconDataUri: null,
    assignedGroupIds: [],
    createdAt: NOW,
    updatedAt: NOW,
    ...over,
  };
}

function auditEvent(over: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: unique('evt'),
    at: NOW,
    kind: 'admin',
    action: 'identity.create',
    actor: 'cli',
    target: null,
    outcome: 'success',
    detail: {},
    ...over,
  };
}

function job(over: Partial<JobInput> = {}): JobInput {
  return { queue: 'mail', key: unique('job'), payload: { n: 1 }, runAt: NOW, ...over };
}

async function expectStoreError(promise: Promise<unknown>, code: StoreErrorCode, field?: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected StoreError('${code}')`).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe(code);
  if (field !== undefined) expect((error as StoreError).field).toBe(field);
}

/** Of racing calls, exactly `winners` fulfil with a truthy value; the rest lose (false/null/rejection). */
async function expectWinners(calls: Promise<unknown>[], winners = 1): Promise<PromiseSettledResult<unknown>[]> {
  const results = await Promise.allSettled(calls);
  expect(results.filter((r) => r.status === 'fulfilled' && r.value).length).toBe(winners);
  return results;
}

const ids = (records: { id: string }[]): string[] => records.map((r) => r.id);
const sorted = (values: string[]): string[] => [...values].sort();

export function describeStoreContract(
  name: string,
  makeStore: () => Promise<Store>,
  cleanup?: () => Promise<void>,
): void {
  describe(`storage contract: ${name}`, () => {
    let store: Store;
    let closed = false;

    beforeEach(async () => {
      store = await makeStore();
      closed = false;
    });
    afterEach(async () => {
      if (!closed) await store.close();
    });
    if (cleanup) afterAll(cleanup);

    const createIdentities = async (...records: IdentityRecord[]): Promise<IdentityRecord[]> => {
      for (const record of records) await store.identities.create(record);
      return records;
    };

    // ------------------------------------------------------------ identities

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
        await store.identities.create(record);
        expect(await store.identities.get(record.id)).toEqual(record);
        expect(await store.identities.getByUserName('ada.lovelace@example.TEST')).toEqual(record);
        expect(await store.identities.get('missing')).toBeNull();
        expect(await store.identities.getByUserName('missing')).toBeNull();
      });

      it('rejects a userName that differs only in case, including non-ASCII letters', async () => {
        await store.identities.create(identity({ userName: 'Alice' }));
        await expectStoreError(store.identities.create(identity({ userName: 'aLICE' })), 'conflict', 'userName');
        await store.identities.create(identity({ userName: 'Élise' }));
        await expectStoreError(store.identities.create(identity({ userName: 'éLISE' })), 'conflict', 'userName');
        expect((await store.identities.query({ offset: 0, limit: 10, now: NOW })).total).toBe(2);
      });

      it('rejects a duplicate id', async () => {
        const record = identity();
        await store.identities.create(record);
        await expectStoreError(store.identities.create({ ...record, userName: 'other' }), 'conflict');
      });

      it('lets exactly one of two racing creates take a name', async () => {
        await expectWinners(
          [
            store.identities.create(identity({ userName: 'race' })).then(() => true),
            store.identities.create(identity({ userName: 'RACE' })).then(() => true),
          ],
          1,
        );
        expect((await store.identities.query({ offset: 0, limit: 10, now: NOW })).total).toBe(1);
      });

      it('updates with the expected version, bumps it, and refuses a stale one', async () => {
        const [record] = await createIdentities(identity({ version: 1 }));
        const updated = await store.identities.update({ ...record, displayName: 'New', updatedAt: NOW + 1 }, 1);
        expect(updated.version).toBe(2);
        expect(updated.displayName).toBe('New');
        expect(await store.identities.get(record.id)).toEqual(updated);

        await expectStoreError(store.identities.update({ ...updated, displayName: 'Lost' }, 1), 'stale');
        await expectStoreError(store.identities.update({ ...updated, displayName: 'Lost' }, 3), 'stale');
        expect(await store.identities.get(record.id)).toEqual(updated);
        await expectStoreError(store.identities.update(identity({ id: 'missing' }), 1), 'not_found');
      });

      it('lets only one of two racing updates from the same version win', async () => {
        const [record] = await createIdentities(identity());
        const results = await expectWinners([
          store.identities.update({ ...record, displayName: 'A' }, record.version),
          store.identities.update({ ...record, displayName: 'B' }, record.version),
        ]);
        const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect((loser.reason as StoreError).code).toBe('stale');
        expect((await store.identities.get(record.id))?.version).toBe(record.version + 1);
      });

      it('enforces case-insensitive userName uniqueness on update too', async () => {
        const [alice, bob] = await createIdentities(identity({ userName: 'alice' }), identity({ userName: 'bob' }));
        await expectStoreError(store.identities.update({ ...bob, userName: 'ALICE' }, bob.version), 'conflict', 'userName');
        expect(await store.identities.get(bob.id)).toEqual(bob);
        expect((await store.identities.getByUserName('bob'))?.id).toBe(bob.id);

        const renamed = await store.identities.update({ ...alice, userName: 'Alice' }, alice.version);
        expect(renamed.userName).toBe('Alice');
        // The old key is released: another identity may now take "bob" once bob moves away.
        await store.identities.update({ ...bob, userName: 'robert' }, bob.version);
        await store.identities.create(identity({ userName: 'Bob' }));
      });

      it('deletes with passkeys, invites and memberships, and enqueues its jobs only when it deleted', async () => {
        const [doomed, kept] = await createIdentities(identity(), identity());
        const key = passkey(doomed.id);
        const link = invite(doomed.id);
        await store.passkeys.insert(key);
        await store.invites.create(link);
        await store.passkeys.insert(passkey(kept.id));
        const g = group();
        await store.groups.create(g, [doomed.id, kept.id]);

        const cleanupJob = job({ queue: 'okta-sync', key: `delete:${doomed.id}` });
        expect(await store.identities.delete(doomed.id, { enqueue: [cleanupJob] })).toBe(true);

        expect(await store.identities.get(doomed.id)).toBeNull();
        expect(await store.passkeys.get(key.id)).toBeNull();
        expect(await store.passkeys.listByIdentity(doomed.id)).toEqual([]);
        expect(await store.invites.get(link.id)).toBeNull();
        expect(await store.invites.getByTokenHash(link.tokenHash)).toBeNull();
        expect(await store.invites.listByIdentity(doomed.id)).toEqual([]);
        expect(await store.groups.members(g.id)).toEqual([kept.id]);
        expect(await store.groups.groupIdsOf(doomed.id)).toEqual([]);
        expect(await store.groups.query({ filter: { attr: 'member', value: doomed.id }, offset: 0, limit: 10 })).toEqual({
          items: [],
          total: 0,
        });
        expect((await store.jobs.get('okta-sync', cleanupJob.key))?.payload).toEqual(cleanupJob.payload);
        expect(await store.passkeys.listByIdentity(kept.id)).toHaveLength(1);

        const ghostJob = job({ queue: 'okta-sync' });
        expect(await store.identities.delete(doomed.id, { enqueue: [ghostJob] })).toBe(false);
        expect(await store.jobs.get('okta-sync', ghostJob.key)).toBeNull();
      });

      describe('query', () => {
        const setup = async () => {
          const [alice, bob, carol] = await createIdentities(
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
          const page = await store.identities.query({ filter, offset: 0, limit: 50, now: NOW });
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
          const byRole = async (role: string) => ids((await store.identities.query({ role, offset: 0, limit: 50, now: NOW })).items);
          expect(await byRole('admin')).toEqual([alice.id, carol.id]);
          expect(await byRole('auditor')).toEqual([carol.id]);
          expect(await byRole('adm')).toEqual([]);
          const page = await store.identities.query({
            role: 'admin',
            filter: { attr: 'oktaUserId', value: '00ua' },
            offset: 0,
            limit: 50,
            now: NOW,
          });
          expect(ids(page.items)).toEqual([alice.id]);
        });

        it('pages in creation order with a correct total', async () => {
          const records = await createIdentities(...Array.from({ length: 5 }, () => identity()));
          const page = (offset: number, limit: number) => store.identities.query({ offset, limit, now: NOW });
          const first = await page(0, 2);
          expect(ids(first.items)).toEqual(ids(records.slice(0, 2)));
          expect(first.total).toBe(5);
          expect(ids((await page(2, 2)).items)).toEqual(ids(records.slice(2, 4)));
          const last = await page(4, 2);
          expect(ids(last.items)).toEqual([records[4].id]);
          expect(last.total).toBe(5);
          expect(await page(10, 2)).toEqual({ items: [], total: 5 });
          const filtered = await store.identities.query({
            filter: { attr: 'active', value: true },
            offset: 1,
            limit: 1,
            now: NOW,
          });
          expect(filtered).toEqual({ items: [records[1]], total: 5 });
        });

        it('searches case-insensitive substrings of userName, email, displayName, given and family name', async () => {
          const [byUser, byEmail, byDisplay, byGiven, byFamily, plain] = await createIdentities(
            identity({ userName: 'Zed_Q', email: 'zq@one.test' }),
            identity({ userName: 'u2', email: 'Mail.Box@Corp.test' }),
            identity({ userName: 'u3', email: 'u3@one.test', displayName: 'Ångström Lab' }),
            identity({ userName: 'u4', email: 'u4@one.test', givenName: 'Marie' }),
            identity({ userName: 'u5', email: 'u5@one.test', familyName: 'Curie' }),
            identity({ userName: 'uxq', email: 'u6@one.test' }),
          );
          const search = async (term: string) =>
            ids((await store.identities.query({ search: term, offset: 0, limit: 50, now: NOW })).items);
          expect(await search('zED_')).toEqual([byUser.id]);
          expect(await search('box@CORP')).toEqual([byEmail.id]);
          expect(await search('ÅNGSTRÖM')).toEqual([byDisplay.id]);
          expect(await search('mari')).toEqual([byGiven.id]);
          expect(await search('URI')).toEqual([byFamily.id]);
          // SQL LIKE wildcards are plain characters in a search term.
          expect(await search('_')).toEqual([byUser.id]);
          expect(await search('%')).toEqual([]);
          expect(await search('one.test')).toEqual([byUser.id, byDisplay.id, byGiven.id, byFamily.id, plain.id]);
          const page = await store.identities.query({ search: 'one.test', offset: 1, limit: 2, now: NOW });
          expect(page).toEqual({ items: [byDisplay, byGiven].map((r) => expect.objectContaining({ id: r.id })), total: 5 });
        });

        it('filters on group membership', async () => {
          const [a, b, c] = await createIdentities(identity({ roles: ['x'] }), identity(), identity({ roles: ['x'] }));
          const g1 = group();
          const g2 = group();
          await store.groups.create(g1, [c.id, a.id]);
          await store.groups.create(g2, [b.id]);
          const inGroup = async (groupId: string, role?: string) =>
            ids((await store.identities.query({ groupId, role, offset: 0, limit: 50, now: NOW })).items);
          expect(await inGroup(g1.id)).toEqual([a.id, c.id]);
          expect(await inGroup(g2.id)).toEqual([b.id]);
          expect(await inGroup('no-such-group')).toEqual([]);
          expect(await inGroup(g2.id, 'x')).toEqual([]);
        });
      });

      it('derives enrollment status from passkeys and invites, in query and statuses alike', async () => {
        const [enrolled, both, pending, expired, expiringNow, spent, revoked, bare] = await createIdentities(
          ...Array.from({ length: 8 }, () => identity()),
        );
        await store.passkeys.insert(passkey(enrolled.id));
        await store.passkeys.insert(passkey(both.id));
        await store.invites.create(invite(both.id));
        await store.invites.create(invite(pending.id, { expiresAt: NOW + 1 }));
        await store.invites.create(invite(expired.id, { expiresAt: NOW - 1 }));
        await store.invites.create(invite(expiringNow.id, { expiresAt: NOW }));
        const spentInvite = invite(spent.id);
        await store.invites.create(spentInvite);
        expect(await store.invites.spend(spentInvite.id, NOW - 1)).toBe(true);
        const revokedInvite = invite(revoked.id);
        await store.invites.create(revokedInvite);
        expect(await store.invites.revoke(revokedInvite.id, NOW - 1)).toBe(true);

        const byStatus = async (status: 'enrolled' | 'pending' | 'unenrolled', now = NOW) => {
          const page = await store.identities.query({ status, offset: 0, limit: 50, now });
          expect(page.total).toBe(page.items.length);
          return ids(page.items);
        };
        expect(await byStatus('enrolled')).toEqual([enrolled.id, both.id]);
        expect(await byStatus('pending')).toEqual([pending.id]);
        expect(await byStatus('unenrolled')).toEqual([expired.id, expiringNow.id, spent.id, revoked.id, bare.id]);
        // "now" is the caller's: earlier, the expired links were still open.
        expect(await byStatus('pending', NOW - 2)).toEqual([pending.id, expired.id, expiringNow.id]);

        const statuses = await store.identities.statuses([bare.id, enrolled.id, pending.id, both.id, 'missing'], NOW);
        expect(Object.fromEntries(statuses)).toEqual({
          [bare.id]: 'unenrolled',
          [enrolled.id]: 'enrolled',
          [pending.id]: 'pending',
          [both.id]: 'enrolled',
        });
        expect((await store.identities.statuses([expired.id], NOW - 2)).get(expired.id)).toBe('pending');
        expect((await store.identities.statuses([], NOW)).size).toBe(0);

        await store.identities.update({ ...enrolled, active: false }, enrolled.version);
        const combined = await store.identities.query({
          status: 'enrolled',
          filter: { attr: 'active', value: true },
          offset: 0,
          limit: 50,
          now: NOW,
        });
        expect(ids(combined.items)).toEqual([both.id]);
      });
    });

    // ------------------------------------------------------------ groups

    describe('groups', () => {
      it('creates with members, ignoring unknown and repeated ids', async () => {
        const [a, b] = await createIdentities(identity(), identity());
        const g = group({ displayName: 'Engineering', externalId: 'okta-grp-1' });
        await store.groups.create(g, [a.id, 'ghost', b.id, a.id]);
        expect(await store.groups.get(g.id)).toEqual(g);
        expect(await store.groups.getByDisplayName('ENGINEERING')).toEqual(g);
        expect(await store.groups.get('missing')).toBeNull();
        expect(sorted(await store.groups.members(g.id))).toEqual(sorted([a.id, b.id]));
        expect(await store.groups.groupIdsOf(a.id)).toEqual([g.id]);
        expect(await store.groups.members('missing')).toEqual([]);
      });

      it('keeps displayName unique case-insensitively on create and update', async () => {
        const ops = group({ displayName: 'Ops' });
        const dev = group({ displayName: 'Dev' });
        await store.groups.create(ops, []);
        await store.groups.create(dev, []);
        await expectStoreError(store.groups.create(group({ displayName: 'OPS' }), []), 'conflict', 'displayName');
        await expectStoreError(store.groups.update({ ...dev, displayName: 'oPs' }, dev.version), 'conflict', 'displayName');
        expect(await store.groups.get(dev.id)).toEqual(dev);
        const renamed = await store.groups.update({ ...ops, displayName: 'OPS' }, ops.version);
        expect(renamed).toEqual({ ...ops, displayName: 'OPS', version: ops.version + 1 });
      });

      it('checks the version on update and applies set/add/remove with the record', async () => {
        const [a, b, c] = await createIdentities(identity(), identity(), identity());
        const g = group();
        await store.groups.create(g, [a.id]);
        const members = async () => sorted(await store.groups.members(g.id));

        let current = await store.groups.update({ ...g, externalId: 'x1' }, g.version, { add: [b.id, 'ghost'] });
        expect(current.version).toBe(g.version + 1);
        expect(await members()).toEqual(sorted([a.id, b.id]));

        current = await store.groups.update(current, current.version, { remove: [a.id, 'ghost'] });
        expect(await members()).toEqual([b.id]);

        current = await store.groups.update(current, current.version, { set: [c.id, 'ghost'], add: [a.id], remove: [c.id] });
        expect(await members()).toEqual([c.id]);

        current = await store.groups.update(current, current.version, { set: [] });
        expect(await members()).toEqual([]);

        current = await store.groups.update(current, current.version, { add: [a.id] });
        current = await store.groups.update({ ...current, displayName: 'Renamed' }, current.version);
        expect(await members()).toEqual([a.id]);
        expect(await store.groups.get(g.id)).toEqual(current);

        await expectStoreError(store.groups.update(current, current.version - 1, { add: [b.id] }), 'stale');
        expect(await members()).toEqual([a.id]);
        await expectStoreError(store.groups.update(group({ id: 'missing' }), 1), 'not_found');
      });

      it('deletes a group and its memberships', async () => {
        const [a] = await createIdentities(identity());
        const g1 = group();
        const g2 = group();
        await store.groups.create(g1, [a.id]);
        await store.groups.create(g2, [a.id]);
        expect(await store.groups.groupIdsOf(a.id)).toEqual([g1.id, g2.id]);
        expect(await store.groups.delete(g1.id)).toBe(true);
        expect(await store.groups.delete(g1.id)).toBe(false);
        expect(await store.groups.get(g1.id)).toBeNull();
        expect(await store.groups.getByDisplayName(g1.displayName)).toBeNull();
        expect(await store.groups.groupIdsOf(a.id)).toEqual([g2.id]);
        expect(await store.identities.get(a.id)).not.toBeNull();
        await store.groups.create(group({ displayName: g1.displayName }), []);
      });

      it('queries by id, displayName, externalId, member, and/or, search, with paging', async () => {
        const [a, b] = await createIdentities(identity(), identity());
        const [eng, ops, sales] = [
          group({ displayName: 'Engineering', externalId: 'e-1' }),
          group({ displayName: 'Operations', externalId: 'e-2' }),
          group({ displayName: 'Sales Engineering' }),
        ];
        await store.groups.create(eng, [a.id]);
        await store.groups.create(ops, [a.id, b.id]);
        await store.groups.create(sales, []);
        const find = async (query: Partial<Parameters<Store['groups']['query']>[0]>) => {
          const page = await store.groups.query({ offset: 0, limit: 50, ...query });
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

    // ------------------------------------------------------------ passkeys

    describe('passkeys', () => {
      it('inserts, reads, and lists by identity in creation order', async () => {
        const [a, b] = await createIdentities(identity(), identity());
        const first = passkey(a.id, { counter: 7, transports: ['usb'], deviceType: 'singleDevice', backedUp: false, lastUsedAt: NOW - 9 });
        const second = passkey(a.id);
        await store.passkeys.insert(first);
        await store.passkeys.insert(passkey(b.id));
        await store.passkeys.insert(second);
        expect(await store.passkeys.get(first.id)).toEqual(first);
        expect(await store.passkeys.get('missing')).toBeNull();
        expect(await store.passkeys.listByIdentity(a.id)).toEqual([first, second]);
        expect(await store.passkeys.listByIdentity('missing')).toEqual([]);
      });

      it('rejects a registered credential id, enqueueing nothing', async () => {
        const [a, b] = await createIdentities(identity(), identity());
        const key = passkey(a.id);
        await store.passkeys.insert(key);
        const notice = job({ queue: 'mail' });
        await expectStoreError(store.passkeys.insert({ ...key, identityId: b.id }, { enqueue: [notice] }), 'conflict', 'id');
        expect(await store.jobs.get('mail', notice.key)).toBeNull();
        expect((await store.passkeys.get(key.id))?.identityId).toBe(a.id);
      });

      it('enqueues jobs with an insert and a delete, the delete only when it deleted', async () => {
        const [a] = await createIdentities(identity());
        const key = passkey(a.id);
        const added = job({ payload: { event: 'passkey.added' } });
        await store.passkeys.insert(key, { enqueue: [added] });
        expect(await store.jobs.get(added.queue, added.key)).toMatchObject({ payload: added.payload, state: 'pending' });

        const removed = job({ payload: { event: 'passkey.removed' } });
        expect(await store.passkeys.delete(key.id, { enqueue: [removed] })).toBe(true);
        expect(await store.passkeys.get(key.id)).toBeNull();
        expect(await store.jobs.get(removed.queue, removed.key)).toMatchObject({ payload: removed.payload });

        const again = job();
        expect(await store.passkeys.delete(key.id, { enqueue: [again] })).toBe(false);
        expect(await store.jobs.get(again.queue, again.key)).toBeNull();
      });

      it('records a use only from the expected counter', async () => {
        const [a] = await createIdentities(identity());
        const key = passkey(a.id, { counter: 5 });
        await store.passkeys.insert(key);
        expect(await store.passkeys.recordUse(key.id, 5, 6, NOW + 1)).toBe(true);
        expect(await store.passkeys.get(key.id)).toEqual({ ...key, counter: 6, lastUsedAt: NOW + 1 });
        expect(await store.passkeys.recordUse(key.id, 5, 6, NOW + 2)).toBe(false);
        expect((await store.passkeys.get(key.id))?.lastUsedAt).toBe(NOW + 1);
        expect(await store.passkeys.recordUse('missing', 0, 1, NOW)).toBe(false);

        await expectWinners([
          store.passkeys.recordUse(key.id, 6, 7, NOW + 3),
          store.passkeys.recordUse(key.id, 6, 7, NOW + 4),
        ]);
        expect((await store.passkeys.get(key.id))?.counter).toBe(7);
      });

      it('renames', async () => {
        const [a] = await createIdentities(identity());
        const key = passkey(a.id);
        await store.passkeys.insert(key);
        expect(await store.passkeys.rename(key.id, 'Work YubiKey')).toBe(true);
        expect((await store.passkeys.get(key.id))?.name).toBe('Work YubiKey');
        expect(await store.passkeys.rename('missing', 'x')).toBe(false);
      });
    });

    // ------------------------------------------------------------ apps

    describe('apps', () => {
      it('creates, reads, lists in creation order, updates and deletes', async () => {
        const okta = app({ kind: 'okta', name: 'Okta', clientSecretEnc: null, oktaDomain: 'acme.okta.com', assignedGroupIds: ['g1', 'g2'] });
        const bookmark = app({ kind: 'bookmark', clientSecretEnc: null, redirectUris: [], loginUrl: 'https://x.test', iconDataUri: 'data:image/png;base64,AA==' });
        await store.apps.create(okta);
        await store.apps.create(bookmark);
        await expectStoreError(store.apps.create(okta), 'conflict');
        expect(await store.apps.get(okta.id)).toEqual(okta);
        expect(await store.apps.get('missing')).toBeNull();
        expect(await store.apps.list()).toEqual([okta, bookmark]);

        const changed = { ...okta, name: 'Okta prod', assignedGroupIds: [], updatedAt: NOW + 1 };
        await store.apps.update(changed);
        expect(await store.apps.get(okta.id)).toEqual(changed);
        await expectStoreError(store.apps.update(app({ id: 'missing' })), 'not_found');
        expect(await store.apps.get('missing')).toBeNull();

        expect(await store.apps.delete(okta.id)).toBe(true);
        expect(await store.apps.delete(okta.id)).toBe(false);
        expect(await store.apps.list()).toEqual([bookmark]);
      });
    });

    // ------------------------------------------------------------ invites

    describe('invites', () => {
      it('stores and finds by id, token hash and identity', async () => {
        const [a] = await createIdentities(identity());
        const link = invite(a.id, { delivery: 'email', sendState: 'queued', createdBy: 'identity:admin' });
        await store.invites.create(link);
        expect(await store.invites.get(link.id)).toEqual(link);
        expect(await store.invites.getByTokenHash(link.tokenHash)).toEqual(link);
        expect(await store.invites.getByTokenHash('missing')).toBeNull();
        expect(await store.invites.listByIdentity(a.id)).toEqual([link]);
      });

      it("revokes the identity's other unspent invites when a new one is created", async () => {
        const [a, b] = await createIdentities(identity(), identity());
        const spent = invite(a.id, { createdAt: NOW - 40 });
        const revokedEarlier = invite(a.id, { createdAt: NOW - 30 });
        const open = invite(a.id, { createdAt: NOW - 20 });
        const othersOpen = invite(b.id, { createdAt: NOW - 20 });
        await store.invites.create(spent);
        expect(await store.invites.spend(spent.id, NOW - 35)).toBe(true);
        await store.invites.create(revokedEarlier);
        expect(await store.invites.revoke(revokedEarlier.id, NOW - 25)).toBe(true);
        await store.invites.create(open);
        await store.invites.create(othersOpen);

        const fresh = invite(a.id, { createdAt: NOW });
        await store.invites.create(fresh);
        expect(await store.invites.get(spent.id)).toMatchObject({ spentAt: NOW - 35, revokedAt: null });
        expect((await store.invites.get(revokedEarlier.id))?.revokedAt).toBe(NOW - 25);
        expect((await store.invites.get(open.id))?.revokedAt).toBe(NOW);
        expect((await store.invites.get(fresh.id))?.revokedAt).toBeNull();
        expect((await store.invites.get(othersOpen.id))?.revokedAt).toBeNull();
        expect(ids(await store.invites.listByIdentity(a.id))).toEqual(ids([spent, revokedEarlier, open, fresh]));
      });

      it('creates atomically with its jobs: a token-hash conflict revokes nothing and enqueues nothing', async () => {
        const [a] = await createIdentities(identity());
        const first = invite(a.id);
        const mail = job({ queue: 'mail', payload: { invite: first.id } });
        await store.invites.create(first, { enqueue: [mail] });
        expect(await store.jobs.get('mail', mail.key)).toMatchObject({ payload: mail.payload, state: 'pending' });

        const clash = invite(a.id, { tokenHash: first.tokenHash, createdAt: NOW + 1 });
        const clashMail = job({ queue: 'mail' });
        await expectStoreError(store.invites.create(clash, { enqueue: [clashMail] }), 'conflict', 'tokenHash');
        expect(await store.jobs.get('mail', clashMail.key)).toBeNull();
        expect((await store.invites.get(first.id))?.revokedAt).toBeNull();
        expect(await store.invites.get(clash.id)).toBeNull();
      });

      it('spends once, and never after expiry or revocation', async () => {
        const [a, b, c] = await createIdentities(identity(), identity(), identity());
        const link = invite(a.id);
        await store.invites.create(link);
        expect(await store.invites.spend(link.id, NOW + 1)).toBe(true);
        expect(await store.invites.spend(link.id, NOW + 2)).toBe(false);
        expect((await store.invites.get(link.id))?.spentAt).toBe(NOW + 1);

        const raced = invite(b.id);
        await store.invites.create(raced);
        await expectWinners([store.invites.spend(raced.id, NOW), store.invites.spend(raced.id, NOW)]);

        const expiring = invite(c.id, { expiresAt: NOW + 10 });
        await store.invites.create(expiring);
        expect(await store.invites.spend(expiring.id, NOW + 10)).toBe(false);
        expect(await store.invites.spend(expiring.id, NOW + 11)).toBe(false);
        expect((await store.invites.get(expiring.id))?.spentAt).toBeNull();

        const revoked = invite(c.id);
        await store.invites.create(revoked);
        expect(await store.invites.revoke(revoked.id, NOW)).toBe(true);
        expect(await store.invites.spend(revoked.id, NOW + 1)).toBe(false);
        expect(await store.invites.spend('missing', NOW)).toBe(false);
      });

      it('revokes only a live invite', async () => {
        const [a, b] = await createIdentities(identity(), identity());
        const link = invite(a.id);
        await store.invites.create(link);
        expect(await store.invites.revoke(link.id, NOW + 1)).toBe(true);
        expect(await store.invites.revoke(link.id, NOW + 2)).toBe(false);
        expect((await store.invites.get(link.id))?.revokedAt).toBe(NOW + 1);
        const spent = invite(b.id);
        await store.invites.create(spent);
        await store.invites.spend(spent.id, NOW);
        expect(await store.invites.revoke(spent.id, NOW + 1)).toBe(false);
        expect(await store.invites.revoke('missing', NOW)).toBe(false);
      });

      it('records the email send state', async () => {
        const [a] = await createIdentities(identity());
        const link = invite(a.id, { delivery: 'email', sendState: 'queued' });
        await store.invites.create(link);
        await store.invites.setSendState(link.id, 'failed', '550 mailbox unavailable');
        expect(await store.invites.get(link.id)).toMatchObject({ sendState: 'failed', sendError: '550 mailbox unavailable' });
        await store.invites.setSendState(link.id, 'sent', null);
        expect(await store.invites.get(link.id)).toEqual({ ...link, sendState: 'sent', sendError: null });
      });
    });

    // ------------------------------------------------------------ signing keys & settings

    describe('signing keys', () => {
      it('inserts, lists in insertion order, sets retiresAt and deletes', async () => {
        const older = { kid: unique('kid'), alg: 'ES256', privateJwkEnc: 'enc:1', createdAt: NOW, retiresAt: null };
        const newer = { kid: unique('kid'), alg: 'RS256', privateJwkEnc: 'enc:2', createdAt: NOW, retiresAt: null };
        await store.signingKeys.insert(older);
        await store.signingKeys.insert(newer);
        expect(await store.signingKeys.list()).toEqual([older, newer]);
        await store.signingKeys.setRetiresAt(older.kid, NOW + HOUR);
        expect(await store.signingKeys.list()).toEqual([{ ...older, retiresAt: NOW + HOUR }, newer]);
        expect(await store.signingKeys.delete(older.kid)).toBe(true);
        expect(await store.signingKeys.delete(older.kid)).toBe(false);
        expect(await store.signingKeys.list()).toEqual([newer]);
      });
    });

    describe('settings', () => {
      it('gets, sets and overwrites', async () => {
        expect(await store.settings.get('issuer')).toBeNull();
        await store.settings.set('issuer', 'https://a.test');
        await store.settings.set('issuer', 'https://b.test');
        expect(await store.settings.get('issuer')).toBe('https://b.test');
      });

      it('setIfAbsent keeps the first value, even when two calls race', async () => {
        expect(await store.settings.setIfAbsent('secret', 'one')).toBe('one');
        expect(await store.settings.setIfAbsent('secret', 'two')).toBe('one');
        const [x, y] = await Promise.all([
          store.settings.setIfAbsent('raced', 'x'),
          store.settings.setIfAbsent('raced', 'y'),
        ]);
        expect(x).toBe(y);
        expect(await store.settings.get('raced')).toBe(x);
      });
    });

    // ------------------------------------------------------------ oidc models

    describe('oidc models', () => {
      it('upserts and finds until expiry', async () => {
        await store.oidc.upsert('Session', 's1', { accountId: 'a1', n: 1 }, NOW + HOUR, { uid: 'u1', accountId: 'a1' });
        await store.oidc.upsert('Client', 'c1', { client_id: 'c1' }, null, {});
        expect(await store.oidc.find('Session', 's1', NOW)).toEqual({ accountId: 'a1', n: 1 });
        expect(await store.oidc.find('Session', 's1', NOW + HOUR)).toBeNull();
        expect(await store.oidc.find('Grant', 's1', NOW)).toBeNull();
        expect(await store.oidc.find('Client', 'c1', NOW + 1e12)).toEqual({ client_id: 'c1' });

        await store.oidc.upsert('Session', 's1', { accountId: 'a1', n: 2 }, NOW + 2 * HOUR, { uid: 'u1', accountId: 'a1' });
        expect(await store.oidc.find('Session', 's1', NOW + HOUR)).toEqual({ accountId: 'a1', n: 2 });
      });

      it('finds by uid and user code within the model, until expiry', async () => {
        await store.oidc.upsert('Session', 's1', { kind: 'Session' }, NOW + HOUR, { uid: 'uid-1' });
        await store.oidc.upsert('DeviceCode', 'd1', { kind: 'DeviceCode' }, NOW + HOUR, { userCode: 'ABCD-EFGH' });
        expect(await store.oidc.findByUid('Session', 'uid-1', NOW)).toEqual({ kind: 'Session' });
        expect(await store.oidc.findByUid('Interaction', 'uid-1', NOW)).toBeNull();
        expect(await store.oidc.findByUid('Session', 'uid-1', NOW + HOUR)).toBeNull();
        expect(await store.oidc.findByUserCode('DeviceCode', 'ABCD-EFGH', NOW)).toEqual({ kind: 'DeviceCode' });
        expect(await store.oidc.findByUserCode('DeviceCode', 'ZZZZ-ZZZZ', NOW)).toBeNull();
        expect(await store.oidc.findByUserCode('DeviceCode', 'ABCD-EFGH', NOW + HOUR + 1)).toBeNull();
      });

      it('consumes exactly once, even when two calls race, and find shows it consumed', async () => {
        await store.oidc.upsert('AuthorizationCode', 'code1', { grantId: 'g1' }, NOW + MINUTE, { grantId: 'g1' });
        expect(await store.oidc.consume('AuthorizationCode', 'code1', NOW + 1)).toBe(true);
        expect(await store.oidc.consume('AuthorizationCode', 'code1', NOW + 2)).toBe(false);
        // Epoch seconds, as the port specifies: the unit oidc-provider writes and checks.
        const consumed = Math.floor((NOW + 1) / 1000);
        expect(await store.oidc.find('AuthorizationCode', 'code1', NOW + 3)).toEqual({ grantId: 'g1', consumed });

        await store.oidc.upsert('Interaction', 'i1', { n: 1 }, NOW + MINUTE, { uid: 'uid-c' });
        await store.oidc.upsert('DeviceCode', 'd1', { n: 2 }, NOW + MINUTE, { userCode: 'WXYZ-0000' });
        expect(await store.oidc.consume('Interaction', 'i1', NOW + 1)).toBe(true);
        expect(await store.oidc.consume('DeviceCode', 'd1', NOW + 1)).toBe(true);
        expect(await store.oidc.findByUid('Interaction', 'uid-c', NOW + 2)).toEqual({ n: 1, consumed });
        expect(await store.oidc.findByUserCode('DeviceCode', 'WXYZ-0000', NOW + 2)).toEqual({ n: 2, consumed });

        await store.oidc.upsert('AuthorizationCode', 'code2', { grantId: 'g1' }, NOW + MINUTE, { grantId: 'g1' });
        await expectWinners([
          store.oidc.consume('AuthorizationCode', 'code2', NOW),
          store.oidc.consume('AuthorizationCode', 'code2', NOW),
        ]);
        expect(await store.oidc.consume('AuthorizationCode', 'missing', NOW)).toBe(false);
        const fresh = await store.oidc.find('AuthorizationCode', 'code2', NOW);
        expect(fresh?.consumed).toBeTruthy();
      });

      it('revokes every model of a grant', async () => {
        await store.oidc.upsert('AccessToken', 'at1', {}, NOW + HOUR, { grantId: 'g1', accountId: 'a1' });
        await store.oidc.upsert('RefreshToken', 'rt1', {}, NOW + HOUR, { grantId: 'g1', accountId: 'a1' });
        await store.oidc.upsert('AuthorizationCode', 'ac1', {}, NOW + HOUR, { grantId: 'g1' });
        await store.oidc.upsert('AccessToken', 'at2', {}, NOW + HOUR, { grantId: 'g2', accountId: 'a1' });
        await store.oidc.revokeByGrantId('g1');
        expect(await store.oidc.find('AccessToken', 'at1', NOW)).toBeNull();
        expect(await store.oidc.find('RefreshToken', 'rt1', NOW)).toBeNull();
        expect(await store.oidc.find('AuthorizationCode', 'ac1', NOW)).toBeNull();
        expect(await store.oidc.find('AccessToken', 'at2', NOW)).toEqual({});
      });

      it('revokes every session, grant and token of an account', async () => {
        await store.oidc.upsert('Session', 's1', { a: 1 }, NOW + HOUR, { uid: 'u1', accountId: 'a1' });
        await store.oidc.upsert('Grant', 'g1', { a: 1 }, NOW + HOUR, { accountId: 'a1' });
        await store.oidc.upsert('AccessToken', 'at1', { a: 1 }, NOW + HOUR, { grantId: 'g1', accountId: 'a1' });
        await store.oidc.upsert('Session', 's2', { a: 2 }, NOW + HOUR, { uid: 'u2', accountId: 'a2' });
        await store.oidc.revokeByAccountId('a1');
        expect(await store.oidc.find('Session', 's1', NOW)).toBeNull();
        expect(await store.oidc.findByUid('Session', 'u1', NOW)).toBeNull();
        expect(await store.oidc.find('Grant', 'g1', NOW)).toBeNull();
        expect(await store.oidc.find('AccessToken', 'at1', NOW)).toBeNull();
        expect(await store.oidc.find('Session', 's2', NOW)).toEqual({ a: 2 });
      });

      it('destroys one model', async () => {
        await store.oidc.upsert('Session', 's1', {}, null, { uid: 'u1' });
        await store.oidc.upsert('Interaction', 's1', {}, null, {});
        await store.oidc.destroy('Session', 's1');
        await store.oidc.destroy('Session', 'missing');
        expect(await store.oidc.find('Session', 's1', NOW)).toBeNull();
        expect(await store.oidc.findByUid('Session', 'u1', NOW)).toBeNull();
        expect(await store.oidc.find('Interaction', 's1', NOW)).toEqual({});
      });
    });

    // ------------------------------------------------------------ one-time values

    describe('one-time values', () => {
      it('takes a value once, and never after expiry', async () => {
        await store.oneTime.put('challenge:1', 'abc', NOW + HOUR);
        expect(await store.oneTime.take('challenge:1', NOW)).toBe('abc');
        expect(await store.oneTime.take('challenge:1', NOW)).toBeNull();
        expect(await store.oneTime.take('missing', NOW)).toBeNull();

        await store.oneTime.put('challenge:2', 'old', NOW + HOUR);
        await store.oneTime.put('challenge:2', 'new', NOW + HOUR);
        await store.oneTime.put('challenge:3', 'late', NOW + HOUR);
        expect(await store.oneTime.take('challenge:2', NOW)).toBe('new');
        expect(await store.oneTime.take('challenge:3', NOW + HOUR)).toBeNull();
        // An expired value is gone for good, not kept for a caller with an older clock.
        expect(await store.oneTime.take('challenge:3', NOW)).toBeNull();
      });

      it('hands a value to exactly one of two racing takes', async () => {
        await store.oneTime.put('state', 'v', NOW + HOUR);
        const results = await expectWinners([store.oneTime.take('state', NOW), store.oneTime.take('state', NOW)]);
        expect(results.map((r) => (r.status === 'fulfilled' ? r.value : r.reason))).toContain('v');
      });
    });

    // ------------------------------------------------------------ SCIM tokens

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
        await store.scimTokens.create(first);
        await store.scimTokens.create(second);
        await expectStoreError(store.scimTokens.create({ ...second, id: unique('tok') }), 'conflict', 'tokenHash');
        expect(await store.scimTokens.list()).toEqual([first, second]);
        expect(await store.scimTokens.getByHash(second.tokenHash)).toEqual(second);
        expect(await store.scimTokens.getByHash('missing')).toBeNull();

        await store.scimTokens.touch(first.id, NOW + 5);
        expect((await store.scimTokens.getByHash(first.tokenHash))?.lastUsedAt).toBe(NOW + 5);

        expect(await store.scimTokens.revoke(first.id, NOW + 6)).toBe(true);
        expect(await store.scimTokens.revoke(first.id, NOW + 7)).toBe(false);
        expect(await store.scimTokens.revoke('missing', NOW)).toBe(false);
        // Still found: whether a token is usable is the caller's decision, made in one place.
        expect(await store.scimTokens.getByHash(first.tokenHash)).toEqual({ ...first, lastUsedAt: NOW + 5, revokedAt: NOW + 6 });
      });
    });

    // ------------------------------------------------------------ audit

    describe('audit', () => {
      it('lists newest first with filters, a half-open time window and a limit', async () => {
        const e1 = auditEvent({ at: NOW + 1, kind: 'scim', actor: 'scim-token:t1', target: 'identity:a', detail: { op: 'create' } });
        const e2 = auditEvent({ at: NOW + 2, kind: 'admin', actor: 'cli', target: 'identity:a', outcome: 'failure' });
        const e3 = auditEvent({ at: NOW + 3, kind: 'auth', actor: 'identity:a', target: null });
        const e4 = auditEvent({ at: NOW + 3, kind: 'admin', actor: 'cli', target: 'group:g' });
        const e0 = auditEvent({ at: NOW, kind: 'admin', actor: 'cli', target: 'app:x' });
        for (const event of [e1, e2, e3, e4, e0]) await store.audit.append(event);

        const list = (query: Partial<Parameters<Store['audit']['list']>[0]>) => store.audit.list({ limit: 50, ...query });
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

    // ------------------------------------------------------------ jobs

    describe('jobs', () => {
      const LEASE = 30_000;

      it('enqueues once per (queue, key): a re-enqueue replaces the payload and bumps the revision', async () => {
        const input = job({ payload: { v: 1 }, runAt: NOW + 5 });
        await store.jobs.enqueue(input);
        const first = await store.jobs.get(input.queue, input.key);
        expect(first).toMatchObject({ ...input, state: 'pending', attempts: 0, lastError: null, lockedBy: null, lockedUntil: null });
        expect(typeof first?.id).toBe('string');

        await store.jobs.enqueue({ ...input, payload: { v: 2 }, runAt: NOW + 1 });
        const second = await store.jobs.get(input.queue, input.key);
        expect(second).toMatchObject({ id: first?.id, payload: { v: 2 }, runAt: NOW + 1, revision: (first?.revision ?? 0) + 1 });
        expect(await store.jobs.list(input.queue, undefined, 10)).toHaveLength(1);
        expect(await store.jobs.get(input.queue, 'missing')).toBeNull();
        expect(await store.jobs.get('other-queue', input.key)).toBeNull();
      });

      it('leases only due jobs of the queue, earliest first', async () => {
        const later = job({ runAt: NOW + 100 });
        const early = job({ runAt: NOW - 10 });
        const due = job({ runAt: NOW });
        const elsewhere = job({ queue: 'other', runAt: NOW - 100 });
        for (const input of [later, due, early, elsewhere]) await store.jobs.enqueue(input);

        const a = await store.jobs.lease('mail', 'w1', NOW, LEASE);
        expect(a).toMatchObject({ key: early.key, lockedBy: 'w1', lockedUntil: NOW + LEASE, state: 'pending' });
        expect((await store.jobs.lease('mail', 'w1', NOW, LEASE))?.key).toBe(due.key);
        expect(await store.jobs.lease('mail', 'w1', NOW, LEASE)).toBeNull();
        expect((await store.jobs.lease('mail', 'w1', NOW + 100, LEASE))?.key).toBe(later.key);
        expect(await store.jobs.get('mail', early.key)).toMatchObject({ lockedBy: 'w1', lockedUntil: NOW + LEASE });
      });

      it('gives a job to one worker at a time, and to another once the lease expires', async () => {
        const input = job();
        await store.jobs.enqueue(input);
        const results = await expectWinners([
          store.jobs.lease('mail', 'w1', NOW, LEASE),
          store.jobs.lease('mail', 'w2', NOW, LEASE),
        ]);
        const winner = results.map((r) => (r.status === 'fulfilled' ? r.value : null)).find(Boolean) as { lockedBy: string; revision: number; id: string };
        const loser = winner.lockedBy === 'w1' ? 'w2' : 'w1';
        expect(await store.jobs.lease('mail', loser, NOW + LEASE - 1, LEASE)).toBeNull();

        const taken = await store.jobs.lease('mail', loser, NOW + LEASE, LEASE);
        expect(taken).toMatchObject({ id: winner.id, lockedBy: loser, lockedUntil: NOW + 2 * LEASE });
        expect(await store.jobs.complete(winner.id, winner.lockedBy, winner.revision, NOW + LEASE + 1)).toBe(false);
        expect(await store.jobs.retry(winner.id, winner.lockedBy, NOW, 'x', NOW + LEASE + 1)).toBe(false);
        expect(await store.jobs.fail(winner.id, winner.lockedBy, 'x', NOW + LEASE + 1)).toBe(false);
        expect(await store.jobs.get('mail', input.key)).toMatchObject({ state: 'pending', lockedBy: loser });
        expect(await store.jobs.complete(winner.id, loser, winner.revision, NOW + LEASE + 2)).toBe(true);
      });

      it('hands two due jobs to two racing workers, one each', async () => {
        await store.jobs.enqueue(job());
        await store.jobs.enqueue(job());
        const [a, b] = await Promise.all([
          store.jobs.lease('mail', 'w1', NOW, LEASE),
          store.jobs.lease('mail', 'w2', NOW, LEASE),
        ]);
        expect(a && b && a.id !== b.id).toBe(true);
      });

      it('completes with the leased revision', async () => {
        await store.jobs.enqueue(job());
        const leased = await store.jobs.lease('mail', 'w1', NOW, LEASE);
        if (!leased) throw new Error('expected a lease');
        expect(await store.jobs.complete(leased.id, 'w2', leased.revision, NOW + 1)).toBe(false);
        expect(await store.jobs.complete(leased.id, 'w1', leased.revision, NOW + 1)).toBe(true);
        expect(await store.jobs.get('mail', leased.key)).toMatchObject({ state: 'done', lockedBy: null, lockedUntil: null });
        expect(await store.jobs.complete(leased.id, 'w1', leased.revision, NOW + 2)).toBe(false);
        expect(await store.jobs.lease('mail', 'w1', NOW + 10 * LEASE, LEASE)).toBeNull();
        expect(await store.jobs.counts('mail')).toEqual({ pending: 0, done: 1, failed: 0 });
      });

      it('keeps a job re-enqueued during its lease pending, so the newer payload is delivered too', async () => {
        const input = job({ payload: { v: 1 } });
        await store.jobs.enqueue(input);
        const leased = await store.jobs.lease('mail', 'w1', NOW, LEASE);
        if (!leased) throw new Error('expected a lease');
        await store.jobs.enqueue({ ...input, payload: { v: 2 }, runAt: NOW });
        // Still held by w1: nobody else runs the job beside it.
        expect(await store.jobs.lease('mail', 'w2', NOW + 1, LEASE)).toBeNull();

        expect(await store.jobs.complete(leased.id, 'w1', leased.revision, NOW + 2)).toBe(false);
        const after = await store.jobs.get('mail', input.key);
        expect(after).toMatchObject({ state: 'pending', payload: { v: 2 }, lockedBy: null, revision: leased.revision + 1 });

        const again = await store.jobs.lease('mail', 'w2', NOW + 3, LEASE);
        expect(again).toMatchObject({ id: leased.id, payload: { v: 2 }, revision: leased.revision + 1 });
        expect(await store.jobs.complete(leased.id, 'w2', leased.revision + 1, NOW + 4)).toBe(true);
      });

      it('retries later with attempts counted, and fails for good', async () => {
        const input = job();
        await store.jobs.enqueue(input);
        const leased = await store.jobs.lease('mail', 'w1', NOW, LEASE);
        if (!leased) throw new Error('expected a lease');
        expect(await store.jobs.retry(leased.id, 'w1', NOW + MINUTE, 'smtp timeout', NOW + 1)).toBe(true);
        expect(await store.jobs.get('mail', input.key)).toMatchObject({
          state: 'pending',
          attempts: 1,
          runAt: NOW + MINUTE,
          lastError: 'smtp timeout',
          lockedBy: null,
        });
        expect(await store.jobs.lease('mail', 'w1', NOW + 2, LEASE)).toBeNull();
        const retried = await store.jobs.lease('mail', 'w2', NOW + MINUTE, LEASE);
        expect(retried).toMatchObject({ id: leased.id, attempts: 1 });

        expect(await store.jobs.fail(leased.id, 'w1', 'nope', NOW + MINUTE + 1)).toBe(false);
        expect(await store.jobs.fail(leased.id, 'w2', '550 rejected', NOW + MINUTE + 1)).toBe(true);
        expect(await store.jobs.get('mail', input.key)).toMatchObject({ state: 'failed', lastError: '550 rejected', lockedBy: null });
        expect(await store.jobs.lease('mail', 'w3', NOW + HOUR, LEASE)).toBeNull();
        expect(await store.jobs.counts('mail')).toEqual({ pending: 0, done: 0, failed: 1 });

        await store.jobs.enqueue({ ...input, payload: { v: 'again' } });
        expect(await store.jobs.get('mail', input.key)).toMatchObject({ state: 'pending', attempts: 0, payload: { v: 'again' } });
        expect((await store.jobs.lease('mail', 'w3', NOW + HOUR, LEASE))?.id).toBe(leased.id);
      });

      it('brings a done job back to pending on enqueue', async () => {
        const input = job();
        await store.jobs.enqueue(input);
        const leased = await store.jobs.lease('mail', 'w1', NOW, LEASE);
        if (!leased) throw new Error('expected a lease');
        await store.jobs.retry(leased.id, 'w1', NOW, 'flaky', NOW);
        const again = await store.jobs.lease('mail', 'w1', NOW, LEASE);
        expect(await store.jobs.complete(leased.id, 'w1', again?.revision ?? -1, NOW)).toBe(true);
        await store.jobs.enqueue(input);
        expect(await store.jobs.get('mail', input.key)).toMatchObject({ state: 'pending', attempts: 0, lockedBy: null });
        expect(await store.jobs.counts('mail')).toEqual({ pending: 1, done: 0, failed: 0 });
      });

      it('lists by state in creation order with a limit, and counts per state', async () => {
        const inputs = [job(), job(), job(), job({ queue: 'other' })];
        for (const input of inputs) await store.jobs.enqueue(input);
        const leased = await store.jobs.lease('mail', 'w1', NOW, LEASE);
        if (!leased) throw new Error('expected a lease');
        await store.jobs.complete(leased.id, 'w1', leased.revision, NOW);
        const keys = (records: { key: string }[]) => records.map((r) => r.key);

        expect(keys(await store.jobs.list('mail', undefined, 10))).toEqual(keys(inputs.slice(0, 3)));
        expect(keys(await store.jobs.list('mail', undefined, 2))).toEqual(keys(inputs.slice(0, 2)));
        expect(keys(await store.jobs.list('mail', 'pending', 10))).toEqual(keys(inputs.slice(1, 3)));
        expect(keys(await store.jobs.list('mail', 'done', 10))).toEqual([inputs[0].key]);
        expect(await store.jobs.list('mail', 'failed', 10)).toEqual([]);
        expect(await store.jobs.counts('mail')).toEqual({ pending: 2, done: 1, failed: 0 });
        expect(await store.jobs.counts('empty')).toEqual({ pending: 0, done: 0, failed: 0 });
      });
    });

    // ------------------------------------------------------------ lifecycle

    describe('lifecycle', () => {
      it('pings while open and refuses once closed', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
        await store.close();
        closed = true;
        await expect(store.ping()).rejects.toThrow();
      });
    });
  });
}
