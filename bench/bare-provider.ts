/**
 * The library's floor: a bare oidc-provider (its own in-memory adapter, one static client) whose
 * login interaction is finished programmatically, with no page, no passkey and no store. The same
 * code flow against it measures what oidc-provider itself costs on this machine.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Koa from 'koa';
import mount from 'koa-mount';
import Provider, { type Configuration } from 'oidc-provider';

export interface BareServer {
  issuer: string;
  close(): Promise<void>;
}

export interface BareOptions {
  /** Replaces the library's in-memory store. */
  adapter?: Configuration['adapter'];
  /** Adds routes that run before the provider (the interaction's). */
  routes(app: Koa, provider: Provider, issuer: string): void;
}

/**
 * The provider both floors run: RS256 ID tokens, one confidential client, claims computed from
 * the subject (no account store), grants given without a consent step.
 */
export async function startBareServer(redirectUri: string, port: number, clientSecret: string, { adapter, routes }: BareOptions): Promise<BareServer> {
  const server: Server = createServer();
  // As Latchkey's KEEP_ALIVE_TIMEOUT default: the load generator's idle connections between rounds stay usable.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const issuer = `http://localhost:${(server.address() as AddressInfo).port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cookieKeys = [randomBytes(32).toString('base64url')];
  const client = { client_id: 'bare', client_secret: clientSecret, redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] } as const;
  const provider = new Provider(issuer, {
    ...(adapter ? { adapter } : {}),
    clients: [client],
    cookies: { keys: cookieKeys },
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'bare', alg: 'RS256', use: 'sig' }] as never },
    features: { devInteractions: { enabled: false } },
    routes: { authorization: '/authorize', userinfo: '/userinfo', token: '/token', jwks: '/jwks' },
    ttl: { AccessToken: 3600, IdToken: 3600, AuthorizationCode: 60, Interaction: 3600, Session: 28800, Grant: 28800 },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'given_name', 'family_name', 'preferred_username'] },
    conformIdTokenClaims: false,
    findAccount: async (_ctx, sub) => ({
      accountId: sub,
      claims: async () => ({ sub, email: `${sub}@example.com`, email_verified: true, name: 'Bench Person', given_name: 'Bench', family_name: 'Person', preferred_username: sub }),
    }),
    loadExistingGrant: async (ctx) => {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  });
  const app = new Koa();
  app.keys = cookieKeys;
  routes(app, provider, issuer);
  app.use(mount(provider as never));
  server.on('request', app.callback());
  return {
    issuer,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export async function startBareProvider(redirectUri: string, port = 0, clientSecret = randomBytes(32).toString('base64url')) {
  return startBareServer(redirectUri, port, clientSecret, {
    routes(app, provider) {
      app.use(async (ctx, next) => {
        if (!/^\/interaction\/[^/]+$/.test(ctx.path)) return next();
        ctx.respond = false;
        await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: `person-${randomBytes(4).toString('hex')}` } }, { mergeWithLastSubmission: false });
      });
    },
  });
}
