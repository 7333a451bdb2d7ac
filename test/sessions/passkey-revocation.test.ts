/**
 * Revoking a passkey ends what it opened, at once: the provider session (no silent SSO code, even
 * with prompt=none), the dashboard session, and the tokens those sessions issued; a session opened
 * by the person's other passkey lives on until that last passkey goes too. Session ids are stored
 * only as their SHA-256. Over HTTP with a cookie jar per browser, on both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { authorizationUrl, enrolledPerson, OKTA_CALLBACK, setUpOkta } from '../support/okta-fixture.ts';
import { browse, CookieJar, enrollOverHttp, follow, signInOverHttp } from '../support/http-login.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { hashToken } from '../../server/domain/secrets.ts';
import { adminActor, CLI_ACTOR } from '../../server/domain/actor.ts';

describe.each(STORE_KINDS)('revoking a passkey ends its sessions (%s)', (kind) => {
  let server: TestServer;
  let okta: Awaited<ReturnType<typeof setUpOkta>>;

  beforeAll(async () => {
    server = await startTestServer({ store: kind });
    okta = await setUpOkta(server);
  });
  afterAll(async () => server?.close());

  /** A browser signed in to Okta (tokens) and to the dashboard with one passkey. */
  async function browserSignedInWith(authenticator: SoftAuthenticator) {
    const jar = new CookieJar();
    const request = authorizationUrl(okta.rp);
    const login = await signInOverHttp({ origin: server.url, authorizationUrl: request.url, authenticator, jar });
    expect(login.callbackUrl.startsWith(OKTA_CALLBACK)).toBe(true);
    const tokens = await oidc.authorizationCodeGrant(okta.rp, new URL(login.callbackUrl), { expectedNonce: request.nonce, expectedState: request.state });
    const dashboard = await signInOverHttp({ origin: server.url, authorizationUrl: `${server.url}/login`, authenticator, jar });
    expect(dashboard.verify.status).toBe(200);
    return { jar, accessToken: tokens.access_token };
  }

  /** prompt=none: "login_required" when the browser has no live session, a code when it has. */
  async function silentSso(jar: CookieJar): Promise<string> {
    const { url } = await follow(jar, authorizationUrl(okta.rp, { prompt: 'none' }).url, server.url);
    const callback = new URL(url);
    expect(url.startsWith(OKTA_CALLBACK)).toBe(true);
    return callback.searchParams.get('error') ?? (callback.searchParams.get('code') ? 'code' : 'nothing');
  }
  const userinfo = async (token: string) => (await fetch(okta.rp.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${token}` } })).status;
  const dashboard = async (jar: CookieJar) => (await browse(jar, `${server.url}/api/me`, { headers: { accept: 'application/json' } })).status;
  const sessionCookie = (jar: CookieJar) => /(?:^|; )lk_session=([^;]+)/.exec(jar.header())![1];

  it('ends the sessions and tokens of the revoked passkey only; the last passkey ends them all', async () => {
    const person = await enrolledPerson(server, `pat-${kind}@acme.test`, okta.group.id);
    const second = new SoftAuthenticator({ origin: server.url });
    const { url } = await server.services.invites.issue(person.identity, { actor: CLI_ACTOR, delivery: 'link' });
    expect((await enrollOverHttp(url, second)).status).toBe(200);
    const [laptopPasskey, phonePasskey] = await server.services.passkeys.listFor(person.identity.id);

    const laptop = await browserSignedInWith(person.authenticator);
    const phone = await browserSignedInWith(second);
    expect(await silentSso(laptop.jar)).toBe('code');
    expect(await dashboard(laptop.jar)).toBe(200);
    expect(await userinfo(laptop.accessToken)).toBe(200);

    // At rest the session is known only by the SHA-256 of its cookie value, and carries its passkey.
    const cookie = sessionCookie(laptop.jar);
    expect(await server.services.store.oidc.find('Session', cookie, Date.now())).toBeNull();
    expect(await server.services.store.oidc.find('Session', hashToken(cookie), Date.now())).toMatchObject({ accountId: person.identity.id, passkeyId: laptopPasskey.id });
    expect(JSON.stringify(await server.services.store.oidc.find('Session', hashToken(cookie), Date.now()))).not.toContain(cookie);

    const admin = await server.services.identities.create({ userName: `root-${kind}@acme.test`, email: `root-${kind}@acme.test`, roles: ['admin'] }, CLI_ACTOR);
    await server.services.passkeys.revoke(laptopPasskey.id, adminActor(admin.id));

    expect(await silentSso(laptop.jar)).toBe('login_required');
    expect(await dashboard(laptop.jar)).toBe(401);
    expect(await userinfo(laptop.accessToken)).toBe(401);
    // The phone signed in with the other passkey: it keeps its sessions.
    expect(await silentSso(phone.jar)).toBe('code');
    expect(await dashboard(phone.jar)).toBe(200);
    expect(await userinfo(phone.accessToken)).toBe(200);
    const revoked = (await server.services.audit.list({ target: `identity:${person.identity.id}`, limit: 50 })).find((event) => event.action === 'passkey.revoke');
    expect(revoked?.detail).toMatchObject({ passkeyId: laptopPasskey.id, lastPasskey: false });
    expect(Number(revoked?.detail.sessionsEnded)).toBeGreaterThanOrEqual(2);

    await server.services.passkeys.revoke(phonePasskey.id, CLI_ACTOR);
    expect(await silentSso(phone.jar)).toBe('login_required');
    expect(await dashboard(phone.jar)).toBe(401);
    expect(await userinfo(phone.accessToken)).toBe(401);
  });

  it('a person removing a passkey on the dashboard ends the session that used it', async () => {
    const person = await enrolledPerson(server, `dee-${kind}@acme.test`, okta.group.id);
    const second = new SoftAuthenticator({ origin: server.url });
    const { url } = await server.services.invites.issue(person.identity, { actor: CLI_ACTOR, delivery: 'link' });
    expect((await enrollOverHttp(url, second)).status).toBe(200);
    const [laptopPasskey] = await server.services.passkeys.listFor(person.identity.id);
    const laptop = await browserSignedInWith(person.authenticator);
    const phone = await browserSignedInWith(second);
    const page = await browse(phone.jar, `${server.url}/`);
    const csrf = /data-csrf="([^"]+)"/.exec(await page.text())![1];
    const removed = await browse(phone.jar, `${server.url}/api/me/passkeys/${encodeURIComponent(laptopPasskey.id)}/remove`, {
      method: 'POST',
      headers: { origin: server.url, 'x-csrf-token': csrf, 'content-type': 'application/json', accept: 'application/json' },
      body: '{}',
    });
    expect(removed.status).toBe(200);
    expect(await silentSso(laptop.jar)).toBe('login_required');
    expect(await dashboard(laptop.jar)).toBe(401);
    expect(await userinfo(laptop.accessToken)).toBe(401);
    expect(await dashboard(phone.jar)).toBe(200);
  });
});
