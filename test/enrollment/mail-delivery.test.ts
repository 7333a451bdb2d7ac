/**
 * Delivery guarantees of invitation emails against a real SMTP server that misbehaves:
 * outages mid-batch, permanent refusals, replaced invitations, a worker process killed
 * mid-batch. "Exactly once" is checked where it matters, in the SMTP server's own mailbox.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { movableClock } from '../support/clock.ts';
import { createLogger } from '../../server/logger.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import type { IdentityRecord } from '../../server/ports/storage.ts';
import { createPeople, mailSendingFor, statusesOf, until } from './helpers.ts';
import { readQueuePause, writeQueuePause } from '../../server/workers/queue-pause.ts';
import { ENROLLMENT_MAIL_QUEUE } from '../../server/domain/enrollment-mail.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

const workerFixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'mail-worker-process.ts');

describe.each(STORE_KINDS)('invitation delivery (%s)', (kind) => {
  let sink: SmtpSink;
  let server: TestServer;
  const clock = movableClock();

  beforeAll(async () => {
    sink = await startSmtpSink();
    server = await startTestServer({ store: kind, clock, env: { SMTP_URL: sink.url, MAIL_RATE_PER_SECOND: '50' } });
  });

  afterEach(async () => {
    sink.beforeMail = null;
    sink.rejectRecipients.clear();
    sink.deferRecipients.clear();
    // The suite shares one store: an outage pause left by one test must not hold the next.
    await writeQueuePause(server.services.store.settings, ENROLLMENT_MAIL_QUEUE, null);
    await sink.setMode('accept');
  });

  afterAll(async () => {
    await server?.close();
    await sink?.close();
  });

  const sendStates = async (ids: string[]) => Promise.all(ids.map(async (id) => (await server.services.store.invites.get(id))!));
  const expectEachOnce = (people: IdentityRecord[]) => {
    for (const person of people) expect({ who: person.email, count: sink.countFor(person.email) }).toEqual({ who: person.email, count: 1 });
  };

  it('SMTP down mid-batch, then back: every invitation ends sent, exactly once', async () => {
    const people = await createPeople(server.services, 30, `outage-${kind}-`);
    // The worker's own log says what each attempt met, in order.
    const attempts: Array<{ msg?: string; error?: string }> = [];
    const logger = createLogger('info', { write: (line: string) => void attempts.push(JSON.parse(line) as { msg?: string; error?: string }) });
    const { enrollmentMail, worker } = mailSendingFor(server.services, {}, logger);
    const batch = await enrollmentMail.sendInvites({ identities: people, actor: CLI_ACTOR });
    const ids = batch.queued.map((entry) => entry.invite.id);
    const before = sink.messages.length;
    worker.start();
    try {
      await until(() => sink.messages.length >= before + 10, 20_000, 'the first 10 messages');
      // Connection refused, then connections dropped at once, then 421 replies. Each mode stays
      // until the worker has met it, i.e. logged a failed attempt with that mode's own error
      // after the switch (an attempt is one connection at a time, so an error logged after a
      // switch that matches only this mode's pattern came from this mode).
      const modes: Array<{ mode: 'down' | 'hangup' | 'refuse'; error: RegExp }> = [
        { mode: 'down', error: /ECONNREFUSED/ },
        { mode: 'hangup', error: /closed unexpectedly|ECONNRESET|socket close/i },
        { mode: 'refuse', error: /^421 / },
      ];
      for (const { mode, error } of modes) {
        const from = attempts.length;
        await sink.setMode(mode);
        const met = () => attempts.slice(from).some((line) => typeof line.error === 'string' && error.test(line.error));
        await until(met, 20_000, () => `the worker to meet "${mode}" (${error}); errors since the switch: ${JSON.stringify(attempts.slice(from).map((line) => line.error))}`);
        expect((await sendStates(ids)).filter((invite) => invite.sendState === 'queued').length).toBeGreaterThan(0);
      }
      expect(sink.outageConnections.hangup).toBeGreaterThan(0);
      expect(sink.outageConnections.refuse).toBeGreaterThan(0);
      // None of that used up an invitation: an outage is not the recipient's fault.
      expect((await sendStates(ids)).filter((invite) => invite.sendState === 'failed')).toEqual([]);
      await sink.setMode('accept');
      await until(async () => (await sendStates(ids)).every((invite) => invite.sendState === 'sent'), 30_000, 'every invitation sent');
    } finally {
      await worker.stop();
    }
    expectEachOnce(people);
    expect(sink.messages.length - before).toBe(30);
    for (const invite of await sendStates(ids)) expect(invite.sendError).toBeNull();
    expect(await statusesOf(server.services, people)).toEqual(people.map(() => 'pending'));
  }, 90_000);

  it('a permanent refusal (5xx) ends failed with the SMTP error, and the person is unenrolled again', async () => {
    const people = await createPeople(server.services, 3, `reject-${kind}-`);
    sink.rejectRecipients.add(people[1].email);
    const { enrollmentMail, worker } = mailSendingFor(server.services);
    const batch = await enrollmentMail.sendInvites({ identities: people, actor: CLI_ACTOR });
    await worker.drain();
    const [first, refused, third] = await sendStates(batch.queued.map((entry) => entry.invite.id));
    expect(first.sendState).toBe('sent');
    expect(third.sendState).toBe('sent');
    expect(refused.sendState).toBe('failed');
    expect(refused.sendError).toMatch(/550 .*user unknown/);
    expect(refused.revokedAt).not.toBeNull();
    expect(sink.countFor(people[1].email)).toBe(0);
    expect(await statusesOf(server.services, people)).toEqual(['pending', 'unenrolled', 'pending']);
    const summary = await enrollmentMail.tracker(batch.queued.map((entry) => entry.invite.id))();
    expect(summary).toMatchObject({ queued: 3, sent: 2, failed: 1, waiting: 0 });
    expect(summary.failures[0].error).toMatch(/550/);
  });

  it('gives up after the last retry on a recipient the server keeps deferring, and says why', async () => {
    const [person] = await createPeople(server.services, 1, `give-up-${kind}-`);
    sink.deferRecipients.add(person.email);
    const { enrollmentMail, worker } = mailSendingFor(server.services, { maxAttempts: 3, baseBackoffMs: 50, maxBackoffMs: 100 });
    const { queued } = await enrollmentMail.sendInvites({ identities: [person], actor: CLI_ACTOR });
    // Each retry becomes due by moving the clock past its backoff, not by waiting for it.
    const mailsBefore = sink.mailCommands;
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect((await server.services.store.invites.get(queued[0].invite.id))!.sendState).toBe('queued');
      expect(await worker.drain()).toBe(1);
      clock.advance(1_000);
    }
    expect((await server.services.store.invites.get(queued[0].invite.id))!.sendState).toBe('failed');
    expect(sink.mailCommands - mailsBefore).toBe(3);
    const invite = (await server.services.store.invites.get(queued[0].invite.id))!;
    expect(invite.sendError).toMatch(/450.*gave up after 3 attempts/);
  });

  it('an invitation replaced or revoked before its turn is not sent; only the newest link goes out', async () => {
    const [replaced, revoked] = await createPeople(server.services, 2, `superseded-${kind}-`);
    const { enrollmentMail, worker } = mailSendingFor(server.services);
    const older = (await enrollmentMail.sendInvites({ identities: [replaced, revoked], actor: CLI_ACTOR })).queued;
    const newer = (await enrollmentMail.sendInvites({ identities: [replaced], actor: CLI_ACTOR })).queued[0];
    await server.services.invites.revoke(older[1].invite.id, CLI_ACTOR);
    await worker.drain();
    expect(sink.countFor(replaced.email)).toBe(1);
    expect(sink.countFor(revoked.email)).toBe(0);
    const message = sink.messages.find((candidate) => candidate.to.includes(replaced.email))!;
    expect(message.parsed.headers.get('x-latchkey-invite')).toBe(newer.invite.id);
    const [oldReplaced, oldRevoked] = await sendStates(older.map((entry) => entry.invite.id));
    expect(oldReplaced).toMatchObject({ sendState: 'failed' });
    expect(oldReplaced.sendError).toMatch(/replaced by a newer invitation/);
    expect(oldRevoked.sendState).toBe('failed');
    expect((await server.services.store.invites.get(newer.invite.id))!.sendState).toBe('sent');
  });

  it('a job taken again after its mail was sent and marked (crash before completing the job) sends nothing', async () => {
    const [person] = await createPeople(server.services, 1, `rerun-${kind}-`);
    const { enrollmentMail, worker } = mailSendingFor(server.services);
    const { queued } = await enrollmentMail.sendInvites({ identities: [person], actor: CLI_ACTOR });
    const { jobs } = server.services.store;
    const job = await jobs.lease('enrollment-mail', 'crashed-worker', server.services.clock.now(), 300);
    expect(job?.key).toBe(queued[0].invite.id);
    expect(await enrollmentMail.deliver(job!)).toEqual({ kind: 'done' }); // sent and marked; never completed
    clock.advance(1_000); // the crashed worker's lease runs out
    expect(await worker.drain()).toBe(1);
    expect(sink.countFor(person.email)).toBe(1);
    expect((await jobs.get('enrollment-mail', queued[0].invite.id))!.state).toBe('done');
  });

  it('a worker process killed mid-batch and restarted sends every invitation exactly once', async () => {
    const people = await createPeople(server.services, 30, `crash-${kind}-`);
    const { enrollmentMail } = mailSendingFor(server.services);
    const batch = await enrollmentMail.sendInvites({ identities: people, actor: CLI_ACTOR });
    const ids = batch.queued.map((entry) => entry.invite.id);
    const before = sink.messages.length;
    const base = sink.mailCommands;

    const child = spawn(process.execPath, ['--import', 'tsx', workerFixture], {
      env: { ...process.env, ...server.env, SMTP_URL: sink.url, TEST_MAIL_LEASE_MS: '2000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    // SIGKILL the worker in the middle of its 13th SMTP transaction: no chance to clean up,
    // its lease on that invitation stays behind.
    sink.beforeMail = async (count) => {
      if (count === base + 13) {
        child.kill('SIGKILL');
        await exited;
        throw new Error('sender gone');
      }
    };
    expect(await exited, stderr).toBe('SIGKILL');
    sink.beforeMail = null;
    expect(sink.messages.length - before).toBe(12);
    const afterCrash = await sendStates(ids);
    expect(afterCrash.filter((invite) => invite.sendState === 'sent')).toHaveLength(12);

    const { worker } = mailSendingFor(server.services, { leaseMs: 2_000 });
    worker.start();
    try {
      await until(async () => (await sendStates(ids)).every((invite) => invite.sendState === 'sent'), 30_000, 'every invitation sent after the restart');
    } finally {
      await worker.stop();
    }
    expectEachOnce(people);
    expect(sink.messages.length - before).toBe(30);
  }, 90_000);
});
