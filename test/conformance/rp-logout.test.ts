/**
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) on both stores: an app's registered
 * post-logout redirect URI receives the browser, with state, after the person confirms; an
 * unregistered one is refused on a readable page and nobody is redirected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { authorizationUrl, startOktaTenant, enrolledPerson, FAKE_OKTA, setUpOkta } from '../support/okta-fixture.ts';
import { browse, signInOverHttp, type CookieJar } from '../support/http-login.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

const SIGNED_OUT = `${FAKE_OKTA}/login/signout`;

describe.each(STORE_KINDS)('RP-initiated logout on %s', (store) => {
  let server: TestServer;
  let okta: Awaited<ReturnType<typeof setUpOkta>>;
  let alice: Awaited<ReturnType<typeof enrolledPerson>>;

  beforeAll(async () => {
    ({ server, okta, alice } = await startOktaTenant(store));
    await server.services.apps.configureClient(okta.app.id, { postLogoutRedirectUris: [SIGNED_OUT] }, CLI_ACTOR);
  });
  afterAll(async () => server?.close());

  async function signedIn(): Promise<{ jar: CookieJar; idToken: string }> {
    const request = authorizationUrl(okta.rp);
    const login = await signInOverHttp({ origin: server.url, authorizationUrl: request.url, authenticator: alice.authenticator });
    const tokens = await oidc.authorizationCodeGrant(okta.rp, new URL(login.callbackUrl), { expectedNonce: request.nonce, expectedState: request.state });
    return { jar: login.jar, idToken: tokens.id_token! };
  }

  /** Submits the confirmation form the logout page shows, as the person pressing "Sign out". */
  async function confirm(jar: CookieJar, page: string) {
    const form = /<form[^>]*id="op.logoutForm"[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(page) ?? /<form[^>]*action="([^"]+)"[^>]*id="op.logoutForm"[^>]*>([\s\S]*?)<\/form>/.exec(page);
    expect(form).not.toBeNull();
    const fields = new URLSearchParams([...form![2].matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)].map((match) => [match[1], match[2]]));
    fields.set('logout', 'yes');
    return browse(jar, new URL(form![1], server.url).href, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: fields });
  }

  it('returns to the registered post-logout redirect URI with state, and ends the session', async () => {
    const { jar, idToken } = await signedIn();
    const url = oidc.buildEndSessionUrl(okta.rp, { id_token_hint: idToken, post_logout_redirect_uri: SIGNED_OUT, state: 'after-logout' });
    const page = await browse(jar, url.href);
    expect(page.status).toBe(200);
    const done = await confirm(jar, await page.text());
    expect(done.status).toBe(303);
    const location = new URL(done.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(SIGNED_OUT);
    expect(location.searchParams.get('state')).toBe('after-logout');
    // The session is gone: a silent authorization now needs a login.
    const silent = await browse(jar, authorizationUrl(okta.rp, { prompt: 'none' }).url);
    expect(new URL(silent.headers.get('location')!).searchParams.get('error')).toBe('login_required');
  });

  it('refuses a post-logout redirect URI that is not registered for the app', async () => {
    const { jar, idToken } = await signedIn();
    const url = oidc.buildEndSessionUrl(okta.rp, { id_token_hint: idToken, post_logout_redirect_uri: `${FAKE_OKTA}/elsewhere` });
    const page = await browse(jar, url.href);
    expect(page.status).toBe(400);
    expect(page.headers.get('location')).toBeNull();
    expect(await page.text()).toMatch(/post_logout_redirect_uri not registered/);
  });

  it('registers post-logout redirect URIs with validation', async () => {
    await expect(server.services.apps.configureClient(okta.app.id, { postLogoutRedirectUris: ['http://example.com/out'] }, CLI_ACTOR)).rejects.toThrow(/post-logout redirect URI "http:\/\/example.com\/out" must use https/);
    expect((await server.services.apps.require(okta.app.id)).postLogoutRedirectUris).toEqual([SIGNED_OUT]);
  });
});
