/** Applications: list, create (Okta, OIDC, bookmark), rename, secrets, assignments, tile icon, delete. */
import { z } from 'zod';
import { AppError } from '../../../domain/errors.ts';
import type { ClientInput } from '../../../domain/apps.ts';
import type { ClientAuthInput } from '../../../domain/client-auth.ts';
import type { AppRecord } from '../../../ports/storage.ts';
import { unreachableFromOkta } from '../../../domain/public-url.ts';
import { oidcEndpoints } from '../../../http/endpoints.ts';
import { sanitiseTileIcon } from '../../../images/tile-icons.ts';
import { describeApp, type AppDetailView, type AppView, type NamedRef } from '../views.ts';
import { actorOf, parse, type AdminRouteDeps, type AdminRouter } from './context.ts';

/** Client authentication and logout settings, shared by create and configure; the domain validates the values. */
const clientSettings = {
  tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'private_key_jwt']).optional(),
  jwks: z.union([z.string().max(100_000), z.object({ keys: z.array(z.record(z.string(), z.unknown())).max(20) })]).optional(),
  jwksUri: z.string().max(2000).optional(),
  postLogoutRedirectUris: z.array(z.string().min(1).max(2000)).max(20).optional(),
};

function clientInput(input: { tokenEndpointAuthMethod?: string; jwks?: unknown; jwksUri?: string; postLogoutRedirectUris?: string[] }): ClientInput {
  const auth: ClientAuthInput | undefined = input.tokenEndpointAuthMethod
    ? { method: input.tokenEndpointAuthMethod === 'private_key_jwt' ? 'private_key_jwt' : 'client_secret', jwks: input.jwks || undefined, jwksUri: input.jwksUri || undefined }
    : undefined;
  return { auth, postLogoutRedirectUris: input.postLogoutRedirectUris };
}

const schemas = {
  createApp: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('okta'), oktaDomain: z.string().min(1).max(300), name: z.string().trim().min(1).max(100).optional(), customDomain: z.string().max(300).optional(), ...clientSettings }),
    z.object({ kind: z.literal('oidc'), name: z.string().trim().min(1).max(100), redirectUris: z.array(z.string().min(1).max(2000)).min(1).max(20), ...clientSettings }),
    z.object({ kind: z.literal('bookmark'), name: z.string().trim().min(1).max(100), loginUrl: z.string().min(1).max(2000) }),
  ]),
  renameApp: z.object({ name: z.string().trim().min(1).max(100) }),
  configureClient: z.object(clientSettings),
  assignment: z.object({ assigned: z.boolean() }),
  icon: z.object({ dataUri: z.string().max(400_000) }),
};

export function registerAppRoutes(router: AdminRouter, deps: AdminRouteDeps): void {
  const { services, scimUrl } = deps;
  const { config, store, audit } = services;

  async function groupNames(ids: string[]): Promise<NamedRef[]> {
    const groups = await Promise.all(ids.map((id) => store.groups.get(id)));
    return groups.filter((group) => group !== null).map((group) => ({ id: group!.id, displayName: group!.displayName }));
  }

  async function visibleApp(id: string): Promise<AppRecord> {
    const app = (await services.apps.list()).find((candidate) => candidate.id === id);
    if (!app) throw new AppError('not_found', `no app with id "${id}"`);
    return app;
  }

  router.get('/apps', async (ctx) => {
    ctx.body = { items: (await services.apps.list()).map(describeApp) } satisfies { items: AppView[] };
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
        ? await services.apps.createOktaApp({ oktaDomain: input.oktaDomain, name: input.name, customDomain: input.customDomain || undefined, ...clientInput(input) }, actor)
        : await services.apps.createOidcApp({ name: input.name, redirectUris: input.redirectUris, ...clientInput(input) }, actor);
    ctx.status = 201;
    // Shown once here; afterwards only on a deliberate (audited) reveal.
    ctx.body = { app: describeApp(created.app), clientSecret: created.clientSecret };
  });

  router.get('/apps/:id', async (ctx) => {
    const app = await visibleApp(ctx.params.id);
    ctx.body = {
      app: describeApp(app),
      assignedGroups: await groupNames(app.assignedGroupIds),
      ...(app.kind === 'bookmark' ? {} : { endpoints: oidcEndpoints(config.issuer), scimUrl, reachability: unreachableFromOkta(config.publicUrl) }),
    } satisfies AppDetailView;
  });

  router.patch('/apps/:id', async (ctx) => {
    await visibleApp(ctx.params.id);
    const input = parse(schemas.renameApp, ctx.request.body);
    ctx.body = { app: describeApp(await services.apps.rename(ctx.params.id, input.name, actorOf(ctx))) };
  });

  // Client authentication (client secret or private_key_jwt) and post-logout redirect URIs.
  router.put('/apps/:id/client', async (ctx) => {
    await visibleApp(ctx.params.id);
    const input = parse(schemas.configureClient, ctx.request.body);
    const { app, clientSecret } = await services.apps.configureClient(ctx.params.id, clientInput(input), actorOf(ctx));
    ctx.body = { app: describeApp(app), ...(clientSecret ? { clientSecret } : {}) };
  });

  router.post('/apps/:id/secret/reveal', async (ctx) => {
    const app = await visibleApp(ctx.params.id);
    const secret = services.apps.revealSecret(app);
    if (!secret) throw new AppError('invalid_input', 'this app has no client secret (a bookmark, or a client that authenticates with private_key_jwt)');
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
}
