/**
 * Storage contract: the filter operators, not, sorting and the `where` predicates of
 * ports/record-filter.ts (RFC 7644 §3.4.2.2 and §3.4.2.3 as the port sees them). Every adapter
 * must give exactly the answer record-filter.ts gives in memory, whether its indexes answered or not.
 */
import { describe, it, expect } from 'vitest';
import type { GroupFilter, IdentityFilter, IdentityQuery, Store } from '../../server/ports/storage.ts';
import { NOW, identity, group, type ContractContext } from './fixtures.ts';

export function describeFiltersContract(ctx: ContractContext): void {
  describe('RFC 7644 §3.4.2.2 filters and §3.4.2.3 sorting', () => {
    async function seed(store: Store) {
      const people = [
        identity({ id: 'f-ada', userName: 'Ada@Example.test', email: 'ada@example.test', givenName: 'Ada', familyName: 'Lovelace', displayName: 'Ada Lovelace', externalId: 'x-1', locale: 'en-GB', createdAt: NOW - 3000, updatedAt: NOW - 300, source: 'scim', attributes: { emails: [{ value: 'ada@example.test', primary: true, type: 'work' }, { value: 'countess@home.test', type: 'home' }] } }),
        identity({ id: 'f-bob', userName: 'bob@example.test', email: 'bob@example.test', givenName: 'Bob', familyName: null, displayName: null, externalId: null, locale: null, active: false, createdAt: NOW - 2000, updatedAt: NOW - 200, source: 'cli' }),
        identity({ id: 'f-cyd', userName: 'CYD@other.test', email: 'cyd@other.test', givenName: 'Cyd', familyName: 'Zeta', displayName: 'cyd zeta', externalId: 'x-3', locale: 'de-DE', createdAt: NOW - 1000, updatedAt: NOW - 100, source: 'console' }),
      ];
      for (const person of people) await store.identities.create(person);
      const staff = group({ id: 'g-staff', displayName: 'Staff', externalId: null, source: 'scim', createdAt: NOW - 50, updatedAt: NOW - 50 });
      const admins = group({ id: 'g-admins', displayName: 'Admins', externalId: 'okta-g', source: 'console', createdAt: NOW - 40, updatedAt: NOW - 10 });
      await store.groups.create(staff, ['f-ada', 'f-cyd']);
      await store.groups.create(admins, ['f-bob']);
    }
    const users = async (filter?: IdentityFilter, extra: Partial<IdentityQuery> = {}) => {
      const page = await ctx.store.identities.query({ filter, offset: 0, limit: 100, now: NOW, ...extra });
      return page.items.map((item) => item.id);
    };
    const groups = async (filter?: GroupFilter, sort?: { attr: 'displayName' | 'createdAt'; descending?: boolean }) =>
      (await ctx.store.groups.query({ filter, sort, offset: 0, limit: 100 })).items.map((item) => item.id);

    it('eq ne co sw ew pr gt ge lt le compare case-insensitive attributes through their folded form', async () => {
      await seed(ctx.store);
      expect(await users({ attr: 'userName', op: 'eq', value: 'ADA@example.TEST' })).toEqual(['f-ada']);
      expect(await users({ attr: 'userName', op: 'ne', value: 'ada@example.test' })).toEqual(['f-bob', 'f-cyd']);
      expect(await users({ attr: 'userName', op: 'co', value: 'EXAMPLE' })).toEqual(['f-ada', 'f-bob']);
      expect(await users({ attr: 'userName', op: 'sw', value: 'b' })).toEqual(['f-bob']);
      expect(await users({ attr: 'userName', op: 'ew', value: '@OTHER.test' })).toEqual(['f-cyd']);
      expect(await users({ attr: 'displayName', op: 'pr' })).toEqual(['f-ada', 'f-cyd']);
      expect(await users({ attr: 'displayName', op: 'eq', value: 'CYD ZETA' })).toEqual(['f-cyd']);
      expect(await users({ attr: 'familyName', op: 'gt', value: 'm' })).toEqual(['f-cyd']);
      expect(await users({ attr: 'givenName', op: 'le', value: 'bob' })).toEqual(['f-ada', 'f-bob']);
      expect(await users({ attr: 'externalId', op: 'ne', value: 'x-1' })).toEqual(['f-bob', 'f-cyd']);
      expect(await users({ attr: 'externalId', op: 'eq', value: 'X-1' })).toEqual([]);
      expect(await users({ attr: 'locale', op: 'sw', value: 'EN' })).toEqual(['f-ada']);
      expect(await users({ attr: 'source', value: 'console' })).toEqual(['f-cyd']);
    });

    it('email matches any address of the identity; times compare as numbers, from their indexes', async () => {
      await seed(ctx.store);
      expect(await users({ attr: 'email', value: 'COUNTESS@home.test' })).toEqual(['f-ada']);
      expect(await users({ attr: 'email', op: 'ew', value: '@home.test' })).toEqual(['f-ada']);
      expect(await users({ attr: 'email', op: 'ne', value: 'countess@home.test' })).toEqual(['f-bob', 'f-cyd']);
      expect(await users({ attr: 'updatedAt', op: 'gt', value: NOW - 200 })).toEqual(['f-cyd']);
      expect(await users({ attr: 'updatedAt', op: 'ge', value: NOW - 200 })).toEqual(['f-bob', 'f-cyd']);
      expect(await users({ attr: 'createdAt', op: 'lt', value: NOW - 2000 })).toEqual(['f-ada']);
      expect(await users({ attr: 'createdAt', op: 'eq', value: NOW - 1000 })).toEqual(['f-cyd']);
    });

    it('and, or, not and grouping; an unassigned attribute is false under not as well', async () => {
      await seed(ctx.store);
      expect(await users({ op: 'not', filter: { attr: 'familyName', op: 'eq', value: 'zeta' } })).toEqual(['f-ada', 'f-bob']);
      expect(await users({ op: 'not', filter: { attr: 'displayName', op: 'pr' } })).toEqual(['f-bob']);
      expect(await users({ op: 'and', filters: [{ attr: 'active', value: true }, { op: 'or', filters: [{ attr: 'userName', op: 'sw', value: 'c' }, { attr: 'externalId', value: 'x-1' }] }] })).toEqual(['f-ada', 'f-cyd']);
      expect(await users({ op: 'and', filters: [{ attr: 'group', value: 'g-staff' }, { op: 'not', filter: { attr: 'userName', op: 'co', value: 'ada' } }] })).toEqual(['f-cyd']);
      expect(await users({ attr: 'group', op: 'ne', value: 'g-staff' })).toEqual(['f-bob']);
    });

    it('active eq and ne, either value, also under not (SQLite answers `active eq false` from a partial index)', async () => {
      await seed(ctx.store);
      expect(await users({ attr: 'active', value: false })).toEqual(['f-bob']);
      expect(await users({ attr: 'active', op: 'ne', value: true })).toEqual(['f-bob']);
      expect(await users({ attr: 'active', op: 'ne', value: false })).toEqual(['f-ada', 'f-cyd']);
      expect(await users({ op: 'not', filter: { attr: 'active', value: false } })).toEqual(['f-ada', 'f-cyd']);
      expect(await users({ op: 'or', filters: [{ attr: 'active', value: false }, { attr: 'userName', value: 'ada@example.test' }] })).toEqual(['f-ada', 'f-bob']);
    });

    it('a where predicate is decided in memory over the candidates, combined with indexed parts', async () => {
      await seed(ctx.store);
      const homeEmail: IdentityFilter = { where: (record) => JSON.stringify(record.attributes).includes('"home"'), describe: 'emails.type eq "home"' };
      expect(await users(homeEmail)).toEqual(['f-ada']);
      expect(await users({ op: 'or', filters: [homeEmail, { attr: 'userName', value: 'bob@example.test' }] })).toEqual(['f-ada', 'f-bob']);
      expect(await users({ op: 'not', filter: homeEmail })).toEqual(['f-bob', 'f-cyd']);
      const page = await ctx.store.identities.query({ filter: { op: 'not', filter: homeEmail }, offset: 1, limit: 1, now: NOW });
      expect({ ids: page.items.map((item) => item.id), total: page.total }).toEqual({ ids: ['f-cyd'], total: 2 });
      expect(await groups({ where: (record) => record.displayName.startsWith('S'), describe: 'displayName sw "S"' })).toEqual(['g-staff']);
    });

    it('sorts ascending or descending, unassigned last, ties in creation order, with or without a predicate', async () => {
      await seed(ctx.store);
      expect(await users(undefined, { sort: { attr: 'userName' } })).toEqual(['f-ada', 'f-bob', 'f-cyd']);
      expect(await users(undefined, { sort: { attr: 'userName', descending: true } })).toEqual(['f-cyd', 'f-bob', 'f-ada']);
      expect(await users(undefined, { sort: { attr: 'familyName' } })).toEqual(['f-ada', 'f-cyd', 'f-bob']);
      expect(await users(undefined, { sort: { attr: 'updatedAt', descending: true } })).toEqual(['f-cyd', 'f-bob', 'f-ada']);
      expect(await users(undefined, { sort: { attr: 'active' } })).toEqual(['f-bob', 'f-ada', 'f-cyd']);
      const predicate: IdentityFilter = { where: () => true, describe: 'everyone' };
      expect(await users(predicate, { sort: { attr: 'displayName', descending: true } })).toEqual(['f-cyd', 'f-ada', 'f-bob']);
      expect(await groups(undefined, { attr: 'displayName' })).toEqual(['g-admins', 'g-staff']);
      expect(await groups({ attr: 'member', op: 'ne', value: 'f-bob' })).toEqual(['g-staff']);
      expect(await groups({ op: 'and', filters: [{ attr: 'source', value: 'console' }, { attr: 'updatedAt', op: 'gt', value: NOW - 20 }] })).toEqual(['g-admins']);
    });
  });
}
