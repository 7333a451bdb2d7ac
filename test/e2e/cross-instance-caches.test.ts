/**
 * Instances keep apps in memory between requests (server/caching/app-cache.ts). A change made on
 * one instance must count on every other within a second: here instance A changes an app's
 * redirect URI and rotates its secret, and instance B, whose cache already holds the app, is
 * polled (with a deadline, no fixed sleep) until it honours the change. A person deactivated on A
 * is refused by B at once: identities are never kept beyond one request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import type { AddressInfo } from 'node:net';
import type { TestServer } from '../support/test-server.ts';
import { authorizationUrl, enrolledPerson, setUpOkta, OKTA_CALLBACK } from '../support/okta-fixture.ts';
import { signInOverHttp } from '../support/http-login.ts';
import { startTwoRedisInstances, type TwoInstances } from '../support/round-robin.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

const WITHIN_MS = 1_000;

/** Calls `probe` until it returns true; resolves with the time that took, or fails after `withinMs`. */
async function honouredWithin(probe: () => Promise<boolean>, withinMs = WITHIN_MS): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - started;
    if (Date.now() - started > withinMs) throw new Error(`not honoured within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('caches across two instances on one Redis', () => {
  let pair: TwoInstances;
  let a: TestServer;
  let bUrl: string;
  let okta: Awaited<ReturnType<typeof setUpOkta>>;

  beforeAll(async () => {
    pair = await startTwoRedisInstances();
    a = pair.a;
    bUrl = `http://127.0.0.1:${(pair.b.server.address() as AddressInfo).port}`;
    okta = await setUpOkta(a);
  });
  afterAll(async () => pair?.close());

  /** Where B sends an authorization request for this redirect URI: the login page if it accepts it. */
  const authorizeOnB = async (redirectUri: string) => {
    const url = new URL(authorizationUrl(okta.rp, { redirect_uri: redirectUri }).url);
    const response = await fetch(`${bUrl}/authorize${url.search}`, { redirect: 'manual' });
    return { status: response.status, location: response.headers.get('location') ?? '' };
  };

  /** B's token endpoint with this secret: invalid_client if B refuses the secret, invalid_grant (a made-up code) if it accepts it. */
  const tokenErrorOnB = async (secret: string) => {
    const response = await fetch(`${bUrl}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${okta.app.id}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'not-a-code', redirect_uri: OKTA_CALLBACK }),
    });
    return ((await response.json()) as { error: string }).error;
  };

  it('a redirect URI changed on A counts on B within a second', async () => {
    const moved = 'http://127.0.0.1:9/oauth2/v1/authorize/callback-moved';
    // B reads (and caches) the app with the old redirect URI.
    expect((await authorizeOnB(OKTA_CALLBACK)).location).toContain('/interaction/');
    expect((await authorizeOnB(moved)).location).not.toContain('/interaction/');
    const app = (await a.services.store.apps.get(okta.app.id))!;
    await a.services.store.apps.update({ ...app, redirectUris: [moved], updatedAt: Date.now() });
    const took = await honouredWithin(async () => (await authorizeOnB(moved)).location.includes('/interaction/'));
    expect(took).toBeLessThan(WITHIN_MS);
    expect((await authorizeOnB(OKTA_CALLBACK)).location).not.toContain('/interaction/');
    await a.services.store.apps.update({ ...app, updatedAt: Date.now() });
    await honouredWithin(async () => (await authorizeOnB(OKTA_CALLBACK)).location.includes('/interaction/'));
  });

  it('a secret rotated on A counts on B within a second: the old one is refused, the new one accepted', async () => {
    expect(await tokenErrorOnB(okta.clientSecret)).toBe('invalid_grant');
    const rotated = await a.services.apps.rotateSecret(okta.app.id, CLI_ACTOR);
    const took = await honouredWithin(async () => (await tokenErrorOnB(okta.clientSecret)) === 'invalid_client');
    expect(took).toBeLessThan(WITHIN_MS);
    expect(await tokenErrorOnB(rotated)).toBe('invalid_grant');
    okta.clientSecret = rotated;
  });

  it('a person deactivated on A is refused by B at once', async () => {
    const person = await enrolledPerson(a, 'leaver@example.com', okta.group.id);
    const rp = await oidc.discovery(new URL(a.url), okta.app.id, { client_secret: okta.clientSecret }, oidc.ClientSecretBasic(okta.clientSecret), { execute: [oidc.allowInsecureRequests] });
    const request = authorizationUrl(rp);
    const login = await signInOverHttp({ origin: pair.balancer.url, authorizationUrl: request.url, authenticator: person.authenticator });
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(login.callbackUrl), { expectedNonce: request.nonce, expectedState: request.state });
    const userinfoOnB = () => fetch(`${bUrl}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect((await userinfoOnB()).status).toBe(200);
    await a.services.identities.update(person.identity.id, { active: false }, CLI_ACTOR);
    // No polling: the very next request to B must refuse.
    expect((await userinfoOnB()).status).toBe(401);
  });
});
