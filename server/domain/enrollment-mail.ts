/**
 * Invitations by email, and the one durable mail queue they share with security notices
 * (security-notices.ts: jobs with `kind: 'security-notice'`, dispatched by deliver()). Rules:
 * - an invitation is recorded before anything is sent: the invite and its mail job (queue
 *   `enrollment-mail`, keyed by invite id) are written in ONE store call, so no crash can leave
 *   an invite without its mail or a mail without its invite;
 * - the mail is sent by whichever worker leases the job (server or CLI), paced and retried by
 *   the job runner; the handler delivers the invite's current state, so running it again is safe;
 * - "sent exactly once": the invite is marked `sent` right after the SMTP server accepted the
 *   message, and a job whose invite is already `sent` sends nothing. The one remaining window is
 *   a crash (or a store outage) between the server's 250 reply and that mark: the job is then
 *   leased again after its lease expires and the person gets the same message a second time,
 *   with the same Message-ID. That is at-least-once for that window of milliseconds, never zero;
 * - an invite revoked, replaced, used or expired before its turn is not sent;
 * - a mail server that is down or refuses every session (any reply outside RCPT TO, a lost
 *   connection) is an outage, not a reason to fail the invitation: the worker pauses the queue
 *   and retries with backoff (workers/job-runner.ts), and these tries never use up attempts;
 * - an invitation that finally fails (5xx reply to RCPT TO for its recipient, or retries
 *   exhausted on that recipient's 4xx replies) is marked `failed` with
 *   the SMTP error and revoked: nobody ever received its link, so the person counts as
 *   unenrolled again and the next `--status unenrolled --send` retries them;
 * - neither the link nor its secret is ever logged or audited.
 */
import type { IdentityRecord, InviteRecord, JobRecord, Store } from '../ports/storage.ts';
import type { Clock } from '../ports/clock.ts';
import { MailSendError, type Mailer } from '../ports/mailer.ts';
import type { JobOutcome } from '../workers/job-runner.ts';
import type { Logger } from '../logger.ts';
import type { AuditLog } from './audit.ts';
import type { InviteService } from './invites.ts';
import { isAppError } from './errors.ts';
import { systemActor, type Actor } from './actor.ts';
import { hashToken, type Sealer } from './secrets.ts';
import { renderInvitationEmail } from './invitation-email.ts';
import { createSecurityNoticeDelivery, isNoticeJob, MAIL_QUEUE } from './security-notices.ts';

/** Invitations and security notices alike (the name predates notices; queued jobs keep it). */
export const ENROLLMENT_MAIL_QUEUE = MAIL_QUEUE;

const MAIL_ACTOR = systemActor('mail');

/** Attempts before a transiently failing invitation is given up (about 40 min with the worker's backoff). */
export const DEFAULT_MAIL_MAX_ATTEMPTS = 14;

interface MailJobPayload {
  inviteId: string;
  /**
   * The link secret, sealed (AES-256-GCM under the instance secret, see secrets.ts). The store
   * keeps only the secret's hash, yet a worker, maybe in another process and minutes later,
   * must put the clear link in the mail. Sealing lets exactly the holders of the instance
   * secret recover it, so a copy of the database alone yields no working link. The finished job
   * keeps the sealed value; it is worthless once the link is used, revoked or expired.
   */
  sealedSecret: string;
}

export interface QueuedInvitation {
  identity: IdentityRecord;
  invite: InviteRecord;
}

export interface InvitationBatch {
  queued: QueuedInvitation[];
  refused: Array<{ identity: IdentityRecord; reason: string }>;
}

export interface SendSummary {
  queued: number;
  sent: number;
  failed: number;
  /** Still waiting for their turn or for a retry. */
  waiting: number;
  failures: Array<{ inviteId: string; identityId: string; error: string }>;
}

export function createEnrollmentMail(deps: {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  sealer: Sealer;
  invites: InviteService;
  mailer: Mailer;
  logger: Logger;
  orgName: string;
  defaultTtlMs: number;
  maxAttempts?: number;
  /** Draws a passkey model's icon for security notices (workers/authenticator-icon.ts). */
  authenticatorIcon?: (aaguid: string) => Promise<Buffer | null>;
}) {
  const { store, clock, audit, sealer, invites, mailer, logger, orgName, defaultTtlMs } = deps;
  const maxAttempts = deps.maxAttempts ?? DEFAULT_MAIL_MAX_ATTEMPTS;
  const deliverNotice = createSecurityNoticeDelivery({ store, audit, mailer, logger, orgName, maxAttempts, authenticatorIcon: deps.authenticatorIcon });

  /**
   * Same rules as invites.issue() (and the same store call, which revokes the person's older
   * links), but the mail job must carry the sealed secret, which only exists once the secret is
   * drawn: so the invite is built here and written together with its job.
   */
  async function queueInvitation(identity: IdentityRecord, options: { actor: Actor; ttlMs?: number }): Promise<InviteRecord> {
    const { invite } = await invites.issue(identity, {
      actor: options.actor,
      delivery: 'email',
      ttlMs: options.ttlMs ?? defaultTtlMs,
      // The worker needs the link to put in the mail, but the store keeps only its hash: the
      // secret rides in the job sealed with the instance key, recorded in the same write.
      enqueue: ({ invite: record, token }) => {
        const payload: MailJobPayload = { inviteId: record.id, sealedSecret: sealer.seal(token) };
        return [{ queue: ENROLLMENT_MAIL_QUEUE, key: record.id, payload: { ...payload }, runAt: clock.now() }];
      },
    });
    return invite;
  }

  /** Records an email invitation for each person; a worker sends them. Refusals do not stop the batch. */
  async function sendInvites(input: { identities: IdentityRecord[]; ttlMs?: number; actor: Actor }): Promise<InvitationBatch> {
    const batch: InvitationBatch = { queued: [], refused: [] };
    for (const identity of input.identities) {
      try {
        batch.queued.push({ identity, invite: await queueInvitation(identity, { actor: input.actor, ttlMs: input.ttlMs }) });
      } catch (error) {
        if (!isAppError(error)) throw error;
        batch.refused.push({ identity, reason: error.message });
      }
    }
    return batch;
  }

  async function giveUp(invite: InviteRecord, error: string, action: 'invite.send_failed' | 'invite.not_sent'): Promise<void> {
    await store.invites.setSendState(invite.id, 'failed', error);
    await store.invites.revoke(invite.id, clock.now());
    await audit.record({ kind: 'enrollment', action, actor: MAIL_ACTOR, target: `identity:${invite.identityId}`, outcome: 'failure', detail: { inviteId: invite.id, error } });
  }

  /** Why an invite must not be sent any more, or null when it still should be. */
  function unsendable(invite: InviteRecord, identity: IdentityRecord | null): string | null {
    if (invite.spentAt !== null) return 'not sent: the link was already used';
    if (invite.revokedAt !== null) return 'not sent: the link was replaced by a newer invitation or revoked before it was sent';
    if (invite.expiresAt <= clock.now()) return 'not sent: the link expired before it could be sent';
    if (!identity) return 'not sent: the identity no longer exists';
    if (!identity.active) return 'not sent: the identity was deactivated';
    return null;
  }

  /** The job handler: a security notice, or one invitation (rendered and sent, outcome recorded on the invite). */
  async function deliver(job: JobRecord): Promise<JobOutcome> {
    if (isNoticeJob(job)) return deliverNotice(job);
    const payload = job.payload as unknown as MailJobPayload;
    const invite = await store.invites.get(payload.inviteId);
    if (!invite) return { kind: 'done' }; // the identity was deleted with its invites
    if (invite.sendState === 'sent') return { kind: 'done' }; // sent before a crash lost the job's completion
    if (invite.sendState === 'failed') return { kind: 'failed', error: invite.sendError ?? 'failed' };
    const identity = await store.identities.get(invite.identityId);
    const reason = unsendable(invite, identity);
    if (reason) {
      // revoke() on a revoked/spent invite is a no-op; the send state tells the administrator why.
      await giveUp(invite, reason, 'invite.not_sent');
      return { kind: 'done' };
    }
    let secret: string;
    try {
      secret = sealer.open(payload.sealedSecret);
    } catch {
      const error = 'not sent: the link cannot be unsealed (was LATCHKEY_SECRET changed?)';
      await giveUp(invite, error, 'invite.send_failed');
      return { kind: 'failed', error };
    }
    if (hashToken(secret) !== invite.tokenHash) {
      await giveUp(invite, 'not sent: the queued link does not match the invitation', 'invite.send_failed');
      return { kind: 'failed', error: 'sealed link does not match the invite' };
    }
    const link = invites.linkFor(secret);
    const email = renderInvitationEmail({ orgName, identity: identity!, link, expiresAt: invite.expiresAt });
    try {
      const receipt = await mailer.send({
        to: identity!.email,
        ...email,
        messageId: `${invite.id}.invite@latchkey`,
        headers: { 'X-Latchkey-Invite': invite.id },
        actionLink: link,
      });
      await store.invites.setSendState(invite.id, 'sent', null);
      await audit.record({ kind: 'enrollment', action: 'invite.sent', actor: MAIL_ACTOR, target: `identity:${invite.identityId}`, detail: { inviteId: invite.id, messageId: receipt.messageId, via: mailer.kind } });
      logger.info({ inviteId: invite.id, identityId: invite.identityId, messageId: receipt.messageId }, 'invitation sent');
      return { kind: 'done' };
    } catch (error) {
      const failure = error instanceof MailSendError ? error : new MailSendError((error as Error).message || String(error), { transient: true, cause: error });
      if (failure.scope === 'server') {
        // The mail server is down or refuses everyone: not this invitation's fault. It waits
        // (without using up its attempts) while the worker pauses the queue and probes.
        await store.invites.setSendState(invite.id, 'queued', failure.message);
        return { kind: 'retry', reason: 'unavailable', error: failure.message };
      }
      const lastAttempt = job.attempts + 1 >= maxAttempts;
      if (!failure.transient || lastAttempt) {
        const message = failure.transient ? `${failure.message} (gave up after ${job.attempts + 1} attempts)` : failure.message;
        await giveUp(invite, message, 'invite.send_failed');
        return { kind: 'failed', error: message };
      }
      // Still queued, but the administrator can already see why it is late.
      await store.invites.setSendState(invite.id, 'queued', failure.message);
      return { kind: 'retry', error: failure.message };
    }
  }

  /**
   * Watches a batch: counts its invitations by send state. Each call re-reads only the ones
   * still queued, so polling a large batch stays cheap.
   */
  function tracker(inviteIds: string[]) {
    const settled = new Map<string, InviteRecord>();
    const open = new Set(inviteIds);
    return async function summary(): Promise<SendSummary> {
      for (const id of [...open]) {
        const invite = await store.invites.get(id);
        if (!invite) {
          open.delete(id);
          continue;
        }
        if (invite.sendState === 'sent' || invite.sendState === 'failed') {
          settled.set(id, invite);
          open.delete(id);
        }
      }
      const done = [...settled.values()];
      const failed = done.filter((invite) => invite.sendState === 'failed');
      return {
        queued: inviteIds.length,
        sent: done.length - failed.length,
        failed: failed.length,
        waiting: open.size,
        failures: failed.map((invite) => ({ inviteId: invite.id, identityId: invite.identityId, error: invite.sendError ?? 'failed' })),
      };
    };
  }

  return { sendInvites, deliver, tracker, maxAttempts, mailer };
}

export type EnrollmentMail = ReturnType<typeof createEnrollmentMail>;
