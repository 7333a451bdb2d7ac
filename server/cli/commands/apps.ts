import type { Command } from 'commander';
import type { AppRecord } from '../../ports/storage.ts';
import { oidcEndpoints } from '../../http/endpoints.ts';
import { CLI_ACTOR, iso, print, services } from '../context.ts';

function describeApp(app: AppRecord, issuer: string, clientSecret?: string | null) {
  if (app.kind === 'bookmark') {
    return { id: app.id, kind: app.kind, name: app.name, login_url: app.loginUrl, assigned_group_ids: app.assignedGroupIds, created_at: iso(app.createdAt) };
  }
  const { discovery_url, ...endpoints } = oidcEndpoints(issuer);
  return {
    kind: app.kind,
    name: app.name,
    client_id: app.id,
    ...(clientSecret !== undefined ? { client_secret: clientSecret } : {}),
    ...endpoints,
    discovery_url,
    redirect_uris: app.redirectUris,
    okta_domain: app.oktaDomain,
    assigned_group_ids: app.assignedGroupIds,
    created_at: iso(app.createdAt),
  };
}

export function registerAppCommands(program: Command): void {
  const apps = program.command('apps').description('Applications that sign people in with Latchkey');

  apps
    .command('create-okta')
    .description("Create the Okta app: prints what to paste into Okta's Add identity provider form")
    .requiredOption('--okta-domain <url>', 'the Okta org URL, e.g. https://dev-123456.okta.com')
    .option('--name <name>', 'display name', 'Okta')
    .option('--custom-domain <url>', "the org's custom domain, if Okta is reached through one")
    .action(async (options: { oktaDomain: string; name: string; customDomain?: string }) => {
      const svc = await services();
      const { app, clientSecret } = await svc.apps.createOktaApp({ oktaDomain: options.oktaDomain, name: options.name, customDomain: options.customDomain }, CLI_ACTOR);
      print(describeApp(app, svc.config.issuer, clientSecret));
    });

  apps
    .command('create-oidc')
    .description('Create a generic OpenID Connect app')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--redirect-uri <uri...>', 'allowed redirect URIs (exact match)')
    .action(async (options: { name: string; redirectUri: string[] }) => {
      const svc = await services();
      const { app, clientSecret } = await svc.apps.createOidcApp({ name: options.name, redirectUris: options.redirectUri }, CLI_ACTOR);
      print(describeApp(app, svc.config.issuer, clientSecret));
    });

  apps
    .command('list')
    .description('List apps (secrets are not shown)')
    .action(async () => {
      const svc = await services();
      print((await svc.apps.list()).map((app) => describeApp(app, svc.config.issuer)));
    });

  apps
    .command('show <client_id>')
    .description('Show one app')
    .option('--reveal-secret', 'include the client secret')
    .action(async (clientId: string, options: { revealSecret?: boolean }) => {
      const svc = await services();
      const app = await svc.apps.require(clientId);
      print(describeApp(app, svc.config.issuer, options.revealSecret ? svc.apps.revealSecret(app) : undefined));
    });

  apps
    .command('rotate-secret <client_id>')
    .description('Replace the client secret (update it in Okta right after)')
    .action(async (clientId: string) => {
      const svc = await services();
      const clientSecret = await svc.apps.rotateSecret(clientId, CLI_ACTOR);
      print({ client_id: clientId, client_secret: clientSecret });
    });

  for (const [name, assigned] of [['assign', true], ['unassign', false]] as const) {
    apps
      .command(`${name} <client_id>`)
      .description(assigned ? 'Let the members of a group sign in to the app' : 'Remove a group assignment')
      .requiredOption('--group <name>', 'group display name or id')
      .action(async (clientId: string, options: { group: string }) => {
        const svc = await services();
        const group = await svc.groups.resolve(options.group);
        const app = await svc.apps.setAssignment(clientId, group.id, assigned, CLI_ACTOR);
        print({ client_id: app.id, assigned_groups: await Promise.all(app.assignedGroupIds.map(async (id) => ({ id, display_name: (await svc.store.groups.get(id))?.displayName ?? null }))) });
      });
  }

  apps
    .command('delete <client_id>')
    .description('Delete an app')
    .action(async (clientId: string) => {
      const svc = await services();
      await svc.apps.remove(clientId, CLI_ACTOR);
      print({ deleted: clientId });
    });
}
