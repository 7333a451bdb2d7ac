/** Rate limits answer in each protocol's own error shape, with a Retry-After in whole seconds. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.ts';

describe('rate limits', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { SCIM_RATE_LIMIT_PER_SECOND: '3', SIGNIN_RATE_LIMIT_PER_MINUTE: '3' } });
  });
  afterAll(async () => server?.close());

  it('SCIM: 429 with the SCIM error schema and an integer Retry-After, per token', async () => {
    const { token } = await server.services.scimTokens.create({ name: 'Okta SCIM Token' }, 'test');
    const { token: other } = await server.services.scimTokens.create({ name: 'Second token' }, 'test');
    const get = (bearer: string) => fetch(`${server.url}/scim/v2/Users?filter=${encodeURIComponent('userName eq "x@example.com"')}`, { headers: { authorization: `Bearer ${bearer}` } });
    const responses = await Promise.all(Array.from({ length: 6 }, () => get(token)));
    const limited = responses.filter((response) => response.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(3);
    expect(limited[0].headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await limited[0].json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '429' });
    expect((await get(other)).status).toBe(200);
  });
});
