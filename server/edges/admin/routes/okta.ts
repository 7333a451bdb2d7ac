/** The Okta API connection that writes the registration attribute: status, configure, test. */
import { z } from 'zod';
import { actorOf, parse, type AdminRouteDeps, type AdminRouter } from './context.ts';

const schemas = {
  okta: z.object({ domain: z.string().min(1).max(300), token: z.string().min(1).max(500) }),
  retry: z.object({ identityId: z.string().min(1).max(100).optional() }),
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

  router.get('/okta/failures', async (ctx) => {
    ctx.body = { items: await okta.failures() };
  });

  router.post('/okta/failures/retry', async (ctx) => {
    const { identityId } = parse(schemas.retry, ctx.request.body);
    const requeued = await okta.retry(identityId);
    await services.audit.record({ action: 'okta.sync_retry', actor: actorOf(ctx), target: identityId ? `identity:${identityId}` : null, detail: { requeued } });
    ctx.body = { requeued };
  });

  router.post('/okta/reconcile', async (ctx) => {
    const result = await okta.reconcile();
    await services.audit.record({ action: 'okta.reconcile', actor: actorOf(ctx), target: null, detail: Object.fromEntries(Object.entries(result as Record<string, unknown>).filter(([, value]) => typeof value === 'number')) });
    ctx.body = result;
  });
}
