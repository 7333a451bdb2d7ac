/**
 * The development outbox, used when SMTP_URL is not set: each message is written, fully encoded
 * by nodemailer's stream transport, as an .eml file in DATA_DIR/outbox/ (open it with any mail
 * client), and its action link is printed in the server log so a first-time user can enroll
 * without a mail server.
 *
 * That log line is the ONE place Latchkey ever logs a link (STYLE.md habit 5 forbids it
 * everywhere else). It is development convenience only: outside development the line is not
 * written, and production deployments are expected to set SMTP_URL.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from '../../server/logger.ts';
import { MailSendError, type Mailer, type MailMessage } from '../../server/ports/mailer.ts';
import { toNodemailerMessage } from './nodemailer-message.ts';

export function createOutboxMailer(options: { directory: string; from: string; logger: Logger; logLinks: boolean }): Mailer {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  let sequence = 0;
  return {
    kind: 'outbox',
    async send(message: MailMessage) {
      let info;
      try {
        info = await transport.sendMail(toNodemailerMessage(options.from, message));
      } catch (error) {
        throw new MailSendError((error as Error).message, { transient: false, cause: error });
      }
      const safeTo = message.to.replace(/[^A-Za-z0-9@._-]/g, '_');
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${String(++sequence).padStart(4, '0')}-${safeTo}.eml`;
      try {
        mkdirSync(options.directory, { recursive: true });
        // Write then rename, so a reader never sees half a message.
        const partial = path.join(options.directory, `.${name}.partial`);
        writeFileSync(partial, info.message as Buffer, { mode: 0o600 });
        renameSync(partial, path.join(options.directory, name));
      } catch (error) {
        throw new MailSendError(`cannot write the outbox file: ${(error as Error).message}`, { transient: true, cause: error });
      }
      if (options.logLinks && message.actionLink) {
        // Development only (see the file comment): the single place a link reaches a log.
        options.logger.info({ to: message.to, file: name, link: message.actionLink }, `development outbox: mail to ${message.to}, link ${message.actionLink}`);
      }
      return { messageId: info.messageId };
    },
    close() {
      transport.close();
    },
  };
}
