/** Shared set-up for the Okta tests: a Latchkey test server connected to the Okta emulator. */
import { randomBytes } from 'node:crypto';
import type { Services } from '../../server/bootstrap.ts';
import type { Clock } from '../../server/ports/clock.ts';
import { createLogger } from '../../server/logger.ts';
import { createOktaSyncWorker } from '../../server/edges/okta/okta-sync.ts';
import { configureOkta } from '../../server/edges/okta/okta-configure.ts';
import type { OktaSim } from '../okta-sim/okta-sim.ts';
import { CLI_ACTOR, adminActor } from '../../server/domain/actor.ts';

/** Real time plus an offset the test moves forward, so backoffs and rate-limit waits need no sleeping. */
export function movableClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms: number) {
      offset += ms;
    },
  };
}

export async function connect(services: Services, sim: OktaSim, token = sim.token) {
  return configureOkta(services, { domain: sim.url, token }, CLI_ACTOR);
}

/** The worker the server runs, without pacing or polling, drained by the test. */
export function syncWorker(services: Services) {
  return createOktaSyncWorker({ services, logger: createLogger('silent'), minIntervalMs: 0, baseBackoffMs: 1_000, maxBackoffMs: 60_000 });
}

export async function addPasskey(services: Services, identityId: string) {
  return services.passkeys.add(
    {
      id: randomBytes(16).toString('base64url'),
      identityId,
      publicKey: randomBytes(32).toString('base64url'),
      counter: 0,
      transports: ['internal'],
      aaguid: '00000000-0000-0000-0000-000000000000',
      deviceType: 'multiDevice',
      backedUp: true,
      name: 'Test passkey',
    },
    adminActor(identityId),
  );
}

export async function person(services: Services, sim: OktaSim, login: string, options: { knownOktaId?: boolean } = {}) {
  const oktaUser = sim.addUser({ login, firstName: 'Pat', lastName: 'Example' });
  const identity = await services.identities.create({ userName: login, email: login, oktaUserId: options.knownOktaId ? oktaUser.id : null }, CLI_ACTOR);
  return { identity, oktaUser };
}

export const flagOf = (sim: OktaSim, oktaUserId: string) => sim.users.get(oktaUserId)?.profile.byndidRegistered;
