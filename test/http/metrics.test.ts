/**
 * GET /metrics as Prometheus scrapes it: guarded by METRICS_TOKEN, absent without it, and the
 * series move with real traffic (a passkey sign-in, a refused one, SCIM writes, a queued job),
 * labelled by route templates, never raw paths or ids; and the store reads a token use makes. Both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { authorizationUrl, enrolledPerson, OKTA_CALLBACK, setUpOkta } from '../support/okta-fixture.ts';
import { signInOverHttp } from '../support/http-login.ts';
import { loadConfig } from '../../server/config.ts';
import { ENROLLMENT_MAIL_QUEUE } from '../../server/domain/enrollment-mail.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

const TOKEN = randomBytes(32).toString('base64url');

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of every sample of `name` whose labels include `labels` (0 when none). */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, want]) => sample.labels[key] === want))
    .reduce((sum, sample) => sum + sample.value, 0);
}

describe.each(STORE_KINDS)('metrics on %s', (store) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ store, env: { METRICS_TOKEN: TOKEN } });
  });
  afterAll(async () => server?.close());

  async function scrape() {
    const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    return { text, samples: parse(text) };
  }

  it('refuses a scrape without the token or with a wrong one', async () => {
    const missing = await fetch(`${server.url}/metrics`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="latchkey-metrics"');
    expect(await missing.json()).toMatchObject({ error: 'invalid_token' });
    const wrong = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN.slice(1)}x` } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(await wrong.text()).not.toContain('latchkey_');
  });

  it('moves the login, ceremony, endpoint, SCIM, store, queue and key series with real traffic', async () => {
    const okta = await setUpOkta(server);
    const alice = await enrolledPerson(server, 'alice@example.com', okta.group.id);
    const before = (await scrape()).samples;

    const ok = await signInOverHttp({ origin: server.url, authorizationUrl: authorizationUrl(okta.rp).url, authenticator: alice.authenticator });
    expect(ok.callbackUrl.startsWith(OKTA_CALLBACK)).toBe(true);
    // A forged signature: refused, with the reason the audit log records.
    const forged = await signInOverHttp({
      origin: server.url,
      authorizationUrl: authorizationUrl(okta.rp).url,
      authenticator: alice.authenticator,
      tamper: (assertion) => ({ ...assertion, response: { ...assertion.response, signature: Buffer.from('not a signature').toString('base64url') } }),
    });
    expect(forged.verify.status).toBeGreaterThanOrEqual(400);

    const { token } = await server.services.scimTokens.create({ name: 'Okta' }, CLI_ACTOR);
    const scim = (method: string, path: string, body?: unknown) =>
      fetch(`${server.url}/scim/v2${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const created = await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'bob@example.com', name: { givenName: 'Bob', familyName: 'B' }, emails: [{ value: 'bob@example.com', primary: true }], active: true });
    expect(created.status).toBe(201);
    const bob = (await created.json()) as { id: string };
    expect((await scim('GET', `/Users/${bob.id}`)).status).toBe(200);
    expect((await scim('GET', '/Users?filter=userName%20eq%20%22bob%40example.com%22')).status).toBe(200);
    expect((await scim('GET', '/Users/no-such-id')).status).toBe(404);
    await server.services.store.jobs.enqueue({ queue: ENROLLMENT_MAIL_QUEUE, key: 'metrics-test', payload: {}, runAt: Date.now() - 90_000 });

    const { text, samples: after } = await scrape();
    const moved = (name: string, labels: Record<string, string>) => value(after, name, labels) - value(before, name, labels);

    expect(moved('latchkey_logins_total', { outcome: 'success', reason: 'none' })).toBe(1);
    const failures = after.filter((s) => s.name === 'latchkey_logins_total' && s.labels.outcome === 'failure');
    expect(failures.reduce((sum, s) => sum + s.value, 0) - value(before, 'latchkey_logins_total', { outcome: 'failure' })).toBe(1);
    expect(failures.every((s) => /^[a-z_]+$/.test(s.labels.reason))).toBe(true);

    expect(moved('latchkey_passkey_ceremony_duration_seconds_count', { ceremony: 'authentication', step: 'verify', outcome: 'ok' })).toBe(1);
    expect(moved('latchkey_passkey_ceremony_duration_seconds_count', { ceremony: 'authentication', step: 'verify', outcome: 'refused' })).toBe(1);
    expect(value(after, 'latchkey_passkey_ceremony_duration_seconds_count', { ceremony: 'registration', step: 'verify', outcome: 'ok' })).toBe(1);
    expect(moved('latchkey_http_request_duration_seconds_count', { method: 'GET', route: '/authorize' })).toBe(2);
    expect(moved('latchkey_http_request_duration_seconds_count', { method: 'GET', route: '/interaction/:uid', status: '200' })).toBe(2);
    expect(moved('latchkey_http_request_duration_seconds_bucket', { method: 'POST', route: '/interaction/:uid/passkey/verify', status: '200', le: '+Inf' })).toBe(1);

    expect(value(after, 'latchkey_scim_requests_total', { resource: 'Users', operation: 'create', status: '201' })).toBe(1);
    expect(value(after, 'latchkey_scim_requests_total', { resource: 'Users', operation: 'get', status: '200' })).toBe(1);
    expect(value(after, 'latchkey_scim_requests_total', { resource: 'Users', operation: 'get', status: '404' })).toBe(1);
    expect(value(after, 'latchkey_scim_requests_total', { resource: 'Users', operation: 'list', status: '200' })).toBe(1);
    expect(value(after, 'latchkey_http_request_duration_seconds_count', { route: '/scim/v2/Users/:id', status: '200' })).toBe(1);

    expect(moved('latchkey_store_operation_duration_seconds_count', { repository: 'passkeys', method: 'recordUse' })).toBe(1);
    expect(value(after, 'latchkey_store_operation_duration_seconds_count', { repository: 'identities', method: 'create' })).toBeGreaterThanOrEqual(2);
    // The queued invitation, and the security notice the passkey registration queued on the same queue.
    expect(value(after, 'latchkey_queue_jobs', { queue: ENROLLMENT_MAIL_QUEUE, state: 'pending' })).toBe(2);
    expect(value(after, 'latchkey_queue_oldest_pending_age_seconds', { queue: ENROLLMENT_MAIL_QUEUE })).toBeGreaterThanOrEqual(90);
    const keys = after.filter((s) => s.name === 'latchkey_signing_key_age_seconds');
    expect(keys).toHaveLength(1);
    expect(keys[0].labels).toMatchObject({ kid: expect.any(String), state: 'current' });

    // Route templates only: no interaction uid, person id or token reaches a label.
    expect(text).not.toContain(ok.uid);
    expect(text).not.toContain(bob.id);
    expect(text).not.toContain(alice.identity.id);
    expect(text).not.toContain('no-such-id');
  });

  // Issue 12's round trips: a code or token is read with the person it names (storage
  // findWithBindings), and oidc-provider's findAccount is answered from that read, not a second one.
  it('reads the person once with the code at /token and once with the token at /userinfo, and no more', async () => {
    const okta = await setUpOkta(server, { groupName: 'Store reads' });
    const carol = await enrolledPerson(server, 'carol@example.com', okta.group.id);
    const signedIn = await signInOverHttp({ origin: server.url, authorizationUrl: authorizationUrl(okta.rp).url, authenticator: carol.authenticator });
    const code = new URL(signedIn.callbackUrl).searchParams.get('code')!;
    const storeCalls = (samples: Sample[], repository: string, method: string) => value(samples, 'latchkey_store_operation_duration_seconds_count', { repository, method });
    const reads = (samples: Sample[]) => ({ identity: storeCalls(samples, 'identities', 'get') + storeCalls(samples, 'identities', 'getWithGroupIds'), bound: storeCalls(samples, 'oidc', 'findWithBindings') });
    const movedReads = (before: Sample[], after: Sample[]) => ({ identity: reads(after).identity - reads(before).identity, bound: reads(after).bound - reads(before).bound });

    const beforeToken = (await scrape()).samples;
    const token = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(okta.app.id)}:${encodeURIComponent(okta.clientSecret)}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: OKTA_CALLBACK }),
    });
    expect(token.status).toBe(200);
    const { access_token: accessToken } = (await token.json()) as { access_token: string };
    const afterToken = (await scrape()).samples;
    expect(movedReads(beforeToken, afterToken)).toEqual({ identity: 0, bound: 1 });

    const userinfo = await fetch(`${server.url}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(userinfo.status).toBe(200);
    expect(((await userinfo.json()) as { sub: string }).sub).toBe(carol.identity.id);
    expect(movedReads(afterToken, (await scrape()).samples)).toEqual({ identity: 0, bound: 1 });
  });
});

describe('metrics guard and rate-limit refusals', () => {
  it('serves no /metrics without METRICS_TOKEN, and validates the token length at start-up', async () => {
    const server = await startTestServer();
    try {
      const response = await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer anything' } });
      expect(response.status).toBe(404);
      expect(await response.text()).not.toContain('latchkey_');
    } finally {
      await server.close();
    }
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN: must be at least 32 characters/);
  });

  it('counts 429 refusals by route', async () => {
    const server = await startTestServer({ env: { METRICS_TOKEN: TOKEN, SIGNIN_RATE_LIMIT_PER_MINUTE: '2' } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await fetch(`${server.url}/interaction/some-uid-${i}/passkey/options`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status);
      expect(statuses.filter((status) => status === 429)).toHaveLength(2);
      const samples = parse(await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text());
      expect(value(samples, 'latchkey_rate_limit_refusals_total', { route: '/interaction/:uid/passkey/options' })).toBe(2);
      expect(value(samples, 'latchkey_passkey_ceremony_duration_seconds_count', { ceremony: 'authentication', step: 'options', outcome: 'refused' })).toBe(4);
    } finally {
      await server.close();
    }
  });
});
