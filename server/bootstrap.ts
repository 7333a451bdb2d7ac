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
import { createSealer, randomToken } from './domain/secrets.ts';
import { oktaSyncListeners } from './edges/okta/okta-sync.ts';

/** Tokens live 1 h (see edges/oidc ttl); a retired key stays published a little longer than that. */
export const TOKEN_LIFETIME_MS = 60 * 60 * 1000;

export async function openStore(config: Config): Promise<Store> {
  if (config.store === 'redis') {
    const { openRedisStore } = await import('../adapters/redis/redis-store.ts');
    return openRedisStore({ url: config.redisUrl!, keyPrefix: config.redisKeyPrefix });
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

export function createServices(config: Config, store: Store, clock: Clock = systemClock) {
  const sealer = createSealer(instanceSecretFor(config));
  const audit = createAuditLog(store.audit, clock);
  const base = { store, clock, audit };
  // Change listeners: each records durable jobs in the same write as the change it reacts to.
  const oktaSync = oktaSyncListeners(clock);
  return {
    config,
    store,
    clock,
    sealer,
    audit,
    identities: createIdentityService({ ...base, onDelete: [oktaSync.onIdentityDelete] }),
    groups: createGroupService(base),
    apps: createAppService({ ...base, sealer }),
    passkeys: createPasskeyService({ ...base, onChange: [oktaSync.onPasskeyChange] }),
    invites: createInviteService({ ...base, publicUrl: config.publicUrl, defaultTtlMs: config.enrollmentLinkTtlMs }),
    signingKeys: createSigningKeyService({ ...base, sealer, retireAfterMs: TOKEN_LIFETIME_MS + 10 * 60 * 1000 }),
    scimTokens: createScimTokenService(base),
  };
}

export type Services = ReturnType<typeof createServices>;
