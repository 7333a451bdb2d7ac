/**
 * `okta doctor`: checks the whole chain an Okta sign-in depends on and says, for each link,
 * pass / warn / fail with the fix. It only reads (Okta and the store); it never changes anything.
 */
import net from 'node:net';
import { REAL_OKTA_GUIDE, unreachableFromOkta } from '../../domain/public-url.ts';
import type { Services } from '../../bootstrap.ts';
import { checkPublicReachability, nonPublicReason } from '../../http/public-reachability.ts';
import { oidcEndpoints } from '../../http/endpoints.ts';
import { isOktaApiError, type OktaDirectory, type OktaIdentityProvider } from '../../ports/okta-directory.ts';
import { loadOktaConnection } from './okta-connection.ts';
import { OKTA_SYNC_QUEUE, REGISTRATION_ATTRIBUTE } from './okta-sync.ts';
import { findIdpDiscoveryPolicy, isRegistrationRule, loadSetupState, MAX_CLOCK_SKEW_MS, OIDC_SCOPES, oktaAppFor, pointsAtLatchkey } from './okta-setup.ts';

export type CheckStatus = 'pass' | 'warn' | 'fail';
export interface DoctorCheck {
  check: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const SCIM_EXPIRY_WARNING_MS = 14 * DAY_MS;

const okta = (error: unknown) => (isOktaApiError(error) ? error.message : (error as Error).message);

/** Differences between the IdP Okta holds and what this Latchkey serves. */
export function idpMismatches(idp: OktaIdentityProvider, issuer: string, clientId: string): string[] {
  const expected = oidcEndpoints(issuer);
  const problems: string[] = [];
  const protocol = idp.protocol ?? ({} as OktaIdentityProvider['protocol']);
  if (idp.type !== 'OIDC') problems.push(`type is ${idp.type}, expected OIDC`);
  if (protocol.issuer?.url !== issuer) problems.push(`issuer is ${protocol.issuer?.url ?? 'missing'}, expected ${issuer}`);
  if (protocol.credentials?.client?.client_id !== clientId) problems.push(`client id is ${protocol.credentials?.client?.client_id ?? 'missing'}, expected ${clientId}`);
  const endpoints = protocol.endpoints ?? ({} as OktaIdentityProvider['protocol']['endpoints']);
  const pairs: [string, string | undefined, string][] = [
    ['authorization endpoint', endpoints.authorization?.url, expected.authorization_endpoint],
    ['token endpoint', endpoints.token?.url, expected.token_endpoint],
    ['JWKS endpoint', endpoints.jwks?.url, expected.jwks_uri],
  ];
  if (endpoints.userInfo) pairs.push(['userinfo endpoint', endpoints.userInfo.url, expected.userinfo_endpoint]);
  for (const [name, actual, wanted] of pairs) if (actual !== wanted) problems.push(`${name} is ${actual ?? 'missing'}, expected ${wanted}`);
  const scopes = new Set(protocol.scopes ?? []);
  const missingScopes = OIDC_SCOPES.filter((scope) => !scopes.has(scope));
  if (missingScopes.length) problems.push(`scopes lack ${missingScopes.join(', ')}`);
  if (idp.status !== 'ACTIVE') problems.push(`status is ${idp.status}`);
  return problems;
}

/** One check from the reachability probes: the worst status, every detail, the first fix. */
export async function oktaReachesLatchkey(oktaDomain: string, publicUrl: string, probes?: Parameters<typeof checkPublicReachability>[1]): Promise<DoctorCheck> {
  const oktaHost = new URL(oktaDomain).hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(oktaHost) && nonPublicReason(oktaHost)) {
    return { check: 'okta_reaches_latchkey', status: 'pass', detail: `Okta at ${oktaDomain} is on this network (a simulated or local org), so it reaches ${publicUrl} directly` };
  }
  const results = await checkPublicReachability(publicUrl, probes);
  const status: CheckStatus = results.some((result) => result.status === 'fail') ? 'fail' : results.some((result) => result.status === 'warn') ? 'warn' : 'pass';
  return { check: 'okta_reaches_latchkey', status, detail: results.map((result) => result.detail).join('; '), fix: results.find((result) => result.fix)?.fix };
}

export async function doctorOkta(services: Services, options: { now?: number } = {}) {
  const checks: DoctorCheck[] = [];
  const add = (check: DoctorCheck) => checks.push(check);
  const { config, store } = services;
  const now = options.now ?? services.clock.now();
  const issuer = config.issuer;

  // 1. Domain and token.
  const connection = await loadOktaConnection(services);
  let directory: OktaDirectory | null = null;
  if (!connection) {
    add({ check: 'okta_connection', status: 'fail', detail: 'Okta is not connected', fix: 'latchkey okta configure --domain https://<org>.okta.com --token <api token>' });
  } else {
    try {
      const candidate = connection.directory({ timeoutMs: 10_000 });
      const me = await candidate.whoami();
      directory = candidate;
      add({ check: 'okta_connection', status: 'pass', detail: `${connection.domain}: API token works (owner ${me.profile.login})` });
    } catch (error) {
      const tokenProblem = isOktaApiError(error) && (error.kind === 'unauthorized' || error.kind === 'forbidden');
      add({
        check: 'okta_connection',
        status: 'fail',
        detail: `${connection.domain}: ${tokenProblem ? 'API token rejected' : 'Okta unreachable or not an Okta org'}: ${okta(error)}`,
        fix: tokenProblem ? 'create a new API token in Okta (Security > API > Tokens) and run latchkey okta configure again' : 'check the org URL and network, then latchkey okta configure again',
      });
    }
  }

  // 2-4. Okta objects (only when the API is usable).
  const skipped = (check: string) => add({ check, status: 'fail', detail: 'not checked: no working Okta connection', fix: 'fix okta_connection first' });
  const state = connection ? await loadSetupState(services, connection.domain) : null;
  const app = connection && state ? await oktaAppFor(services, connection.domain, state) : null;
  if (!directory) {
    skipped('registration_attribute');
  } else {
    try {
      const schema = await directory.getUserSchema();
      const attribute = schema.definitions?.custom?.properties?.[REGISTRATION_ATTRIBUTE];
      if (!attribute) add({ check: 'registration_attribute', status: 'fail', detail: `Okta user profile has no "${REGISTRATION_ATTRIBUTE}" attribute`, fix: 'latchkey okta setup' });
      else if (attribute.type !== 'boolean') add({ check: 'registration_attribute', status: 'fail', detail: `"${REGISTRATION_ATTRIBUTE}" is a ${attribute.type}, the routing rule needs a boolean`, fix: `delete the attribute in Okta's Profile Editor, then latchkey okta setup` });
      else if (!(attribute.permissions ?? []).some((permission) => permission.principal === 'SELF' && permission.action === 'READ_ONLY')) add({ check: 'registration_attribute', status: 'warn', detail: `"${REGISTRATION_ATTRIBUTE}" is boolean but people can edit it themselves`, fix: "set User permission to Read only in Okta's Profile Editor" });
      else add({ check: 'registration_attribute', status: 'pass', detail: `"${REGISTRATION_ATTRIBUTE}" exists, boolean, read-only for users` });
    } catch (error) {
      add({ check: 'registration_attribute', status: 'fail', detail: `cannot read the user schema: ${okta(error)}`, fix: 'use an API token of a super or org administrator' });
    }
  }

  if (!connection) {
    add({ check: 'latchkey_app', status: 'fail', detail: 'not checked: Okta is not connected', fix: 'fix okta_connection first' });
  } else if (!app) {
    add({ check: 'latchkey_app', status: 'fail', detail: `no Okta app in Latchkey for ${connection.domain}`, fix: 'latchkey okta setup (or latchkey apps create-okta --okta-domain ...)' });
  } else {
    add({ check: 'latchkey_app', status: app.assignedGroupIds.length ? 'pass' : 'warn', detail: `client ${app.id}${app.assignedGroupIds.length ? '' : ': no group assigned, nobody may sign in through it'}`, ...(app.assignedGroupIds.length ? {} : { fix: `latchkey apps assign ${app.id} --group "<group>"` }) });
  }

  let idp: OktaIdentityProvider | null = null;
  if (!directory || !app) {
    skipped('identity_provider');
    skipped('routing_rule');
  } else {
    try {
      const idps = await directory.listIdentityProviders();
      idp = idps.find((candidate) => pointsAtLatchkey(candidate, issuer, app.id)) ?? idps.find((candidate) => candidate.id === state?.idpId) ?? idps.find((candidate) => candidate.protocol?.issuer?.url === issuer) ?? null;
      if (!idp) {
        add({ check: 'identity_provider', status: 'fail', detail: `no OpenID Connect IdP in Okta points at ${issuer}`, fix: 'latchkey okta setup' });
      } else {
        const problems = idpMismatches(idp, issuer, app.id);
        const skew = idp.policy?.maxClockSkew;
        if (problems.length) add({ check: 'identity_provider', status: 'fail', detail: `IdP "${idp.name}" (${idp.id}): ${problems.join('; ')}`, fix: `correct it in Okta (Security > Identity Providers > ${idp.name}) with the values from latchkey apps show ${app.id}` });
        else if (idp.policy?.accountLink?.action !== 'AUTO' || idp.policy?.subject?.matchType !== 'USERNAME_OR_EMAIL') add({ check: 'identity_provider', status: 'warn', detail: `IdP "${idp.name}" points here but account link is ${idp.policy?.accountLink?.action} / match ${idp.policy?.subject?.matchType}`, fix: 'set Account link policy Automatic and Match against Okta Username or Email' });
        else add({ check: 'identity_provider', status: 'pass', detail: `IdP "${idp.name}" (${idp.id}) points at ${issuer}, client ${app.id}${skew !== undefined && skew < MAX_CLOCK_SKEW_MS ? ` (clock skew ${skew} ms)` : ''}` });
      }
    } catch (error) {
      add({ check: 'identity_provider', status: 'fail', detail: `cannot list identity providers: ${okta(error)}`, fix: 'use an API token of a super or org administrator' });
    }

    if (idp) {
      try {
        const policy = await findIdpDiscoveryPolicy(directory);
        const rules = policy ? await directory.listPolicyRules(policy.id) : [];
        const rule = rules.find((candidate) => isRegistrationRule(candidate, idp!.id));
        if (!rule) add({ check: 'routing_rule', status: 'fail', detail: `no routing rule sends ${REGISTRATION_ATTRIBUTE} Equals true to "${idp.name}"`, fix: 'latchkey okta setup' });
        else if (rule.status !== 'ACTIVE') add({ check: 'routing_rule', status: 'fail', detail: `routing rule "${rule.name}" is ${rule.status}`, fix: 'activate it in Okta (Security > Identity Providers > Routing rules)' });
        else add({ check: 'routing_rule', status: 'pass', detail: `routing rule "${rule.name}" is active: ${REGISTRATION_ATTRIBUTE} Equals true -> ${idp.name}` });
      } catch (error) {
        add({ check: 'routing_rule', status: 'fail', detail: `cannot read routing rules: ${okta(error)}`, fix: 'use an API token of a super or org administrator' });
      }
    } else {
      skipped('routing_rule');
    }
  }

  // 5. Delivery of the flag.
  const counts = await store.jobs.counts(OKTA_SYNC_QUEUE);
  if (counts.failed > 0) {
    const [latest] = (await store.jobs.list(OKTA_SYNC_QUEUE, 'failed', 100_000)).sort((a, b) => b.updatedAt - a.updatedAt);
    add({ check: 'flag_delivery', status: 'fail', detail: `${counts.failed} byndidRegistered update(s) failed; latest: ${latest?.lastError ?? 'unknown'}`, fix: 'fix the cause, then latchkey okta reconcile' });
  } else {
    add({ check: 'flag_delivery', status: 'pass', detail: `${counts.pending} pending, ${counts.done} delivered, none failed` });
  }

  // 6. SCIM tokens about to expire (Okta's SCIM client stops provisioning when they do).
  const tokens = (await store.scimTokens.list()).filter((token) => token.revokedAt === null && (token.expiresAt === null || token.expiresAt > now));
  const expiring = tokens.filter((token) => token.expiresAt !== null && token.expiresAt - now <= SCIM_EXPIRY_WARNING_MS);
  const lasting = tokens.filter((token) => token.expiresAt === null || token.expiresAt - now > SCIM_EXPIRY_WARNING_MS);
  if (tokens.length === 0) add({ check: 'scim_tokens', status: 'warn', detail: 'no active SCIM token: Okta cannot provision people', fix: 'create a SCIM token and paste it into the Okta SCIM app' });
  else if (expiring.length) add({ check: 'scim_tokens', status: lasting.length ? 'warn' : 'fail', detail: `SCIM token(s) expiring within 14 days: ${expiring.map((token) => `${token.name} on ${new Date(token.expiresAt!).toISOString().slice(0, 10)}`).join(', ')}${lasting.length ? '' : '; no other token lasts longer'}`, fix: 'create a new SCIM token, paste it into the Okta SCIM app, then revoke the old one' });
  else add({ check: 'scim_tokens', status: 'pass', detail: `${tokens.length} active SCIM token(s), none expiring within 14 days` });

  // 7. Enough admins who can still get in.
  const admins = await store.identities.query({ role: 'admin', status: 'enrolled', offset: 0, limit: 1, now });
  if (admins.total >= 2) add({ check: 'admins_with_passkeys', status: 'pass', detail: `${admins.total} admins hold a passkey` });
  else add({ check: 'admins_with_passkeys', status: admins.total === 0 ? 'fail' : 'warn', detail: `${admins.total} admin(s) hold a passkey: losing one device locks the console`, fix: 'give a second admin the admin role and a passkey (latchkey enroll <username> --link)' });

  // 8. Public URL: Okta's cloud calls the token endpoint and SCIM, so it must reach this address.
  const unreachable = unreachableFromOkta(config.publicUrl);
  if (!unreachable) add({ check: 'public_url', status: 'pass', detail: `${config.publicUrl} uses https on a public host` });
  else if (config.env === 'production' && !config.publicUrl.startsWith('https://')) add({ check: 'public_url', status: 'fail', detail: `PUBLIC_URL ${config.publicUrl} is not https in production: passkeys and Okta need https`, fix: 'set PUBLIC_URL=https://<your host> behind TLS' });
  else add({ check: 'public_url', status: 'warn', detail: `${unreachable} A real Okta org cannot reach it (a local simulator can).`, fix: `set PUBLIC_URL to an https address Okta can reach; see ${REAL_OKTA_GUIDE}` });

  // 9. Can Okta's servers reach PUBLIC_URL (token, JWKS and SCIM calls come from Okta, not the browser)?
  if (connection) add(await oktaReachesLatchkey(connection.domain, config.publicUrl));

  const summary = { pass: 0, warn: 0, fail: 0 } satisfies Record<CheckStatus, number>;
  for (const check of checks) summary[check.status]++;
  return { ok: summary.fail === 0, summary, checks };
}
