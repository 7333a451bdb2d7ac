/**
 * The development outbox, used when SMTP_URL is not set: each message is written, fully encoded
 * by nodemailer's stream transport, as an .eml file in DATA_DIR/outbox/ (open it with any mail
 * client). The log says which file a message went to, never its link: the file is where a
 * first-time user finds the enrollment link (STYLE.md habit 5: a link is never logged, at any
 * level). Production deployments are expected to set SMTP_URL.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Transporter } from 'nodemailer';
import type { Logger } from '../../server/logger.ts';
import { MailSendError, type Mailer, type MailMessage } from '../../server/ports/mailer.ts';
import { toNodemailerMessage } from './nodemailer-message.ts';

export function createOutboxMailer(options: { directory: string; from: string; logger: Logger }): Mailer {
  // nodemailer (about 15 MiB of RSS) is loaded with the first message, not at start: most
  // development servers never send one.
  let transport: Promise<Transporter> | null = null;
  const transportNow = () =>
    (transport ??= import('nodemailer').then(({ default: nodemailer }) => nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' })));
  let sequence = 0;
  return {
    kind: 'outbox',
    async send(message: MailMessage) {
      let info;
      try {
        info = await (await transportNow()).sendMail(toNodemailerMessage(options.from, message));
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
      const file = path.join(options.directory, name);
      options.logger.info({ to: message.to, file }, `development outbox: mail to ${message.to} written to ${file}`);
      return { messageId: info.messageId };
    },
    close() {
      void transport?.then((opened) => opened.close(), () => undefined);
    },
  };
}
