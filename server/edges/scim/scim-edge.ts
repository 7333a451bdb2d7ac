/**
 * The SCIM 2.0 edge, mounted at {PUBLIC_URL}/scim/v2: Okta's "SCIM 2.0 Test App (OAuth Bearer
 * Token)" provisions identities and groups through it. Every request, in order:
 * errors (always the SCIM error schema) -> bearer token -> body (size-capped JSON) -> routes
 * (discovery, Users, Groups, /.search) -> 405 / 404 for anything else under the base path.
 * Requests outside /scim/v2 pass straight through.
 */
import type { Context, Middleware, Next } from 'koa';
import type Router from '@koa/router';
import type { Services } from '../../bootstrap.ts';
import type { Logger } from '../../logger.ts';
import { bearerAuth } from './scim-auth.ts';
import { scimBody } from './scim-body.ts';
import { ScimError, scimError, sendScimError, toScimError } from './scim-errors.ts';
import { SCIM_BASE_PATH, scimBaseUrl } from './scim-schemas.ts';
import { createDiscoveryRoutes } from './discovery-routes.ts';
import { createUserRoutes } from './user-routes.ts';
import { createGroupRoutes } from './group-routes.ts';
import { createRootSearchRoutes } from './search-routes.ts';
import { createRateLimit } from '../../http/rate-limit.ts';

export function createScimEdge(deps: { services: Services; logger: Logger }): Middleware {
  const { services, logger } = deps;
  const baseUrl = scimBaseUrl(services.config.publicUrl);
  const users = createUserRoutes({ services, baseUrl });
  const groups = createGroupRoutes({ services, baseUrl });
  const mounted = (router: Router) => router.prefix(SCIM_BASE_PATH).routes() as Middleware;
  // Each resource's paths belong to one router: a request is matched against that one only
  // (case-insensitively, as the routers themselves match).
  const byResource = new Map<string, Middleware>([
    ['users', mounted(users)],
    ['groups', mounted(groups)],
    ['.search', mounted(createRootSearchRoutes({ users: users.search, groups: groups.search }))],
  ]);
  const discovery = mounted(createDiscoveryRoutes({ baseUrl }));
  const routes: Middleware = (ctx, next) => (byResource.get(ctx.path.slice(SCIM_BASE_PATH.length + 1).split('/', 1)[0].toLowerCase()) ?? discovery)(ctx, next);
  const limit = createRateLimit(services.config.scimRateLimitPerSecond, 1);
  // After authentication, so the budget is per token; Okta honours Retry-After as whole seconds.
  const throttle: Middleware = async (ctx, next) => {
    const wait = await limit.consume(String(ctx.state.scimToken?.id ?? 'anonymous'));
    if (wait !== null) {
      ctx.set('Retry-After', String(wait));
      throw new ScimError(429, `too many requests for this token; retry after ${wait} s`);
    }
    await next();
  };
  const steps: Middleware[] = [bearerAuth(services.scimTokens), throttle, scimBody(), routes, unmatched];

  async function run(ctx: Context, index: number): Promise<void> {
    if (index < steps.length) await steps[index](ctx, () => run(ctx, index + 1));
  }

  return async (ctx: Context, next: Next) => {
    if (ctx.path !== SCIM_BASE_PATH && !ctx.path.startsWith(`${SCIM_BASE_PATH}/`)) return next();
    try {
      await run(ctx, 0);
    } catch (error) {
      sendScimError(ctx, toScimError(error) ?? fromHttpError(error) ?? unexpected(ctx, error, logger));
    }
  };
}

/** Reached only when no route answered: the path exists with other methods (405) or not at all (404). */
const unmatched: Middleware = async (ctx) => {
  const methods = [...new Set(((ctx as { matched?: { methods: string[] }[] }).matched ?? []).flatMap((layer) => layer.methods))];
  if (methods.length > 0) {
    ctx.set('Allow', methods.join(', '));
    throw new ScimError(405, `${ctx.method} is not supported on ${ctx.path}; use ${methods.join(', ')}`);
  }
  throw scimError.notFound(`no SCIM endpoint at ${ctx.path}; the resources are /Users, /Groups, /ServiceProviderConfig, /ResourceTypes and /Schemas`);
};

/** Koa/http-errors thrown below us (e.g. a malformed URL): keep their 4xx status. */
function fromHttpError(error: unknown): ScimError | null {
  const { status, expose, message } = error as { status?: number; expose?: boolean; message?: string };
  return typeof status === 'number' && status >= 400 && status < 500 && expose ? new ScimError(status, message ?? 'bad request') : null;
}

function unexpected(ctx: Context, error: unknown, logger: Logger): ScimError {
  logger.error({ requestId: ctx.state.requestId, err: error }, 'unhandled SCIM error');
  return new ScimError(500, `an unexpected error occurred; quote request id ${ctx.state.requestId ?? 'unknown'} to your administrator`);
}
