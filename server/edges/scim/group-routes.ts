/**
 * /Groups (RFC 7644 §3.3-§3.6, §3.4.3), Okta's Push Groups shapes (OKTA.md §2). Rules:
 * - every change goes through the group domain service with the token as actor: displayName
 *   uniqueness (409 uniqueness), audit, and one atomic write of name and membership together;
 * - PATCH works on an in-memory copy whose members are just `{value}`, so `add` de-duplicates and
 *   `remove members[value eq "<id>"]` matches whatever `display` Okta sent; the resulting member
 *   list is written as one add/remove change with the version read;
 * - PUT replaces displayName and externalId; it replaces members only when it carries them
 *   (a client that never reads members must not empty a group by renaming it);
 * - If-Match / If-None-Match and attributes/excludedAttributes as for /Users.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from '../../bootstrap.ts';
import { isAppError } from '../../domain/errors.ts';
import type { GroupRecord, MembershipChange } from '../../ports/storage.ts';
import { scimError, sendScim } from './scim-errors.ts';
import { GROUP_ATTRIBUTES, GROUP_SCHEMA, URN } from './scim-schemas.ts';
import { groupFilterOf, groupSortOf, listResponse, pagingOf, parseFilter, readSearchRequest, type Paging } from './collection-query.ts';
import { applyPatch, readPatchRequest, type PatchDialect } from './patch-engine.ts';
import { readResource } from './resource-reader.ts';
import { project, projectionOf, wants, type Projection } from './attribute-projection.ts';
import { etagOf, notModified, requireIfMatch, retryOnStale } from './versioning.ts';
import { groupStateOf, toScimGroup, type GroupState } from './group-resource.ts';
import type { ResourceSearch } from './user-routes.ts';

export const groupPatch: PatchDialect = { schema: GROUP_SCHEMA, tree: GROUP_ATTRIBUTES, patchOpUrn: URN.patchOp, dropped: [], alwaysAssigned: [] };

function membershipChange(current: string[], next: string[]): MembershipChange | undefined {
  const before = new Set(current);
  const after = new Set(next);
  const add = next.filter((id) => !before.has(id));
  const remove = current.filter((id) => !after.has(id));
  return add.length || remove.length ? { ...(add.length ? { add } : {}), ...(remove.length ? { remove } : {}) } : undefined;
}

export function createGroupRoutes(deps: { services: Services; baseUrl: string }): Router & { search: ResourceSearch } {
  const { services, baseUrl } = deps;
  const { store, groups } = services;
  const router = new Router();
  const actorOf = (ctx: Context) => ctx.state.scimActor!;
  const projectionFor = (ctx: Context): Projection => projectionOf(ctx.query, URN.group);

  async function requireGroup(id: string): Promise<GroupRecord> {
    if (id === '.search') throw scimError.methodNotAllowed('POST', '/Groups/.search is a search: send POST with a SearchRequest (RFC 7644 §3.4.3)');
    const group = await store.groups.get(id);
    if (!group) throw scimError.notFound(`no Group with id "${id}"`);
    return group;
  }

  async function render(group: GroupRecord, projection: Projection): Promise<object> {
    if (!wants(GROUP_SCHEMA, projection, 'members')) return project(toScimGroup(group, null, baseUrl), GROUP_SCHEMA, projection);
    const members = await Promise.all((await store.groups.members(group.id)).map((id) => store.identities.get(id)));
    return project(toScimGroup(group, members.filter((member) => member !== null), baseUrl), GROUP_SCHEMA, projection);
  }

  async function answer(ctx: Context, status: number, group: GroupRecord): Promise<void> {
    const resource = await render(group, projectionFor(ctx));
    ctx.set('ETag', etagOf(group.version));
    if (status === 201) ctx.set('Location', `${baseUrl}/Groups/${group.id}`);
    sendScim(ctx, status, resource);
  }

  function uniquenessOf(error: unknown, displayName: string): never {
    if (isAppError(error, 'conflict')) throw scimError.conflict(`a Group named "${displayName}" already exists (displayName is compared case-insensitively)`);
    throw error;
  }

  /** Writes `state` over `current` (whose members were `currentMembers`) with the version read; a no-op writes nothing. */
  async function write(ctx: Context, current: GroupRecord, currentMembers: string[] | null, state: GroupState): Promise<GroupRecord> {
    const members = state.memberIds === undefined ? undefined : membershipChange(currentMembers ?? (await store.groups.members(current.id)), state.memberIds);
    if (!members && state.displayName === current.displayName && state.externalId === current.externalId) return current;
    return groups
      .change(current.id, { displayName: state.displayName, externalId: state.externalId, members }, actorOf(ctx), current.version)
      .catch((error: unknown) => uniquenessOf(error, state.displayName));
  }

  const search: ResourceSearch = async (source, paging, lenient = false) => {
    const filter = groupFilterOf(parseFilter(source.filter), lenient);
    const sort = groupSortOf(source, lenient);
    const projection = projectionOf(source, URN.group);
    const page = await store.groups.query({ filter, sort, offset: paging.offset, limit: paging.count });
    const items = paging.count === 0 ? [] : page.items;
    return { resources: await Promise.all(items.map((group) => render(group, projection))), total: page.total };
  };

  router.post('/Groups/.search', async (ctx) => {
    const request = readSearchRequest(ctx.request.body);
    const paging = pagingOf(request);
    const { resources, total } = await search(request, paging);
    sendScim(ctx, 200, listResponse(resources, total, paging));
  });

  router.post('/Groups', async (ctx) => {
    const state = groupStateOf(readResource(ctx.request.body, GROUP_SCHEMA, GROUP_ATTRIBUTES));
    const group = await groups
      .create({ displayName: state.displayName, externalId: state.externalId, memberIds: state.memberIds ?? [] }, actorOf(ctx))
      .catch((error: unknown) => uniquenessOf(error, state.displayName));
    await answer(ctx, 201, group);
  });

  router.get('/Groups', async (ctx) => {
    const paging = pagingOf(ctx.query);
    const { resources, total } = await search(ctx.query, paging);
    sendScim(ctx, 200, listResponse(resources, total, paging));
  });

  router.get('/Groups/:id', async (ctx) => {
    const group = await requireGroup(ctx.params.id);
    if (notModified(ctx, group.version)) return;
    await answer(ctx, 200, group);
  });

  router.put('/Groups/:id', async (ctx) => {
    const id = ctx.params.id;
    const body = readResource(ctx.request.body, GROUP_SCHEMA, GROUP_ATTRIBUTES);
    if (body.id !== undefined && body.id !== id) throw scimError.badRequest('mutability', `id is immutable: the body says "${String(body.id)}" but the URL names "${id}"`);
    const state = groupStateOf(body);
    let pinned = false;
    const saved = await retryOnStale(async () => {
      const current = await requireGroup(id);
      pinned = requireIfMatch(ctx, current, 'Group') !== undefined;
      return write(ctx, current, null, state);
    }, () => pinned);
    await answer(ctx, 200, saved);
  });

  router.patch('/Groups/:id', async (ctx) => {
    const id = ctx.params.id;
    const operations = readPatchRequest(ctx.request.body, groupPatch);
    let pinned = false;
    const saved = await retryOnStale(async () => {
      const current = await requireGroup(id);
      pinned = requireIfMatch(ctx, current, 'Group') !== undefined;
      const currentMembers = await store.groups.members(id);
      const before = { ...toScimGroup(current, null, baseUrl), members: currentMembers.map((value) => ({ value })) };
      const after = applyPatch(before, operations, groupPatch);
      // Members removed to the last one leave the attribute unassigned: an empty group.
      const state = groupStateOf(readResource({ members: [], ...after }, GROUP_SCHEMA, GROUP_ATTRIBUTES));
      return write(ctx, current, currentMembers, { ...state, memberIds: state.memberIds ?? [] });
    }, () => pinned);
    await answer(ctx, 200, saved);
  });

  router.delete('/Groups/:id', async (ctx) => {
    const current = await requireGroup(ctx.params.id);
    requireIfMatch(ctx, current, 'Group');
    await groups.remove(ctx.params.id, actorOf(ctx));
    sendScim(ctx, 204);
  });

  return Object.assign(router, { search });
}
