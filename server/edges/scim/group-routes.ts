/**
 * /Groups (RFC 7644 §3.3-§3.6), Okta's Push Groups shapes (OKTA.md §2). Rules:
 * - every change goes through the group domain service with the token as actor: displayName
 *   uniqueness (409 uniqueness), audit, and one atomic write of name and membership together;
 * - PATCH works on an in-memory copy whose members are just `{value}`, so `add` de-duplicates and
 *   `remove members[value eq "<id>"]` matches whatever `display` Okta sent; the resulting member
 *   list is written as one add/remove change with the version read;
 * - PUT replaces displayName and externalId; it replaces members only when it carries them.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from '../../bootstrap.ts';
import { isAppError } from '../../domain/errors.ts';
import type { GroupRecord, MembershipChange } from '../../ports/storage.ts';
import { scimError, sendScim } from './scim-errors.ts';
import { GROUP_ATTRIBUTES, URN } from './scim-schemas.ts';
import { excludes, groupFilterOf, listResponse, pagingOf } from './collection-query.ts';
import { applyPatch, readPatchRequest, retryOnStale, type PatchDialect, type PatchOperation } from './patch-operations.ts';
import { groupStateOf, memberIdsOf, readGroupBody, toScimGroup, type GroupState, type ScimGroup } from './group-resource.ts';

const groupPatch: PatchDialect = { resource: 'Group', schemaUrn: URN.group, tree: GROUP_ATTRIBUTES, readOnly: ['id', 'meta', 'schemas'], ignored: [] };

const asMembers = (value: unknown) => memberIdsOf(value).map((id) => ({ value: id }));

/** Member values reduced to `{value}`, the shape of the in-memory copy, so deep-equality matches. */
function normalizeMembers(operation: PatchOperation): PatchOperation {
  if (operation.path === 'members' && operation.value !== undefined) return { ...operation, value: asMembers(operation.value) };
  if (operation.path === undefined && (operation.value as Record<string, unknown>).members !== undefined) {
    return { ...operation, value: { ...(operation.value as object), members: asMembers((operation.value as Record<string, unknown>).members) } };
  }
  return operation;
}

function membershipChange(current: string[], next: string[]): MembershipChange | undefined {
  const before = new Set(current);
  const after = new Set(next);
  const add = next.filter((id) => !before.has(id));
  const remove = current.filter((id) => !after.has(id));
  return add.length || remove.length ? { ...(add.length ? { add } : {}), ...(remove.length ? { remove } : {}) } : undefined;
}

export function createGroupRoutes(deps: { services: Services; baseUrl: string }): Router {
  const { services, baseUrl } = deps;
  const { store, groups } = services;
  const router = new Router();
  const actorOf = (ctx: Context) => ctx.state.scimActor!;

  async function requireGroup(id: string): Promise<GroupRecord> {
    const group = await store.groups.get(id);
    if (!group) throw scimError.notFound(`no Group with id "${id}"`);
    return group;
  }

  async function render(ctx: Context, group: GroupRecord): Promise<ScimGroup> {
    if (excludes(ctx.query, 'members')) return toScimGroup(group, null, baseUrl);
    const members = await Promise.all((await store.groups.members(group.id)).map((id) => store.identities.get(id)));
    return toScimGroup(group, members.filter((member) => member !== null), baseUrl);
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

  router.post('/Groups', async (ctx) => {
    const state = groupStateOf(readGroupBody(ctx.request.body));
    const group = await groups
      .create({ displayName: state.displayName, externalId: state.externalId, memberIds: state.memberIds ?? [] }, actorOf(ctx))
      .catch((error: unknown) => uniquenessOf(error, state.displayName));
    const resource = await render(ctx, group);
    ctx.set('Location', resource.meta.location);
    sendScim(ctx, 201, resource);
  });

  router.get('/Groups', async (ctx) => {
    const filter = groupFilterOf(ctx.query.filter);
    const paging = pagingOf(ctx.query);
    const page = await store.groups.query({ filter, offset: paging.offset, limit: paging.count });
    const items = paging.count === 0 ? [] : page.items;
    sendScim(ctx, 200, listResponse(await Promise.all(items.map((group) => render(ctx, group))), page.total, paging));
  });

  router.get('/Groups/:id', async (ctx) => {
    sendScim(ctx, 200, await render(ctx, await requireGroup(ctx.params.id)));
  });

  router.put('/Groups/:id', async (ctx) => {
    const id = ctx.params.id;
    const body = readGroupBody(ctx.request.body);
    if (body.id !== undefined && body.id !== id) throw scimError.badRequest('mutability', `id is immutable: the body says "${String(body.id)}" but the URL names "${id}"`);
    const state = groupStateOf(body);
    const saved = await retryOnStale(async () => write(ctx, await requireGroup(id), null, state));
    sendScim(ctx, 200, await render(ctx, saved));
  });

  router.patch('/Groups/:id', async (ctx) => {
    const id = ctx.params.id;
    const operations = readPatchRequest(ctx.request.body, groupPatch).map(normalizeMembers);
    const saved = await retryOnStale(async () => {
      const current = await requireGroup(id);
      const currentMembers = await store.groups.members(id);
      const before = { ...toScimGroup(current, null, baseUrl), members: currentMembers.map((value) => ({ value })) };
      const after = applyPatch(before, operations, ['members']);
      if (after.id !== before.id) throw scimError.badRequest('mutability', `id is immutable: the PATCH would change it from "${before.id}" to ${JSON.stringify(after.id)}`);
      return write(ctx, current, currentMembers, groupStateOf(after));
    });
    sendScim(ctx, 200, await render(ctx, saved));
  });

  router.delete('/Groups/:id', async (ctx) => {
    await requireGroup(ctx.params.id);
    await groups.remove(ctx.params.id, actorOf(ctx));
    sendScim(ctx, 204);
  });

  return router;
}
