/**
 * SIGTERM drains (issue 13, item 9), with the real server process: a request still uploading
 * when the signal arrives completes, the invitation being sent completes, the worker leases
 * nothing new, and the process exits 0; the remaining jobs are free at once for another instance
 * (no lease left to expire), which sends each of them exactly once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../server/config.ts';
import { createServices, openStore } from '../../server/bootstrap.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';
import { ENROLLMENT_MAIL_QUEUE } from '../../server/domain/enrollment-mail.ts';
import { createMailSending } from '../../server/workers/enrollment-mail-worker.ts';
import { openMailer } from '../../adapters/mail/open-mailer.ts';
import { startSmtpSink } from '../support/smtp-sink.ts';
import { startServerProcess } from '../support/server-process.ts';
import { createPeople } from '../enrollment/helpers.ts';

const INVITES = 12;

describe('graceful shutdown (real server process)', () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('SIGTERM: the in-flight request and mail complete, no lease is left behind, exit 0', async () => {
    const sink = await startSmtpSink();
    cleanups.push(() => sink.close());
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'latchkey-drain-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const env = { DATA_DIR: dataDir, SMTP_URL: sink.url, MAIL_RATE_PER_SECOND: '2', SHUTDOWN_GRACE: '20s' };

    // Beside the server, as the CLI would: a SCIM token and a batch of queued invitations.
    const config = loadConfig({ ...env, NODE_ENV: 'test', LOG_LEVEL: 'silent' });
    const store = await openStore(config);
    cleanups.push(() => store.close());
    const services = createServices(config, store);
    const { token } = await services.scimTokens.create({ name: 'drain test' }, CLI_ACTOR);
    const people = await createPeople(services, INVITES, 'drain-');
    const logger = pino({ level: 'silent' });
    const { enrollmentMail, worker } = createMailSending(services, openMailer(config, logger), logger, { heartbeat: false, ratePerSecond: 1000 });
    await enrollmentMail.sendInvites({ identities: people, actor: CLI_ACTOR });

    // The third message is held at MAIL FROM until the test lets it go.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const isHeld = new Promise<void>((resolve) => (holding = resolve));
    sink.beforeMail = async (count) => {
      if (count !== 3) return;
      holding();
      await held;
    };

    const server = await startServerProcess({ env });
    cleanups.push(() => server.stop('SIGKILL'));
    await isHeld;

    // A SCIM create whose body is still uploading; 100-continue tells us the server has it.
    const body = JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'slow@example.com', emails: [{ value: 'slow@example.com', primary: true }], active: true });
    const upload = request(`${server.url}/scim/v2/Users`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json', 'content-length': Buffer.byteLength(body), expect: '100-continue' } });
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      upload.on('response', (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      });
      upload.on('error', reject);
    });
    await new Promise<void>((resolve) => {
      upload.once('continue', () => resolve());
      upload.flushHeaders();
    });
    upload.write(body.slice(0, 40));

    const exited = server.stop('SIGTERM');
    await server.waitForLog((line) => /^shutting down/.test(String(line.msg ?? '')), 20_000);
    upload.end(body.slice(40));
    expect(await response).toMatchObject({ status: 201 });
    release();
    const code = await exited;
    expect(server.output()).toMatch(/shutdown complete/);
    expect(code).toBe(0);

    // The held message went out once; nothing is leased by the stopped server.
    const sentByServer = sink.messages.length;
    expect(sentByServer).toBeGreaterThanOrEqual(3);
    expect(sentByServer).toBeLessThan(INVITES);
    const leased = (await store.jobs.list(ENROLLMENT_MAIL_QUEUE, 'pending', 100)).filter((job) => job.lockedUntil !== null && job.lockedUntil > Date.now());
    expect(leased).toEqual([]);
    // Another instance takes every remaining job at once, and each person gets exactly one mail.
    expect(await worker.drain()).toBe(INVITES - sentByServer);
    for (const person of people) expect({ who: person.email, count: sink.countFor(person.email) }).toEqual({ who: person.email, count: 1 });
  }, 120_000);
});
