/**
 * Production shape: two identical instances on one Redis behind a round-robin balancer. Every
 * step of a sign-in lands on the other instance than the step before, so nothing may live in an
 * instance's memory: sessions, interactions, challenges, codes, cookie and signing keys are all
 * in the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import type { TestServer } from '../support/test-server.ts';
import { authorizationUrl, enrolledPerson, setUpOkta, OKTA_CALLBACK } from '../support/okta-fixture.ts';
import { signInOverHttp } from '../support/http-login.ts';
import { startTwoRedisInstances, type TwoInstances } from '../support/round-robin.ts';

describe('two stateless instances on Redis behind a balancer', () => {
  let pair: TwoInstances;
  let balancer: TwoInstances['balancer'];
  let a: TestServer;

  beforeAll(async () => {
    pair = await startTwoRedisInstances();
    ({ balancer, a } = pair);
  });
  afterAll(async () => pair?.close());

  it('enrolls and signs in with every request alternating between the instances', async () => {
    // Set up through instance A's services; sign in through the balancer.
    const okta = await setUpOkta(a);
    const person = await enrolledPerson(a, 'roaming@example.com', okta.group.id);
    const request = authorizationUrl(okta.rp, { login_hint: 'roaming@example.com' });
    const login = await signInOverHttp({ origin: balancer.url, authorizationUrl: request.url, authenticator: person.authenticator });
    expect(login.verify.status).toBe(200);
    expect(login.callbackUrl.startsWith(OKTA_CALLBACK)).toBe(true);
    const tokens = await oidc.authorizationCodeGrant(okta.rp, new URL(login.callbackUrl), { expectedNonce: request.nonce, expectedState: request.state });
    expect(tokens.claims()!.sub).toBe(person.identity.id);
    expect((await oidc.fetchUserInfo(okta.rp, tokens.access_token, person.identity.id)).email).toBe('roaming@example.com');
    expect(balancer.counts[0]).toBeGreaterThan(3);
    expect(balancer.counts[1]).toBeGreaterThan(3);
  });
});
