/**
 * The console's identities table on 10,000 people: every page, search and filter is answered by
 * the store (services.identities.list) with exact totals and exact rows in creation order, on
 * both stores; speed is measured in `npm run bench`, not here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { identityRecord } from '../support/builders.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

const PEOPLE = 10_000;
const userName = (index: number) => `user${index}@scale.test`;
const range = (from: number, to: number, step = 1) => Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, n) => from + n * step);

describe.each(STORE_KINDS)('identities API at 10,000 identities (%s)', { timeout: 180_000 }, (store) => {
  let server: TestServer;
  let groupId: string;

  beforeAll(async () => {
    server = await startTestServer({ store });
    const group = await server.services.groups.create({ displayName: 'Everyone odd' }, CLI_ACTOR);
    groupId = group.id;
    const odd: string[] = [];
    const now = Date.now();
    for (let index = 0; index < PEOPLE; index++) {
      const record = identityRecord({ userName: userName(index), givenName: `Given${index}`, familyName: `Family${index}`, externalId: `okta-${index}`, createdAt: now });
      await server.services.store.identities.create(record);
      if (index % 2) odd.push(record.id);
    }
    await server.services.groups.change(group.id, { members: { add: odd } }, CLI_ACTOR);
  }, 180_000);
  afterAll(async () => server?.close());

  const names = (page: { items: Array<{ userName: string }> }) => page.items.map((item) => item.userName);

  it('pages through 10,000 identities in creation order with exact totals', async () => {
    const { identities } = server.services;
    const first = await identities.list({ offset: 0, limit: 25 });
    expect(first.total).toBe(PEOPLE);
    expect(names(first)).toEqual(range(0, 24).map(userName));
    const middle = await identities.list({ offset: 5_000, limit: 25 });
    expect(names(middle)).toEqual(range(5_000, 5_024).map(userName));
    const last = await identities.list({ offset: PEOPLE - 25, limit: 25 });
    expect(last.total).toBe(PEOPLE);
    expect(names(last)).toEqual(range(PEOPLE - 25, PEOPLE - 1).map(userName));
    const beyond = await identities.list({ offset: PEOPLE, limit: 25 });
    expect(beyond).toEqual({ total: PEOPLE, items: [] });
  });

  it('searches and filters by status and group with exact rows', async () => {
    const { identities } = server.services;
    const search = await identities.list({ search: 'user9999@', offset: 0, limit: 25 });
    expect(search.total).toBe(1);
    expect(names(search)).toEqual([userName(9999)]);
    // Members are the odd indices: the 2,001st is user4001.
    const filtered = await identities.list({ status: 'unenrolled', groupId, offset: 2_000, limit: 25 });
    expect(filtered.total).toBe(PEOPLE / 2);
    expect(names(filtered)).toEqual(range(4_001, 4_049, 2).map(userName));
    expect(filtered.items.map((item) => item.enrollmentStatus)).toEqual(filtered.items.map(() => 'unenrolled'));
    const none = await identities.list({ status: 'enrolled', groupId, offset: 0, limit: 25 });
    expect(none).toEqual({ total: 0, items: [] });
  });
});
