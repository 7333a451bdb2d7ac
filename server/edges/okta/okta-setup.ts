/**
 * `okta setup`: what the integration guide does in ~40 clicks (Stages III and IV), through the
 * Okta management API. Rules:
 * - idempotent: each object is looked up first and reused when it already matches; a second run
 *   changes nothing;
 * - it only creates, never updates or deletes: an object it did not create is left exactly as it
 *   is, and a same-named object that does not match stops the run with a message instead;
 * - `dryRun` reads only and reports the plan;
 * - routing rules act at once, so the result always carries the guide's warning to keep one
 *   super administrator outside routing.
 */
import type { Services } from '../../bootstrap.ts';
import { AppError } from '../../domain/errors.ts';
import { oidcEndpoints } from '../../http/endpoints.ts';
import type { AppRecord } from '../../ports/storage.ts';
import type { OktaDirectory, OktaIdentityProvider, OktaIdpDiscoveryRuleInput, OktaOidcIdentityProviderInput, OktaPolicyRule, OktaSchemaProperty } from '../../ports/okta-directory.ts';
import { requireOktaConnection } from './okta-connection.ts';
import { REGISTRATION_ATTRIBUTE, requeueFailedSyncJobs } from './okta-sync.ts';
import { type Actor } from '../../domain/actor.ts';

export const OKTA_SETUP_KEY = 'okta.setup';
export const DEFAULT_GROUP = 'Beyond Identity';
export const DEFAULT_IDP_NAME = 'Latchkey';
export const DEFAULT_RULE_NAME = 'Latchkey';
export const OIDC_SCOPES = ['openid', 'email', 'profile'];
export const MAX_CLOCK_SKEW_MS = 120_000;

export const SUPER_ADMIN_WARNING =
  'Routing rules act at once: keep one super administrator outside routing (no Latchkey passkey, byndidRegistered not true) so a broken identity provider cannot lock every admin out.';

/** What setup created, per Okta org: the objects it may later call its own. */
export interface OktaSetupState {
  domain: string;
  attributeCreated?: boolean;
  groupId?: string;
  appId?: string;
  idpId?: string;
  policyId?: string;
  ruleId?: string;
}

export async function loadSetupState(services: Pick<Services, 'store'>, domain: string): Promise<OktaSetupState> {
  const raw = await services.store.settings.get(OKTA_SETUP_KEY);
  const state = raw ? (JSON.parse(raw) as OktaSetupState) : null;
  return state && state.domain === domain ? state : { domain };
}

export function registrationAttribute(): OktaSchemaProperty {
  return {
    title: 'Latchkey Registration Status',
    description: 'true while the person holds at least one Latchkey passkey; set by Latchkey, used by the IdP routing rule',
    type: 'boolean',
    required: false,
    // The guide's "User permission: Read only": a person must not be able to route themselves.
    permissions: [{ principal: 'SELF', action: 'READ_ONLY' }],
  };
}

export function identityProviderFor(input: { name: string; issuer: string; clientId: string; clientSecret: string }): OktaOidcIdentityProviderInput {
  const endpoints = oidcEndpoints(input.issuer);
  return {
    type: 'OIDC',
    name: input.name,
    protocol: {
      type: 'OIDC',
      endpoints: {
        authorization: { url: endpoints.authorization_endpoint, binding: 'HTTP-REDIRECT' },
        token: { url: endpoints.token_endpoint, binding: 'HTTP-POST' },
        userInfo: { url: endpoints.userinfo_endpoint, binding: 'HTTP-REDIRECT' },
        jwks: { url: endpoints.jwks_uri, binding: 'HTTP-REDIRECT' },
      },
      scopes: OIDC_SCOPES,
      issuer: { url: endpoints.issuer },
      // Client secret authentication (no token_endpoint_auth_method: that field only selects private_key_jwt).
      credentials: { client: { client_id: input.clientId, client_secret: input.clientSecret } },
      algorithms: { request: { signature: { algorithm: 'HS256', scope: 'REQUEST' } } },
    },
    policy: {
      // "Account link policy: Automatic", "Match against: Okta Username or Email".
      accountLink: { action: 'AUTO', filter: null },
      // "If no match is found: Redirect to Okta sign-in page" = no just-in-time provisioning.
      provisioning: { action: 'DISABLED', profileMaster: false, groups: { action: 'NONE' }, conditions: { deprovisioned: { action: 'NONE' }, suspended: { action: 'NONE' } } },
      subject: { userNameTemplate: { template: 'idpuser.email' }, matchType: 'USERNAME_OR_EMAIL', filter: null },
      maxClockSkew: MAX_CLOCK_SKEW_MS,
    },
  };
}

export function routingRuleFor(input: { name: string; idpId: string }): OktaIdpDiscoveryRuleInput {
  return {
    type: 'IDP_DISCOVERY',
    name: input.name,
    priority: 1,
    status: 'ACTIVE',
    conditions: {
      network: { connection: 'ANYWHERE' },
      // "User matches: User attribute byndidRegistered Equals true" (the value is case-sensitive).
      userIdentifier: { type: 'ATTRIBUTE', attribute: REGISTRATION_ATTRIBUTE, patterns: [{ matchType: 'EQUALS', value: 'true' }] },
    },
    actions: { idp: { providers: [{ type: 'OIDC', id: input.idpId }], idpSelectionType: 'SPECIFIC' } },
  };
}

export function pointsAtLatchkey(idp: OktaIdentityProvider, issuer: string, clientId?: string): boolean {
  return idp.type === 'OIDC' && idp.protocol?.issuer?.url === issuer && (clientId === undefined || idp.protocol?.credentials?.client?.client_id === clientId);
}

export function isRegistrationRule(rule: OktaPolicyRule, idpId: string): boolean {
  const identifier = rule.conditions?.userIdentifier;
  return (
    (rule.actions?.idp?.providers ?? []).some((provider) => provider.id === idpId) &&
    identifier?.type === 'ATTRIBUTE' &&
    identifier.attribute === REGISTRATION_ATTRIBUTE &&
    (identifier.patterns ?? []).some((pattern) => pattern.matchType === 'EQUALS' && pattern.value === 'true')
  );
}

/** The Latchkey app Okta signs in through, for this org: the one setup recorded, else any for the domain. */
export async function oktaAppFor(services: Pick<Services, 'apps'>, domain: string, state: OktaSetupState): Promise<AppRecord | null> {
  const apps = (await services.apps.list()).filter((app) => app.kind === 'okta' && app.oktaDomain === domain);
  return apps.find((app) => app.id === state.appId) ?? apps[0] ?? null;
}

export async function findIdpDiscoveryPolicy(directory: OktaDirectory) {
  const policies = await directory.listPolicies('IDP_DISCOVERY');
  return policies.find((policy) => policy.status === 'ACTIVE') ?? policies[0] ?? null;
}

type StepAction = 'found' | 'created' | 'would_create';
interface Step {
  step: 'attribute' | 'group' | 'latchkey_app' | 'identity_provider' | 'routing_rule';
  action: StepAction;
  name: string;
  id?: string | null;
  detail?: string;
}

export async function setupOkta(services: Services, options: { group?: string; idpName?: string; ruleName?: string; dryRun?: boolean }, actor: Actor) {
  const connection = await requireOktaConnection(services);
  const directory = connection.directory();
  const domain = connection.domain;
  const issuer = services.config.issuer;
  const dryRun = options.dryRun ?? false;
  const groupName = options.group?.trim() || DEFAULT_GROUP;
  const idpName = options.idpName?.trim() || DEFAULT_IDP_NAME;
  const ruleName = options.ruleName?.trim() || DEFAULT_RULE_NAME;
  const state = await loadSetupState(services, domain);
  const steps: Step[] = [];
  const warnings: string[] = [SUPER_ADMIN_WARNING];
  const act = (found: boolean): StepAction => (found ? 'found' : dryRun ? 'would_create' : 'created');
  const save = async () => {
    if (!dryRun) await services.store.settings.set(OKTA_SETUP_KEY, JSON.stringify(state));
  };

  // 1. The boolean, read-only profile attribute (Directory > Profile editor > User (default)).
  const schema = await directory.getUserSchema();
  const existing = schema.definitions?.custom?.properties?.[REGISTRATION_ATTRIBUTE];
  if (existing && existing.type !== 'boolean') {
    throw new AppError('conflict', `Okta already has a user attribute "${REGISTRATION_ATTRIBUTE}" of type ${existing.type}; setup does not change attributes: make it a boolean in Okta's Profile Editor, then run setup again`);
  }
  if (existing && !(existing.permissions ?? []).some((permission) => permission.principal === 'SELF' && permission.action === 'READ_ONLY')) {
    warnings.push(`the existing "${REGISTRATION_ATTRIBUTE}" attribute is not read-only for users; set User permission to Read only in Okta's Profile Editor so nobody can route themselves`);
  }
  if (!existing && !dryRun) {
    await directory.addUserSchemaProperty(REGISTRATION_ATTRIBUTE, registrationAttribute());
    state.attributeCreated = true;
    await save();
  }
  steps.push({ step: 'attribute', action: act(!!existing), name: REGISTRATION_ATTRIBUTE, detail: 'boolean, read-only for users' });

  // 2. The group.
  const groups = await directory.findGroupsByName(groupName);
  let group = groups.find((candidate) => candidate.id === state.groupId) ?? groups[0] ?? null;
  const groupFound = !!group;
  if (!group && !dryRun) {
    group = await directory.createGroup({ name: groupName, description: 'People who sign in to Okta with a Latchkey passkey' });
    state.groupId = group.id;
    await save();
  }
  steps.push({ step: 'group', action: act(groupFound), name: groupName, id: group?.id ?? null });

  // 3. The Okta app in Latchkey (its client id and secret go into the IdP).
  let app = await oktaAppFor(services, domain, state);
  const appFound = !!app;
  let clientSecret: string | null = app ? services.apps.revealSecret(app) : null;
  if (!app && !dryRun) {
    const created = await services.apps.createOktaApp({ oktaDomain: domain, name: 'Okta' }, actor);
    app = created.app;
    clientSecret = created.clientSecret;
    state.appId = app.id;
    await save();
  }
  steps.push({ step: 'latchkey_app', action: act(appFound), name: app?.name ?? 'Okta', id: app?.id ?? null, detail: `redirect URI ${domain}/oauth2/v1/authorize/callback` });

  // 4. The OpenID Connect IdP in Okta, pointing at this Latchkey.
  const idps = await directory.listIdentityProviders();
  let idp = (app && idps.find((candidate) => pointsAtLatchkey(candidate, issuer, app!.id))) || (state.idpId ? idps.find((candidate) => candidate.id === state.idpId) : undefined) || null;
  const idpFound = !!idp;
  if (!idp) {
    const clash = idps.find((candidate) => candidate.name.toLowerCase() === idpName.toLowerCase());
    if (clash) {
      throw new AppError('conflict', `Okta already has an identity provider named "${clash.name}" (${clash.id}) that does not point at this Latchkey (${issuer}, client ${app?.id ?? 'new'}); setup leaves it alone: pass --idp-name to create another`);
    }
    if (!dryRun) {
      if (!app || !clientSecret) throw new AppError('invalid_input', 'the Latchkey Okta app has no client secret to give Okta');
      idp = await directory.createIdentityProvider(identityProviderFor({ name: idpName, issuer, clientId: app.id, clientSecret }));
      state.idpId = idp.id;
      await save();
    }
  }
  steps.push({ step: 'identity_provider', action: act(idpFound), name: idp?.name ?? idpName, id: idp?.id ?? null, detail: `issuer ${issuer}, scopes ${OIDC_SCOPES.join(' ')}, account link automatic, match username or email` });

  // 5. The routing rule in the IdP discovery policy.
  const policy = await findIdpDiscoveryPolicy(directory);
  if (!policy) throw new AppError('upstream', 'Okta has no IDP_DISCOVERY policy (routing rules need Okta Identity Engine or the IdP discovery feature)');
  const rules = idp ? await directory.listPolicyRules(policy.id) : [];
  let rule = (idp && rules.find((candidate) => isRegistrationRule(candidate, idp!.id))) || null;
  const ruleFound = !!rule;
  if (!rule && !dryRun && idp) {
    rule = await directory.createPolicyRule(policy.id, routingRuleFor({ name: ruleName, idpId: idp.id }));
    state.policyId = policy.id;
    state.ruleId = rule.id;
    await save();
  }
  steps.push({ step: 'routing_rule', action: act(ruleFound), name: rule?.name ?? ruleName, id: rule?.id ?? null, detail: `${REGISTRATION_ATTRIBUTE} Equals true -> ${idp?.name ?? idpName}${rule && rule.status !== 'ACTIVE' ? ` (status ${rule.status})` : ''}` });

  const requeued = dryRun ? 0 : await requeueFailedSyncJobs(services);
  if (!dryRun) await services.audit.record({ kind: 'cli', action: 'okta.setup', actor, detail: { domain, created: steps.filter((step) => step.action === 'created').map((step) => step.step) } });
  return {
    dry_run: dryRun,
    okta_domain: domain,
    issuer,
    changed: steps.some((step) => step.action !== 'found'),
    steps,
    ...(dryRun ? {} : { requeued_failed_deliveries: requeued }),
    warnings,
    next_steps: [
      `push the "${groupName}" group to Latchkey over SCIM, then: latchkey apps assign ${app?.id ?? '<client_id>'} --group "${groupName}"`,
      'run `latchkey okta doctor` to check the whole chain',
    ],
  };
}
