/** Shared set-up for the enrollment tests: people, statuses and an in-process mail worker. */
import type { Services } from '../../server/bootstrap.ts';
import { createLogger } from '../../server/logger.ts';
import { openMailer } from '../../adapters/mail/open-mailer.ts';
import { createMailSending } from '../../server/workers/enrollment-mail-worker.ts';
import type { EnrollmentStatus, IdentityRecord } from '../../server/ports/storage.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

export { createPeople } from '../support/builders.ts';

export async function statusesOf(services: Services, people: IdentityRecord[]): Promise<EnrollmentStatus[]> {
  const map = await services.store.identities.statuses(people.map((person) => person.id), services.clock.now());
  return people.map((person) => map.get(person.id)!);
}

/** The same wiring as server/main.ts, with test-sized lease and backoff. */
export function mailSendingFor(services: Services, overrides: Parameters<typeof createMailSending>[3] = {}, logger = createLogger('silent')) {
  return createMailSending(services, openMailer(services.config, logger), logger, { heartbeat: false, baseBackoffMs: 200, maxBackoffMs: 1_000, outageMaxBackoffMs: 1_000, leaseMs: 5_000, pollMs: 100, ...overrides });
}

/** Polls `check` until it holds; `what` (or what it returns, read at the timeout) names it in the error. */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 30_000, what: string | (() => string) = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
