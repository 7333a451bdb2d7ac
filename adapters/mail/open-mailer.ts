/** Picks the mail adapter from the configuration: SMTP when SMTP_URL is set, else the outbox. */
import path from 'node:path';
import type { Config } from '../../server/config.ts';
import type { Logger } from '../../server/logger.ts';
import type { Mailer } from '../../server/ports/mailer.ts';
import { createSmtpMailer } from './smtp-mailer.ts';
import { createOutboxMailer } from './outbox-mailer.ts';

export function outboxDirectory(config: Pick<Config, 'dataDir'>): string {
  return path.join(config.dataDir, 'outbox');
}

export function openMailer(config: Config, logger: Logger): Mailer {
  if (config.smtpUrl) return createSmtpMailer({ url: config.smtpUrl, from: config.mailFrom });
  logger.warn({ outbox: outboxDirectory(config) }, 'SMTP_URL is not set: invitation emails are written to the outbox directory, not sent');
  return createOutboxMailer({ directory: outboxDirectory(config), from: config.mailFrom, logger });
}
