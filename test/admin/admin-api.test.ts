/**
 * The console's server side over plain HTTP with a software authenticator: who gets in (the
 * console client's assignment rule), what the admin API refuses (401, 403, CSRF), that a session
 * ends with the admin role or the account, and that an uploaded SVG is stored as a bitmap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { redisHolds, startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { movableClock } from '../support/clock.ts';
import { hashToken } from '../../server/domain/secrets.ts';
import { SESSION_COOKIE } from '../../server/edges/admin/console-session.ts';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { browse, CookieJar, pageData, signInOverHttp } from '../support/http-login.ts';
import { enrolledPerson } from '../support/okta-fixture.ts';
import type { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { ADMIN_ROLE, INTERNAL_APP_ID } from '../../server/domain/apps.ts';
import { createAdminService } from '../../server/domain/admins.ts';
import { sanitiseTileIcon } from '../../server/images/tile-icons.ts';
import { CLI_ACTOR, scimActor } from '../../server/domain/actor.ts';

const EVIL_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" onload="alert(1)"><script>alert(document.cookie)</script><a href="javascript:alert(2)"><rect width="64" height="64" fill="#2f5bea"/></a></svg>`;

describe.each(STORE_KINDS)('admin console API and sign-in (%s)', (store) => {
  let server: TestServer;
  let admin: { id: string; authenticator: SoftAuthenticator };
  let member: { id: string; authenticator: SoftAuthenticator };

  beforeAll(async () => {
    server = await startTestServer({ store });
    const a = await enrolledPerson(server, 'root@acme.test');
    await server.services.identities.update(a.identity.id, { roles: [ADMIN_ROLE] }, CLI_ACTOR);
    admin = { id: a.identity.id, authenticator: a.authenticator };
    const m = await enrolledPerson(server, 'member@acme.test');
    member = { id: m.identity.id, authenticator: m.authenticator };
  });
  afterAll(async () => server?.close());

  /** Signs in through /admin/login or /login; returns the jar and the final response. */
  async function signIn(who: { authenticator: SoftAuthenticator }, start: '/admin/login' | '/login') {
    const jar = new CookieJar();
    const result = await signInOverHttp({ origin: server.url, authorizationUrl: `${server.url}${start}`, authenticator: who.authenticator, jar });
    return { jar, result };
  }

  async function csrfOf(jar: CookieJar, page = '/admin') {
    const response = await browse(jar, `${server.url}${page}`);
    expect(response.status).toBe(200);
    return pageData(await response.text()).csrf;
  }

  const call = (jar: CookieJar, method: string, path: string, body?: unknown, csrf?: string) =>
    browse(jar, `${server.url}${path}`, {
      method,
      headers: { accept: 'application/json', origin: server.url, ...(csrf ? { 'x-csrf-token': csrf } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });

  it('keeps the console client out of the Applications list and lets only admins use its console redirect', async () => {
    const { apps } = server.services;
    expect((await apps.list()).map((app) => app.id)).not.toContain(INTERNAL_APP_ID);
    const internal = await apps.require(INTERNAL_APP_ID);
    expect(internal.redirectUris).toEqual([`${server.url}/admin/callback`, `${server.url}/callback`]);
    expect(await apps.isAssigned(internal, admin.id, `${server.url}/admin/callback`)).toBe(true);
    expect(await apps.isAssigned(internal, member.id, `${server.url}/admin/callback`)).toBe(false);
    expect(await apps.isAssigned(internal, member.id, `${server.url}/callback`)).toBe(true);
  });

  it('answers 401 without a session and sends the console page to the sign-in', async () => {
    const jar = new CookieJar();
    expect((await call(jar, 'GET', '/admin/api/apps')).status).toBe(401);
    expect((await call(jar, 'POST', '/admin/api/apps', { kind: 'bookmark', name: 'x', loginUrl: 'https://x.test' })).status).toBe(401);
    const page = await browse(jar, `${server.url}/admin`);
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/admin/login');
    const login = await browse(jar, `${server.url}/admin/login`);
    const authorize = new URL(login.headers.get('location')!);
    expect(authorize.pathname).toBe('/authorize');
    expect(authorize.searchParams.get('client_id')).toBe(INTERNAL_APP_ID);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('state')).toBeTruthy();
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
  });

  it('signs an admin in through the OIDC code flow and enforces CSRF on every change', async () => {
    const { jar, result } = await signIn(admin, '/admin/login');
    expect(result.verify.status).toBe(200);
    expect(result.callbackUrl).toBe(`${server.url}/admin`);
    const csrf = await csrfOf(jar);
    expect((await call(jar, 'GET', '/admin/api/session')).status).toBe(200);
    const bookmark = { kind: 'bookmark', name: 'Wiki', loginUrl: 'https://wiki.acme.test/' };
    expect((await call(jar, 'POST', '/admin/api/apps', bookmark)).status).toBe(403);
    expect((await call(jar, 'POST', '/admin/api/apps', bookmark, 'forged')).status).toBe(403);
    const created = await call(jar, 'POST', '/admin/api/apps', bookmark, csrf);
    expect(created.status).toBe(201);
    // zod refuses a malformed body before any handler runs.
    const invalid = await call(jar, 'POST', '/admin/api/apps', { kind: 'bookmark', name: '' }, csrf);
    expect(invalid.status).toBe(400);
    // One audit entry per change (the domain's), and a refusal recorded with its reason.
    const events = await server.services.audit.list({ actor: `identity:${admin.id}`, limit: 50 });
    const appId = (await created.json()).app.id;
    expect(events.filter((event) => event.target === `app:${appId}`).map((event) => event.action)).toEqual(['app.create']);
    expect(events.map((event) => event.action)).not.toContain('console.request');
    const refused = events.filter((event) => event.action === 'console.refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ outcome: 'failure', detail: { method: 'POST', route: '/admin/api/apps', status: 400, error: 'invalid_input' } });
    expect(String(refused[0].detail.reason)).toMatch(/name/);
  });

  it('refuses a cross-origin change even with the session cookie and a valid CSRF token (Origin check)', async () => {
    const { jar } = await signIn(admin, '/admin/login');
    const csrf = await csrfOf(jar);
    const before = (await server.services.apps.list()).length;
    const bookmark = JSON.stringify({ kind: 'bookmark', name: 'Forged', loginUrl: 'https://forged.acme.test/' });
    const send = (origin: string | null) =>
      browse(jar, `${server.url}/admin/api/apps`, { method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/json', 'x-csrf-token': csrf, ...(origin === null ? {} : { origin }) }, body: bookmark });
    for (const origin of ['https://evil.example', server.url.replace('localhost', '127.0.0.1'), null]) {
      const refused = await send(origin);
      expect(refused.status, String(origin)).toBe(403);
      expect((await refused.json()).error_description, String(origin)).toMatch(/cross-origin request refused/);
    }
    expect(await server.services.apps.list()).toHaveLength(before);
    // The same request from our own origin goes through: the refusals were the Origin's doing.
    expect((await send(server.url)).status).toBe(201);
  });

  it('keeps the console session only as a hash: the cookie value is nowhere in the store', async () => {
    const { jar } = await signIn(admin, '/admin/login');
    const cookie = jar.get(SESSION_COOKIE)!;
    expect(cookie).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(jar.setCookies.get(SESSION_COOKIE)!.toLowerCase()).toMatch(/httponly.*samesite=lax|samesite=lax.*httponly/);
    const { store: data } = server.services;
    expect(await data.oidc.find('ConsoleSession', hashToken(cookie), Date.now())).toMatchObject({ identityId: admin.id });
    expect(await data.oidc.find('ConsoleSession', cookie, Date.now())).toBeNull();
    expect(await storedBytesContain(cookie)).toBe(false);
    expect(await storedBytesContain(hashToken(cookie))).toBe(true);
  });

  /** Whether any byte of the store (the SQLite files, or every Redis key and value under the prefix) holds `text`. */
  async function storedBytesContain(text: string): Promise<boolean> {
    if (store === 'sqlite') {
      const files = readdirSync(server.dataDir).filter((name) => /\.(db|sqlite)(-wal)?$/.test(name) || name.endsWith('-wal'));
      expect(files.length).toBeGreaterThan(0);
      return files.some((name) => readFileSync(path.join(server.dataDir, name)).includes(text));
    }
    return redisHolds(server.env.REDIS_KEY_PREFIX, text);
  }

  it('creates an Okta app with private_key_jwt and post-logout URIs, and switches it back to a client secret', async () => {
    const { jar } = await signIn(admin, '/admin/login');
    const csrf = await csrfOf(jar);
    const jwks = { keys: [{ kty: 'RSA', kid: 'okta-idp', use: 'sig', e: 'AQAB', n: 'sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw' }] };
    const created = await call(jar, 'POST', '/admin/api/apps', { kind: 'okta', oktaDomain: 'https://pkjwt.okta.test', tokenEndpointAuthMethod: 'private_key_jwt', jwks, postLogoutRedirectUris: ['https://pkjwt.okta.test/login/signout'] }, csrf);
    expect(created.status).toBe(201);
    const body = await created.json();
    expect(body.clientSecret).toBeNull();
    expect(body.app).toMatchObject({ tokenEndpointAuthMethod: 'private_key_jwt', jwks, jwksUri: null, postLogoutRedirectUris: ['https://pkjwt.okta.test/login/signout'] });
    expect((await call(jar, 'POST', `/admin/api/apps/${body.app.id}/secret/reveal`, {}, csrf)).status).toBe(400);
    const leaked = await call(jar, 'PUT', `/admin/api/apps/${body.app.id}/client`, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [{ ...jwks.keys[0], d: 'secret' }] } }, csrf);
    expect(leaked.status).toBe(400);
    expect((await leaked.json()).error_description).toMatch(/private key material/);
    const back = await call(jar, 'PUT', `/admin/api/apps/${body.app.id}/client`, { tokenEndpointAuthMethod: 'client_secret_basic', postLogoutRedirectUris: [] }, csrf);
    expect(back.status).toBe(200);
    const switched = await back.json();
    expect(switched.clientSecret).toEqual(expect.any(String));
    expect(switched.app).toMatchObject({ tokenEndpointAuthMethod: 'client_secret_basic', jwks: null, postLogoutRedirectUris: [] });
  });

  it('stores an uploaded SVG as a PNG bitmap: script, handlers and links are gone', async () => {
    const { jar } = await signIn(admin, '/admin/login');
    const csrf = await csrfOf(jar);
    const app = (await (await call(jar, 'POST', '/admin/api/apps', { kind: 'bookmark', name: 'Evil', loginUrl: 'https://evil.test/' }, csrf)).json()).app;
    const dataUri = `data:image/svg+xml;base64,${Buffer.from(EVIL_SVG).toString('base64')}`;
    const saved = await call(jar, 'PUT', `/admin/api/apps/${app.id}/icon`, { dataUri }, csrf);
    expect(saved.status).toBe(200);
    const stored = (await server.services.apps.require(app.id)).iconDataUri!;
    expect(stored.startsWith('data:image/png;base64,')).toBe(true);
    const png = Buffer.from(stored.split(',')[1], 'base64');
    expect(png.toString('latin1')).not.toMatch(/script|alert|javascript/i);
    const meta = await sharp(png).metadata();
    expect(meta).toMatchObject({ format: 'png', width: 128, height: 128 });
    // Too big, not an image, or an SVG with entity declarations: refused with a reason.
    const big = `data:image/png;base64,${Buffer.alloc(300 * 1024, 1).toString('base64')}`;
    expect((await call(jar, 'PUT', `/admin/api/apps/${app.id}/icon`, { dataUri: big }, csrf)).status).toBe(400);
    await expect(sanitiseTileIcon(`data:image/png;base64,${Buffer.from('hello').toString('base64')}`)).rejects.toThrow(/not a PNG, JPEG or SVG/);
    await expect(sanitiseTileIcon(`data:image/svg+xml;base64,${Buffer.from('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg"/>').toString('base64')}`)).rejects.toThrow(/DOCTYPE/);
  });

  it('refuses the console to a non-admin (access_denied at sign-in, 403 page and 403 API with a dashboard session)', async () => {
    const { jar, result } = await signIn(member, '/admin/login');
    expect(result.verify.status).toBe(403);
    expect(result.verify.body.error).toBe('not_assigned');
    expect(result.callbackUrl).toContain('/admin/callback?error=access_denied');
    const refused = await browse(jar, result.callbackUrl);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('The admin console is for administrators');

    const dashboard = await signIn(member, '/login');
    expect(dashboard.result.callbackUrl).toBe(`${server.url}/`);
    expect((await browse(dashboard.jar, `${server.url}/`)).status).toBe(200);
    const csrf = await csrfOf(dashboard.jar, '/');
    expect((await call(dashboard.jar, 'GET', '/admin/api/apps')).status).toBe(403);
    expect((await call(dashboard.jar, 'POST', '/admin/api/apps', { kind: 'bookmark', name: 'x', loginUrl: 'https://x.test' }, csrf)).status).toBe(403);
    expect((await browse(dashboard.jar, `${server.url}/admin`)).status).toBe(403);
    expect((await call(dashboard.jar, 'GET', '/api/me')).status).toBe(200);
  });

  it('ends console access when the admin role goes, and the whole session when the account is deactivated', async () => {
    const second = await enrolledPerson(server, 'second-admin@acme.test');
    await server.services.identities.update(second.identity.id, { roles: [ADMIN_ROLE] }, CLI_ACTOR);
    const { jar } = await signIn(second, '/admin/login');
    expect((await call(jar, 'GET', '/admin/api/apps')).status).toBe(200);
    const admins = createAdminService({ store: server.services.store, identities: server.services.identities, now: () => Date.now() });
    await admins.revoke(second.identity.id, CLI_ACTOR);
    expect((await call(jar, 'GET', '/admin/api/apps')).status).toBe(403);
    await server.services.identities.update(second.identity.id, { active: false }, CLI_ACTOR);
    expect((await call(jar, 'GET', '/api/me')).status).toBe(401);
    // The last admin cannot be removed.
    await expect(admins.revoke(admin.id, CLI_ACTOR)).rejects.toThrow(/last admin/);
  });

  it('pages identities on the server with search, status and group filters', async () => {
    const { jar } = await signIn(admin, '/admin/login');
    const group = await server.services.groups.create({ displayName: 'Paging' }, CLI_ACTOR);
    const ids: string[] = [];
    for (let index = 0; index < 30; index++) {
      ids.push((await server.services.identities.create({ userName: `page${index}@acme.test`, email: `page${index}@acme.test` }, CLI_ACTOR)).id);
    }
    await server.services.groups.change(group.id, { members: { add: ids.slice(0, 12) } }, CLI_ACTOR);
    const page = await (await call(jar, 'GET', `/admin/api/identities?group=${group.id}&status=unenrolled&limit=5&offset=10`)).json();
    expect(page.total).toBe(12);
    expect(page.items).toHaveLength(2);
    const search = await (await call(jar, 'GET', '/admin/api/identities?search=page17')).json();
    expect(search.items.map((item: { userName: string }) => item.userName)).toEqual(['page17@acme.test']);
  });

  it('keeps a SCIM-owned profile read-only, and signing out ends the session', async () => {
    const { jar } = await signIn(admin, '/admin/login');
    const csrf = await csrfOf(jar);
    const scimOwned = await server.services.identities.create({ userName: 'synced@acme.test', email: 'synced@acme.test', externalId: 'okta-00u1' }, scimActor('test'));
    const local = await server.services.identities.create({ userName: 'local@acme.test', email: 'local@acme.test' }, CLI_ACTOR);
    expect((await call(jar, 'PATCH', `/admin/api/identities/${scimOwned.id}`, { givenName: 'Changed' }, csrf)).status).toBe(403);
    expect((await call(jar, 'PATCH', `/admin/api/identities/${local.id}`, { givenName: 'Changed' }, csrf)).status).toBe(200);
    expect((await server.services.identities.require(local.id)).givenName).toBe('Changed');
    const out = await browse(jar, `${server.url}/admin/logout`, { method: 'POST', headers: { origin: server.url } });
    expect(out.status).toBe(302);
    expect(out.headers.get('location')).toBe('/logout');
    expect((await call(jar, 'GET', '/admin/api/session')).status).toBe(401);
  });
});

describe.each(STORE_KINDS)('SESSION_TTL (%s)', (store) => {
  let server: TestServer;
  const clock = movableClock();
  let admin: Awaited<ReturnType<typeof enrolledPerson>>;

  beforeAll(async () => {
    server = await startTestServer({ store, clock, env: { SESSION_TTL: '30m' } });
    admin = await enrolledPerson(server, 'root@acme.test');
    await server.services.identities.update(admin.identity.id, { roles: [ADMIN_ROLE] }, CLI_ACTOR);
  });
  afterAll(async () => server?.close());

  it('ends the console session after SESSION_TTL, and the cookie says so too', async () => {
    const jar = new CookieJar();
    const signedInAt = clock.now();
    await signInOverHttp({ origin: server.url, authorizationUrl: `${server.url}/admin/login`, authenticator: admin.authenticator, jar });
    const expires = Date.parse(/expires=([^;]+)/i.exec(jar.setCookies.get(SESSION_COOKIE)!)![1]);
    expect(Math.abs(expires - (signedInAt + 30 * 60_000))).toBeLessThan(60_000);
    const session = () => browse(jar, `${server.url}/admin/api/session`, { headers: { accept: 'application/json' } });
    clock.advance(29 * 60_000);
    expect((await session()).status).toBe(200);
    clock.advance(2 * 60_000);
    expect((await session()).status).toBe(401);
    const page = await browse(jar, `${server.url}/admin`);
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/admin/login');
  });
});
