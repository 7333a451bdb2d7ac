/**
 * End to end in Debian's Chromium with a CDP virtual authenticator: a person enrolls through the
 * magic link, then openid-client playing Okta runs the code flow (with login_hint, without it,
 * with PKCE), validates the ID token against the JWKS and calls userinfo. Deactivation over SCIM
 * then shuts the same person out: their browser session, their access token, a code not yet
 * redeemed. Runs on both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { codeOf, exchangeCode, tokenRequest, userinfo } from '../support/tokens.ts';
import { scimSetActive } from '../support/scim.ts';
import { expectAccessible, launchChromium, newPasskeyPage, type PasskeyPage } from '../support/browser.ts';
import { authorizationUrl, createPerson, FAKE_OKTA, OKTA_CALLBACK, setUpOkta } from '../support/okta-fixture.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

describe.each(STORE_KINDS)('passkey login for Okta in Chromium (%s)', (store) => {
  let server: TestServer;
  let browser: Browser;
  let person: PasskeyPage;
  let okta: Awaited<ReturnType<typeof setUpOkta>>;
  let aliceId: string;
  /** Tokens Okta holds from the last sign-in, for the deactivation test. */
  let held: { accessToken: string; refreshToken: string | undefined } | null = null;

  beforeAll(async () => {
    server = await startTestServer({ store });
    okta = await setUpOkta(server);
    aliceId = (await createPerson(server, 'alice@example.com', { groupId: okta.group.id })).id;
    browser = await launchChromium();
    person = await newPasskeyPage(browser);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /**
   * Opens the authorization URL and (with `press`) presses the passkey button; returns where
   * Okta's callback was hit. Without login_hint the page offers passkeys through autofill
   * (conditional UI), which the virtual authenticator answers by itself: no press needed.
   */
  async function signIn(url: string, press = true): Promise<URL> {
    const { page } = person;
    const callback = new Promise<URL>((resolve) => {
      void page.route(`${FAKE_OKTA}/**`, async (route) => {
        resolve(new URL(route.request().url()));
        await route.fulfill({ status: 200, contentType: 'text/html', body: '<p>Okta callback</p>' });
      });
    });
    await page.goto(url);
    if (press) await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    const reached = await callback;
    await page.unroute(`${FAKE_OKTA}/**`);
    return reached;
  }

  it('enrolls a passkey from the enrollment link, spending it only on the deliberate press', async () => {
    const alice = await server.services.identities.require(aliceId);
    const { url } = await server.services.invites.issue(alice, { actor: CLI_ACTOR, delivery: 'link' });
    const { page } = person;
    await page.goto(url);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toContain('Hi Alice Smith');
    // Opening the page (as a mail scanner would) spent nothing.
    expect((await server.services.invites.list(aliceId))[0].spentAt).toBeNull();
    await page.getByLabel('Passkey name (optional)').fill('Test laptop');
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.locator('#step-done').waitFor({ state: 'visible' });
    const passkeys = await server.services.passkeys.listFor(aliceId);
    expect(passkeys).toHaveLength(1);
    expect(passkeys[0].name).toBe('Test laptop');
    expect(await person.credentials()).toHaveLength(1);
    expect((await server.services.invites.list(aliceId))[0].spentAt).not.toBeNull();
    // The spent link now explains itself.
    const again = await page.goto(url);
    expect(again?.status()).toBe(410);
    expect(await page.textContent('h1')).toContain('already used');
  });

  it('signs in to Okta with login_hint: nonce, JWKS-validated RS256 ID token, claims, userinfo', async () => {
    const request = authorizationUrl(okta.rp, { login_hint: 'alice@example.com' });
    const callback = await signIn(request.url);
    expect(callback.href.startsWith(OKTA_CALLBACK)).toBe(true);
    const tokens = await oidc.authorizationCodeGrant(okta.rp, callback, { expectedNonce: request.nonce, expectedState: request.state, idTokenExpected: true });
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ sub: aliceId, email: 'alice@example.com', email_verified: false, given_name: 'Alice', family_name: 'Smith', nonce: request.nonce });
    expect(claims.amr).toContain('pop');
    expect(typeof claims.auth_time).toBe('number');
    const info = await oidc.fetchUserInfo(okta.rp, tokens.access_token, aliceId);
    expect(info.email).toBe('alice@example.com');
    held = { accessToken: tokens.access_token, refreshToken: tokens.refresh_token };
  });

  it('signs in without login_hint: the discoverable passkey offered through autofill (conditional UI)', async () => {
    const request = authorizationUrl(okta.rp, { prompt: 'login' });
    const callback = await signIn(request.url, false);
    const tokens = await oidc.authorizationCodeGrant(okta.rp, callback, { expectedNonce: request.nonce, expectedState: request.state });
    expect(tokens.claims()!.sub).toBe(aliceId);
  });

  it('signs in with PKCE S256 (and login_hint, through the button)', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const request = authorizationUrl(okta.rp, { prompt: 'login', login_hint: 'alice@example.com', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    const callback = await signIn(request.url);
    const tokens = await oidc.authorizationCodeGrant(okta.rp, callback, { expectedNonce: request.nonce, expectedState: request.state, pkceCodeVerifier: verifier });
    expect(tokens.claims()!.sub).toBe(aliceId);
  });

  it('SCIM deactivation ends the real browser session and the tokens Okta holds; the passkey is refused with a clear message', async () => {
    const { page } = person;
    // Before: the browser's session signs in silently (prompt=none), and Okta's access token works.
    const before = authorizationUrl(okta.rp, { prompt: 'none' });
    const silentBefore = await callbackOf(before.url);
    const unredeemed = codeOf(silentBefore.href);
    expect(held).not.toBeNull();
    expect((await userinfo(server.url, held!.accessToken)).status).toBe(200);

    // Exactly what Okta sends to deactivate: a PATCH with no path (OKTA.md §2).
    const { token } = await server.services.scimTokens.create({ name: 'Okta SCIM Token' }, CLI_ACTOR);
    const patch = await fetch(`${server.url}/scim/v2/Users/${aliceId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json', 'user-agent': 'Okta SCIM Client 1.0.0' },
      body: JSON.stringify(scimSetActive(false)),
    });
    expect(patch.status).toBe(200);
    expect(((await patch.json()) as { active: boolean }).active).toBe(false);

    // The access token is refused at userinfo.
    const refused = await userinfo(server.url, held!.accessToken);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    // A code issued before the deactivation cannot be redeemed after it.
    const late = await exchangeCode(server.url, { clientId: okta.app.id, clientSecret: okta.clientSecret }, unredeemed);
    expect(late).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // Latchkey issues no refresh tokens (Okta asks for none), so none can outlive the account:
    // none was issued and the grant itself is refused.
    expect(held!.refreshToken).toBeUndefined();
    const refresh = await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: 'anything' }, { clientId: okta.app.id, clientSecret: okta.clientSecret });
    expect(refresh.status).toBe(400);
    expect(refresh.body.error).toMatch(/^(unsupported_grant_type|unauthorized_client)$/);

    // The browser session is gone: a silent sign-in is answered login_required ...
    const silentAfter = await callbackOf(authorizationUrl(okta.rp, { prompt: 'none' }).url);
    expect(silentAfter.searchParams.get('error')).toBe('login_required');
    expect(silentAfter.searchParams.get('code')).toBeNull();
    // ... and an ordinary one asks for the passkey, which is refused with a clear message,
    // and Okta gets access_denied.
    const request = authorizationUrl(okta.rp);
    const callback = waitForCallback();
    await page.goto(request.url);
    expect(page.url()).toContain('/interaction/');
    await expect.poll(() => page.locator('#status').textContent()).toContain('deactivated');
    await expectAccessible(page, 'deactivated sign-in');
    const reached = await callback;
    expect(reached.searchParams.get('error')).toBe('access_denied');
    await page.unroute(`${FAKE_OKTA}/**`);
  });

  /** Resolves with Okta's callback URL the next time the browser is sent there (answered with a stub page). */
  function waitForCallback(): Promise<URL> {
    const { page } = person;
    return new Promise<URL>((resolve) => {
      void page.route(`${FAKE_OKTA}/**`, async (route) => {
        resolve(new URL(route.request().url()));
        await route.fulfill({ status: 200, contentType: 'text/html', body: '<p>Okta callback</p>' });
      });
    });
  }

  /**
   * Runs an authorization URL that must come straight back to Okta (prompt=none) with the
   * browser's own cookies (the context's request client shares its cookie store), following
   * redirects on Latchkey's origin; Chromium itself refuses to navigate to the stub's port 9.
   */
  async function callbackOf(url: string): Promise<URL> {
    let next = url;
    for (let hops = 0; hops < 10; hops++) {
      const response = await person.page.context().request.get(next, { maxRedirects: 0 });
      const location = response.headers().location;
      expect(response.status(), `${next} answered ${response.status()} instead of a redirect`).toBeGreaterThanOrEqual(300);
      const target = new URL(location, next);
      if (target.href.startsWith(FAKE_OKTA)) return target;
      next = target.href;
    }
    throw new Error('too many redirects');
  }
});
