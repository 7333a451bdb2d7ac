/**
 * `okta reconcile`: compares every identity's desired flag (has >= 1 passkey) with what Okta
 * holds and fixes drift through the same durable queue the live sync uses (so a fix is leased,
 * retried and never raced by a second instance), then delivers what is due right away.
 * A missing or null flag in Okta counts as false: the routing rule only matches `true`.
 */
import type { Services } from '../../bootstrap.ts';
import { createLogger } from '../../logger.ts';
import { isOktaApiError, type OktaDirectory, type OktaUser } from '../../ports/okta-directory.ts';
import type { IdentityRecord } from '../../ports/storage.ts';
import { requireOktaConnection } from './okta-connection.ts';
import { createOktaSyncWorker, desiredRegistration, OKTA_SYNC_QUEUE, oktaSyncJob, REGISTRATION_ATTRIBUTE, requeueFailedSyncJobs } from './okta-sync.ts';
import { CLI_ACTOR } from '../../domain/actor.ts';

type Deps = Pick<Services, 'store' | 'sealer' | 'clock' | 'identities' | 'audit'>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads one user, waiting out a 429 (up to a minute each time) rather than giving up. */
async function readUser(directory: OktaDirectory, identity: IdentityRecord): Promise<OktaUser | null> {
  const ids = [identity.oktaUserId, identity.userName].filter((id): id is string => !!id);
  for (const id of ids) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await directory.getUser(id);
      } catch (error) {
        if (isOktaApiError(error, 'rate_limited') && attempt < 5) {
          await sleep(Math.min(60_000, Math.max(1000, (error.rateLimit?.resetAt ?? Date.now() + 1000) - Date.now())));
          continue;
        }
        if (isOktaApiError(error, 'not_found')) break;
        throw error;
      }
    }
  }
  return null;
}

export async function reconcileOkta(services: Deps, options: { dryRun?: boolean; pageSize?: number } = {}) {
  const connection = await requireOktaConnection(services);
  const directory = connection.directory();
  const dryRun = options.dryRun ?? false;
  const pageSize = options.pageSize ?? 200;
  const drift: { identity_id: string; username: string; okta: boolean | null; desired: boolean }[] = [];
  const notInOkta: string[] = [];
  const errors: { username: string; error: string }[] = [];
  let checked = 0;
  let inSync = 0;

  for (let offset = 0; ; offset += pageSize) {
    const page = await services.store.identities.query({ offset, limit: pageSize, now: services.clock.now() });
    for (const identity of page.items) {
      checked++;
      const desired = await desiredRegistration(services, identity.id);
      let user: OktaUser | null;
      try {
        user = await readUser(directory, identity);
      } catch (error) {
        // A token or outage problem affects every identity: stop and say so once.
        if (isOktaApiError(error) && (error.kind === 'unauthorized' || error.kind === 'forbidden' || error.transient)) throw error;
        errors.push({ username: identity.userName, error: (error as Error).message });
        continue;
      }
      if (!user) {
        notInOkta.push(identity.userName);
        continue;
      }
      const current = user.profile[REGISTRATION_ATTRIBUTE];
      const okta = typeof current === 'boolean' ? current : null;
      if ((okta ?? false) === desired) {
        inSync++;
        continue;
      }
      drift.push({ identity_id: identity.id, username: identity.userName, okta, desired });
      if (!dryRun) await services.store.jobs.enqueue(oktaSyncJob(identity.id, services.clock));
    }
    if (page.items.length < pageSize) break;
  }

  let requeued = 0;
  let delivered = 0;
  if (!dryRun) {
    requeued = await requeueFailedSyncJobs(services);
    // Deliver now; anything waiting on a rate-limit reset or an outage stays queued for the server.
    const worker = createOktaSyncWorker({ services, logger: createLogger('silent'), minIntervalMs: 100 });
    delivered = await worker.drain();
  }
  const counts = await services.store.jobs.counts(OKTA_SYNC_QUEUE);
  if (!dryRun) await services.audit.record({ kind: 'cli', action: 'okta.reconcile', actor: CLI_ACTOR, detail: { checked, drift: drift.length } });
  return {
    dry_run: dryRun,
    checked,
    in_sync: inSync,
    drift,
    not_in_okta: notInOkta,
    errors,
    ...(dryRun ? {} : { enqueued: drift.length, requeued_failed: requeued, jobs_run: delivered, pending_after: counts.pending, failed_after: counts.failed }),
  };
}
