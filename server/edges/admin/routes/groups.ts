/** Groups: the list with member counts, and one group's page (members and assigned apps). */
import { z } from 'zod';
import type { IdentityRecord } from '../../../ports/storage.ts';
import { describeGroup, describeIdentity, type GroupDetailView, type GroupRow } from '../views.ts';
import { parse, type AdminRouteDeps, type AdminRouter } from './context.ts';

const schemas = {
  groupQuery: z.object({ search: z.string().max(200).optional(), offset: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(200).default(50) }),
};

export function registerGroupRoutes(router: AdminRouter, deps: AdminRouteDeps): void {
  const { services } = deps;
  const { store, clock } = services;

  router.get('/groups', async (ctx) => {
    const query = parse(schemas.groupQuery, ctx.query);
    const page = await services.groups.list({ search: query.search?.trim() || undefined, offset: query.offset, limit: query.limit });
    const counts = await services.groups.memberCounts(page.items.map((group) => group.id));
    const items: GroupRow[] = page.items.map((group) => ({ ...describeGroup(group), members: counts.get(group.id) ?? 0 }));
    ctx.body = { total: page.total, items };
  });

  router.get('/groups/:id', async (ctx) => {
    const group = await services.groups.require(ctx.params.id);
    const memberIds = await services.groups.members(group.id);
    const members = (await Promise.all(memberIds.slice(0, 500).map((id) => store.identities.get(id)))).filter((identity) => identity !== null) as IdentityRecord[];
    const apps = (await services.apps.list()).filter((app) => app.assignedGroupIds.includes(group.id));
    const statuses = await store.identities.statuses(members.map((member) => member.id), clock.now());
    ctx.body = {
      group: describeGroup(group),
      total: memberIds.length,
      members: members.map((member) => describeIdentity({ ...member, enrollmentStatus: statuses.get(member.id) ?? 'unenrolled' })),
      apps: apps.map((app) => ({ id: app.id, name: app.name, kind: app.kind })),
    } satisfies GroupDetailView;
  });
}
