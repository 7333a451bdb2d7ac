/**
 * Okta's side of the login, over HTTP, on both stores: openid-client plays Okta as the relying
 * party; a software authenticator plays the person's passkey. Chromium runs the same flow in
 * test/e2e; here every negative case is checked for its exact error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { authorizationUrl, startOktaTenant, createPerson, enrolledPerson, OKTA_CALLBACK, setUpOkta } from '../support/okta-fixture.ts';
import { CookieJar, browse, follow, pageData, postJson, signInOverHttp } from '../support/http-login.ts';
import type { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { hashToken } from '../../server/domain/secrets.ts';
import * as tokens from '../support/tokens.ts';
import { amrFor } from '../../server/edges/oidc/oidc-edge.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

const tokenRequest = (server: TestServer, body: Record<string, string>, basic?: [string, string]) => tokens.tokenRequest(server.url, body, basic && { clientId: basic[0], clientSecret: basic[1] });

describe('amr of a passkey sign-in (RFC 8176, Okta trust claims)', () => {
  it('is phishing-resistant either way; hwk for a device-bound passkey, swk for a synced one', () => {
    expect(amrFor({ deviceType: 'singleDevice' }, true)).toEqual(['pop', 'hwk', 'phr', 'user', 'mfa']);
    expect(amrFor({ deviceType: 'multiDevice' }, true)).toEqual(['pop', 'swk', 'phr', 'user', 'mfa']);
    expect(amrFor({ deviceType: 'multiDevice' }, false)).toEqual(['pop', 'swk', 'phr', 'user']);
  });
});

describe.each(STORE_KINDS)('OIDC login for Okta on %s', (store) => {
  let server: TestServer;
  let okta: Awaited<ReturnType<typeof setUpOkta>>;
  let alice: Awaited<ReturnType<typeof enrolledPerson>>;

  beforeAll(async () => {
    ({ server, okta, alice } = await startOktaTenant(store));
  });
  afterAll(async () => server?.close());

  async function login(params: Record<string, string> = {}, authenticator = alice.authenticator) {
    const request = authorizationUrl(okta.rp, params);
    const result = await signInOverHttp({ origin: server.url, authorizationUrl: request.url, authenticator });
    return { ...request, ...result };
  }

  it('completes the code flow with login_hint: ID token validated against the JWKS, nonce, claims, amr, userinfo', async () => {
    const { callbackUrl, nonce, state } = await login({ login_hint: 'alice@example.com' });
    expect(callbackUrl.startsWith(OKTA_CALLBACK)).toBe(true);
    const tokens = await oidc.authorizationCodeGrant(okta.rp, new URL(callbackUrl), { expectedNonce: nonce, expectedState: state, idTokenExpected: true });
    const claims = tokens.claims()!;
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('RS256');
    expect(claims).toMatchObject({
      iss: server.url,
      aud: okta.app.id,
      sub: alice.identity.id,
      nonce,
      email: 'alice@example.com',
      // Created by an operator and enrolled with a link handed over by hand: nobody proved the
      // address, so Okta must not link by it (a SCIM-provisioned address is verified).
      email_verified: false,
      name: 'Alice Smith',
      given_name: 'Alice',
      family_name: 'Smith',
      preferred_username: 'alice@example.com',
    });
    expect(typeof claims.auth_time).toBe('number');
    // Okta's trust claims: phr (phishing-resistant) plus hwk or swk (device-bound or synced).
    expect(claims.amr).toEqual(expect.arrayContaining(['pop', 'phr', 'user', 'mfa']));
    expect((claims.amr as string[]).filter((value) => value === 'hwk' || value === 'swk')).toHaveLength(1);
    const userinfo = await oidc.fetchUserInfo(okta.rp, tokens.access_token, alice.identity.id);
    expect(userinfo).toMatchObject({ sub: alice.identity.id, email: 'alice@example.com', given_name: 'Alice', family_name: 'Smith', preferred_username: 'alice@example.com' });
  });

  it('signs in without login_hint (discoverable passkey) and with PKCE S256', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const challenge = await oidc.calculatePKCECodeChallenge(verifier);
    const { callbackUrl, nonce, state } = await login({ code_challenge: challenge, code_challenge_method: 'S256' });
    const tokens = await oidc.authorizationCodeGrant(okta.rp, new URL(callbackUrl), { expectedNonce: nonce, expectedState: state, pkceCodeVerifier: verifier });
    expect(tokens.claims()!.sub).toBe(alice.identity.id);
  });

  it('accepts client_secret_post as well as client_secret_basic', async () => {
    const { callbackUrl } = await login();
    const code = new URL(callbackUrl).searchParams.get('code')!;
    const result = await tokenRequest(server, { grant_type: 'authorization_code', code, redirect_uri: OKTA_CALLBACK, client_id: okta.app.id, client_secret: okta.clientSecret });
    expect(result.status).toBe(200);
    expect(result.body.id_token).toBeTruthy();
  });

  it('refuses a redirect_uri that is not registered exactly, without redirecting', async () => {
    const { url } = authorizationUrl(okta.rp, { redirect_uri: `${OKTA_CALLBACK}/extra` });
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('redirect_uri');
  });

  it('a reused code fails with invalid_grant and revokes the tokens it issued', async () => {
    const { callbackUrl } = await login();
    const code = new URL(callbackUrl).searchParams.get('code')!;
    const body = { grant_type: 'authorization_code', code, redirect_uri: OKTA_CALLBACK };
    const first = await tokenRequest(server, body, [okta.app.id, okta.clientSecret]);
    expect(first.status).toBe(200);
    const second = await tokenRequest(server, body, [okta.app.id, okta.clientSecret]);
    expect(second.status).toBe(400);
    expect(second.body.error).toBe('invalid_grant');
    const userinfo = await fetch(`${server.url}/userinfo`, { headers: { authorization: `Bearer ${first.body.access_token}` } });
    expect(userinfo.status).toBe(401);
  });

  it('of two racing redemptions of one code exactly one succeeds', async () => {
    const { callbackUrl } = await login();
    const code = new URL(callbackUrl).searchParams.get('code')!;
    const body = { grant_type: 'authorization_code', code, redirect_uri: OKTA_CALLBACK };
    const results = await Promise.all(Array.from({ length: 4 }, () => tokenRequest(server, body, [okta.app.id, okta.clientSecret])));
    expect(results.filter((result) => result.status === 200)).toHaveLength(1);
    expect(results.filter((result) => result.body.error === 'invalid_grant')).toHaveLength(3);
  });

  it('refuses a PKCE verifier that does not match, and the plain method', async () => {
    const challenge = await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier());
    const { callbackUrl } = await login({ code_challenge: challenge, code_challenge_method: 'S256' });
    const code = new URL(callbackUrl).searchParams.get('code')!;
    const result = await tokenRequest(server, { grant_type: 'authorization_code', code, redirect_uri: OKTA_CALLBACK, code_verifier: oidc.randomPKCECodeVerifier() }, [okta.app.id, okta.clientSecret]);
    expect(result.status).toBe(400);
    expect(result.body.error).toBe('invalid_grant');

    const plain = authorizationUrl(okta.rp, { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' });
    const response = await fetch(plain.url, { redirect: 'manual' });
    const location = new URL(response.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
  });

  it('a person not in an assigned group gets a reason and access_denied back at Okta', async () => {
    const bob = await enrolledPerson(server, 'bob@example.com');
    const result = await login({}, bob.authenticator);
    expect(result.verify.status).toBe(403);
    expect(result.verify.body.error).toBe('not_assigned');
    expect(result.verify.body.error_description).toContain('not assigned to Okta');
    const callback = new URL(result.callbackUrl);
    expect(callback.href.startsWith(OKTA_CALLBACK)).toBe(true);
    expect(callback.searchParams.get('error')).toBe('access_denied');
  });

  it('an existing session does not reach the app once the person leaves the assigned group', async () => {
    const frank = await enrolledPerson(server, 'frank@example.com', okta.group.id);
    const first = await login({}, frank.authenticator);
    expect(first.callbackUrl.startsWith(OKTA_CALLBACK)).toBe(true);
    await server.services.groups.change(okta.group.id, { members: { remove: [frank.identity.id] } }, CLI_ACTOR);
    // Same browser, same Latchkey session: no login page, and Okta gets access_denied.
    const silent = await follow(first.jar, authorizationUrl(okta.rp).url, server.url);
    const callback = new URL(silent.url);
    expect(callback.href.startsWith(OKTA_CALLBACK)).toBe(true);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('error_description')).toContain('not assigned to Okta');
  });

  it('a deactivated person cannot sign in, and deactivation ends their session and tokens at once', async () => {
    const carol = await enrolledPerson(server, 'carol@example.com', okta.group.id);
    const first = await login({}, carol.authenticator);
    const tokens = await oidc.authorizationCodeGrant(okta.rp, new URL(first.callbackUrl), { expectedNonce: first.nonce, expectedState: first.state });
    await server.services.identities.update(carol.identity.id, { active: false }, CLI_ACTOR);
    const userinfo = await fetch(`${server.url}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(userinfo.status).toBe(401);
    // The same browser (session cookie) does not get back in silently either.
    const silent = await follow(first.jar, authorizationUrl(okta.rp).url, server.url);
    expect(silent.url).toContain('/interaction/');
    const again = await login({}, carol.authenticator);
    expect(again.verify.status).toBe(403);
    expect(again.verify.body.error).toBe('inactive');
    expect(new URL(again.callbackUrl).searchParams.get('error')).toBe('access_denied');
  });

  /** Authorization and the passkey step, stopping before the browser follows the redirect to the resume. */
  async function passkeyStepOnly(authenticator: SoftAuthenticator) {
    const jar = new CookieJar();
    const landing = await follow(jar, authorizationUrl(okta.rp).url, server.url);
    const data = pageData(await landing.response.text());
    const verify = await postJson(jar, `${server.url}/interaction/${data.uid}/passkey/verify`, authenticator.authenticate(JSON.parse(data.options)), { origin: server.url, 'x-csrf-token': data.csrf });
    expect(verify.status).toBe(200);
    return { jar, verify };
  }

  it('a person deactivated between the passkey step and the resume gets no code', async () => {
    const dora = await enrolledPerson(server, 'dora@example.com', okta.group.id);
    const { jar, verify } = await passkeyStepOnly(dora.authenticator);
    await server.services.identities.update(dora.identity.id, { active: false }, CLI_ACTOR);
    // The resume would grant on the passkey step's check; deactivation removed the interaction carrying it.
    const resumed = await follow(jar, verify.body.redirect, server.url);
    expect(resumed.url.startsWith(OKTA_CALLBACK)).toBe(false);
    expect(resumed.response.status).toBe(400);
    expect(await resumed.response.text()).toContain('Sign-in could not continue');
  });

  it('a person deactivated after the resume read its interaction is sent back with access_denied, not a server error', async () => {
    const fay = await enrolledPerson(server, 'fay@example.com', okta.group.id);
    const { jar, verify } = await passkeyStepOnly(fay.authenticator);
    // The store write alone, as if it landed after the resume had read the interaction (the
    // service would also remove the interaction, which is the common order of events).
    const stored = (await server.services.store.identities.get(fay.identity.id))!;
    await server.services.store.identities.update({ ...stored, active: false }, stored.version);
    const resumed = await follow(jar, verify.body.redirect, server.url);
    const callback = new URL(resumed.url);
    expect(callback.href.startsWith(OKTA_CALLBACK)).toBe(true);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('code')).toBeNull();
  });

  it('refuses a replayed WebAuthn response', async () => {
    const first = await login();
    expect(first.verify.status).toBe(200);
    const replay = await postJson(first.jar, `${server.url}/interaction/${first.uid}/passkey/verify`, first.assertion, { origin: server.url, 'x-csrf-token': first.csrf });
    // The interaction it finished is over: the same response cannot be posted to it again.
    expect(replay).toEqual({ status: 401, body: { error: 'unauthenticated', error_description: expect.stringContaining('This sign-in attempt has expired') } });
    const fresh = authorizationUrl(okta.rp);
    const jar = new CookieJar();
    const page = await follow(jar, fresh.url, server.url);
    const data = pageData(await page.response.text());
    await postJson(jar, `${server.url}/interaction/${data.uid}/passkey/options`, {}, { origin: server.url, 'x-csrf-token': data.csrf });
    const replayed = await postJson(jar, `${server.url}/interaction/${data.uid}/passkey/verify`, first.assertion, { origin: server.url, 'x-csrf-token': data.csrf });
    expect(replayed.status).toBe(400);
    expect(replayed.body.error).toBe('challenge_invalid');
  });

  it("refuses another person's passkey when a login_hint names someone else", async () => {
    await createPerson(server, 'dave@example.com', { groupId: okta.group.id });
    const { url } = authorizationUrl(okta.rp, { login_hint: 'dave@example.com' });
    const result = await signInOverHttp({ origin: server.url, authorizationUrl: url, authenticator: alice.authenticator, assertionOverrides: { credentialId: [...alice.authenticator.credentials.keys()][0] } });
    expect(result.verify.status).toBe(400);
    expect(result.verify.body).toMatchObject({ error: 'passkey_invalid', error_description: expect.stringContaining('belongs to another account') });
  });

  it('refuses an assertion made for another origin', async () => {
    const result = await signInOverHttp({ origin: server.url, authorizationUrl: authorizationUrl(okta.rp).url, authenticator: alice.authenticator, assertionOverrides: { origin: 'https://evil.example' } });
    expect(result.verify.status).toBe(400);
    expect(result.verify.body.error).toBe('passkey_invalid');
    expect(result.verify.body.error_description).toMatch(/origin/i);
  });

  it('refuses a signature counter that goes backwards', async () => {
    const erin = await enrolledPerson(server, 'erin@example.com', okta.group.id);
    expect((await login({}, erin.authenticator)).verify.status).toBe(200);
    expect((await login({}, erin.authenticator)).verify.status).toBe(200);
    const regressed = await signInOverHttp({ origin: server.url, authorizationUrl: authorizationUrl(okta.rp).url, authenticator: erin.authenticator, assertionOverrides: { counter: 1 } });
    expect(regressed.verify.status).toBe(400);
    expect(regressed.verify.body.error).toBe('counter_regression');
    const [event] = await server.services.audit.list({ actor: `identity:${erin.identity.id}`, kind: 'auth', limit: 1 });
    expect(event).toMatchObject({ action: 'signin.failure', outcome: 'failure', detail: { reason: 'counter_regression' } });
  });

  it('refuses ceremony requests without the CSRF token or from another origin', async () => {
    const jar = new CookieJar();
    const page = await follow(jar, authorizationUrl(okta.rp).url, server.url);
    const data = pageData(await page.response.text());
    const noToken = await postJson(jar, `${server.url}/interaction/${data.uid}/passkey/options`, {}, { origin: server.url });
    expect(noToken.status).toBe(403);
    const foreign = await postJson(jar, `${server.url}/interaction/${data.uid}/passkey/options`, {}, { origin: 'https://evil.example', 'x-csrf-token': data.csrf });
    expect(foreign.status).toBe(403);
  });

  it('serves the login page with a strict CSP and refuses framing', async () => {
    const jar = new CookieJar();
    const page = await follow(jar, authorizationUrl(okta.rp).url, server.url);
    expect(page.response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.response.headers.get('x-frame-options')).toBe('DENY');
    const cookies = (await browse(new CookieJar(), authorizationUrl(okta.rp).url)).headers.getSetCookie();
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) {
      expect(cookie.toLowerCase()).toContain('httponly');
      expect(cookie.toLowerCase()).toContain('samesite=lax');
    }
  });

  it('answers response_mode=form_post with an auto-submitting page the CSP allows, posting only to the client', async () => {
    const result = await login({ response_mode: 'form_post' });
    const page = await result.final!.text();
    expect(page).toContain(`action="${OKTA_CALLBACK}"`);
    expect(page).toMatch(/name="code" value="[^"]+"/);
    const csp = result.final!.headers.get('content-security-policy')!;
    expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("form-action 'self' http://127.0.0.1:9;");
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it('stores codes and access tokens only as hashes', async () => {
    const { callbackUrl } = await login();
    const code = new URL(callbackUrl).searchParams.get('code')!;
    const issued = await tokenRequest(server, { grant_type: 'authorization_code', code, redirect_uri: OKTA_CALLBACK }, [okta.app.id, okta.clientSecret]);
    const accessToken = issued.body.access_token as string;
    const now = Date.now();
    expect(await server.services.store.oidc.find('AccessToken', accessToken, now)).toBeNull();
    expect(await server.services.store.oidc.find('AuthorizationCode', code, now)).toBeNull();
    const stored = await server.services.store.oidc.find('AccessToken', hashToken(accessToken), now);
    expect(stored).not.toBeNull();
    expect(JSON.stringify(stored)).not.toContain(accessToken);
    expect((await fetch(`${server.url}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(200);
  });

  it('rotates signing keys: the next key is published at once but signs only after activation; the old key stays published', async () => {
    const before = (await (await fetch(`${server.url}/jwks`)).json()) as { keys: Array<{ kid: string }> };
    const rotated = await server.services.signingKeys.rotate({ immediately: false }, CLI_ACTOR);
    await server.app.oidc.refreshKeys();
    const after = (await (await fetch(`${server.url}/jwks`)).json()) as { keys: Array<{ kid: string; d?: string }> };
    expect(after.keys.map((key) => key.kid)).toEqual([before.keys[0].kid, rotated.kid]);
    expect(after.keys.every((key) => key.d === undefined)).toBe(true);
    const staged = await login();
    const stagedTokens = await oidc.authorizationCodeGrant(okta.rp, new URL(staged.callbackUrl), { expectedNonce: staged.nonce, expectedState: staged.state });
    expect(decodeProtectedHeader(stagedTokens.id_token!).kid).toBe(before.keys[0].kid);

    await server.services.signingKeys.rotate({ immediately: true }, CLI_ACTOR);
    await server.app.oidc.refreshKeys();
    const { callbackUrl, nonce, state } = await login();
    const tokens = await oidc.authorizationCodeGrant(okta.rp, new URL(callbackUrl), { expectedNonce: nonce, expectedState: state });
    expect(decodeProtectedHeader(tokens.id_token!).kid).toBe(rotated.kid);
    expect(decodeJwt(tokens.id_token!).sub).toBe(alice.identity.id);
    expect(((await (await fetch(`${server.url}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid)).toEqual([rotated.kid, before.keys[0].kid]);
  });
});
