/**
 * Runs durable jobs from the store's queue (email invitations, Okta flag updates). Rules:
 * - a job is leased before it runs, so across any number of instances one worker holds it;
 * - a crash mid-job loses nothing: the lease expires and another worker takes the job again,
 *   so handlers must be idempotent (deliver the *current* desired state, not a delta);
 * - failures retry with exponential backoff and full jitter unless the handler says the
 *   failure is permanent or it ran out of attempts; then the job is `failed` with the reason.
 */
import { randomUUID } from 'node:crypto';
import type { JobQueue, JobRecord } from '../ports/storage.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../logger.ts';

export type JobOutcome =
  | { kind: 'done' }
  /** Try again at an exact time (e.g. an upstream rate-limit reset). */
  | { kind: 'retry'; error: string; at?: number }
  | { kind: 'failed'; error: string };

export type JobHandler = (job: JobRecord) => Promise<JobOutcome>;

export interface JobRunnerOptions {
  queue: string;
  jobs: JobQueue;
  clock: Clock;
  logger: Logger;
  handler: JobHandler;
  leaseMs?: number;
  pollMs?: number;
  maxAttempts?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Wait before each job (a simple pacing, e.g. 100 ms for 10/s). */
  minIntervalMs?: number;
}

export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export function createJobRunner(options: JobRunnerOptions) {
  const { queue, jobs, clock, logger, handler } = options;
  const leaseMs = options.leaseMs ?? 60_000;
  const pollMs = options.pollMs ?? 500;
  const maxAttempts = options.maxAttempts ?? 12;
  const baseBackoffMs = options.baseBackoffMs ?? 1_000;
  const maxBackoffMs = options.maxBackoffMs ?? 5 * 60_000;
  const worker = `${queue}:${randomUUID()}`;
  let running = false;
  let timer: NodeJS.Timeout | null = null;
  let lastStart = 0;
  let wake: (() => void) | null = null;

  /** Runs due jobs until none is left; returns how many ran. */
  async function drain(): Promise<number> {
    let count = 0;
    for (;;) {
      const job = await jobs.lease(queue, worker, clock.now(), leaseMs);
      if (!job) return count;
      const wait = (options.minIntervalMs ?? 0) - (Date.now() - lastStart);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      lastStart = Date.now();
      await runOne(job);
      count++;
    }
  }

  async function runOne(job: JobRecord): Promise<void> {
    let outcome: JobOutcome;
    try {
      outcome = await handler(job);
    } catch (error) {
      outcome = { kind: 'retry', error: (error as Error).message || String(error) };
    }
    const now = clock.now();
    if (outcome.kind === 'done') {
      await jobs.complete(job.id, worker, job.revision, now);
    } else if (outcome.kind === 'failed' || job.attempts + 1 >= maxAttempts) {
      logger.warn({ queue, key: job.key, attempts: job.attempts + 1, error: outcome.error }, 'job failed');
      await jobs.fail(job.id, worker, outcome.error, now);
    } else {
      const at = outcome.at ?? now + backoffDelay(job.attempts, baseBackoffMs, maxBackoffMs);
      logger.info({ queue, key: job.key, attempt: job.attempts + 1, retryAt: new Date(at).toISOString(), error: outcome.error }, 'job will retry');
      await jobs.retry(job.id, worker, at, outcome.error, now);
    }
  }

  async function loop(): Promise<void> {
    while (running) {
      try {
        await drain();
      } catch (error) {
        logger.warn({ queue, err: error }, 'job queue unavailable; will retry');
      }
      if (!running) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, pollMs);
      });
      wake = null;
    }
  }

  let loopDone: Promise<void> | null = null;
  return {
    worker,
    drain,
    start() {
      if (running) return;
      running = true;
      loopDone = loop();
    },
    /** Ask for an immediate poll (after enqueueing), instead of waiting for the next tick. */
    poke() {
      wake?.();
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      wake?.();
      await loopDone;
    },
  };
}

export type JobRunner = ReturnType<typeof createJobRunner>;
