/**
 * The worker that sends invitation emails from the `enrollment-mail` queue. Rules:
 * - pacing: at most MAIL_RATE_PER_SECOND messages per second from this worker (the job runner
 *   waits between jobs). Several server instances each send at that rate;
 * - the lease (2 min) is longer than the SMTP adapter's worst case (its timeouts), so no second
 *   worker takes a job that is still being sent; after a crash the job is taken again once the
 *   lease runs out;
 * - an SMTP outage (three server-level failures in a row) pauses the queue, logs at error level
 *   and is readable with mailQueueHealth() (CLI `enroll status`, metrics); one message probes
 *   at a backoff capped at MAIL_RETRY_MAX, and the first success resumes the queue;
 * - a heartbeat in the store tells the CLI that a worker is running, so a bulk send from the CLI
 *   beside a running server leaves the sending to the server instead of doubling the rate.
 */
import type { SettingsRepository, JobQueue } from '../ports/storage.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../logger.ts';
import type { Mailer } from '../ports/mailer.ts';
import type { Services } from '../bootstrap.ts';
import { createEnrollmentMail, ENROLLMENT_MAIL_QUEUE, type EnrollmentMail } from '../domain/enrollment-mail.ts';
import { createJobRunner } from './job-runner.ts';
import { authenticatorIconPng } from './authenticator-icon.ts';
import { queueHealth, type QueueHealth } from './queue-pause.ts';

export const MAIL_WORKER_HEARTBEAT_KEY = 'worker.enrollment-mail.heartbeat';
const HEARTBEAT_EVERY_MS = 5_000;
/** A heartbeat older than this means no worker runs (it missed three beats). */
const HEARTBEAT_STALE_MS = 3 * HEARTBEAT_EVERY_MS;

export interface MailWorkerOptions {
  enrollmentMail: EnrollmentMail;
  jobs: JobQueue;
  settings: SettingsRepository;
  clock: Clock;
  logger: Logger;
  ratePerSecond: number;
  leaseMs?: number;
  pollMs?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Longest wait between probes while the mail server is down (see job-runner.ts). */
  outageMaxBackoffMs?: number;
  /** Write the heartbeat (a long-running worker). The CLI's own short-lived drain does not. */
  heartbeat?: boolean;
}

export function createEnrollmentMailWorker(options: MailWorkerOptions) {
  const { enrollmentMail, jobs, settings, clock, logger } = options;
  const runner = createJobRunner({
    queue: ENROLLMENT_MAIL_QUEUE,
    jobs,
    settings,
    clock,
    logger,
    handler: enrollmentMail.deliver,
    leaseMs: options.leaseMs ?? 120_000,
    pollMs: options.pollMs ?? 1_000,
    maxAttempts: enrollmentMail.maxAttempts,
    baseBackoffMs: options.baseBackoffMs ?? 2_000,
    maxBackoffMs: options.maxBackoffMs ?? 10 * 60_000,
    outageAfter: 3,
    outageMaxBackoffMs: options.outageMaxBackoffMs ?? 60_000,
    minIntervalMs: 1000 / options.ratePerSecond,
  });
  let beat: NodeJS.Timeout | null = null;

  const writeHeartbeat = (at: number) =>
    settings.set(MAIL_WORKER_HEARTBEAT_KEY, JSON.stringify({ worker: runner.worker, at })).catch((error: unknown) => {
      logger.warn({ err: error }, 'cannot write the mail worker heartbeat');
    });

  return {
    worker: runner.worker,
    /** Sends every due invitation, then returns how many jobs ran. */
    drain: runner.drain,
    poke: runner.poke,
    start() {
      if (options.heartbeat !== false) {
        void writeHeartbeat(clock.now());
        beat = setInterval(() => void writeHeartbeat(clock.now()), HEARTBEAT_EVERY_MS);
        beat.unref();
      }
      runner.start();
    },
    async stop() {
      if (beat) clearInterval(beat);
      beat = null;
      await runner.stop();
      if (options.heartbeat !== false) {
        // Say at once that this worker is gone, unless another worker beat since.
        const current = await settings.get(MAIL_WORKER_HEARTBEAT_KEY).catch(() => null);
        if (current && (JSON.parse(current) as { worker?: string }).worker === runner.worker) await writeHeartbeat(0);
      }
    },
  };
}

export type EnrollmentMailWorker = ReturnType<typeof createEnrollmentMailWorker>;

/** Is the mail queue sending, or paused by an SMTP outage (since when, next try, last error)? */
export function mailQueueHealth(settings: SettingsRepository): Promise<QueueHealth> {
  return queueHealth(settings, ENROLLMENT_MAIL_QUEUE);
}

/** True when a mail worker beat recently (a server is running and sending). */
export async function mailWorkerIsRunning(settings: SettingsRepository, now: number): Promise<boolean> {
  const value = await settings.get(MAIL_WORKER_HEARTBEAT_KEY);
  if (!value) return false;
  try {
    const { at } = JSON.parse(value) as { at?: number };
    return typeof at === 'number' && now - at < HEARTBEAT_STALE_MS;
  } catch {
    return false;
  }
}

/** The invitation sender and its worker over the shared services (server, CLI and tests alike). */
export function createMailSending(
  services: Services,
  mailer: Mailer,
  logger: Logger,
  overrides: Partial<Omit<MailWorkerOptions, 'enrollmentMail' | 'jobs' | 'settings' | 'clock' | 'logger'>> & { maxAttempts?: number } = {},
) {
  const { config, store, clock } = services;
  const enrollmentMail = createEnrollmentMail({
    store,
    clock,
    audit: services.audit,
    sealer: services.sealer,
    invites: services.invites,
    mailer,
    logger,
    orgName: config.orgName,
    defaultTtlMs: config.enrollmentLinkTtlMs,
    maxAttempts: overrides.maxAttempts,
    authenticatorIcon: authenticatorIconPng,
  });
  const worker = createEnrollmentMailWorker({
    ratePerSecond: config.mailRatePerSecond,
    baseBackoffMs: config.mailRetry.baseMs,
    outageMaxBackoffMs: config.mailRetry.maxMs,
    ...overrides,
    enrollmentMail,
    jobs: store.jobs,
    settings: store.settings,
    clock,
    logger,
  });
  return { enrollmentMail, worker };
}
