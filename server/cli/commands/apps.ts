import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { AppRecord } from '../../ports/storage.ts';
import { oidcEndpoints } from '../../http/endpoints.ts';
import { CLI_ACTOR, iso, print, services } from '../context.ts';
import { AppError } from '../../domain/errors.ts';
import type { ClientAuthInput } from '../../domain/client-auth.ts';

interface ClientOptions {
  auth?: string;
  jwksUri?: string;
  jwksFile?: string;
  postLogoutRedirectUri?: string[];
}

/** --auth client-secret|private-key-jwt with --jwks-uri or --jwks-file (the client's public JWKS). */
function clientAuthOf(options: ClientOptions): ClientAuthInput | undefined {
  if (!options.auth && !options.jwksUri && !options.jwksFile) return undefined;
  const method = options.auth ?? 'private-key-jwt';
  if (method !== 'client-secret' && method !== 'private-key-jwt') throw new AppError('invalid_input', `--auth must be client-secret or private-key-jwt, got "${method}"`);
  if (method === 'client-secret') return { method: 'client_secret', jwksUri: options.jwksUri, jwks: options.jwksFile ? readJwksFile(options.jwksFile) : undefined };
  return { method: 'private_key_jwt', jwksUri: options.jwksUri, jwks: options.jwksFile ? readJwksFile(options.jwksFile) : undefined };
}

function readJwksFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new AppError('invalid_input', `cannot read --jwks-file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function clientOptions(command: Command): Command {
  return command
    .option('--auth <method>', 'client authentication: client-secret (default) or private-key-jwt')
    .option('--jwks-uri <url>', "private-key-jwt: where the client's public JWKS is published")
    .option('--jwks-file <path>', "private-key-jwt: a file holding the client's public JWKS (JSON)")
    .option('--post-logout-redirect-uri <uri...>', 'where RP-initiated logout may return (exact match)');
}

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
    post_logout_redirect_uris: app.postLogoutRedirectUris,
    token_endpoint_auth_method: app.clientAuth.method === 'private_key_jwt' ? 'private_key_jwt' : 'client_secret_basic',
    ...(app.clientAuth.method === 'private_key_jwt' ? (app.clientAuth.jwksUri ? { jwks_uri: app.clientAuth.jwksUri } : { jwks: app.clientAuth.jwks }) : {}),
    okta_domain: app.oktaDomain,
    assigned_group_ids: app.assignedGroupIds,
    created_at: iso(app.createdAt),
  };
}

export function registerAppCommands(program: Command): void {
  const apps = program.command('apps').description('Applications that sign people in with Latchkey');

  clientOptions(
    apps
      .command('create-okta')
      .description("Create the Okta app: prints what to paste into Okta's Add identity provider form")
      .requiredOption('--okta-domain <url>', 'the Okta org URL, e.g. https://dev-123456.okta.com')
      .option('--name <name>', 'display name', 'Okta')
      .option('--custom-domain <url>', "the org's custom domain, if Okta is reached through one"),
  ).action(async (options: ClientOptions & { oktaDomain: string; name: string; customDomain?: string }) => {
      const svc = await services();
      const { app, clientSecret } = await svc.apps.createOktaApp(
        { oktaDomain: options.oktaDomain, name: options.name, customDomain: options.customDomain, auth: clientAuthOf(options), postLogoutRedirectUris: options.postLogoutRedirectUri },
        CLI_ACTOR,
      );
      print(describeApp(app, svc.config.issuer, clientSecret));
    });

  clientOptions(
    apps
      .command('create-oidc')
      .description('Create a generic OpenID Connect app')
      .requiredOption('--name <name>', 'display name')
      .requiredOption('--redirect-uri <uri...>', 'allowed redirect URIs (exact match)'),
  ).action(async (options: ClientOptions & { name: string; redirectUri: string[] }) => {
      const svc = await services();
      const { app, clientSecret } = await svc.apps.createOidcApp(
        { name: options.name, redirectUris: options.redirectUri, auth: clientAuthOf(options), postLogoutRedirectUris: options.postLogoutRedirectUri },
        CLI_ACTOR,
      );
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

  clientOptions(
    apps
      .command('configure <client_id>')
      .description('Change client authentication (a new secret is printed once when switching to client-secret) or post-logout redirect URIs'),
  ).action(async (clientId: string, options: ClientOptions) => {
    const svc = await services();
    const { app, clientSecret } = await svc.apps.configureClient(clientId, { auth: clientAuthOf(options), postLogoutRedirectUris: options.postLogoutRedirectUri }, CLI_ACTOR);
    print(describeApp(app, svc.config.issuer, clientSecret ?? undefined));
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
