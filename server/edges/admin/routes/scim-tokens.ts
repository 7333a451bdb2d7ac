/** SCIM bearer tokens: list, create (the token is shown once), revoke. */
import { z } from 'zod';
import { describeScimToken, iso } from '../views.ts';
import { actorOf, parse, type AdminRouteDeps, type AdminRouter } from './context.ts';

const DAY_MS = 86_400_000;

const schemas = {
  scimToken: z.object({ name: z.string().trim().min(1).max(100), expiresInDays: z.number().int().min(1).max(3650).nullable() }),
};

export function registerScimTokenRoutes(router: AdminRouter, deps: AdminRouteDeps): void {
  const { services, scimUrl } = deps;

  router.get('/scim-tokens', async (ctx) => {
    const tokens = await services.scimTokens.list();
    ctx.body = { scimUrl, items: tokens.reverse().map(describeScimToken) };
  });

  router.post('/scim-tokens', async (ctx) => {
    const input = parse(schemas.scimToken, ctx.request.body);
    const expiresAt = input.expiresInDays === null ? null : services.clock.now() + input.expiresInDays * DAY_MS;
    const { token, info } = await services.scimTokens.create({ name: input.name, expiresAt }, actorOf(ctx));
    ctx.status = 201;
    ctx.body = { token, info: { ...info, expiresAt: iso(info.expiresAt), createdAt: iso(info.createdAt) } };
  });

  router.post('/scim-tokens/:id/revoke', async (ctx) => {
    ctx.body = { info: await services.scimTokens.revoke(ctx.params.id, actorOf(ctx)) };
  });
}
