/** Identities: the paged list, one person's page, profile changes and passkey revocation. */
import { z } from 'zod';
import { ADMIN_ROLE } from '../../../domain/apps.ts';
import { AppError } from '../../../domain/errors.ts';
import { requireLocallyManaged } from '../../../domain/ownership.ts';
import { describeIdentity, describeInvite, describeProfile, describePasskey, type IdentityDetailView, type IdentityPageView, type NamedRef } from '../views.ts';
import { actorOf, parse, type AdminRouteDeps, type AdminRouter } from './context.ts';

const schemas = {
  identityQuery: z.object({
    search: z.string().max(200).optional(),
    status: z.enum(['unenrolled', 'pending', 'enrolled']).optional(),
    group: z.string().max(100).optional(),
    offset: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(200).default(25),
  }),
  create: z.object({
    userName: z.string().trim().min(1).max(256),
    email: z.string().trim().max(320),
    givenName: z.string().trim().max(200).nullable().optional(),
    familyName: z.string().trim().max(200).nullable().optional(),
    displayName: z.string().trim().max(200).nullable().optional(),
    admin: z.boolean().optional(),
  }),
  admin: z.object({ admin: z.boolean() }),
  profile: z.object({
    email: z.string().max(320).optional(),
    givenName: z.string().max(200).nullable().optional(),
    familyName: z.string().max(200).nullable().optional(),
    displayName: z.string().max(200).nullable().optional(),
    active: z.boolean().optional(),
  }),
};

export function registerIdentityRoutes(router: AdminRouter, deps: AdminRouteDeps): void {
  const { services, admins } = deps;
  const blank = (text: string | null | undefined) => (text ? text : null);
  const { store } = services;

  async function groupNames(ids: string[]): Promise<NamedRef[]> {
    const groups = await Promise.all(ids.map((id) => store.groups.get(id)));
    return groups.filter((group) => group !== null).map((group) => ({ id: group!.id, displayName: group!.displayName }));
  }

  router.get('/identities', async (ctx) => {
    const query = parse(schemas.identityQuery, ctx.query);
    const page = await services.identities.list({ search: query.search?.trim() || undefined, status: query.status, groupId: query.group || undefined, offset: query.offset, limit: query.limit });
    ctx.body = { total: page.total, offset: query.offset, limit: query.limit, items: page.items.map(describeIdentity) } satisfies IdentityPageView;
  });

  router.get('/identities/:id', async (ctx) => {
    const identity = await services.identities.require(ctx.params.id);
    const passkeys = await services.passkeys.listFor(identity.id);
    const { policy, verdicts } = await services.policies.verdictsFor(identity.id, passkeys);
    const invites = (await services.invites.list(identity.id)).sort((a, b) => b.createdAt - a.createdAt).slice(0, 5);
    ctx.body = {
      identity: describeIdentity({ ...identity, enrollmentStatus: await services.identities.status(identity.id) }),
      groups: await groupNames(await services.groups.groupIdsOf(identity.id)),
      passkeys: passkeys.map((passkey) => describePasskey(passkey, verdicts.get(passkey.id))),
      policy,
      invites: invites.map(describeInvite),
    } satisfies IdentityDetailView;
  });

  router.post('/identities', async (ctx) => {
    const input = parse(schemas.create, ctx.request.body);
    const created = await services.identities.create(
      { userName: input.userName, email: input.email, givenName: blank(input.givenName), familyName: blank(input.familyName), displayName: blank(input.displayName), roles: input.admin ? [ADMIN_ROLE] : [] },
      actorOf(ctx),
    );
    ctx.status = 201;
    ctx.body = { identity: describeIdentity({ ...created, enrollmentStatus: 'unenrolled' }) };
  });

  router.patch('/identities/:id', async (ctx) => {
    const identity = await services.identities.require(ctx.params.id);
    const input = parse(schemas.profile, ctx.request.body);
    const profileChange = ['email', 'givenName', 'familyName', 'displayName'].some((key) => (input as Record<string, unknown>)[key] !== undefined);
    if (profileChange) requireLocallyManaged(identity, 'this profile', 'change it in Okta');
    if (input.active === false && identity.active) {
      if (identity.id === ctx.state.consoleSession!.identity.id) throw new AppError('forbidden', 'you cannot deactivate yourself; ask another admin');
      await admins.guardLastAdmin(identity, 'deactivate');
    }
    const changes = { ...input, ...(profileChange ? { givenName: input.givenName === '' ? null : input.givenName, familyName: input.familyName === '' ? null : input.familyName, displayName: input.displayName === '' ? null : input.displayName } : {}) };
    const updated = await services.identities.update(identity.id, changes, actorOf(ctx));
    ctx.body = { identity: describeProfile(updated) };
  });

  router.delete('/identities/:id', async (ctx) => {
    const identity = await services.identities.require(ctx.params.id);
    requireLocallyManaged(identity, 'this person', 'unassign them from the app in Okta, which deprovisions them here');
    if (identity.id === ctx.state.consoleSession!.identity.id) throw new AppError('forbidden', 'you cannot delete yourself; ask another admin');
    await admins.guardLastAdmin(identity, 'delete');
    await services.identities.remove(identity.id, actorOf(ctx));
    ctx.status = 204;
  });

  /** The admin role is Latchkey's own, so it can be granted to anyone, Okta-provisioned or not. */
  router.put('/identities/:id/admin', async (ctx) => {
    const identity = await services.identities.require(ctx.params.id);
    const { admin } = parse(schemas.admin, ctx.request.body);
    const updated = admin ? (await admins.grant({ userName: identity.userName }, actorOf(ctx))).identity : await admins.revoke(identity.id, actorOf(ctx));
    ctx.body = { identity: describeProfile(updated) };
  });

  router.post('/identities/:id/passkeys/:passkeyId/revoke', async (ctx) => {
    const passkey = await services.passkeys.require(ctx.params.passkeyId);
    if (passkey.identityId !== ctx.params.id) throw new AppError('not_found', 'no such passkey for this identity');
    await services.passkeys.revoke(passkey.id, actorOf(ctx), { userAgent: ctx.get('user-agent') });
    ctx.body = { revoked: passkey.id };
  });
}
