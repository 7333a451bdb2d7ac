/**
 * `enroll` and `invites`: the guide's "Enroll users" (Stage IV), bulk and single.
 * - `enroll <username...> --send`, `enroll --status unenrolled --send`, `enroll --group NAME --send`
 *   record every invitation first (invite + mail job in one write), then send them: through the
 *   running server's mail worker when there is one, else by draining the queue right here, so
 *   the command finishes the batch on its own. stdout gets a JSON summary, stderr a progress bar
 *   when it is a terminal;
 * - `enroll <username> --link` prints one link to hand over ("Generate link");
 * - `invites list|revoke|deliver` show, revoke and (without a server) send queued invitations.
 */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { parseDuration } from '../../config.ts';
import { AppError } from '../../domain/errors.ts';
import type { SendSummary } from '../../domain/enrollment-mail.ts';
import { ENROLLMENT_MAIL_QUEUE } from '../../domain/enrollment-mail.ts';
import type { EnrollmentStatus, IdentityRecord, InviteRecord } from '../../ports/storage.ts';
import { mailQueueHealth, mailWorkerIsRunning } from '../../workers/enrollment-mail-worker.ts';
import { describeQueueHealth } from '../../workers/queue-pause.ts';
import { CLI_ACTOR, iso, knownPublicUrl, mailSending, print, services } from '../context.ts';

const statuses: EnrollmentStatus[] = ['unenrolled', 'pending', 'enrolled'];
const PAGE = 1000;

interface EnrollOptions {
  send?: boolean;
  link?: boolean;
  status?: string;
  group?: string;
  ttl?: string;
  wait: string;
}

function durationOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === null) throw new AppError('invalid_input', `${name} must be a duration like 7d, 12h or 30m, got "${value}"`);
  return ms;
}

/** The people to invite: named ones (all must exist), or everyone active matching --status/--group. */
async function selectIdentities(usernames: string[], options: EnrollOptions): Promise<IdentityRecord[]> {
  const svc = await services();
  if (usernames.length > 0) {
    const found = await Promise.all(usernames.map(async (name) => ({ name, identity: (await svc.store.identities.getByUserName(name)) ?? (await svc.store.identities.get(name)) })));
    const missing = found.filter((entry) => !entry.identity).map((entry) => entry.name);
    if (missing.length > 0) throw new AppError('not_found', `no identity ${missing.map((name) => `"${name}"`).join(', ')}; nothing was sent`);
    const unique = new Map(found.map((entry) => [entry.identity!.id, entry.identity!]));
    return [...unique.values()];
  }
  const status = options.status as EnrollmentStatus | undefined;
  const groupId = options.group ? (await svc.groups.resolve(options.group)).id : undefined;
  // Collect the whole selection before inviting anyone: inviting moves people from unenrolled to
  // pending, which would shift the pages of a status query read while sending.
  const selected: IdentityRecord[] = [];
  const now = svc.clock.now();
  for (let offset = 0; ; offset += PAGE) {
    const page = await svc.store.identities.query({ status, groupId, filter: { attr: 'active', value: true }, offset, limit: PAGE, now });
    selected.push(...page.items);
    if (page.items.length < PAGE || selected.length >= page.total) break;
  }
  return selected;
}

/**
 * Waits until every invitation of the batch is sent or failed, or `waitMs` passed. While no
 * server's mail worker is running, this process sends them itself (same queue, same leases,
 * same pacing), so two senders never take the same invitation.
 */
async function deliverBatch(inviteIds: string[], waitMs: number): Promise<SendSummary> {
  const svc = await services();
  const { enrollmentMail, worker } = await mailSending();
  const summary = enrollmentMail.tracker(inviteIds);
  const bar =
    process.stderr.isTTY && inviteIds.length > 0
      ? new cliProgress.SingleBar(
          { stream: process.stderr, format: 'Sending invitations [{bar}] {value}/{total}  sent {sent}  failed {failed}', hideCursor: true },
          cliProgress.Presets.shades_classic,
        )
      : null;
  bar?.start(inviteIds.length, 0, { sent: 0, failed: 0 });
  let latest = await summary();
  let reading: Promise<void> | null = null;
  const refresh = () => {
    reading ??= summary()
      .then((next) => {
        latest = next;
        bar?.update(next.sent + next.failed, { sent: next.sent, failed: next.failed });
      })
      .finally(() => {
        reading = null;
      });
    return reading;
  };
  const deadline = Date.now() + waitMs;
  try {
    while (latest.waiting > 0 && Date.now() < deadline) {
      if (!(await mailWorkerIsRunning(svc.store.settings, svc.clock.now()))) {
        const ticker = setInterval(() => void refresh(), 250);
        try {
          await worker.drain();
        } finally {
          clearInterval(ticker);
        }
      }
      await refresh();
      if (latest.waiting > 0) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await refresh();
  } finally {
    bar?.stop();
  }
  return latest;
}

function inviteState(invite: InviteRecord, now: number): 'spent' | 'revoked' | 'expired' | 'active' {
  if (invite.spentAt !== null) return 'spent';
  if (invite.revokedAt !== null) return 'revoked';
  if (invite.expiresAt <= now) return 'expired';
  return 'active';
}

export function registerEnrollCommand(program: Command): void {
  program
    .command('enroll [usernames...]')
    .description('Invite people to create a passkey: email them a one-time link (--send), or print one (--link)')
    .option('--send', 'email each person a one-time enrollment link (queued, paced, retried)')
    .option('--link', 'print the link for one person, to hand over yourself')
    .option('--status <status>', `everyone active with this enrollment status: ${statuses.join(', ')}`)
    .option('--group <name>', 'every active member of this group')
    .option('--ttl <duration>', 'how long the links work, e.g. 7d, 12h (default: ENROLLMENT_LINK_TTL)')
    .option('--wait <duration>', 'how long to wait for the emails to go out before returning', '10m')
    .action(async (usernames: string[], options: EnrollOptions) => {
      if (options.send && options.link) throw new AppError('invalid_input', 'choose one delivery: --send emails the link, --link prints it');
      if (!options.send && !options.link) throw new AppError('invalid_input', 'say how to deliver the link: --send emails it, --link prints it');
      const selecting = options.status !== undefined || options.group !== undefined;
      if (usernames.length > 0 && selecting) throw new AppError('invalid_input', 'name people or select them with --status/--group, not both');
      if (usernames.length === 0 && !selecting) throw new AppError('invalid_input', 'say who to enroll: one or more usernames, --status or --group');
      if (options.status !== undefined && !statuses.includes(options.status as EnrollmentStatus)) {
        throw new AppError('invalid_input', `--status must be one of ${statuses.join(', ')}, got "${options.status}"`);
      }
      const ttlMs = durationOption('--ttl', options.ttl);
      const waitMs = durationOption('--wait', options.wait)!;
      const svc = await services();
      await knownPublicUrl();

      if (options.link) {
        if (selecting || usernames.length !== 1) throw new AppError('invalid_input', '--link makes one link for one person; use --send to invite several people');
        const identity = await svc.identities.resolve(usernames[0]);
        const issued = await svc.invites.issue(identity, { actor: CLI_ACTOR, delivery: 'link', ttlMs });
        print({ username: identity.userName, url: issued.url, expires_at: iso(issued.invite.expiresAt) });
        return;
      }

      const identities = await selectIdentities(usernames, options);
      const { enrollmentMail } = await mailSending();
      const batch = await enrollmentMail.sendInvites({ identities, ttlMs, actor: CLI_ACTOR });
      const result = await deliverBatch(batch.queued.map((entry) => entry.invite.id), waitMs);
      const userNameOf = new Map(identities.map((identity) => [identity.id, identity.userName]));
      if (result.waiting > 0) {
        process.stderr.write(`latchkey: ${result.waiting} invitation(s) still queued (SMTP retrying); the server's mail worker or \`latchkey invites deliver\` sends them\n`);
      }
      print({
        queued: result.queued,
        sent: result.sent,
        failed: result.failed,
        waiting: result.waiting,
        refused: batch.refused.map((entry) => ({ username: entry.identity.userName, reason: entry.reason })),
        failures: result.failures.map((failure) => ({ username: userNameOf.get(failure.identityId) ?? null, invite_id: failure.inviteId, error: failure.error })),
      });
    });

  const invites = program.command('invites').description('Enrollment invitations (magic links)');

  invites
    .command('list <username>')
    .description("A person's invitations, newest last, with their state and email delivery")
    .action(async (username: string) => {
      const svc = await services();
      const identity = await svc.identities.resolve(username);
      const now = svc.clock.now();
      print(
        (await svc.invites.list(identity.id)).map((invite) => ({
          id: invite.id,
          state: inviteState(invite, now),
          delivery: invite.delivery,
          send_state: invite.sendState,
          send_error: invite.sendError,
          created_at: iso(invite.createdAt),
          expires_at: iso(invite.expiresAt),
          spent_at: iso(invite.spentAt),
          revoked_at: iso(invite.revokedAt),
          created_by: invite.createdBy,
        })),
      );
    });

  invites
    .command('revoke <invite_id>')
    .description('Make an invitation link stop working (an unsent email invitation is then not sent)')
    .action(async (inviteId: string) => {
      const svc = await services();
      const invite = await svc.store.invites.get(inviteId);
      if (!invite) throw new AppError('not_found', `no invitation "${inviteId}"`);
      const state = inviteState(invite, svc.clock.now());
      if (state !== 'active') throw new AppError('conflict', `invitation "${inviteId}" is already ${state}`);
      if (!(await svc.invites.revoke(inviteId, CLI_ACTOR))) throw new AppError('conflict', `invitation "${inviteId}" was used or revoked meanwhile`);
      print({ revoked: inviteId, identity_id: invite.identityId });
    });

  invites
    .command('deliver')
    .description('Send the queued invitation emails now (for when no server is running)')
    .action(async () => {
      const svc = await services();
      const { worker } = await mailSending();
      const ran = await worker.drain();
      const counts = await svc.store.jobs.counts(ENROLLMENT_MAIL_QUEUE);
      print({ ran, queue: { ...describeQueueHealth(await mailQueueHealth(svc.store.settings)), waiting: counts.pending, done: counts.done, failed: counts.failed } });
    });

  invites
    .command('queue')
    .description('The invitation email queue: sending, or paused by an SMTP outage (since when, next try, last error)')
    .action(async () => {
      const svc = await services();
      const counts = await svc.store.jobs.counts(ENROLLMENT_MAIL_QUEUE);
      print({ ...describeQueueHealth(await mailQueueHealth(svc.store.settings)), waiting: counts.pending, done: counts.done, failed: counts.failed, worker_running: await mailWorkerIsRunning(svc.store.settings, svc.clock.now()) });
    });
}
