/**
 * Security notices travel on the durable mail queue and reach a real SMTP server: a passkey added
 * or removed tells its person (what, when, browser and authenticator model, how to report it), in
 * the same store write as the change; notifyAdmins tells every active administrator but one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { mailSendingFor } from '../enrollment/helpers.ts';
import { adminActor, CLI_ACTOR, selfActor } from '../../server/domain/actor.ts';
import { MAIL_QUEUE } from '../../server/domain/security-notices.ts';

const CHROME_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const ICLOUD_AAGUID = 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd';

describe.each(STORE_KINDS)('security notices (%s)', (kind) => {
  let sink: SmtpSink;
  let server: TestServer;

  beforeAll(async () => {
    sink = await startSmtpSink();
    server = await startTestServer({ store: kind, env: { SMTP_URL: sink.url, MAIL_RATE_PER_SECOND: '50', ORG_NAME: 'Acme' } });
  });
  afterAll(async () => {
    await server?.close();
    await sink?.close();
  });

  const drain = async () => {
    const { worker } = mailSendingFor(server.services);
    await worker.drain();
  };
  const mailTo = (address: string) => sink.messages.filter((message) => message.to.includes(address));

  it('a passkey added and then removed emails its person twice, with the browser, the model and how to report it', async () => {
    const { services } = server;
    const carol = await services.identities.create({ userName: `carol-${kind}@acme.test`, email: `carol-${kind}@acme.test`, givenName: 'Carol' }, CLI_ACTOR);
    const admin = await services.identities.create({ userName: `root-${kind}@acme.test`, email: `root-${kind}@acme.test`, roles: ['admin'] }, CLI_ACTOR);
    const passkey = { id: `pk-${kind}`, identityId: carol.id, publicKey: 'cHVi', counter: 0, transports: ['internal'], aaguid: ICLOUD_AAGUID, deviceType: 'multiDevice' as const, backedUp: true, attestationFormat: 'none', attested: false, name: 'MacBook' };
    await services.passkeys.add(passkey, selfActor(carol.id), { userAgent: CHROME_MAC });
    // Recorded with the passkey itself, before any worker ran: the request never waits for SMTP.
    expect((await services.store.jobs.counts(MAIL_QUEUE)).pending).toBeGreaterThanOrEqual(1);
    expect(mailTo(carol.email)).toHaveLength(0);
    await services.passkeys.revoke(passkey.id, adminActor(admin.id), { userAgent: CHROME_MAC });
    await drain();

    const [added, removed] = mailTo(carol.email).sort((a, b) => String(a.parsed.subject).localeCompare(String(b.parsed.subject)));
    expect(added.parsed.subject).toBe('Acme: A passkey was added to your account');
    expect(added.parsed.headers.get('x-latchkey-notice')).toBe('passkey.added');
    expect(added.parsed.text).toContain('A new passkey, “MacBook”, was added to your account.');
    // The model's name and icon come from the community AAGUID list (an SVG, sent as an inline PNG).
    expect(added.parsed.text).toContain('Passkey: MacBook (Apple Passwords)');
    expect(added.parsed.text).toMatch(/From: Chrome 131 on macOS 10\.15\.7/);
    expect(added.parsed.text).toMatch(/When: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT/);
    expect(added.parsed.text).toContain('If this was not you, report it now');
    expect(added.parsed.html).toContain('Apple Passwords');
    // Sent as <img src="cid:…"> with an inline part (mailparser resolves it into a data: URL).
    expect(added.raw.toString()).toMatch(/^Content-ID: <authenticator-icon@latchkey>/im);
    expect(added.parsed.html).toMatch(/<img src="data:image\/png;base64,[^"]+" width="20" height="20" alt=""[^>]*>MacBook \(Apple Passwords\)/);
    const icon = added.parsed.attachments.find((attachment) => attachment.cid === 'authenticator-icon@latchkey');
    expect(icon?.contentType).toBe('image/png');
    expect(icon?.content.subarray(1, 4).toString()).toBe('PNG');
    expect(removed.parsed.subject).toBe('Acme: A passkey was removed from your account');
    expect(removed.parsed.text).toContain('Done by: an administrator, in the admin console');
    expect(removed.parsed.text).toContain('every session it opened was ended');
    expect(mailTo(admin.email)).toHaveLength(0);
    const audit = await services.audit.list({ target: `identity:${carol.id}`, limit: 50 });
    expect(audit.filter((event) => event.action === 'notice.sent')).toHaveLength(2);
  });

  it('notifyAdmins tells every active administrator except the one named', async () => {
    const { services } = server;
    const admins = [];
    for (const name of ['ann', 'ben', 'cid']) admins.push(await services.identities.create({ userName: `${name}-${kind}@acme.test`, email: `${name}-${kind}@acme.test`, roles: ['admin'] }, CLI_ACTOR));
    const retired = await services.identities.create({ userName: `old-${kind}@acme.test`, email: `old-${kind}@acme.test`, roles: ['admin'], active: false }, CLI_ACTOR);
    const count = await services.notices.notifyAdmins(
      { event: 'identity.scim_changed', subject: 'SCIM changed an administrator', summary: 'Okta changed the email of an administrator.', at: Date.UTC(2026, 11, 1, 12) },
      { except: admins[0].id },
    );
    await drain();
    expect(mailTo(admins[0].email)).toHaveLength(0);
    expect(mailTo(retired.email)).toHaveLength(0);
    for (const admin of admins.slice(1)) {
      expect(mailTo(admin.email)).toHaveLength(1);
      expect(mailTo(admin.email)[0].parsed.text).toContain('When: Tue, 01 Dec 2026 12:00:00 GMT');
    }
    expect(count).toBeGreaterThanOrEqual(2);
  });
});
