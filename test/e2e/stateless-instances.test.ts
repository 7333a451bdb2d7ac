/**
 * Production shape: two identical instances on one Redis behind a round-robin balancer. Every
 * step of a sign-in lands on the other instance than the step before, so nothing may live in an
 * instance's memory: sessions, interactions, challenges, codes, cookie and signing keys are all
 * in the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { dropRedisPrefix, startTestServer, type TestServer } from '../support/test-server.ts';
import { authorizationUrl, enrolledPerson, setUpOkta, OKTA_CALLBACK } from '../support/okta-fixture.ts';
import { signInOverHttp } from '../support/http-login.ts';
import { startRoundRobin } from '../support/round-robin.ts';

describe('two stateless instances on Redis behind a balancer', () => {
  let balancer: Awaited<ReturnType<typeof startRoundRobin>>;
  let a: TestServer;
  let b: TestServer;
  const prefix = `latchkey-test:lb:${Date.now()}:`;

  beforeAll(async () => {
    balancer = await startRoundRobin();
    const env = { PUBLIC_URL: balancer.url, REDIS_KEY_PREFIX: prefix, LATCHKEY_SECRET: 'shared-instance-secret-of-at-least-32-chars' };
    a = await startTestServer({ store: 'redis', env, keepData: true });
    b = await startTestServer({ store: 'redis', env, keepData: true });
    balancer.backends.push(`http://127.0.0.1:${(a.server.address() as AddressInfo).port}`, `http://127.0.0.1:${(b.server.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    balancer?.server.close();
    await dropRedisPrefix(prefix);
  });

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
