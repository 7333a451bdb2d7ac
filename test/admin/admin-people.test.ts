/**
 * People, groups and admins from the console API, on both stores: create, edit, deactivate,
 * reactivate and delete identities; create, rename and delete groups and manage their members;
 * grant and revoke the admin role. Records Okta provisioned stay read-only where Okta owns them,
 * every change is audited once, and every refusal says why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS, startTestServer, type TestServer } from '../support/test-server.ts';
import { browse, CookieJar, pageData, signInOverHttp } from '../support/http-login.ts';
import { enrolledPerson } from '../support/okta-fixture.ts';
import { ADMIN_ROLE } from '../../server/domain/apps.ts';
import { CLI_ACTOR, scimActor } from '../../server/domain/actor.ts';

describe.each(STORE_KINDS)('console people and groups (%s)', (store) => {
  let server: TestServer;
  let adminId: string;
  let jar: CookieJar;
  let csrf: string;

  beforeAll(async () => {
    server = await startTestServer({ store });
    const admin = await enrolledPerson(server, 'root@acme.test');
    await server.services.identities.update(admin.identity.id, { roles: [ADMIN_ROLE] }, CLI_ACTOR);
    adminId = admin.identity.id;
    jar = new CookieJar();
    await signInOverHttp({ origin: server.url, authorizationUrl: `${server.url}/admin/login`, authenticator: admin.authenticator, jar });
    csrf = pageData(await (await browse(jar, `${server.url}/admin`)).text()).csrf;
  });
  afterAll(async () => server?.close());

  async function call(method: string, path: string, body: unknown = method === 'GET' || method === 'DELETE' ? undefined : {}) {
    const response = await browse(jar, `${server.url}/admin/api${path}`, {
      method,
      headers: { accept: 'application/json', origin: server.url, 'x-csrf-token': csrf, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  const eventsFor = async (target: string) => (await server.services.audit.list({ target, limit: 50 })).map((event) => event.action);

  it('creates a person, refuses a duplicate username with a reason, and audits the creation once', async () => {
    const created = await call('POST', '/identities', { userName: 'new.hire@acme.test', email: 'new.hire@acme.test', givenName: 'New', familyName: 'Hire' });
    expect(created.status).toBe(201);
    expect(created.body.identity).toMatchObject({ userName: 'new.hire@acme.test', name: 'New Hire', active: true, scimManaged: false, enrollmentStatus: 'unenrolled', roles: [] });
    expect(await eventsFor(`identity:${created.body.identity.id}`)).toEqual(['identity.create']);
    const duplicate = await call('POST', '/identities', { userName: 'NEW.HIRE@acme.test', email: 'other@acme.test' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error_description).toMatch(/userName "NEW.HIRE@acme.test" is already in use/);
    const badEmail = await call('POST', '/identities', { userName: 'x@acme.test', email: 'not-an-address' });
    expect(badEmail.status).toBe(400);
    expect(badEmail.body.error_description).toMatch(/not an email address/);
    const refusals = (await server.services.audit.list({ actor: `identity:${adminId}`, limit: 50 })).filter((event) => event.action === 'console.refused');
    expect(refusals.map((event) => event.detail.reason)).toEqual(expect.arrayContaining([expect.stringMatching(/is already in use/), expect.stringMatching(/not an email address/)]));
  });

  it('edits, deactivates (ending their sessions), reactivates and deletes a local person', async () => {
    const person = await enrolledPerson(server, 'temp@acme.test');
    const id = person.identity.id;
    const edited = await call('PATCH', `/identities/${id}`, { givenName: 'Tempo', familyName: '' });
    expect(edited.status).toBe(200);
    expect(await server.services.identities.require(id)).toMatchObject({ givenName: 'Tempo', familyName: null });
    // A dashboard session of theirs ends at once on deactivation.
    const theirs = new CookieJar();
    await signInOverHttp({ origin: server.url, authorizationUrl: `${server.url}/login`, authenticator: person.authenticator, jar: theirs });
    expect((await browse(theirs, `${server.url}/api/me`, { headers: { accept: 'application/json' } })).status).toBe(200);
    expect((await call('PATCH', `/identities/${id}`, { active: false })).status).toBe(200);
    expect((await browse(theirs, `${server.url}/api/me`, { headers: { accept: 'application/json' } })).status).toBe(401);
    expect((await call('PATCH', `/identities/${id}`, { active: true })).status).toBe(200);
    expect((await server.services.identities.require(id)).active).toBe(true);
    expect((await call('DELETE', `/identities/${id}`)).status).toBe(204);
    expect(await server.services.store.identities.get(id)).toBeNull();
    expect(await eventsFor(`identity:${id}`)).toEqual(expect.arrayContaining(['identity.update', 'identity.deactivate', 'identity.activate', 'identity.delete']));
    expect((await eventsFor(`identity:${id}`)).filter((action) => action === 'identity.deactivate')).toHaveLength(1);
  });

  it('keeps what Okta provisioned read-only: profile and deletion refused with the reason, passkeys and admin role still local', async () => {
    const synced = await server.services.identities.create({ userName: 'synced@acme.test', email: 'synced@acme.test', externalId: 'okta-00u9' }, scimActor('test'));
    const profile = await call('PATCH', `/identities/${synced.id}`, { givenName: 'Local edit' });
    expect(profile.status).toBe(403);
    expect(profile.body.error_description).toMatch(/provisioned by Okta.*change it in Okta/);
    const removal = await call('DELETE', `/identities/${synced.id}`);
    expect(removal.status).toBe(403);
    expect(removal.body.error_description).toMatch(/unassign them from the app in Okta/);
    expect(await server.services.store.identities.get(synced.id)).not.toBeNull();
    const group = await server.services.groups.create({ displayName: 'Okta Engineers', externalId: 'okta-grp-1' }, scimActor('test'));
    expect((await call('PATCH', `/groups/${group.id}`, { displayName: 'Renamed' })).status).toBe(403);
    expect((await call('PUT', `/groups/${group.id}/members/${synced.id}`)).status).toBe(403);
    expect((await call('DELETE', `/groups/${group.id}`)).status).toBe(403);
    expect((await server.services.groups.require(group.id)).displayName).toBe('Okta Engineers');
    const granted = await call('PUT', `/identities/${synced.id}/admin`, { admin: true });
    expect(granted.status).toBe(200);
    expect(granted.body.identity.roles).toEqual([ADMIN_ROLE]);
    expect((await call('PUT', `/identities/${synced.id}/admin`, { admin: false })).body.identity.roles).toEqual([]);
  });

  it('grants and revokes the admin role, but never leaves the console without an active admin', async () => {
    const helper = await server.services.identities.create({ userName: 'helper@acme.test', email: 'helper@acme.test' }, CLI_ACTOR);
    expect((await call('PUT', `/identities/${helper.id}/admin`, { admin: true })).status).toBe(200);
    expect((await server.services.identities.require(helper.id)).roles).toContain(ADMIN_ROLE);
    expect((await call('PUT', `/identities/${helper.id}/admin`, { admin: false })).status).toBe(200);
    const self = await call('PUT', `/identities/${adminId}/admin`, { admin: false });
    expect(self.status).toBe(403);
    expect(self.body.error_description).toMatch(/last admin/);
    const deactivateSelf = await call('PATCH', `/identities/${adminId}`, { active: false });
    expect(deactivateSelf.status).toBe(403);
    expect(deactivateSelf.body.error_description).toMatch(/cannot deactivate yourself/);
    expect((await call('DELETE', `/identities/${adminId}`)).status).toBe(403);
    expect((await server.services.identities.require(adminId)).active).toBe(true);
  });

  it('creates, renames and deletes a group and manages its members', async () => {
    const a = await server.services.identities.create({ userName: 'member.a@acme.test', email: 'member.a@acme.test' }, CLI_ACTOR);
    const b = await server.services.identities.create({ userName: 'member.b@acme.test', email: 'member.b@acme.test' }, CLI_ACTOR);
    const created = await call('POST', '/groups', { displayName: 'Contractors' });
    expect(created.status).toBe(201);
    const id = created.body.group.id;
    expect(created.body.group).toMatchObject({ displayName: 'Contractors', scimManaged: false });
    expect((await call('POST', '/groups', { displayName: 'contractors' })).status).toBe(409);
    expect((await call('PATCH', `/groups/${id}`, { displayName: 'Contractors EU' })).status).toBe(200);
    expect((await call('PUT', `/groups/${id}/members/${a.id}`)).status).toBe(200);
    expect((await call('PUT', `/groups/${id}/members/${b.id}`)).status).toBe(200);
    expect((await call('PUT', `/groups/${id}/members/no-such-person`)).status).toBe(404);
    expect((await call('DELETE', `/groups/${id}/members/${a.id}`)).status).toBe(204);
    const detail = await call('GET', `/groups/${id}`);
    expect(detail.body).toMatchObject({ group: { displayName: 'Contractors EU' }, total: 1, members: [{ userName: 'member.b@acme.test' }] });
    expect((await call('DELETE', `/groups/${id}`)).status).toBe(204);
    expect((await call('GET', `/groups/${id}`)).status).toBe(404);
    expect(await eventsFor(`group:${id}`)).toEqual(['group.delete', 'group.update', 'group.update', 'group.update', 'group.update', 'group.create']);
  });
});
