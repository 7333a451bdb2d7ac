/**
 * Keeps Okta's `byndidRegistered` equal to "this person has at least one passkey" (OKTA.md §3).
 * - Outbox: every passkey insert/delete writes a job on queue `okta-sync`, key = identity id, in
 *   the same atomic store write. The payload is only the identity id: the handler computes the
 *   *current* desired value when it runs, so a replay, a restart or a re-enqueue can only ever
 *   send the newest state (a stale value cannot be delivered after a newer one was read).
 * - One job per identity (the queue dedupes on key); a change during delivery bumps the job's
 *   revision so the runner keeps it pending and delivers again with the newer state.
 * - Leases make each job run on one worker at a time across every instance (SQLite file or
 *   Redis); the HTTP timeout is far below the lease so a slow call never overlaps a second worker.
 * - 429 pauses the whole queue until X-Rate-Limit-Reset (no request before it), without counting
 *   as a failure; 5xx and network errors are an Okta outage: the queue backs off on its run of
 *   consecutive failures (capped at OKTA_RETRY_MAX, 15 s by default) and probes with one job, so
 *   once Okta answers again every queued flag lands within seconds; no attempt limit (an Okta
 *   outage must not drop an update). See workers/job-runner.ts; 401/403/404 and other
 *   refusals stop as `failed` with Okta's errorSummary, and are put back in the queue by
 *   `okta configure`, `okta setup` and `okta reconcile` once the cause is fixed.
 * - Deactivating an identity does not change the flag: the flag says "has a passkey". Setting it
 *   to false would route a deactivated person to Okta's own sign-in, bypassing the block that
 *   deactivation means; Latchkey refuses the deactivated person's sign-in instead.
 */
import type { Services } from '../../bootstrap.ts';
import type { JobInput, JobRecord } from '../../ports/storage.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../logger.ts';
import { isOktaApiError, type OktaDirectory } from '../../ports/okta-directory.ts';
import { createJobRunner, type JobOutcome } from '../../workers/job-runner.ts';
import { loadOktaConnection, OKTA_CONNECTION_KEY } from './okta-connection.ts';
import { systemActor } from '../../domain/actor.ts';
import type { PasskeyChangeJobs } from '../../domain/passkeys.ts';
import type { IdentityDeleteJobs } from '../../domain/identities.ts';

export const OKTA_SYNC_QUEUE = 'okta-sync';
export const REGISTRATION_ATTRIBUTE = 'byndidRegistered';
export const OKTA_SYNC_ACTOR = systemActor('okta-sync');

export interface OktaSyncPayload {
  identityId: string;
  /** Only for an identity that no longer exists: where to send `false`. */
  oktaUserId?: string | null;
  login?: string | null;
}

export function oktaSyncJob(identityId: string, clock: Clock, extra: Omit<OktaSyncPayload, 'identityId'> = {}): JobInput {
  return { queue: OKTA_SYNC_QUEUE, key: identityId, payload: { identityId, ...extra }, runAt: clock.now() };
}

/**
 * The outbox listeners bootstrap.ts gives the passkey and identity services, so every process
 * that changes passkeys (server, CLI) records the flag update. Jobs are recorded even before Okta
 * is connected, so the backlog is delivered as soon as it is.
 */
export function oktaSyncListeners(clock: Clock): { onPasskeyChange: PasskeyChangeJobs; onIdentityDelete: IdentityDeleteJobs } {
  return {
    onPasskeyChange: (change) => [oktaSyncJob(change.passkey.identityId, clock)],
    // A deleted person had their passkeys deleted with them: Okta must stop routing them here.
    onIdentityDelete: (identity) => [oktaSyncJob(identity.id, clock, { oktaUserId: identity.oktaUserId, login: identity.userName })],
  };
}

/** The value Okta should hold for this identity right now. */
export async function desiredRegistration(services: Pick<Services, 'store'>, identityId: string): Promise<boolean> {
  return (await services.store.passkeys.listByIdentity(identityId)).length > 0;
}

/** Re-queues every failed sync job (after the token, the attribute or a user was fixed). */
export async function requeueFailedSyncJobs(services: Pick<Services, 'store' | 'clock'>): Promise<number> {
  const failed = await services.store.jobs.list(OKTA_SYNC_QUEUE, 'failed', 100_000);
  for (const job of failed) await services.store.jobs.enqueue({ queue: OKTA_SYNC_QUEUE, key: job.key, payload: job.payload, runAt: services.clock.now() });
  return failed.length;
}

type HandlerServices = Pick<Services, 'store' | 'sealer' | 'clock' | 'identities' | 'audit'>;

/** Small random spread after a rate-limit reset so instances do not all retry in the same ms. */
const resetJitterMs = () => Math.floor(Math.random() * 1000);

function describe(error: unknown): string {
  return isOktaApiError(error) ? `Okta: ${error.message}` : (error as Error).message || String(error);
}

export function createOktaSyncHandler(services: HandlerServices, options: { directory?: () => Promise<OktaDirectory | null> } = {}) {
  const directoryFor =
    options.directory ??
    (async () => {
      const connection = await loadOktaConnection(services);
      return connection ? connection.directory() : null;
    });

  /** POSTs the flag by id when known, else by login; remembers the id Okta answered with. */
  async function deliver(directory: OktaDirectory, target: { identityId: string; oktaUserId: string | null; login: string | null }, value: boolean) {
    const ids = [target.oktaUserId, target.login].filter((id, index, all): id is string => !!id && all.indexOf(id) === index);
    let lastError: unknown = null;
    for (const id of ids) {
      try {
        return await directory.partialUpdateProfile(id, { [REGISTRATION_ATTRIBUTE]: value });
      } catch (error) {
        // A remembered id that Okta no longer knows (user deleted and re-created): try the login.
        if (isOktaApiError(error, 'not_found') && id === target.oktaUserId && ids.length > 1) {
          lastError = error;
          continue;
        }
        throw error;
      }
    }
    throw lastError ?? new Error('no Okta user id or login to update');
  }

  return async function handle(job: JobRecord): Promise<JobOutcome> {
    const payload = job.payload as unknown as OktaSyncPayload;
    const identity = await services.store.identities.get(payload.identityId);
    let target: { identityId: string; oktaUserId: string | null; login: string | null };
    let value: boolean;
    if (identity) {
      target = { identityId: identity.id, oktaUserId: identity.oktaUserId, login: identity.userName };
      value = await desiredRegistration(services, identity.id);
    } else if (payload.oktaUserId || payload.login) {
      // Deleted in Latchkey: the person has no passkey here any more.
      target = { identityId: payload.identityId, oktaUserId: payload.oktaUserId ?? null, login: payload.login ?? null };
      value = false;
    } else {
      return { kind: 'done' };
    }

    let directory: OktaDirectory | null;
    try {
      directory = await directoryFor();
    } catch (error) {
      return { kind: 'failed', error: describe(error) };
    }
    if (!directory) return { kind: 'retry', error: 'Okta is not connected', at: services.clock.now() + 60_000 };

    try {
      const user = await deliver(directory, target, value);
      if (identity && user.id && user.id !== identity.oktaUserId) {
        // Remember the resolved id: later updates survive a login rename in Okta.
        await services.identities.update(identity.id, { oktaUserId: user.id }, OKTA_SYNC_ACTOR).catch(() => undefined);
      }
      await services.audit.record({ kind: 'okta-sync', action: 'okta.flag', actor: OKTA_SYNC_ACTOR, target: `identity:${target.identityId}`, detail: { [REGISTRATION_ATTRIBUTE]: value, oktaUserId: user.id } });
      return { kind: 'done' };
    } catch (error) {
      // No answer or a 5xx: Okta itself is down, whoever the person is (the queue backs off as one).
      if (!isOktaApiError(error)) return { kind: 'retry', reason: 'unavailable', error: describe(error) };
      if (error.kind === 'rate_limited') {
        const resetAt = error.rateLimit?.resetAt;
        const now = services.clock.now();
        // Okta's reset is epoch seconds; wait for it, but never less than 1 s nor more than 1 h.
        const at = resetAt ? Math.min(Math.max(resetAt, now + 1000), now + 3_600_000) + resetJitterMs() : undefined;
        return { kind: 'retry', reason: 'rate_limited', error: describe(error), at };
      }
      if (error.transient) return { kind: 'retry', reason: 'unavailable', error: describe(error) };
      await services.audit.record({ kind: 'okta-sync', action: 'okta.flag', actor: OKTA_SYNC_ACTOR, target: `identity:${target.identityId}`, outcome: 'failure', detail: { [REGISTRATION_ATTRIBUTE]: value, errorCode: error.errorCode, errorSummary: error.errorSummary, status: error.status } });
      return { kind: 'failed', error: describe(error) };
    }
  };
}

export interface OktaSyncWorkerOptions {
  services: HandlerServices;
  logger: Logger;
  /** How often the idle worker checks whether Okta got connected (ms). */
  connectionPollMs?: number;
  pollMs?: number;
  leaseMs?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Longest wait between probes while Okta is down (bounds the delay once it is back). */
  outageMaxBackoffMs?: number;
  /** Pacing between deliveries (100 ms = 10/s, well inside Okta's per-org user limits). */
  minIntervalMs?: number;
  directory?: () => Promise<OktaDirectory | null>;
}

/**
 * The delivery worker. start() runs it in the background once an Okta connection exists (checked
 * every connectionPollMs, so `okta configure` on the CLI is picked up without a restart);
 * drain() delivers every due job now (tests, `okta reconcile`).
 */
export function createOktaSyncWorker(options: OktaSyncWorkerOptions) {
  const { services, logger } = options;
  const runner = createJobRunner({
    queue: OKTA_SYNC_QUEUE,
    jobs: services.store.jobs,
    settings: services.store.settings,
    clock: services.clock,
    logger,
    handler: createOktaSyncHandler(services, { directory: options.directory }),
    leaseMs: options.leaseMs ?? 60_000,
    pollMs: options.pollMs ?? 1_000,
    // Transient failures retry for as long as Okta is away; permanent ones fail at once.
    maxAttempts: Number.POSITIVE_INFINITY,
    baseBackoffMs: options.baseBackoffMs ?? 1_000,
    maxBackoffMs: options.maxBackoffMs ?? 5 * 60_000,
    outageAfter: 3,
    outageMaxBackoffMs: options.outageMaxBackoffMs ?? 15_000,
    minIntervalMs: options.minIntervalMs ?? 100,
  });
  const connectionPollMs = options.connectionPollMs ?? 15_000;
  let watching = false;
  let runnerStarted = false;
  let watchTimer: NodeJS.Timeout | null = null;

  async function connected(): Promise<boolean> {
    return (await services.store.settings.get(OKTA_CONNECTION_KEY)) !== null;
  }

  async function watch(): Promise<void> {
    if (!watching) return;
    try {
      if (!runnerStarted && (await connected())) {
        logger.info({ queue: OKTA_SYNC_QUEUE }, 'Okta connected: delivering byndidRegistered updates');
        runnerStarted = true;
        runner.start();
      }
    } catch (error) {
      logger.warn({ err: error }, 'cannot read the Okta connection; will retry');
    }
    if (watching && !runnerStarted) watchTimer = setTimeout(() => void watch(), connectionPollMs);
  }

  return {
    runner,
    async drain(): Promise<number> {
      return runner.drain();
    },
    start(): void {
      if (watching) return;
      watching = true;
      void watch();
    },
    poke(): void {
      runner.poke();
    },
    async stop(): Promise<void> {
      watching = false;
      if (watchTimer) clearTimeout(watchTimer);
      if (runnerStarted) await runner.stop();
      runnerStarted = false;
    },
  };
}

export type OktaSyncWorker = ReturnType<typeof createOktaSyncWorker>;
