/**
 * What only server/main.ts wires, observed from outside the real server process (the command of
 * `npm start`), on both stores: its mail worker sends a queued invitation to a real SMTP server;
 * its Okta worker delivers byndidRegistered to the Okta emulator once a passkey exists; its
 * expiry sweeper deletes expired rows on EXPIRY_SWEEP_INTERVAL (SQLite; Redis expires rows
 * itself, see the storage contract); its logs hold none of the secrets the flow handled; and
 * SIGTERM ends it with exit code 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as oidc from 'openid-client';
import { dropRedisPrefix, REDIS_URL, STORE_KINDS } from '../support/test-server.ts';
import { freePort, openServicesFor, startServerProcess, type ServerProcess } from '../support/server-process.ts';
import { linkIn, startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { startOktaSim, type OktaSim } from '../okta-sim/okta-sim.ts';
import { connect, flagOf } from '../okta/helpers.ts';
import { createPerson, createScimToken } from '../support/builders.ts';
import { authorizationUrl, setUpOkta } from '../support/okta-fixture.ts';
import { enrollOverHttp, signInOverHttp } from '../support/http-login.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { mailSendingFor, until } from '../enrollment/helpers.ts';
import { scimClient, scimUserBody } from '../support/scim.ts';
import type { Services } from '../../server/bootstrap.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

describe.each(STORE_KINDS)('the real server process on %s: workers, sweeper, logs', { timeout: 90_000 }, (store) => {
  let sink: SmtpSink;
  let sim: OktaSim;
  let server: ServerProcess;
  let local: Awaited<ReturnType<typeof openServicesFor>>;
  let services: Services;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'latchkey-wiring-'));
  const prefix = `latchkey-test:wiring:${process.pid}:${Date.now()}:`;
  const secrets: Record<string, string> = {};
  const state: { link?: string; authenticator?: SoftAuthenticator; oktaUserId?: string } = {};

  beforeAll(async () => {
    sink = await startSmtpSink();
    sim = await startOktaSim();
    sim.defineRegistrationAttribute();
    const port = await freePort();
    const env: Record<string, string> = {
      PORT: String(port),
      PUBLIC_URL: `http://localhost:${port}`,
      DATA_DIR: dataDir,
      STORE: store,
      ...(store === 'redis' ? { REDIS_URL, REDIS_KEY_PREFIX: prefix } : {}),
      SMTP_URL: sink.url,
      MAIL_RATE_PER_SECOND: '50',
      EXPIRY_SWEEP_INTERVAL: '1s',
      LOG_LEVEL: 'debug',
    };
    // Okta is connected before the start, as after `latchkey okta configure`: the worker sees the
    // connection on its first look instead of its 15 s re-check.
    local = await openServicesFor(env);
    services = local.services;
    await connect(services, sim);
    secrets.oktaApiToken = sim.token;
    server = await startServerProcess({ env, dataDir });
  }, 120_000);

  afterAll(async () => {
    if (server) await server.stop('SIGKILL');
    await local?.close();
    await sim?.close();
    await sink?.close();
    rmSync(dataDir, { recursive: true, force: true });
    if (store === 'redis') await dropRedisPrefix(prefix);
  });

  it('its mail worker sends a queued invitation through SMTP', async () => {
    const oktaUser = sim.addUser({ login: 'wired@example.com', firstName: 'Wren', lastName: 'Wire' });
    state.oktaUserId = oktaUser.id;
    const person = await createPerson(services, 'wired@example.com', { givenName: 'Wren', familyName: 'Wire' });
    // Queued from this process (as the console or `enroll --send` beside a server do); only the
    // server's worker runs.
    const { queued } = await mailSendingFor(services).enrollmentMail.sendInvites({ identities: [person], actor: CLI_ACTOR });
    await sink.waitForMessages(1, 30_000);
    expect(sink.messages.map((message) => message.to)).toEqual([['wired@example.com']]);
    expect(sink.messages[0].parsed.headers.get('x-latchkey-invite')).toBe(queued[0].invite.id);
    state.link = linkIn(sink.messages[0].parsed.text!);
    expect(state.link.startsWith(`${server.url}/enroll/`)).toBe(true);
    secrets.enrollmentLink = state.link.split('/enroll/')[1];
    await until(async () => (await services.store.invites.get(queued[0].invite.id))!.sendState === 'sent', 10_000, 'the invitation marked sent');
  });

  it('the emailed link enrolls a passkey, and its Okta worker then sets byndidRegistered=true with a partial update', async () => {
    state.authenticator = new SoftAuthenticator({ origin: server.url });
    const enrolled = await enrollOverHttp(state.link!, state.authenticator);
    expect(enrolled.status).toBe(200);
    await until(() => flagOf(sim, state.oktaUserId!) === true, 30_000, 'byndidRegistered=true at the Okta emulator');
    const updates = sim.requests.filter((request) => request.method === 'POST' && request.path.startsWith('/api/v1/users/') && request.path !== '/api/v1/users/me');
    expect(updates.map((request) => [request.body, request.status])).toEqual([[{ profile: { byndidRegistered: true } }, 200]]);
    expect(server.logs().some((line) => line.msg === 'Okta connected: delivering byndidRegistered updates')).toBe(true);
  });

  it('signs the person in for Okta, answers SCIM, and logs none of the secrets it handled', async () => {
    const okta = await setUpOkta({ url: server.url, services });
    const person = await services.identities.resolve('wired@example.com');
    await services.groups.change(okta.group.id, { members: { add: [person.id] } }, CLI_ACTOR);
    const request = authorizationUrl(okta.rp, { login_hint: 'wired@example.com' });
    const login = await signInOverHttp({ origin: server.url, authorizationUrl: request.url, authenticator: state.authenticator! });
    expect(login.verify.status).toBe(200);
    const tokens = await oidc.authorizationCodeGrant(okta.rp, new URL(login.callbackUrl), { expectedNonce: request.nonce, expectedState: request.state });
    expect(tokens.claims()!.sub).toBe(person.id);
    expect((await oidc.fetchUserInfo(okta.rp, tokens.access_token, person.id)).email).toBe('wired@example.com');
    const { token: scimToken } = await createScimToken(services);
    const scim = scimClient(`${server.url}/scim/v2`, scimToken);
    expect((await scim('POST', '/Users', { body: scimUserBody('pushed@example.com', { externalId: '00upushed' }) })).status).toBe(201);

    Object.assign(secrets, {
      code: new URL(login.callbackUrl).searchParams.get('code')!,
      clientSecret: okta.clientSecret,
      accessToken: tokens.access_token,
      idToken: tokens.id_token!,
      assertionSignature: login.assertion.response.signature as string,
      scimToken,
      csrf: login.csrf,
    });
    // The session id and every cookie signature the browser holds. (The interaction cookie holds
    // the interaction's uid, which is in every /interaction/<uid> URL by design, not a secret.)
    const cookies = new Map(login.jar.header().split('; ').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
    expect([...cookies.keys()].sort()).toEqual(['lk_interaction', 'lk_interaction.sig', 'lk_session', 'lk_session.sig']);
    for (const name of ['lk_session', 'lk_session.sig', 'lk_interaction.sig']) secrets[name] = cookies.get(name)!;

    // The log did record this flow (a request line for each step, written just after the
    // answer), so its silence about secrets means something.
    for (const logged of ['/enroll/[link]/verify', '/token', '/userinfo', '/scim/v2/Users']) await server.waitForLog((line) => line.path === logged, 10_000);
    const output = server.output();
    for (const [name, secret] of Object.entries(secrets)) expect({ name, logged: output.includes(secret) }).toEqual({ name, logged: false });
  });

  it.runIf(store === 'sqlite')('its sweeper deletes expired rows from the store on EXPIRY_SWEEP_INTERVAL', async () => {
    const expiresAt = Date.now() - 1_000;
    await services.store.oidc.upsert('Session', 'expired-by-test', { accountId: 'nobody' }, expiresAt, {});
    await services.store.oneTime.put('expired-by-test', 'x', expiresAt);
    // Read with a clock from before the expiry, the rows stay visible until deleted.
    expect(await services.store.oidc.find('Session', 'expired-by-test', expiresAt - 1)).toEqual({ accountId: 'nobody' });
    await until(async () => (await services.store.oidc.find('Session', 'expired-by-test', expiresAt - 1)) === null, 15_000, 'the sweep');
    expect(await services.store.oneTime.take('expired-by-test', expiresAt - 1)).toBeNull();
  });

  it('SIGTERM shuts it down with exit code 0', async () => {
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(server.logs().some((line) => line.msg === 'shutdown complete')).toBe(true);
  });
});
