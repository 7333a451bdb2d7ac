/**
 * End to end in Debian's Chromium with a CDP virtual authenticator: a person enrolls through the
 * magic link, then openid-client playing Okta runs the code flow (with login_hint, without it,
 * with PKCE), validates the ID token against the JWKS and calls userinfo. Deactivation then
 * shuts the same person out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { launchChromium, newPasskeyPage, type PasskeyPage } from '../support/browser.ts';
import { authorizationUrl, createPerson, FAKE_OKTA, OKTA_CALLBACK, setUpOkta } from '../support/okta-fixture.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

describe('passkey login for Okta in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let person: PasskeyPage;
  let okta: Awaited<ReturnType<typeof setUpOkta>>;
  let aliceId: string;

  beforeAll(async () => {
    server = await startTestServer({ store: 'sqlite' });
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
    expect(claims).toMatchObject({ sub: aliceId, email: 'alice@example.com', email_verified: true, given_name: 'Alice', family_name: 'Smith', nonce: request.nonce });
    expect(claims.amr).toContain('pop');
    expect(typeof claims.auth_time).toBe('number');
    const userinfo = await oidc.fetchUserInfo(okta.rp, tokens.access_token, aliceId);
    expect(userinfo.email).toBe('alice@example.com');
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

  it('refuses a person Okta deactivated over SCIM, with a clear message and access_denied back at Okta', async () => {
    // Exactly what Okta sends to deactivate: a PATCH with no path (OKTA.md §2).
    const { token } = await server.services.scimTokens.create({ name: 'Okta SCIM Token' }, CLI_ACTOR);
    const patch = await fetch(`${server.url}/scim/v2/Users/${aliceId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json', 'user-agent': 'Okta SCIM Client 1.0.0' },
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', value: { active: false } }] }),
    });
    expect(patch.status).toBe(200);
    expect(((await patch.json()) as { active: boolean }).active).toBe(false);
    const request = authorizationUrl(okta.rp, { prompt: 'login' });
    const { page } = person;
    const callback = new Promise<URL>((resolve) => {
      void page.route(`${FAKE_OKTA}/**`, async (route) => {
        resolve(new URL(route.request().url()));
        await route.fulfill({ status: 200, contentType: 'text/html', body: 'ok' });
      });
    });
    await page.goto(request.url);
    await expect.poll(() => page.locator('#status').textContent()).toContain('deactivated');
    const reached = await callback;
    expect(reached.searchParams.get('error')).toBe('access_denied');
    await page.unroute(`${FAKE_OKTA}/**`);
  });
});
