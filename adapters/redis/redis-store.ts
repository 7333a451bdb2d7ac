/**
 * The Redis store: the production adapter for many stateless instances behind a load balancer.
 * - Every port method is one command, one MULTI/EXEC or one Lua script, so it is atomic across
 *   instances without locks held by a client that may die.
 * - Keys are laid out in keys.ts. Scripts name keys at run time, so this needs one Redis primary
 *   (standalone or Sentinel, Redis >= 7.0 for SET NX GET, ZRANGESTORE and PEXPIRETIME), not Cluster.
 * - Nothing here reads a clock for expiry: the port's `now` decides, Redis TTLs only collect.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Store } from '../../server/ports/storage.ts';
import { createAppRepository } from './apps.ts';
import { createAuthenticatorMetadataRepository } from './authenticator-metadata.ts';
import { createAuditRepository } from './audit.ts';
import { createGroupRepository } from './groups.ts';
import { createIdentityRepository } from './identities.ts';
import { createInviteRepository } from './invites.ts';
import { createJobQueue } from './jobs.ts';
import { Keys } from './keys.ts';
import { sentinelClient } from './sentinel.ts';
import { upgradeIndexes } from './index-upgrade.ts';
import { createOidcModelRepository } from './oidc-models.ts';
import { createOneTimeRepository } from './one-time.ts';
import { createPasskeyRepository } from './passkeys.ts';
import { createScimTokenRepository } from './scim-tokens.ts';
import { createSettingsRepository } from './settings.ts';
import { createSigningKeyRepository } from './signing-keys.ts';
import { exportRedis, importRedis } from './transfer.ts';
import { createChangeNotifications } from './changes.ts';

export interface RedisStoreOptions {
  /** Standalone: the server. With `sentinel`: optional, only its credentials, db and TLS are used. */
  url?: string | null;
  keyPrefix?: string;
  sentinel?: { sentinels: { host: string; port: number }[]; name: string };
  /**
   * Longest a command may take, queued while reconnecting or sent (ioredis commandTimeout): during
   * an outage requests fail after this instead of hanging, and recover by themselves afterwards.
   */
  commandTimeoutMs?: number;
  /** How long to keep trying the first connection (Redis may start after Latchkey). */
  waitMs?: number;
  /** Connection errors after start-up (ioredis reconnects by itself); without it they are dropped. */
  onError?: (error: Error) => void;
}

/** Errors that mean "Redis cannot answer now" rather than a bug: the connection, not the command. */
export function isRedisUnavailable(error: unknown): boolean {
  const failure = error as { name?: string; message?: string; code?: string };
  if (!failure || typeof failure !== 'object') return false;
  if (failure.name === 'MaxRetriesPerRequestError') return true;
  if (typeof failure.code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH)$/.test(failure.code)) return true;
  return /Command timed out|Connection is closed|Stream isn't writeable|LOADING|READONLY|MASTERDOWN|CLUSTERDOWN/.test(failure.message ?? '');
}

async function connectWithin(options: RedisStoreOptions): Promise<Redis> {
  const deadline = Date.now() + (options.waitMs ?? 0);
  for (;;) {
    // lazyConnect so a wrong URL fails this call instead of retrying in the background forever.
    // Auto-pipelining: commands issued in the same event-loop turn (concurrent requests) leave in one
    // socket write and their replies come back in one read; each is still its own command, script or
    // MULTI/EXEC, in the order issued, so atomicity and ordering are unchanged.
    const tuning = { commandTimeout: options.commandTimeoutMs, retryStrategy: (times: number) => Math.min(times * 100, 1000), enableAutoPipelining: true };
    const redis = options.sentinel ? sentinelClient(options.sentinel, options.url ?? null, tuning) : new Redis(options.url ?? '', { lazyConnect: true, ...tuning });
    let lastError: Error | null = null;
    redis.on('error', (error: Error) => {
      lastError = error;
    });
    try {
      await redis.connect();
      redis.removeAllListeners('error');
      redis.on('error', (error: Error) => options.onError?.(error));
      return redis;
    } catch (error) {
      redis.disconnect();
      if (Date.now() >= deadline) throw lastError ?? error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(500, Math.max(0, deadline - Date.now()))));
    }
  }
}

export async function openRedisStore(options: RedisStoreOptions): Promise<Store> {
  const redis = await connectWithin(options);
  const keys = new Keys(options.keyPrefix ?? 'latchkey:');
  await upgradeIndexes(redis, keys);
  const changes = createChangeNotifications(redis, keys);
  const probeKey = `${options.keyPrefix ?? 'latchkey:'}readiness:${randomUUID()}`;
  const identities = createIdentityRepository(redis, keys);
  await identities.migrateKeys();

  const store: Store = {
    kind: 'redis',
    identities,
    groups: createGroupRepository(redis, keys),
    passkeys: createPasskeyRepository(redis, keys),
    apps: createAppRepository(redis, keys),
    invites: createInviteRepository(redis, keys),
    signingKeys: createSigningKeyRepository(redis, keys),
    settings: createSettingsRepository(redis, keys),
    authenticatorMetadata: createAuthenticatorMetadataRepository(redis, keys),
    oidc: createOidcModelRepository(redis, keys),
    oneTime: createOneTimeRepository(redis, keys),
    scimTokens: createScimTokenRepository(redis, keys),
    audit: createAuditRepository(redis, keys),
    jobs: createJobQueue(redis, keys),
    changes,
    // Every oidc-provider and one-time key carries a PEXPIREAT: Redis collects them itself.
    async sweepExpired() {
      return 0;
    },
    async ping() {
      // Readiness: fail at once while disconnected, else one real write and read back.
      if (redis.status !== 'ready') throw new Error(`Redis connection is ${redis.status}`);
      const value = randomUUID();
      const [[setError], [getError, read]] = (await redis.multi().set(probeKey, value, 'PX', 60_000).get(probeKey).exec()) ?? [[new Error('transaction aborted')], [null, null]];
      if (setError || getError || read !== value) throw setError ?? getError ?? new Error('Redis did not return the value just written');
    },
    unavailable: isRedisUnavailable,
    exportAll: ({ now }) => exportRedis(redis, keys, now),
    importAll: (items, { replace = false } = {}) => importRedis(redis, keys, store, items, replace),
    async close() {
      changes.close();
      await redis.quit();
    },
  };
  return store;
}
