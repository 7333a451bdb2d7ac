/**
 * `okta configure` and `okta status`: connect Latchkey to an Okta org and show how delivery goes.
 * - The domain is checked first (validateOktaDomain), then the token against GET /api/v1/users/me;
 *   an error names which of the two failed and quotes Okta's errorSummary.
 * - Only a working token is stored (sealed). Failed deliveries are re-queued: they may have
 *   failed because of the old token.
 */
import { describeQueueHealth, queueHealth } from '../../workers/queue-pause.ts';
import type { Services } from '../../bootstrap.ts';
import { AppError } from '../../domain/errors.ts';
import { validateOktaDomain } from '../../domain/apps.ts';
import { isOktaApiError, type OktaDirectory, type OktaUser } from '../../ports/okta-directory.ts';
import { createOktaClient } from './okta-client.ts';
import { loadOktaConnection, saveOktaConnection } from './okta-connection.ts';
import { OKTA_SYNC_QUEUE, requeueFailedSyncJobs } from './okta-sync.ts';
import { type Actor } from '../../domain/actor.ts';

type Deps = Pick<Services, 'store' | 'sealer' | 'clock' | 'audit'>;

/** Turns a failed token check into one line that says whether the domain or the token is wrong. */
export function explainTokenCheckFailure(domain: string, error: unknown): AppError {
  if (!isOktaApiError(error)) return new AppError('upstream', `Okta token check against ${domain} failed: ${(error as Error).message}`, { cause: error });
  switch (error.kind) {
    case 'unauthorized':
      return new AppError('upstream', `Okta token rejected by ${domain}: ${error.errorSummary} (${error.errorCode ?? `HTTP ${error.status}`}); create a new API token in Okta under Security > API > Tokens`, { field: 'token', cause: error });
    case 'forbidden':
      return new AppError('upstream', `Okta token accepted by ${domain} but not allowed to read users: ${error.errorSummary} (${error.errorCode ?? `HTTP ${error.status}`}); use a token created by a super or org administrator`, { field: 'token', cause: error });
    case 'network':
      return new AppError('upstream', `Okta domain ${domain} cannot be reached: ${error.errorSummary}; check the org URL`, { field: 'domain', cause: error });
    case 'unexpected':
    case 'not_found':
      return new AppError('upstream', `Okta domain ${domain} does not answer like an Okta org: ${error.errorSummary}; check the org URL (e.g. https://dev-123456.okta.com)`, { field: 'domain', cause: error });
    default:
      return new AppError('upstream', `Okta at ${domain} could not check the token: ${error.errorSummary} (${error.errorCode ?? `HTTP ${error.status}`}); try again`, { cause: error });
  }
}

export async function checkOktaToken(directory: OktaDirectory): Promise<OktaUser> {
  try {
    return await directory.whoami();
  } catch (error) {
    throw explainTokenCheckFailure(directory.domain, error);
  }
}

export async function configureOkta(services: Deps, input: { domain: string; token: string }, actor: Actor, options: { fetch?: typeof fetch } = {}) {
  const domain = validateOktaDomain(input.domain);
  const token = (input.token ?? '').trim();
  if (!token) throw new AppError('invalid_input', 'Okta API token is empty: pass --token <api token>', { field: 'token' });
  const owner = await checkOktaToken(createOktaClient({ domain, token, fetch: options.fetch }));
  await saveOktaConnection(services, { domain, token, tokenOwner: { id: owner.id, login: owner.profile.login } });
  await services.audit.record({ action: 'okta.configure', actor, target: null, detail: { domain, tokenOwner: owner.profile.login } });
  const requeued = await requeueFailedSyncJobs(services);
  const counts = await services.store.jobs.counts(OKTA_SYNC_QUEUE);
  return {
    domain,
    token: 'stored encrypted',
    token_owner: { id: owner.id, login: owner.profile.login, name: [owner.profile.firstName, owner.profile.lastName].filter(Boolean).join(' ') || null },
    requeued_failed: requeued,
    pending_deliveries: counts.pending,
  };
}

export async function oktaStatus(services: Deps, options: { check?: boolean } = {}) {
  const connection = await loadOktaConnection(services);
  let check: { ok: boolean; detail: string } | null = null;
  if (connection && options.check !== false) {
    try {
      const me = await connection.directory({ timeoutMs: 10_000 }).whoami();
      check = { ok: true, detail: `token works (owner ${me.profile.login})` };
    } catch (error) {
      check = { ok: false, detail: isOktaApiError(error) ? error.message : (error as Error).message };
    }
  }
  const counts = await services.store.jobs.counts(OKTA_SYNC_QUEUE);
  const failed = await services.store.jobs.list(OKTA_SYNC_QUEUE, 'failed', 100_000);
  const pending = await services.store.jobs.list(OKTA_SYNC_QUEUE, 'pending', 100_000);
  const withError = [...failed, ...pending].filter((job) => job.lastError).sort((a, b) => b.updatedAt - a.updatedAt)[0] ?? null;
  const now = services.clock.now();
  const total = (await services.store.identities.query({ offset: 0, limit: 1, now })).total;
  const enrolled = (await services.store.identities.query({ status: 'enrolled', offset: 0, limit: 1, now })).total;
  return {
    connection: connection
      ? { configured: true, domain: connection.domain, token_owner: connection.tokenOwner?.login ?? null, configured_at: new Date(connection.configuredAt).toISOString(), ...(check ? { check } : {}) }
      : { configured: false, hint: 'run `latchkey okta configure --domain <org url> --token <api token>`' },
    queue: {
      // sending, rate_limited (waiting for X-Rate-Limit-Reset) or outage (Okta down, probing).
      ...describeQueueHealth(await queueHealth(services.store.settings, OKTA_SYNC_QUEUE)),
      pending: counts.pending,
      failed: counts.failed,
      delivered: counts.done,
      last_error: withError ? { identity_id: withError.key, state: withError.state, error: withError.lastError, at: new Date(withError.updatedAt).toISOString() } : null,
    },
    identities: { flagged_true: enrolled, flagged_false: total - enrolled },
  };
}
