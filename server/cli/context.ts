/**
 * What every CLI command gets: the same config, store and domain services as the server, so a
 * command run beside a live server acts on the same data (SQLite file or Redis).
 */
import { loadConfig } from '../config.ts';
import { createServices, openStore, type Services } from '../bootstrap.ts';
import { AppError } from '../domain/errors.ts';
import { pino } from 'pino';
import { openMailer } from '../../adapters/mail/open-mailer.ts';
import { createMailSending } from '../workers/enrollment-mail-worker.ts';

export { CLI_ACTOR } from '../domain/actor.ts';

let opened: Services | null = null;

export async function services(): Promise<Services> {
  if (!opened) {
    const config = loadConfig();
    opened = createServices(config, await openStore(config));
  }
  return opened;
}

let mail: ReturnType<typeof createMailSending> | null = null;

/**
 * The invitation sender and a worker the CLI can drain itself when no server runs. Its log
 * (SMTP retries, the development outbox's link line) goes to stderr: stdout carries the JSON.
 */
export async function mailSending(): Promise<ReturnType<typeof createMailSending>> {
  if (!mail) {
    const svc = await services();
    const logger = pino({ level: svc.config.logLevel, base: undefined }, pino.destination(2));
    mail = createMailSending(svc, openMailer(svc.config, logger), logger, { heartbeat: false });
  }
  return mail;
}

export async function closeServices(): Promise<void> {
  mail?.enrollmentMail.mailer.close();
  mail = null;
  if (opened) await opened.store.close();
  opened = null;
}

export function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function toInt(name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0) throw new AppError('invalid_input', `${name} must be a non-negative integer, got "${value}"`);
    return parsed;
  };
}

export const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());
