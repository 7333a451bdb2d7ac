/**
 * Security notices: short emails telling a person (or the administrators) that something changed
 * on an account, so a change they did not make is noticed and reported. Rules:
 * - a notice is a job on the durable mail queue (the invitations' queue, `kind: 'security-notice'`),
 *   never a send inside the request: a slow or failing SMTP server delays the mail, not the change;
 * - where the change is a store write (a passkey added or removed), the notice job is recorded in
 *   that same write (onPasskeyChange is a passkey-change listener), so no change goes untold;
 * - the recipient's address is read when the mail is sent, and a notice names what happened, when,
 *   from which browser and device, and how to report it; it never carries a link or a secret;
 * - each notice is one mail with a stable Message-ID (its job key), retried like invitations.
 */
import { randomUUID } from 'node:crypto';
import Bowser from 'bowser';
import type { IdentityRecord, JobInput, JobRecord, Store } from '../ports/storage.ts';
import type { Clock } from '../ports/clock.ts';
import { MailSendError, type Mailer } from '../ports/mailer.ts';
import type { JobOutcome } from '../workers/job-runner.ts';
import type { Logger } from '../logger.ts';
import type { AuditLog } from './audit.ts';
import { systemActor, type Actor } from './actor.ts';
import { ADMIN_ROLE } from './apps.ts';
import { authenticatorModel } from './authenticator-models.ts';
import { displayNameOf } from './identities.ts';
import type { PasskeyChange } from './passkeys.ts';

/** The mail queue both invitations and notices travel on (see enrollment-mail.ts). */
export const MAIL_QUEUE = 'enrollment-mail';
export const SECURITY_NOTICE_KIND = 'security-notice';

export interface SecurityNotice {
  /** What kind of event, stable for filters and the X-Latchkey-Notice header: "passkey.added". */
  event: string;
  /** The mail's subject, e.g. "A passkey was added to your account". */
  subject: string;
  /** What happened, in a sentence or two for the person reading it. */
  summary: string;
  /** When it happened (epoch ms). */
  at: number;
  /** Further facts, shown as a list: ["Browser", "Chrome 131 on macOS"]. */
  facts?: Array<[string, string]>;
  /** The passkey's AAGUID: its model's icon is shown beside the "Passkey" fact when one is known. */
  authenticatorAaguid?: string;
}

/** Content-ID of the model icon in a notice mail (RFC 2392). */
export const AUTHENTICATOR_ICON_CID = 'authenticator-icon@latchkey';

interface NoticeJobPayload {
  kind: typeof SECURITY_NOTICE_KIND;
  identityId: string;
  notice: SecurityNotice;
}

export const isNoticeJob = (job: Pick<JobRecord, 'payload'>): boolean => (job.payload as { kind?: unknown }).kind === SECURITY_NOTICE_KIND;

/** "Chrome 131 on macOS 10.15.7 (desktop)" from a User-Agent, via bowser; null when there is none. */
export function describeBrowser(userAgent: string | null | undefined): string | null {
  if (!userAgent) return null;
  const parsed = Bowser.parse(userAgent.slice(0, 512));
  const browser = [parsed.browser.name, parsed.browser.version?.split('.')[0]].filter(Boolean).join(' ');
  const os = [parsed.os.name, parsed.os.version].filter(Boolean).join(' ');
  const device = [parsed.platform.vendor, parsed.platform.model].filter(Boolean).join(' ') || parsed.platform.type || '';
  const text = [browser || 'an unknown browser', os && `on ${os}`, device && `(${device})`].filter(Boolean).join(' ');
  return text === 'an unknown browser' ? `an unrecognised browser (${userAgent.slice(0, 120)})` : text;
}

/** Who made a change, in words for the person it happened to. */
function byWhom(actor: Actor): string {
  switch (actor.kind) {
    case 'self':
      return 'you (or someone using your session or enrollment link)';
    case 'admin':
      return 'an administrator, in the admin console';
    case 'cli':
      return 'an operator, on the Latchkey server command line';
    case 'scim':
      return 'Okta, through provisioning';
    case 'system':
      return `Latchkey (${actor.id})`;
  }
}

/** The notice for a passkey added to or removed from the person's account. */
export function passkeyChangeNotice(change: PasskeyChange): SecurityNotice {
  const { passkey } = change;
  const model = authenticatorModel(passkey.aaguid) ?? (passkey.deviceType === 'multiDevice' ? 'a synced passkey (password manager or platform account)' : 'a security key or device-bound passkey');
  const added = change.change === 'added';
  return {
    event: added ? 'passkey.added' : 'passkey.removed',
    subject: added ? 'A passkey was added to your account' : 'A passkey was removed from your account',
    summary: added
      ? `A new passkey, “${passkey.name}”, was added to your account. It can now sign you in.`
      : `Your passkey “${passkey.name}” was removed from your account. It can no longer sign you in, and every session it opened was ended.`,
    at: change.at,
    authenticatorAaguid: passkey.aaguid,
    facts: [
      ['Passkey', `${passkey.name} (${model})`],
      ['Done by', byWhom(change.actor)],
      ['From', describeBrowser(change.userAgent) ?? 'no browser (the server command line or an automated process)'],
    ],
  };
}

/** The notice to an administrator that someone started an enrollment for their account. */
export function adminEnrollmentNotice(input: { by: string; delivery: 'link' | 'email'; at: number; from: string | null }): SecurityNotice {
  return {
    event: 'admin.enrollment_issued',
    subject: 'A passkey enrollment was started for your administrator account',
    summary: `${input.by} created an enrollment ${input.delivery} for your administrator account. Whoever uses it can add a passkey that signs in as you.`,
    at: input.at,
    facts: [['Done by', input.by], ['From', input.from ?? 'the Latchkey server command line']],
  };
}

export function createSecurityNotices(deps: { store: Store; clock: Clock }) {
  const { store } = deps;

  /** The job to record in the same write as the change it tells about. */
  function jobFor(identityId: string, notice: SecurityNotice): JobInput {
    const payload: NoticeJobPayload = { kind: SECURITY_NOTICE_KIND, identityId, notice };
    return { queue: MAIL_QUEUE, key: `notice:${randomUUID()}`, payload: { ...payload }, runAt: deps.clock.now() };
  }

  /** Queues a notice to one person. */
  async function notify(identityId: string, notice: SecurityNotice): Promise<void> {
    await store.jobs.enqueue(jobFor(identityId, notice));
  }

  /** Queues a notice to every active administrator (but `except`, e.g. the one it is about); returns how many. */
  async function notifyAdmins(notice: SecurityNotice, options: { except?: string } = {}): Promise<number> {
    const admins = await store.identities.query({ role: ADMIN_ROLE, offset: 0, limit: 1000, now: deps.clock.now() });
    const recipients = admins.items.filter((admin) => admin.active && admin.id !== options.except);
    for (const admin of recipients) await notify(admin.id, notice);
    return recipients.length;
  }

  return {
    jobFor,
    notify,
    notifyAdmins,
    /** A passkey-change listener (bootstrap.ts): the person is told in the same write as the change. */
    onPasskeyChange: (change: PasskeyChange): JobInput[] => [jobFor(change.passkey.identityId, passkeyChangeNotice(change))],
  };
}

export type SecurityNotices = ReturnType<typeof createSecurityNotices>;

// ------------------------------------------------------------------ delivery (the mail worker)

function escape(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);
}

export function renderSecurityNotice(input: { orgName: string; identity: Pick<IdentityRecord, 'displayName' | 'givenName' | 'familyName' | 'userName'>; notice: SecurityNotice; withIcon?: boolean }) {
  const { orgName, notice } = input;
  const name = input.identity.givenName || displayNameOf(input.identity);
  const when = new Date(notice.at).toUTCString();
  const facts: Array<[string, string]> = [['When', when], ['Account', input.identity.userName], ...(notice.facts ?? [])];
  const report = `If this was not you, report it now: tell your ${orgName} administrator (or your IT security team) right away. An administrator can remove any passkey and end every session it opened from the Latchkey admin console.`;
  const subject = `${orgName}: ${notice.subject}`;
  const icon = `<img src="cid:${AUTHENTICATOR_ICON_CID}" width="20" height="20" alt="" style="vertical-align:middle;margin-right:6px;border:0;">`;
  const text = [`Hi ${name},`, '', notice.summary, '', ...facts.map(([label, value]) => `${label}: ${value}`), '', 'If this was you, there is nothing to do.', report, ''].join('\n');
  const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(subject)}</title></head>
<body style="margin:0;padding:24px 12px;background:#f4f5f7;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1f2328;">
<div style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:12px;border:1px solid #e1e4e8;padding:24px 32px;">
<p style="margin:0 0 16px;font-size:18px;font-weight:600;">&#128274; ${escape(orgName)}: security notice</p>
<p style="margin:0 0 16px;line-height:1.5;">Hi ${escape(name)},</p>
<p style="margin:0 0 16px;line-height:1.5;">${escape(notice.summary)}</p>
<table role="presentation" style="margin:0 0 16px;border-collapse:collapse;font-size:14px;">
${facts.map(([label, value]) => `<tr><td style="padding:4px 16px 4px 0;color:#57606a;vertical-align:top;">${escape(label)}</td><td style="padding:4px 0;">${label === 'Passkey' && input.withIcon ? icon : ''}${escape(value)}</td></tr>`).join('\n')}
</table>
<p style="margin:0 0 8px;line-height:1.5;">If this was you, there is nothing to do.</p>
<p style="margin:0;line-height:1.5;"><strong>${escape(report)}</strong></p>
</div>
</body>
</html>
`;
  return { subject, text, html };
}

/** The mail worker's handler for notice jobs. */
export function createSecurityNoticeDelivery(deps: {
  store: Store;
  audit: AuditLog;
  mailer: Mailer;
  logger: Logger;
  orgName: string;
  maxAttempts: number;
  /** The model's icon as a PNG, or null (no icon known, or it could not be drawn): the mail goes without. */
  authenticatorIcon?: (aaguid: string) => Promise<Buffer | null>;
}) {
  const { store, audit, mailer, logger, orgName } = deps;
  async function iconFor(aaguid: string | undefined): Promise<Buffer | null> {
    if (!aaguid || !deps.authenticatorIcon) return null;
    return deps.authenticatorIcon(aaguid).catch((error: unknown) => {
      logger.warn({ err: error, aaguid }, 'authenticator icon could not be drawn; the notice goes without it');
      return null;
    });
  }
  const actor = systemActor('mail');

  return async function deliverNotice(job: JobRecord): Promise<JobOutcome> {
    const { identityId, notice } = job.payload as unknown as NoticeJobPayload;
    const identity = await store.identities.get(identityId);
    if (!identity) return { kind: 'done' }; // deleted since: nobody to tell
    const icon = await iconFor(notice.authenticatorAaguid);
    const message = renderSecurityNotice({ orgName, identity, notice, withIcon: icon !== null });
    const inlineImages = icon ? [{ cid: AUTHENTICATOR_ICON_CID, content: icon, contentType: 'image/png' as const }] : undefined;
    try {
      const receipt = await mailer.send({ to: identity.email, ...message, inlineImages, messageId: `${job.key}@latchkey`, headers: { 'X-Latchkey-Notice': notice.event } });
      await audit.record({ actor, kind: 'notice', action: 'notice.sent', target: `identity:${identityId}`, detail: { event: notice.event, messageId: receipt.messageId, via: mailer.kind } });
      logger.info({ identityId, event: notice.event, messageId: receipt.messageId }, 'security notice sent');
      return { kind: 'done' };
    } catch (error) {
      const failure = error instanceof MailSendError ? error : new MailSendError((error as Error).message || String(error), { transient: true, cause: error });
      if (!failure.transient || job.attempts + 1 >= deps.maxAttempts) {
        await audit.record({ actor, kind: 'notice', action: 'notice.send_failed', target: `identity:${identityId}`, outcome: 'failure', detail: { event: notice.event, error: failure.message } });
        return { kind: 'failed', error: failure.message };
      }
      return { kind: 'retry', error: failure.message };
    }
  };
}
