/**
 * Health endpoints, and the rule that no secret ever reaches a log line: a full enrollment and
 * login run with logging on, then the log is searched for every secret the flow handled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { authorizationUrl, createPerson, setUpOkta } from '../support/okta-fixture.ts';
import { enrollOverHttp, signInOverHttp } from '../support/http-login.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

describe('health and logging', () => {
  let server: TestServer;
  const lines: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    server = await startTestServer({ logger: pino({ level: 'debug' }, sink) });
  });
  afterAll(async () => server?.close());

  it('answers /healthz and /readyz', async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ status: 'ready', store: 'sqlite' });
  });

  it('never logs an enrollment link, a code, a token or a client secret', async () => {
    const okta = await setUpOkta(server);
    const person = await createPerson(server, 'logged@example.com', { groupId: okta.group.id });
    const authenticator = new SoftAuthenticator({ origin: server.url });
    const { url, token } = await server.services.invites.issue(person, { actor: CLI_ACTOR, delivery: 'link' });
    expect((await enrollOverHttp(url, authenticator)).status).toBe(200);
    const login = await signInOverHttp({ origin: server.url, authorizationUrl: authorizationUrl(okta.rp).url, authenticator });
    const code = new URL(login.callbackUrl).searchParams.get('code')!;
    const tokenResponse = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: 'http://127.0.0.1:9/oauth2/v1/authorize/callback', client_id: okta.app.id, client_secret: okta.clientSecret }),
    });
    const tokens = (await tokenResponse.json()) as { access_token: string; id_token: string };
    await fetch(`${server.url}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });

    const log = lines.join('');
    expect(log).toContain('"path":"/enroll/[link]/verify"');
    for (const secret of [token, code, okta.clientSecret, tokens.access_token, tokens.id_token, login.assertion.response.signature]) {
      expect(log).not.toContain(secret);
    }
  });
});
