/**
 * The console (/admin) and the end-user dashboard (/): their sign-in routes, their HTML shells
 * and their JSON APIs. The shells are static apart from data-* attributes (the CSRF token bound
 * to the session): scripts and styles come from /assets, so the strict CSP holds.
 * - /admin without a session goes to the OIDC sign-in; a signed-in non-admin gets a 403 page;
 * - / without a session goes to the dashboard's sign-in.
 */
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Services } from '../../bootstrap.ts';
import { ADMIN_ROLE } from '../../domain/apps.ts';
import { createAdminService } from '../../domain/admins.ts';
import { PUBLIC_URL_SETTING } from '../../domain/public-url.ts';
import type { EnrollmentMail } from '../../domain/enrollment-mail.ts';
import { html, renderPage } from '../../http/html.ts';
import { renderErrorPage } from '../../http/errors.ts';
import type { createCsrf } from '../../http/guards.ts';
import { createConsoleSessions } from './console-session.ts';
import { createConsoleLogin } from './console-login.ts';
import { createAdminApi, type OktaConnectionControls } from './admin-api.ts';
import { createDashboardApi } from './dashboard-api.ts';

/** The single-page app shell: no inline script or style, data for the app in data-* attributes. */
function renderShell(options: { title: string; orgName: string; script: string; csrf: string }): string {
  return renderPage({
    title: options.title,
    orgName: options.orgName,
    script: options.script,
    stylesheet: 'console',
    layout: 'app',
    data: { csrf: options.csrf, org: options.orgName },
    body: html`<div id="app"><p class="loading">Loading…</p></div><noscript>This page needs JavaScript.</noscript>`,
  });
}

export async function createAdminEdge(deps: { services: Services; csrf: ReturnType<typeof createCsrf>; enrollmentMail: EnrollmentMail; okta: OktaConnectionControls }) {
  const { services, csrf, enrollmentMail } = deps;
  const { config } = services;
  await services.apps.ensureInternalClient(config.publicUrl);
  // The CLI prints links on this address (server/cli/context.ts), not on a PORT-derived guess.
  await services.store.settings.set(PUBLIC_URL_SETTING, config.publicUrl);
  const sessions = createConsoleSessions(services);
  const login = createConsoleLogin(services, sessions);
  const admins = createAdminService({ store: services.store, identities: services.identities, now: () => services.clock.now() });

  const router = new Router();
  router.get('/admin/login', (ctx) => login.begin(ctx, 'console'));
  router.get('/admin/callback', (ctx) => login.finish(ctx, 'console'));
  router.get('/login', (ctx) => login.begin(ctx, 'dashboard'));
  router.get('/callback', (ctx) => login.finish(ctx, 'dashboard'));
  router.post('/admin/logout', logout);
  router.post('/logout-session', logout);

  async function logout(ctx: Context) {
    // A plain form post from our own page: SameSite=Lax keeps foreign sites from posting it with the cookie.
    if (ctx.get('Origin') && ctx.get('Origin') !== config.origin) {
      ctx.status = 403;
      return;
    }
    await sessions.end(ctx);
    ctx.redirect('/logout');
  }

  const consolePage: Middleware = async (ctx) => {
    const session = await sessions.current(ctx);
    if (!session) return ctx.redirect('/admin/login');
    if (!session.identity.roles.includes(ADMIN_ROLE)) {
      renderErrorPage(ctx, config.orgName, 403, 'The admin console is for administrators', `You are signed in as ${session.identity.userName}, who does not have the admin role. Ask an administrator to grant it, or go on to your own apps.`, html`<div class="actions"><a class="button-link primary" href="/">Go to your apps</a><form method="post" action="/logout-session"><button type="submit">Sign out to use another account</button></form></div>`);
      return;
    }
    ctx.type = 'html';
    ctx.body = renderShell({ title: 'Admin console', orgName: config.orgName, script: 'admin', csrf: csrf.tokenFor(`console:${session.key}`) });
  };
  router.get('/admin', consolePage);
  router.get('/admin/*rest', consolePage);

  router.get('/', async (ctx) => {
    const session = await sessions.current(ctx);
    if (!session) return ctx.redirect('/login');
    ctx.type = 'html';
    ctx.body = renderShell({ title: 'My apps', orgName: config.orgName, script: 'dashboard', csrf: csrf.tokenFor(`console:${session.key}`) });
  });

  const pages = router.routes() as Middleware;
  const adminApi = createAdminApi({ services, sessions, csrf, admins, enrollmentMail, okta: deps.okta });
  const dashboardApi = createDashboardApi({ services, sessions, csrf });
  return {
    admins,
    routes: (async (ctx, next) => adminApi(ctx, () => dashboardApi(ctx, () => pages(ctx, next)))) as Middleware,
  };
}
