/**
 * Bearer tokens for inbound SCIM (Okta's "SCIM 2.0 Test App (OAuth Bearer Token)"). Rules:
 * - a token is 256-bit random, shown once at creation, stored only as its SHA-256;
 * - every token expires (90 days by default) unless the admin explicitly asks for none;
 * - several tokens may be valid at once, so a new one can be rolled into Okta before the old expires;
 * - authenticate() is the one place that decides whether a token is good: unknown, revoked and
 *   expired all answer null, so no caller can tell (or tell a client) which it was;
 * - a good token's record is kept in memory after its first use (Okta sends the same token on every
 *   request; a read per request was a store round trip, on Redis a network one). Expiry is still
 *   checked on every request. Revoking publishes SCIM_TOKENS_TOPIC on store.changes and every
 *   process drops its whole cache when it hears it: at once in the revoking process, within
 *   milliseconds on other instances sharing Redis (pub/sub), within CHANGE_DELIVERY_MS at worst
 *   (a lost message, or the CLI revoking on SQLite, which another process notices by polling).
 *   Unknown tokens are never cached, so guessing cannot fill memory.
 */
import { randomUUID } from 'node:crypto';
import type { ScimTokenRecord, Store } from '../ports/storage.ts';
import type { Clock } from '../ports/clock.ts';
import { AppError } from './errors.ts';
import type { AuditLog } from './audit.ts';
import { translateStoreError } from './errors.ts';
import type { Actor } from './actor.ts';
import { hashToken, randomToken } from './secrets.ts';
import { lastUsedIsStale } from './last-used.ts';

export const DEFAULT_SCIM_TOKEN_TTL_MS = 90 * 24 * 60 * 60 * 1000;
/** Told to every process when a token is revoked: cached records must be read again. */
export const SCIM_TOKENS_TOPIC = 'scim-tokens';
/** More live tokens than any deployment rolls through; past it the cache starts over. */
const CACHE_LIMIT = 1_000;

/** A token as anyone may see it: never its hash, never the token. */
export type ScimTokenInfo = Omit<ScimTokenRecord, 'tokenHash'> & { state: 'active' | 'expired' | 'revoked' };

export interface ScimTokenInput {
  name: string;
  /** Epoch ms. Omitted: the default lifetime. null: never expires (only when explicitly asked). */
  expiresAt?: number | null;
}

export function createScimTokenService(deps: { store: Store; clock: Clock; audit: AuditLog }) {
  const { store, clock, audit } = deps;

  function infoOf(record: ScimTokenRecord, now = clock.now()): ScimTokenInfo {
    const { tokenHash: _hash, ...rest } = record;
    const state = record.revokedAt !== null ? 'revoked' : record.expiresAt !== null && record.expiresAt <= now ? 'expired' : 'active';
    return { ...rest, state };
  }

  /** Good tokens by hash; cleared whenever SCIM_TOKENS_TOPIC is heard. */
  const cache = new Map<string, ScimTokenRecord>();
  // Bumped on every clear, so a read that started before a revocation cannot cache what it read.
  let generation = 0;
  let listening = false;
  const forget = () => {
    generation++;
    cache.clear();
  };
  // Subscribed on first use: the CLI creates this service too but never authenticates.
  const listen = () => {
    if (listening) return;
    listening = true;
    store.changes.subscribe(SCIM_TOKENS_TOPIC, forget);
  };

  async function create(input: ScimTokenInput, actor: Actor): Promise<{ token: string; info: ScimTokenInfo }> {
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    if (!name) throw new AppError('invalid_input', 'a SCIM token needs a name (e.g. "Okta SCIM Token")', { field: 'name' });
    if (name.length > 100) throw new AppError('invalid_input', 'a SCIM token name is at most 100 characters', { field: 'name' });
    const now = clock.now();
    const expiresAt = input.expiresAt === undefined ? now + DEFAULT_SCIM_TOKEN_TTL_MS : input.expiresAt;
    if (expiresAt !== null && (!Number.isFinite(expiresAt) || expiresAt <= now)) {
      throw new AppError('invalid_input', `the expiry must be in the future, got ${Number.isFinite(expiresAt) ? new Date(expiresAt).toISOString() : String(expiresAt)}`, { field: 'expiresAt' });
    }
    const token = randomToken(32);
    const record: ScimTokenRecord = { id: randomUUID(), name, tokenHash: hashToken(token), createdAt: now, expiresAt, lastUsedAt: null, revokedAt: null };
    try {
      await store.scimTokens.create(record);
    } catch (error) {
      translateStoreError(error, 'a SCIM token');
    }
    await audit.record({ action: 'scim-token.create', actor, target: `scim-token:${record.id}`, detail: { name, expiresAt } });
    return { token, info: infoOf(record, now) };
  }

  async function list(): Promise<ScimTokenInfo[]> {
    const now = clock.now();
    return (await store.scimTokens.list()).map((record) => infoOf(record, now));
  }

  /** Idempotent: revoking a revoked token answers it as it is. */
  async function revoke(id: string, actor: Actor): Promise<ScimTokenInfo> {
    const now = clock.now();
    const revoked = await store.scimTokens.revoke(id, now);
    if (revoked) {
      forget();
      await store.changes.publish(SCIM_TOKENS_TOPIC);
    }
    const record = (await store.scimTokens.list()).find((candidate) => candidate.id === id);
    if (!record) throw new AppError('not_found', `no SCIM token with id "${id}" (see scim-tokens list)`);
    if (revoked) await audit.record({ action: 'scim-token.revoke', actor, target: `scim-token:${id}`, detail: { name: record.name } });
    return infoOf(record, now);
  }

  async function authenticate(token: string | null | undefined): Promise<ScimTokenInfo | null> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 512) return null;
    listen();
    const tokenHash = hashToken(token);
    let record = cache.get(tokenHash);
    if (!record) {
      const readAt = generation;
      const stored = await store.scimTokens.getByHash(tokenHash);
      if (!stored) return null;
      record = stored;
      if (readAt === generation && record.revokedAt === null) {
        if (cache.size >= CACHE_LIMIT) cache.clear();
        cache.set(tokenHash, record);
      }
    }
    const now = clock.now();
    const info = infoOf(record, now);
    if (info.state !== 'active') return null;
    if (lastUsedIsStale(record.lastUsedAt, now)) {
      // Set before the write, so concurrent requests on this token do not all touch it.
      record.lastUsedAt = now;
      await store.scimTokens.touch(record.id, now);
      info.lastUsedAt = now;
    }
    return info;
  }

  return { create, list, revoke, authenticate };
}

export type ScimTokenService = ReturnType<typeof createScimTokenService>;
