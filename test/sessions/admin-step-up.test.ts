/**
 * An admin minting an enrollment link or invitation for another administrator must confirm with a
 * fresh passkey ceremony; the target is told by email (a queued notice) and the audit names both.
 * People without the role need no step-up; the bulk send skips administrators. Both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { enrolledPerson } from '../support/okta-fixture.ts';
import { browse, CookieJar, pageData, postJson, signInOverHttp } from '../support/http-login.ts';
import { ADMIN_ROLE } from '../../server/domain/apps.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';
import { MAIL_QUEUE } from '../../server/domain/security-notices.ts';

describe.each(STORE_KINDS)('step-up before enrolling an administrator (%s)', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ store: kind });
  });
  afterAll(async () => server?.close());

  it('needs the acting admin’s fresh passkey, notifies the target admin and audits both', async () => {
    const { services } = server;
    const ann = await enrolledPerson(server, `ann-${kind}@acme.test`);
    await services.identities.update(ann.identity.id, { roles: [ADMIN_ROLE] }, CLI_ACTOR);
    const bob = await services.identities.create({ userName: `bob-${kind}@acme.test`, email: `bob-${kind}@acme.test`, roles: [ADMIN_ROLE] }, CLI_ACTOR);
    const carl = await services.identities.create({ userName: `carl-${kind}@acme.test`, email: `carl-${kind}@acme.test` }, CLI_ACTOR);

    const jar = new CookieJar();
    expect((await signInOverHttp({ origin: server.url, authorizationUrl: `${server.url}/admin/login`, authenticator: ann.authenticator, jar })).verify.status).toBe(200);
    const csrf = pageData(await (await browse(jar, `${server.url}/admin`)).text()).csrf;
    const post = (path: string, body: unknown) => postJson(jar, `${server.url}/admin/api${path}`, body, { origin: server.url, 'x-csrf-token': csrf, accept: 'application/json' });

    const refused = await post(`/identities/${bob.id}/invite`, { delivery: 'link' });
    expect(refused.status).toBe(403);
    expect(await services.invites.list(bob.id)).toHaveLength(0);

    const { body } = await post('/step-up/options', {});
    const minted = await post(`/identities/${bob.id}/invite`, { delivery: 'link', stepUp: ann.authenticator.authenticate(body.options) });
    expect(minted.status).toBe(200);
    expect(minted.body.url).toMatch(/\/enroll\//);
    const issued = (await services.audit.list({ target: `identity:${bob.id}`, limit: 20 })).find((event) => event.action === 'invite.issue');
    expect(issued).toMatchObject({ kind: 'enrollment', actor: `identity:${ann.identity.id}`, target: `identity:${bob.id}` });
    const notices = (await services.store.jobs.list(MAIL_QUEUE, 'pending', 100)).filter((job) => job.payload.identityId === bob.id);
    expect(notices.map((job) => (job.payload.notice as { event: string }).event)).toEqual(['admin.enrollment_issued']);
    expect((notices[0].payload.notice as { summary: string }).summary).toContain(`ann-${kind}@acme.test`);

    // No step-up for a person without the role; the bulk send leaves administrators out.
    expect((await post(`/identities/${carl.id}/invite`, { delivery: 'link' })).status).toBe(200);
    const bulk = await post('/invites/bulk', { identityIds: [bob.id, carl.id] });
    expect(bulk.body.results).toEqual(expect.arrayContaining([expect.objectContaining({ identityId: bob.id, outcome: 'refused' }), expect.objectContaining({ identityId: carl.id, outcome: 'queued' })]));
  });
});
