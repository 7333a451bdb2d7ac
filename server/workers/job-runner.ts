/**
 * Runs durable jobs from the store's queue (email invitations, Okta flag updates). Rules:
 * - a job is leased before it runs, so across any number of instances one worker holds it;
 *   pacing waits happen before the lease, so a lease is only ever held by a running handler;
 * - a crash mid-job loses nothing: the lease expires and another worker takes the job again,
 *   so handlers must be idempotent (deliver the *current* desired state, not a delta);
 * - a handler says why a try did not succeed, and each reason backs off differently:
 *   - `rate_limited` (with `at`): the upstream said when to come back. The whole queue waits
 *     until then (no job of the queue is sent before the reset), and the wait counts as neither
 *     an attempt nor a failure;
 *   - `unavailable`: the upstream is down (refused connection, 5xx, SMTP refusing sessions). The
 *     backoff exponent is the queue's run of consecutive such failures, not the job's attempts,
 *     and is capped low (`outageMaxBackoffMs`): after `outageAfter` failures in a row the queue
 *     pauses and probes with one job; the first success resumes every job at once. These tries
 *     never use up a job's attempts;
 *   - `error` (the default): something about this job; exponential backoff with full jitter on
 *     the job's own attempts until `maxAttempts`, then `failed`;
 * - stop() lets the running handler finish (its outcome releases the lease) and leases nothing
 *   new, so another instance can take the remaining jobs at once.
 */
import { randomUUID } from 'node:crypto';
import type { JobQueue, JobRecord, SettingsRepository } from '../ports/storage.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../logger.ts';
import { readQueuePause, writeQueuePause, type QueuePause } from './queue-pause.ts';

export type RetryReason = 'rate_limited' | 'unavailable' | 'error';

export type JobOutcome =
  | { kind: 'done' }
  /** Try again later; `at` is an exact time (e.g. an upstream rate-limit reset). */
  | { kind: 'retry'; error: string; at?: number; reason?: RetryReason }
  | { kind: 'failed'; error: string };

export type JobHandler = (job: JobRecord) => Promise<JobOutcome>;

export interface JobRunnerOptions {
  queue: string;
  jobs: JobQueue;
  clock: Clock;
  logger: Logger;
  handler: JobHandler;
  /** Where the queue's pause (rate-limit wait, outage) is shared with other instances and the CLI. */
  settings?: SettingsRepository;
  leaseMs?: number;
  pollMs?: number;
  maxAttempts?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Upstream failures in a row that make an outage (pause, probe, alert). */
  outageAfter?: number;
  /** Longest wait between probes while the upstream is down: bounds the delay after it recovers. */
  outageMaxBackoffMs?: number;
  /** Wait before each job (a simple pacing, e.g. 100 ms for 10/s). */
  minIntervalMs?: number;
}

export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export function createJobRunner(options: JobRunnerOptions) {
  const { queue, jobs, clock, logger, handler, settings } = options;
  const leaseMs = options.leaseMs ?? 60_000;
  const pollMs = options.pollMs ?? 500;
  const maxAttempts = options.maxAttempts ?? 12;
  const baseBackoffMs = options.baseBackoffMs ?? 1_000;
  const maxBackoffMs = options.maxBackoffMs ?? 5 * 60_000;
  const outageAfter = options.outageAfter ?? 3;
  const outageMaxBackoffMs = options.outageMaxBackoffMs ?? Math.min(maxBackoffMs, 60_000);
  const worker = `${queue}:${randomUUID()}`;
  let running = false;
  let stopping = false;
  let timer: NodeJS.Timeout | null = null;
  let lastStart = 0;
  let wake: (() => void) | null = null;
  /** This instance's view of the queue's upstream: consecutive failures and the current pause. */
  let failures = 0;
  let pause: QueuePause | null = null;

  async function loadPause(): Promise<void> {
    if (!settings) return;
    const shared = await readQueuePause(settings, queue);
    pause = shared;
    if (shared) failures = Math.max(failures, shared.failures);
  }

  async function savePause(next: QueuePause | null): Promise<void> {
    const had = pause !== null;
    pause = next;
    if (!settings || (!had && !next)) return;
    await writeQueuePause(settings, queue, next).catch((error: unknown) => logger.warn({ queue, err: error }, 'cannot record the queue state'));
  }

  /** Runs due jobs until none is left (or the queue is paused, or stop() was called); returns how many ran. */
  async function drain(): Promise<number> {
    let count = 0;
    await loadPause();
    for (;;) {
      if (stopping) return count;
      if (pause && pause.until > clock.now()) return count;
      const wait = (options.minIntervalMs ?? 0) - (Date.now() - lastStart);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (stopping) return count;
      const job = await jobs.lease(queue, worker, clock.now(), leaseMs);
      if (!job) return count;
      lastStart = Date.now();
      await runOne(job);
      count++;
    }
  }

  async function upstreamRecovered(): Promise<void> {
    if (pause?.reason === 'outage') logger.info({ queue, failures }, 'upstream is back: the queue resumes');
    failures = 0;
    if (pause) await savePause(null);
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
      await upstreamRecovered();
      return;
    }
    if (outcome.kind === 'failed') {
      logger.warn({ queue, key: job.key, attempts: job.attempts + 1, error: outcome.error }, 'job failed');
      await jobs.fail(job.id, worker, outcome.error, now);
      // The upstream answered (it refused this one job): it is not down.
      await upstreamRecovered();
      return;
    }
    const reason = outcome.reason ?? 'error';
    if (reason === 'rate_limited') {
      const at = outcome.at ?? now + baseBackoffMs;
      logger.info({ queue, key: job.key, retryAt: new Date(at).toISOString() }, 'rate limited: the queue waits for the reset');
      await jobs.retry(job.id, worker, at, outcome.error, now);
      if (!pause || pause.until < at) await savePause({ reason: 'rate_limited', until: at, since: pause?.reason === 'rate_limited' ? pause.since : now, failures, lastError: outcome.error });
      return;
    }
    if (reason === 'unavailable') {
      failures++;
      const at = outcome.at ?? now + backoffDelay(failures - 1, baseBackoffMs, outageMaxBackoffMs);
      await jobs.retry(job.id, worker, at, outcome.error, now);
      if (failures >= outageAfter) {
        // An outage: stop sending, probe at `at`, tell the operator once (then at debug level).
        const level = pause?.reason === 'outage' ? 'warn' : 'error';
        logger[level]({ queue, failures, retryAt: new Date(at).toISOString(), error: outcome.error }, `${queue}: upstream unavailable, queue paused`);
        await savePause({ reason: 'outage', until: at, since: pause?.reason === 'outage' ? pause.since : now, failures, lastError: outcome.error });
      } else {
        logger.info({ queue, key: job.key, failures, retryAt: new Date(at).toISOString(), error: outcome.error }, 'upstream unavailable: job will retry');
      }
      return;
    }
    if (job.attempts + 1 >= maxAttempts) {
      logger.warn({ queue, key: job.key, attempts: job.attempts + 1, error: outcome.error }, 'job failed');
      await jobs.fail(job.id, worker, outcome.error, now);
      return;
    }
    const at = outcome.at ?? now + backoffDelay(job.attempts, baseBackoffMs, maxBackoffMs);
    logger.info({ queue, key: job.key, attempt: job.attempts + 1, retryAt: new Date(at).toISOString(), error: outcome.error }, 'job will retry');
    await jobs.retry(job.id, worker, at, outcome.error, now);
  }

  async function loop(): Promise<void> {
    while (running) {
      try {
        await drain();
      } catch (error) {
        logger.warn({ queue, err: error }, 'job queue unavailable; will retry');
      }
      if (!running) break;
      const untilPauseEnds = pause ? Math.max(0, pause.until - clock.now()) : pollMs;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, Math.min(pollMs, untilPauseEnds + 5));
      });
      wake = null;
    }
  }

  let loopDone: Promise<void> | null = null;
  return {
    worker,
    drain,
    /** This instance's view of the upstream (the shared one is in the store, see queue-pause.ts). */
    state(): { failures: number; pause: QueuePause | null } {
      return { failures, pause };
    },
    start() {
      if (running) return;
      running = true;
      stopping = false;
      loopDone = loop();
    },
    /** Ask for an immediate poll (after enqueueing), instead of waiting for the next tick. */
    poke() {
      wake?.();
    },
    /** Leases nothing new; resolves once the running job (if any) has released its lease. */
    async stop() {
      running = false;
      stopping = true;
      if (timer) clearTimeout(timer);
      wake?.();
      await loopDone;
      stopping = false;
    },
  };
}

export type JobRunner = ReturnType<typeof createJobRunner>;
