/**
 * The enrollment page a magic link opens. Rules:
 * - GET only looks (mail scanners open links); it never spends or changes anything;
 * - the deliberate button press (CSRF-protected POSTs) runs the passkey ceremony and spends the
 *   link once, after the new passkey verified;
 * - an unusable link gets a page saying exactly why (expired, used, replaced) and who to ask;
 * - the person's authenticator policy is said on the page, asked of the browser in the options,
 *   and checked on the verified passkey before the link is spent: a refused passkey leaves the
 *   link usable for a compliant one.
 */
import Router from '@koa/router';
import compose from 'koa-compose';
import type { Context, Middleware } from 'koa';
import type { Services } from '../../bootstrap.ts';
import type { PasskeyCeremonies } from '../../ports/passkey-ceremonies.ts';
import { AppError, isAppError } from '../../domain/errors.ts';
import { displayNameOf } from '../../domain/identities.ts';
import { authenticatorModel, defaultPasskeyName } from '../../domain/authenticator-models.ts';
import { hashToken } from '../../domain/secrets.ts';
import { html, renderPage } from '../../http/html.ts';
import { jsonBody, type createCsrf } from '../../http/guards.ts';
import { renderErrorPage } from '../../http/errors.ts';
import { selfActor } from '../../domain/actor.ts';
import { requirementOf } from '../../domain/authenticator-policy.ts';

const linkTitles: Partial<Record<string, string>> = {
  link_expired: 'This enrollment link has expired',
  link_spent: 'This enrollment link was already used',
  link_revoked: 'This enrollment link was replaced',
  link_invalid: 'This enrollment link is not valid',
  inactive: 'This account is deactivated',
};

export function createEnrollmentEdge(deps: { services: Services; ceremonies: PasskeyCeremonies; csrf: ReturnType<typeof createCsrf>; ceremonyLimit: Middleware }) {
  const { services, ceremonies, csrf } = deps;
  const { config, store } = services;
  const router = new Router();
  const bindingOf = (ctx: Context) => `enroll:${hashToken(String(ctx.params.token))}`;

  router.get('/enroll/:token', async (ctx) => {
    let found;
    try {
      found = await services.invites.inspect(ctx.params.token);
    } catch (error) {
      if (!isAppError(error)) throw error;
      const status = error.code === 'link_invalid' ? 404 : 410;
      renderErrorPage(ctx, config.orgName, status, linkTitles[error.code] ?? 'This link cannot be used', `${error.message} Ask your administrator for a new enrollment link.`);
      return;
    }
    const { identity, invite } = found;
    const existing = await store.passkeys.listByIdentity(identity.id);
    const policy = await services.policies.requirementFor(identity.id);
    // Where to go next: back to the dashboard when the person came from it, else to Okta's
    // sign-in (the org of the Okta app), where the new passkey is asked for.
    const fromDashboard = ctx.query.from === 'dashboard';
    const oktaApp = fromDashboard ? undefined : (await store.apps.list()).find((app) => app.kind === 'okta' && app.oktaDomain);
    const continueTo = oktaApp?.oktaDomain ? { href: oktaApp.oktaDomain, label: 'Continue to Okta sign-in' } : { href: '/', label: 'Continue to your apps' };
    ctx.type = 'html';
    ctx.body = renderPage({
      title: 'Create your passkey',
      orgName: config.orgName,
      script: 'enroll',
      data: { token: ctx.params.token, csrf: csrf.tokenFor(bindingOf(ctx)) },
      body: html`
        <h1>Hi ${displayNameOf(identity)}, let's create your passkey</h1>
        <p class="lead">A passkey lets you sign in to ${config.orgName} with your fingerprint, face or device PIN, with no password to type or steal. It stays on your device or in your password manager.</p>
        ${policy ? html`<p id="policy-requirement" class="notice" role="note"><strong>${config.orgName} requires ${requirementOf(policy)}.</strong> When your browser asks where to save the passkey, choose a security key or this device.</p>` : html``}
        ${existing.length > 0 ? html`<p class="muted">You already have ${existing.length} passkey${existing.length > 1 ? 's' : ''}; this adds another.</p>` : html``}
        <ol class="steps">
          <li id="step-device"><h2>1. Check this device</h2><p id="device-status" class="status" role="status" aria-live="polite">Checking whether this browser can create a passkey…</p></li>
          <li id="step-create"><h2>2. Create the passkey</h2>
            <label class="field">Passkey name (optional) <input id="passkey-name" name="name" maxlength="64" autocomplete="off" placeholder="e.g. Work laptop"></label>
            <div class="actions"><button id="create" class="primary" type="button">Create passkey</button></div>
            <p id="create-status" class="status" role="status" aria-live="polite"></p>
          </li>
          <li id="step-done" hidden><h2>3. Done</h2><p>Your passkey <strong id="done-name"></strong> is ready. Next time you sign in to Okta, enter your username and you will be asked for this passkey instead of a password.</p>
            <div class="actions"><a id="continue" class="button-link primary" href="${continueTo.href}">${continueTo.label}</a></div></li>
        </ol>
        <p class="muted">This link stays valid until you create a passkey with it, or until it expires on ${new Date(invite.expiresAt).toUTCString()}. Opening it does not use it up.</p>`,
    });
  });

  const guard = compose([deps.ceremonyLimit, csrf.protect(bindingOf)]);

  router.post('/enroll/:token/options', guard, jsonBody(), async (ctx) => {
    const { identity, invite } = await services.invites.inspect(ctx.params.token);
    const existing = await store.passkeys.listByIdentity(identity.id);
    const requirements = await services.policies.registrationRequirements(identity.id);
    ctx.body = await ceremonies.registrationOptions(`invite:${invite.id}`, { id: identity.id, userName: identity.userName, displayName: displayNameOf(identity) }, existing, requirements);
  });

  router.post('/enroll/:token/verify', guard, jsonBody(), async (ctx) => {
    const { identity, invite } = await services.invites.inspect(ctx.params.token);
    const body = ctx.request.body as { response?: unknown; name?: unknown };
    if (!body || typeof body !== 'object' || !body.response) throw new AppError('invalid_input', 'missing the passkey response');
    const credential = await ceremonies.verifyRegistration(`invite:${invite.id}`, body.response);
    await services.policies.assertMayRegister(identity, credential, selfActor(identity.id));
    const { provesEmail } = await services.invites.spend(invite);
    if (provesEmail) await services.identities.confirmEmail(identity.id, invite.id);
    const name = typeof body.name === 'string' && body.name.trim() ? body.name : defaultPasskeyName(credential.aaguid, credential.deviceType);
    const passkey = await services.passkeys.add({ ...credential, identityId: identity.id, name }, selfActor(identity.id), { userAgent: ctx.get('user-agent') });
    ctx.body = { ok: true, passkey: { id: passkey.id, name: passkey.name, model: authenticatorModel(passkey.aaguid), deviceType: passkey.deviceType } };
  });

  return { routes: router.routes() as Middleware };
}
