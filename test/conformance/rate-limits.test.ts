/**
 * Rate limits answer in each protocol's own error shape, with a Retry-After in whole seconds:
 * SCIM per bearer token and second; passkey sign-in and enrollment ceremonies per client address
 * and minute, one budget for both; the client address is X-Forwarded-For only with TRUST_PROXY;
 * `0` turns a limit off. On both stores (the SCIM budget is counted after the token is checked
 * against the store).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { authorizationUrl, setUpOkta } from '../support/okta-fixture.ts';
import { browse, CookieJar, follow, pageData } from '../support/http-login.ts';
import { createPerson, createScimToken } from '../support/builders.ts';
import { SCIM } from '../support/scim.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

const scimLookup = (server: TestServer, bearer: string) =>
  fetch(`${server.url}/scim/v2/Users?filter=${encodeURIComponent('userName eq "x@example.com"')}`, { headers: { authorization: `Bearer ${bearer}` } });

/** A login page's ceremony endpoint, called as its script does (CSRF token, our Origin). */
async function signInCeremony(server: TestServer) {
  const okta = await setUpOkta(server);
  const jar = new CookieJar();
  const page = await follow(jar, authorizationUrl(okta.rp).url, server.url);
  const data = pageData(await page.response.text());
  return () => ceremonyCall(jar, `${server.url}/interaction/${data.uid}/passkey/options`, { origin: server.url, 'x-csrf-token': data.csrf });
}

async function ceremonyCall(jar: CookieJar, url: string, headers: Record<string, string>) {
  const response = await browse(jar, url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as any };
}

/** An enrollment link's ceremony endpoint, called as its page's script does. */
async function enrollmentCeremony(server: TestServer, userName: string, headers: Record<string, string> = {}) {
  const person = await createPerson(server, userName);
  const { url } = await server.services.invites.issue(person, { actor: CLI_ACTOR, delivery: 'link' });
  const jar = new CookieJar();
  const page = await browse(jar, url, { headers });
  expect(page.status).toBe(200);
  const data = pageData(await page.text());
  return () => ceremonyCall(jar, `${url}/options`, { origin: server.url, 'x-csrf-token': data.csrf, ...headers });
}

function expectRateLimited(answer: { status: number; body: any; retryAfter: string | null }) {
  const { retryAfter } = answer;
  expect(answer.status).toBe(429);
  expect(retryAfter).toMatch(/^\d+$/);
  const seconds = Number(retryAfter);
  expect(seconds).toBeGreaterThanOrEqual(1);
  expect(seconds).toBeLessThanOrEqual(60);
  expect(answer.body).toEqual({ error: 'rate_limited', error_description: `Too many attempts. Wait ${seconds} seconds and try again.` });
}

describe.each(STORE_KINDS)('rate limits (%s)', (store) => {
  let limited: TestServer;
  let behindProxy: TestServer;
  let unlimited: TestServer;

  beforeAll(async () => {
    limited = await startTestServer({ store, env: { SCIM_RATE_LIMIT_PER_SECOND: '3', SIGNIN_RATE_LIMIT_PER_MINUTE: '3' } });
    behindProxy = await startTestServer({ store, env: { SIGNIN_RATE_LIMIT_PER_MINUTE: '3', TRUST_PROXY: 'true' } });
    unlimited = await startTestServer({ store, env: { SCIM_RATE_LIMIT_PER_SECOND: '0', SIGNIN_RATE_LIMIT_PER_MINUTE: '0' } });
  });
  afterAll(async () => {
    await limited?.close();
    await behindProxy?.close();
    await unlimited?.close();
  });

  it('SCIM: exactly the requests beyond 3 a second get 429 with the SCIM error schema and Retry-After: 1, per token', async () => {
    // The window is one second from the first request: a burst that took longer (a loaded
    // machine) spans two windows and proves nothing, so it is repeated with a fresh token.
    for (let attempt = 1; ; attempt++) {
      const { token } = await createScimToken(limited, `Burst ${attempt}`);
      const started = Date.now();
      const responses = await Promise.all(Array.from({ length: 6 }, () => scimLookup(limited, token)));
      if (Date.now() - started >= 1000 && attempt < 5) continue;
      expect(responses.map((response) => response.status).sort()).toEqual([200, 200, 200, 429, 429, 429]);
      for (const response of responses.filter((candidate) => candidate.status === 429)) {
        expect(response.headers.get('retry-after')).toBe('1');
        expect(await response.json()).toEqual({ schemas: [SCIM.error], status: '429', detail: expect.stringMatching(/\S/) });
      }
      break;
    }
    const { token: other } = await createScimToken(limited, 'Another token');
    expect((await scimLookup(limited, other)).status).toBe(200);
  });

  it('sign-in: the 4th and 5th ceremony requests of a client in a minute get 429 with Retry-After in whole seconds', async () => {
    const ceremony = await signInCeremony(limited);
    const answers = [];
    for (let attempt = 0; attempt < 5; attempt++) answers.push(await ceremony());
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 429, 429]);
    for (const answer of answers.slice(3)) expectRateLimited(answer);
    expect(answers[0].retryAfter).toBeNull();
  });

  it('sign-in and enrollment share the budget; without TRUST_PROXY, X-Forwarded-For does not buy a new one', async () => {
    // The previous case spent 127.0.0.1's budget on this server.
    const enroll = await enrollmentCeremony(limited, 'shared-budget@example.com', { 'x-forwarded-for': '198.51.100.7' });
    expectRateLimited(await enroll());
  });

  it('enrollment ceremonies are limited per client address; with TRUST_PROXY that address is X-Forwarded-For', async () => {
    const first = await enrollmentCeremony(behindProxy, 'proxied-1@example.com', { 'x-forwarded-for': '198.51.100.1' });
    const answers = [];
    for (let attempt = 0; attempt < 5; attempt++) answers.push(await first());
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 429, 429]);
    expectRateLimited(answers[4]);
    // Another client behind the same balancer (same socket address) has its own budget.
    const second = await enrollmentCeremony(behindProxy, 'proxied-2@example.com', { 'x-forwarded-for': '198.51.100.2' });
    expect((await second()).status).toBe(200);
  });

  it('0 turns both limits off', async () => {
    const ceremony = await signInCeremony(unlimited);
    const enroll = await enrollmentCeremony(unlimited, 'unlimited@example.com');
    const { token } = await createScimToken(unlimited);
    const statuses = [];
    for (let attempt = 0; attempt < 8; attempt++) statuses.push((await ceremony()).status, (await enroll()).status);
    statuses.push(...(await Promise.all(Array.from({ length: 12 }, () => scimLookup(unlimited, token)))).map((response) => response.status));
    expect(statuses).toEqual(Array.from({ length: 28 }, () => 200));
  });
});
