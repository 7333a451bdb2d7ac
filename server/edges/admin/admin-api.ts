/**
 * The console's JSON API under /admin/api. Rules, in the order each request meets them:
 * - a console session is required (401 without one) and its identity must hold the admin role,
 *   checked on every call (403 otherwise);
 * - every state-changing call carries the page's CSRF token bound to the session, and our Origin;
 * - every input is parsed by a zod schema before a handler sees it (routes/<resource>.ts);
 * - every change is audited once, with actor identity:<id>: by the domain service that made it,
 *   or here, with its reason, when it was refused.
 * Handlers call the domain services; none writes to the store directly.
 */
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { Services } from '../../bootstrap.ts';
import type { AdminService } from '../../domain/admins.ts';
import { ADMIN_ROLE } from '../../domain/apps.ts';
import { AppError, isAppError } from '../../domain/errors.ts';
import type { EnrollmentMail } from '../../domain/enrollment-mail.ts';
import { jsonBody, type createCsrf } from '../../http/guards.ts';
import { sendJsonError } from '../../http/errors.ts';
import type { ConsoleSessions, ConsoleSession } from './console-session.ts';
import { describeProfile, type SessionView } from './views.ts';
import { actorOf, type AdminRouteDeps, type OktaConnectionControls } from './routes/context.ts';
import { registerAppRoutes } from './routes/apps.ts';
import { registerScimTokenRoutes } from './routes/scim-tokens.ts';
import { registerOktaRoutes } from './routes/okta.ts';
import { registerIdentityRoutes } from './routes/identities.ts';
import { registerInviteRoutes } from './routes/invites.ts';
import { registerGroupRoutes } from './routes/groups.ts';
import { registerAuditRoutes } from './routes/audit.ts';
import { registerPolicyRoutes } from './routes/policy.ts';

export type { OktaConnectionControls } from './routes/context.ts';

declare module 'koa' {
  interface DefaultState {
    consoleSession?: ConsoleSession;
  }
}

export function createAdminApi(deps: {
  services: Services;
  okta: OktaConnectionControls;
  sessions: ConsoleSessions;
  csrf: ReturnType<typeof createCsrf>;
  admins: AdminService;
  enrollmentMail: EnrollmentMail;
  signIns: AdminRouteDeps['signIns'];
}): Middleware {
  const { services, sessions, csrf, admins } = deps;
  const { config, audit } = services;
  const routeDeps: AdminRouteDeps = { services, admins, enrollmentMail: deps.enrollmentMail, okta: deps.okta, signIns: deps.signIns, scimUrl: `${config.publicUrl}/scim/v2` };

  const requireAdmin: Middleware = async (ctx, next) => {
    const session = await sessions.current(ctx);
    if (!session) return sendJsonError(ctx, new AppError('unauthenticated', 'sign in to the console first'));
    if (!session.identity.roles.includes(ADMIN_ROLE)) return sendJsonError(ctx, new AppError('forbidden', 'the admin console API is for administrators'));
    ctx.state.consoleSession = session;
    await next();
  };

  const csrfGuard = csrf.protect((ctx) => `console:${ctx.state.consoleSession!.key}`);
  const mutations: Middleware = async (ctx, next) => {
    if (ctx.method === 'GET' || ctx.method === 'HEAD') return next();
    await csrfGuard(ctx, async () => {
      try {
        if (ctx.method !== 'DELETE') await jsonBody('512kb')(ctx, next);
        else await next();
      } catch (error) {
        if (!isAppError(error)) throw error;
        sendJsonError(ctx, error);
        // A change the domain refused never reached its audit line: record the refusal and why.
        // (A change that succeeded was recorded once, by the domain service that made it.)
        await audit.record({
          kind: 'admin',
          action: 'console.refused',
          actor: actorOf(ctx),
          target: null,
          outcome: 'failure',
          detail: { method: ctx.method, route: ctx._matchedRoute ?? ctx.path, status: ctx.status, error: error.code, reason: error.message },
        });
      }
    });
  };

  const router = new Router({ prefix: '/admin/api' });
  router.use(requireAdmin, mutations);

  router.get('/session', async (ctx) => {
    ctx.body = {
      me: describeProfile(ctx.state.consoleSession!.identity),
      orgName: config.orgName,
      issuer: config.issuer,
      scimUrl: routeDeps.scimUrl,
      readiness: await admins.readiness(),
    } satisfies SessionView;
  });

  registerAppRoutes(router, routeDeps);
  registerScimTokenRoutes(router, routeDeps);
  registerOktaRoutes(router, routeDeps);
  registerIdentityRoutes(router, routeDeps);
  registerInviteRoutes(router, routeDeps);
  registerGroupRoutes(router, routeDeps);
  registerAuditRoutes(router, routeDeps);
  registerPolicyRoutes(router, routeDeps);

  const routes = router.routes() as Middleware;
  return async (ctx: Context, next: Next) => {
    if (!ctx.path.startsWith('/admin/api/') && ctx.path !== '/admin/api') return next();
    await routes(ctx, async () => {
      sendJsonError(ctx, new AppError('not_found', `no console API ${ctx.method} ${ctx.path}`));
    });
  };
}
