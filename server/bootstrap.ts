/**
 * The composition root shared by the server (main.ts) and the CLI: config -> store -> secrets ->
 * domain services. The only module that knows which storage adapter runs.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config.ts';
import type { Store } from './ports/storage.ts';
import { systemClock, type Clock } from './ports/clock.ts';
import { createAuditLog } from './domain/audit.ts';
import { createIdentityService } from './domain/identities.ts';
import { createGroupService } from './domain/groups.ts';
import { createAppService } from './domain/apps.ts';
import { createPasskeyService } from './domain/passkeys.ts';
import { createInviteService } from './domain/invites.ts';
import { createSigningKeyService } from './domain/signing-keys.ts';
import { createScimTokenService } from './domain/scim-tokens.ts';
import { createAuthenticatorMetadataService } from './domain/authenticator-metadata.ts';
import { createSealer, randomToken } from './domain/secrets.ts';
import { StartupError, causeOf, withoutCredentials } from './runtime/startup-error.ts';
import { createMetrics } from './metrics/metrics.ts';
import { instrumentStore } from './metrics/instrument-store.ts';
import { withStoreCaches } from './caching/store-caches.ts';
import { oktaSyncListeners } from './edges/okta/okta-sync.ts';
import { createSecurityNotices } from './domain/security-notices.ts';
import { privilegedScimChangeNotice } from './domain/scim-authority.ts';
import { createAuthenticatorPolicies } from './domain/authenticator-policies.ts';

/** Tokens live 1 h (see edges/oidc ttl); a retired key stays published a little longer than that. */
export const TOKEN_LIFETIME_MS = 60 * 60 * 1000;

/**
 * Opens the configured store. With STORE=redis it waits up to REDIS_WAIT for Redis (compose starts
 * both at once) and fails with a StartupError naming REDIS_URL and the cause.
 */
export async function openStore(config: Config, options: { onError?: (error: Error) => void } = {}): Promise<Store> {
  if (config.store === 'redis') {
    const { openRedisStore } = await import('../adapters/redis/redis-store.ts');
    try {
      return await openRedisStore({
        url: config.redisUrl,
        keyPrefix: config.redisKeyPrefix,
        sentinel: config.redisSentinels && config.redisSentinelName ? { sentinels: config.redisSentinels, name: config.redisSentinelName } : undefined,
        commandTimeoutMs: config.storeTimeoutMs, waitMs: config.redisWaitMs, onError: options.onError });
    } catch (error) {
      throw new StartupError(`${config.redisSentinels ? 'REDIS_SENTINELS' : 'REDIS_URL'} ${withoutCredentials(config.redisUrl ?? (config.redisSentinels ?? []).map((node) => `${node.host}:${node.port}`).join(','))} did not answer within ${config.redisWaitMs / 1000} s (REDIS_WAIT): ${causeOf(error)}`, { cause: error });
    }
  }
  const { openSqliteStore } = await import('../adapters/sqlite/sqlite-store.ts');
  return openSqliteStore({ dataDir: config.dataDir });
}

/** Development only: a per-machine secret in DATA_DIR. Production requires LATCHKEY_SECRET. */
function instanceSecretFor(config: Config): string {
  if (config.instanceSecret) return config.instanceSecret;
  const file = path.join(config.dataDir, 'instance.key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(config.dataDir, { recursive: true });
  const secret = randomToken(32);
  try {
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch {
    // Another process created it first: use theirs.
    return readFileSync(file, 'utf8').trim();
  }
}

export async function cookieKeysFor(config: Config, store: Store): Promise<string[]> {
  if (config.cookieKeys) return config.cookieKeys;
  const stored = await store.settings.setIfAbsent('cookie_keys', JSON.stringify([randomToken(32)]));
  return JSON.parse(stored) as string[];
}

export interface ServiceOptions {
  /**
   * Keep apps in process between requests (caching/app-cache.ts), invalidated across processes
   * through the store's change notifications. On by default; a one-shot CLI command gains nothing
   * from it and would only open a subscriber connection.
   */
  appCache?: boolean;
}

export function createServices(config: Config, rawStore: Store, clock: Clock = systemClock, options: ServiceOptions = {}) {
  // Every store call is timed and counted here, so no adapter or domain module carries metrics
  // code; the caches sit outside it, so what the metrics count are real store round trips.
  const metrics = createMetrics();
  const store = withStoreCaches(instrumentStore(rawStore, metrics), { apps: options.appCache !== false });
  const sealer = createSealer(instanceSecretFor(config));
  const audit = createAuditLog(store.audit, clock);
  const base = { store, clock, audit };
  // Change listeners: each records durable jobs in the same write as the change it reacts to.
  const oktaSync = oktaSyncListeners(clock);
  const notices = createSecurityNotices({ store, clock });
  return {
    config,
    store,
    clock,
    metrics,
    sealer,
    audit,
    identities: createIdentityService({
      ...base,
      onDelete: [oktaSync.onIdentityDelete],
      // A SCIM change to someone holding a role is told to every other admin (issue 9: a leaked token shows).
      onPrivilegedScimChange: [(change) => notices.notifyAdmins(privilegedScimChangeNotice(change), { except: change.identity.id })],
    }),
    groups: createGroupService(base),
    apps: createAppService({ ...base, sealer }),
    notices,
    passkeys: createPasskeyService({ ...base, onChange: [oktaSync.onPasskeyChange, notices.onPasskeyChange] }),
    invites: createInviteService({ ...base, publicUrl: config.publicUrl, defaultTtlMs: config.enrollmentLinkTtlMs }),
    signingKeys: createSigningKeyService({ ...base, sealer, activationDelayMs: config.keyActivationDelayMs, retainAfterMs: TOKEN_LIFETIME_MS + 10 * 60 * 1000 }),
    scimTokens: createScimTokenService(base),
    policies: createAuthenticatorPolicies(base),
    authenticatorMetadata: createAuthenticatorMetadataService(base),
  };
}

export type Services = ReturnType<typeof createServices>;
