/** Shared set-up for the Okta tests: a Latchkey test server connected to the Okta emulator. */
import type { Services } from '../../server/bootstrap.ts';
import { createLogger } from '../../server/logger.ts';
import { createOktaSyncWorker } from '../../server/edges/okta/okta-sync.ts';
import { configureOkta } from '../../server/edges/okta/okta-configure.ts';
import type { OktaSim } from '../okta-sim/okta-sim.ts';
import { createPerson } from '../support/builders.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

export { movableClock } from '../support/clock.ts';

export async function connect(services: Services, sim: OktaSim, token = sim.token) {
  return configureOkta(services, { domain: sim.url, token }, CLI_ACTOR);
}

/** The worker the server runs, without pacing or polling, drained by the test. */
export function syncWorker(services: Services) {
  return createOktaSyncWorker({ services, logger: createLogger('silent'), minIntervalMs: 0, baseBackoffMs: 1_000, maxBackoffMs: 60_000 });
}

export { addPasskey } from '../support/builders.ts';

export async function person(services: Services, sim: OktaSim, login: string, options: { knownOktaId?: boolean } = {}) {
  const oktaUser = sim.addUser({ login, firstName: 'Pat', lastName: 'Example' });
  const identity = await createPerson(services, login, { givenName: null, familyName: null, oktaUserId: options.knownOktaId ? oktaUser.id : null, actor: CLI_ACTOR });
  return { identity, oktaUser };
}

export const flagOf = (sim: OktaSim, oktaUserId: string) => sim.users.get(oktaUserId)?.profile.byndidRegistered;
