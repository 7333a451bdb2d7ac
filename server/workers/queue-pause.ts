/**
 * A queue's upstream health, shared through the store so every instance, a restarted process and
 * the CLI see the same thing. Rules:
 * - `rate_limited`: the upstream said when to come back (Okta's X-Rate-Limit-Reset); no job of
 *   the queue is tried before then, and the wait says nothing about the upstream's health;
 * - `outage`: several deliveries in a row failed for a reason that is not the message's own
 *   (refused connection, 5xx from the API, SMTP server refusing every session). The queue then
 *   stops sending and probes with one job at a capped backoff; the first success clears it and
 *   every waiting job is due at once.
 * The state is advisory: losing it costs one extra probe, never a message.
 */
import type { SettingsRepository } from '../ports/storage.ts';

export interface QueuePause {
  reason: 'rate_limited' | 'outage';
  /** No job of the queue starts before this time (epoch ms). */
  until: number;
  /** When the current run of failures (or the wait) started. */
  since: number;
  /** Consecutive upstream failures; the backoff exponent. 0 for a pure rate-limit wait. */
  failures: number;
  lastError: string;
}

export const queuePauseKey = (queue: string) => `jobs.${queue}.pause`;

export async function readQueuePause(settings: SettingsRepository, queue: string): Promise<QueuePause | null> {
  const value = await settings.get(queuePauseKey(queue));
  if (!value) return null;
  try {
    const parsed = JSON.parse(value) as QueuePause | { cleared: true };
    return 'cleared' in parsed ? null : parsed;
  } catch {
    return null;
  }
}

export async function writeQueuePause(settings: SettingsRepository, queue: string, pause: QueuePause | null): Promise<void> {
  // The settings port has no delete: a cleared marker reads as "no pause".
  await settings.set(queuePauseKey(queue), JSON.stringify(pause ?? { cleared: true }));
}

/** What an operator sees: is the queue sending, waiting for a rate-limit reset, or in an outage. */
export interface QueueHealth {
  state: 'sending' | 'rate_limited' | 'outage';
  since: number | null;
  nextAttemptAt: number | null;
  consecutiveFailures: number;
  lastError: string | null;
}

export async function queueHealth(settings: SettingsRepository, queue: string): Promise<QueueHealth> {
  const pause = await readQueuePause(settings, queue);
  if (!pause) return { state: 'sending', since: null, nextAttemptAt: null, consecutiveFailures: 0, lastError: null };
  return { state: pause.reason, since: pause.since, nextAttemptAt: pause.until, consecutiveFailures: pause.failures, lastError: pause.lastError };
}

/** The health as JSON for the CLI and the console (ISO times). */
export function describeQueueHealth(health: QueueHealth) {
  return {
    state: health.state,
    since: health.since ? new Date(health.since).toISOString() : null,
    next_attempt_at: health.nextAttemptAt ? new Date(health.nextAttemptAt).toISOString() : null,
    consecutive_failures: health.consecutiveFailures,
    last_upstream_error: health.lastError,
  };
}
