/** Groups: the list with member counts, and one group's page (members and assigned apps). */
import { z } from 'zod';
import { requireLocallyManaged } from '../../../domain/ownership.ts';
import type { IdentityRecord } from '../../../ports/storage.ts';
import { describeGroup, describeIdentity, type GroupDetailView, type GroupRow } from '../views.ts';
import { actorOf, parse, type AdminRouteDeps, type AdminRouter } from './context.ts';

const schemas = {
  name: z.object({ displayName: z.string().trim().min(1).max(256) }),
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

  const OKTA_GROUP = 'change it in Okta (Directory › Groups, then Push Groups)';

  router.post('/groups', async (ctx) => {
    const { displayName } = parse(schemas.name, ctx.request.body);
    ctx.status = 201;
    ctx.body = { group: describeGroup(await services.groups.create({ displayName }, actorOf(ctx))) };
  });

  router.patch('/groups/:id', async (ctx) => {
    const group = await services.groups.require(ctx.params.id);
    requireLocallyManaged(group, 'this group', OKTA_GROUP);
    const { displayName } = parse(schemas.name, ctx.request.body);
    ctx.body = { group: describeGroup(await services.groups.change(group.id, { displayName }, actorOf(ctx))) };
  });

  router.delete('/groups/:id', async (ctx) => {
    const group = await services.groups.require(ctx.params.id);
    requireLocallyManaged(group, 'this group', OKTA_GROUP);
    await services.groups.remove(group.id, actorOf(ctx));
    ctx.status = 204;
  });

  router.put('/groups/:id/members/:identityId', async (ctx) => {
    const group = await services.groups.require(ctx.params.id);
    requireLocallyManaged(group, 'this group', OKTA_GROUP);
    const identity = await services.identities.require(ctx.params.identityId);
    await services.groups.change(group.id, { members: { add: [identity.id] } }, actorOf(ctx));
    ctx.body = { added: identity.id };
  });

  router.delete('/groups/:id/members/:identityId', async (ctx) => {
    const group = await services.groups.require(ctx.params.id);
    requireLocallyManaged(group, 'this group', OKTA_GROUP);
    await services.groups.change(group.id, { members: { remove: [ctx.params.identityId] } }, actorOf(ctx));
    ctx.status = 204;
  });
}
