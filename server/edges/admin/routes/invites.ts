/** Enrollment invitations: one person's link or email, a bulk email send, and its progress. */
import { z } from 'zod';
import { AppError } from '../../../domain/errors.ts';
import type { IdentityRecord } from '../../../ports/storage.ts';
import { iso, type BulkInviteResult } from '../views.ts';
import { actorOf, parse, type AdminRouteDeps, type AdminRouter } from './context.ts';

const HOUR_MS = 3_600_000;

const schemas = {
  invite: z.object({ delivery: z.enum(['email', 'link']), ttlHours: z.number().int().min(1).max(24 * 30).optional() }),
  bulkInvite: z.object({ identityIds: z.array(z.string().min(1).max(100)).min(1).max(1000), ttlHours: z.number().int().min(1).max(24 * 30).optional() }),
  inviteIds: z.object({ ids: z.string().max(40_000) }),
};

export function registerInviteRoutes(router: AdminRouter, deps: AdminRouteDeps): void {
  const { services, enrollmentMail } = deps;
  const { store } = services;

  router.post('/identities/:id/invite', async (ctx) => {
    const identity = await services.identities.require(ctx.params.id);
    const input = parse(schemas.invite, ctx.request.body);
    const ttlMs = input.ttlHours ? input.ttlHours * HOUR_MS : undefined;
    if (input.delivery === 'link') {
      const { url, invite } = await services.invites.issue(identity, { actor: actorOf(ctx), delivery: 'link', ttlMs });
      ctx.body = { url, expiresAt: iso(invite.expiresAt) };
      return;
    }
    const batch = await enrollmentMail.sendInvites({ identities: [identity], actor: actorOf(ctx), ttlMs });
    if (batch.refused.length > 0) throw new AppError('invalid_input', batch.refused[0].reason);
    ctx.body = { queued: true, to: identity.email, inviteId: batch.queued[0].invite.id, expiresAt: iso(batch.queued[0].invite.expiresAt) };
  });

  router.post('/invites/bulk', async (ctx) => {
    const input = parse(schemas.bulkInvite, ctx.request.body);
    const found = await Promise.all(input.identityIds.map((id) => store.identities.get(id)));
    const missing = input.identityIds.filter((_id, index) => !found[index]);
    const batch = await enrollmentMail.sendInvites({ identities: found.filter((identity) => identity !== null) as IdentityRecord[], actor: actorOf(ctx), ttlMs: input.ttlHours ? input.ttlHours * HOUR_MS : undefined });
    const results: BulkInviteResult[] = [
      ...batch.queued.map(({ identity, invite }) => ({ identityId: identity.id, userName: identity.userName, email: identity.email, outcome: 'queued' as const, inviteId: invite.id })),
      ...batch.refused.map(({ identity, reason }) => ({ identityId: identity.id, userName: identity.userName, email: identity.email, outcome: 'refused' as const, reason })),
      ...missing.map((id) => ({ identityId: id, userName: null, email: null, outcome: 'refused' as const, reason: 'no such identity' })),
    ];
    ctx.body = { results };
  });

  /** Progress of a bulk send: each invitation's send state (queued, sent, failed). */
  router.get('/invites/status', async (ctx) => {
    const { ids } = parse(schemas.inviteIds, ctx.query);
    const list = ids.split(',').filter(Boolean).slice(0, 1000);
    const invites = await Promise.all(list.map((id) => store.invites.get(id)));
    ctx.body = { items: invites.filter((invite) => invite !== null).map((invite) => ({ id: invite!.id, identityId: invite!.identityId, sendState: invite!.sendState, sendError: invite!.sendError })) };
  });
}
