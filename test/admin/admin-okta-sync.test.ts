/**
 * Okta sync from the console API, against the Okta emulator on both stores: a person whose flag
 * could not be written shows up with Okta's reason, can be retried alone, and a reconcile runs
 * from the console. Each console action is audited once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS, startTestServer, type TestServer } from '../support/test-server.ts';
import { browse, CookieJar, pageData, signInOverHttp } from '../support/http-login.ts';
import { enrolledPerson } from '../support/okta-fixture.ts';
import { startOktaSim, type OktaSim } from '../okta-sim/okta-sim.ts';
import { addPasskey, connect, person, syncWorker } from '../okta/helpers.ts';
import { OKTA_SYNC_QUEUE } from '../../server/edges/okta/okta-sync.ts';
import { ADMIN_ROLE } from '../../server/domain/apps.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

describe.each(STORE_KINDS)('console Okta sync (%s)', (store) => {
  let sim: OktaSim;
  let server: TestServer;
  let jar: CookieJar;
  let csrf: string;
  let adminId: string;

  beforeAll(async () => {
    sim = await startOktaSim();
    sim.defineRegistrationAttribute();
    server = await startTestServer({ store });
    const admin = await enrolledPerson(server, 'root@acme.test');
    adminId = admin.identity.id;
    await server.services.identities.update(admin.identity.id, { roles: [ADMIN_ROLE] }, CLI_ACTOR);
    jar = new CookieJar();
    await signInOverHttp({ origin: server.url, authorizationUrl: `${server.url}/admin/login`, authenticator: admin.authenticator, jar });
    csrf = pageData(await (await browse(jar, `${server.url}/admin`)).text()).csrf;
  });
  afterAll(async () => {
    await server?.close();
    await sim?.close();
  });

  async function call(method: string, path: string, body: unknown = method === 'GET' ? undefined : {}) {
    const response = await browse(jar, `${server.url}/admin/api${path}`, {
      method,
      headers: { accept: 'application/json', origin: server.url, 'x-csrf-token': csrf, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: await response.json() };
  }

  it('lists a failed delivery with Okta’s reason, retries that person, and reconciles from the console', async () => {
    const { services } = server;
    const worker = syncWorker(services);
    await connect(services, sim);
    const { identity } = await person(services, sim, 'stuck@example.com');
    sim.revokeToken(sim.token);
    await addPasskey(services, identity.id);
    await worker.drain();

    const listed = await call('GET', '/okta/failures');
    expect(listed.status).toBe(200);
    const failure = listed.body.items.find((item: { userName: string }) => item.userName === 'stuck@example.com');
    expect(failure).toMatchObject({ identityId: identity.id, state: 'failed', error: expect.stringContaining('Invalid token provided') });
    const status = await call('GET', '/okta');
    expect(status.body.connection).toMatchObject({ configured: true, domain: sim.url });

    const retried = await call('POST', '/okta/failures/retry', { identityId: identity.id });
    expect(retried.body).toEqual({ requeued: 1 });
    expect((await services.store.jobs.get(OKTA_SYNC_QUEUE, identity.id))!.state).toBe('pending');
    const unknown = await call('POST', '/okta/failures/retry', { identityId: 'nobody' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error_description).toMatch(/no failed Okta sync/);

    // With a working token again, a reconcile from the console compares and queues corrections.
    await connect(services, sim, sim.issueToken(sim.admin.id));
    const reconciled = await call('POST', '/okta/reconcile');
    expect(reconciled.status).toBe(200);
    expect(reconciled.body).toMatchObject({ checked: expect.any(Number) });
    const actions = (await services.audit.list({ actor: `identity:${adminId}`, limit: 20 })).map((event) => event.action);
    expect(actions.filter((action) => action === 'okta.sync_retry')).toHaveLength(1);
    expect(actions.filter((action) => action === 'okta.reconcile')).toHaveLength(1);
    expect(actions).toContain('console.refused');
  });
});
