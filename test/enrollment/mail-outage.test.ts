/**
 * An SMTP outage is an outage, not 100 failed invitations (issue 13, item 3): a 3-second window
 * in which the real SMTP server answers every session with 554 pauses the queue, raises an alert
 * (an error log line and the queue's health state), and every invitation is sent once it ends.
 * A permanent refusal of one recipient (550 to RCPT TO) still fails that one invitation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { openMailer } from '../../adapters/mail/open-mailer.ts';
import { createMailSending, mailQueueHealth } from '../../server/workers/enrollment-mail-worker.ts';
import type { QueueHealth } from '../../server/workers/queue-pause.ts';
import { createPeople, until } from './helpers.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

/** Long enough for three failures in a row (200, 400 ms backoffs) to pause the queue and for probes to meet the refusal. */
const WINDOW_MS = 3_000;

describe.each(STORE_KINDS)('SMTP outage (%s)', (kind) => {
  let sink: SmtpSink;
  let server: TestServer;

  beforeAll(async () => {
    sink = await startSmtpSink();
    server = await startTestServer({ store: kind, env: { SMTP_URL: sink.url, MAIL_RATE_PER_SECOND: '50' } });
  });

  afterAll(async () => {
    await server?.close();
    await sink?.close();
  });

  it('a 3-second 5xx window fails none of 100 invitations; the queue pauses, alerts once, and resumes by itself', async () => {
    const logLines: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _encoding, done) => (logLines.push(JSON.parse(chunk.toString())), done()) }));
    const people = await createPeople(server.services, 100, `window-${kind}-`);
    const unknown = people[4];
    sink.rejectRecipients.add(unknown.email);
    const { enrollmentMail, worker } = createMailSending(server.services, openMailer(server.services.config, logger), logger, { heartbeat: false, leaseMs: 5_000, pollMs: 100, baseBackoffMs: 200, outageMaxBackoffMs: 1_000 });
    const batch = await enrollmentMail.sendInvites({ identities: people, actor: CLI_ACTOR });
    const ids = batch.queued.map((entry) => entry.invite.id);
    // The window opens on the 20th MAIL FROM, in the middle of the batch.
    let windowOpenedAt = 0;
    sink.beforeMail = (count) => {
      if (count === 20 && !windowOpenedAt) {
        windowOpenedAt = Date.now();
        sink.refuseFor(WINDOW_MS, { code: 554, stage: 'mail' });
      }
    };
    const states: QueueHealth['state'][] = [];
    const health = setInterval(() => void mailQueueHealth(server.services.store.settings).then((state) => states.push(state.state)), 100);
    worker.start();
    try {
      await until(async () => {
        const invites = await Promise.all(ids.map((id) => server.services.store.invites.get(id)));
        return invites.every((invite) => invite!.sendState !== 'queued');
      }, 60_000, 'every invitation sent or failed');
    } finally {
      clearInterval(health);
      await worker.stop();
    }
    const invites = await Promise.all(ids.map(async (id) => (await server.services.store.invites.get(id))!));
    const failed = invites.filter((invite) => invite.sendState === 'failed');
    expect(failed.map((invite) => invite.identityId)).toEqual([unknown.id]);
    expect(failed[0].sendError).toMatch(/550 .*user unknown/);
    for (const person of people) if (person !== unknown) expect({ who: person.email, count: sink.countFor(person.email) }).toEqual({ who: person.email, count: 1 });
    // The last invitations went out only after the window closed: the queue waited it out.
    expect(Math.max(...sink.messages.map((message) => message.receivedAt))).toBeGreaterThanOrEqual(windowOpenedAt + WINDOW_MS);
    // Paused, not hammering: a few probes during the window, not one try per queued invitation.
    expect(sink.refused).toBeGreaterThanOrEqual(3);
    expect(sink.refused).toBeLessThan(25);
    // The operator is told: the state said "outage" during the window and "sending" after it,
    // and an error-level line said the queue paused.
    expect(states).toContain('outage');
    expect((await mailQueueHealth(server.services.store.settings)).state).toBe('sending');
    expect(logLines.filter((line) => line.level >= 50).map((line) => line.msg)).toContain('enrollment-mail: upstream unavailable, queue paused');
  }, 120_000);
});
