/**
 * An enrollment link never reaches a log line, at any level: not the access log of its pages, not
 * the mail worker, not the development outbox (the .eml file is where the link is).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { enrollOverHttp } from '../support/http-login.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { createLogger } from '../../server/logger.ts';
import { openMailer } from '../../adapters/mail/open-mailer.ts';
import { createMailSending } from '../../server/workers/enrollment-mail-worker.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

describe('enrollment links in logs', () => {
  let server: TestServer;
  const lines: string[] = [];
  const capture = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger('trace', capture);

  beforeAll(async () => {
    server = await startTestServer({ env: { NODE_ENV: 'development', LOG_LEVEL: 'trace' }, logger });
  });
  afterAll(async () => server?.close());

  it('logs neither the emailed nor the handed-out link at level trace, from issue to enrollment', async () => {
    const { services } = server;
    const person = await services.identities.create({ userName: 'lee@acme.test', email: 'lee@acme.test' }, CLI_ACTOR);
    const { enrollmentMail, worker } = createMailSending(services, openMailer(services.config, logger), logger, { heartbeat: false, pollMs: 50 });
    await enrollmentMail.sendInvites({ identities: [person], actor: CLI_ACTOR });
    await worker.drain();
    const outbox = path.join(server.dataDir, 'outbox');
    const [file] = readdirSync(outbox).filter((name) => name.endsWith('.eml'));
    const emailed = /https?:\/\/\S+\/enroll\/([A-Za-z0-9_-]+)/.exec(readFileSync(path.join(outbox, file), 'utf8'))!;
    const handedOut = await services.invites.issue(person, { actor: CLI_ACTOR, delivery: 'link' });
    expect((await enrollOverHttp(handedOut.url, new SoftAuthenticator({ origin: server.url }))).status).toBe(200);
    await fetch(emailed[0]); // the spent link's page, logged as a request

    const log = lines.join('');
    expect(log).toContain('development outbox');
    expect(log).toContain('/enroll/[link]');
    expect(log).not.toContain(emailed[1]);
    expect(log).not.toContain(handedOut.token);
    expect(logger.isLevelEnabled('trace')).toBe(true); // every level was on
  });
});
