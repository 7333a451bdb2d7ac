/**
 * The simulated org's end-user side, as Okta Identity Engine behaves for a federated IdP:
 * - identifier-first sign-in: the person types a username; the IDP_DISCOVERY policy's rules are
 *   evaluated in priority order ("User matches: User attribute X Equals Y" and identifier
 *   patterns), and the first match picks the provider: an OIDC IdP gets an authorize redirect, Okta
 *   itself a password page. An unknown username also gets the password page (no enumeration).
 * - the IdP callback at /oauth2/v1/authorize/callback: one-time state, token request, ID token
 *   checks (relying-party.ts), then account linking per the IdP's policy:
 *   an existing link (idp.externalId = sub) wins whatever the other claims say; otherwise, with
 *   accountLink.action AUTO, the transformed username (subject.userNameTemplate) is matched by
 *   subject.matchType, restricted by accountLink.filter (groups.include, users.exclude) and
 *   subject.filter; no match and provisioning.action DISABLED rejects the sign-in.
 * - an Okta-like end-user dashboard listing the person's apps and profile.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRelyingParty, IdpLoginError, type OidcIdp, type PendingAuthorization, type RelyingPartyVariants } from './relying-party.ts';
import { escapeHtml, redirect, sendPage } from './org-pages.ts';
import type { SimUser } from './okta-sim.ts';

type Json = Record<string, unknown>;

export interface OrgVariants extends RelyingPartyVariants {
  /** Whether "Equals" in a routing rule compares case-sensitively (unconfirmed; OKTA.md). */
  routingMatchCaseSensitive: boolean;
}

export const DEFAULT_VARIANTS: OrgVariants = { forwardLoginHint: true, clientAuth: 'basic', refetchJwksOnUnknownKid: true, routingMatchCaseSensitive: true };

export interface OrgDirectory {
  users: Map<string, SimUser>;
  idps: Map<string, Json>;
  policies: Map<string, Json>;
  rules: Map<string, Json[]>;
  groupMembers(groupId: string): Set<string>;
  findUser(idOrLogin: string): SimUser | null;
  passwordOf(userId: string): string | null;
  isAdmin(userId: string): boolean;
  /** idpId -> (sub -> Okta user id). */
  idpLinks: Map<string, Map<string, string>>;
  appTiles: Array<{ label: string; url: string }>;
  signingKeyFor?: Parameters<typeof createRelyingParty>[0]['signingKeyFor'];
}

export interface SignInRecord {
  at: number;
  username: string | null;
  route: 'idp' | 'okta';
  outcome: 'success' | 'failure';
  userId?: string;
  idpId?: string;
  reason?: string;
  /** For IdP sign-ins: whether the user was linked now, or by an earlier link. */
  linked?: 'existing' | 'new';
  claims?: Json;
}

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

function cookieOf(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return null;
}

export function matchesPattern(matchType: string, actual: string, expected: string, caseSensitive: boolean): boolean {
  const a = caseSensitive ? actual : actual.toLowerCase();
  const e = caseSensitive ? expected : expected.toLowerCase();
  switch (matchType) {
    case 'EQUALS':
      return a === e;
    case 'CONTAINS':
      return a.includes(e);
    case 'STARTS_WITH':
      return a.startsWith(e);
    case 'SUFFIX':
      return a.endsWith(e);
    case 'EXPRESSION':
      return new RegExp(expected, caseSensitive ? '' : 'i').test(actual);
    default:
      return false;
  }
}

export function createOrgSignIn(deps: { directory: OrgDirectory; baseUrl: () => string; variants: OrgVariants }) {
  const { directory, variants } = deps;
  const callbackUrl = () => `${deps.baseUrl()}/oauth2/v1/authorize/callback`;
  let relyingParty: ReturnType<typeof createRelyingParty> | null = null;
  const rp = () => (relyingParty ??= createRelyingParty({ callbackUrl: callbackUrl(), variants, signingKeyFor: directory.signingKeyFor }));
  const pending = new Map<string, PendingAuthorization & { username: string | null; createdAt: number }>();
  const sessions = new Map<string, { userId: string; via: 'idp' | 'okta'; idpName?: string }>();
  const signIns: SignInRecord[] = [];

  function activeIdp(id: string): OidcIdp | null {
    const idp = directory.idps.get(id);
    return idp && idp.status === 'ACTIVE' && idp.type === 'OIDC' ? (idp as unknown as OidcIdp) : null;
  }

  /** The provider the first matching routing rule names (the system default rule routes to Okta). */
  function routeFor(user: SimUser | null, typed: string): { type: 'OKTA' } | { type: 'IDP'; idp: OidcIdp } {
    const policy = [...directory.policies.values()].find((candidate) => candidate.type === 'IDP_DISCOVERY' && candidate.status === 'ACTIVE');
    const rules = [...((policy && directory.rules.get(policy.id as string)) ?? [])].filter((rule) => rule.status === 'ACTIVE').sort((a, b) => Number(a.priority) - Number(b.priority));
    for (const rule of rules) {
      const identifier = (rule.conditions as Json | undefined)?.userIdentifier as { type?: string; attribute?: string; patterns?: Array<{ matchType: string; value: string }> } | undefined;
      const patterns = identifier?.patterns ?? [];
      let matches = true;
      if (identifier?.type === 'ATTRIBUTE' && patterns.length) {
        const value = user ? user.profile[identifier.attribute ?? ''] : undefined;
        matches = !!user && value !== undefined && value !== null && patterns.some((pattern) => matchesPattern(pattern.matchType, String(value), pattern.value, variants.routingMatchCaseSensitive));
      } else if (identifier?.type === 'IDENTIFIER' && patterns.length) {
        matches = patterns.some((pattern) => matchesPattern(pattern.matchType, typed, pattern.value, false));
      }
      if (!matches) continue;
      const provider = ((((rule.actions as Json | undefined)?.idp as Json | undefined)?.providers ?? []) as Json[])[0];
      if (!provider || provider.type === 'OKTA') return { type: 'OKTA' };
      const idp = activeIdp(provider.id as string);
      if (idp) return { type: 'IDP', idp };
    }
    return { type: 'OKTA' };
  }

  function transformUsername(template: string, claims: Json): string | null {
    const match = /^idpuser\.([A-Za-z_]+)$/.exec(template.trim());
    if (!match) return null;
    const key = match[1] === 'subjectNameId' ? 'sub' : match[1];
    return typeof claims[key] === 'string' ? (claims[key] as string) : null;
  }

  /** Account linking (OKTA.md "Linking and JIT"); throws IdpLoginError when Okta would reject. */
  function linkUser(idp: OidcIdp & { policy?: Json }, claims: Json & { sub: string }): { user: SimUser; linked: 'existing' | 'new' } {
    const links = directory.idpLinks.get(idp.id) ?? new Map<string, string>();
    directory.idpLinks.set(idp.id, links);
    const existing = links.get(claims.sub);
    if (existing) {
      const user = directory.users.get(existing);
      if (!user) throw new IdpLoginError('linked_user_gone', 'the Okta user linked to this IdP account no longer exists');
      if (user.status !== 'ACTIVE') throw new IdpLoginError('user_inactive', `the linked Okta user is ${user.status}`);
      return { user, linked: 'existing' };
    }
    const policy = (idp.policy ?? {}) as Json;
    const subject = (policy.subject ?? {}) as Json;
    const template = (((subject.userNameTemplate as Json | undefined)?.template as string | undefined) ?? 'idpuser.email');
    const username = transformUsername(template, claims);
    if (!username) throw new IdpLoginError('no_username', `the username template ${template} gives no value for this sign-in`);
    const subjectFilter = subject.filter as string | null | undefined;
    if (subjectFilter && !new RegExp(`^(?:${subjectFilter})$`).test(username)) throw new IdpLoginError('subject_filter', `the username ${username} does not pass the IdP's subject filter`);
    const accountLink = (policy.accountLink ?? {}) as Json;
    if (accountLink.action === 'AUTO') {
      const lower = username.toLowerCase();
      const matchType = (subject.matchType as string | undefined) ?? 'USERNAME';
      const matchAttribute = subject.matchAttribute as string | undefined;
      const byUsername = (user: SimUser) => user.profile.login.toLowerCase() === lower;
      const byEmail = (user: SimUser) => user.profile.email.toLowerCase() === lower;
      const test = matchType === 'EMAIL' ? byEmail : matchType === 'USERNAME_OR_EMAIL' ? (user: SimUser) => byUsername(user) || byEmail(user) : matchType === 'CUSTOM_ATTRIBUTE' ? (user: SimUser) => String(user.profile[matchAttribute ?? ''] ?? '').toLowerCase() === lower : byUsername;
      const filter = (accountLink.filter ?? null) as { groups?: { include?: string[] }; users?: { exclude?: string[] } } | null;
      const candidates = [...directory.users.values()].filter(test).filter((user) => user.status === 'ACTIVE');
      const allowed = candidates.filter((user) => {
        if (filter?.users?.exclude?.includes(user.id)) return false;
        const include = filter?.groups?.include;
        if (include && include.length && !include.some((groupId) => directory.groupMembers(groupId).has(user.id))) return false;
        return true;
      });
      if (allowed.length > 1) throw new IdpLoginError('ambiguous_match', `more than one Okta user matches ${username}`);
      if (allowed.length === 1) {
        links.set(claims.sub, allowed[0].id);
        return { user: allowed[0], linked: 'new' };
      }
      if (candidates.length) throw new IdpLoginError('link_filtered', `the Okta user matching ${username} is outside the account link filter`);
    }
    const provisioning = (policy.provisioning ?? {}) as Json;
    if (provisioning.action === 'AUTO') throw new IdpLoginError('jit_unsupported', 'just-in-time provisioning is not simulated');
    throw new IdpLoginError('no_match', `no Okta user could be linked for ${username}, and just-in-time provisioning is off, so Okta rejects the sign-in`);
  }

  function newSession(userId: string, via: 'idp' | 'okta', idpName?: string): string {
    const sid = randomBytes(24).toString('base64url');
    sessions.set(sid, { userId, via, idpName });
    return `sim_sid=${sid}; Path=/; HttpOnly; SameSite=Lax`;
  }

  function identifierPage(res: ServerResponse, status = 200, error = '') {
    sendPage(
      res,
      status,
      'Sign In',
      `<h1>Sign In</h1>${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/login"><label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required>
<button type="submit">Next</button></form>`,
    );
  }

  function passwordPage(res: ServerResponse, username: string, status = 200, error = '') {
    sendPage(
      res,
      status,
      'Verify with your password',
      `<h1>Verify with your password</h1><p class="muted">${escapeHtml(username)}</p>${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/login/password"><input type="hidden" name="username" value="${escapeHtml(username)}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Verify</button></form>`,
    );
  }

  function failurePage(res: ServerResponse, error: IdpLoginError) {
    sendPage(res, 403, 'Unable to sign in', `<h1>Unable to sign in</h1><p class="error" role="alert" data-reason="${escapeHtml(error.reason)}">${escapeHtml(error.message)}</p><p><a href="/login">Back to sign in</a></p>`);
  }

  function dashboard(res: ServerResponse, session: { userId: string; via: string; idpName?: string }) {
    const user = directory.users.get(session.userId);
    if (!user) return redirect(res, '/login');
    const tiles = directory.appTiles.map((tile) => `<li><a href="${escapeHtml(tile.url)}">${escapeHtml(tile.label)}</a></li>`).join('');
    sendPage(
      res,
      200,
      'My Apps',
      `<h1>My Apps</h1><p data-testid="signed-in-as">Signed in as <strong>${escapeHtml(user.profile.login)}</strong> via ${escapeHtml(session.via === 'idp' ? session.idpName ?? 'an identity provider' : 'Okta password')}.</p>
<h2>Apps</h2>${tiles ? `<ul class="apps">${tiles}</ul>` : '<p class="muted">No apps are assigned to you.</p>'}
<h2>Profile</h2><dl><dt>Name</dt><dd>${escapeHtml(`${user.profile.firstName ?? ''} ${user.profile.lastName ?? ''}`.trim())}</dd>
<dt>Email</dt><dd>${escapeHtml(user.profile.email)}</dd><dt>byndidRegistered</dt><dd data-testid="registered">${escapeHtml(String(user.profile.byndidRegistered ?? 'not set'))}</dd></dl>
<form method="post" action="/login/signout"><button type="submit">Sign out</button></form>`,
      { wide: true },
    );
  }

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const session = sessions.get(cookieOf(req, 'sim_sid') ?? '');
    if (method === 'GET' && (url.pathname === '/' || url.pathname === '/login')) return session ? redirect(res, '/app/UserHome') : identifierPage(res);
    if (method === 'POST' && url.pathname === '/login') {
      const typed = ((await readForm(req)).get('username') ?? '').trim();
      if (!typed) return identifierPage(res, 400, 'Enter your username.');
      const user = directory.findUser(typed);
      const route = user && user.status === 'ACTIVE' ? routeFor(user, typed) : ({ type: 'OKTA' } as const);
      if (route.type === 'IDP') {
        const { url: location, pending: authorization } = await rp().authorizationRedirect(route.idp, user!.id, typed);
        pending.set(authorization.state, { ...authorization, username: typed, createdAt: Date.now() });
        return redirect(res, location);
      }
      signIns.push({ at: Date.now(), username: typed, route: 'okta', outcome: 'success', userId: user?.id });
      return redirect(res, `/login/password?username=${encodeURIComponent(typed)}`);
    }
    if (method === 'GET' && url.pathname === '/login/password') return passwordPage(res, url.searchParams.get('username') ?? '');
    if (method === 'POST' && url.pathname === '/login/password') {
      const form = await readForm(req);
      const username = form.get('username') ?? '';
      const user = directory.findUser(username);
      const expected = user ? directory.passwordOf(user.id) : null;
      if (!user || user.status !== 'ACTIVE' || expected === null || form.get('password') !== expected) return passwordPage(res, username, 401, 'Unable to sign in: the password is not correct.');
      return redirect(res, '/app/UserHome', [newSession(user.id, 'okta')]);
    }
    if (method === 'GET' && url.pathname === '/oauth2/v1/authorize/callback') {
      const state = url.searchParams.get('state') ?? '';
      const authorization = pending.get(state);
      pending.delete(state);
      const record: SignInRecord = { at: Date.now(), username: authorization?.username ?? null, route: 'idp', outcome: 'failure', idpId: authorization?.idpId };
      signIns.push(record);
      try {
        if (!authorization || Date.now() - authorization.createdAt > 10 * 60_000) throw new IdpLoginError('state_mismatch', 'this sign-in response does not match a sign-in Okta started (state unknown, reused or expired)');
        const idp = activeIdp(authorization.idpId);
        if (!idp) throw new IdpLoginError('idp_inactive', 'the identity provider is no longer active');
        const error = url.searchParams.get('error');
        if (error) throw new IdpLoginError(`idp_${error}`, `the identity provider refused the sign-in: ${error}${url.searchParams.get('error_description') ? ` (${url.searchParams.get('error_description')})` : ''}`);
        const code = url.searchParams.get('code');
        if (!code) throw new IdpLoginError('no_code', 'the identity provider returned neither a code nor an error');
        const claims = await rp().redeem(idp, authorization, code);
        const { user, linked } = linkUser(idp, claims as Json & { sub: string });
        Object.assign(record, { outcome: 'success', userId: user.id, linked, claims });
        user.lastLogin = new Date().toISOString();
        return redirect(res, '/app/UserHome', [newSession(user.id, 'idp', idp.name)]);
      } catch (error) {
        if (!(error instanceof IdpLoginError)) throw error;
        record.reason = error.reason;
        return failurePage(res, error);
      }
    }
    if (method === 'GET' && url.pathname === '/app/UserHome') return session ? dashboard(res, session) : redirect(res, '/login');
    if (method === 'POST' && url.pathname === '/login/signout') {
      sessions.delete(cookieOf(req, 'sim_sid') ?? '');
      return redirect(res, '/login', ['sim_sid=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax']);
    }
    sendPage(res, 404, 'Not found', '<h1>Page not found</h1><p><a href="/login">Sign in</a></p>');
  }

  return {
    handle,
    /** Every sign-in attempt, newest last: what the e2e tests assert on. */
    signIns,
    get relyingParty() {
      return rp();
    },
  };
}

export type OrgSignIn = ReturnType<typeof createOrgSignIn>;
