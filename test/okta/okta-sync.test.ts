/**
 * The byndidRegistered sync, end to end: a real Latchkey store, the real job runner and the Okta
 * emulator over HTTP. Runs on both stores.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { startOktaSim, type OktaSim } from '../okta-sim/okta-sim.ts';
import { OKTA_SYNC_QUEUE } from '../../server/edges/okta/okta-sync.ts';
import { oktaStatus } from '../../server/edges/okta/okta-configure.ts';
import { reconcileOkta } from '../../server/edges/okta/okta-reconcile.ts';
import { addPasskey, connect, flagOf, movableClock, person, syncWorker } from './helpers.ts';
import { createPerson } from '../support/builders.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

const userUpdates = (sim: OktaSim) => sim.requests.filter((request) => request.path.startsWith('/api/v1/users/') && request.path !== '/api/v1/users/me' && request.method !== 'GET');

for (const store of STORE_KINDS) {
  describe(`Okta byndidRegistered sync (${store})`, () => {
    let sim: OktaSim;
    let server: TestServer;
    let clock: ReturnType<typeof movableClock>;
    const leftovers: string[] = [];

    beforeEach(async () => {
      sim = await startOktaSim();
      sim.defineRegistrationAttribute();
      clock = movableClock();
      server = await startTestServer({ store, clock });
    });

    afterEach(async () => {
      await server?.close();
      await sim?.close();
      for (const dir of leftovers.splice(0)) rmSync(dir, { recursive: true, force: true });
    });

    it('flags the Okta user true on the first passkey and false when the last one is revoked, with a partial POST only', async () => {
      const { services } = server;
      const worker = syncWorker(services);
      await connect(services, sim);
      const { identity, oktaUser } = await person(services, sim, 'pat+okta@example.com');

      const first = await addPasskey(services, identity.id);
      expect(await worker.drain()).toBe(1);
      expect(flagOf(sim, oktaUser.id)).toBe(true);
      // Resolved by login (URL-encoded), and the id Okta answered with is remembered.
      const [byLogin] = userUpdates(sim);
      expect(byLogin).toMatchObject({ method: 'POST', path: '/api/v1/users/pat%2Bokta%40example.com', body: { profile: { byndidRegistered: true } } });
      expect(byLogin.authorization).toBe(`SSWS ${sim.token}`);
      expect((await services.identities.require(identity.id)).oktaUserId).toBe(oktaUser.id);
      expect(oktaUser.profile.firstName).toBe('Pat');

      const second = await addPasskey(services, identity.id);
      await worker.drain();
      await services.passkeys.revoke(first.id, CLI_ACTOR);
      await worker.drain();
      expect(flagOf(sim, oktaUser.id)).toBe(true);

      await services.passkeys.revoke(second.id, CLI_ACTOR);
      await worker.drain();
      expect(flagOf(sim, oktaUser.id)).toBe(false);
      const updates = userUpdates(sim);
      expect(updates.at(-1)).toMatchObject({ method: 'POST', path: `/api/v1/users/${oktaUser.id}`, body: { profile: { byndidRegistered: false } } });
      expect(updates.every((request) => request.method === 'POST' && Object.keys(request.body as object).join() === 'profile')).toBe(true);
      // Other profile fields survive (a PUT would have nulled them).
      expect(oktaUser.profile).toMatchObject({ firstName: 'Pat', lastName: 'Example', login: 'pat+okta@example.com' });
      expect(await services.store.jobs.counts(OKTA_SYNC_QUEUE)).toMatchObject({ pending: 0, failed: 0 });
    });

    it('sets the flag back to false when the identity is deleted in Latchkey', async () => {
      const { services } = server;
      const worker = syncWorker(services);
      await connect(services, sim);
      const { identity, oktaUser } = await person(services, sim, 'gone@example.com');
      await addPasskey(services, identity.id);
      await worker.drain();
      expect(flagOf(sim, oktaUser.id)).toBe(true);
      await services.identities.remove(identity.id, CLI_ACTOR);
      expect(await worker.drain()).toBe(1);
      expect(flagOf(sim, oktaUser.id)).toBe(false);
    });

    it('delivers a change made before a restart, after the restart (true, then false)', async () => {
      await server.close();
      server = await startTestServer({ store, clock, keepData: true });
      const keepPrefix = server.env.REDIS_KEY_PREFIX;
      syncWorker(server.services);
      await connect(server.services, sim);
      const { identity, oktaUser } = await person(server.services, sim, 'restart@example.com');
      const passkey = await addPasskey(server.services, identity.id);
      const dataDir = server.dataDir;
      // Stop before any worker delivered: the update lives only in the store.
      await closeKeeping(server);
      expect(flagOf(sim, oktaUser.id)).toBeUndefined();

      server = await startTestServer({ store, clock, dataDir, keepData: true, env: keepPrefix ? { REDIS_KEY_PREFIX: keepPrefix } : {} });
      expect(await syncWorker(server.services).drain()).toBe(1);
      expect(flagOf(sim, oktaUser.id)).toBe(true);

      await server.services.passkeys.revoke(passkey.id, CLI_ACTOR);
      await closeKeeping(server);
      server = await startTestServer({ store, clock, dataDir, env: keepPrefix ? { REDIS_KEY_PREFIX: keepPrefix } : {} });
      leftovers.push(dataDir);
      await syncWorker(server.services).drain();
      expect(flagOf(sim, oktaUser.id)).toBe(false);
    });

    it('waits out a 429 until X-Rate-Limit-Reset, retries a 503, and delivers once with the current value', async () => {
      const { services } = server;
      const worker = syncWorker(services);
      await connect(services, sim);
      const { identity, oktaUser } = await person(services, sim, 'busy@example.com', { knownOktaId: true });
      sim.injectFaults({ status: 429, resetInSeconds: 30, method: 'POST', path: /^\/api\/v1\/users\// }, { status: 503, method: 'POST', path: /^\/api\/v1\/users\// });

      await addPasskey(services, identity.id);
      await worker.drain();
      let job = (await services.store.jobs.get(OKTA_SYNC_QUEUE, identity.id))!;
      expect(job).toMatchObject({ state: 'pending', attempts: 1 });
      expect(job.lastError).toContain('E0000047');
      expect(job.runAt).toBeGreaterThanOrEqual(clock.now() + 28_000);
      expect(await worker.drain()).toBe(0); // not before the reset

      clock.advance(33_000); // reset (30 s, rounded up to the next second) plus up to 1 s of jitter
      expect(await worker.drain()).toBe(1); // the 503
      job = (await services.store.jobs.get(OKTA_SYNC_QUEUE, identity.id))!;
      expect(job).toMatchObject({ state: 'pending', attempts: 2 });
      expect(job.lastError).toContain('503');
      expect(flagOf(sim, oktaUser.id)).toBeUndefined();

      clock.advance(60_000);
      expect(await worker.drain()).toBe(1);
      expect(flagOf(sim, oktaUser.id)).toBe(true);
      const statuses = userUpdates(sim).map((request) => request.status);
      expect(statuses).toEqual([429, 503, 200]);
      expect((await services.store.jobs.get(OKTA_SYNC_QUEUE, identity.id))!.state).toBe('done');
    });

    it('retries a dropped connection and a long outage without giving up', async () => {
      const { services } = server;
      const worker = syncWorker(services);
      await connect(services, sim);
      const { identity, oktaUser } = await person(services, sim, 'outage@example.com');
      sim.injectFaults({ status: 'drop', method: 'POST' });
      await addPasskey(services, identity.id);
      await worker.drain();
      expect((await services.store.jobs.get(OKTA_SYNC_QUEUE, identity.id))!.lastError).toMatch(/could not reach/);

      sim.setOutage({ status: 503 });
      for (let i = 0; i < 20; i++) {
        clock.advance(61_000);
        await worker.drain();
      }
      expect((await services.store.jobs.get(OKTA_SYNC_QUEUE, identity.id))!).toMatchObject({ state: 'pending', attempts: 21 });
      sim.setOutage(null);
      clock.advance(61_000);
      await worker.drain();
      expect(flagOf(sim, oktaUser.id)).toBe(true);
    });

    it('sends the newest state when the passkeys change during a delivery', async () => {
      const { services } = server;
      const worker = syncWorker(services);
      await connect(services, sim);
      const { identity, oktaUser } = await person(services, sim, 'race@example.com', { knownOktaId: true });
      // Okta holds the first POST until the passkey is revoked: the change lands mid-delivery.
      let arrived!: () => void;
      const inFlight = new Promise<void>((resolve) => (arrived = resolve));
      let answer!: () => void;
      const answered = new Promise<void>((resolve) => (answer = resolve));
      sim.injectFaults({
        method: 'POST',
        hold: () => {
          arrived();
          return answered;
        },
      });
      const passkey = await addPasskey(services, identity.id);
      const draining = worker.drain();
      await inFlight;
      await services.passkeys.revoke(passkey.id, CLI_ACTOR);
      answer();
      await draining;
      await worker.drain();
      expect(flagOf(sim, oktaUser.id)).toBe(false);
      // The in-flight delivery sent the state it read (true); the change during it was sent after.
      expect(userUpdates(sim).map((request) => (request.body as { profile: { byndidRegistered: boolean } }).profile.byndidRegistered)).toEqual([true, false]);
      expect((await services.store.jobs.get(OKTA_SYNC_QUEUE, identity.id))!.state).toBe('done');
    });

    it('takes over the job of a worker that crashed mid-delivery once its lease expires', async () => {
      const { services } = server;
      const worker = syncWorker(services);
      await connect(services, sim);
      const { identity, oktaUser } = await person(services, sim, 'crash@example.com');
      await addPasskey(services, identity.id);
      const leased = await services.store.jobs.lease(OKTA_SYNC_QUEUE, 'crashed-instance', clock.now(), 60_000);
      expect(leased?.key).toBe(identity.id);
      expect(await worker.drain()).toBe(0); // held by the other instance
      clock.advance(61_000);
      expect(await worker.drain()).toBe(1);
      expect(flagOf(sim, oktaUser.id)).toBe(true);
    });

    it('shows a revoked token as failed with Okta\'s message, loses nothing, and delivers after a new token', async () => {
      const { services } = server;
      const worker = syncWorker(services);
      await connect(services, sim);
      const { identity, oktaUser } = await person(services, sim, 'revoked@example.com');
      sim.revokeToken(sim.token);

      await addPasskey(services, identity.id);
      await worker.drain();
      const job = (await services.store.jobs.get(OKTA_SYNC_QUEUE, identity.id))!;
      expect(job.state).toBe('failed');
      expect(job.lastError).toContain('Invalid token provided');
      const status = await oktaStatus(services);
      expect(status.queue).toMatchObject({ pending: 0, failed: 1 });
      expect(status.queue.last_error?.error).toContain('Invalid token provided');
      expect(status.connection).toMatchObject({ configured: true, check: { ok: false } });
      expect(status.identities).toEqual({ flagged_true: 1, flagged_false: 0 });
      expect(flagOf(sim, oktaUser.id)).toBeUndefined();

      const reconnected = await connect(services, sim, sim.issueToken(sim.admin.id));
      expect(reconnected.requeued_failed).toBe(1);
      await worker.drain();
      expect(flagOf(sim, oktaUser.id)).toBe(true);
      expect(await services.store.jobs.counts(OKTA_SYNC_QUEUE)).toMatchObject({ pending: 0, failed: 0 });
    });

    it('a 403 or 404 from Okta ends the update as failed with Okta\'s message, without retrying', async () => {
      const { services } = server;
      const worker = syncWorker(services);
      await connect(services, sim);
      const { identity: forbidden } = await person(services, sim, 'forbidden@example.com', { knownOktaId: true });
      sim.injectFaults({ status: 403, method: 'POST', path: /^\/api\/v1\/users\// });
      await addPasskey(services, forbidden.id);
      expect(await worker.drain()).toBe(1);
      expect(await services.store.jobs.get(OKTA_SYNC_QUEUE, forbidden.id)).toMatchObject({ state: 'failed', lastError: expect.stringContaining('injected 403') });
      // Nobody of that login at Okta: the lookup answers 404.
      const stranger = await createPerson(services, 'not-at-okta@example.com');
      await addPasskey(services, stranger.id);
      expect(await worker.drain()).toBe(1);
      expect(await services.store.jobs.get(OKTA_SYNC_QUEUE, stranger.id)).toMatchObject({ state: 'failed', lastError: expect.stringMatching(/404|E0000007|Not found/i) });
      clock.advance(10 * 60_000);
      expect(await worker.drain()).toBe(0);
      expect(await services.store.jobs.counts(OKTA_SYNC_QUEUE)).toMatchObject({ pending: 0, failed: 2 });
    });

    it('deactivating a person leaves their Okta flag alone (Latchkey refuses the sign-in instead)', async () => {
      const { services } = server;
      const worker = syncWorker(services);
      await connect(services, sim);
      const { identity, oktaUser } = await person(services, sim, 'deactivated@example.com');
      await addPasskey(services, identity.id);
      expect(await worker.drain()).toBe(1);
      expect(flagOf(sim, oktaUser.id)).toBe(true);
      const writes = userUpdates(sim).length;
      await services.identities.update(identity.id, { active: false }, CLI_ACTOR);
      expect(await worker.drain()).toBe(0);
      expect(flagOf(sim, oktaUser.id)).toBe(true);
      expect(userUpdates(sim)).toHaveLength(writes);
    });

    it('reconcile finds drift in Okta and fixes it through the queue', async () => {
      const { services } = server;
      syncWorker(services);
      await connect(services, sim);
      const enrolled = await person(services, sim, 'enrolled@example.com');
      const stale = await person(services, sim, 'stale@example.com');
      const fine = await person(services, sim, 'fine@example.com');
      await addPasskey(services, enrolled.identity.id);
      stale.oktaUser.profile.byndidRegistered = true; // flagged in Okta, but holds no passkey
      fine.oktaUser.profile.byndidRegistered = false;
      await services.identities.create({ userName: 'ghost@example.com', email: 'ghost@example.com' }, CLI_ACTOR);

      const plan = await reconcileOkta(services, { dryRun: true });
      expect(plan).toMatchObject({ dry_run: true, checked: 4, in_sync: 1, not_in_okta: ['ghost@example.com'] });
      expect(plan.drift.map((entry) => [entry.username, entry.okta, entry.desired])).toEqual([
        ['enrolled@example.com', null, true],
        ['stale@example.com', true, false],
      ]);
      expect(stale.oktaUser.profile.byndidRegistered).toBe(true);

      const fixed = await reconcileOkta(services);
      expect(fixed).toMatchObject({ enqueued: 2, pending_after: 0, failed_after: 0 });
      expect(flagOf(sim, enrolled.oktaUser.id)).toBe(true);
      expect(flagOf(sim, stale.oktaUser.id)).toBe(false);
      expect((await reconcileOkta(services, { dryRun: true })).drift).toEqual([]);
    });
  });
}

/** Closes a test server started with keepData: its SQLite file and Redis keys stay for the next one. */
async function closeKeeping(server: TestServer) {
  await server.close();
}
