/**
 * Hostile JSON bodies on every endpoint family that reads one (issue 9, item 8): 10,000 levels of
 * arrays or of objects answer 400 and an oversized body 413, each in the endpoint's own error
 * format (SCIM error schema, {error, error_description}, OAuth error), never a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ACTOR } from '../../server/domain/actor.ts';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { browse, CookieJar, follow, pageData, signInOverHttp } from '../support/http-login.ts';
import { authorizationUrl, enrolledPerson, setUpOkta } from '../support/okta-fixture.ts';
import { ADMIN_ROLE } from '../../server/domain/apps.ts';
import { SCIM } from '../conformance/scim-client.ts';

const LEVELS = 10_000;
const deepArrays = '['.repeat(LEVELS) + ']'.repeat(LEVELS);
const deepObjects = '{"a":'.repeat(LEVELS) + '1' + '}'.repeat(LEVELS);
/** Deep values inside an otherwise ordinary body, where handlers would walk them. */
const nestedIn = (deep: string) => `{"schemas":["${SCIM.patchOp}"],"Operations":[{"op":"replace","value":${deep}}],"name":${deep}}`;
// Each under the smallest body limit (64kb), so the depth rule, not the size rule, answers.
const HOSTILE = { 'deep arrays': deepArrays, 'deep objects': deepObjects, 'deep inside an object': nestedIn(deepArrays) };
const oversized = (bytes: number) => JSON.stringify({ padding: 'x'.repeat(bytes) });

describe.each(STORE_KINDS)('hostile JSON bodies (%s)', (kind) => {
  let server: TestServer;
  let scimToken = '';
  let userId = '';
  let groupId = '';
  let adminJar: CookieJar;
  let adminCsrf = '';
  let okta: Awaited<ReturnType<typeof setUpOkta>>;
  let person: Awaited<ReturnType<typeof enrolledPerson>>;

  beforeAll(async () => {
    server = await startTestServer({ store: kind });
    okta = await setUpOkta(server);
    scimToken = (await server.services.scimTokens.create({ name: 'okta' }, CLI_ACTOR)).token;
    const admin = await enrolledPerson(server, 'root@acme.test');
    await server.services.identities.update(admin.identity.id, { roles: [ADMIN_ROLE] }, CLI_ACTOR);
    person = await enrolledPerson(server, 'pat@acme.test', okta.group.id);
    userId = person.identity.id;
    groupId = okta.group.id;
    adminJar = new CookieJar();
    await signInOverHttp({ origin: server.url, authorizationUrl: `${server.url}/admin/login`, authenticator: admin.authenticator, jar: adminJar });
    adminCsrf = pageData(await (await browse(adminJar, `${server.url}/admin`)).text()).csrf;
  });
  afterAll(async () => server?.close());

  async function send(url: string, body: string, headers: Record<string, string>, jar?: CookieJar) {
    const init = { method: headers['x-method'] ?? 'POST', headers, body };
    const response = jar ? await browse(jar, url, init) : await fetch(url, init);
    const text = await response.text();
    return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : null };
  }

  describe('SCIM', () => {
    const scim = (path: string, body: string, method = 'POST') =>
      send(`${server.url}/scim/v2${path}`, body, { 'x-method': method, authorization: `Bearer ${scimToken}`, 'content-type': 'application/scim+json' });

    for (const [name, body] of Object.entries(HOSTILE)) {
      it(`answers 400 invalidSyntax to ${name} on POST /Users, PUT and PATCH /Users/{id}, POST and PATCH /Groups`, async () => {
        const calls = [scim('/Users', body), scim(`/Users/${userId}`, body, 'PUT'), scim(`/Users/${userId}`, body, 'PATCH'), scim('/Groups', body), scim(`/Groups/${groupId}`, body, 'PATCH')];
        for (const response of await Promise.all(calls)) {
          expect(response.status).toBe(400);
          expect(response.contentType).toMatch(/^application\/scim\+json/);
          expect(response.body).toMatchObject({ schemas: [SCIM.error], status: '400', scimType: 'invalidSyntax', detail: expect.stringMatching(/nests|JSON/) });
        }
      });
    }

    it('answers 413 in the SCIM error schema to an oversized body', async () => {
      const response = await scim(`/Users/${userId}`, oversized(1_100_000), 'PATCH');
      expect(response.status).toBe(413);
      expect(response.body).toMatchObject({ schemas: [SCIM.error], status: '413' });
    });
  });

  describe('admin console API', () => {
    const admin = (path: string, body: string, method = 'POST') =>
      send(`${server.url}/admin/api${path}`, body, { 'x-method': method, accept: 'application/json', origin: server.url, 'x-csrf-token': adminCsrf, 'content-type': 'application/json' }, adminJar);

    for (const [name, body] of Object.entries(HOSTILE)) {
      it(`answers 400 invalid_input to ${name} on POST /apps and PATCH /identities/{id}`, async () => {
        for (const response of [await admin('/apps', body), await admin(`/identities/${userId}`, body, 'PATCH')]) {
          expect(response.status).toBe(400);
          expect(response.body).toEqual({ error: 'invalid_input', error_description: expect.stringMatching(/nests .* levels deep/) });
        }
      });
    }

    it('answers 413 too_large to an oversized body', async () => {
      const response = await admin('/apps', oversized(600_000));
      expect(response.status).toBe(413);
      expect(response.body).toEqual({ error: 'too_large', error_description: expect.stringMatching(/larger than the 512kb/) });
    });
  });

  describe('dashboard API', () => {
    it('answers 400 to deep bodies and 413 to an oversized one, as {error, error_description}', async () => {
      const jar = new CookieJar();
      await signInOverHttp({ origin: server.url, authorizationUrl: `${server.url}/login`, authenticator: person.authenticator, jar });
      const csrf = pageData(await (await browse(jar, `${server.url}/`)).text()).csrf;
      const headers = { accept: 'application/json', origin: server.url, 'x-csrf-token': csrf, 'content-type': 'application/json' };
      const passkeyId = (await server.services.passkeys.listFor(userId))[0].id;
      for (const body of Object.values(HOSTILE)) {
        const response = await send(`${server.url}/api/me/passkeys/${encodeURIComponent(passkeyId)}/rename`, body, headers, jar);
        expect(response.status).toBe(400);
        expect(response.body.error).toBe('invalid_input');
      }
      const big = await send(`${server.url}/api/me/passkeys/${encodeURIComponent(passkeyId)}/rename`, oversized(70_000), headers, jar);
      expect(big.status).toBe(413);
      expect(big.body.error).toBe('too_large');
    });
  });

  describe('sign-in and enrollment ceremonies', () => {
    it('answers 400 / 413 on the interaction passkey endpoints', async () => {
      const jar = new CookieJar();
      const landing = await follow(jar, authorizationUrl(okta.rp).url, server.url);
      const data = pageData(await landing.response.text());
      const headers = { origin: server.url, 'x-csrf-token': data.csrf, 'content-type': 'application/json' };
      for (const path of ['options', 'verify']) {
        for (const body of Object.values(HOSTILE)) {
          const response = await send(`${server.url}/interaction/${data.uid}/passkey/${path}`, body, headers, jar);
          expect(response.status).toBe(400);
          expect(response.body).toEqual({ error: 'invalid_input', error_description: expect.stringMatching(/nests/) });
        }
        const big = await send(`${server.url}/interaction/${data.uid}/passkey/${path}`, oversized(70_000), headers, jar);
        expect(big.status).toBe(413);
      }
    });

    it('answers 400 / 413 on the enrollment link endpoints', async () => {
      const { url } = await server.services.invites.issue(person.identity, { actor: CLI_ACTOR, delivery: 'link' });
      const jar = new CookieJar();
      const data = pageData(await (await browse(jar, url)).text());
      const headers = { origin: server.url, 'x-csrf-token': data.csrf, 'content-type': 'application/json' };
      for (const path of ['options', 'verify']) {
        for (const body of Object.values(HOSTILE)) {
          const response = await send(`${url}/${path}`, body, headers, jar);
          expect(response.status).toBe(400);
          expect(response.body.error).toBe('invalid_input');
        }
        expect((await send(`${url}/${path}`, oversized(70_000), headers, jar)).status).toBe(413);
      }
    });
  });

  describe('token endpoint', () => {
    it('refuses a JSON body (deep or not) with an OAuth invalid_request, never a 500', async () => {
      for (const body of [...Object.values(HOSTILE), oversized(200_000)]) {
        const response = await send(`${server.url}/token`, body, { 'content-type': 'application/json' });
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
        expect(response.body.error).toMatch(/^invalid_request$/);
      }
    });
  });
});
