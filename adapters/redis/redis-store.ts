/**
 * The Redis store: the production adapter for many stateless instances behind a load balancer.
 * - Every port method is one command, one MULTI/EXEC or one Lua script, so it is atomic across
 *   instances without locks held by a client that may die.
 * - Keys are laid out in keys.ts. Scripts name keys at run time, so this needs one Redis primary
 *   (standalone or Sentinel, Redis >= 7.0 for SET NX GET, ZRANGESTORE and PEXPIRETIME), not Cluster.
 * - Nothing here reads a clock for expiry: the port's `now` decides, Redis TTLs only collect.
 */
import { Redis } from 'ioredis';
import type { Store } from '../../server/ports/storage.ts';
import { createAppRepository } from './apps.ts';
import { createAuditRepository } from './audit.ts';
import { createGroupRepository } from './groups.ts';
import { createIdentityRepository } from './identities.ts';
import { createInviteRepository } from './invites.ts';
import { createJobQueue } from './jobs.ts';
import { Keys } from './keys.ts';
import { createOidcModelRepository } from './oidc-models.ts';
import { createOneTimeRepository } from './one-time.ts';
import { createPasskeyRepository } from './passkeys.ts';
import { createScimTokenRepository } from './scim-tokens.ts';
import { createSettingsRepository } from './settings.ts';
import { createSigningKeyRepository } from './signing-keys.ts';

export async function openRedisStore(options: { url: string; keyPrefix?: string }): Promise<Store> {
  // lazyConnect so a wrong URL fails this call instead of retrying in the background forever.
  const redis = new Redis(options.url, { lazyConnect: true });
  await redis.connect();
  const keys = new Keys(options.keyPrefix ?? 'latchkey:');
  const identities = createIdentityRepository(redis, keys);
  await identities.migrateKeys();

  return {
    kind: 'redis',
    identities,
    groups: createGroupRepository(redis, keys),
    passkeys: createPasskeyRepository(redis, keys),
    apps: createAppRepository(redis, keys),
    invites: createInviteRepository(redis, keys),
    signingKeys: createSigningKeyRepository(redis, keys),
    settings: createSettingsRepository(redis, keys),
    oidc: createOidcModelRepository(redis, keys),
    oneTime: createOneTimeRepository(redis, keys),
    scimTokens: createScimTokenRepository(redis, keys),
    audit: createAuditRepository(redis, keys),
    jobs: createJobQueue(redis, keys),
    // Every oidc-provider and one-time key carries a PEXPIREAT: Redis collects them itself.
    async sweepExpired() {
      return 0;
    },
    async ping() {
      await redis.ping();
    },
    async close() {
      await redis.quit();
    },
  };
}
