/**
 * Server-side sessions of the console and the dashboard. Rules:
 * - the cookie carries a 256-bit random id; the store keeps only its SHA-256, with an expiry;
 * - a session is read on every request and ends at once when its identity is deactivated or
 *   deleted; the console additionally re-checks the admin role on every request, so losing the
 *   role ends console access on the very next call.
 *
 * Where sessions live: in the store's OIDC model repository, as model "ConsoleSession", indexed
 * by accountId. That repository (unlike oneTime, whose take() consumes, or settings, which never
 * expire or delete) reads without consuming, expires by itself, deletes on sign-out, and is what
 * identities.update() already calls revokeByAccountId() on at deactivation: the console session
 * disappears in the same step as the person's OIDC sessions and grants, on SQLite and Redis alike.
 * A session also records the passkey that opened it (index passkeyId) and the grant it came from:
 * revoking that passkey removes it (revokeByPasskeyId), and the store checks it again on every read.
 */
import type { Context } from 'koa';
import type { Services } from '../../bootstrap.ts';
import type { IdentityRecord } from '../../ports/storage.ts';
import { hashToken, randomToken } from '../../domain/secrets.ts';

export const SESSION_COOKIE = 'lk_console';
const MODEL = 'ConsoleSession';

export interface ConsoleSession {
  /** sha256 of the cookie value: the CSRF token is bound to it. */
  key: string;
  identity: IdentityRecord;
  /** The passkey whose sign-in opened this session. */
  passkeyId: string | null;
  expiresAt: number;
}

export function createConsoleSessions(services: Services) {
  const { store, clock, config } = services;
  const secure = config.publicUrl.startsWith('https://');

  async function start(ctx: Context, identityId: string, openedBy: { passkeyId: string | null; grantId: string | null }): Promise<void> {
    const id = randomToken(32);
    const expiresAt = clock.now() + config.sessionTtlMs;
    const passkeyId = openedBy.passkeyId ?? undefined;
    await store.oidc.upsert(MODEL, hashToken(id), { identityId, passkeyId: openedBy.passkeyId, createdAt: clock.now() }, expiresAt, { accountId: identityId, passkeyId, grantId: openedBy.grantId ?? undefined });
    ctx.cookies.set(SESSION_COOKIE, id, { httpOnly: true, sameSite: 'lax', secure, path: '/', expires: new Date(expiresAt), signed: false, overwrite: true });
  }

  async function current(ctx: Context): Promise<ConsoleSession | null> {
    const id = ctx.cookies.get(SESSION_COOKIE);
    if (!id || id.length > 100) return null;
    const key = hashToken(id);
    const record = await store.oidc.find(MODEL, key, clock.now());
    if (!record || typeof record.identityId !== 'string') return null;
    // The store does not find a session whose passkey is gone (revoked, removed): no read of it here.
    const identity = await store.identities.get(record.identityId);
    if (!identity || !identity.active) {
      await store.oidc.destroy(MODEL, key);
      return null;
    }
    return { key, identity, passkeyId: typeof record.passkeyId === 'string' ? record.passkeyId : null, expiresAt: Number(record.exp ?? 0) };
  }

  async function end(ctx: Context): Promise<void> {
    const id = ctx.cookies.get(SESSION_COOKIE);
    if (id && id.length <= 100) await store.oidc.destroy(MODEL, hashToken(id));
    ctx.cookies.set(SESSION_COOKIE, '', { httpOnly: true, sameSite: 'lax', secure, path: '/', expires: new Date(0), overwrite: true });
  }

  return { start, current, end };
}

export type ConsoleSessions = ReturnType<typeof createConsoleSessions>;
