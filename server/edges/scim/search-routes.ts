/**
 * POST /.search (RFC 7644 §3.4.3): one SearchRequest asked of every resource type. Rules:
 * - the filter is applied to Users and to Groups; an attribute one type does not have matches
 *   nothing there instead of failing (the same filter must be askable of both);
 * - results list Users first, then Groups, each in its own order (sortBy sorts within a type);
 *   startIndex and count page through that one list, totalResults counts both.
 */
import Router from '@koa/router';
import { sendScim } from './scim-errors.ts';
import { listResponse, pagingOf, readSearchRequest } from './collection-query.ts';
import type { ResourceSearch } from './user-routes.ts';

export function createRootSearchRoutes(deps: { users: ResourceSearch; groups: ResourceSearch }): Router {
  const router = new Router();
  router.post('/.search', async (ctx) => {
    const request = readSearchRequest(ctx.request.body);
    const paging = pagingOf(request);
    const users = await deps.users(request, paging, true);
    const groupOffset = Math.max(0, paging.offset - users.total);
    const groupCount = Math.max(0, paging.count - users.resources.length);
    const groups = await deps.groups(request, { ...paging, offset: groupOffset, count: groupCount }, true);
    sendScim(ctx, 200, listResponse([...users.resources, ...groups.resources], users.total + groups.total, paging));
  });
  return router;
}
