/**
 * RFC 7643/7644 beyond Okta's shapes, on every store, one describe per section touched:
 * the schema checked against what the server enforces (generated from /Schemas, so they cannot
 * drift), filters, sorting, attribute projection, .search, PATCH remove, ETags, and the source
 * recorded for what SCIM creates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../support/test-server.ts';
import { SCIM, query, startScimHarness, type ScimHarness } from './scim-client.ts';

const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
const patch = (...Operations: unknown[]) => ({ schemas: [SCIM.patchOp], Operations });

interface SchemaAttribute {
  name: string;
  type: string;
  multiValued: boolean;
  required: boolean;
  mutability: string;
  returned: string;
  canonicalValues?: string[];
  subAttributes?: SchemaAttribute[];
}

let counter = 0;
/** A valid value for an attribute, built only from what /Schemas says about it. */
function sample(attribute: SchemaAttribute, all: boolean): unknown {
  const one = (): unknown => {
    if (attribute.type === 'complex') {
      return Object.fromEntries(
        (attribute.subAttributes ?? [])
          .filter((sub) => sub.mutability !== 'readOnly' && (all || sub.required) && sub.name !== 'primary')
          .map((sub) => [sub.name, sample(sub, all)]),
      );
    }
    if (attribute.type === 'boolean') return true;
    if (attribute.canonicalValues) return attribute.canonicalValues[0];
    counter += 1;
    return `s${counter}-${attribute.name.toLowerCase()}@generated.test`;
  };
  return attribute.multiValued ? [one()] : one();
}

function bodyOf(schema: { id: string; attributes: SchemaAttribute[] }, omit?: string, all = false): Record<string, unknown> {
  const body: Record<string, unknown> = { schemas: [schema.id] };
  for (const attribute of schema.attributes) {
    if (attribute.mutability === 'readOnly' || attribute.name === omit) continue;
    if (attribute.required || all) body[attribute.name] = sample(attribute, all);
  }
  return body;
}

describe.each(STORE_KINDS)('RFC 7643/7644 (%s)', (kind) => {
  let scim: ScimHarness;
  let schemas: { id: string; name: string; attributes: SchemaAttribute[] }[] = [];
  const ids: Record<string, string> = {};
  const endpoint = (schema: { name: string }) => `/${schema.name}s`;

  beforeAll(async () => {
    scim = await startScimHarness(kind);
    schemas = (await scim.request('GET', '/Schemas')).body.Resources;
    const people = [
      { userName: 'ada@example.com', name: { givenName: 'Ada', familyName: 'Lovelace' }, emails: [{ value: 'ada@example.com', type: 'work', primary: true }, { value: 'ada@home.test', type: 'home' }], title: 'x' },
      { userName: 'bob@example.com', name: { givenName: 'Bob' }, emails: [{ value: 'bob@example.com', type: 'work' }], active: false },
      { userName: 'cyd@other.test', name: { givenName: 'Cyd', familyName: 'Zeta' }, emails: [{ value: 'cyd@other.test' }], displayName: 'Cyd' },
    ];
    for (const person of people) {
      const response = await scim.request('POST', '/Users', { body: { schemas: [SCIM.user], ...person } });
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      ids[person.userName.split('@')[0]] = response.body.id;
    }
    const group = await scim.request('POST', '/Groups', { body: { schemas: [SCIM.group], displayName: 'Readers', members: [{ value: ids.ada }, { value: ids.cyd }] } });
    ids.readers = group.body.id;
  });
  afterAll(async () => {
    await scim?.close();
  });

  describe('RFC 7643 §7 /Schemas describes exactly what the server enforces', () => {
    it('every required attribute and sub-attribute is refused when missing; the rest may be omitted', async () => {
      for (const schema of schemas) {
        const minimal = await scim.request('POST', endpoint(schema), { body: bodyOf(schema) });
        expect(minimal.status, `${schema.name} with only required attributes: ${JSON.stringify(minimal.body)}`).toBe(201);
        for (const attribute of schema.attributes.filter((item) => item.mutability !== 'readOnly')) {
          if (attribute.required) {
            const response = await scim.request('POST', endpoint(schema), { body: bodyOf(schema, attribute.name) });
            expect(response.status, `${schema.name} without required ${attribute.name}`).toBe(400);
            expect(response.body).toMatchObject({ scimType: 'invalidValue', detail: expect.stringContaining(attribute.name) });
          }
          for (const sub of (attribute.subAttributes ?? []).filter((item) => item.required && item.mutability !== 'readOnly')) {
            const body = bodyOf(schema, undefined, true);
            const values = body[attribute.name] as Record<string, unknown>[];
            delete (attribute.multiValued ? values[0] : (values as unknown as Record<string, unknown>))[sub.name];
            const response = await scim.request('POST', endpoint(schema), { body });
            expect(response.status, `${schema.name} without required ${attribute.name}.${sub.name}`).toBe(400);
            expect(response.body.detail).toContain(`${attribute.name}[0].${sub.name}`);
          }
        }
      }
    });

    it('every writable attribute is kept and read back; a wrongly typed one is 400 invalidValue', async () => {
      for (const schema of schemas) {
        const body = bodyOf(schema, undefined, true);
        if (schema.name === 'Group') body.members = [{ value: ids.bob, type: 'User' }];
        const created = await scim.request('POST', endpoint(schema), { body });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        const read = await scim.request('GET', `${endpoint(schema)}/${created.body.id}`);
        for (const attribute of schema.attributes.filter((item) => item.mutability !== 'readOnly' && item.returned !== 'never')) {
          expect(read.body[attribute.name], `${schema.name}.${attribute.name} read back`).toMatchObject(body[attribute.name] as object);
          const wrong = attribute.type === 'boolean' ? 'maybe' : attribute.multiValued ? 'not-a-list' : attribute.type === 'complex' ? 'not-an-object' : 42;
          const refused = await scim.request('POST', endpoint(schema), { body: { ...bodyOf(schema), [attribute.name]: wrong } });
          expect(refused.status, `${schema.name}.${attribute.name} = ${JSON.stringify(wrong)}`).toBe(400);
          expect(refused.body.scimType).toBe('invalidValue');
        }
      }
    });

    it('returned: always attributes survive excludedAttributes; canonicalValues are enforced', async () => {
      for (const schema of schemas) {
        const always = schema.attributes.filter((attribute) => attribute.returned === 'always').map((attribute) => attribute.name);
        const list = await scim.request('GET', `${endpoint(schema)}${query({ excludedAttributes: always.join(','), count: 1 })}`);
        for (const name of always) expect(list.body.Resources[0][name]).toBeDefined();
      }
      const group = schemas.find((schema) => schema.name === 'Group')!;
      const refused = await scim.request('POST', '/Groups', { body: { ...bodyOf(group), members: [{ value: ids.bob, type: 'Group' }] } });
      expect(refused.body).toMatchObject({ status: '400', scimType: 'invalidValue', detail: expect.stringContaining('"User"') });
    });
  });

  describe('RFC 7644 §3.4.2.2 filtering', () => {
    /** Leaves out the people the schema tests generated. */
    const find = async (filter: string, resource = 'Users') => {
      const scoped = resource === 'Users' ? `(${filter}) and not (userName ew "@generated.test")` : filter;
      const response = await scim.request('GET', `/${resource}${query({ filter: scoped })}`);
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      return response.body.Resources.map((item: { id: string }) => item.id);
    };

    it('every operator, not, grouping and value paths', async () => {
      expect(await find('userName co "EXAMPLE"')).toEqual([ids.ada, ids.bob]);
      expect(await find('userName sw "cyd" or userName ew "@example.com" and active eq false')).toEqual([ids.bob, ids.cyd]);
      expect(await find('not (userName ew "@example.com")')).toEqual([ids.cyd]);
      expect(await find('name.familyName pr and (name.givenName gt "B" or displayName eq "cyd")')).toEqual([ids.cyd]);
      expect(await find('emails[type eq "home" and value co "@home.test"]')).toEqual([ids.ada]);
      expect(await find('emails.value eq "ADA@home.test"')).toEqual([ids.ada]);
      expect(await find('emails.type eq "home" and emails.primary eq false')).toEqual([ids.ada]);
      expect(await find('not (emails.type eq "work")')).toEqual([ids.cyd]);
      expect(await find(`groups.value eq "${ids.readers}"`)).toEqual([ids.ada, ids.cyd]);
      expect(await find(`members[value eq "${ids.cyd}"] and displayName sw "read"`, 'Groups')).toEqual([ids.readers]);
    });

    it('meta.created and meta.lastModified compare as instants', async () => {
      const ada = (await scim.request('GET', `/Users/${ids.ada}`)).body;
      expect(await find(`meta.created le "${ada.meta.created}"`)).toContain(ids.ada);
      expect(await find(`meta.lastModified gt "${ada.meta.lastModified}" and userName eq "ada@example.com"`)).toEqual([]);
      expect(await find(`meta.lastModified ge "${ada.meta.lastModified}" and userName eq "ada@example.com"`)).toEqual([ids.ada]);
    });
  });

  describe('RFC 7644 §3.4.2.3 sorting', () => {
    it('sortBy and sortOrder order the whole result before paging', async () => {
      const filter = 'userName eq "ada@example.com" or userName eq "bob@example.com" or userName eq "cyd@other.test"';
      const names = async (params: Record<string, string | number>) => (await scim.request('GET', `/Users${query({ filter, ...params })}`)).body.Resources.map((user: { userName: string }) => user.userName);
      expect(await names({ sortBy: 'userName', sortOrder: 'descending' })).toEqual(['cyd@other.test', 'bob@example.com', 'ada@example.com']);
      expect(await names({ sortBy: 'name.familyName' })).toEqual(['ada@example.com', 'cyd@other.test', 'bob@example.com']);
      expect(await names({ sortBy: 'userName', sortOrder: 'descending', startIndex: 2, count: 1 })).toEqual(['bob@example.com']);
      expect((await scim.request('GET', `/Users${query({ sortBy: 'nickName' })}`)).body).toMatchObject({ status: '400', scimType: 'invalidValue' });
    });
  });

  describe('RFC 7644 §3.4.2.5 and §3.9 attributes and excludedAttributes', () => {
    it('on GET by id and lists, with sub-attributes', async () => {
      const only = await scim.request('GET', `/Users/${ids.ada}${query({ attributes: 'userName,name.givenName,emails.value' })}`);
      expect(only.body).toEqual({ schemas: [SCIM.user], id: ids.ada, userName: 'ada@example.com', name: { givenName: 'Ada' }, emails: [{ value: 'ada@example.com' }, { value: 'ada@home.test' }] });
      const without = await scim.request('GET', `/Users${query({ filter: 'userName eq "ada@example.com"', excludedAttributes: 'emails.type,groups,meta,name.familyName' })}`);
      const user = without.body.Resources[0];
      expect(user.groups).toBeUndefined();
      expect(user.meta).toBeUndefined();
      expect(user.name).toEqual({ givenName: 'Ada', formatted: 'Ada Lovelace' });
      expect(user.emails[0]).toEqual({ value: 'ada@example.com', primary: true });
      const group = await scim.request('GET', `/Groups/${ids.readers}${query({ attributes: `urn:ietf:params:scim:schemas:core:2.0:Group:displayName` })}`);
      expect(group.body).toEqual({ schemas: [SCIM.group], id: ids.readers, displayName: 'Readers' });
    });

    it('on the answers to POST, PUT and PATCH', async () => {
      const created = await scim.request('POST', `/Users${query({ attributes: 'userName' })}`, { body: { schemas: [SCIM.user], userName: 'dee@example.com', emails: [{ value: 'dee@example.com' }] } });
      expect(created.body).toEqual({ schemas: [SCIM.user], id: created.body.id, userName: 'dee@example.com' });
      const patched = await scim.request('PATCH', `/Users/${created.body.id}${query({ excludedAttributes: 'emails,groups,meta' })}`, { body: patch({ op: 'replace', path: 'displayName', value: 'Dee' }) });
      expect(Object.keys(patched.body).sort()).toEqual(['active', 'displayName', 'id', 'schemas', 'userName']);
      const put = await scim.request('PUT', `/Users/${created.body.id}${query({ attributes: 'displayName' })}`, { body: { schemas: [SCIM.user], userName: 'dee@example.com', emails: [{ value: 'dee@example.com' }], displayName: 'D.' } });
      expect(put.body).toEqual({ schemas: [SCIM.user], id: created.body.id, displayName: 'D.' });
    });
  });

  describe('RFC 7644 §3.4.3 POST .search', () => {
    it('on /Users, /Groups and the root, with the SearchRequest members', async () => {
      const users = await scim.request('POST', '/Users/.search', { body: { schemas: [SEARCH], filter: 'userName sw "a" or userName sw "b"', attributes: ['userName'], sortBy: 'userName', sortOrder: 'descending', startIndex: 1, count: 10 } });
      expect(users.status, JSON.stringify(users.body)).toBe(200);
      expect(users.body).toMatchObject({ schemas: [SCIM.listResponse], totalResults: 2, itemsPerPage: 2 });
      expect(users.body.Resources).toEqual([{ schemas: [SCIM.user], id: ids.bob, userName: 'bob@example.com' }, { schemas: [SCIM.user], id: ids.ada, userName: 'ada@example.com' }]);
      const groups = await scim.request('POST', '/Groups/.search', { body: { schemas: [SEARCH], filter: 'displayName eq "readers"', excludedAttributes: ['members'] } });
      expect(groups.body.Resources.map((group: { id: string; members?: unknown }) => [group.id, group.members])).toEqual([[ids.readers, undefined]]);
      const root = await scim.request('POST', '/.search', { body: { schemas: [SEARCH], filter: `id eq "${ids.ada}" or id eq "${ids.readers}" or userName eq "nobody"`, attributes: ['id'] } });
      expect(root.body).toMatchObject({ totalResults: 2, Resources: [{ id: ids.ada }, { id: ids.readers }] });
      const paged = await scim.request('POST', '/.search', { body: { schemas: [SEARCH], filter: `id eq "${ids.ada}" or id eq "${ids.readers}"`, startIndex: 2, count: 1 } });
      expect(paged.body).toMatchObject({ totalResults: 2, startIndex: 2, itemsPerPage: 1, Resources: [{ id: ids.readers }] });
      expect((await scim.request('POST', '/Users/.search', { body: { schemas: [SCIM.user] } })).body).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
      const get = await scim.request('GET', '/Users/.search');
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
    });
  });

  describe('RFC 7644 §3.5.2.2 PATCH remove', () => {
    it('removes all members, a filtered value, a sub-attribute; required targets are 400 mutability, never a silent 200', async () => {
      const group = await scim.request('POST', '/Groups', { body: { schemas: [SCIM.group], displayName: 'Temporary', members: [{ value: ids.ada }, { value: ids.bob }] } });
      const emptied = await scim.request('PATCH', `/Groups/${group.body.id}`, { body: patch({ op: 'remove', path: 'members' }) });
      expect(emptied.status).toBe(200);
      expect(emptied.body.members ?? []).toEqual([]);
      expect(await scim.server.services.store.groups.members(group.body.id)).toEqual([]);
      const user = await scim.request('PATCH', `/Users/${ids.ada}`, { body: patch({ op: 'remove', path: 'emails[type eq "home"]' }, { op: 'remove', path: 'name.familyName' }) });
      expect(user.body.emails).toEqual([{ value: 'ada@example.com', type: 'work', primary: true }]);
      expect(user.body.name).toEqual({ givenName: 'Ada', formatted: 'Ada' });
      const before = await scim.server.services.store.identities.get(ids.ada);
      for (const path of ['active', 'userName', 'emails', 'emails[type eq "work"].value', 'id']) {
        const refused = await scim.request('PATCH', `/Users/${ids.ada}`, { body: patch({ op: 'remove', path }) });
        expect(refused.body, path).toMatchObject({ status: '400', scimType: 'mutability' });
      }
      expect(await scim.server.services.store.identities.get(ids.ada)).toEqual(before);
    });
  });

  describe('RFC 7644 §3.14 versioning', () => {
    it('ETag on every resource answer, If-None-Match 304, If-Match 412 on mismatch and a write on match', async () => {
      const read = await scim.request('GET', `/Users/${ids.cyd}`);
      const etag = read.headers.get('etag')!;
      expect(etag).toBe(read.body.meta.version);
      expect(etag).toMatch(/^W\/"\d+"$/);
      const unchanged = await fetch(`${scim.base}/Users/${ids.cyd}`, { headers: { authorization: `Bearer ${scim.token}`, 'if-none-match': etag } });
      expect(unchanged.status).toBe(304);
      const stale = await scim.request('PATCH', `/Users/${ids.cyd}`, { body: patch({ op: 'replace', path: 'displayName', value: 'C' }), headers: { 'If-Match': 'W/"999"' } });
      expect(stale.body).toMatchObject({ status: '412' });
      const fresh = await scim.request('PATCH', `/Users/${ids.cyd}`, { body: patch({ op: 'replace', path: 'displayName', value: 'C' }), headers: { 'If-Match': etag } });
      expect(fresh.status).toBe(200);
      expect(fresh.headers.get('etag')).not.toBe(etag);
      expect((await scim.request('DELETE', `/Users/${ids.cyd}`, { headers: { 'If-Match': etag } })).status).toBe(412);
      const config = await scim.request('GET', '/ServiceProviderConfig');
      expect(config.body).toMatchObject({ etag: { supported: true }, sort: { supported: true } });
    });
  });

  describe('source of records (issue 11 item 7)', () => {
    it('what SCIM creates is recorded as coming from SCIM, with or without an externalId', async () => {
      const { store } = scim.server.services;
      expect((await store.groups.get(ids.readers))?.source).toBe('scim');
      expect((await store.identities.get(ids.bob))?.source).toBe('scim');
    });
  });
});
