/**
 * Mail over SMTP with nodemailer (SMTP_URL, e.g. smtp://user:pass@mail.example.com:587 or
 * smtps://...:465). Rules:
 * - one connection per message: simple to reason about across outages, and at the default
 *   10 messages/s cheap enough;
 * - timeouts are short and bounded (well under the mail worker's job lease), so a hung server
 *   can never make a second worker take over a job that is still being sent;
 * - errors are classified once, here, by reply and by stage. A reply to RCPT TO is about that
 *   recipient: 5yz permanent, 4yz transient (RFC 5321 §4.2.1), except 503 "bad sequence", which a
 *   new session fixes. Any refusal before or after it (greeting, EHLO, AUTH, MAIL FROM, DATA) and
 *   any lost connection is about the server, whoever the recipient is: the mail worker treats a
 *   run of those as an outage and waits, even for 5yz replies, because a relay that answers 554
 *   to every session for ten seconds must not fail every invitation queued in those seconds.
 */
import type { Transporter } from 'nodemailer';
import { MailSendError, type Mailer, type MailMessage } from '../../server/ports/mailer.ts';
import { toNodemailerMessage } from './nodemailer-message.ts';

/** Errors nodemailer raises without an SMTP reply that retrying cannot fix. */
const PERMANENT_CODES = new Set(['EENVELOPE', 'ECONFIG', 'ENOAUTH', 'EFILEACCESS', 'EURLACCESS', 'EMAXRECIPIENTS']);

export function classifySmtpError(error: unknown): MailSendError {
  const failure = error as { message?: string; code?: string; command?: string; responseCode?: number; response?: string };
  const responseCode = typeof failure.responseCode === 'number' ? failure.responseCode : null;
  const text = (failure.response || failure.message || String(error)).trim();
  const atRecipient = /^RCPT/i.test(failure.command ?? '');
  if (responseCode !== null && responseCode >= 400 && atRecipient) {
    const permanent = responseCode >= 500 && responseCode !== 503;
    return new MailSendError(text, { transient: !permanent, responseCode, scope: 'recipient', cause: error });
  }
  if (responseCode !== null && responseCode >= 400) return new MailSendError(text, { transient: true, responseCode, scope: 'server', cause: error });
  // An address nodemailer refuses before sending anything is this recipient's problem.
  if (failure.code === 'EENVELOPE') return new MailSendError(text, { transient: false, responseCode, scope: 'recipient', cause: error });
  return new MailSendError(text, { transient: !PERMANENT_CODES.has(failure.code ?? ''), responseCode, scope: 'server', cause: error });
}

export function createSmtpMailer(options: { url: string; from: string }): Mailer {
  // nodemailer (about 15 MiB of RSS) is loaded with the first message, not at start.
  let transport: Promise<Transporter> | null = null;
  const transportNow = () =>
    (transport ??= import('nodemailer').then(({ default: nodemailer }) =>
      nodemailer.createTransport({
        url: options.url,
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 30_000,
      }),
    ));
  return {
    kind: 'smtp',
    async send(message: MailMessage) {
      try {
        const info = await (await transportNow()).sendMail(toNodemailerMessage(options.from, message));
        return { messageId: info.messageId };
      } catch (error) {
        throw classifySmtpError(error);
      }
    },
    close() {
      void transport?.then((opened) => opened.close(), () => undefined);
    },
  };
}
