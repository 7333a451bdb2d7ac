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
import Provider from 'oidc-provider';

export async function startBareProvider(redirectUri: string, port = 0, clientSecret = randomBytes(32).toString('base64url')) {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const issuer = `http://localhost:${(server.address() as AddressInfo).port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cookieKeys = [randomBytes(32).toString('base64url')];
  const client = { client_id: 'bare', client_secret: clientSecret, redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] } as const;
  const provider = new Provider(issuer, {
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
  app.use(async (ctx, next) => {
    const match = /^\/interaction\/([^/]+)$/.exec(ctx.path);
    if (!match) return next();
    ctx.respond = false;
    await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: `person-${randomBytes(4).toString('hex')}` } }, { mergeWithLastSubmission: false });
  });
  app.use(mount(provider as never));
  server.on('request', app.callback());
  return {
    issuer,
    client,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
