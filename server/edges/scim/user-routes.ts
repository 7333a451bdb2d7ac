/**
 * /Users (RFC 7644 §3.3-§3.6, §3.4.3), the shapes Okta sends (OKTA.md §2) and the rest of the RFC.
 * Rules:
 * - every change goes through the identity domain service with the token as actor, so uniqueness,
 *   deactivation (sessions and grants revoked at once) and the audit log are the domain's rules;
 * - bodies are read against the served schema (resource-reader.ts); PUT and PATCH compute the
 *   whole new state in memory from the version they read and write it once with that version:
 *   all operations land or none do; a no-op writes nothing;
 * - If-Match pins a write to one version (412 otherwise), If-None-Match answers 304 (versioning.ts);
 * - every response carrying the resource honours attributes/excludedAttributes (§3.9).
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from '../../bootstrap.ts';
import { isAppError } from '../../domain/errors.ts';
import type { IdentityRecord } from '../../ports/storage.ts';
import { scimError, sendScim } from './scim-errors.ts';
import { URN, USER_ATTRIBUTES, USER_SCHEMA } from './scim-schemas.ts';
import { listResponse, pagingOf, parseFilter, readSearchRequest, userFilterOf, userSortOf, type Paging } from './collection-query.ts';
import { applyPatch, readPatchRequest, type PatchDialect } from './patch-engine.ts';
import { readResource } from './resource-reader.ts';
import { project, projectionOf, wants, type Projection } from './attribute-projection.ts';
import { etagOf, notModified, requireIfMatch, retryOnStale } from './versioning.ts';
import { changesNothing, identityChangesOf, toScimUser, userStateOf } from './user-resource.ts';

export const userPatch: PatchDialect = {
  schema: USER_SCHEMA,
  tree: USER_ATTRIBUTES,
  patchOpUrn: URN.patchOp,
  dropped: ['password'],
  alwaysAssigned: ['active'],
  readOnlyHints: { groups: 'change membership through PATCH /Groups/{id}' },
};

export interface ResourceSearch {
  (source: Record<string, unknown>, paging: Paging, lenient?: boolean): Promise<{ resources: object[]; total: number }>;
}

export function createUserRoutes(deps: { services: Services; baseUrl: string }): Router & { search: ResourceSearch } {
  const { services, baseUrl } = deps;
  const { store, clock, identities } = services;
  const router = new Router();
  const actorOf = (ctx: Context) => ctx.state.scimActor!;
  const projectionFor = (ctx: Context): Projection => projectionOf(ctx.query, URN.user);

  async function requireUser(id: string): Promise<IdentityRecord> {
    if (id === '.search') throw scimError.methodNotAllowed('POST', '/Users/.search is a search: send POST with a SearchRequest (RFC 7644 §3.4.3)');
    const identity = await store.identities.get(id);
    if (!identity) throw scimError.notFound(`no User with id "${id}"`);
    return identity;
  }

  async function groupsOf(identityId: string): Promise<{ id: string; displayName: string }[]> {
    const groups = await Promise.all((await store.groups.groupIdsOf(identityId)).map((id) => store.groups.get(id)));
    return groups.filter((group) => group !== null);
  }

  /** `knownGroups`: the identity's groups when the caller knows them without asking the store. */
  async function render(identity: IdentityRecord, projection: Projection, knownGroups?: { id: string; displayName: string }[]): Promise<object> {
    const groups = wants(USER_SCHEMA, projection, 'groups') ? (knownGroups ?? (await groupsOf(identity.id))) : null;
    return project(toScimUser(identity, groups, baseUrl), USER_SCHEMA, projection);
  }

  async function answer(ctx: Context, status: number, identity: IdentityRecord, knownGroups?: { id: string; displayName: string }[]): Promise<void> {
    const resource = await render(identity, projectionFor(ctx), knownGroups);
    ctx.set('ETag', etagOf(identity.version));
    if (status === 201) ctx.set('Location', `${baseUrl}/Users/${identity.id}`);
    sendScim(ctx, status, resource);
  }

  function uniquenessOf(error: unknown, userName: string): never {
    if (isAppError(error, 'conflict')) {
      // The domain names the colliding attribute (userName, a confusable of one, or email).
      throw scimError.conflict(error.field ? error.message : `userName "${userName}" is already in use (userName is compared case-insensitively)`);
    }
    throw error;
  }

  const search: ResourceSearch = async (source, paging, lenient = false) => {
    const filter = userFilterOf(parseFilter(source.filter), lenient);
    const sort = userSortOf(source, lenient);
    const projection = projectionOf(source, URN.user);
    const page = await store.identities.query({ filter, sort, offset: paging.offset, limit: paging.count, now: clock.now() });
    // A count of 0 asks only for totalResults (RFC 7644 §3.4.2.4).
    const items = paging.count === 0 ? [] : page.items;
    return { resources: await Promise.all(items.map((identity) => render(identity, projection))), total: page.total };
  };

  router.post('/Users/.search', async (ctx) => {
    const request = readSearchRequest(ctx.request.body);
    const paging = pagingOf(request);
    const { resources, total } = await search(request, paging);
    sendScim(ctx, 200, listResponse(resources, total, paging));
  });

  router.post('/Users', async (ctx) => {
    const state = userStateOf(readResource(ctx.request.body, USER_SCHEMA, USER_ATTRIBUTES));
    const identity = await identities
      .create({ ...identityChangesOf(state), userName: state.userName, email: state.email, active: state.active ?? true }, actorOf(ctx))
      .catch((error: unknown) => uniquenessOf(error, state.userName));
    // Its id was made just now, so no group can name it yet: nothing to read back.
    await answer(ctx, 201, identity, []);
  });

  router.get('/Users', async (ctx) => {
    const paging = pagingOf(ctx.query);
    const { resources, total } = await search(ctx.query, paging);
    sendScim(ctx, 200, listResponse(resources, total, paging));
  });

  router.get('/Users/:id', async (ctx) => {
    const identity = await requireUser(ctx.params.id);
    if (notModified(ctx, identity.version)) return;
    await answer(ctx, 200, identity);
  });

  /** Full replace (§3.5.1): omitted readWrite attributes are cleared; `active` is kept when omitted. */
  router.put('/Users/:id', async (ctx) => {
    const id = ctx.params.id;
    const body = readResource(ctx.request.body, USER_SCHEMA, USER_ATTRIBUTES);
    if (body.id !== undefined && body.id !== id) throw scimError.badRequest('mutability', `id is immutable: the body says "${String(body.id)}" but the URL names "${id}"`);
    let pinned = false;
    const saved = await retryOnStale(async () => {
      const current = await requireUser(id);
      pinned = requireIfMatch(ctx, current, 'User') !== undefined;
      const state = userStateOf(body);
      const changes = identityChangesOf(state, current);
      if (changesNothing(current, changes)) return current;
      return identities.update(id, changes, actorOf(ctx), current.version).catch((error: unknown) => uniquenessOf(error, state.userName));
    }, () => pinned);
    await answer(ctx, 200, saved);
  });

  router.patch('/Users/:id', async (ctx) => {
    const id = ctx.params.id;
    const operations = readPatchRequest(ctx.request.body, userPatch);
    let pinned = false;
    const saved = await retryOnStale(async () => {
      const current = await requireUser(id);
      pinned = requireIfMatch(ctx, current, 'User') !== undefined;
      const before = toScimUser(current, await groupsOf(id), baseUrl);
      const after = applyPatch(before, operations, userPatch);
      // name.formatted was derived for display: leave it derived unless the PATCH set it.
      const name = after.name as Record<string, unknown> | undefined;
      if (name && name.formatted === before.name.formatted && current.attributes.nameFormatted === undefined) delete name.formatted;
      const state = userStateOf(readResource(after, USER_SCHEMA, USER_ATTRIBUTES));
      const changes = identityChangesOf(state, current);
      // PATCH keeps what it does not name, `active` included (it cannot be removed).
      if (changesNothing(current, changes)) return current;
      return identities.update(id, changes, actorOf(ctx), current.version).catch((error: unknown) => uniquenessOf(error, state.userName));
    }, () => pinned);
    await answer(ctx, 200, saved);
  });

  /** Removes the identity with its passkeys, sessions, grants and group memberships. */
  router.delete('/Users/:id', async (ctx) => {
    const current = await requireUser(ctx.params.id);
    requireIfMatch(ctx, current, 'User');
    await identities.remove(ctx.params.id, actorOf(ctx));
    sendScim(ctx, 204);
  });

  return Object.assign(router, { search });
}

