/**
 * Bad input to the SCIM edge, on every store: each case is a 4xx in the RFC 7644 §3.12 error
 * schema with the right scimType and a detail a person can act on; never a 500, never a
 * half-applied change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomToken } from '../../server/domain/secrets.ts';
import { STORE_KINDS } from '../support/test-server.ts';
import { startScimHarness, type ScimHarness } from './scim-client.ts';
import { SCIM, query, scimPatch as patch, scimUserBody, type ScimResponse } from '../support/scim.ts';
import { storeScimToken } from '../support/builders.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

function expectScimError(response: ScimResponse, status: number, scimType?: string, detail?: RegExp): void {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.contentType).toMatch(/^application\/scim\+json/);
  expect(response.body).toEqual({ schemas: [SCIM.error], status: String(status), ...(scimType ? { scimType } : {}), detail: expect.any(String) });
  if (detail) expect(response.body.detail).toMatch(detail);
}

const userBody = (userName: string, extra: Record<string, unknown> = {}) => scimUserBody(userName, { givenName: 'Pat', familyName: 'Doe', ...extra });

describe.each(STORE_KINDS)('SCIM bad input (%s)', (kind) => {
  let scim: ScimHarness;
  let userId = '';
  let otherId = '';
  let groupId = '';

  beforeAll(async () => {
    scim = await startScimHarness(kind);
    userId = (await scim.request('POST', '/Users', { body: userBody('pat@example.com') })).body.id;
    otherId = (await scim.request('POST', '/Users', { body: userBody('other@example.com') })).body.id;
    groupId = (await scim.request('POST', '/Groups', { body: { schemas: [SCIM.group], displayName: 'Staff', members: [{ value: userId }] } })).body.id;
    await scim.request('POST', '/Groups', { body: { schemas: [SCIM.group], displayName: 'Contractors', members: [] } });
  });
  afterAll(async () => {
    await scim?.close();
  });

  describe('authentication', () => {
    it('missing, malformed, wrong, revoked and expired tokens all get the identical 401', async () => {
      const { store, clock, scimTokens } = scim.server.services;
      const revoked = await scimTokens.create({ name: 'old' }, CLI_ACTOR);
      await scimTokens.revoke(revoked.info.id, CLI_ACTOR);
      const { token: expired } = await storeScimToken(store, { name: 'expired', createdAt: clock.now() - 10_000, expiresAt: clock.now() - 1 });
      const variants: (string | null)[] = [null, 'Bearer', `Basic ${scim.token}`, `Bearer ${randomToken()}`, `Bearer ${revoked.token}`, `Bearer ${expired}`];
      const responses = await Promise.all(variants.map((authorization) => scim.request('GET', '/Users', { authorization })));
      for (const response of responses) {
        expectScimError(response, 401);
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
      }
      const shapes = responses.map((response) => JSON.stringify([response.body, response.headers.get('www-authenticate')]));
      expect(new Set(shapes).size).toBe(1);
      // The valid token still works, and the refused ones changed nothing.
      expect((await scim.request('GET', '/Users')).status).toBe(200);
    });

    it('authenticates before anything else: an unauthenticated write with a bad body is still 401', async () => {
      expectScimError(await scim.request('POST', '/Users', { rawBody: '{nope', authorization: null }), 401);
    });
  });

  describe('bodies', () => {
    it('malformed JSON is 400 invalidSyntax', async () => {
      expectScimError(await scim.request('POST', '/Users', { rawBody: '{"schemas": [' }), 400, 'invalidSyntax', /not valid JSON/);
    });

    it('a JSON array or a non-JSON content type is 400 invalidSyntax', async () => {
      expectScimError(await scim.request('POST', '/Users', { rawBody: '[]' }), 400, 'invalidSyntax', /object/);
      expectScimError(await scim.request('POST', '/Users', { rawBody: 'userName=x', contentType: 'text/plain' }), 400, 'invalidSyntax', /Content-Type/);
    });

    it('application/json is accepted as well as application/scim+json', async () => {
      const response = await scim.request('POST', '/Users', { body: userBody('json@example.com'), contentType: 'application/json' });
      expect(response.status).toBe(201);
    });

    it('wrong or missing schemas are 400 invalidSyntax', async () => {
      expectScimError(await scim.request('POST', '/Users', { body: { ...userBody('x@example.com'), schemas: [SCIM.group] } }), 400, 'invalidSyntax', /schemas/);
      const { schemas: _schemas, ...noSchemas } = userBody('y@example.com');
      expectScimError(await scim.request('POST', '/Users', { body: noSchemas }), 400, 'invalidSyntax', /schemas/);
      expectScimError(await scim.request('PATCH', `/Users/${userId}`, { body: { schemas: [SCIM.user], Operations: [{ op: 'replace', value: { active: false } }] } }), 400, 'invalidSyntax', /PatchOp/);
      expectScimError(await scim.request('PATCH', `/Users/${userId}`, { body: { schemas: [SCIM.patchOp], Operations: [] } }), 400, 'invalidSyntax', /Operations/);
    });

    it('an oversized body is 413 in the SCIM error schema', async () => {
      const huge = JSON.stringify({ ...userBody('big@example.com'), padding: 'x'.repeat(1_200_000) });
      expectScimError(await scim.request('POST', '/Users', { rawBody: huge }), 413, undefined, /larger than/);
    });

    it('wrongly typed or missing attributes are 400 invalidValue naming the attribute', async () => {
      expectScimError(await scim.request('POST', '/Users', { body: userBody('a@example.com', { active: 'maybe' }) }), 400, 'invalidValue', /active/);
      expectScimError(await scim.request('POST', '/Users', { body: userBody('') }), 400, 'invalidValue', /userName/);
      expectScimError(await scim.request('POST', '/Users', { body: userBody('b@example.com', { emails: 'b@example.com' }) }), 400, 'invalidValue', /emails/);
      expectScimError(await scim.request('POST', '/Users', { body: userBody('c@example.com', { displayName: 42 }) }), 400, 'invalidValue', /displayName/);
      expectScimError(await scim.request('POST', '/Users', { body: userBody('nobody', { emails: [] }) }), 400, 'invalidValue', /email/);
      expectScimError(await scim.request('POST', '/Groups', { body: { schemas: [SCIM.group], members: [] } }), 400, 'invalidValue', /displayName/);
      expectScimError(await scim.request('POST', '/Groups', { body: { schemas: [SCIM.group], displayName: 'G', members: ['x'] } }), 400, 'invalidValue', /members\[0\]/);
    });

    it('unknown attributes are ignored, not fatal', async () => {
      const response = await scim.request('POST', '/Users', {
        body: userBody('extra@example.com', { nickName: 'Pat', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'R&D' }, schemas: [SCIM.user, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'] }),
      });
      expect(response.status).toBe(201);
      expect(response.body.nickName).toBeUndefined();
    });
  });

  describe('filters and paging', () => {
    it('an unparsable filter is 400 invalidFilter with an example', async () => {
      expectScimError(await scim.request('GET', `/Users${query({ filter: 'userName eq "unterminated' })}`), 400, 'invalidFilter', /does not parse.*userName eq/);
    });

    it('unknown attributes and operators that do not fit the attribute type are 400 invalidFilter saying what is supported', async () => {
      for (const filter of ['nickName eq "Pat"', 'emails[colour eq "red"]', 'name.middleName pr', 'active gt true', 'meta.created co "2026"', 'meta.lastModified gt "yesterday"', 'active eq "sometimes"']) {
        expectScimError(await scim.request('GET', `/Users${query({ filter })}`), 400, 'invalidFilter', /filters on|boolean|dateTime|sub-attribute|true or false/);
      }
      expectScimError(await scim.request('GET', `/Groups${query({ filter: 'userName eq "pat@example.com"' })}`), 400, 'invalidFilter', /Groups filters on/);
    });

    it('supported filters combine with and/or and match on the indexes', async () => {
      const both = await scim.request('GET', `/Users${query({ filter: `userName eq "pat@example.com" or emails[value eq "OTHER@example.com"]` })}`);
      expect(both.body.Resources.map((user: { id: string }) => user.id).sort()).toEqual([userId, otherId].sort());
      const none = await scim.request('GET', `/Users${query({ filter: 'emails.value eq "pat@example.com" and active eq false' })}`);
      expect(none.body.totalResults).toBe(0);
      const byMember = await scim.request('GET', `/Groups${query({ filter: `members[value eq "${userId}"]` })}`);
      expect(byMember.body.Resources.map((group: { id: string }) => group.id)).toEqual([groupId]);
    });

    it('non-integer startIndex or count is 400 invalidValue; out-of-range values are clamped', async () => {
      expectScimError(await scim.request('GET', `/Users${query({ startIndex: 'abc' })}`), 400, 'invalidValue', /startIndex/);
      expectScimError(await scim.request('GET', `/Users${query({ count: '1.5' })}`), 400, 'invalidValue', /count/);
      const clamped = await scim.request('GET', `/Users${query({ startIndex: 0, count: -3 })}`);
      expect(clamped.status).toBe(200);
      expect(clamped.body).toMatchObject({ startIndex: 1, itemsPerPage: 0, Resources: [] });
      expect(clamped.body.totalResults).toBeGreaterThan(0);
      const beyond = await scim.request('GET', `/Users${query({ startIndex: '99999999999999999999', count: '99999999999' })}`);
      expect(beyond.status).toBe(200);
      expect(beyond.body).toMatchObject({ itemsPerPage: 0, Resources: [] });
    });
  });

  describe('unknown ids and endpoints', () => {
    it('unknown user and group ids are 404 for every method', async () => {
      for (const resource of ['Users', 'Groups']) {
        expectScimError(await scim.request('GET', `/${resource}/does-not-exist`), 404, undefined, /does-not-exist/);
        expectScimError(await scim.request('DELETE', `/${resource}/does-not-exist`), 404);
        expectScimError(await scim.request('PATCH', `/${resource}/does-not-exist`, { body: patch({ op: 'replace', value: { displayName: 'x' } }) }), 404);
      }
      expectScimError(await scim.request('PUT', '/Users/does-not-exist', { body: userBody('ghost@example.com') }), 404);
    });

    it('unknown endpoints are 404 and wrong methods 405, in the SCIM error schema', async () => {
      expectScimError(await scim.request('GET', '/Widgets'), 404, undefined, /\/Users/);
      expectScimError(await scim.request('POST', '/ServiceProviderConfig', { body: {} }), 405);
    });
  });

  describe('PATCH', () => {
    it('op names are accepted in any case, and value-filter paths such as emails[type eq "work"].value work', async () => {
      const response = await scim.request('PATCH', `/Users/${userId}`, {
        body: patch({ op: 'REPLACE', path: 'emails[type eq "work"].value', value: 'pat.doe@example.com' }, { op: 'Replace', path: 'name.givenName', value: 'Patricia' }),
      });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expect(response.body.emails).toEqual([{ value: 'pat.doe@example.com', type: 'work', primary: true }]);
      expect(response.body.name).toMatchObject({ givenName: 'Patricia', formatted: 'Patricia Doe' });
      expect((await scim.server.services.store.identities.get(userId))?.email).toBe('pat.doe@example.com');
    });

    it('bad paths are 400 invalidPath', async () => {
      expectScimError(await scim.request('PATCH', `/Users/${userId}`, { body: patch({ op: 'replace', path: 'favouriteColour', value: 'blue' }) }), 400, 'invalidPath', /favouriteColour.*userName/);
      expectScimError(await scim.request('PATCH', `/Users/${userId}`, { body: patch({ op: 'replace', path: 'emails[type eq ].value', value: 'x' }) }), 400, 'invalidPath', /does not parse/);
      expectScimError(await scim.request('PATCH', `/Users/${userId}`, { body: patch({ op: 'replace', path: 'userName[value eq "x"]', value: 'x' }) }), 400, 'invalidPath', /single-valued/);
      expectScimError(await scim.request('PATCH', `/Users/${userId}`, { body: patch({ op: 'replace', path: 'name.nickname', value: 'x' }) }), 400, 'invalidPath', /sub-attribute/);
      expectScimError(await scim.request('PATCH', `/Groups/${groupId}`, { body: patch({ op: 'add', path: 'members..value', value: 'x' }) }), 400, 'invalidPath');
    });

    it('an unknown op is 400 invalidSyntax; remove without a path and an unmatched value filter are 400 noTarget', async () => {
      expectScimError(await scim.request('PATCH', `/Users/${userId}`, { body: patch({ op: 'move', path: 'displayName', value: 'x' }) }), 400, 'invalidSyntax', /"add", "remove" or "replace"/);
      expectScimError(await scim.request('PATCH', `/Groups/${groupId}`, { body: patch({ op: 'remove' }) }), 400, 'noTarget', /path/);
      expectScimError(await scim.request('PATCH', `/Groups/${groupId}`, { body: patch({ op: 'replace', path: 'members[value eq "ghost"]', value: { value: otherId } }) }), 400, 'noTarget');
    });

    it('a path-less add or replace whose value is not an object is 400 invalidValue, as is a scalar for a complex attribute', async () => {
      expectScimError(await scim.request('PATCH', `/Users/${userId}`, { body: patch({ op: 'replace', value: false }) }), 400, 'invalidValue', /object/);
      expectScimError(await scim.request('PATCH', `/Users/${userId}`, { body: patch({ op: 'add', path: 'name', value: 'Pat' }) }), 400, 'invalidValue', /Operations\[0\].*object/);
    });

    it('changing id or the read-only groups is 400 mutability', async () => {
      expectScimError(await scim.request('PATCH', `/Users/${userId}`, { body: patch({ op: 'replace', path: 'id', value: 'mine' }) }), 400, 'mutability', /id/);
      expectScimError(await scim.request('PATCH', `/Groups/${groupId}`, { body: patch({ op: 'replace', value: { id: 'other-id', displayName: 'Staff' } }) }), 400, 'mutability', /id is immutable/);
      expectScimError(await scim.request('PUT', `/Users/${userId}`, { body: { ...userBody('pat.doe@example.com'), id: 'other-id' } }), 400, 'mutability', /id is immutable/);
      expectScimError(await scim.request('PATCH', `/Users/${userId}`, { body: patch({ op: 'add', path: 'groups', value: [{ value: groupId }] }) }), 400, 'mutability', /Groups/);
    });

    it('renaming onto a taken userName or displayName is 409 uniqueness', async () => {
      expectScimError(await scim.request('PATCH', `/Users/${otherId}`, { body: patch({ op: 'replace', path: 'userName', value: 'PAT@example.com' }) }), 409, 'uniqueness', /userName/);
      expectScimError(await scim.request('PATCH', `/Groups/${groupId}`, { body: patch({ op: 'replace', value: { id: groupId, displayName: 'contractors' } }) }), 409, 'uniqueness', /Contractors|contractors/);
    });

    it('a multi-operation PATCH with one bad operation leaves the user unchanged', async () => {
      const { store } = scim.server.services;
      const before = await store.identities.get(userId);
      const atValidation = await scim.request('PATCH', `/Users/${userId}`, {
        body: patch({ op: 'replace', path: 'displayName', value: 'Changed' }, { op: 'replace', value: { active: false } }, { op: 'replace', path: 'nonsense', value: 1 }),
      });
      expectScimError(atValidation, 400, 'invalidPath', /Operations\[2\]/);
      const atApply = await scim.request('PATCH', `/Users/${userId}`, {
        body: patch({ op: 'replace', path: 'displayName', value: 'Changed' }, { op: 'replace', value: { active: false } }, { op: 'replace', path: 'active', value: 'perhaps' }),
      });
      expectScimError(atApply, 400, 'invalidValue', /active/);
      expect(await store.identities.get(userId)).toEqual(before);
    });

    it('a multi-operation group PATCH with one bad operation changes neither name nor members', async () => {
      const { store } = scim.server.services;
      const before = { group: await store.groups.get(groupId), members: await store.groups.members(groupId) };
      const response = await scim.request('PATCH', `/Groups/${groupId}`, {
        body: patch(
          { op: 'replace', value: { id: groupId, displayName: 'Renamed Staff' } },
          { op: 'add', path: 'members', value: [{ value: otherId, display: 'other@example.com' }] },
          { op: 'replace', path: 'members[value eq "ghost"]', value: { value: otherId } },
        ),
      });
      expectScimError(response, 400, 'noTarget', /Operations\[2\]/);
      expect({ group: await store.groups.get(groupId), members: await store.groups.members(groupId) }).toEqual(before);
    });
  });
});
