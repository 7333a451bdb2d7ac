/**
 * An Okta management API emulator: a real HTTP server answering exactly the endpoints Latchkey
 * uses, with Okta's request and response shapes (okta-sdk-nodejs oas-spec/management.yaml):
 * - SSWS token authentication; 401 E0000011 for a missing, unknown or revoked token;
 * - errors as {errorCode, errorSummary, errorLink, errorId, errorCauses[]};
 * - X-Rate-Limit-Limit / -Remaining / -Reset (epoch seconds) on every answer, 429 E0000047 on demand
 *   or when a bucket's limit is really exceeded;
 * - injectable faults (any status, a dropped connection, a delay) for the next N matching requests,
 *   and a standing outage;
 * - users (by id, login or login short name), the default user schema, groups, OIDC IdPs, the
 *   IDP_DISCOVERY policy and its rules; Link rel="next" pagination;
 * - a request log so tests can assert what was (and was not) sent.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createOrgSignIn, DEFAULT_VARIANTS, type OrgVariants } from './org-sign-in.ts';
import { createScimPush, type ScimPush } from './scim-push.ts';

type Json = Record<string, unknown>;

export interface SimUser {
  id: string;
  status: string;
  created: string;
  activated: string | null;
  statusChanged: string | null;
  lastLogin: string | null;
  lastUpdated: string;
  passwordChanged: string | null;
  type: { id: string };
  profile: Record<string, unknown> & { login: string; email: string; firstName: string | null; lastName: string | null };
  credentials: Json;
}

export interface SimFault {
  /** HTTP status to answer with, or 'drop' to destroy the connection without an answer; none = answer normally (after delayMs). */
  status?: number | 'drop';
  /** Seconds until X-Rate-Limit-Reset for a 429 (default 1). */
  resetInSeconds?: number;
  method?: string;
  path?: RegExp;
  delayMs?: number;
  /**
   * Holds the request until the returned promise settles, then answers as the rest of the fault
   * says: a test decides when Okta answers (e.g. to change state while a delivery is in flight).
   */
  hold?: (request: SimRequest) => Promise<void>;
}

export interface SimRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  status: number | 'drop';
  authorization: string | null;
  /** When the request arrived (epoch ms). */
  at: number;
  /** X-Rate-Limit-Reset sent with the answer (epoch seconds). */
  rateLimitReset?: number;
}

export type SimListener = (request: SimRequest) => void;

const now = () => new Date().toISOString();
const oktaId = (prefix: string) => `${prefix}${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x').slice(0, 17)}`;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    readonly errorSummary: string,
    readonly errorCauses: string[] = [],
  ) {
    super(errorSummary);
  }
}

const notFound = (what: string) => new HttpError(404, 'E0000007', `Not found: Resource not found: ${what}`);
const invalid = (what: string, causes: string[] = []) => new HttpError(400, 'E0000001', `Api validation failed: ${what}`, causes);

function baseSchemaProperties() {
  const string = (title: string, extra: Json = {}) => ({ title, type: 'string', permissions: [{ principal: 'SELF', action: 'READ_WRITE' }], ...extra });
  return {
    login: string('Username', { required: true, minLength: 5, maxLength: 100 }),
    firstName: string('First name', { required: true, minLength: 1, maxLength: 50 }),
    lastName: string('Last name', { required: true, minLength: 1, maxLength: 50 }),
    email: string('Primary email', { required: true, format: 'email' }),
    mobilePhone: string('Mobile phone', { maxLength: 100 }),
  } as Record<string, Json>;
}

export interface OktaSimOptions {
  port?: number;
  host?: string;
  /** Requests per minute per bucket before a real 429 (default 600, like users/{id} in many orgs). */
  rateLimit?: number;
  /** How the simulated org behaves where Okta's behaviour is undocumented (OKTA.md "Unconfirmed"). */
  variants?: Partial<OrgVariants>;
}

/** Profile attributes the SCIM app maps: a change to one of them is pushed. */
const SCIM_MAPPED = ['login', 'email', 'firstName', 'lastName', 'locale'];

export async function startOktaSim(options: OktaSimOptions = {}) {
  const users = new Map<string, SimUser>();
  const tokens = new Map<string, { ownerId: string; revoked: boolean }>();
  const customProperties = new Map<string, Json>();
  const groups = new Map<string, Json>();
  const idps = new Map<string, Json>();
  const policies = new Map<string, Json>();
  const rules = new Map<string, Json[]>();
  const faults: SimFault[] = [];
  const requests: SimRequest[] = [];
  const listeners = new Set<SimListener>();
  const buckets = new Map<string, { windowEnd: number; used: number }>();
  const rateLimit = options.rateLimit ?? 600;
  let outage: SimFault | null = null;
  let lastReset = 0;
  let baseUrl = '';
  const memberships = new Map<string, Set<string>>();
  const passwords = new Map<string, string>();
  const idpLinks = new Map<string, Map<string, string>>();
  const appTiles: Array<{ label: string; url: string }> = [];
  const admins = new Set<string>();
  /** The SCIM 2.0 Test App: where it provisions, and which groups are assigned to it and pushed. */
  let scimApp: { push: ScimPush; assignedGroups: Set<string>; pushedGroups: Set<string> } | null = null;
  const groupMembers = (groupId: string) => memberships.get(groupId) ?? memberships.set(groupId, new Set()).get(groupId)!;
  const assignedToScim = (userId: string) => !!scimApp && [...scimApp.assignedGroups].some((groupId) => groupMembers(groupId).has(userId));

  function addUser(input: { login: string; email?: string; firstName?: string; lastName?: string; password?: string; profile?: Record<string, unknown> }): SimUser {
    const at = now();
    const user: SimUser = {
      id: oktaId('00u'),
      status: 'ACTIVE',
      created: at,
      activated: at,
      statusChanged: at,
      lastLogin: null,
      lastUpdated: at,
      passwordChanged: at,
      type: { id: 'oty1simdefault' },
      profile: { firstName: input.firstName ?? 'Test', lastName: input.lastName ?? 'User', mobilePhone: null, secondEmail: null, login: input.login, email: input.email ?? input.login, ...input.profile },
      credentials: { password: {}, provider: { type: 'OKTA', name: 'OKTA' } },
    };
    users.set(user.id, user);
    passwords.set(user.id, input.password ?? 'Password-1234');
    return user;
  }

  function issueToken(ownerId: string): string {
    const token = `00${randomBytes(20).toString('base64url')}`;
    tokens.set(token, { ownerId, revoked: false });
    return token;
  }

  // The org as a fresh Okta org has it: one super admin, their API token, the IdP discovery policy.
  const admin = addUser({ login: 'admin@example.com', firstName: 'Org', lastName: 'Admin' });
  const adminToken = issueToken(admin.id);
  admins.add(admin.id);
  const discoveryPolicy = { id: oktaId('00p'), type: 'IDP_DISCOVERY', name: 'Idp Discovery Policy', status: 'ACTIVE', priority: 1, system: true, description: null, conditions: null, created: now(), lastUpdated: now() };
  policies.set(discoveryPolicy.id as string, discoveryPolicy);
  rules.set(discoveryPolicy.id as string, [
    {
      id: oktaId('0pr'),
      type: 'IDP_DISCOVERY',
      name: 'Default Rule',
      status: 'ACTIVE',
      priority: 1,
      system: true,
      created: now(),
      lastUpdated: now(),
      conditions: { network: { connection: 'ANYWHERE' }, platform: { include: [], exclude: [] }, userIdentifier: { patterns: [] }, app: { include: [], exclude: [] } },
      actions: { idp: { providers: [{ type: 'OKTA' }], idpSelectionType: 'SPECIFIC', shouldFallBackToOkta: false } },
    },
  ]);

  function findUser(idOrLogin: string): SimUser | null {
    const byId = users.get(idOrLogin);
    if (byId) return byId;
    const lower = idOrLogin.toLowerCase();
    const byLogin = [...users.values()].find((user) => user.profile.login.toLowerCase() === lower);
    if (byLogin) return byLogin;
    const byShortName = [...users.values()].filter((user) => user.profile.login.toLowerCase().split('@')[0] === lower);
    return byShortName.length === 1 ? byShortName[0] : null;
  }

  function schemaDocument() {
    return {
      id: `${baseUrl}/meta/schemas/user/default`,
      $schema: 'http://json-schema.org/draft-04/schema#',
      name: 'user',
      title: 'Default Okta user',
      created: '2025-05-20T20:04:26.000Z',
      lastUpdated: now(),
      definitions: {
        base: { id: '#base', type: 'object', properties: baseSchemaProperties(), required: ['login', 'firstName', 'lastName', 'email'] },
        custom: { id: '#custom', type: 'object', properties: Object.fromEntries(customProperties), required: [] },
      },
      type: 'object',
      properties: { profile: { allOf: [{ $ref: '#/definitions/base' }, { $ref: '#/definitions/custom' }] } },
    };
  }

  function validateProfile(profile: Record<string, unknown>) {
    const base = baseSchemaProperties();
    const causes: string[] = [];
    for (const [name, value] of Object.entries(profile)) {
      const definition = base[name] ?? customProperties.get(name) ?? (name === 'secondEmail' ? { type: 'string' } : undefined);
      if (!definition) {
        causes.push(`Property name '${name}' is not defined in profile`);
        continue;
      }
      if (value === null) continue;
      const type = definition.type as string;
      const ok = type === 'boolean' ? typeof value === 'boolean' : type === 'string' ? typeof value === 'string' : type === 'array' ? Array.isArray(value) : typeof value === 'number';
      if (!ok) causes.push(`${name}: The field cannot be assigned a value of type ${Array.isArray(value) ? 'array' : typeof value}; expected ${type}`);
    }
    if (causes.length) throw invalid('profile', causes);
  }

  function paginate<T extends { id?: unknown }>(items: T[], query: Record<string, string>, path: string, defaultLimit: number, res: ServerResponse): T[] {
    const limit = Math.max(1, Math.min(Number(query.limit) || defaultLimit, 200));
    const start = query.after ? items.findIndex((item) => item.id === query.after) + 1 : 0;
    const page = items.slice(start, start + limit);
    const links = [`<${baseUrl}${path}?${new URLSearchParams({ ...query }).toString()}>; rel="self"`];
    if (start + limit < items.length) {
      links.push(`<${baseUrl}${path}?${new URLSearchParams({ ...query, limit: String(limit), after: String(page[page.length - 1].id) }).toString()}>; rel="next"`);
    }
    res.setHeader('link', links.join(', '));
    return page;
  }

  /** `profile.name eq "x"` (the only search form Latchkey sends). */
  function searchGroups(search: string): Json[] {
    const match = /^profile\.name eq "((?:[^"\\]|\\.)*)"$/.exec(search.trim());
    if (!match) throw invalid('search', [`unsupported search expression: ${search}`]);
    const name = match[1].replace(/\\(.)/g, '$1');
    return [...groups.values()].filter((group) => (group.profile as Json).name === name);
  }

  function validateIdp(body: Json) {
    const causes: string[] = [];
    if (body.type !== 'OIDC') causes.push('type: only OIDC is emulated');
    if (typeof body.name !== 'string' || !body.name) causes.push('name: The field cannot be left blank');
    const protocol = (body.protocol ?? {}) as Json;
    const endpoints = (protocol.endpoints ?? {}) as Record<string, Json | undefined>;
    for (const name of ['authorization', 'token', 'jwks']) if (typeof endpoints[name]?.url !== 'string') causes.push(`protocol.endpoints.${name}.url: The field cannot be left blank`);
    if (typeof (protocol.issuer as Json | undefined)?.url !== 'string') causes.push('protocol.issuer.url: The field cannot be left blank');
    if (typeof ((protocol.credentials as Json | undefined)?.client as Json | undefined)?.client_id !== 'string') causes.push('protocol.credentials.client.client_id: The field cannot be left blank');
    const scopes = protocol.scopes;
    if (!Array.isArray(scopes) || !scopes.includes('openid')) causes.push('protocol.scopes: must include openid');
    if (causes.length) throw invalid('idp', causes);
  }

  function rateHeaders(res: ServerResponse, bucketName: string, forced?: SimFault): boolean {
    const t = Date.now();
    let bucket = buckets.get(bucketName);
    if (!bucket || bucket.windowEnd <= t) {
      bucket = { windowEnd: t + 60_000, used: 0 };
      buckets.set(bucketName, bucket);
    }
    bucket.used++;
    const limited = !!forced || bucket.used > rateLimit;
    const reset = forced ? Math.ceil(t / 1000) + (forced.resetInSeconds ?? 1) : Math.ceil(bucket.windowEnd / 1000);
    res.setHeader('x-rate-limit-limit', String(rateLimit));
    res.setHeader('x-rate-limit-remaining', String(limited ? 0 : Math.max(0, rateLimit - bucket.used)));
    res.setHeader('x-rate-limit-reset', String(reset));
    if (limited) lastReset = reset;
    return limited;
  }

  function sendError(res: ServerResponse, error: HttpError) {
    send(res, error.status, { errorCode: error.errorCode, errorSummary: error.errorSummary, errorLink: error.errorCode, errorId: `oae${randomBytes(9).toString('base64url')}`, errorCauses: error.errorCauses.map((errorSummary) => ({ errorSummary })) });
  }

  function send(res: ServerResponse, status: number, body: unknown) {
    res.statusCode = status;
    if (body !== undefined) res.setHeader('content-type', 'application/json');
    res.end(body === undefined ? '' : JSON.stringify(body));
  }

  function takeFault(method: string, path: string): SimFault | null {
    if (outage) return outage;
    const index = faults.findIndex((fault) => (!fault.method || fault.method === method) && (!fault.path || fault.path.test(path)));
    return index >= 0 ? faults.splice(index, 1)[0] : null;
  }

  async function readBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (!text) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new HttpError(400, 'E0000003', 'The request body was not well-formed.');
    }
  }

  async function route(method: string, path: string, query: Record<string, string>, body: unknown, ownerId: string, res: ServerResponse): Promise<[number, unknown]> {
    const parts = path.split('/').filter(Boolean).map((part) => decodeURIComponent(part));
    const json = (body ?? {}) as Json;
    // /api/v1/users/{id}/lifecycle/{deactivate|activate}: Okta deprovisions through assigned apps.
    if (parts[2] === 'users' && parts[4] === 'lifecycle' && parts.length === 6 && method === 'POST') {
      const user = findUser(parts[3]);
      if (!user) throw notFound(`${parts[3]} (User)`);
      const active = parts[5] === 'activate' || parts[5] === 'reactivate';
      if (!active && parts[5] !== 'deactivate') throw notFound(path);
      user.status = active ? 'ACTIVE' : 'DEPROVISIONED';
      user.statusChanged = now();
      if (scimApp && assignedToScim(user.id)) {
        if (active) void scimApp.push.assignUser(user).then(() => scimApp!.push.setActive(user, true));
        else void scimApp.push.setActive(user, false);
      }
      return [200, {}];
    }
    // /api/v1/groups/{id}/users[/{userId}]: membership, pushed when the group is assigned or pushed.
    if (parts[2] === 'groups' && parts[4] === 'users' && (parts.length === 5 || parts.length === 6)) {
      const group = groups.get(parts[3]);
      if (!group) throw notFound(`${parts[3]} (UserGroup)`);
      const members = groupMembers(parts[3]);
      if (parts.length === 5 && method === 'GET') return [200, paginate([...members].map((id) => users.get(id)!).filter(Boolean), query, path, 1000, res)];
      const user = parts.length === 6 ? findUser(parts[5]) : null;
      if (!user) throw notFound(`${parts[5]} (User)`);
      if (method === 'PUT') {
        members.add(user.id);
        group.lastMembershipUpdated = now();
        if (scimApp?.assignedGroups.has(parts[3])) void scimApp.push.assignUser(user);
        if (scimApp?.pushedGroups.has(parts[3])) void scimApp.push.pushGroup(parts[3]);
        return [204, undefined];
      }
      if (method === 'DELETE') {
        members.delete(user.id);
        group.lastMembershipUpdated = now();
        if (scimApp?.pushedGroups.has(parts[3])) void scimApp.push.removeMember(parts[3], user);
        if (scimApp && scimApp.assignedGroups.has(parts[3]) && !assignedToScim(user.id)) void scimApp.push.setActive(user, false);
        return [204, undefined];
      }
    }
    // PUT /api/v1/groups/{id}: rename (pushed as a path-less replace).
    if (parts[2] === 'groups' && parts.length === 4 && method === 'PUT') {
      const group = groups.get(parts[3]);
      if (!group) throw notFound(`${parts[3]} (UserGroup)`);
      const profile = (json.profile ?? {}) as Json;
      if (typeof profile.name !== 'string' || !profile.name.trim()) throw invalid('profile', ['name: The field cannot be left blank']);
      group.profile = { ...(group.profile as Json), ...profile };
      group.lastUpdated = now();
      if (scimApp?.pushedGroups.has(parts[3])) void scimApp.push.renameGroup(parts[3]);
      return [200, group];
    }
    // GET /api/v1/idps/{id}/users: linked users; DELETE …/users/{userId}: unlink.
    if (parts[2] === 'idps' && parts[4] === 'users' && (parts.length === 5 || parts.length === 6)) {
      if (!idps.has(parts[3])) throw notFound(`${parts[3]} (IdentityProvider)`);
      const links = idpLinks.get(parts[3]) ?? new Map<string, string>();
      if (parts.length === 5 && method === 'GET') return [200, [...links].map(([externalId, id]) => ({ id, externalId, created: now(), lastUpdated: now(), profile: {} }))];
      if (parts.length === 6 && method === 'DELETE') {
        for (const [externalId, id] of links) if (id === parts[5]) links.delete(externalId);
        return [204, undefined];
      }
    }
    // /api/v1/users/me | /api/v1/users/{idOrLogin}
    if (parts[2] === 'users' && parts.length === 4) {
      const user = parts[3] === 'me' ? users.get(ownerId)! : findUser(parts[3]);
      if (!user) throw notFound(`${parts[3]} (User)`);
      if (method === 'GET') return [200, user];
      if (method === 'POST' || method === 'PUT') {
        const profile = json.profile as Record<string, unknown> | undefined;
        if (!profile || typeof profile !== 'object') throw invalid('user', ['profile: The field cannot be left blank']);
        validateProfile(profile);
        if (method === 'PUT') {
          // Strict replace: every profile field not sent is nulled (why Latchkey never uses PUT).
          const replaced: SimUser['profile'] = { login: user.profile.login, email: user.profile.email, firstName: null, lastName: null };
          for (const key of Object.keys(user.profile)) if (!(key in replaced)) replaced[key] = null;
          user.profile = { ...replaced, ...profile } as SimUser['profile'];
        } else {
          user.profile = { ...user.profile, ...profile };
        }
        user.lastUpdated = now();
        if (scimApp && assignedToScim(user.id) && Object.keys(profile).some((key) => SCIM_MAPPED.includes(key))) void scimApp.push.updateUser(user);
        return [200, user];
      }
    }
    if (path === '/api/v1/meta/schemas/user/default') {
      if (method === 'GET') return [200, schemaDocument()];
      if (method === 'POST') {
        const custom = ((json.definitions as Json | undefined)?.custom as Json | undefined)?.properties as Record<string, Json | null> | undefined;
        if (!custom) throw invalid('definitions', ['definitions.custom.properties: The field cannot be left blank']);
        for (const [name, property] of Object.entries(custom)) {
          if (property === null) {
            customProperties.delete(name);
            continue;
          }
          if (!['string', 'boolean', 'integer', 'number', 'array'].includes(property.type as string)) throw invalid('definitions', [`${name}.type: unsupported type ${String(property.type)}`]);
          if (typeof property.title !== 'string' || !property.title) throw invalid('definitions', [`${name}.title: The field cannot be left blank`]);
          const existing = customProperties.get(name);
          if (existing && existing.type !== property.type) throw invalid('definitions', [`${name}: the data type of an existing property cannot be changed`]);
          customProperties.set(name, { ...existing, ...property, mutability: 'READ_WRITE', scope: 'NONE', master: { type: 'PROFILE_MASTER' } });
        }
        return [200, schemaDocument()];
      }
    }
    if (path === '/api/v1/groups') {
      if (method === 'GET') {
        let list = [...groups.values()];
        if (query.search) list = searchGroups(query.search);
        else if (query.q) list = list.filter((group) => String((group.profile as Json).name).toLowerCase().startsWith(query.q.toLowerCase()));
        return [200, paginate(list, query, path, 200, res)];
      }
      if (method === 'POST') {
        const profile = (json.profile ?? {}) as Json;
        if (typeof profile.name !== 'string' || !profile.name.trim()) throw invalid('profile', ['name: The field cannot be left blank']);
        if ([...groups.values()].some((group) => (group.profile as Json).name === profile.name)) throw invalid('profile', ['name: An object with this field already exists in the current organization']);
        const group = { id: oktaId('00g'), created: now(), lastUpdated: now(), lastMembershipUpdated: now(), objectClass: ['okta:user_group'], type: 'OKTA_GROUP', profile: { name: profile.name, description: profile.description ?? null } };
        groups.set(group.id, group);
        return [200, group];
      }
    }
    // Users with an admin role assignment; this API pages in its body.
    if (path === '/api/v1/iam/assignees/users' && method === 'GET') {
      return [200, { value: [...admins].map((id) => ({ id, orn: `orn:okta:directory:sim:users:${id}`, _links: {} })), _links: { self: { href: `${baseUrl}${path}` } } }];
    }
    if (path === '/api/v1/idps') {
      if (method === 'GET') {
        let list = [...idps.values()];
        if (query.q) list = list.filter((idp) => String(idp.name).toLowerCase().startsWith(query.q.toLowerCase()));
        if (query.type) list = list.filter((idp) => idp.type === query.type);
        return [200, paginate(list, query, path, 20, res)];
      }
      if (method === 'POST') {
        validateIdp(json);
        const idp = { ...json, id: oktaId('0oa'), status: 'ACTIVE', created: now(), lastUpdated: now(), issuerMode: 'ORG_URL' };
        idps.set(idp.id, idp);
        return [200, idp];
      }
    }
    if (parts[2] === 'idps' && parts.length === 4 && method === 'GET') {
      const idp = idps.get(parts[3]);
      if (!idp) throw notFound(`${parts[3]} (IdentityProvider)`);
      return [200, idp];
    }
    if (path === '/api/v1/policies' && method === 'GET') {
      if (!query.type) throw invalid('type', ['type: The field cannot be left blank']);
      return [200, [...policies.values()].filter((policy) => policy.type === query.type)];
    }
    if (parts[2] === 'policies' && parts[4] === 'rules' && parts.length === 5) {
      const policyRules = rules.get(parts[3]);
      if (!policyRules) throw notFound(`${parts[3]} (Policy)`);
      if (method === 'GET') return [200, paginate(policyRules, query, path, 200, res)];
      if (method === 'POST') {
        if (json.type !== 'IDP_DISCOVERY') throw invalid('type', ['type: must be IDP_DISCOVERY for this policy']);
        if (typeof json.name !== 'string' || !json.name) throw invalid('name', ['name: The field cannot be left blank']);
        const providers = (((json.actions as Json | undefined)?.idp as Json | undefined)?.providers ?? []) as Json[];
        for (const provider of providers) if (provider.type !== 'OKTA' && !idps.has(provider.id as string)) throw invalid('actions', [`actions.idp.providers: Identity provider ${String(provider.id)} does not exist`]);
        const priority = Number(json.priority ?? 1);
        const rule = { ...json, id: oktaId('0pr'), status: json.status ?? 'ACTIVE', system: false, priority, created: now(), lastUpdated: now() };
        // The system default rule always stays last.
        const system = policyRules.filter((candidate) => candidate.system);
        const others = policyRules.filter((candidate) => !candidate.system);
        others.splice(Math.max(0, priority - 1), 0, rule);
        rules.set(parts[3], [...others.map((candidate, index) => ({ ...candidate, priority: index + 1 })), ...system.map((candidate) => ({ ...candidate, priority: others.length + 1 }))]);
        return [200, rules.get(parts[3])!.find((candidate) => candidate.id === rule.id)];
      }
    }
    if (['/api/v1/users', '/api/v1/meta/schemas/user/default', '/api/v1/groups', '/api/v1/idps', '/api/v1/policies'].includes(path) || parts[2] === 'users' || parts[2] === 'policies' || parts[2] === 'idps') {
      throw new HttpError(405, 'E0000022', 'The endpoint does not support the provided HTTP method');
    }
    throw notFound(path);
  }

  const org = createOrgSignIn({
    directory: {
      users,
      idps,
      policies,
      rules,
      groupMembers,
      findUser,
      passwordOf: (userId) => passwords.get(userId) ?? null,
      isAdmin: (userId) => admins.has(userId),
      idpLinks,
      appTiles,
    },
    baseUrl: () => baseUrl,
    variants: { ...DEFAULT_VARIANTS, ...options.variants },
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://sim');
    const method = req.method ?? 'GET';
    // Everything outside the management API is the org's end-user side (sign-in, IdP callback, dashboard).
    if (!url.pathname.startsWith('/api/')) {
      try {
        await org.handle(req, res, url);
      } catch (error) {
        res.statusCode = 500;
        res.end(`simulated Okta failed: ${(error as Error).message}`);
      }
      return;
    }
    const query = Object.fromEntries(url.searchParams);
    const entry: SimRequest = { method, path: url.pathname, query, body: undefined, status: 0, authorization: req.headers.authorization ?? null, at: Date.now() };
    requests.push(entry);
    try {
      await answer(req, res, url, method, query, entry);
    } finally {
      for (const listener of listeners) listener(entry);
    }
  }

  async function answer(req: IncomingMessage, res: ServerResponse, url: URL, method: string, query: Record<string, string>, entry: SimRequest) {
    try {
      entry.body = await readBody(req);
      const fault = takeFault(method, url.pathname);
      if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      if (fault?.hold) await fault.hold(entry);
      if (fault?.status === 'drop') {
        entry.status = 'drop';
        req.socket.destroy();
        return;
      }
      const bucket = `${method} ${url.pathname.replace(/^(\/api\/v1\/[a-z]+).*$/, '$1')}`;
      if (rateHeaders(res, bucket, fault?.status === 429 ? fault : undefined)) {
        entry.rateLimitReset = lastReset;
        throw new HttpError(429, 'E0000047', 'API call exceeded rate limit due to too many requests.');
      }
      if (fault && typeof fault.status === 'number') {
        throw fault.status >= 500
          ? new HttpError(fault.status, fault.status === 503 ? 'E0000010' : 'E0000009', fault.status === 503 ? 'Service is currently unavailable. Try again later.' : 'Internal Server Error')
          : new HttpError(fault.status, 'E0000001', `Api validation failed: injected ${fault.status}`);
      }
      const match = /^SSWS (.+)$/.exec(req.headers.authorization ?? '');
      const token = match ? tokens.get(match[1].trim()) : undefined;
      if (!token || token.revoked || !users.has(token.ownerId)) throw new HttpError(401, 'E0000011', 'Invalid token provided');
      if (!url.pathname.startsWith('/api/v1/')) throw notFound(url.pathname);
      const [status, body] = await route(method, url.pathname, query, entry.body, token.ownerId, res);
      entry.status = status;
      send(res, status, body);
    } catch (error) {
      const httpError = error instanceof HttpError ? error : new HttpError(500, 'E0000009', 'Internal Server Error');
      entry.status = httpError.status;
      sendError(res, httpError);
    }
  }

  let server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  const closeServer = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  baseUrl = `http://${options.host ?? '127.0.0.1'}:${address.port}`;

  return {
    url: baseUrl,
    /** A super admin's API token. */
    token: adminToken,
    admin,
    users,
    groups,
    idps,
    policies,
    rules,
    customProperties,
    requests,
    addUser,
    findUser,
    issueToken,
    revokeToken(token: string) {
      const entry = tokens.get(token);
      if (entry) entry.revoked = true;
    },
    /** Answer the next matching requests with these faults, in order. */
    injectFaults(...list: SimFault[]) {
      faults.push(...list);
    },
    /** A standing failure for every request until cleared (null). */
    setOutage(fault: SimFault | null) {
      outage = fault;
    },
    /** Requests that reached the API, optionally filtered. */
    requestsTo(method: string, path: RegExp) {
      return requests.filter((request) => request.method === method && path.test(request.path));
    },
    org,
    memberships,
    idpLinks,
    appTiles,
    /** Adds a person to a group, as Directory > Groups > Assign people does (pushes like the API). */
    addToGroup(groupId: string, userId: string) {
      groupMembers(groupId).add(userId);
      const user = users.get(userId);
      if (user && scimApp?.assignedGroups.has(groupId)) void scimApp.push.assignUser(user);
      if (scimApp?.pushedGroups.has(groupId)) void scimApp.push.pushGroup(groupId);
    },
    addGroup(name: string) {
      const group = { id: oktaId('00g'), created: now(), lastUpdated: now(), lastMembershipUpdated: now(), objectClass: ['okta:user_group'], type: 'OKTA_GROUP', profile: { name, description: null } };
      groups.set(group.id, group);
      return group;
    },
    /**
     * The SCIM 2.0 Test App's Provisioning tab: base URL and bearer token ("Test API Credentials"
     * is the first lookup). Assigning a group provisions its members; pushing it creates the group.
     */
    connectScimApp(input: { baseUrl: string; token: string }) {
      scimApp = {
        push: createScimPush({ baseUrl: input.baseUrl, token: input.token, groupName: (id) => ((groups.get(id)?.profile as Json | undefined)?.name as string | undefined) ?? null, groupMembers, users }),
        assignedGroups: new Set(),
        pushedGroups: new Set(),
      };
      return scimApp.push;
    },
    assignGroupToScimApp(groupId: string) {
      if (!scimApp) throw new Error('connect the SCIM app first');
      scimApp.assignedGroups.add(groupId);
      for (const userId of groupMembers(groupId)) {
        const user = users.get(userId);
        if (user && user.status === 'ACTIVE') void scimApp.push.assignUser(user);
      }
      return scimApp.push.idle();
    },
    pushGroupToScimApp(groupId: string) {
      if (!scimApp) throw new Error('connect the SCIM app first');
      scimApp.pushedGroups.add(groupId);
      return scimApp.push.pushGroup(groupId);
    },
    get scimPush(): ScimPush | null {
      return scimApp?.push ?? null;
    },
    /** Adds the registration attribute as `okta setup` would, for tests that start from a set-up org. */
    defineRegistrationAttribute() {
      customProperties.set('byndidRegistered', { title: 'Latchkey Registration Status', type: 'boolean', required: false, permissions: [{ principal: 'SELF', action: 'READ_ONLY' }], mutability: 'READ_WRITE', scope: 'NONE', master: { type: 'PROFILE_MASTER' } });
    },
    /** Calls the listener after every request is answered (or dropped); returns the unsubscribe. */
    onRequest(listener: SimListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Resolves once a request matching `test` was answered (checking the ones already seen first). */
    waitForRequest(test: (request: SimRequest) => boolean, timeoutMs = 30_000): Promise<SimRequest> {
      const seen = requests.find((request) => request.status !== 0 && test(request));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error('Okta emulator: the expected request did not come'));
        }, timeoutMs);
        const listener: SimListener = (request) => {
          if (!test(request)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(request);
        };
        listeners.add(listener);
      });
    },
    /** A real outage: nothing listens on the port any more, connections are refused. */
    async stopListening() {
      await closeServer();
    },
    /** Listens again on the same port. */
    async resumeListening() {
      server = createServer((req, res) => void handle(req, res));
      await new Promise<void>((resolve) => server.listen(address.port, options.host ?? '127.0.0.1', resolve));
    },
    async close() {
      if (server.listening) await closeServer();
    },
  };
}

export type OktaSim = Awaited<ReturnType<typeof startOktaSim>>;
