/**
 * The passkey policy: read it, preview a change (who it would refuse), save it, remove a group's
 * override, and list who holds a passkey the policy in force refuses. Saving is audited by the
 * domain service; a preview changes nothing.
 */
import type { Context } from 'koa';
import { z } from 'zod';
import type { PolicySet } from '../../../domain/authenticator-policy.ts';
import type { PolicyUpdate } from '../../../domain/authenticator-policies.ts';
import type { Services } from '../../../bootstrap.ts';
import type { PolicyChangeView, PolicyView } from '../views.ts';
import { actorOf, parse, type AdminRouteDeps, type AdminRouter } from './context.ts';

const aaguid = z.string().trim().max(64);

const schemas = {
  change: z.object({
    /** A group id or name; absent: the deployment policy. */
    group: z.string().trim().min(1).max(256).optional(),
    syncedPasskeys: z.enum(['allow', 'deny', 'inherit']).optional(),
    aaguids: z
      .union([
        z.object({ mode: z.enum(['any', 'inherit']) }),
        z.object({ mode: z.enum(['allow', 'block']), aaguids: z.array(aaguid).min(1).max(500) }),
      ])
      .optional(),
    requireAttestation: z.union([z.boolean(), z.literal('inherit')]).optional(),
  }),
};

async function viewOf(services: Services, set: PolicySet): Promise<PolicyView> {
  const overrides = await Promise.all(Object.entries(set.groups).map(async ([groupId, override]) => ({ groupId, group: (await services.store.groups.get(groupId))?.displayName ?? null, override })));
  return { deployment: set.deployment, overrides };
}

export function registerPolicyRoutes(router: AdminRouter, deps: AdminRouteDeps): void {
  const { services } = deps;

  router.get('/policy', async (ctx) => {
    ctx.body = (await viewOf(services, await services.policies.current())) satisfies PolicyView;
  });

  router.get('/policy/affected', async (ctx) => {
    ctx.body = await services.policies.affected();
  });

  const change = (dryRun: boolean) => async (ctx: Context) => {
    const input = parse(schemas.change, ctx.request.body) as PolicyUpdate;
    const result = await services.policies.set(input, actorOf(ctx), { dryRun });
    ctx.body = { applied: result.applied, policy: await viewOf(services, result.policy), affected: result.affected } satisfies PolicyChangeView;
  };
  router.post('/policy/preview', change(true));
  router.put('/policy', change(false));

  router.post('/policy/groups/:groupId/clear/preview', async (ctx) => {
    const result = await services.policies.clear(ctx.params.groupId, actorOf(ctx), { dryRun: true });
    ctx.body = { applied: false, policy: await viewOf(services, result.policy), affected: result.affected } satisfies PolicyChangeView;
  });

  router.delete('/policy/groups/:groupId', async (ctx) => {
    const result = await services.policies.clear(ctx.params.groupId, actorOf(ctx));
    ctx.body = { applied: true, policy: await viewOf(services, result.policy), affected: result.affected } satisfies PolicyChangeView;
  });
}
