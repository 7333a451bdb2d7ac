/**
 * A leaked SCIM token must not lock out the console (issue 9, item 5), on both stores: SCIM cannot
 * change an admin's email or userName, cannot deactivate or delete the last active admin with a
 * passkey, can still offboard an admin while another one remains, and every SCIM change to a
 * privileged identity is audited as such.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ACTOR } from '../../server/domain/actor.ts';
import { ADMIN_ROLE } from '../../server/domain/apps.ts';
import { STORE_KINDS } from '../support/test-server.ts';
import { SCIM, startScimHarness, type ScimHarness } from '../conformance/scim-client.ts';
import { enrolledPerson } from '../support/okta-fixture.ts';
import { isNoticeJob, MAIL_QUEUE } from '../../server/domain/security-notices.ts';

const deactivate = { schemas: [SCIM.patchOp], Operations: [{ op: 'replace', value: { active: false } }] };

describe.each(STORE_KINDS)('SCIM and admins (%s)', (kind) => {
  let scim: ScimHarness;
  let first = '';

  beforeAll(async () => {
    scim = await startScimHarness(kind);
    const { identity } = await enrolledPerson(scim.server, 'root@acme.test');
    await scim.server.services.identities.update(identity.id, { roles: [ADMIN_ROLE] }, CLI_ACTOR);
    first = identity.id;
  });
  afterAll(async () => scim?.close());

  const forbidden = (response: { status: number; body: any }, detail: RegExp) => {
    expect(response.status, JSON.stringify(response.body)).toBe(403);
    expect(response.body).toMatchObject({ schemas: [SCIM.error], status: '403', detail: expect.stringMatching(detail) });
    expect(response.body.scimType).toBeUndefined();
  };

  it("refuses to change an admin's email or userName, by PUT or PATCH", async () => {
    const current = (await scim.request('GET', `/Users/${first}`)).body;
    const before = await scim.server.services.identities.require(first);
    forbidden(await scim.request('PUT', `/Users/${first}`, { body: { ...current, emails: [{ value: 'attacker@evil.test', primary: true }] } }), /cannot change the email/);
    forbidden(await scim.request('PATCH', `/Users/${first}`, { body: { schemas: [SCIM.patchOp], Operations: [{ op: 'replace', path: 'userName', value: 'attacker@evil.test' }] } }), /cannot change the userName/);
    const after = await scim.server.services.identities.require(first);
    expect(after).toEqual(before);
    // A profile change that leaves both alone still goes through, and is reported as privileged.
    const renamed = await scim.request('PUT', `/Users/${first}`, { body: { ...current, name: { givenName: 'Root', familyName: 'Admin' } } });
    expect(renamed.status).toBe(200);
    const events = await scim.server.services.audit.list({ target: `identity:${first}`, limit: 20 });
    expect(events.find((event) => event.action === 'identity.scim_privileged_change')).toMatchObject({
      kind: 'scim',
      actor: `scim-token:${scim.tokenId}`,
      detail: { userName: 'root@acme.test', roles: [ADMIN_ROLE], change: 'update', changed: expect.arrayContaining(['givenName', 'familyName']) },
    });
  });

  it('refuses to deactivate or delete the last active admin who has a passkey', async () => {
    forbidden(await scim.request('PATCH', `/Users/${first}`, { body: deactivate }), /last active admin with a passkey/);
    forbidden(await scim.request('DELETE', `/Users/${first}`), /last active admin with a passkey/);
    expect((await scim.server.services.identities.require(first)).active).toBe(true);
  });

  it('still lets an ordinary person be re-emailed and deactivated', async () => {
    const created = await scim.request('POST', '/Users', { body: { schemas: [SCIM.user], userName: 'pat@acme.test', emails: [{ value: 'pat@acme.test', primary: true }], active: true } });
    const put = await scim.request('PUT', `/Users/${created.body.id}`, { body: { ...created.body, emails: [{ value: 'pat@new.test', primary: true }] } });
    expect(put.status).toBe(200);
    expect((await scim.request('PATCH', `/Users/${created.body.id}`, { body: deactivate })).status).toBe(200);
  });

  it('offboards a departing admin once another admin with a passkey remains, and audits it', async () => {
    const { identity: second } = await enrolledPerson(scim.server, 'second@acme.test');
    await scim.server.services.identities.update(second.id, { roles: [ADMIN_ROLE] }, CLI_ACTOR);
    const response = await scim.request('PATCH', `/Users/${first}`, { body: deactivate });
    expect(response.status).toBe(200);
    expect(response.body.active).toBe(false);
    const events = await scim.server.services.audit.list({ target: `identity:${first}`, limit: 20 });
    expect(events.find((event) => event.action === 'identity.scim_privileged_change' && event.detail.change === 'deactivate')).toBeTruthy();
    // The other admin is told, through the mail queue.
    const notices = (await scim.server.services.store.jobs.list(MAIL_QUEUE, 'pending', 100)).filter(isNoticeJob);
    const toSecond = notices.filter((job) => (job.payload as { identityId?: string }).identityId === second.id);
    expect(toSecond.map((job) => (job.payload as { notice: { event: string } }).notice.event)).toContain('identity.scim_deactivate');
    // Now the second admin is the last one who can sign in: SCIM cannot remove them.
    forbidden(await scim.request('DELETE', `/Users/${second.id}`), /last active admin/);
  });
});
