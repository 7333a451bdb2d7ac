/**
 * Issue 10's measurement, as a test: two instances on one Redis behind a round-robin balancer,
 * people signing in continuously, and a staged key rotation in the middle. Every instance's /jwks
 * is polled on its own port; for EVERY ID token issued, its kid must have been published by BOTH
 * instances before the token request was sent. Zero failed sign-ins.
 * KEY_ACTIVATION_DELAY is 10 s so the new key starts signing while the load runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import type { TestServer } from '../support/test-server.ts';
import { authorizationUrl, enrolledPerson, setUpOkta } from '../support/okta-fixture.ts';
import { signInOverHttp } from '../support/http-login.ts';
import { startTwoRedisInstances, type TwoInstances } from '../support/round-robin.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

const WORKERS = 3;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls one instance's /jwks; remembers when each kid was first seen (time the answer arrived). */
function watchJwks(base: string) {
  const firstSeen = new Map<string, number>();
  const keys = new Map<string, JSONWebKeySet['keys'][number]>();
  let stopped = false;
  let polls = 0;
  const done = (async () => {
    while (!stopped) {
      const response = await fetch(`${base}/jwks`);
      const body = (await response.json()) as JSONWebKeySet;
      const at = Date.now();
      polls++;
      for (const key of body.keys) {
        if (!firstSeen.has(key.kid!)) firstSeen.set(key.kid!, at);
        keys.set(key.kid!, key);
      }
      await sleep(25);
    }
  })();
  return { firstSeen, keys, polls: () => polls, stop: async () => ((stopped = true), await done) };
}

describe('key rotation under sign-in load on two instances', () => {
  let pair: TwoInstances;
  let balancer: TwoInstances['balancer'];
  let a: TestServer;

  beforeAll(async () => {
    // Sign-ins run as fast as the machine allows from one address: measure rotation, not the limiter.
    pair = await startTwoRedisInstances({ KEY_ACTIVATION_DELAY: '10s', SIGNIN_RATE_LIMIT_PER_MINUTE: '0' });
    ({ balancer, a } = pair);
  });
  afterAll(async () => pair?.close());

  it('every ID token is signed with a key both instances already published; no sign-in fails', async () => {
    const okta = await setUpOkta(a);
    const people: Array<Awaited<ReturnType<typeof enrolledPerson>>> = [];
    // One person (one passkey) per worker: a passkey's counter allows one sign-in at a time.
    for (let index = 0; index < WORKERS; index++) people.push(await enrolledPerson(a, `load-${index}@example.com`, okta.group.id));
    const watchers = balancer.backends.map((base) => watchJwks(base));
    // Both instances answered at least once before the load starts.
    while (watchers.some((watcher) => watcher.firstSeen.size === 0)) await sleep(25);
    const oldKid = [...watchers[0].firstSeen.keys()][0];

    const issued: Array<{ kid: string; sentAt: number; idToken: string }> = [];
    const failures: string[] = [];
    let rotation: { kid: string; activatesAt: number } | null = null;
    let stopAt = Number.POSITIVE_INFINITY;

    async function worker(person: (typeof people)[number]) {
      while (Date.now() < stopAt) {
        try {
          const request = authorizationUrl(okta.rp);
          const login = await signInOverHttp({ origin: balancer.url, authorizationUrl: request.url, authenticator: person.authenticator });
          if (login.verify.status !== 200) throw new Error(`passkey step answered ${login.verify.status}: ${JSON.stringify(login.verify.body)}`);
          const sentAt = Date.now();
          const tokens = await oidc.authorizationCodeGrant(okta.rp, new URL(login.callbackUrl), { expectedNonce: request.nonce, expectedState: request.state });
          issued.push({ kid: decodeProtectedHeader(tokens.id_token!).kid!, sentAt, idToken: tokens.id_token! });
        } catch (error) {
          failures.push(String(error));
        }
      }
    }

    const load = Promise.all(people.map((person) => worker(person)));
    // The rotation lands on a running load: every worker has had a token signed with the old key.
    while (issued.length < WORKERS && failures.length === 0) await sleep(25);
    // Rotated through instance A; instance B hears of it only through Redis.
    const rotated = await a.services.signingKeys.rotate({ immediately: false }, CLI_ACTOR);
    rotation = { kid: rotated.kid, activatesAt: rotated.activatesAt };
    stopAt = rotated.activatesAt + 4_000;
    await load;
    for (const watcher of watchers) await watcher.stop();

    expect(failures).toEqual([]);
    expect(rotation).not.toBeNull();
    const byKid = (kid: string) => issued.filter((token) => token.kid === kid).length;
    expect(byKid(oldKid)).toBeGreaterThan(0);
    expect(byKid(rotated.kid)).toBeGreaterThan(0);
    expect(byKid(oldKid) + byKid(rotated.kid)).toBe(issued.length);
    const late: string[] = [];
    for (const token of issued) {
      for (const [index, watcher] of watchers.entries()) {
        const seen = watcher.firstSeen.get(token.kid);
        if (seen === undefined || seen > token.sentAt) late.push(`token signed with ${token.kid} at ${token.sentAt}, instance ${index} published it ${seen ?? 'never'}`);
      }
    }
    expect(late).toEqual([]);
    // And each token verifies against what each instance publishes.
    for (const watcher of watchers) {
      const jwks = createLocalJWKSet({ keys: [...watcher.keys.values()] });
      for (const token of issued) await jwtVerify(token.idToken, jwks, { issuer: balancer.url, audience: okta.app.id });
    }
    // The new key was published by both well before it signed (the lead time, not luck).
    for (const watcher of watchers) expect(rotated.activatesAt - watcher.firstSeen.get(rotated.kid)!).toBeGreaterThan(8_000);
    expect(balancer.counts[0]).toBeGreaterThan(10);
    expect(balancer.counts[1]).toBeGreaterThan(10);
  }, 60_000);
});
