/**
 * The console's identities table on 10,000 people: every page, search and filter is answered by
 * the store (services.identities.list) with exact totals; speed is measured in `npm run bench`, not here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import type { IdentityRecord } from '../../server/ports/storage.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

const PEOPLE = 10_000;

describe('identities API at 10,000 identities', { timeout: 120_000 }, () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ store: 'sqlite' });
    const { store } = server.services;
    const now = Date.now();
    const group = await server.services.groups.create({ displayName: 'Everyone odd' }, CLI_ACTOR);
    const odd: string[] = [];
    for (let index = 0; index < PEOPLE; index++) {
      const record: IdentityRecord = {
        id: randomUUID(),
        userName: `user${index}@scale.test`,
        email: `user${index}@scale.test`,
        emailVerified: true, source: 'cli',
        givenName: `Given${index}`,
        familyName: `Family${index}`,
        displayName: null,
        externalId: `okta-${index}`,
        oktaUserId: null,
        locale: null,
        active: true,
        roles: [],
        attributes: {},
        createdAt: now,
        updatedAt: now,
        version: 1,
      };
      await store.identities.create(record);
      if (index % 2) odd.push(record.id);
    }
    await server.services.groups.change(group.id, { members: { add: odd } }, CLI_ACTOR);
  });
  afterAll(async () => server?.close());

  it('pages, searches and filters 10,000 identities with exact results', async () => {
    const { identities, groups } = server.services;
    const group = (await groups.list({ search: 'Everyone odd', offset: 0, limit: 1 })).items[0];
    const run = async (query: Parameters<typeof identities.list>[0]) => ({ page: await identities.list(query) });
    const last = await run({ offset: PEOPLE - 25, limit: 25 });
    expect(last.page.total).toBe(PEOPLE);
    expect(last.page.items).toHaveLength(25);
    const search = await run({ search: 'user9999@', offset: 0, limit: 25 });
    expect(search.page.items.map((item) => item.userName)).toEqual(['user9999@scale.test']);
    const filtered = await run({ status: 'unenrolled', groupId: group.id, offset: 2_000, limit: 25 });
    expect(filtered.page.total).toBe(PEOPLE / 2);
    expect(filtered.page.items.every((item) => item.enrollmentStatus === 'unenrolled')).toBe(true);
  });
});
