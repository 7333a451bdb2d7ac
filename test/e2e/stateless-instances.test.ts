/**
 * Production shape: two identical server processes (what `npm start` runs) on one Redis behind a
 * round-robin balancer. Every step of a sign-in lands on the other instance than the step before,
 * so nothing may live in an instance's memory: sessions, interactions, challenges, codes, cookie
 * and signing keys are all in the store. Set-up goes through the store from the test process, as
 * the CLI does beside running servers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { authorizationUrl, enrolledPerson, setUpOkta, OKTA_CALLBACK } from '../support/okta-fixture.ts';
import { signInOverHttp } from '../support/http-login.ts';
import { startTwoServerProcesses, type TwoProcesses } from '../support/round-robin.ts';

describe('two stateless server processes on Redis behind a balancer', () => {
  let pair: TwoProcesses;

  beforeAll(async () => {
    pair = await startTwoServerProcesses();
  });
  afterAll(async () => pair?.close());

  it('enrolls and signs in with every request alternating between the two processes', async () => {
    const [first, second] = pair.processes;
    expect(first.child.pid).not.toBe(second.child.pid);
    const okta = await setUpOkta(pair);
    const enrollingFrom = [...pair.balancer.counts];
    const person = await enrolledPerson(pair, 'roaming@example.com', okta.group.id);
    // The enrollment ceremony (page, options, verify) crossed the instances too.
    expect(pair.balancer.counts[0]).toBeGreaterThan(enrollingFrom[0]);
    expect(pair.balancer.counts[1]).toBeGreaterThan(enrollingFrom[1]);

    const signingFrom = [...pair.balancer.counts];
    const request = authorizationUrl(okta.rp, { login_hint: 'roaming@example.com' });
    const login = await signInOverHttp({ origin: pair.url, authorizationUrl: request.url, authenticator: person.authenticator });
    expect(login.verify.status).toBe(200);
    expect(login.callbackUrl.startsWith(OKTA_CALLBACK)).toBe(true);
    const tokens = await oidc.authorizationCodeGrant(okta.rp, new URL(login.callbackUrl), { expectedNonce: request.nonce, expectedState: request.state });
    expect(tokens.claims()!.sub).toBe(person.identity.id);
    expect((await oidc.fetchUserInfo(okta.rp, tokens.access_token, person.identity.id)).email).toBe('roaming@example.com');
    expect(pair.balancer.counts[0] - signingFrom[0]).toBeGreaterThanOrEqual(3);
    expect(pair.balancer.counts[1] - signingFrom[1]).toBeGreaterThanOrEqual(3);
    // Both processes are still the ones that started (nothing was restarted to get here).
    expect(first.child.exitCode).toBeNull();
    expect(second.child.exitCode).toBeNull();
  });
});
