/**
 * The OIDC edge: the mounted provider plus the sign-in interaction (the passkey login page).
 * - The provider is rebuilt when the signing key set changes (signing-key-watch.ts: a rotation or
 *   revocation anywhere, an activation time reached), so every instance publishes and signs the
 *   same keys. /jwks and discovery carry a Cache-Control max-age shorter than the key lead time.
 * - The interaction is finished only after domain/sign-ins.ts accepted the passkey (verified, active,
 *   assigned to the app); refusals go back to the app as access_denied after a page that says why.
 * - With login_hint, only that person's passkeys are offered; without it, discoverable login.
 */
import Router from '@koa/router';
import mount from 'koa-mount';
import compose from 'koa-compose';
import type { Middleware, Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Services } from '../../bootstrap.ts';
import type { PasskeyCeremonies } from '../../ports/passkey-ceremonies.ts';
import type { PasskeyRecord } from '../../ports/storage.ts';
import { AppError, isAppError } from '../../domain/errors.ts';
import { SignInRefused, type SignIns } from '../../domain/sign-ins.ts';
import { createProvider } from './provider.ts';
import { watchSigningKeys } from './signing-key-watch.ts';
import { withProviderWrites } from './provider-writes.ts';
import { OIDC_ROUTES } from '../../http/endpoints.ts';
import { html, renderPage } from '../../http/html.ts';
import { jsonBody, type createCsrf } from '../../http/guards.ts';
import { renderErrorPage, sendJsonError } from '../../http/errors.ts';
import type { Logger } from '../../logger.ts';
import { selfActor } from '../../domain/actor.ts';
import { createAdminService, FIRST_ADMIN_COMMAND } from '../../domain/admins.ts';

/**
 * RFC 8176 values: proof of possession of a key, hardware-bound or synced, with user verification.
 * `phr` (phishing-resistant): a passkey is bound to our origin, so Okta's trust claims count it.
 */
export function amrFor(passkey: Pick<PasskeyRecord, 'deviceType'>, userVerified: boolean): string[] {
  const amr = ['pop', passkey.deviceType === 'singleDevice' ? 'hwk' : 'swk', 'phr', 'user'];
  if (userVerified) amr.push('mfa');
  return amr;
}

export async function createOidcEdge(deps: {
  services: Services;
  ceremonies: PasskeyCeremonies;
  cookieKeys: string[];
  csrf: ReturnType<typeof createCsrf>;
  logger: Logger;
  /** Budget for passkey ceremony requests, per client address. */
  ceremonyLimit: Middleware;
  signIns: SignIns;
}) {
  const { services, ceremonies, cookieKeys, csrf, logger, ceremonyLimit, signIns } = deps;
  const { store, config, clock, audit } = services;
  const admins = createAdminService({ store, identities: services.identities, now: () => clock.now() });

  let provider!: Provider;
  let mounted!: Middleware;
  const refusesKid = (kid: string) => services.signingKeys.refuses(kid);
  const keyWatch = await watchSigningKeys({
    services,
    logger,
    apply(keys) {
      const first = !provider;
      provider = createProvider({ services, cookieKeys, signingKeys: keys.keys, refusesKid, logger });
      mounted = mount(provider as never) as Middleware;
      if (!first) logger.info({ signing: keys.signingKid, published: keys.keys.map((key) => key.kid) }, 'signing keys reloaded');
    },
  });
  // RFC 9111 §5.2.2.1: relying parties may reuse these for max-age seconds; the key lead time is longer.
  const cacheableDocuments = new Set([OIDC_ROUTES.jwks, '/.well-known/openid-configuration']);
  const maxAge = services.signingKeys.jwksMaxAgeSeconds;

  async function detailsOf(ctx: Context) {
    try {
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      if (details.uid !== ctx.params.uid) throw new AppError('forbidden', 'this sign-in page belongs to another sign-in attempt');
      return details;
    } catch (error) {
      if (isAppError(error) || store.unavailable(error)) throw error;
      throw new AppError('unauthenticated', 'This sign-in attempt has expired or was opened in another browser. Return to the application and sign in again.', { cause: error });
    }
  }

  // The login page's "no administrator yet" notice. Once an admin exists that answer is kept for
  // 10 s (the query scans identities on SQLite, and every login page would pay it); while there is
  // none it is asked every time, so the notice is gone on the first page after the first admin is
  // created. Only this notice depends on it, never a decision.
  let adminSeenAt: number | null = null;
  async function noAdminYetNotice(): Promise<boolean> {
    if (adminSeenAt !== null && clock.now() - adminSeenAt <= 10_000) return false;
    const none = await admins.noAdminYet();
    adminSeenAt = none ? null : clock.now();
    return none;
  }

  /** With a known login_hint, only that person's passkeys; otherwise a discoverable-credential request. */
  async function authenticationOptionsFor(uid: string, hint: string | null) {
    const hinted = hint ? await store.identities.getByUserName(hint) : null;
    // An unknown hint falls back to discoverable login rather than revealing who exists.
    const allow = hinted ? await store.passkeys.listByIdentity(hinted.id) : null;
    return ceremonies.authenticationOptions(`interaction:${uid}`, allow && allow.length > 0 ? allow : null);
  }

  const router = new Router();

  router.get('/interaction/:uid', async (ctx) => {
    let details;
    try {
      details = await detailsOf(ctx);
    } catch (error) {
      // A storage outage is not an expired sign-in: the error boundary answers "try again" (503).
      if (!isAppError(error)) throw error;
      renderErrorPage(ctx, config.orgName, 400, 'Sign-in expired', (error as Error).message);
      return;
    }
    const client = await store.apps.get(String(details.params.client_id));
    const loginHint = typeof details.params.login_hint === 'string' ? details.params.login_hint : '';
    // The first ceremony's options travel with the page: one round trip fewer per sign-in.
    const options = await authenticationOptionsFor(details.uid, loginHint || null);
    // Okta sends the login it already identified. If that person has no passkey yet, no prompt
    // can succeed: say what to do instead of offering a ceremony that must fail.
    const hinted = loginHint ? await store.identities.getByUserName(loginHint) : null;
    const noPasskeyYet = hinted !== null && (await store.passkeys.listByIdentity(hinted.id)).length === 0;
    const noAdminYet = await noAdminYetNotice();
    const appName = client?.name ?? 'your application';
    const backToOkta = client?.kind === 'okta' && client.oktaDomain ? client.oktaDomain : null;
    ctx.type = 'html';
    ctx.body = renderPage({
      title: `Sign in to ${appName}`,
      orgName: config.orgName,
      script: 'login',
      data: { uid: details.uid, csrf: csrf.tokenFor(`interaction:${details.uid}`), hint: loginHint, options: JSON.stringify(options), timeout: String((options as { timeout?: number }).timeout ?? 60_000), app: appName },
      body: html`
        <h1>Sign in to ${appName}</h1>
        ${noAdminYet ? html`<p class="notice" role="note"><strong>Latchkey has no administrator yet.</strong> On the server, run <code>${FIRST_ADMIN_COMMAND}</code>: it creates the first admin and prints an enrollment link to create their passkey.</p>` : html``}
        ${
          noPasskeyYet
            ? html`<p class="lead">Signing in as <strong>${loginHint}</strong>.</p>
        <p id="no-passkey" class="notice" role="alert"><strong>You don't have a passkey yet.</strong> Check your email for an enrollment link from ${config.orgName}, or ask your administrator to send you one. Once you have created your passkey, sign in again.</p>`
            : html`${loginHint ? html`<p class="lead">Signing in as <strong>${loginHint}</strong>.</p>` : html`<p class="lead">Use the passkey on this device, or a phone that has yours.</p>`}
        <label class="field" for="username" ${loginHint ? html`hidden` : html``}>Username <input id="username" name="username" autocomplete="username webauthn" placeholder="Start typing, or pick your passkey"></label>
        <div class="actions"><button id="signin" class="primary" type="button">Sign in with a passkey</button></div>
        <p id="status" class="status" role="status" aria-live="polite"></p>
        <p class="muted">No password is needed. Passkey on your phone? Press the button, then choose <em>Use a phone or tablet</em> and scan the QR code.</p>`
        }
        ${backToOkta ? html`<p class="muted"><a id="back" href="${backToOkta}">Back to Okta sign-in</a></p>` : html``}`,
    });
  });

  const csrfGuard = csrf.protect((ctx) => `interaction:${ctx.params.uid}`);
  const guard = compose([ceremonyLimit, csrfGuard]);

  router.post('/interaction/:uid/passkey/options', guard, jsonBody(), async (ctx) => {
    const details = await detailsOf(ctx);
    ctx.body = await authenticationOptionsFor(details.uid, typeof details.params.login_hint === 'string' ? details.params.login_hint : null);
  });

  router.post('/interaction/:uid/passkey/verify', guard, jsonBody(), async (ctx) => {
    const details = await detailsOf(ctx);
    const clientId = String(details.params.client_id);
    try {
      const signIn = await signIns.authenticate({
        response: ctx.request.body as unknown,
        binding: `interaction:${details.uid}`,
        loginHint: typeof details.params.login_hint === 'string' ? details.params.login_hint : null,
        clientId,
        redirectUri: typeof details.params.redirect_uri === 'string' ? details.params.redirect_uri : undefined,
      });
      // passkeyId is ours, not oidc-provider's: the model adapter stores it with the session it opens,
      // and the grant at resume knows by it that this login was checked (provider.ts). ts is when
      // the person authenticated (auth_time), which is now, not the moment of the resume.
      const login = { accountId: signIn.identity.id, amr: amrFor(signIn.passkey, signIn.userVerified), passkeyId: signIn.passkey.id, ts: Math.floor(signIn.at / 1000) };
      ctx.body = { redirect: await provider.interactionResult(ctx.req, ctx.res, { login }, { mergeWithLastSubmission: false }) };
    } catch (error) {
      if (!isAppError(error)) throw error;
      const identityId = error instanceof SignInRefused ? error.identityId : null;
      if (error.code === 'counter_regression') logger.warn({ requestId: ctx.state.requestId, identityId }, 'passkey signature counter regression refused');
      // Person-level refusals end the attempt with access_denied for the app; a failed ceremony lets the person retry.
      if (error.code === 'inactive' || error.code === 'not_assigned') {
        const continueTo = await provider.interactionResult(ctx.req, ctx.res, { error: 'access_denied', error_description: error.message }, { mergeWithLastSubmission: false });
        ctx.status = 403;
        ctx.body = { error: error.code, error_description: error.message, continue_to: continueTo };
        return;
      }
      sendJsonError(ctx, error);
    }
  });

  /**
   * Which passkey opened the provider session an access token was issued in, and its grant: the
   * console and dashboard record both on the session they open from a sign-in (app.ts wires it).
   */
  async function openedBy(accessToken: string): Promise<{ passkeyId: string | null; grantId: string | null }> {
    const token = await provider.AccessToken.find(accessToken);
    if (!token) return { passkeyId: null, grantId: null };
    const session = token.sessionUid ? await store.oidc.findByUid('Session', token.sessionUid, services.clock.now()) : null;
    return { passkeyId: typeof session?.passkeyId === 'string' ? session.passkeyId : null, grantId: token.grantId ?? null };
  }

  return {
    routes: router.routes() as Middleware,
    openedBy,
    /** Everything else (authorize, token, userinfo, jwks, discovery, logout) is the provider's. */
    provider: (async (ctx, next) => {
      // The provider's model writes of this request commit together, before the response leaves.
      await withProviderWrites(store.oidc, () => mounted(ctx, next));
      if (ctx.method === 'GET' && ctx.status === 200 && cacheableDocuments.has(ctx.path)) ctx.set('Cache-Control', `public, max-age=${maxAge}`);
    }) as Middleware,
    get current(): Provider {
      return provider;
    },
    /** Reloads the signing keys now (normally done by notifications and timers). */
    refreshKeys: () => keyWatch.reload(),
    close: () => keyWatch.close(),
  };
}
