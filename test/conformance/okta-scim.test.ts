/**
 * Replays the request sequence Okta's "SCIM 2.0 Test App (OAuth Bearer Token)" sends during
 * Stage II (create users, update attributes, deactivate, push groups), with the bodies of OKTA.md
 * §2, on every store. Cases are named after the Okta step they model and run in order: each step
 * works on what the previous ones provisioned, as Okta's would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../support/test-server.ts';
import { startScimHarness, type ScimHarness } from './scim-client.ts';
import * as oidc from 'openid-client';
import { OKTA_PASSWORD_PLACEHOLDER, SCIM, query, scimPatch as patch, scimSetActive, scimUserBody, type ScimResponse } from '../support/scim.ts';
import { authorizationUrl, setUpOkta } from '../support/okta-fixture.ts';
import { enrollPerson } from '../support/builders.ts';
import { follow, signInOverHttp } from '../support/http-login.ts';
import { userinfo } from '../support/tokens.ts';
import type { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

const SCIM_JSON = /^application\/scim\+json/;

function expectScim(response: ScimResponse, status: number): void {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  if (status !== 204) expect(response.contentType).toMatch(SCIM_JSON);
}

const oktaCreateBody = (userName: string, externalId: string, givenName = 'Test', familyName = 'User') => scimUserBody(userName, { externalId, givenName, familyName });

describe.each(STORE_KINDS)('Okta SCIM 2.0 Test App against Latchkey (%s)', (kind) => {
  let scim: ScimHarness;
  const userName = 'test.user@okta.local';
  let userId = '';
  let secondId = '';
  let groupId = '';
  let okta: Awaited<ReturnType<typeof setUpOkta>>;
  let authenticator: SoftAuthenticator;
  let passkeyId = '';

  beforeAll(async () => {
    scim = await startScimHarness(kind);
  });
  afterAll(async () => {
    await scim?.close();
  });

  it('lookup: GET /Users?filter=userName eq "…"&startIndex=1&count=100 answers an empty ListResponse when not found', async () => {
    const response = await scim.request('GET', `/Users${query({ filter: `userName eq "${userName}"`, startIndex: 1, count: 100 })}`);
    expectScim(response, 200);
    expect(response.body).toEqual({ schemas: [SCIM.listResponse], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });
  });

  it('create: POST /Users answers 201 with the full resource, Location, and never the password', async () => {
    const response = await scim.request('POST', '/Users', { body: oktaCreateBody(userName, '00ujl29u0le5T6Aj10h7') });
    expectScim(response, 201);
    userId = response.body.id;
    expect(userId).toEqual(expect.any(String));
    expect(response.headers.get('location')).toBe(`${scim.base}/Users/${userId}`);
    expect(response.body).toEqual({
      schemas: [SCIM.user],
      id: userId,
      externalId: '00ujl29u0le5T6Aj10h7',
      userName,
      name: { givenName: 'Test', familyName: 'User', formatted: 'Test User' },
      displayName: 'Test User',
      emails: [{ primary: true, value: userName, type: 'work' }],
      active: true,
      locale: 'en-US',
      groups: [],
      meta: { resourceType: 'User', created: expect.any(String), lastModified: expect.any(String), location: `${scim.base}/Users/${userId}`, version: 'W/"1"' },
    });
    expect(JSON.stringify(response.body)).not.toContain(OKTA_PASSWORD_PLACEHOLDER);
    const stored = await scim.server.services.store.identities.get(userId);
    expect(JSON.stringify(stored)).not.toContain(OKTA_PASSWORD_PLACEHOLDER);
    expect(stored).toMatchObject({ userName, email: userName, givenName: 'Test', familyName: 'User', active: true });
    // Okta's externalId is its user id: kept for setting byndidRegistered by id later.
    expect(stored!.oktaUserId).toBe('00ujl29u0le5T6Aj10h7');
  });

  it('lookup: the same userName filter now finds the user, compared case-insensitively', async () => {
    const response = await scim.request('GET', `/Users${query({ filter: `userName eq "TEST.User@okta.local"`, startIndex: 1, count: 100 })}`);
    expectScim(response, 200);
    expect(response.body).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    expect(response.body.Resources.map((user: { id: string }) => user.id)).toEqual([userId]);
  });

  it('duplicate create: POST /Users with a taken userName answers 409 uniqueness in the SCIM error schema', async () => {
    const response = await scim.request('POST', '/Users', { body: oktaCreateBody('Test.User@OKTA.local', '00uOther') });
    expectScim(response, 409);
    expect(response.body).toEqual({ schemas: [SCIM.error], status: '409', scimType: 'uniqueness', detail: expect.stringContaining('userName') });
  });

  it('GET: GET /Users/{id} answers the resource', async () => {
    const response = await scim.request('GET', `/Users/${userId}`);
    expectScim(response, 200);
    expect(response.body).toMatchObject({ id: userId, userName, active: true, meta: { version: 'W/"1"' } });
  });

  it('full PUT update: PUT /Users/{id} with the whole profile replaces it', async () => {
    const body = { ...oktaCreateBody(userName, '00ujl29u0le5T6Aj10h7', 'Another', 'User'), id: userId };
    delete (body as { password?: string }).password;
    const response = await scim.request('PUT', `/Users/${userId}`, { body });
    expectScim(response, 200);
    expect(response.body).toMatchObject({ id: userId, name: { givenName: 'Another', familyName: 'User', formatted: 'Another User' }, displayName: 'Another User', meta: { version: 'W/"2"' } });
    expect(await scim.server.services.store.identities.get(userId)).toMatchObject({ givenName: 'Another', displayName: 'Another User' });
  });

  it('path-less deactivate: PATCH {"op":"replace","value":{"active":false}} deactivates and ends sessions and tokens at once', async () => {
    // A real person: a passkey enrolled through the link, a signed-in session, real tokens.
    const { services } = scim.server;
    okta = await setUpOkta(scim.server, { groupName: 'Okta app users' });
    await services.groups.change(okta.group.id, { members: { add: [userId] } }, CLI_ACTOR);
    const enrolled = await enrollPerson(scim.server, await services.identities.require(userId));
    authenticator = enrolled.authenticator;
    passkeyId = enrolled.passkeyId;
    const request = authorizationUrl(okta.rp, { login_hint: userName });
    const login = await signInOverHttp({ origin: scim.server.url, authorizationUrl: request.url, authenticator });
    expect(login.verify.status).toBe(200);
    const tokens = await oidc.authorizationCodeGrant(okta.rp, new URL(login.callbackUrl), { expectedNonce: request.nonce, expectedState: request.state });
    expect((await userinfo(scim.server.url, tokens.access_token)).status).toBe(200);

    const response = await scim.request('PATCH', `/Users/${userId}`, { body: scimSetActive(false) });
    expectScim(response, 200);
    expect(response.body).toMatchObject({ id: userId, active: false, userName });
    expect((await services.store.identities.get(userId))?.active).toBe(false);
    expect((await userinfo(scim.server.url, tokens.access_token)).status).toBe(401);
    // The same browser does not get back in silently: it lands on the login page ...
    const silent = await follow(login.jar, authorizationUrl(okta.rp).url, scim.server.url);
    expect(silent.url).toContain('/interaction/');
    // ... where the passkey is refused, and Okta gets access_denied.
    const again = await signInOverHttp({ origin: scim.server.url, authorizationUrl: authorizationUrl(okta.rp).url, authenticator });
    expect(again.verify).toMatchObject({ status: 403, body: { error: 'inactive' } });
    expect(new URL(again.callbackUrl).searchParams.get('error')).toBe('access_denied');
    const events = await services.store.audit.list({ actor: `scim-token:${scim.tokenId}`, limit: 50 });
    expect(events.map((event) => event.action)).toContain('identity.deactivate');
  });

  it('reactivate: PATCH {"op":"replace","value":{"active":true}} restores sign-in with the same passkeys', async () => {
    const response = await scim.request('PATCH', `/Users/${userId}`, { body: scimSetActive(true) });
    expectScim(response, 200);
    expect(response.body.active).toBe(true);
    const { services } = scim.server;
    expect((await services.store.identities.get(userId))?.active).toBe(true);
    expect((await services.store.passkeys.listByIdentity(userId)).map((passkey) => passkey.id)).toEqual([passkeyId]);
    // The same passkey signs in again, and its tokens work.
    const request = authorizationUrl(okta.rp, { login_hint: userName });
    const login = await signInOverHttp({ origin: scim.server.url, authorizationUrl: request.url, authenticator });
    expect(login.verify.status).toBe(200);
    const tokens = await oidc.authorizationCodeGrant(okta.rp, new URL(login.callbackUrl), { expectedNonce: request.nonce, expectedState: request.state });
    expect(tokens.claims()!.sub).toBe(userId);
    expect((await userinfo(scim.server.url, tokens.access_token)).status).toBe(200);
    // Leave the app group again: the group steps below count this user's memberships.
    await services.groups.change(okta.group.id, { members: { remove: [userId] } }, CLI_ACTOR);
  });

  it('group push with members: POST /Groups answers 201 with the members it was given', async () => {
    const second = await scim.request('POST', '/Users', { body: oktaCreateBody('second.user@okta.local', '00uSecond', 'Second', 'User') });
    expectScim(second, 201);
    secondId = second.body.id;
    const response = await scim.request('POST', '/Groups', {
      body: { schemas: [SCIM.group], displayName: 'Beyond Identity', members: [{ value: userId, display: userName }] },
    });
    expectScim(response, 201);
    groupId = response.body.id;
    expect(response.headers.get('location')).toBe(`${scim.base}/Groups/${groupId}`);
    expect(response.body).toEqual({
      schemas: [SCIM.group],
      id: groupId,
      displayName: 'Beyond Identity',
      members: [{ value: userId, display: 'Another User', $ref: `${scim.base}/Users/${userId}`, type: 'User' }],
      meta: { resourceType: 'Group', created: expect.any(String), lastModified: expect.any(String), location: `${scim.base}/Groups/${groupId}`, version: 'W/"1"' },
    });
    const user = await scim.request('GET', `/Users/${userId}`);
    expect(user.body.groups).toEqual([{ value: groupId, display: 'Beyond Identity', $ref: `${scim.base}/Groups/${groupId}`, type: 'direct' }]);
  });

  it('group lookup: GET /Groups?filter=displayName eq "…" finds the pushed group; a name collision is 409 uniqueness', async () => {
    const found = await scim.request('GET', `/Groups${query({ filter: 'displayName eq "Beyond Identity"', startIndex: 1, count: 100 })}`);
    expectScim(found, 200);
    expect(found.body.Resources.map((group: { id: string }) => group.id)).toEqual([groupId]);
    const collision = await scim.request('POST', '/Groups', { body: { schemas: [SCIM.group], displayName: 'beyond identity', members: [] } });
    expectScim(collision, 409);
    expect(collision.body).toMatchObject({ schemas: [SCIM.error], status: '409', scimType: 'uniqueness' });
  });

  it('membership add: PATCH add path "members" with [{value, display}] adds the user', async () => {
    const response = await scim.request('PATCH', `/Groups/${groupId}`, {
      body: patch({ op: 'add', path: 'members', value: [{ value: secondId, display: 'second.user@okta.local' }] }),
    });
    expectScim(response, 200);
    expect(response.body.members.map((member: { value: string }) => member.value).sort()).toEqual([userId, secondId].sort());
  });

  it('membership remove: PATCH remove path members[value eq "<id>"] removes only that user', async () => {
    const response = await scim.request('PATCH', `/Groups/${groupId}`, { body: patch({ op: 'remove', path: `members[value eq "${userId}"]` }) });
    expectScim(response, 200);
    expect(response.body.members.map((member: { value: string }) => member.value)).toEqual([secondId]);
    expect(await scim.server.services.store.groups.groupIdsOf(userId)).toEqual([]);
  });

  it('membership replace: PATCH replace path "members" with the full list sets exactly that list', async () => {
    const response = await scim.request('PATCH', `/Groups/${groupId}`, {
      body: patch({ op: 'replace', path: 'members', value: [{ value: userId, display: userName }] }),
    });
    expectScim(response, 200);
    expect(response.body.members.map((member: { value: string }) => member.value)).toEqual([userId]);
    expect(await scim.server.services.store.groups.members(groupId)).toEqual([userId]);
  });

  it('rename: path-less PATCH replace {id, displayName} sent with membership changes applies both', async () => {
    const response = await scim.request('PATCH', `/Groups/${groupId}`, {
      body: patch(
        { op: 'replace', value: { id: groupId, displayName: 'Beyond Identity Users' } },
        { op: 'add', path: 'members', value: [{ value: secondId, display: 'second.user@okta.local' }] },
      ),
    });
    expectScim(response, 200);
    expect(response.body.displayName).toBe('Beyond Identity Users');
    expect(response.body.members.map((member: { value: string }) => member.value).sort()).toEqual([userId, secondId].sort());
    const events = await scim.server.services.store.audit.list({ actor: `scim-token:${scim.tokenId}`, target: `group:${groupId}`, limit: 50 });
    expect(events.map((event) => event.action)).toEqual(expect.arrayContaining(['group.create', 'group.update']));
  });

  it('user pushed before group: a member id not yet provisioned is ignored, and a later membership PATCH fixes it', async () => {
    const early = await scim.request('POST', '/Groups', {
      body: { schemas: [SCIM.group], displayName: 'Pushed Early', members: [{ value: 'not-provisioned-yet', display: 'late.user@okta.local' }] },
    });
    expectScim(early, 201);
    expect(early.body.members).toEqual([]);
    const late = await scim.request('POST', '/Users', { body: oktaCreateBody('late.user@okta.local', '00uLate', 'Late', 'User') });
    expectScim(late, 201);
    const fixed = await scim.request('PATCH', `/Groups/${early.body.id}`, {
      body: patch({ op: 'add', path: 'members', value: [{ value: late.body.id, display: 'late.user@okta.local' }] }),
    });
    expectScim(fixed, 200);
    expect(fixed.body.members.map((member: { value: string }) => member.value)).toEqual([late.body.id]);
    const user = await scim.request('GET', `/Users/${late.body.id}`);
    expect(user.body.groups.map((group: { value: string }) => group.value)).toEqual([early.body.id]);
  });

  it('group delete: DELETE /Groups/{id} answers 204 and the group is gone', async () => {
    const response = await scim.request('DELETE', `/Groups/${groupId}`);
    expect(response.status).toBe(204);
    expect(response.body).toBeNull();
    expectScim(await scim.request('GET', `/Groups/${groupId}`), 404);
    expect(await scim.server.services.store.groups.groupIdsOf(userId)).toEqual([]);
  });

  it('user delete: DELETE /Users/{id} answers 204 and removes the identity, its passkeys, sessions and memberships', async () => {
    const { store, clock } = scim.server.services;
    const group = await scim.request('POST', '/Groups', { body: { schemas: [SCIM.group], displayName: 'Doomed Members', members: [{ value: userId }] } });
    await store.oidc.upsert('Session', `session2-${kind}`, { accountId: userId }, clock.now() + 3_600_000, { accountId: userId });
    const response = await scim.request('DELETE', `/Users/${userId}`);
    expect(response.status).toBe(204);
    expect(await store.identities.get(userId)).toBeNull();
    expect(await store.passkeys.listByIdentity(userId)).toEqual([]);
    expect(await store.oidc.find('Session', `session2-${kind}`, clock.now())).toBeNull();
    expect(await store.groups.members(group.body.id)).toEqual([]);
    expectScim(await scim.request('GET', `/Users/${userId}`), 404);
  });

  it('list paging: startIndex/count page through users in a stable order', async () => {
    const all = await scim.request('GET', `/Users${query({ startIndex: 1, count: 100 })}`);
    expectScim(all, 200);
    const ids = all.body.Resources.map((user: { id: string }) => user.id);
    expect(ids.length).toBe(all.body.totalResults);
    const pages: string[] = [];
    for (let startIndex = 1; startIndex <= ids.length; startIndex += 1) {
      const page = await scim.request('GET', `/Users${query({ startIndex, count: 1 })}`);
      expect(page.body).toMatchObject({ startIndex, itemsPerPage: 1, totalResults: ids.length });
      pages.push(page.body.Resources[0].id);
    }
    expect(pages).toEqual(ids);
  });

  it('discovery: /ServiceProviderConfig, /ResourceTypes and /Schemas say what is supported', async () => {
    const config = await scim.request('GET', '/ServiceProviderConfig');
    expectScim(config, 200);
    expect(config.body).toMatchObject({
      patch: { supported: true },
      filter: { supported: true, maxResults: 1000 },
      bulk: { supported: false },
      sort: { supported: true },
      etag: { supported: true },
      changePassword: { supported: false },
      authenticationSchemes: [expect.objectContaining({ type: 'oauthbearertoken' })],
    });
    const types = await scim.request('GET', '/ResourceTypes');
    expectScim(types, 200);
    expect(types.body.Resources.map((type: { endpoint: string }) => type.endpoint)).toEqual(['/Users', '/Groups']);
    const schemas = await scim.request('GET', '/Schemas');
    expectScim(schemas, 200);
    expect(schemas.body.Resources.map((schema: { id: string }) => schema.id)).toEqual([SCIM.user, SCIM.group]);
    const user = await scim.request('GET', `/Schemas/${SCIM.user}`);
    expect(user.body.attributes.map((attribute: { name: string }) => attribute.name)).toEqual(['id', 'externalId', 'userName', 'name', 'displayName', 'emails', 'active', 'locale', 'groups']);
  });
});
