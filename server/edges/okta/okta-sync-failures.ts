/**
 * Okta sync as the console shows it: each person whose registration flag could not be written to
 * Okta, with Okta's reason, and a retry (one person or all) once the cause is fixed.
 */
import type { Services } from '../../bootstrap.ts';
import { AppError } from '../../domain/errors.ts';
import { OKTA_SYNC_QUEUE, requeueFailedSyncJobs } from './okta-sync.ts';

type Deps = Pick<Services, 'store' | 'clock'>;

export interface OktaSyncFailure {
  identityId: string;
  userName: string | null;
  state: 'failed' | 'pending';
  error: string;
  attempts: number;
  at: string;
}

/** Failed deliveries, and pending ones that already failed at least once (retrying with backoff). */
export async function oktaSyncFailures(services: Deps, limit = 500): Promise<OktaSyncFailure[]> {
  const failed = await services.store.jobs.list(OKTA_SYNC_QUEUE, 'failed', limit);
  const retrying = (await services.store.jobs.list(OKTA_SYNC_QUEUE, 'pending', limit)).filter((job) => job.lastError);
  const jobs = [...failed, ...retrying].sort((a, b) => b.updatedAt - a.updatedAt).slice(0, limit);
  return Promise.all(
    jobs.map(async (job) => ({
      identityId: job.key,
      userName: (await services.store.identities.get(job.key))?.userName ?? null,
      state: job.state === 'failed' ? ('failed' as const) : ('pending' as const),
      error: job.lastError ?? 'unknown error',
      attempts: job.attempts,
      at: new Date(job.updatedAt).toISOString(),
    })),
  );
}

/** Queues the failed delivery of one person (or every failed one) to run now. */
export async function retryOktaSync(services: Deps, identityId?: string): Promise<number> {
  if (!identityId) return requeueFailedSyncJobs(services);
  const job = (await services.store.jobs.list(OKTA_SYNC_QUEUE, 'failed', 100_000)).find((candidate) => candidate.key === identityId);
  if (!job) throw new AppError('not_found', 'no failed Okta sync for this person: it may have been delivered or retried already');
  await services.store.jobs.enqueue({ queue: OKTA_SYNC_QUEUE, key: job.key, payload: job.payload, runAt: services.clock.now() });
  return 1;
}
