/**
 * /Users (RFC 7644 §3.3-§3.6), the shapes Okta sends (OKTA.md §2). Rules:
 * - every change goes through the identity domain service with the token as actor, so uniqueness,
 *   deactivation (sessions and grants revoked at once) and the audit log are the domain's rules;
 * - PUT and PATCH compute the whole new state in memory from the version they read and write it
 *   once with that version: all operations land or none do; a no-op writes nothing;
 * - `id`, `meta` and `groups` are read-only: a request that changes them is 400 mutability;
 * - lists are answered from the store's indexes in its stable order (creation order, then id).
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from '../../bootstrap.ts';
import { isAppError } from '../../domain/errors.ts';
import type { IdentityRecord } from '../../ports/storage.ts';
import { scimError, sendScim } from './scim-errors.ts';
import { URN, USER_ATTRIBUTES } from './scim-schemas.ts';
import { excludes, listResponse, pagingOf, userFilterOf } from './collection-query.ts';
import { applyPatch, readPatchRequest, retryOnStale, type PatchDialect } from './patch-operations.ts';
import { changesNothing, identityChangesOf, readUserBody, toScimUser, userStateOf, type ScimUser } from './user-resource.ts';

const userPatch: PatchDialect = { resource: 'User', schemaUrn: URN.user, tree: USER_ATTRIBUTES, readOnly: ['id', 'meta', 'groups', 'schemas'], ignored: ['password'] };

export function createUserRoutes(deps: { services: Services; baseUrl: string }): Router {
  const { services, baseUrl } = deps;
  const { store, clock, identities } = services;
  const router = new Router();
  const actorOf = (ctx: Context) => ctx.state.scimActor!;

  async function requireUser(id: string): Promise<IdentityRecord> {
    const identity = await store.identities.get(id);
    if (!identity) throw scimError.notFound(`no User with id "${id}"`);
    return identity;
  }

  async function groupsOf(identityId: string): Promise<{ id: string; displayName: string }[]> {
    const groups = await Promise.all((await store.groups.groupIdsOf(identityId)).map((id) => store.groups.get(id)));
    return groups.filter((group) => group !== null);
  }

  async function render(ctx: Context, identity: IdentityRecord): Promise<ScimUser> {
    return toScimUser(identity, excludes(ctx.query, 'groups') ? null : await groupsOf(identity.id), baseUrl);
  }

  function uniquenessOf(error: unknown, userName: string): never {
    if (isAppError(error, 'conflict')) {
      // The domain names the colliding attribute (userName, a confusable of one, or email).
      throw scimError.conflict(error.field ? error.message : `userName "${userName}" is already in use (userName is compared case-insensitively)`);
    }
    throw error;
  }

  router.post('/Users', async (ctx) => {
    const state = userStateOf(readUserBody(ctx.request.body));
    const identity = await identities
      .create({ ...identityChangesOf(state), userName: state.userName, email: state.email, active: state.active ?? true }, actorOf(ctx))
      .catch((error: unknown) => uniquenessOf(error, state.userName));
    const resource = await render(ctx, identity);
    ctx.set('Location', resource.meta.location);
    sendScim(ctx, 201, resource);
  });

  router.get('/Users', async (ctx) => {
    const filter = userFilterOf(ctx.query.filter);
    const paging = pagingOf(ctx.query);
    const page = await store.identities.query({ filter, offset: paging.offset, limit: paging.count, now: clock.now() });
    // A count of 0 asks only for totalResults (RFC 7644 §3.4.2.4).
    const items = paging.count === 0 ? [] : page.items;
    sendScim(ctx, 200, listResponse(await Promise.all(items.map((identity) => render(ctx, identity))), page.total, paging));
  });

  router.get('/Users/:id', async (ctx) => {
    sendScim(ctx, 200, await render(ctx, await requireUser(ctx.params.id)));
  });

  /** Full replace (§3.5.1): omitted readWrite attributes are cleared; active and emails are kept. */
  router.put('/Users/:id', async (ctx) => {
    const id = ctx.params.id;
    const body = readUserBody(ctx.request.body);
    if (body.id !== undefined && body.id !== id) throw scimError.badRequest('mutability', `id is immutable: the body says "${String(body.id)}" but the URL names "${id}"`);
    const saved = await retryOnStale(async () => {
      const current = await requireUser(id);
      const state = userStateOf(body, current);
      const changes = identityChangesOf(state, current);
      if (changesNothing(current, changes)) return current;
      return identities.update(id, changes, actorOf(ctx), current.version).catch((error: unknown) => uniquenessOf(error, state.userName));
    });
    sendScim(ctx, 200, await render(ctx, saved));
  });

  router.patch('/Users/:id', async (ctx) => {
    const id = ctx.params.id;
    const operations = readPatchRequest(ctx.request.body, userPatch);
    const saved = await retryOnStale(async () => {
      const current = await requireUser(id);
      const before = toScimUser(current, await groupsOf(id), baseUrl);
      const after = applyPatch(before, operations, ['emails']);
      if (after.id !== before.id) throw scimError.badRequest('mutability', `id is immutable: the PATCH would change it from "${before.id}" to ${JSON.stringify(after.id)}`);
      if (JSON.stringify(after.groups) !== JSON.stringify(before.groups)) {
        throw scimError.badRequest('mutability', 'groups is read-only; change membership through PATCH /Groups/{id}');
      }
      // name.formatted was derived for display: leave it derived unless the PATCH set it.
      const name = after.name as Record<string, unknown> | undefined;
      if (name && name.formatted === before.name.formatted && current.attributes.nameFormatted === undefined) delete name.formatted;
      const state = userStateOf(after);
      const changes = identityChangesOf(state, current);
      if (changesNothing(current, changes)) return current;
      return identities.update(id, changes, actorOf(ctx), current.version).catch((error: unknown) => uniquenessOf(error, state.userName));
    });
    sendScim(ctx, 200, await render(ctx, saved));
  });

  /** Removes the identity with its passkeys, sessions, grants and group memberships. */
  router.delete('/Users/:id', async (ctx) => {
    await requireUser(ctx.params.id);
    await identities.remove(ctx.params.id, actorOf(ctx));
    sendScim(ctx, 204);
  });

  return router;
}
