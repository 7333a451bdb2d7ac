/**
 * The storage contract: every adapter of server/ports/storage.ts passes this same suite.
 * - Port-level only: nothing here knows which backend runs, so it runs unchanged on Redis.
 * - traits.reclaimsExpiredItself: the store collects expired rows itself (Redis PEXPIREAT), so its
 *   sweepExpired() returns 0; every other store must delete them there.
 * - makeStore() must return an empty store (a fresh file, a fresh key prefix); each test gets its
 *   own and closes it. cleanup, if given, runs once after the whole suite.
 * - "Concurrent" cases fire both calls before awaiting either: an adapter that reads, awaits and
 *   then writes interleaves there and lets both win.
 * - Time is passed in, never read by the adapter. NOW is the wall clock at load, and every "still
 *   valid" window is an hour or more, so an adapter may also let native TTLs (Redis PEXPIREAT)
 *   collect expired values; expiry itself is always judged against the `now` argument.
 */
import { afterAll, afterEach, beforeEach, describe } from 'vitest';
import type { IdentityRecord, Store } from '../../server/ports/storage.ts';
import type { ContractContext } from './fixtures.ts';
import { describeIdentitiesGroupsContract } from './identities-groups.contract.ts';
import { describeIdentityKeysContract } from './identity-keys.contract.ts';
import { describeCredentialsContract } from './credentials.contract.ts';
import { describeProtocolStateContract } from './protocol-state.contract.ts';
import { describeFiltersContract } from './filters.contract.ts';
import { describeAuthenticatorMetadataContract } from './authenticator-metadata.contract.ts';

export function describeStoreContract(
  name: string,
  makeStore: () => Promise<Store>,
  cleanup?: () => Promise<void>,
  traits: { reclaimsExpiredItself?: boolean } = {},
): void {
  describe(`storage contract: ${name}`, () => {
    let store: Store;
    let closed = false;

    beforeEach(async () => {
      store = await makeStore();
      closed = false;
    });
    afterEach(async () => {
      if (!closed) await store.close();
    });
    if (cleanup) afterAll(cleanup);

    const ctx: ContractContext = {
      get store() {
        return store;
      },
      reclaimsExpiredItself: traits.reclaimsExpiredItself ?? false,
      markClosed() {
        closed = true;
      },
      async createIdentities(...records: IdentityRecord[]) {
        for (const record of records) await store.identities.create(record);
        return records;
      },
    };

    describeIdentitiesGroupsContract(ctx);
    describeIdentityKeysContract(ctx);
    describeCredentialsContract(ctx);
    describeProtocolStateContract(ctx);
    describeFiltersContract(ctx);
    describeAuthenticatorMetadataContract(ctx);
  });
}
