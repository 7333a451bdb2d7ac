/**
 * The operator's side of Stage IV through the real CLI (`bin/latchkey.js` in a child process):
 * `identities list` filters give exactly the right sets, `enroll ... --send` finishes a batch
 * with or without a running server, `--link`, `invites list|revoke`, and the development outbox.
 * Runs on both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { enrollOverHttp } from '../support/http-login.ts';
import type { IdentityRecord } from '../../server/ports/storage.ts';
import { mailSendingFor } from './helpers.ts';
import { cliFor, parseCliJson, runCli as runLatchkey } from '../support/cli.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';
import { issueExpiredLink } from '../support/builders.ts';

const runCli = (args: string[], env: Record<string, string>) => runLatchkey(args, env);

describe.each(STORE_KINDS)('enrollment from the CLI (%s)', (kind) => {
  let server: TestServer;
  let sink: SmtpSink;
  let env: Record<string, string>;
  const people: Record<string, IdentityRecord> = {};
  const prefix = `cli-${kind}-`;

  const cli = (...args: string[]) => cliFor(env).json(...args);
  const listed = async (...filters: string[]) => {
    const out = await cli('identities', 'list', '--search', prefix, ...filters);
    return (out.items as Array<{ username: string }>).map((item) => item.username.slice(prefix.length)).sort();
  };

  // Enrolling and revoking passkeys also sends security notices: count the invitations only.
  const invitationsTo = (address: string) => sink.messages.filter((message) => message.to.includes(address.toLowerCase()) && message.parsed.headers.has('x-latchkey-invite')).length;

  beforeAll(async () => {
    sink = await startSmtpSink();
    server = await startTestServer({ store: kind, env: { ORG_NAME: 'Acme', SMTP_URL: sink.url } });
    env = { ...server.env, MAIL_RATE_PER_SECOND: '50', LOG_LEVEL: 'warn' };
    const { services } = server;
    for (const name of ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8']) {
      people[name] = await services.identities.create({ userName: `${prefix}${name}`, email: `${prefix}${name}@acme.test` }, CLI_ACTOR);
    }
    await services.groups.create({ displayName: `Engineering ${kind}`, memberIds: [people.a1.id, people.a2.id, people.a3.id] }, CLI_ACTOR);
    const enroll = async (name: string) => {
      const { url } = await services.invites.issue(people[name], { actor: CLI_ACTOR, delivery: 'link' });
      expect((await enrollOverHttp(url, new SoftAuthenticator({ origin: server.url }))).status).toBe(200);
    };
    await enroll('a1'); // enrolled
    await services.invites.issue(people.a2, { actor: CLI_ACTOR, delivery: 'link' }); // pending
    await issueExpiredLink(services, people.a3); // expired -> unenrolled
    const revoked = await services.invites.issue(people.a4, { actor: CLI_ACTOR, delivery: 'link' });
    await services.invites.revoke(revoked.invite.id, CLI_ACTOR); // revoked -> unenrolled
    await enroll('a5');
    await services.invites.issue(people.a5, { actor: CLI_ACTOR, delivery: 'link' }); // enrolled + pending -> enrolled
    await enroll('a6');
    for (const passkey of await services.passkeys.listFor(people.a6.id)) await services.passkeys.revoke(passkey.id, CLI_ACTOR); // -> unenrolled
    await mailSendingFor(services).enrollmentMail.sendInvites({ identities: [people.a7], actor: CLI_ACTOR }); // queued email -> pending
    await services.identities.update(people.a8.id, { active: false }, CLI_ACTOR); // deactivated, unenrolled
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await sink?.close();
  });

  it('identities list filters give exactly the right sets', async () => {
    // Read-only commands, independent of each other: run side by side (each is its own process).
    const [all, enrolled, pending, unenrolled, group, groupUnenrolled, groupPending, page, bad] = await Promise.all([
      listed(),
      listed('--status', 'enrolled'),
      listed('--status', 'pending'),
      listed('--status', 'unenrolled'),
      listed('--group', `Engineering ${kind}`),
      listed('--group', `Engineering ${kind}`, '--status', 'unenrolled'),
      listed('--group', `Engineering ${kind}`, '--status', 'pending'),
      cli('identities', 'list', '--search', prefix, '--limit', '3', '--offset', '3'),
      runCli(['identities', 'list', '--status', 'sleeping'], env),
    ]);
    expect(all).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8']);
    expect(enrolled).toEqual(['a1', 'a5']);
    expect(pending).toEqual(['a2', 'a7']);
    expect(unenrolled).toEqual(['a3', 'a4', 'a6', 'a8']);
    expect(group).toEqual(['a1', 'a2', 'a3']);
    expect(groupUnenrolled).toEqual(['a3']);
    expect(groupPending).toEqual(['a2']);
    expect(page.total).toBe(8);
    expect(page.items.map((item: { username: string }) => item.username.slice(prefix.length))).toEqual(['a4', 'a5', 'a6']);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);

  it('enroll --status unenrolled --send emails every active unenrolled person and finishes the batch itself', async () => {
    const result = await runCli(['enroll', '--status', 'unenrolled', '--send'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(parseCliJson([], result)).toEqual({ queued: 3, sent: 3, failed: 0, waiting: 0, refused: [], failures: [] });
    for (const name of ['a3', 'a4', 'a6']) expect(invitationsTo(people[name].email)).toBe(1);
    expect(invitationsTo(people.a8.email)).toBe(0); // deactivated: not selected
    expect(await listed('--status', 'unenrolled')).toEqual(['a8']);
    expect(await listed('--status', 'pending')).toEqual(['a2', 'a3', 'a4', 'a6', 'a7']);
    // The queued invitation of a7 (recorded before) was sent too: the CLI drained the queue.
    expect(invitationsTo(people.a7.email)).toBe(1);
  }, 60_000);

  it('enroll --group and several usernames; refusals are reported, not fatal', async () => {
    const group = await cli('enroll', '--group', `Engineering ${kind}`, '--send');
    expect(group).toMatchObject({ queued: 3, sent: 3, failed: 0, waiting: 0 });
    const named = await cli('enroll', `${prefix}a5`, `${prefix}a8`, '--send', '--ttl', '2d');
    expect(named).toMatchObject({ queued: 1, sent: 1, failed: 0, refused: [{ username: `${prefix}a8`, reason: expect.stringContaining('deactivated') }] });
    const [invite] = (await server.services.invites.list(people.a5.id)).filter((candidate) => candidate.delivery === 'email');
    expect(invite.expiresAt - invite.createdAt).toBe(2 * 86_400_000);
    const unknown = await runCli(['enroll', `${prefix}a1`, 'nobody-at-all', '--send'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no identity "nobody-at-all"; nothing was sent');
  }, 60_000);

  it('beside a running server the CLI leaves the sending to its mail worker', async () => {
    const { worker } = mailSendingFor(server.services, { heartbeat: true });
    worker.start();
    try {
      const before = invitationsTo(people.a2.email);
      const out = await cli('enroll', `${prefix}a2`, '--send');
      expect(out).toMatchObject({ queued: 1, sent: 1, failed: 0 });
      expect(invitationsTo(people.a2.email)).toBe(before + 1);
    } finally {
      await worker.stop();
    }
  }, 60_000);

  it('--link prints one link; invites list and revoke', async () => {
    const link = await cli('enroll', `${prefix}a4`, '--link', '--ttl', '12h');
    expect(link.url).toMatch(new RegExp(`^${server.url}/enroll/[A-Za-z0-9_-]{43}$`));
    const many = await runCli(['enroll', `${prefix}a4`, `${prefix}a3`, '--link'], env);
    expect(many.code).toBe(1);
    expect(many.stderr).toMatch(/^latchkey: --link makes one link for one person/);
    const neither = await runCli(['enroll', `${prefix}a4`], env);
    expect(neither.code).toBe(1);

    const invites = await cli('invites', 'list', `${prefix}a4`);
    const active = invites.filter((invite: { state: string }) => invite.state === 'active');
    expect(active).toHaveLength(1);
    expect(active[0]).toMatchObject({ delivery: 'link', send_state: null });
    expect(invites.find((invite: { delivery: string }) => invite.delivery === 'email')).toMatchObject({ state: 'revoked', send_state: 'sent' });
    expect(await cli('invites', 'revoke', active[0].id)).toEqual({ revoked: active[0].id, identity_id: people.a4.id });
    expect((await fetch(link.url)).status).toBe(410);
    const twice = await runCli(['invites', 'revoke', active[0].id], env);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('already revoked');
    expect(await listed('--status', 'unenrolled')).toEqual(['a4', 'a8']);
  }, 60_000);

  it('without SMTP_URL, development mail lands in DATA_DIR/outbox; the log names the file, never the link', async () => {
    const devEnv = { ...env, SMTP_URL: '', NODE_ENV: 'development', LOG_LEVEL: 'trace' };
    const result = await runCli(['enroll', `${prefix}a4`, '--send'], devEnv);
    expect(result.code, result.stderr).toBe(0);
    expect(parseCliJson([], result)).toMatchObject({ queued: 1, sent: 1, failed: 0 });
    const outbox = path.join(server.dataDir, 'outbox');
    const files = readdirSync(outbox).filter((file) => file.endsWith('.eml'));
    expect(files).toHaveLength(1);
    const parsed = await simpleParser(readFileSync(path.join(outbox, files[0])));
    expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.value[0].address : null).toBe(people.a4.email);
    const link = /https?:\/\/\S+\/enroll\/[A-Za-z0-9_-]+/.exec(parsed.text!)![0];
    expect(result.stderr).not.toContain(link.split('/enroll/')[1]);
    expect(result.stderr).toContain(`written to ${path.join(outbox, files[0])}`);
    expect((await enrollOverHttp(link, new SoftAuthenticator({ origin: server.url }))).status).toBe(200);
  }, 60_000);
});
