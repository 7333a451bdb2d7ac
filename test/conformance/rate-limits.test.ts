/** Rate limits answer in each protocol's own error shape, with a Retry-After in whole seconds. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

describe('rate limits', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { SCIM_RATE_LIMIT_PER_SECOND: '3', SIGNIN_RATE_LIMIT_PER_MINUTE: '3' } });
  });
  afterAll(async () => server?.close());

  it('SCIM: 429 with the SCIM error schema and an integer Retry-After, per token', async () => {
    const { token } = await server.services.scimTokens.create({ name: 'Okta SCIM Token' }, CLI_ACTOR);
    const { token: other } = await server.services.scimTokens.create({ name: 'Second token' }, CLI_ACTOR);
    const get = (bearer: string) => fetch(`${server.url}/scim/v2/Users?filter=${encodeURIComponent('userName eq "x@example.com"')}`, { headers: { authorization: `Bearer ${bearer}` } });
    const responses = await Promise.all(Array.from({ length: 6 }, () => get(token)));
    const limited = responses.filter((response) => response.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(3);
    expect(limited[0].headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await limited[0].json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '429' });
    expect((await get(other)).status).toBe(200);
  });
});

describe('sign-in rate limit', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { SIGNIN_RATE_LIMIT_PER_MINUTE: '3' } });
  });
  afterAll(async () => server?.close());

  it('passkey ceremony requests beyond the budget get 429 with Retry-After', async () => {
    const { setUpOkta, authorizationUrl } = await import('../support/okta-fixture.ts');
    const { CookieJar, follow, pageData, postJson } = await import('../support/http-login.ts');
    const okta = await setUpOkta(server);
    const jar = new CookieJar();
    const page = await follow(jar, authorizationUrl(okta.rp).url, server.url);
    const data = pageData(await page.response.text());
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      statuses.push((await postJson(jar, `${server.url}/interaction/${data.uid}/passkey/options`, {}, { origin: server.url, 'x-csrf-token': data.csrf })).status);
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([429, 429]);
  });
});
