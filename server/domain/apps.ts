/**
 * Apps: the relying parties (Okta, generic OIDC) and the bookmarks on the dashboard.
 * - The client secret is shown at creation and on deliberate reveal; at rest it is sealed.
 * - Only members of an assigned group may sign in to an app (checked on every authorization,
 *   not only at login, so an existing session cannot reach an app it was never given).
 * - Okta domains are full org URLs without "-admin" and without a path.
 * - Latchkey's own console and dashboard are one internal OIDC client (INTERNAL_APP_ID), made at
 *   start-up and hidden from the Applications list: anyone active may use the dashboard; its
 *   console redirect (/admin/callback) is for identities with the admin role only.
 */
import { randomBytes } from 'node:crypto';
import type { AppKind, AppRecord, IdentityRecord, Store } from '../ports/storage.ts';
import type { Clock } from '../ports/clock.ts';
import { AppError } from './errors.ts';
import type { AuditLog } from './audit.ts';
import { displayNameOf } from './identities.ts';
import type { Actor } from './actor.ts';
import { randomToken, type Sealer } from './secrets.ts';
import { validateClientAuth, type ClientAuthInput } from './client-auth.ts';

/** Reserved client id of the console + dashboard client; never listed, never deletable. */
export const INTERNAL_APP_ID = 'latchkey-console';
export const ADMIN_ROLE = 'admin';
export const consoleRedirectUri = (publicUrl: string) => `${publicUrl}/admin/callback`;
export const dashboardRedirectUri = (publicUrl: string) => `${publicUrl}/callback`;

const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLoopbackHost(hostname: string): boolean {
  return loopbackHosts.has(hostname) || hostname.startsWith('127.');
}

/** Returns the normalised origin ("https://dev-123.okta.com") or throws a message an admin can act on. */
export function validateOktaDomain(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new AppError('invalid_input', `Okta domain "${input}" is not a URL: use the full org URL, e.g. https://dev-123456.okta.com`, { field: 'oktaDomain' });
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new AppError('invalid_input', `Okta domain must use https (plain http only for loopback test hosts), got "${input}"`, { field: 'oktaDomain' });
  }
  if (/-admin\./i.test(url.hostname)) {
    throw new AppError('invalid_input', `Okta domain "${url.hostname}" is the admin console: drop "-admin", e.g. ${url.protocol}//${url.hostname.replace(/-admin\./i, '.')}`, { field: 'oktaDomain' });
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new AppError('invalid_input', `Okta domain must be the org URL alone, without a path or query, e.g. ${url.origin}`, { field: 'oktaDomain' });
  }
  if (url.username || url.password) throw new AppError('invalid_input', 'Okta domain must not contain credentials', { field: 'oktaDomain' });
  return url.origin;
}

export function validateRedirectUri(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new AppError('invalid_input', `redirect URI "${input}" is not a URL`, { field: 'redirect_uris' });
  }
  if (url.hash) throw new AppError('invalid_input', `redirect URI "${input}" must not contain a fragment`, { field: 'redirect_uris' });
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new AppError('invalid_input', `redirect URI "${input}" must use https (http only for loopback hosts)`, { field: 'redirect_uris' });
  }
  return url.href;
}

/** OIDC RP-Initiated Logout §3: registered beforehand and matched exactly, like redirect URIs. */
export function validatePostLogoutRedirectUri(input: string): string {
  try {
    return validateRedirectUri(input);
  } catch (error) {
    throw new AppError('invalid_input', (error as Error).message.replace('redirect URI', 'post-logout redirect URI'), { field: 'post_logout_redirect_uris' });
  }
}

/** What every OIDC client may be created with besides its name and redirect URIs. */
export interface ClientInput<A extends ClientAuthInput | undefined = ClientAuthInput | undefined> {
  auth?: A;
  postLogoutRedirectUris?: string[];
}

/** A client created with private_key_jwt gets no secret; any other gets one, shown once. */
type SecretOf<A> = A extends { method: 'private_key_jwt' } ? null : string;

export function validateLoginUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new AppError('invalid_input', `login link "${input}" is not a URL`, { field: 'loginUrl' });
  }
  if (!['https:', 'http:'].includes(url.protocol)) throw new AppError('invalid_input', 'login link must be an http(s) URL', { field: 'loginUrl' });
  return url.href;
}

export function createAppService(deps: { store: Store; clock: Clock; audit: AuditLog; sealer: Sealer }) {
  const { store, clock, audit, sealer } = deps;

  async function require(id: string): Promise<AppRecord> {
    const app = await store.apps.get(id);
    if (!app) throw new AppError('not_found', `no app with client id "${id}"`);
    return app;
  }

  async function createClient<A extends ClientAuthInput | undefined>(
    kind: Exclude<AppKind, 'bookmark'>,
    input: ClientInput<A> & { name: string; redirectUris: string[]; oktaDomain?: string | null },
    actor: Actor,
  ): Promise<{ app: AppRecord; clientSecret: SecretOf<A> }> {
    if (!input.name?.trim()) throw new AppError('invalid_input', 'display name is required', { field: 'name' });
    if (input.redirectUris.length === 0) throw new AppError('invalid_input', 'at least one redirect URI is required', { field: 'redirect_uris' });
    const clientAuth = validateClientAuth(input.auth);
    // With private_key_jwt there is no shared secret at all: nothing to leak, nothing to rotate.
    const clientSecret = clientAuth.method === 'client_secret' ? randomToken(32) : null;
    const now = clock.now();
    const app: AppRecord = {
      id: `lk_${randomBytes(12).toString('hex')}`,
      kind,
      name: input.name.trim(),
      clientSecretEnc: clientSecret ? sealer.seal(clientSecret) : null,
      redirectUris: input.redirectUris.map(validateRedirectUri),
      postLogoutRedirectUris: (input.postLogoutRedirectUris ?? []).map(validatePostLogoutRedirectUri),
      clientAuth,
      oktaDomain: input.oktaDomain ?? null,
      loginUrl: null,
      iconDataUri: null,
      assignedGroupIds: [],
      createdAt: now,
      updatedAt: now,
    };
    await store.apps.create(app);
    await audit.record({ action: 'app.create', actor, target: `app:${app.id}`, detail: { kind, name: app.name, auth: clientAuth.method } });
    return { app, clientSecret: clientSecret as SecretOf<A> };
  }

  /** Okta's callback for an OpenID Connect IdP is fixed by Okta: {org}/oauth2/v1/authorize/callback. */
  async function createOktaApp<A extends ClientAuthInput | undefined = undefined>(input: ClientInput<A> & { oktaDomain: string; name?: string; customDomain?: string }, actor: Actor) {
    const oktaDomain = validateOktaDomain(input.oktaDomain);
    const redirectUris = [`${oktaDomain}/oauth2/v1/authorize/callback`];
    if (input.customDomain) redirectUris.push(`${validateOktaDomain(input.customDomain)}/oauth2/v1/authorize/callback`);
    return createClient('okta', { ...input, name: input.name ?? 'Okta', redirectUris, oktaDomain }, actor);
  }

  async function createOidcApp<A extends ClientAuthInput | undefined = undefined>(input: ClientInput<A> & { name: string; redirectUris: string[] }, actor: Actor) {
    return createClient('oidc', input, actor);
  }

  async function createBookmark(input: { name: string; loginUrl: string; iconDataUri?: string | null }, actor: Actor): Promise<AppRecord> {
    if (!input.name?.trim()) throw new AppError('invalid_input', 'display name is required', { field: 'name' });
    const now = clock.now();
    const app: AppRecord = {
      id: `bm_${randomBytes(12).toString('hex')}`,
      kind: 'bookmark',
      name: input.name.trim(),
      clientSecretEnc: null,
      redirectUris: [],
      postLogoutRedirectUris: [],
      clientAuth: { method: 'client_secret' },
      oktaDomain: null,
      loginUrl: validateLoginUrl(input.loginUrl),
      iconDataUri: input.iconDataUri ?? null,
      assignedGroupIds: [],
      createdAt: now,
      updatedAt: now,
    };
    await store.apps.create(app);
    await audit.record({ action: 'app.create', actor, target: `app:${app.id}`, detail: { kind: 'bookmark', name: app.name } });
    return app;
  }

  function revealSecret(app: AppRecord): string | null {
    return app.clientSecretEnc ? sealer.open(app.clientSecretEnc) : null;
  }

  async function rotateSecret(id: string, actor: Actor): Promise<string> {
    const app = await require(id);
    if (app.kind === 'bookmark') throw new AppError('invalid_input', 'a bookmark has no client secret');
    if (app.clientAuth.method !== 'client_secret') throw new AppError('invalid_input', 'this app authenticates with private_key_jwt and has no client secret');
    const clientSecret = randomToken(32);
    await store.apps.update({ ...app, clientSecretEnc: sealer.seal(clientSecret), updatedAt: clock.now() });
    await audit.record({ action: 'app.rotate_secret', actor, target: `app:${id}` });
    return clientSecret;
  }

  async function setAssignment(id: string, groupId: string, assigned: boolean, actor: Actor): Promise<AppRecord> {
    const app = await require(id);
    if (!(await store.groups.get(groupId))) throw new AppError('not_found', `no group with id "${groupId}"`);
    const groups = new Set(app.assignedGroupIds);
    if (assigned) groups.add(groupId);
    else groups.delete(groupId);
    const next = { ...app, assignedGroupIds: [...groups], updatedAt: clock.now() };
    await store.apps.update(next);
    await audit.record({ action: assigned ? 'app.assign' : 'app.unassign', actor, target: `app:${id}`, detail: { groupId } });
    return next;
  }

  /**
   * Whether the identity may sign in to the app. For the internal client the answer depends on
   * where the sign-in returns: the dashboard is anyone's, the console only an admin's.
   */
  async function isAssigned(app: AppRecord, identityId: string, redirectUri?: string, knownGroupIds?: readonly string[]): Promise<boolean> {
    if (app.id === INTERNAL_APP_ID) {
      const identity = await store.identities.get(identityId);
      if (!identity?.active) return false;
      const forConsole = redirectUri === undefined || redirectUri.endsWith('/admin/callback');
      return !forConsole || identity.roles.includes(ADMIN_ROLE);
    }
    if (app.assignedGroupIds.length === 0) return false;
    const groups = new Set(knownGroupIds ?? (await store.groups.groupIdsOf(identityId)));
    return app.assignedGroupIds.some((groupId) => groups.has(groupId));
  }

  /**
   * The one rule for "may this person sign in to this app now", used at the passkey step and on
   * every authorization (silent single sign-on included). Throws 'inactive' or 'not_assigned'
   * with a sentence the person can act on. `groupIds`: the person's groups when they were read
   * with the identity (identities.getWithGroupIds), so they are not read again.
   */
  async function assertMaySignIn(appId: string, identity: IdentityRecord, redirectUri?: string, groupIds?: readonly string[]): Promise<AppRecord> {
    if (!identity.active) throw new AppError('inactive', 'Your account is deactivated. Contact your administrator.');
    const app = await store.apps.get(appId);
    if (!app || !(await isAssigned(app, identity.id, redirectUri, groupIds))) {
      throw new AppError('not_assigned', `${displayNameOf(identity)}, you are not assigned to ${app?.name ?? 'this application'}. Ask your administrator for access.`);
    }
    return app;
  }

  /** Creates the internal console/dashboard client, or follows a changed PUBLIC_URL. Idempotent. */
  async function ensureInternalClient(publicUrl: string): Promise<AppRecord> {
    const redirectUris = [consoleRedirectUri(publicUrl), dashboardRedirectUri(publicUrl)].map(validateRedirectUri);
    const existing = await store.apps.get(INTERNAL_APP_ID);
    if (existing) {
      if (existing.redirectUris.join(' ') === redirectUris.join(' ')) return existing;
      const next = { ...existing, redirectUris, updatedAt: clock.now() };
      await store.apps.update(next);
      return next;
    }
    const now = clock.now();
    const app: AppRecord = {
      id: INTERNAL_APP_ID,
      kind: 'oidc',
      name: 'Latchkey console',
      clientSecretEnc: sealer.seal(randomToken(32)),
      redirectUris,
      postLogoutRedirectUris: [],
      clientAuth: { method: 'client_secret' },
      oktaDomain: null,
      loginUrl: null,
      iconDataUri: null,
      assignedGroupIds: [],
      createdAt: now,
      updatedAt: now,
    };
    try {
      await store.apps.create(app);
    } catch {
      // Another instance created it first.
      return require(INTERNAL_APP_ID);
    }
    return app;
  }

  async function setIcon(id: string, iconDataUri: string | null, actor: Actor): Promise<AppRecord> {
    const app = await require(id);
    if (app.kind !== 'bookmark') throw new AppError('invalid_input', 'only bookmark apps have a tile image');
    const next = { ...app, iconDataUri, updatedAt: clock.now() };
    await store.apps.update(next);
    await audit.record({ action: 'app.icon', actor, target: `app:${id}`, detail: { removed: iconDataUri === null } });
    return next;
  }

  async function rename(id: string, name: string, actor: Actor): Promise<AppRecord> {
    const app = await require(id);
    if (!name?.trim()) throw new AppError('invalid_input', 'display name is required', { field: 'name' });
    const next = { ...app, name: name.trim(), updatedAt: clock.now() };
    await store.apps.update(next);
    await audit.record({ action: 'app.rename', actor, target: `app:${id}`, detail: { name: next.name } });
    return next;
  }

  /**
   * Changes how the client authenticates and where logout may return. Switching to a client secret
   * creates one (returned once); switching to private_key_jwt deletes the secret.
   */
  async function configureClient(id: string, input: { auth?: ClientAuthInput; postLogoutRedirectUris?: string[] }, actor: Actor) {
    const app = await require(id);
    if (app.kind === 'bookmark') throw new AppError('invalid_input', 'a bookmark is not an OIDC client');
    if (id === INTERNAL_APP_ID) throw new AppError('forbidden', 'the console client is built in and cannot be changed');
    let next: AppRecord = { ...app, updatedAt: clock.now() };
    let clientSecret: string | null = null;
    if (input.postLogoutRedirectUris) next.postLogoutRedirectUris = input.postLogoutRedirectUris.map(validatePostLogoutRedirectUri);
    if (input.auth) {
      next.clientAuth = validateClientAuth(input.auth);
      if (next.clientAuth.method === 'private_key_jwt') next.clientSecretEnc = null;
      else if (!app.clientSecretEnc) {
        clientSecret = randomToken(32);
        next = { ...next, clientSecretEnc: sealer.seal(clientSecret) };
      }
    }
    await store.apps.update(next);
    await audit.record({ action: 'app.configure_client', actor, target: `app:${id}`, detail: { auth: next.clientAuth.method, postLogoutRedirectUris: next.postLogoutRedirectUris.length } });
    return { app: next, clientSecret };
  }

  async function remove(id: string, actor: Actor): Promise<void> {
    if (id === INTERNAL_APP_ID) throw new AppError('forbidden', 'the console client is built in and cannot be deleted');
    await require(id);
    await store.apps.delete(id);
    await audit.record({ action: 'app.delete', actor, target: `app:${id}` });
  }

  return {
    require,
    get: (id: string) => store.apps.get(id),
    /** Every app an admin manages: the internal console client is not one of them. */
    list: async () => (await store.apps.list()).filter((app) => app.id !== INTERNAL_APP_ID),
    ensureInternalClient,
    setIcon,
    rename,
    createOktaApp,
    createOidcApp,
    createBookmark,
    revealSecret,
    rotateSecret,
    configureClient,
    setAssignment,
    isAssigned,
    assertMaySignIn,
    remove,
  };
}

export type AppService = ReturnType<typeof createAppService>;
