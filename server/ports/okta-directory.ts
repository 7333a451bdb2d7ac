/**
 * Okta's management API, as much of it as Latchkey uses (OKTA.md §3; shapes from Okta's
 * management.yaml). Rules every implementation keeps:
 * - a profile change is a partial update (POST): never a PUT, which would null every other field;
 * - user ids and logins are URL-encoded into the path;
 * - every failure is an OktaApiError carrying Okta's own errorCode/errorSummary and the
 *   rate-limit window, so callers decide on `kind` (retry, wait, stop), never on messages.
 */

export interface OktaRateLimit {
  limit: number | null;
  remaining: number | null;
  /** X-Rate-Limit-Reset (UTC epoch seconds) as epoch milliseconds. */
  resetAt: number | null;
}

export type OktaErrorKind =
  /** 401: missing, wrong, expired or revoked API token (E0000011). */
  | 'unauthorized'
  /** 403: the token's admin lacks the permission (E0000006). */
  | 'forbidden'
  /** 404: no such user, IdP, policy (E0000007). */
  | 'not_found'
  /** 429 (E0000047): wait until rateLimit.resetAt. */
  | 'rate_limited'
  /** 400/409/other 4xx: Okta refused the request as sent (e.g. E0000001 validation). */
  | 'rejected'
  /** 5xx: Okta (or a proxy in front of it) is failing; retry later. */
  | 'unavailable'
  /** No HTTP answer at all: DNS, refused or dropped connection, timeout. */
  | 'network'
  /** An answer that is not Okta's API (HTML, not JSON, an unexpected shape). */
  | 'unexpected';

export class OktaApiError extends Error {
  readonly kind: OktaErrorKind;
  /** HTTP status; 0 when no response arrived. */
  readonly status: number;
  readonly errorCode: string | null;
  readonly errorSummary: string;
  readonly errorId: string | null;
  readonly errorCauses: string[];
  readonly rateLimit: OktaRateLimit | null;
  constructor(init: { kind: OktaErrorKind; status: number; errorSummary: string; errorCode?: string | null; errorId?: string | null; errorCauses?: string[]; rateLimit?: OktaRateLimit | null; cause?: unknown }) {
    const causes = init.errorCauses ?? [];
    super(
      `${init.errorSummary}${causes.length ? ` (${causes.join('; ')})` : ''}${init.errorCode ? ` [${init.errorCode}${init.status ? `, HTTP ${init.status}` : ''}]` : init.status ? ` [HTTP ${init.status}]` : ''}`,
      { cause: init.cause },
    );
    this.name = 'OktaApiError';
    this.kind = init.kind;
    this.status = init.status;
    this.errorCode = init.errorCode ?? null;
    this.errorSummary = init.errorSummary;
    this.errorId = init.errorId ?? null;
    this.errorCauses = causes;
    this.rateLimit = init.rateLimit ?? null;
  }

  /** Worth another try later without anyone changing anything. */
  get transient(): boolean {
    return this.kind === 'rate_limited' || this.kind === 'unavailable' || this.kind === 'network';
  }
}

export const isOktaApiError = (error: unknown, kind?: OktaErrorKind): error is OktaApiError =>
  error instanceof OktaApiError && (kind === undefined || error.kind === kind);

export interface OktaUser {
  id: string;
  status: string;
  profile: { login: string; email?: string | null; firstName?: string | null; lastName?: string | null; [attribute: string]: unknown };
  [field: string]: unknown;
}

export interface OktaSchemaPermission {
  principal: string;
  action: string;
}

export interface OktaSchemaProperty {
  title: string;
  type: 'string' | 'boolean' | 'integer' | 'number' | 'array';
  description?: string;
  required?: boolean;
  permissions?: OktaSchemaPermission[];
  [field: string]: unknown;
}

export interface OktaUserSchema {
  id: string;
  definitions: {
    base: { properties: Record<string, OktaSchemaProperty> };
    custom: { properties: Record<string, OktaSchemaProperty>; required?: string[] };
  };
  [field: string]: unknown;
}

export interface OktaGroup {
  id: string;
  type: string;
  profile: { name: string; description?: string | null };
  [field: string]: unknown;
}

export interface OktaEndpoint {
  url: string;
  binding: 'HTTP-REDIRECT' | 'HTTP-POST';
}

export interface OktaOidcIdentityProviderInput {
  type: 'OIDC';
  name: string;
  protocol: {
    type: 'OIDC';
    endpoints: { authorization: OktaEndpoint; token: OktaEndpoint; userInfo?: OktaEndpoint; jwks: OktaEndpoint };
    scopes: string[];
    issuer: { url: string };
    credentials: { client: { client_id: string; client_secret?: string; token_endpoint_auth_method?: string; pkce_required?: boolean } };
    algorithms?: Record<string, unknown>;
  };
  policy: {
    accountLink: { action: 'AUTO' | 'DISABLED'; filter: OktaAccountLinkFilter | null };
    provisioning: { action: 'AUTO' | 'DISABLED'; profileMaster?: boolean; groups?: { action: string }; conditions?: Record<string, unknown> };
    subject: { userNameTemplate: { template: string }; matchType: 'USERNAME' | 'EMAIL' | 'USERNAME_OR_EMAIL' | 'CUSTOM_ATTRIBUTE'; filter?: string | null };
    maxClockSkew: number;
  };
}

export interface OktaIdentityProvider extends OktaOidcIdentityProviderInput {
  id: string;
  status: 'ACTIVE' | 'INACTIVE';
  [field: string]: unknown;
}

export interface OktaPolicy {
  id: string;
  type: string;
  name: string;
  status: 'ACTIVE' | 'INACTIVE';
  system?: boolean;
  [field: string]: unknown;
}

export interface OktaIdpDiscoveryRuleInput {
  type: 'IDP_DISCOVERY';
  name: string;
  priority?: number;
  status?: 'ACTIVE' | 'INACTIVE';
  conditions: {
    network?: { connection: string };
    userIdentifier?: { type: 'ATTRIBUTE' | 'IDENTIFIER'; attribute?: string; patterns: { matchType: string; value: string }[] };
    [condition: string]: unknown;
  };
  actions: { idp: { providers: { type: string; id?: string; name?: string }[]; idpSelectionType?: 'SPECIFIC' | 'DYNAMIC' } };
}

export interface OktaPolicyRule extends OktaIdpDiscoveryRuleInput {
  id: string;
  status: 'ACTIVE' | 'INACTIVE';
  system?: boolean;
  [field: string]: unknown;
}

/** Which Okta users automatic account linking may link to (OKTA.md "Linking and JIT"). */
export interface OktaAccountLinkFilter {
  groups?: { include?: string[] };
  users?: { exclude?: string[] };
}

export interface OktaDirectory {
  /** The org's URL this directory talks to ("https://dev-123.okta.com"). */
  readonly domain: string;
  /** GET /api/v1/users/me: proves the token works and says whose it is. */
  whoami(): Promise<OktaUser>;
  /** GET /api/v1/users/{id | login | login short name}. */
  getUser(idOrLogin: string): Promise<OktaUser>;
  /** POST /api/v1/users/{idOrLogin} with `{profile}` only: partial update, other fields untouched. */
  partialUpdateProfile(idOrLogin: string, profile: Record<string, unknown>): Promise<OktaUser>;
  /** GET /api/v1/meta/schemas/user/default. */
  getUserSchema(): Promise<OktaUserSchema>;
  /** POST /api/v1/meta/schemas/user/default adding one custom property (partial update). */
  addUserSchemaProperty(name: string, property: OktaSchemaProperty): Promise<OktaUserSchema>;
  /** GET /api/v1/groups?search=profile.name eq "…": exact name. */
  findGroupsByName(name: string): Promise<OktaGroup[]>;
  createGroup(profile: { name: string; description?: string }): Promise<OktaGroup>;
  listIdentityProviders(): Promise<OktaIdentityProvider[]>;
  getIdentityProvider(id: string): Promise<OktaIdentityProvider>;
  createIdentityProvider(idp: OktaOidcIdentityProviderInput): Promise<OktaIdentityProvider>;
  /** GET /api/v1/policies?type=…; an org has exactly one IDP_DISCOVERY policy. */
  listPolicies(type: 'IDP_DISCOVERY'): Promise<OktaPolicy[]>;
  listPolicyRules(policyId: string): Promise<OktaPolicyRule[]>;
  createPolicyRule(policyId: string, rule: OktaIdpDiscoveryRuleInput): Promise<OktaPolicyRule>;
  /**
   * GET /api/v1/iam/assignees/users: ids of the users holding an admin role assignment (directly;
   * roles held through a group show up as that group's members in Okta's own view). Used to keep
   * Okta admins out of IdP account linking.
   */
  listAdminUserIds(): Promise<string[]>;
}
