/**
 * SCIM provisioning at Okta's request shapes: 10,000 user creates (each preceded by Okta's
 * lookup-before-create GET) and 100 groups of 100 members from 8 concurrent clients, then
 * `userName eq` lookups against 10,000 and then 100,000 users. The extra 90,000 users are written
 * straight to the store (provisioning speed was already measured); lookups go through HTTP.
 */
import { randomUUID } from 'node:crypto';
import type { StoreKind } from '../test/support/test-server.ts';
import { startLatchkey } from './latchkey-under-test.ts';
import { drive, type LoadResult } from './stats.ts';
import { rawRequest } from './raw-http-client.ts';
import { CLI_ACTOR } from '../server/domain/actor.ts';

const SCIM_JSON = 'application/scim+json';

export interface ScimBenchResult {
  store: StoreKind;
  creates: LoadResult;
  groups: LoadResult;
  lookups10k: LoadResult;
  lookups100k: LoadResult;
}

function oktaUser(userName: string) {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName,
    name: { givenName: 'Bench', familyName: 'Person' },
    emails: [{ primary: true, value: userName, type: 'work' }],
    displayName: 'Bench Person',
    locale: 'en-US',
    externalId: randomUUID().replace(/-/g, '').slice(0, 20),
    groups: [],
    password: 'Placeholder-1!',
    active: true,
  };
}

type Send = typeof import('./http-client.ts').request;

/** One SCIM request with the headers Okta sends; the parsed body, or an error on an unexpected status. */
function scimCall(base: string, token: string, send: Send) {
  const headers = { authorization: `Bearer ${token}`, 'content-type': SCIM_JSON, accept: SCIM_JSON, 'user-agent': 'Okta SCIM Client 1.0.0' };
  return async (method: string, path: string, body?: unknown, expected = [200]) => {
    const response = await send(method, `${base}${path}`, headers, body === undefined ? undefined : JSON.stringify(body));
    if (!expected.includes(response.status)) throw new Error(`${method} ${path} -> ${response.status} ${response.text.slice(0, 200)}`);
    return response.text ? JSON.parse(response.text) : null;
  };
}

/** Okta's create: the `userName eq` lookup (expected to find no one), then POST /Users; the new id. */
export function oktaCreate(base: string, token: string, send: Send) {
  const call = scimCall(base, token, send);
  return async (userName: string): Promise<string> => {
    const found = await call('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}&startIndex=1&count=100`);
    if (found.totalResults !== 0) throw new Error('lookup found a user that should not exist yet');
    return (await call('POST', '/Users', oktaUser(userName), [201])).id;
  };
}

export async function benchScim(store: StoreKind, options: { users?: number; groups?: number; members?: number; bigUsers?: number; lookups?: number; concurrency?: number } = {}): Promise<ScimBenchResult> {
  const users = options.users ?? 10_000;
  const groupCount = options.groups ?? 100;
  const members = options.members ?? 100;
  const bigUsers = options.bigUsers ?? 100_000;
  const lookups = options.lookups ?? 2_000;
  const concurrency = options.concurrency ?? 8;
  const server = await startLatchkey(store);
  try {
    const { token } = await server.services.scimTokens.create({ name: 'bench' }, CLI_ACTOR);
    const base = `${server.url}/scim/v2`;
    // The raw client: half the CPU of node:http's per request, which this 2-core machine would take from the server.
    const call = scimCall(base, token, rawRequest);
    const ids: string[] = new Array(users);
    const create = oktaCreate(base, token, rawRequest);
    const creates = await drive(users, concurrency, async (index) => {
      ids[index] = await create(`user${index}@bench.example.com`);
    });
    const groups = await drive(groupCount, concurrency, async (index) => {
      const group = await call('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `Bench group ${index}`, members: [] }, [201]);
      const slice = Array.from({ length: members }, (_, offset) => ids[(index * members + offset) % users]);
      await call('PATCH', `/Groups/${group.id}`, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'add', path: 'members', value: slice.map((value) => ({ value, display: value })) }],
      }, [200, 204]);
    });
    const lookupOne = async (index: number) => {
      const userName = `user${(index * 7919) % users}@bench.example.com`;
      const found = await call('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}&startIndex=1&count=100`);
      if (found.totalResults !== 1) throw new Error(`expected one ${userName}, got ${found.totalResults}`);
    };
    // Each size gets the same untimed warm-up, so neither measures cold caches after bulk writes.
    const lookup = async () => {
      await drive(200, concurrency, (index) => lookupOne(index + lookups));
      return drive(lookups, concurrency, lookupOne);
    };
    const lookups10k = await lookup();
    const now = Date.now();
    for (let start = users; start < bigUsers; start += 1000) {
      await Promise.all(Array.from({ length: Math.min(1000, bigUsers - start) }, (_, offset) => {
        const userName = `filler${start + offset}@bench.example.com`;
        return server.services.store.identities.create({
          id: randomUUID(), userName, email: userName, emailVerified: true, source: 'cli', givenName: 'Filler', familyName: 'Person', displayName: null,
          externalId: null, oktaUserId: null, locale: null, active: true, roles: [], attributes: {}, createdAt: now, updatedAt: now, version: 1,
        });
      }));
    }
    const lookups100k = await lookup();
    return { store, creates, groups, lookups10k, lookups100k };
  } finally {
    await server.close();
  }
}
