/**
 * Mail over SMTP with nodemailer (SMTP_URL, e.g. smtp://user:pass@mail.example.com:587 or
 * smtps://...:465). Rules:
 * - one connection per message: simple to reason about across outages, and at the default
 *   10 messages/s cheap enough;
 * - timeouts are short and bounded (well under the mail worker's job lease), so a hung server
 *   can never make a second worker take over a job that is still being sent;
 * - errors are classified once, here: 4yz replies and lost connections are transient, 5yz
 *   replies permanent (RFC 5321 §4.2.1), except 503 "bad sequence", which a new session fixes.
 */
import nodemailer from 'nodemailer';
import { MailSendError, type Mailer, type MailMessage } from '../../server/ports/mailer.ts';
import { toNodemailerMessage } from './nodemailer-message.ts';

/** Errors nodemailer raises without an SMTP reply that retrying cannot fix. */
const PERMANENT_CODES = new Set(['EENVELOPE', 'ECONFIG', 'ENOAUTH', 'EFILEACCESS', 'EURLACCESS', 'EMAXRECIPIENTS']);

export function classifySmtpError(error: unknown): MailSendError {
  const failure = error as { message?: string; code?: string; responseCode?: number; response?: string };
  const responseCode = typeof failure.responseCode === 'number' ? failure.responseCode : null;
  const text = (failure.response || failure.message || String(error)).trim();
  let transient: boolean;
  if (responseCode !== null && responseCode >= 500 && responseCode < 600 && responseCode !== 503) transient = false;
  else if (responseCode !== null && responseCode >= 400) transient = true;
  else transient = !PERMANENT_CODES.has(failure.code ?? '');
  return new MailSendError(text, { transient, responseCode, cause: error });
}

export function createSmtpMailer(options: { url: string; from: string }): Mailer {
  const transport = nodemailer.createTransport({
    url: options.url,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  return {
    kind: 'smtp',
    async send(message: MailMessage) {
      try {
        const info = await transport.sendMail(toNodemailerMessage(options.from, message));
        return { messageId: info.messageId };
      } catch (error) {
        throw classifySmtpError(error);
      }
    },
    close() {
      transport.close();
    },
  };
}
