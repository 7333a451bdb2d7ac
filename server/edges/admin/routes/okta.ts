/** The Okta API connection that writes the registration attribute: status, configure, test. */
import { z } from 'zod';
import { actorOf, parse, type AdminRouteDeps, type AdminRouter } from './context.ts';

const schemas = {
  okta: z.object({ domain: z.string().min(1).max(300), token: z.string().min(1).max(500) }),
};

export function registerOktaRoutes(router: AdminRouter, deps: AdminRouteDeps): void {
  const { okta, services } = deps;

  router.get('/okta', async (ctx) => {
    ctx.body = await okta.status({ check: false });
  });

  router.post('/okta', async (ctx) => {
    const input = parse(schemas.okta, ctx.request.body);
    ctx.body = await okta.configure(input, actorOf(ctx));
  });

  router.post('/okta/test', async (ctx) => {
    const status = await okta.status({ check: true });
    const check = (status.connection as { check?: { ok?: boolean } }).check;
    await services.audit.record({ kind: 'admin', action: 'okta.test', actor: actorOf(ctx), target: null, outcome: check?.ok ? 'success' : 'failure' });
    ctx.body = status;
  });
}
