/**
 * The console's JSON API under /admin/api. Rules, in the order each request meets them:
 * - a console session is required (401 without one) and its identity must hold the admin role,
 *   checked on every call (403 otherwise);
 * - every state-changing call carries the page's CSRF token bound to the session, and our Origin;
 * - every input is parsed by a zod schema before a handler sees it;
 * - every state-changing call (and every secret reveal) is audited with actor identity:<id>;
 *   the domain services add their own events with the details.
 * Handlers call the domain services; none writes to the store directly.
 */
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import { z } from 'zod';
import type { Services } from '../../bootstrap.ts';
import type { AdminService } from '../../domain/admins.ts';
import { ADMIN_ROLE } from '../../domain/apps.ts';
import { AppError, isAppError } from '../../domain/errors.ts';
import { displayNameOf } from '../../domain/identities.ts';
import { authenticatorModel } from '../../domain/authenticator-models.ts';
import type { EnrollmentMail } from '../../domain/enrollment-mail.ts';
import type { AppRecord, IdentityRecord } from '../../ports/storage.ts';
import { oidcEndpoints } from '../../http/endpoints.ts';
import { jsonBody, type createCsrf } from '../../http/guards.ts';
import { sendJsonError } from '../../http/errors.ts';
import type { ConsoleSessions, ConsoleSession } from './console-session.ts';
import { sanitiseTileIcon } from './tile-icons.ts';
import { adminActor, type Actor } from '../../domain/actor.ts';

declare module 'koa' {
  interface DefaultState {
    consoleSession?: ConsoleSession;
  }
}

const DAY_MS = 86_400_000;
const statusSchema = z.enum(['unenrolled', 'pending', 'enrolled']);

const schemas = {
  createApp: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('okta'), oktaDomain: z.string().min(1).max(300), name: z.string().trim().min(1).max(100).optional(), customDomain: z.string().max(300).optional() }),
    z.object({ kind: z.literal('oidc'), name: z.string().trim().min(1).max(100), redirectUris: z.array(z.string().min(1).max(2000)).min(1).max(20) }),
    z.object({ kind: z.literal('bookmark'), name: z.string().trim().min(1).max(100), loginUrl: z.string().min(1).max(2000) }),
  ]),
  renameApp: z.object({ name: z.string().trim().min(1).max(100) }),
  assignment: z.object({ assigned: z.boolean() }),
  icon: z.object({ dataUri: z.string().max(400_000) }),
  scimToken: z.object({ name: z.string().trim().min(1).max(100), expiresInDays: z.number().int().min(1).max(3650).nullable() }),
  okta: z.object({ domain: z.string().min(1).max(300), token: z.string().min(1).max(500) }),
  identityQuery: z.object({
    search: z.string().max(200).optional(),
    status: statusSchema.optional(),
    group: z.string().max(100).optional(),
    offset: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(200).default(25),
  }),
  profile: z.object({
    email: z.string().max(320).optional(),
    givenName: z.string().max(200).nullable().optional(),
    familyName: z.string().max(200).nullable().optional(),
    displayName: z.string().max(200).nullable().optional(),
    active: z.boolean().optional(),
  }),
  invite: z.object({ delivery: z.enum(['email', 'link']), ttlHours: z.number().int().min(1).max(24 * 30).optional() }),
  bulkInvite: z.object({ identityIds: z.array(z.string().min(1).max(100)).min(1).max(1000), ttlHours: z.number().int().min(1).max(24 * 30).optional() }),
  inviteIds: z.object({ ids: z.string().max(40_000) }),
  groupQuery: z.object({ search: z.string().max(200).optional(), offset: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(200).default(50) }),
  auditQuery: z.object({
    kind: z.string().max(40).optional(),
    person: z.string().max(320).optional(),
    since: z.string().max(40).optional(),
    until: z.string().max(40).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  }),
};

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new AppError('invalid_input', `${issue.path.join('.') || 'input'}: ${issue.message}`, { field: issue.path.join('.') || undefined });
  }
  return result.data;
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

function timeParam(text: string | undefined, name: string): number | undefined {
  if (!text) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new AppError('invalid_input', `${name} must be a date or time, got "${text}"`, { field: name });
  return ms;
}

/**
 * The Okta connection as the console needs it. Provided by the composition root (app.ts) from the
 * Okta edge, so the two edges stay independent.
 */
export interface OktaConnectionControls {
  status(options: { check: boolean }): Promise<{ connection: object } & Record<string, unknown>>;
  configure(input: { domain: string; token: string }, actor: Actor): Promise<unknown>;
}

export function createAdminApi(deps: {
  services: Services;
  okta: OktaConnectionControls;
  sessions: ConsoleSessions;
  csrf: ReturnType<typeof createCsrf>;
  admins: AdminService;
  enrollmentMail: EnrollmentMail;
}): Middleware {
  const { services, sessions, csrf, admins, enrollmentMail, okta } = deps;
  const { config, store, clock, audit } = services;
  const actorOf = (ctx: Context) => adminActor(ctx.state.consoleSession!.identity.id);
  const scimUrl = `${config.publicUrl}/scim/v2`;

  const requireAdmin: Middleware = async (ctx, next) => {
    const session = await sessions.current(ctx);
    if (!session) return sendJsonError(ctx, new AppError('unauthenticated', 'sign in to the console first'));
    if (!session.identity.roles.includes(ADMIN_ROLE)) return sendJsonError(ctx, new AppError('forbidden', 'the admin console API is for administrators'));
    ctx.state.consoleSession = session;
    await next();
  };

  const csrfGuard = csrf.protect((ctx) => `console:${ctx.state.consoleSession!.key}`);
  const mutations: Middleware = async (ctx, next) => {
    if (ctx.method === 'GET' || ctx.method === 'HEAD') return next();
    await csrfGuard(ctx, async () => {
      try {
        if (ctx.method !== 'DELETE') await jsonBody('512kb')(ctx, next);
        else await next();
      } catch (error) {
        if (!isAppError(error)) throw error;
        sendJsonError(ctx, error);
      }
      // One line per console action, whatever its outcome; the domain adds the details.
      await audit.record({
        kind: 'admin',
        action: 'console.request',
        actor: actorOf(ctx),
        target: null,
        outcome: ctx.status < 400 ? 'success' : 'failure',
        detail: { method: ctx.method, route: ctx._matchedRoute ?? ctx.path, status: ctx.status },
      });
    });
  };

  function describeApp(app: AppRecord) {
    return {
      id: app.id,
      kind: app.kind,
      name: app.name,
      redirectUris: app.redirectUris,
      oktaDomain: app.oktaDomain,
      loginUrl: app.loginUrl,
      iconDataUri: app.iconDataUri,
      assignedGroupIds: app.assignedGroupIds,
      createdAt: iso(app.createdAt),
    };
  }

  function describeIdentity(identity: IdentityRecord & { enrollmentStatus?: string }) {
    return {
      id: identity.id,
      userName: identity.userName,
      email: identity.email,
      givenName: identity.givenName,
      familyName: identity.familyName,
      displayName: identity.displayName,
      name: displayNameOf(identity),
      externalId: identity.externalId,
      scimManaged: identity.externalId !== null,
      active: identity.active,
      roles: identity.roles,
      enrollmentStatus: identity.enrollmentStatus,
      createdAt: iso(identity.createdAt),
      updatedAt: iso(identity.updatedAt),
    };
  }

  async function groupNames(ids: string[]) {
    const groups = await Promise.all(ids.map((id) => store.groups.get(id)));
    return groups.filter((group) => group !== null).map((group) => ({ id: group!.id, displayName: group!.displayName }));
  }

  const router = new Router({ prefix: '/admin/api' });
  router.use(requireAdmin, mutations);

  router.get('/session', async (ctx) => {
    const me = ctx.state.consoleSession!.identity;
    ctx.body = {
      me: describeIdentity(me),
      orgName: config.orgName,
      issuer: config.issuer,
      scimUrl,
      readiness: await admins.readiness(),
    };
  });

  // ------------------------------------------------------------------ applications
  router.get('/apps', async (ctx) => {
    ctx.body = { items: (await services.apps.list()).map(describeApp) };
  });

  router.post('/apps', async (ctx) => {
    const input = parse(schemas.createApp, ctx.request.body);
    const actor = actorOf(ctx);
    if (input.kind === 'bookmark') {
      ctx.status = 201;
      ctx.body = { app: describeApp(await services.apps.createBookmark({ name: input.name, loginUrl: input.loginUrl }, actor)) };
      return;
    }
    const created =
      input.kind === 'okta'
        ? await services.apps.createOktaApp({ oktaDomain: input.oktaDomain, name: input.name, customDomain: input.customDomain || undefined }, actor)
        : await services.apps.createOidcApp({ name: input.name, redirectUris: input.redirectUris }, actor);
    ctx.status = 201;
    // Shown once here; afterwards only on a deliberate (audited) reveal.
    ctx.body = { app: describeApp(created.app), clientSecret: created.clientSecret };
  });

  async function visibleApp(id: string): Promise<AppRecord> {
    const app = (await services.apps.list()).find((candidate) => candidate.id === id);
    if (!app) throw new AppError('not_found', `no app with id "${id}"`);
    return app;
  }

  router.get('/apps/:id', async (ctx) => {
    const app = await visibleApp(ctx.params.id);
    ctx.body = {
      app: describeApp(app),
      assignedGroups: await groupNames(app.assignedGroupIds),
      ...(app.kind === 'bookmark' ? {} : { endpoints: oidcEndpoints(config.issuer), scimUrl }),
    };
  });

  router.patch('/apps/:id', async (ctx) => {
    await visibleApp(ctx.params.id);
    const input = parse(schemas.renameApp, ctx.request.body);
    ctx.body = { app: describeApp(await services.apps.rename(ctx.params.id, input.name, actorOf(ctx))) };
  });

  router.post('/apps/:id/secret/reveal', async (ctx) => {
    const app = await visibleApp(ctx.params.id);
    const secret = services.apps.revealSecret(app);
    if (!secret) throw new AppError('invalid_input', 'a bookmark has no client secret');
    await audit.record({ kind: 'admin', action: 'app.reveal_secret', actor: actorOf(ctx), target: `app:${app.id}` });
    ctx.body = { clientSecret: secret };
  });

  router.post('/apps/:id/secret/rotate', async (ctx) => {
    await visibleApp(ctx.params.id);
    ctx.body = { clientSecret: await services.apps.rotateSecret(ctx.params.id, actorOf(ctx)) };
  });

  router.put('/apps/:id/assignments/:groupId', async (ctx) => {
    await visibleApp(ctx.params.id);
    const input = parse(schemas.assignment, ctx.request.body);
    const app = await services.apps.setAssignment(ctx.params.id, ctx.params.groupId, input.assigned, actorOf(ctx));
    ctx.body = { app: describeApp(app), assignedGroups: await groupNames(app.assignedGroupIds) };
  });

  router.put('/apps/:id/icon', async (ctx) => {
    await visibleApp(ctx.params.id);
    const input = parse(schemas.icon, ctx.request.body);
    const icon = await sanitiseTileIcon(input.dataUri);
    ctx.body = { app: describeApp(await services.apps.setIcon(ctx.params.id, icon, actorOf(ctx))) };
  });

  router.delete('/apps/:id', async (ctx) => {
    await visibleApp(ctx.params.id);
    await services.apps.remove(ctx.params.id, actorOf(ctx));
    ctx.status = 204;
  });

  // ------------------------------------------------------------------ SCIM bearer tokens
  router.get('/scim-tokens', async (ctx) => {
    const tokens = await services.scimTokens.list();
    ctx.body = { scimUrl, items: tokens.reverse().map((token) => ({ ...token, createdAt: iso(token.createdAt), expiresAt: iso(token.expiresAt), lastUsedAt: iso(token.lastUsedAt), revokedAt: iso(token.revokedAt) })) };
  });

  router.post('/scim-tokens', async (ctx) => {
    const input = parse(schemas.scimToken, ctx.request.body);
    const expiresAt = input.expiresInDays === null ? null : clock.now() + input.expiresInDays * DAY_MS;
    const { token, info } = await services.scimTokens.create({ name: input.name, expiresAt }, actorOf(ctx));
    ctx.status = 201;
    ctx.body = { token, info: { ...info, expiresAt: iso(info.expiresAt), createdAt: iso(info.createdAt) } };
  });

  router.post('/scim-tokens/:id/revoke', async (ctx) => {
    ctx.body = { info: await services.scimTokens.revoke(ctx.params.id, actorOf(ctx)) };
  });

  // ------------------------------------------------------------------ Okta registration attribute
  router.get('/okta', async (ctx) => {
    ctx.body = await okta.status({ check: false });
  });

  router.post('/okta', async (ctx) => {
    const input = parse(schemas.okta, ctx.request.body);
    ctx.body = await okta.configure(input, actorOf(ctx));
  });

  router.post('/okta/test', async (ctx) => {
    const status = await okta.status({ check: true });
    const check = (status.connection as { check?: { ok?: boolean } }).check;
    await audit.record({ kind: 'admin', action: 'okta.test', actor: actorOf(ctx), target: null, outcome: check?.ok ? 'success' : 'failure' });
    ctx.body = status;
  });

  // ------------------------------------------------------------------ identities
  router.get('/identities', async (ctx) => {
    const query = parse(schemas.identityQuery, ctx.query);
    const page = await services.identities.list({ search: query.search?.trim() || undefined, status: query.status, groupId: query.group || undefined, offset: query.offset, limit: query.limit });
    ctx.body = { total: page.total, offset: query.offset, limit: query.limit, items: page.items.map(describeIdentity) };
  });

  router.get('/identities/:id', async (ctx) => {
    const identity = await services.identities.require(ctx.params.id);
    const passkeys = await services.passkeys.listFor(identity.id);
    const invites = (await services.invites.list(identity.id)).sort((a, b) => b.createdAt - a.createdAt).slice(0, 5);
    ctx.body = {
      identity: describeIdentity({ ...identity, enrollmentStatus: await services.identities.status(identity.id) }),
      groups: await groupNames(await services.groups.groupIdsOf(identity.id)),
      passkeys: passkeys.map((passkey) => ({
        id: passkey.id,
        name: passkey.name,
        model: authenticatorModel(passkey.aaguid),
        aaguid: passkey.aaguid,
        synced: passkey.deviceType === 'multiDevice' || passkey.backedUp,
        deviceType: passkey.deviceType,
        backedUp: passkey.backedUp,
        createdAt: iso(passkey.createdAt),
        lastUsedAt: iso(passkey.lastUsedAt),
      })),
      invites: invites.map((invite) => ({ id: invite.id, delivery: invite.delivery, createdAt: iso(invite.createdAt), expiresAt: iso(invite.expiresAt), spentAt: iso(invite.spentAt), revokedAt: iso(invite.revokedAt), sendState: invite.sendState, sendError: invite.sendError })),
    };
  });

  router.patch('/identities/:id', async (ctx) => {
    const identity = await services.identities.require(ctx.params.id);
    const input = parse(schemas.profile, ctx.request.body);
    const profileChange = ['email', 'givenName', 'familyName', 'displayName'].some((key) => (input as Record<string, unknown>)[key] !== undefined);
    if (profileChange && identity.externalId !== null) {
      throw new AppError('forbidden', 'this profile is managed by Okta over SCIM: change it in Okta');
    }
    ctx.body = { identity: describeIdentity(await services.identities.update(identity.id, input, actorOf(ctx))) };
  });

  router.post('/identities/:id/passkeys/:passkeyId/revoke', async (ctx) => {
    const passkey = await services.passkeys.require(ctx.params.passkeyId);
    if (passkey.identityId !== ctx.params.id) throw new AppError('not_found', 'no such passkey for this identity');
    await services.passkeys.revoke(passkey.id, actorOf(ctx), { userAgent: ctx.get('user-agent') });
    ctx.body = { revoked: passkey.id };
  });

  router.post('/identities/:id/invite', async (ctx) => {
    const identity = await services.identities.require(ctx.params.id);
    const input = parse(schemas.invite, ctx.request.body);
    const ttlMs = input.ttlHours ? input.ttlHours * 3_600_000 : undefined;
    if (input.delivery === 'link') {
      const { url, invite } = await services.invites.issue(identity, { actor: actorOf(ctx), delivery: 'link', ttlMs });
      ctx.body = { url, expiresAt: iso(invite.expiresAt) };
      return;
    }
    const batch = await enrollmentMail.sendInvites({ identities: [identity], actor: actorOf(ctx), ttlMs });
    if (batch.refused.length > 0) throw new AppError('invalid_input', batch.refused[0].reason);
    ctx.body = { queued: true, to: identity.email, inviteId: batch.queued[0].invite.id, expiresAt: iso(batch.queued[0].invite.expiresAt) };
  });

  router.post('/invites/bulk', async (ctx) => {
    const input = parse(schemas.bulkInvite, ctx.request.body);
    const found = await Promise.all(input.identityIds.map((id) => store.identities.get(id)));
    const missing = input.identityIds.filter((_id, index) => !found[index]);
    const batch = await enrollmentMail.sendInvites({ identities: found.filter((identity) => identity !== null) as IdentityRecord[], actor: actorOf(ctx), ttlMs: input.ttlHours ? input.ttlHours * 3_600_000 : undefined });
    ctx.body = {
      results: [
        ...batch.queued.map(({ identity, invite }) => ({ identityId: identity.id, userName: identity.userName, email: identity.email, outcome: 'queued', inviteId: invite.id })),
        ...batch.refused.map(({ identity, reason }) => ({ identityId: identity.id, userName: identity.userName, email: identity.email, outcome: 'refused', reason })),
        ...missing.map((id) => ({ identityId: id, userName: null, email: null, outcome: 'refused', reason: 'no such identity' })),
      ],
    };
  });

  /** Progress of a bulk send: each invitation's send state (queued, sent, failed). */
  router.get('/invites/status', async (ctx) => {
    const { ids } = parse(schemas.inviteIds, ctx.query);
    const list = ids.split(',').filter(Boolean).slice(0, 1000);
    const invites = await Promise.all(list.map((id) => store.invites.get(id)));
    ctx.body = { items: invites.filter((invite) => invite !== null).map((invite) => ({ id: invite!.id, identityId: invite!.identityId, sendState: invite!.sendState, sendError: invite!.sendError })) };
  });

  // ------------------------------------------------------------------ groups
  router.get('/groups', async (ctx) => {
    const query = parse(schemas.groupQuery, ctx.query);
    const page = await services.groups.list({ search: query.search?.trim() || undefined, offset: query.offset, limit: query.limit });
    const counts = await services.groups.memberCounts(page.items.map((group) => group.id));
    const items = page.items.map((group) => ({ id: group.id, displayName: group.displayName, externalId: group.externalId, scimManaged: group.externalId !== null, members: counts.get(group.id) ?? 0, createdAt: iso(group.createdAt) }));
    ctx.body = { total: page.total, items };
  });

  router.get('/groups/:id', async (ctx) => {
    const group = await services.groups.require(ctx.params.id);
    const memberIds = await services.groups.members(group.id);
    const members = (await Promise.all(memberIds.slice(0, 500).map((id) => store.identities.get(id)))).filter((identity) => identity !== null) as IdentityRecord[];
    const apps = (await services.apps.list()).filter((app) => app.assignedGroupIds.includes(group.id));
    ctx.body = {
      group: { id: group.id, displayName: group.displayName, externalId: group.externalId, scimManaged: group.externalId !== null, createdAt: iso(group.createdAt) },
      total: memberIds.length,
      members: await (async () => {
        const statuses = await store.identities.statuses(members.map((member) => member.id), clock.now());
        return members.map((member) => describeIdentity({ ...member, enrollmentStatus: statuses.get(member.id) ?? 'unenrolled' }));
      })(),
      apps: apps.map((app) => ({ id: app.id, name: app.name, kind: app.kind })),
    };
  });

  // ------------------------------------------------------------------ audit log
  router.get('/audit', async (ctx) => {
    const query = parse(schemas.auditQuery, ctx.query);
    const names = new Map<string, string>();
    let person: string | undefined;
    if (query.person?.trim()) {
      const identity = await store.identities.getByUserName(query.person.trim()) ?? (await store.identities.get(query.person.trim()));
      if (!identity) throw new AppError('not_found', `no identity "${query.person}"`, { field: 'person' });
      person = `identity:${identity.id}`;
    }
    const base = { kind: query.kind || undefined, since: timeParam(query.since, 'since'), until: timeParam(query.until, 'until'), limit: query.limit };
    // A person's events: what they did (actor) and what was done to them (target).
    const events = person
      ? [...(await audit.list({ ...base, actor: person })), ...(await audit.list({ ...base, target: person }))]
          .filter((event, index, all) => all.findIndex((other) => other.id === event.id) === index)
          .sort((a, b) => b.at - a.at)
          .slice(0, query.limit)
      : await audit.list(base);
    for (const app of await store.apps.list()) names.set(`app:${app.id}`, app.name);
    for (const token of await services.scimTokens.list()) names.set(`scim-token:${token.id}`, `SCIM token “${token.name}”`);
    for (const ref of new Set(events.map((event) => event.target ?? '').filter((ref) => ref.startsWith('group:')))) {
      const group = await store.groups.get(ref.slice('group:'.length));
      if (group) names.set(ref, group.displayName);
    }
    const actorIds = [...new Set(events.flatMap((event) => [event.actor, event.target ?? '']).filter((ref) => ref.startsWith('identity:')).map((ref) => ref.slice('identity:'.length)))];
    for (const id of actorIds) {
      const identity = await store.identities.get(id);
      if (identity) names.set(`identity:${id}`, identity.userName);
    }
    ctx.body = { items: events.map((event) => ({ ...event, at: iso(event.at), actorName: names.get(event.actor) ?? null, targetName: event.target ? (names.get(event.target) ?? null) : null })) };
  });

  const routes = router.routes() as Middleware;
  return async (ctx: Context, next: Next) => {
    if (!ctx.path.startsWith('/admin/api/') && ctx.path !== '/admin/api') return next();
    await routes(ctx, async () => {
      sendJsonError(ctx, new AppError('not_found', `no console API ${ctx.method} ${ctx.path}`));
    });
  };
}
