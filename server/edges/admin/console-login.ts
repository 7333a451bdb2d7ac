/**
 * Signing in to the console (/admin) and the dashboard (/) through Latchkey's own OIDC login:
 * the pages are an ordinary relying party of the provider (client INTERNAL_APP_ID).
 * - authorization code flow with PKCE (S256), state and nonce; the three values wait in a signed,
 *   HttpOnly cookie for the callback (RFC 9700 §2.1.1, §4.5.3);
 * - the code is exchanged with openid-client against this server's own socket address (the
 *   address the request arrived on) with the issuer's Host, so it works behind a load balancer
 *   that the server itself cannot reach by its public name; the ID token is validated as any RP
 *   would (signature by the JWKS, iss, aud, nonce, exp);
 * - the console's redirect URI is only granted to admins (apps.isAssigned), and the callback
 *   checks the role again before opening a console session.
 */
import { request } from 'node:http';
import type { Context } from 'koa';
import * as client from 'openid-client';
import type { Services } from '../../bootstrap.ts';
import { ADMIN_ROLE, INTERNAL_APP_ID, consoleRedirectUri, dashboardRedirectUri } from '../../domain/apps.ts';
import { oidcEndpoints } from '../../http/endpoints.ts';
import { renderErrorPage } from '../../http/errors.ts';
import type { ConsoleSessions } from './console-session.ts';
import { adminActor, selfActor } from '../../domain/actor.ts';

const FLOW_COOKIE = 'lk_console_flow';
export type LoginTarget = 'console' | 'dashboard';

/** A fetch that sends every request to the socket this request arrived on, keeping the issuer's Host. */
function loopbackFetch(ctx: Context): typeof fetch {
  const address = (ctx.req.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  const port = ctx.req.socket.localPort;
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const body = init.body === undefined || init.body === null ? undefined : String(init.body);
    return new Promise<Response>((resolve, reject) => {
      const outgoing = request(
        { host: address, port, method: init.method ?? 'GET', path: url.pathname + url.search, headers: { ...headers, host: url.host, 'x-forwarded-proto': url.protocol.replace(':', '') } },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('end', () => {
            const responseHeaders = new Headers();
            for (const [name, value] of Object.entries(incoming.headers)) {
              if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
            }
            resolve(new Response(Buffer.concat(chunks), { status: incoming.statusCode ?? 500, headers: responseHeaders }));
          });
          incoming.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.setTimeout(10_000, () => outgoing.destroy(new Error('token exchange timed out')));
      if (body) outgoing.write(body);
      outgoing.end();
    });
  }) as typeof fetch;
}

export function createConsoleLogin(services: Services, sessions: ConsoleSessions) {
  const { config, apps, sealer, store, audit } = services;
  const secure = config.publicUrl.startsWith('https://');
  const endpoints = oidcEndpoints(config.issuer);

  async function configurationFor(ctx: Context): Promise<client.Configuration> {
    const app = await apps.require(INTERNAL_APP_ID);
    const secret = sealer.open(app.clientSecretEnc!);
    const configuration = new client.Configuration(
      {
        issuer: config.issuer,
        authorization_endpoint: endpoints.authorization_endpoint,
        token_endpoint: endpoints.token_endpoint,
        jwks_uri: endpoints.jwks_uri,
        userinfo_endpoint: endpoints.userinfo_endpoint,
        id_token_signing_alg_values_supported: ['RS256'],
      },
      INTERNAL_APP_ID,
      { client_secret: secret },
      client.ClientSecretBasic(secret),
    );
    configuration[client.customFetch] = loopbackFetch(ctx) as never;
    if (!secure) client.allowInsecureRequests(configuration);
    return configuration;
  }

  const redirectUriFor = (target: LoginTarget) => (target === 'console' ? consoleRedirectUri(config.publicUrl) : dashboardRedirectUri(config.publicUrl));

  /** GET /admin/login, /login: starts the code flow. */
  async function begin(ctx: Context, target: LoginTarget): Promise<void> {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const configuration = await configurationFor(ctx);
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: redirectUriFor(target),
      scope: 'openid email profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      prompt: 'login',
    });
    ctx.cookies.set(FLOW_COOKIE, JSON.stringify({ verifier, state, nonce, target }), { httpOnly: true, sameSite: 'lax', secure, path: '/', signed: true, maxAge: 15 * 60_000, overwrite: true });
    // The URL we hand out is the issuer's; the browser follows it like any RP's.
    ctx.redirect(url.href);
  }

  /** GET /admin/callback, /callback: exchanges the code, then opens a session. */
  async function finish(ctx: Context, target: LoginTarget): Promise<void> {
    const home = target === 'console' ? '/admin' : '/';
    const raw = ctx.cookies.get(FLOW_COOKIE, { signed: true });
    ctx.cookies.set(FLOW_COOKIE, '', { httpOnly: true, sameSite: 'lax', secure, path: '/', expires: new Date(0), signed: true, overwrite: true });
    if (ctx.query.error) {
      const refused = ctx.query.error === 'access_denied';
      renderErrorPage(
        ctx,
        config.orgName,
        403,
        refused && target === 'console' ? 'The admin console is for administrators' : 'Sign-in did not complete',
        refused && target === 'console'
          ? 'You signed in, but your account does not have the admin role. Ask an administrator to run `latchkey admins add` for you.'
          : String(ctx.query.error_description ?? ctx.query.error),
      );
      return;
    }
    let flow: { verifier: string; state: string; nonce: string; target: LoginTarget };
    try {
      flow = JSON.parse(raw ?? '');
    } catch {
      renderErrorPage(ctx, config.orgName, 400, 'Sign-in expired', `This sign-in was started in another browser or took too long. Go to ${home} and sign in again.`);
      return;
    }
    let sub: string;
    try {
      const tokens = await client.authorizationCodeGrant(await configurationFor(ctx), new URL(ctx.originalUrl, config.publicUrl), {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
      sub = tokens.claims()!.sub;
    } catch (error) {
      ctx.state.loginError = error;
      renderErrorPage(ctx, config.orgName, 400, 'Sign-in could not be completed', 'The sign-in response was not valid. Go back and sign in again.');
      return;
    }
    const identity = await store.identities.get(sub);
    if (!identity?.active) {
      renderErrorPage(ctx, config.orgName, 403, 'Account deactivated', 'Your account is deactivated. Contact your administrator.');
      return;
    }
    if (target === 'console' && !identity.roles.includes(ADMIN_ROLE)) {
      renderErrorPage(ctx, config.orgName, 403, 'The admin console is for administrators', 'Your account does not have the admin role.');
      return;
    }
    await sessions.start(ctx, identity.id);
    await audit.record({ kind: target === 'console' ? 'admin' : 'auth', action: `${target}.signin`, actor: target === 'console' ? adminActor(identity.id) : selfActor(identity.id), target: null });
    ctx.redirect(home);
  }

  return { begin, finish };
}
