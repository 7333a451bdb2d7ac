/**
 * Adding a passkey from the dashboard needs a fresh passkey ceremony in the same flow: options,
 * then the assertion with the request. No assertion, a replayed one, another person's passkey or a
 * challenge older than 5 minutes mints no link. Over HTTP, on both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { enrolledPerson } from '../support/okta-fixture.ts';
import { browse, CookieJar, postJson, signInOverHttp } from '../support/http-login.ts';
import type { SoftAuthenticator } from '../support/soft-authenticator.ts';

describe.each(STORE_KINDS)('step-up before adding a passkey (%s)', (kind) => {
  let server: TestServer;
  let offset = 0;
  const clock = { now: () => Date.now() + offset };

  beforeAll(async () => {
    server = await startTestServer({ store: kind, clock });
  });
  afterAll(async () => server?.close());

  async function dashboardOf(authenticator: SoftAuthenticator) {
    const jar = new CookieJar();
    const login = await signInOverHttp({ origin: server.url, authorizationUrl: `${server.url}/login`, authenticator, jar });
    expect(login.verify.status).toBe(200);
    const csrf = /data-csrf="([^"]+)"/.exec(await (await browse(jar, `${server.url}/`)).text())![1];
    const post = (path: string, body: unknown) => postJson(jar, `${server.url}${path}`, body, { origin: server.url, 'x-csrf-token': csrf, accept: 'application/json' });
    return { post };
  }

  it('mints a link only with a fresh assertion of one of the person’s own passkeys', async () => {
    const erin = await enrolledPerson(server, `erin-${kind}@acme.test`);
    const mallory = await enrolledPerson(server, `mallory-${kind}@acme.test`);
    const dashboard = await dashboardOf(erin.authenticator);
    const invites = async () => (await server.services.invites.list(erin.identity.id)).length;
    const before = await invites();

    const bare = await dashboard.post('/api/me/passkeys/new', {});
    expect(bare.status).toBe(403);
    expect(bare.body.error_description).toMatch(/fresh passkey check/);

    const { body: { options } } = await dashboard.post('/api/me/passkeys/new/options', {});
    expect(options.userVerification).toBe('required');
    expect(options.allowCredentials.map((credential: { id: string }) => credential.id)).toEqual((await server.services.passkeys.listFor(erin.identity.id)).map((passkey) => passkey.id));
    const foreign = mallory.authenticator.authenticate({ ...options, allowCredentials: [] });
    expect((await dashboard.post('/api/me/passkeys/new', { assertion: foreign })).status).toBe(400);

    const { body: second } = await dashboard.post('/api/me/passkeys/new/options', {});
    const assertion = erin.authenticator.authenticate(second.options);
    const minted = await dashboard.post('/api/me/passkeys/new', { assertion });
    expect(minted.status).toBe(200);
    expect(minted.body.url).toMatch(new RegExp(`^${server.url}/enroll/`));
    // The challenge was spent: the same assertion cannot mint a second link.
    expect((await dashboard.post('/api/me/passkeys/new', { assertion })).status).toBe(400);

    // A challenge older than 5 minutes has expired.
    const { body: late } = await dashboard.post('/api/me/passkeys/new/options', {});
    offset += 5 * 60_000 + 1_000;
    expect((await dashboard.post('/api/me/passkeys/new', { assertion: erin.authenticator.authenticate(late.options) })).status).toBe(400);
    expect(await invites()).toBe(before + 1);
    const events = await server.services.audit.list({ target: `identity:${erin.identity.id}`, limit: 50 });
    expect(events.filter((event) => event.action === 'stepup.success')).toHaveLength(1);
    expect(events.filter((event) => event.action === 'stepup.failure').length).toBeGreaterThanOrEqual(3);
  });
});
