/**
 * The operator CLI as an operator runs it: a separate process on the same store as a running
 * server, JSON on stdout, one-line reasons and non-zero exits on failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { enrollOverHttp } from '../support/http-login.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { cliFor } from '../support/cli.ts';

// Each command is a fresh Node process compiling TypeScript through tsx: a few seconds apiece.
describe.each(STORE_KINDS)('latchkey CLI on %s', { timeout: 300_000 }, (store) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ store });
  });
  afterAll(async () => server?.close());

  const cli = (...args: string[]) => cliFor(server.env).json(...args);
  const fail = (...args: string[]) => cliFor(server.env).fail(...args);

  it('runs the README setup: Okta app, identity, group, assignment, enrollment link that works', async () => {
    const app = { json: await cli('apps', 'create-okta', '--okta-domain', 'https://dev-123.okta.com') };
    expect(app.json).toMatchObject({
      client_id: expect.any(String),
      client_secret: expect.any(String),
      issuer: server.url,
      jwks_uri: `${server.url}/jwks`,
      authorization_endpoint: `${server.url}/authorize`,
      token_endpoint: `${server.url}/token`,
      userinfo_endpoint: `${server.url}/userinfo`,
      redirect_uris: ['https://dev-123.okta.com/oauth2/v1/authorize/callback'],
    });
    const discovery = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    for (const key of ['issuer', 'jwks_uri', 'authorization_endpoint', 'token_endpoint', 'userinfo_endpoint']) expect(discovery[key]).toBe(app.json[key]);

    const alice = await cli('identities', 'create', '--username', 'alice@example.com', '--email', 'alice@example.com', '--given-name', 'Alice', '--family-name', 'Smith');
    expect(alice).toMatchObject({ username: 'alice@example.com', enrollment_status: 'unenrolled' });
    expect(await cli('groups', 'create', 'Beyond Identity')).toMatchObject({ display_name: 'Beyond Identity' });
    expect((await cli('groups', 'add-member', 'Beyond Identity', 'alice@example.com')).members).toBe(1);
    const assigned = await cli('apps', 'assign', app.json.client_id, '--group', 'Beyond Identity');
    expect(assigned.assigned_groups).toEqual([{ id: expect.any(String), display_name: 'Beyond Identity' }]);

    const link = await cli('enroll', 'alice@example.com', '--link');
    expect(link.url).toMatch(new RegExp(`^${server.url}/enroll/[A-Za-z0-9_-]{43}$`));
    expect(Date.parse(link.expires_at) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    const enrolled = await enrollOverHttp(link.url, new SoftAuthenticator({ origin: server.url }));
    expect(enrolled.status).toBe(200);
    expect((await cli('identities', 'show', 'alice@example.com')).enrollment_status).toBe('enrolled');
  });

  it('refuses bad Okta domains with a one-line reason and a non-zero exit', async () => {
    for (const [domain, reason] of [
      ['https://dev-123-admin.okta.com', /-admin/],
      ['https://dev-123.okta.com/app/x', /without a path/],
      ['http://dev-123.okta.com', /https/],
      ['dev-123.okta.com', /not a URL/],
    ] as const) {
      const result = await fail('apps', 'create-okta', '--okta-domain', domain);
      expect(result.code).toBe(1);
      expect(result.reason).toMatch(reason);
    }
    expect(await cli('apps', 'create-okta', '--okta-domain', 'http://127.0.0.1:8080')).toMatchObject({ redirect_uris: ['http://127.0.0.1:8080/oauth2/v1/authorize/callback'] });
  });

  it('fails clearly on duplicates, unknown people and unknown commands', async () => {
    await cli('identities', 'create', '--username', 'bob@example.com', '--email', 'bob@example.com');
    const duplicate = await fail('identities', 'create', '--username', 'BOB@example.com', '--email', 'bob@example.com');
    expect(duplicate.code).toBe(1);
    expect(duplicate.reason).toMatch(/already exists/);
    const unknown = await fail('enroll', 'nobody@example.com', '--link');
    expect(unknown.code).toBe(1);
    expect(unknown.reason).toMatch(/no identity "nobody@example.com"/);
    const bogus = await fail('bogus');
    expect(bogus.code).toBe(2);
    expect(bogus.reason).toMatch(/unknown command 'bogus'/);
  });

  it('rotates keys from the CLI: the running server publishes the next key by itself, without signing with it', async () => {
    const before = (await (await fetch(`${server.url}/jwks`)).json()) as { keys: Array<{ kid: string }> };
    const rotated = { json: await cli('keys', 'rotate') };
    expect(rotated.json).toMatchObject({ kid: expect.any(String), state: 'next', replaces: before.keys[0].kid });
    expect(rotated.json.risk).toBeUndefined();
    // No reload call: the server notices the CLI's write to the shared file (about a second).
    const deadline = Date.now() + 5_000;
    let kids: string[] = [];
    while (Date.now() < deadline) {
      kids = ((await (await fetch(`${server.url}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid);
      if (kids.includes(rotated.json.kid)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(kids).toEqual([before.keys[0].kid, rotated.json.kid]);
    const listed = { json: await cli('keys', 'list') };
    expect(listed.json.map((key: { kid: string; state: string }) => [key.kid, key.state])).toEqual([[before.keys[0].kid, 'current'], [rotated.json.kid, 'next']]);
    expect(listed.json[1].activates_at).toBe(rotated.json.activates_at);
    const twice = await fail('keys', 'rotate');
    expect(twice.code).toBe(1);
    expect(twice.reason).toMatch(/already waiting to sign/);
  });
});
