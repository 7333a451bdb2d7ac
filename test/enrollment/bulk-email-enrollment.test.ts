/**
 * The guide's bulk enrollment end to end: 50 people, one email each through a real SMTP server,
 * every message parsed, every link used to enroll a passkey, and the enrollment status moving
 * unenrolled -> pending -> enrolled. The first few links are opened in Chromium with a virtual
 * authenticator (the page a person sees); the rest go through the same HTTP endpoints with a
 * software authenticator, which proves the same thing per link at a fraction of a browser's cost.
 * Runs on both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { launchChromium, newPasskeyPage } from '../support/browser.ts';
import { linkIn, startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { formatExpiry } from '../../server/domain/invitation-email.ts';
import { createPeople, mailSendingFor, statusesOf } from './helpers.ts';
import { enrollOverHttp } from '../support/http-login.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

const ORG = 'Acme <Robotics> & Co';
/** How many of the 50 links are opened in Chromium; the rest enroll over HTTP. */
const IN_BROWSER = 5;

describe.each(STORE_KINDS)('bulk invitation by email (%s)', (kind) => {
  let sink: SmtpSink;
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    sink = await startSmtpSink();
    server = await startTestServer({ store: kind, env: { SMTP_URL: sink.url, ORG_NAME: ORG, MAIL_FROM: 'Acme IT <it@acme.test>', MAIL_RATE_PER_SECOND: '20' } });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await sink?.close();
  });

  it('emails 50 people a paced invitation each, and every link enrolls a passkey (the first five in Chromium)', async () => {
    const { services } = server;
    const people = await createPeople(services, 50, `bulk-${kind}-`);
    expect(await statusesOf(services, people)).toEqual(people.map(() => 'unenrolled'));

    const { enrollmentMail, worker } = mailSendingFor(services);
    const batch = await enrollmentMail.sendInvites({ identities: people, actor: CLI_ACTOR });
    expect(batch.refused).toEqual([]);
    expect(batch.queued).toHaveLength(50);
    // Recorded before anything is sent: every invitation is queued and the people are pending.
    expect(sink.messages).toHaveLength(0);
    for (const { invite } of batch.queued) expect((await services.store.invites.get(invite.id))!.sendState).toBe('queued');
    expect(await statusesOf(services, people)).toEqual(people.map(() => 'pending'));

    const started = Date.now();
    expect(await worker.drain()).toBe(50);
    const elapsed = Date.now() - started;
    expect(sink.messages).toHaveLength(50);
    // 20 per second: 49 gaps of at least 50 ms between consecutive sends.
    expect(elapsed).toBeGreaterThanOrEqual(2_400);
    const gaps = sink.messages.slice(1).map((message, index) => message.receivedAt - sink.messages[index].receivedAt);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(30);

    const links = new Map<string, string>();
    for (const { identity, invite } of batch.queued) {
      expect(sink.countFor(identity.email)).toBe(1);
      const message = sink.messages.find((candidate) => candidate.to.includes(identity.email))!;
      const { parsed } = message;
      expect(parsed.from?.value[0].address).toBe('it@acme.test');
      expect(parsed.subject).toBe(`Create your passkey for ${ORG}`);
      expect(parsed.headers.get('x-latchkey-invite')).toBe(invite.id);
      expect(parsed.messageId).toBe(`<${invite.id}.invite@latchkey>`);
      const text = parsed.text!;
      const link = linkIn(text);
      expect(link.startsWith(`${server.url}/enroll/`)).toBe(true);
      expect(text).toContain(`Hi ${identity.givenName},`);
      expect(text).toContain(ORG);
      expect(text).toContain('What is a passkey?');
      expect(text).toMatch(/1\. Open the link[\s\S]*2\. Press "Create passkey"/);
      expect(text).toContain(`expires on ${formatExpiry(invite.expiresAt)}`);
      const html = parsed.html as string;
      expect(html).toContain('Acme &lt;Robotics&gt; &amp; Co');
      expect(html).not.toContain(ORG);
      expect(html).toContain(`href="${link}"`);
      expect(html).toContain(formatExpiry(invite.expiresAt));
      expect((await services.store.invites.get(invite.id))!.sendState).toBe('sent');
      links.set(identity.id, link);
    }
    expect(new Set(links.values()).size).toBe(50);

    // One browser page; each person gets a fresh virtual authenticator (their own device), which
    // is much faster than a browser context per person.
    const { page, cdp, context, authenticatorId: first } = await newPasskeyPage(browser);
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: first });
    try {
      for (const person of people.slice(0, IN_BROWSER)) {
        const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
          options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
        });
        await page.goto(links.get(person.id)!);
        await page.getByText('This device is ready').waitFor();
        await page.click('#create');
        await page.locator('#step-done').waitFor({ state: 'visible' });
        const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
        expect(credentials).toHaveLength(1);
        expect(Buffer.from(credentials[0].userHandle!, 'base64').toString()).toBe(person.id);
        await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
      }
    } finally {
      await context.close();
    }
    for (const person of people.slice(IN_BROWSER)) {
      const authenticator = new SoftAuthenticator({ origin: server.url });
      const enrolled = await enrollOverHttp(links.get(person.id)!, authenticator);
      expect(enrolled.status, person.userName).toBe(200);
      expect(await services.passkeys.listFor(person.id)).toHaveLength(1);
    }
    expect(await statusesOf(services, people)).toEqual(people.map(() => 'enrolled'));
    for (const { invite } of batch.queued) expect((await services.store.invites.get(invite.id))!.spentAt).not.toBeNull();
  }, 300_000);
});
