/**
 * The end-user dashboard's JSON API under /api/me: a signed-in person's own tiles and passkeys.
 * - tiles: bookmark apps assigned to one of the person's groups, nothing else;
 * - removing the last passkey needs an explicit confirmation (the person could not sign in
 *   again without a new enrollment link);
 * - "add another" hands out a fresh, short-lived enrollment link of the person's own, which the
 *   browser opens at once (the ordinary enrollment ceremony), only after a fresh passkey ceremony
 *   with user verification in the same flow (options, then the assertion with the request): a
 *   stolen session alone cannot plant a passkey.
 */
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import { z } from 'zod';
import type { Services } from '../../bootstrap.ts';
import { ADMIN_ROLE } from '../../domain/apps.ts';
import { AppError, isAppError } from '../../domain/errors.ts';
import { displayNameOf } from '../../domain/identities.ts';
import { describeAuthenticator } from '../../domain/authenticator-catalogue.ts';
import { jsonBody, type createCsrf } from '../../http/guards.ts';
import { sendJsonError } from '../../http/errors.ts';
import type { ConsoleSessions } from './console-session.ts';
import { selfActor } from '../../domain/actor.ts';
import type { SignIns } from '../../domain/sign-ins.ts';

const SELF_ENROLL_TTL_MS = 15 * 60_000;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function createDashboardApi(deps: { services: Services; sessions: ConsoleSessions; csrf: ReturnType<typeof createCsrf>; signIns: Pick<SignIns, 'stepUp' | 'stepUpOptions'> }): Middleware {
  const { services, sessions, csrf, signIns } = deps;
  const router = new Router({ prefix: '/api/me' });

  router.use(async (ctx, next) => {
    const session = await sessions.current(ctx);
    if (!session) return sendJsonError(ctx, new AppError('unauthenticated', 'sign in first'));
    ctx.state.consoleSession = session;
    if (ctx.method === 'GET') return next();
    await csrf.protect((inner) => `console:${inner.state.consoleSession!.key}`)(ctx, async () => {
      try {
        await jsonBody()(ctx, next);
      } catch (error) {
        if (!isAppError(error)) throw error;
        sendJsonError(ctx, error);
      }
    });
  });

  const me = (ctx: Context) => ctx.state.consoleSession!.identity;

  async function ownPasskey(ctx: Context) {
    const passkey = await services.passkeys.get(ctx.params.id);
    if (!passkey || passkey.identityId !== me(ctx).id) throw new AppError('not_found', 'no such passkey of yours');
    return passkey;
  }

  router.get('/', async (ctx) => {
    const identity = me(ctx);
    const groups = new Set(await services.groups.groupIdsOf(identity.id));
    const tiles = (await services.apps.list())
      .filter((app) => app.kind === 'bookmark' && app.assignedGroupIds.some((id) => groups.has(id)))
      .map((app) => ({ id: app.id, name: app.name, loginUrl: app.loginUrl, iconDataUri: app.iconDataUri }));
    const passkeys = (await services.passkeys.listFor(identity.id)).map((passkey) => ({
      id: passkey.id,
      name: passkey.name,
      model: describeAuthenticator(passkey.aaguid)?.name ?? null,
      modelIcon: iconOf(passkey.aaguid),
      synced: passkey.deviceType === 'multiDevice' || passkey.backedUp,
      createdAt: iso(passkey.createdAt),
      lastUsedAt: iso(passkey.lastUsedAt),
    }));
    ctx.body = { me: { id: identity.id, name: displayNameOf(identity), userName: identity.userName, email: identity.email, isAdmin: identity.roles.includes(ADMIN_ROLE) }, orgName: services.config.orgName, tiles, passkeys };
  });

  router.post('/passkeys/:id/rename', async (ctx) => {
    const passkey = await ownPasskey(ctx);
    const input = z.object({ name: z.string().trim().min(1).max(64) }).safeParse(ctx.request.body);
    if (!input.success) throw new AppError('invalid_input', 'a passkey name of 1 to 64 characters is required', { field: 'name' });
    await services.passkeys.rename(passkey.id, input.data.name, selfActor(me(ctx).id));
    ctx.body = { ok: true };
  });

  router.post('/passkeys/:id/remove', async (ctx) => {
    const passkey = await ownPasskey(ctx);
    const input = z.object({ confirmLast: z.boolean().optional() }).safeParse(ctx.request.body ?? {});
    const remaining = (await services.passkeys.listFor(me(ctx).id)).length;
    if (remaining <= 1 && !(input.success && input.data.confirmLast)) {
      throw new AppError('conflict', 'This is your only passkey: without it you cannot sign in until an administrator sends you a new enrollment link.');
    }
    await services.passkeys.revoke(passkey.id, selfActor(me(ctx).id), { userAgent: ctx.get('user-agent') });
    ctx.body = { ok: true, remaining: remaining - 1 };
  });

  const stepUpBinding = (ctx: Context) => `step-up:${ctx.state.consoleSession!.key}`;

  router.post('/passkeys/new/options', async (ctx) => {
    ctx.body = { options: await signIns.stepUpOptions(me(ctx).id, stepUpBinding(ctx)) };
  });

  router.post('/passkeys/new', async (ctx) => {
    const body = (ctx.request.body ?? {}) as { assertion?: unknown };
    await signIns.stepUp({ identityId: me(ctx).id, binding: stepUpBinding(ctx), response: body.assertion, purpose: 'passkey.add', actor: selfActor(me(ctx).id) });
    const { url, invite } = await services.invites.issue(me(ctx), { actor: selfActor(me(ctx).id), delivery: 'link', ttlMs: SELF_ENROLL_TTL_MS });
    ctx.body = { url, expiresAt: iso(invite.expiresAt) };
  });

  const routes = router.routes() as Middleware;
  return async (ctx: Context, next: Next) => {
    if (ctx.path !== '/api/me' && !ctx.path.startsWith('/api/me/')) return next();
    await routes(ctx, async () => sendJsonError(ctx, new AppError('not_found', `no API ${ctx.method} ${ctx.path}`)));
  };
}

/** The model's icon for a light page, as a data: URL the dashboard shows with <img src> only. */
function iconOf(aaguid: string): string | null {
  const model = describeAuthenticator(aaguid);
  return model?.iconLight ?? model?.iconDark ?? null;
}
