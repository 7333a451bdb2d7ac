/**
 * The signing-key lifecycle seen from a relying party, on both stores: JWKS caching headers,
 * staged rotation that activates by itself, a JWKS cached before activation that still verifies,
 * revocation that refuses tokens at once, and the emergency rotation's warning.
 * KEY_ACTIVATION_DELAY is 10 s here (the minimum), so the JWKS max-age is 2 s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { authorizationUrl, enrolledPerson, setUpOkta } from '../support/okta-fixture.ts';
import { signInOverHttp } from '../support/http-login.ts';
import { KEY_PROPAGATION_MS } from '../../server/domain/signing-keys.ts';
import { TOKEN_LIFETIME_MS } from '../../server/bootstrap.ts';
import { movableClock } from '../support/clock.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

const ACTIVATION_DELAY_MS = 10_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(STORE_KINDS)('signing keys on %s', (store) => {
  let server: TestServer;
  let okta: Awaited<ReturnType<typeof setUpOkta>>;
  let alice: Awaited<ReturnType<typeof enrolledPerson>>;

  beforeAll(async () => {
    server = await startTestServer({ store, env: { KEY_ACTIVATION_DELAY: '10s' } });
    okta = await setUpOkta(server);
    alice = await enrolledPerson(server, 'alice@example.com', okta.group.id);
  });
  afterAll(async () => server?.close());

  const fetchJwks = async () => {
    const response = await fetch(`${server.url}/jwks`);
    return { at: Date.now(), cacheControl: response.headers.get('cache-control'), jwks: (await response.json()) as JSONWebKeySet & { keys: Array<{ kid: string }> } };
  };
  const kidsOf = async () => (await fetchJwks()).jwks.keys.map((key) => key.kid);

  async function signIn() {
    const request = authorizationUrl(okta.rp);
    const login = await signInOverHttp({ origin: server.url, authorizationUrl: request.url, authenticator: alice.authenticator });
    const tokens = await oidc.authorizationCodeGrant(okta.rp, new URL(login.callbackUrl), { expectedNonce: request.nonce, expectedState: request.state });
    return { idToken: tokens.id_token!, accessToken: tokens.access_token, kid: decodeProtectedHeader(tokens.id_token!).kid! };
  }

  async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, withinMs: number): Promise<T> {
    const deadline = Date.now() + withinMs;
    let value = await read();
    while (!ok(value) && Date.now() < deadline) {
      await sleep(50);
      value = await read();
    }
    return value;
  }

  it('sends Cache-Control max-age on /jwks and discovery, short enough that a cached copy expires before a rotated key signs', async () => {
    const jwks = await fetchJwks();
    const discovery = await fetch(`${server.url}/.well-known/openid-configuration`);
    expect(jwks.cacheControl).toBe('public, max-age=2');
    expect(discovery.headers.get('cache-control')).toBe('public, max-age=2');
    expect(2_000 + KEY_PROPAGATION_MS).toBeLessThan(ACTIVATION_DELAY_MS);
  });

  it('a rotated key is published at once, signs only at its activation time without any admin action, and a JWKS cached before then verifies its tokens', async () => {
    const before = await fetchJwks();
    const oldKid = before.jwks.keys[0].kid;
    const rotatedAt = Date.now();
    const rotated = await server.services.signingKeys.rotate({ immediately: false }, CLI_ACTOR);
    expect(rotated.activatesAt).toBeGreaterThanOrEqual(rotatedAt + ACTIVATION_DELAY_MS);
    // The relying party's copy from before the rotation expires (max-age) before the new key signs.
    expect(before.at + 2_000).toBeLessThan(rotated.activatesAt);

    const published = await until(fetchJwks, (value) => value.jwks.keys.some((key) => key.kid === rotated.kid), KEY_PROPAGATION_MS);
    expect(published.jwks.keys.map((key) => key.kid)).toEqual([oldKid, rotated.kid]);
    const staged = await signIn();
    expect(staged.kid).toBe(oldKid);
    expect((await server.services.signingKeys.list()).map((key) => [key.kid, key.status])).toEqual([[oldKid, 'current'], [rotated.kid, 'next']]);

    await sleep(Math.max(0, rotated.activatesAt - Date.now()) + 300);
    const activated = await signIn();
    expect(activated.kid).toBe(rotated.kid);
    // Verified with the copy a relying party cached before activation: it already had the key.
    const { payload } = await jwtVerify(activated.idToken, createLocalJWKSet(published.jwks), { issuer: server.url, audience: okta.app.id });
    expect(payload.sub).toBe(alice.identity.id);
    // The old key stays published for the tokens it signed; they still verify against the live JWKS.
    expect(await kidsOf()).toEqual([rotated.kid, oldKid]);
    await jwtVerify(staged.idToken, createLocalJWKSet((await fetchJwks()).jwks), { issuer: server.url, audience: okta.app.id });
    expect((await server.services.signingKeys.list()).map((key) => [key.kid, key.status])).toEqual([[oldKid, 'previous'], [rotated.kid, 'current']]);
  }, 30_000);

  it('revoking the signing key unpublishes it and refuses the access tokens issued with it at once; a replacement signs', async () => {
    const issued = await signIn();
    expect((await fetch(`${server.url}/userinfo`, { headers: { authorization: `Bearer ${issued.accessToken}` } })).status).toBe(200);

    const revoked = await server.services.signingKeys.revoke(issued.kid, CLI_ACTOR);
    expect(revoked.replacement?.kid).toEqual(expect.any(String));
    expect(revoked.risk).toMatch(/cannot verify ID tokens signed with the new key/);
    const userinfo = await fetch(`${server.url}/userinfo`, { headers: { authorization: `Bearer ${issued.accessToken}` } });
    expect(userinfo.status).toBe(401);
    expect(userinfo.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);

    const kids = await until(kidsOf, (value) => !value.includes(issued.kid), KEY_PROPAGATION_MS);
    expect(kids).not.toContain(issued.kid);
    expect(kids[0]).toBe(revoked.replacement!.kid);
    const after = await signIn();
    expect(after.kid).toBe(revoked.replacement!.kid);
    await jwtVerify(after.idToken, createLocalJWKSet((await fetchJwks()).jwks), { issuer: server.url, audience: okta.app.id });
    expect((await fetch(`${server.url}/userinfo`, { headers: { authorization: `Bearer ${after.accessToken}` } })).status).toBe(200);
    expect((await server.services.signingKeys.list()).find((key) => key.kid === issued.kid)?.status).toBe('revoked');
    // Revoking again changes nothing and says so; an unknown kid is refused by name.
    expect((await server.services.signingKeys.revoke(issued.kid, CLI_ACTOR)).alreadyRevoked).toBe(true);
    await expect(server.services.signingKeys.revoke('no-such-kid', CLI_ACTOR)).rejects.toThrow(/no signing key with kid "no-such-kid"/);
  });

  it('revoking a waiting next key drops it before it ever signs', async () => {
    const current = (await fetchJwks()).jwks.keys[0].kid;
    const rotated = await server.services.signingKeys.rotate({ immediately: false }, CLI_ACTOR);
    await until(kidsOf, (value) => value.includes(rotated.kid), KEY_PROPAGATION_MS);
    const revoked = await server.services.signingKeys.revoke(rotated.kid, CLI_ACTOR);
    expect(revoked.replacement).toBeNull();
    expect(await until(kidsOf, (value) => !value.includes(rotated.kid), KEY_PROPAGATION_MS)).not.toContain(rotated.kid);
    expect((await signIn()).kid).toBe(current);
  });

  it('rotate immediately signs with a new key at once and says what that risks; a waiting next key is promoted instead of a new one', async () => {
    const now = await server.services.signingKeys.rotate({ immediately: true }, CLI_ACTOR);
    expect(now.risk).toMatch(/Relying parties that cached the JWKS \(Cache-Control max-age 2 s\)/);
    await until(kidsOf, (value) => value[0] === now.kid, KEY_PROPAGATION_MS);
    expect((await signIn()).kid).toBe(now.kid);

    const staged = await server.services.signingKeys.rotate({ immediately: false }, CLI_ACTOR);
    await expect(server.services.signingKeys.rotate({ immediately: false }, CLI_ACTOR)).rejects.toThrow(/already waiting to sign/);
    const promoted = await server.services.signingKeys.rotate({ immediately: true }, CLI_ACTOR);
    expect(promoted.kid).toBe(staged.kid);
    await until(kidsOf, (value) => value[0] === staged.kid, KEY_PROPAGATION_MS);
    expect((await signIn()).kid).toBe(staged.kid);
  });
});

describe.each(STORE_KINDS)('key retirement on %s', (store) => {
  let server: TestServer;
  let okta: Awaited<ReturnType<typeof setUpOkta>>;
  let alice: Awaited<ReturnType<typeof enrolledPerson>>;
  const clock = movableClock();

  beforeAll(async () => {
    server = await startTestServer({ store, clock });
    okta = await setUpOkta(server);
    alice = await enrolledPerson(server, 'alice@example.com', okta.group.id);
  });
  afterAll(async () => server?.close());

  const liveJwks = async () => (await (await fetch(`${server.url}/jwks`)).json()) as JSONWebKeySet & { keys: Array<{ kid: string }> };
  const verify = async (idToken: string) => jwtVerify(idToken, createLocalJWKSet(await liveJwks()), { issuer: server.url, audience: okta.app.id, currentDate: new Date() });

  it('the old key keeps verifying its tokens for a token lifetime after it stopped signing, then is retired from the JWKS', async () => {
    const request = authorizationUrl(okta.rp);
    const login = await signInOverHttp({ origin: server.url, authorizationUrl: request.url, authenticator: alice.authenticator });
    const tokens = await oidc.authorizationCodeGrant(okta.rp, new URL(login.callbackUrl), { expectedNonce: request.nonce, expectedState: request.state });
    const oldKid = decodeProtectedHeader(tokens.id_token!).kid!;

    const rotated = await server.services.signingKeys.rotate({ immediately: true }, CLI_ACTOR);
    await server.app.oidc.refreshKeys(); // what the change notification does within KEY_PROPAGATION_MS
    expect((await liveJwks()).keys.map((key) => key.kid)).toEqual([rotated.kid, oldKid]);

    // Just before the retention ends (a token lifetime and ten minutes): still published, still verifies.
    clock.advance(TOKEN_LIFETIME_MS + 9 * 60_000);
    await server.app.oidc.refreshKeys(); // the watcher's own timer, which the moved clock does not fire
    expect((await verify(tokens.id_token!)).payload.sub).toBe(alice.identity.id);
    expect((await server.services.signingKeys.list()).map((key) => [key.kid, key.status])).toEqual([[oldKid, 'previous'], [rotated.kid, 'current']]);

    clock.advance(2 * 60_000);
    await server.app.oidc.refreshKeys();
    expect((await liveJwks()).keys.map((key) => key.kid)).toEqual([rotated.kid]);
    await expect(verify(tokens.id_token!)).rejects.toThrow(/no applicable key found/i);
    expect((await server.services.signingKeys.list()).map((key) => key.kid)).not.toContain(oldKid);
  });
});
