/**
 * Enrollment links ("magic links"). Rules:
 * - the secret is 256-bit random, shown once, stored only as its SHA-256;
 * - only the newest link of a person works (issuing one revokes the older ones atomically);
 * - looking at a link (GET) never spends it: mail scanners open links before people do. Only the
 *   deliberate, successful passkey creation spends it, once;
 * - a link states precisely why it no longer works (expired, used, revoked).
 */
import { randomUUID } from 'node:crypto';
import type { IdentityRecord, InviteRecord, JobInput, Store } from '../ports/storage.ts';
import type { Clock } from '../ports/clock.ts';
import { AppError } from './errors.ts';
import type { AuditLog } from './audit.ts';
import { actorRef, selfActor, type Actor } from './actor.ts';
import { hashToken, randomToken } from './secrets.ts';

export interface IssuedInvite {
  invite: InviteRecord;
  url: string;
  token: string;
}

export function createInviteService(deps: { store: Store; clock: Clock; audit: AuditLog; publicUrl: string; defaultTtlMs: number }) {
  const { store, clock, audit, publicUrl, defaultTtlMs } = deps;

  const linkFor = (token: string) => `${publicUrl}/enroll/${token}`;

  async function issue(
    identity: IdentityRecord,
    /**
     * `enqueue` builds durable jobs written in the same step as the invite; it sees the secret
     * (e.g. to seal it for the mail worker) and the record.
     */
    options: { actor: Actor; delivery: 'link' | 'email'; ttlMs?: number; enqueue?: (issued: { invite: InviteRecord; token: string }) => JobInput[] },
  ): Promise<IssuedInvite> {
    if (!identity.active) throw new AppError('inactive', `identity "${identity.userName}" is deactivated; activate it before enrolling`);
    const ttlMs = options.ttlMs ?? defaultTtlMs;
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new AppError('invalid_input', 'link lifetime must be positive', { field: 'ttl' });
    const token = randomToken(32);
    const now = clock.now();
    const invite: InviteRecord = {
      id: randomUUID(),
      identityId: identity.id,
      tokenHash: hashToken(token),
      createdAt: now,
      expiresAt: now + ttlMs,
      spentAt: null,
      revokedAt: null,
      delivery: options.delivery,
      sendState: options.delivery === 'email' ? 'queued' : null,
      sendError: null,
      createdBy: actorRef(options.actor),
    };
    await store.invites.create(invite, { enqueue: options.enqueue?.({ invite, token }) });
    await audit.record({
      kind: 'enrollment',
      action: 'invite.issue',
      actor: options.actor,
      target: `identity:${identity.id}`,
      detail: { inviteId: invite.id, delivery: options.delivery, expiresAt: new Date(invite.expiresAt).toISOString(), by: options.actor.kind },
    });
    return { invite, url: linkFor(token), token };
  }

  /** Resolves a link to its invite and person, or says exactly why it does not work. */
  async function inspect(token: string): Promise<{ invite: InviteRecord; identity: IdentityRecord }> {
    if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{20,100}$/.test(token)) {
      throw new AppError('link_invalid', 'This enrollment link is not valid. Check that the whole link was copied.');
    }
    const invite = await store.invites.getByTokenHash(hashToken(token));
    if (!invite) throw new AppError('link_invalid', 'This enrollment link is not valid. Check that the whole link was copied.');
    if (invite.spentAt !== null) throw new AppError('link_spent', 'This enrollment link has already been used to create a passkey.');
    if (invite.revokedAt !== null) throw new AppError('link_revoked', 'This enrollment link was replaced by a newer one or revoked by an administrator.');
    if (invite.expiresAt <= clock.now()) throw new AppError('link_expired', `This enrollment link expired on ${new Date(invite.expiresAt).toUTCString()}.`);
    const identity = await store.identities.get(invite.identityId);
    if (!identity) throw new AppError('link_invalid', 'The person this link was made for no longer exists.');
    if (!identity.active) throw new AppError('inactive', 'Your account is deactivated, so it cannot enroll a passkey.');
    return { invite, identity };
  }

  /** Atomic: of two racing spends exactly one wins. */
  async function spend(invite: InviteRecord): Promise<void> {
    const spent = await store.invites.spend(invite.id, clock.now());
    if (!spent) throw new AppError('link_spent', 'This enrollment link has already been used or is no longer valid.');
    await audit.record({ kind: 'enrollment', action: 'invite.spend', actor: selfActor(invite.identityId), target: `identity:${invite.identityId}`, detail: { inviteId: invite.id } });
  }

  async function revoke(inviteId: string, actor: Actor): Promise<boolean> {
    const revoked = await store.invites.revoke(inviteId, clock.now());
    if (revoked) await audit.record({ action: 'invite.revoke', actor, target: `invite:${inviteId}` });
    return revoked;
  }

  return { issue, inspect, spend, revoke, linkFor, list: (identityId: string) => store.invites.listByIdentity(identityId) };
}

export type InviteService = ReturnType<typeof createInviteService>;
