/**
 * Health endpoints, and the rule that no secret ever reaches a log line: a full enrollment,
 * sign-in, token exchange, userinfo and SCIM call run with logging on (debug), each checked to
 * have succeeded, then the log is searched for every secret the flow handled. On both stores.
 * (The real server process, with its workers and the Okta API token, is checked the same way in
 * test/server/server-wiring.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { authorizationUrl, setUpOkta } from '../support/okta-fixture.ts';
import { enrollOverHttp, signInOverHttp } from '../support/http-login.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { createPerson, createScimToken, TEST_ACTOR } from '../support/builders.ts';
import { codeOf, exchangeCode, userinfo } from '../support/tokens.ts';
import { scimClient, scimUserBody } from '../support/scim.ts';

describe.each(STORE_KINDS)('health and logging (%s)', (store) => {
  let server: TestServer;
  const lines: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    server = await startTestServer({ store, logger: pino({ level: 'debug' }, sink) });
  });
  afterAll(async () => server?.close());

  it('answers /healthz and /readyz', async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ status: 'ready', store });
  });

  it('never logs an enrollment link, a code, a token, a session id, a SCIM token or a client secret', async () => {
    const okta = await setUpOkta(server);
    const person = await createPerson(server, 'logged@example.com', { groupId: okta.group.id });
    const authenticator = new SoftAuthenticator({ origin: server.url });
    const { url, token: linkToken } = await server.services.invites.issue(person, { actor: TEST_ACTOR, delivery: 'link' });
    expect((await enrollOverHttp(url, authenticator)).status).toBe(200);
    const login = await signInOverHttp({ origin: server.url, authorizationUrl: authorizationUrl(okta.rp).url, authenticator });
    expect(login.verify.status).toBe(200);
    const code = codeOf(login.callbackUrl);
    const exchanged = await exchangeCode(server.url, { clientId: okta.app.id, clientSecret: okta.clientSecret }, code, { auth: 'post' });
    expect(exchanged.status).toBe(200);
    const { access_token: accessToken, id_token: idToken } = exchanged.body as { access_token: string; id_token: string };
    expect(accessToken).toEqual(expect.any(String));
    expect(idToken).toEqual(expect.any(String));
    expect((await userinfo(server.url, accessToken)).status).toBe(200);
    const { token: scimToken } = await createScimToken(server);
    expect((await scimClient(`${server.url}/scim/v2`, scimToken)('POST', '/Users', { body: scimUserBody('scim-logged@example.com') })).status).toBe(201);
    const cookies = new Map(login.jar.header().split('; ').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
    expect(cookies.get('lk_session')).toEqual(expect.any(String));

    const log = lines.join('');
    // The flow was logged (so the absence of secrets means something).
    for (const path of ['/enroll/[link]/verify', '/token', '/userinfo', '/scim/v2/Users']) expect(log).toContain(`"path":"${path}"`);
    const secrets = {
      linkToken,
      code,
      clientSecret: okta.clientSecret,
      accessToken,
      idToken,
      assertionSignature: login.assertion.response.signature as string,
      scimToken,
      session: cookies.get('lk_session')!,
      sessionSignature: cookies.get('lk_session.sig')!,
    };
    for (const [name, secret] of Object.entries(secrets)) expect({ name, logged: log.includes(secret) }).toEqual({ name, logged: false });
  });
});
