/**
 * The link and the page it opens: scanner-safe GETs, single use, only the newest link works,
 * and unusable links say exactly why. Runs on both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { CookieJar, browse, enrollOverHttp, pageData, postJson } from '../support/http-login.ts';
import { createPeople, statusesOf } from './helpers.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';
import { issueExpiredLink } from '../support/builders.ts';

describe.each(STORE_KINDS)('enrollment links (%s)', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ store: kind, env: { ORG_NAME: 'Acme' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  const page = async (link: string) => {
    const response = await fetch(link, { headers: { accept: 'text/html' } });
    return { status: response.status, text: await response.text() };
  };

  it('a scanner opening the link spends nothing; the person enrolls afterwards; a second POST is refused', async () => {
    const [person] = await createPeople(server.services, 1, `scanner-${kind}-`);
    const { url } = await server.services.invites.issue(person, { actor: CLI_ACTOR, delivery: 'email' });
    for (let scan = 0; scan < 3; scan++) {
      const scanned = await page(url);
      expect(scanned.status).toBe(200);
      expect(scanned.text).toContain(`Hi Given1 Family1, let's create your passkey`);
    }
    // A scanner that also tries a POST has no CSRF token bound to the page: refused, link intact.
    const blind = await fetch(`${url}/options`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect({ status: blind.status, body: await blind.json() }).toEqual({ status: 403, body: { error: 'forbidden', error_description: `cross-origin request refused (Origin "none" is not ${server.url})` } });
    expect(await statusesOf(server.services, [person])).toEqual(['pending']);

    // Keep the jar of the successful enrollment to replay its POSTs afterwards.
    const jar = new CookieJar();
    const landing = await browse(jar, url);
    const data = pageData(await landing.text());
    const headers = { origin: server.url, 'x-csrf-token': data.csrf };
    const authenticator = new SoftAuthenticator({ origin: server.url });
    const options = await postJson(jar, `${url}/options`, {}, headers);
    expect(options.status).toBe(200);
    const response = await authenticator.register(options.body);
    const verified = await postJson(jar, `${url}/verify`, { response, name: 'Laptop' }, headers);
    expect(verified.status).toBe(200);
    expect(await statusesOf(server.services, [person])).toEqual(['enrolled']);

    const replay = await postJson(jar, `${url}/verify`, { response, name: 'Again' }, headers);
    expect(replay.status).toBe(410);
    const again = await postJson(jar, `${url}/options`, {}, headers);
    expect(again.status).toBe(410);
    expect(await server.services.passkeys.listFor(person.id)).toHaveLength(1);

    const spent = await page(url);
    expect(spent.status).toBe(410);
    expect(spent.text).toContain('This enrollment link was already used');
    expect(spent.text).toContain('Ask your administrator for a new enrollment link.');
  });

  it('a new invitation revokes the older link; only the newest works', async () => {
    const [person] = await createPeople(server.services, 1, `newest-${kind}-`);
    const older = await server.services.invites.issue(person, { actor: CLI_ACTOR, delivery: 'link' });
    const newer = await server.services.invites.issue(person, { actor: CLI_ACTOR, delivery: 'link' });
    const old = await page(older.url);
    expect(old.status).toBe(410);
    expect(old.text).toContain('This enrollment link was replaced');
    expect(old.text).toContain('replaced by a newer one or revoked by an administrator');
    expect((await enrollOverHttp(older.url, new SoftAuthenticator({ origin: server.url })).catch((error: Error) => ({ status: error.message })))).toMatchObject({ status: expect.stringContaining('410') });
    const result = await enrollOverHttp(newer.url, new SoftAuthenticator({ origin: server.url }));
    expect(result.status).toBe(200);
  });

  it('expired, used and revoked links each get a page saying which', async () => {
    const [expiring, revoked] = await createPeople(server.services, 2, `dead-${kind}-`);
    const expired = await issueExpiredLink(server, expiring);
    const expiredPage = await page(expired.url);
    expect(expiredPage.status).toBe(410);
    expect(expiredPage.text).toContain('This enrollment link has expired');
    expect(expiredPage.text).toContain(`expired on ${new Date(expired.invite.expiresAt).toUTCString()}`);
    expect(await statusesOf(server.services, [expiring])).toEqual(['unenrolled']);

    const revocable = await server.services.invites.issue(revoked, { actor: CLI_ACTOR, delivery: 'link' });
    expect(await server.services.invites.revoke(revocable.invite.id, CLI_ACTOR)).toBe(true);
    const revokedPage = await page(revocable.url);
    expect(revokedPage.status).toBe(410);
    expect(revokedPage.text).toContain('This enrollment link was replaced');
    expect(await statusesOf(server.services, [revoked])).toEqual(['unenrolled']);

    const invalid = await page(`${server.url}/enroll/${'x'.repeat(43)}`);
    expect(invalid.status).toBe(404);
    expect(invalid.text).toContain('This enrollment link is not valid');
  });
});
