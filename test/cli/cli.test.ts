/**
 * The operator CLI as an operator runs it: a separate process on the same store as a running
 * server, JSON on stdout, one-line reasons and non-zero exits on failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { enrollOverHttp } from '../support/http-login.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { cliFor } from '../support/cli.ts';

// Each command is a fresh Node process (the compiled CLI); refusals, which change nothing, run side by side.
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
    const cases = [
      ['https://dev-123-admin.okta.com', /-admin/],
      ['https://dev-123.okta.com/app/x', /without a path/],
      ['http://dev-123.okta.com', /https/],
      ['dev-123.okta.com', /not a URL/],
    ] as const;
    const results = await Promise.all(cases.map(([domain]) => fail('apps', 'create-okta', '--okta-domain', domain)));
    for (const [index, [domain, reason]] of cases.entries()) {
      expect(results[index].code, domain).toBe(1);
      expect(results[index].reason, domain).toMatch(reason);
    }
    expect(await cli('apps', 'create-okta', '--okta-domain', 'http://127.0.0.1:8080')).toMatchObject({ redirect_uris: ['http://127.0.0.1:8080/oauth2/v1/authorize/callback'] });
  });

  it('fails clearly on duplicates, unknown people and unknown commands', async () => {
    await cli('identities', 'create', '--username', 'bob@example.com', '--email', 'bob@example.com');
    // Each refused, so none changes what the others see: they run side by side.
    const [duplicate, lookalike, sharedEmail, unknown, bogus] = await Promise.all([
      fail('identities', 'create', '--username', 'BOB@example.com', '--email', 'bob@example.com'),
      // A look-alike userName (Cyrillic "о") and an address someone already has, each one line.
      fail('identities', 'create', '--username', 'b\u043eb@example.com', '--email', 'bob2@example.com'),
      fail('identities', 'create', '--username', 'robert@example.com', '--email', 'Bob@Example.com'),
      fail('enroll', 'nobody@example.com', '--link'),
      fail('bogus'),
    ]);
    expect(duplicate.code).toBe(1);
    expect(duplicate.reason).toMatch(/userName "BOB@example.com" is already in use/);
    expect(lookalike.code).toBe(1);
    expect(lookalike.reason).toMatch(/looks the same as an existing userName/);
    expect(sharedEmail.code).toBe(1);
    expect(sharedEmail.reason).toMatch(/email "Bob@Example.com" is already used by another identity/);
    expect(unknown.code).toBe(1);
    expect(unknown.reason).toMatch(/no identity "nobody@example.com"/);
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

  it('revokes a key from the CLI: the running server stops publishing it by itself', async () => {
    const current = ((await (await fetch(`${server.url}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys[0].kid;
    const revoked = { json: await cli('keys', 'revoke', current) };
    expect(revoked.json).toMatchObject({ kid: current, already_revoked: false, replacement: { kid: expect.any(String) }, risk: expect.stringMatching(/cached the JWKS/) });
    const deadline = Date.now() + 5_000;
    let kids: string[] = [current];
    while (Date.now() < deadline && kids.includes(current)) {
      kids = ((await (await fetch(`${server.url}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(kids).not.toContain(current);
    expect(kids[0]).toBe(revoked.json.replacement.kid);
    const unknown = await fail('keys', 'revoke', 'no-such-kid');
    expect(unknown.code).toBe(1);
    expect(unknown.reason).toMatch(/no signing key with kid "no-such-kid"/);
  });

  it('creates an Okta app that authenticates with private_key_jwt from a JWKS file, with a post-logout URI', async () => {
    const file = path.join(server.dataDir, 'okta-idp-key.json');
    const jwks = { keys: [{ kty: 'RSA', kid: 'okta-idp', use: 'sig', e: 'AQAB', n: 'sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw' }] };
    writeFileSync(file, JSON.stringify(jwks));
    const created = { json: await cli('apps', 'create-okta', '--okta-domain', 'https://pkjwt.okta.com', '--auth', 'private-key-jwt', '--jwks-file', file, '--post-logout-redirect-uri', 'https://pkjwt.okta.com/login/signout') };
    expect(created.json).toMatchObject({ client_secret: null, token_endpoint_auth_method: 'private_key_jwt', jwks, post_logout_redirect_uris: ['https://pkjwt.okta.com/login/signout'] });
    const bad = await fail('apps', 'create-okta', '--okta-domain', 'https://pkjwt2.okta.com', '--auth', 'private-key-jwt', '--jwks-uri', 'http://keys.example.com/jwks');
    expect(bad.code).toBe(1);
    expect(bad.reason).toMatch(/jwks_uri "http:\/\/keys.example.com\/jwks" must use https/);
  });
});
