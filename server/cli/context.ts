/**
 * What every CLI command gets: the same config, store and domain services as the server, so a
 * command run beside a live server acts on the same data (SQLite file or Redis).
 */
import { loadConfig } from '../config.ts';
import { createServices, openStore, type Services } from '../bootstrap.ts';
import { AppError } from '../domain/errors.ts';
import { PUBLIC_URL_SETTING } from '../domain/public-url.ts';
import { pino } from 'pino';
import { openMailer } from '../../adapters/mail/open-mailer.ts';
import { createMailSending } from '../workers/enrollment-mail-worker.ts';

export { CLI_ACTOR } from '../domain/actor.ts';

let opened: Services | null = null;
let publicUrlKnown = false;

/**
 * The services on the server's own public URL: the one the server recorded in the store at start
 * (PUBLIC_URL_SETTING), else this command's PUBLIC_URL. A PORT-derived default would be a guess.
 */
export async function services(): Promise<Services> {
  if (!opened) {
    let config = loadConfig();
    const store = await openStore(config);
    const recorded = await store.settings.get(PUBLIC_URL_SETTING);
    if (recorded && recorded !== config.publicUrl) config = loadConfig({ ...process.env, PUBLIC_URL: recorded });
    publicUrlKnown = Boolean(recorded || process.env.PUBLIC_URL);
    opened = createServices(config, store, undefined, { appCache: false });
  }
  return opened;
}

/** The server's public URL for links this command prints, or a one-line refusal when unknown. */
export async function knownPublicUrl(): Promise<string> {
  const svc = await services();
  if (!publicUrlKnown) {
    throw new AppError('invalid_input', "the server's public URL is unknown: start Latchkey once with this store (it records its PUBLIC_URL there), or set PUBLIC_URL for this command");
  }
  return svc.config.publicUrl;
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
