/**
 * The OpenID Connect provider (oidc-provider), configured for what Okta as an "OpenID Connect IdP"
 * needs and nothing more:
 * - authorization code flow only; PKCE S256 honoured whenever sent, `plain` refused (by the
 *   library), PKCE optional because Okta sends it only when the admin enables it;
 * - client_secret_basic and client_secret_post, or private_key_jwt (RFC 7523) with the app's public
 *   JWKS or jwks_uri; exact redirect URI and post-logout redirect URI matching;
 * - signed request objects (OIDC Core §6.1), which Okta sends by default (HS256, client secret);
 * - RS256 ID tokens carrying the profile claims Okta maps (conformIdTokenClaims off), the nonce,
 *   auth_time and the amr of the passkey login;
 * - no consent screen: a grant is made for assigned apps, and refused (access_denied) for anyone
 *   not assigned or deactivated, on every authorization, including silent SSO ones (checked at
 *   the passkey step for a fresh sign-in, here for every other);
 * - keys from the store (never the library's development keys); cookies signed with our keys.
 */
import { Provider, errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Services } from '../../bootstrap.ts';
import type { AppRecord } from '../../ports/storage.ts';
import { TOKEN_LIFETIME_MS } from '../../bootstrap.ts';
import { displayNameOf } from '../../domain/identities.ts';
import { isAppError } from '../../domain/errors.ts';
import { CLIENT_ASSERTION_ALGS } from '../../domain/client-auth.ts';
import { isLoopbackHost } from '../../domain/apps.ts';
import { Html, html, renderPage } from '../../http/html.ts';
import { renderStoreUnavailable } from '../../http/errors.ts';
import { createModelAdapter } from './model-adapter.ts';
import { bindTokensToSigningKey } from './key-bound-tokens.ts';
import { OIDC_ROUTES } from '../../http/endpoints.ts';
import type { PrivateJwk } from '../../domain/signing-keys.ts';
import type { Logger } from '../../logger.ts';
import { selfActor } from '../../domain/actor.ts';


export const SUPPORTED_SCOPES = ['openid', 'email', 'profile'];

export interface ProviderOptions {
  services: Services;
  cookieKeys: string[];
  /** Published keys, the signing key first (oidc-provider signs with the first matching key). */
  signingKeys: PrivateJwk[];
  /** Whether tokens issued under this kid must now be refused (its key was revoked). */
  refusesKid: (kid: string) => Promise<boolean>;
  logger: Logger;
}

function clientMetadataFor(services: Services) {
  // oidc-provider looks the client up on every request: open each sealed secret once, not each time.
  const opened = new Map<string, string | null>();
  const secretOf = (app: AppRecord) => {
    const sealed = app.clientSecretEnc!;
    if (!opened.has(sealed)) {
      if (opened.size >= 256) opened.clear();
      opened.set(sealed, services.apps.revealSecret(app));
    }
    return opened.get(sealed)!;
  };
  return (app: AppRecord): Record<string, unknown> | null => {
    if (app.kind === 'bookmark') return null;
    const auth = app.clientAuth;
    let authentication: Record<string, unknown>;
    if (auth.method === 'private_key_jwt') {
      // RFC 7523 §3: oidc-provider checks iss = sub = client_id, aud, exp, and refuses a replayed jti.
      authentication = { token_endpoint_auth_method: 'private_key_jwt', ...(auth.jwks ? { jwks: auth.jwks } : { jwks_uri: auth.jwksUri }) };
    } else {
      if (!app.clientSecretEnc) return null;
      authentication = { token_endpoint_auth_method: 'client_secret_basic', client_secret: secretOf(app) };
    }
    return {
      client_id: app.id,
      client_name: app.name,
      redirect_uris: app.redirectUris,
      post_logout_redirect_uris: app.postLogoutRedirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      ...authentication,
      id_token_signed_response_alg: 'RS256',
      // Okta and the issue both expect auth_time in every ID token.
      require_auth_time: true,
    };
  };
}

/**
 * How long after the passkey step its may-sign-in check stands for the grant of the same
 * interaction (the resume follows it by one browser redirect). Deactivation still counts at once:
 * it removes the interaction carrying the login (indexed by its account, model-adapter.ts), and the
 * resume loads the account (findAccount refuses an inactive person) whatever this says. Removal
 * from the app's groups in that moment counts from the next authorization, as it would had the
 * check run a moment earlier.
 */
const PASSKEY_STEP_CHECK_MS = 60_000;

/**
 * True when this request resumes an interaction whose login the passkey step made (it alone sets
 * passkeyId, after domain/sign-ins.ts accepted the person for this client and redirect URI) for
 * this account within PASSKEY_STEP_CHECK_MS: the same check need not be read again. A silent
 * single sign-on has no such login, so every other authorization is checked here.
 */
function checkedAtPasskeyStep(ctx: KoaContextWithOIDC, accountId: string, now: number): boolean {
  const login = (ctx.oidc.result as { login?: { accountId?: unknown; passkeyId?: unknown; ts?: unknown } } | undefined)?.login;
  return !!login && login.accountId === accountId && typeof login.passkeyId === 'string' && typeof login.ts === 'number' && now - login.ts * 1000 <= PASSKEY_STEP_CHECK_MS;
}

export function createProvider(options: ProviderOptions): Provider {
  const { services, cookieKeys, signingKeys, refusesKid, logger } = options;
  const { config, store, clock } = services;
  const secureCookies = config.publicUrl.startsWith('https://');
  const sessionTtlSeconds = Math.round(config.sessionTtlMs / 1000);

  const configuration: Configuration = {
    adapter: bindTokensToSigningKey(createModelAdapter({ store, clock, clientMetadata: clientMetadataFor(services) }), signingKeys[0].kid, refusesKid) as never,
    clients: [],
    jwks: { keys: signingKeys as never },
    cookies: {
      keys: cookieKeys,
      names: { session: 'lk_session', interaction: 'lk_interaction', resume: 'lk_interaction_resume' },
      long: { httpOnly: true, sameSite: 'lax', secure: secureCookies },
      short: { httpOnly: true, sameSite: 'lax', secure: secureCookies },
    },
    routes: OIDC_ROUTES,
    scopes: SUPPORTED_SCOPES,
    claims: {
      // amr rides with openid so Okta's "trust claims" finds it in every ID token (RFC 8176).
      openid: ['sub', 'amr'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username', 'locale', 'updated_at'],
    },
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256'],
      clientAuthSigningAlgValues: [...CLIENT_ASSERTION_ALGS],
      // Okta's IdP form defaults to a request object signed HS256 with the client secret
      // ("Request signature scope: Request"); RS* for IdPs given a private key.
      requestObjectSigningAlgValues: ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512'],
    },
    pkce: { required: () => false },
    clientBasedCORS: () => false,
    // Only what is supported and tested is enabled, so discovery advertises nothing else: no
    // refresh tokens (Okta does not use them; no offline_access scope), no PAR, no DPoP.
    // grant_types_supported is then exactly ["authorization_code"].
    features: {
      devInteractions: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      dPoP: { enabled: false },
      // OIDC Core §6.1: the `request` parameter, signed (unsigned request objects are refused).
      requestObjects: { enabled: true, requireSignedRequestObject: false },
      userinfo: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.type = 'html';
          ctx.body = renderPage({
            title: 'Sign out',
            orgName: config.orgName,
            body: html`<h1>Sign out</h1><p class="lead">Do you want to sign out of ${config.orgName}?</p>${new Html(form)}
              <div class="actions"><button class="primary" type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>
              <button type="submit" form="op.logoutForm">Stay signed in</button></div>`,
          });
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html';
          ctx.body = renderPage({ title: 'Signed out', orgName: config.orgName, body: html`<h1>You are signed out</h1><p class="lead">You can close this window.</p>` });
        },
      },
    },
    ttl: {
      AccessToken: TOKEN_LIFETIME_MS / 1000,
      IdToken: TOKEN_LIFETIME_MS / 1000,
      AuthorizationCode: 60,
      Interaction: 3600,
      Session: sessionTtlSeconds,
      Grant: sessionTtlSeconds,
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // oidc-provider fetches a client's jwks_uri only from public addresses (SSRF protection: the
    // URI could point into our network). Tests serve client keys on loopback, so NODE_ENV=test
    // alone lifts that for loopback hosts.
    ...(config.env === 'test'
      ? {
          fetch: (input: string | URL | Request, init?: RequestInit) => {
            const host = new URL(input instanceof Request ? input.url : input).hostname;
            return globalThis.fetch(input, isLoopbackHost(host) ? ({ ...init, dispatcher: undefined } as RequestInit) : init);
          },
        }
      : {}),

    async findAccount(ctx, sub) {
      const identity = await store.identities.get(sub);
      if (!identity || !identity.active) {
        // Resuming a sign-in the passkey step finished, for a person deactivated since: the app
        // gets access_denied. (Left without an account, oidc-provider's consent check would fail
        // on the missing grant with a server error.)
        if (ctx?.oidc?.route === 'resume') throw new errors.AccessDenied('the account is deactivated');
        // Elsewhere a deactivated or deleted person has no account: sessions, codes and tokens stop working.
        return undefined;
      }
      return {
        accountId: identity.id,
        async claims() {
          return {
            sub: identity.id,
            email: identity.email,
            email_verified: identity.emailVerified,
            name: displayNameOf(identity),
            given_name: identity.givenName ?? undefined,
            family_name: identity.familyName ?? undefined,
            preferred_username: identity.userName,
            locale: identity.locale ?? undefined,
            updated_at: Math.floor(identity.updatedAt / 1000),
          };
        },
      };
    },

    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const session = ctx.oidc.session!;
      const client = ctx.oidc.client!;
      const accountId = session.accountId!;
      if (!checkedAtPasskeyStep(ctx, accountId, clock.now())) {
        const subject = await store.identities.getWithGroupIds(accountId);
        if (!subject) throw new errors.AccessDenied('the account no longer exists');
        const { identity } = subject;
        const redirectUri = typeof ctx.oidc.params?.redirect_uri === 'string' ? ctx.oidc.params.redirect_uri : undefined;
        try {
          await services.apps.assertMaySignIn(client.clientId, identity, redirectUri, subject.groupIds);
        } catch (error) {
          if (!isAppError(error)) throw error;
          await services.audit.record({ kind: 'auth', action: 'signin.denied', actor: selfActor(identity.id), target: `app:${client.clientId}`, outcome: 'failure', detail: { reason: error.code } });
          throw new errors.AccessDenied(error.message);
        }
      }
      const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
      const grant = (grantId && (await ctx.oidc.provider.Grant.find(grantId))) || new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId });
      const requested = [...(ctx.oidc.requestParamScopes as Set<string>)].filter((scope) => SUPPORTED_SCOPES.includes(scope));
      grant.addOIDCScope(requested.join(' '));
      await grant.save();
      return grant;
    },

    async renderError(ctx, out, error) {
      // A storage outage mid-login: a clear "try again in a moment" (503), not a generic failure.
      if (store.unavailable(error)) {
        logger.warn({ requestId: ctx.state?.requestId, err: error }, 'store unavailable during sign-in');
        renderStoreUnavailable(ctx, config.orgName);
        return;
      }
      const status = (error as { statusCode?: number }).statusCode ?? ctx.status ?? 400;
      if (status >= 500) logger.error({ requestId: ctx.state?.requestId, err: error }, 'oidc error');
      ctx.type = 'html';
      ctx.body = renderPage({
        title: 'Sign-in could not continue',
        orgName: config.orgName,
        body: html`<h1>Sign-in could not continue</h1>
          <p class="lead">${out.error_description ?? 'The request was not valid.'}</p>
          <p class="muted">Error: <code>${out.error}</code>. Return to the application and start again; if this keeps happening, contact your administrator.</p>`,
      });
    },
  };

  const provider = new Provider(config.issuer, configuration);
  provider.proxy = config.trustProxy;
  provider.on('server_error', (_ctx, error) => logger.error({ err: error }, 'oidc server_error'));
  provider.on('grant.error', (ctx, error) => {
    logger.warn({ requestId: ctx.state?.requestId, error: (error as { error?: string }).error, detail: (error as { error_description?: string }).error_description }, 'token request refused');
  });
  return provider;
}
