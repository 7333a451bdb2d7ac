/**
 * The OktaDirectory port over HTTP (Okta management API, OKTA.md §3):
 * - `Authorization: SSWS <token>`, `Accept: application/json`; the token goes to the configured
 *   org only (redirects are refused, pagination links must stay on the same origin);
 * - ids and logins are URL-encoded into the path; profile changes are POST (partial), never PUT;
 * - every answer's X-Rate-Limit-* headers are parsed; errors become OktaApiError with Okta's
 *   errorCode/errorSummary/errorCauses, a network failure or timeout is kind 'network'.
 */
import {
  OktaApiError,
  type OktaDirectory,
  type OktaErrorKind,
  type OktaGroup,
  type OktaIdentityProvider,
  type OktaIdpDiscoveryRuleInput,
  type OktaOidcIdentityProviderInput,
  type OktaPolicy,
  type OktaPolicyRule,
  type OktaRateLimit,
  type OktaSchemaProperty,
  type OktaUser,
  type OktaUserSchema,
} from '../../ports/okta-directory.ts';

export interface OktaClientOptions {
  domain: string;
  token: string;
  /** Per request; keep well under the job lease so a slow call never overlaps a second worker. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const userAgent = 'latchkey-okta/0.1';

export function parseRateLimit(headers: Headers): OktaRateLimit | null {
  const read = (name: string) => {
    const raw = headers.get(name);
    if (raw === null || raw.trim() === '') return null;
    const value = Number(raw);
    return Number.isFinite(value) ? value : null;
  };
  const limit = read('x-rate-limit-limit');
  const remaining = read('x-rate-limit-remaining');
  const reset = read('x-rate-limit-reset');
  if (limit === null && remaining === null && reset === null) return null;
  return { limit, remaining, resetAt: reset === null ? null : reset * 1000 };
}

function kindFor(status: number): OktaErrorKind {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'unavailable';
  return 'rejected';
}

/** `<https://x/api/v1/idps?after=abc&limit=20>; rel="next"` -> the next URL. */
function nextLink(headers: Headers): string | null {
  const link = headers.get('link');
  if (!link) return null;
  for (const part of link.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part.trim());
    if (match) return match[1];
  }
  return null;
}

export function createOktaClient(options: OktaClientOptions): OktaDirectory {
  const domain = options.domain.replace(/\/+$/, '');
  const origin = new URL(domain).origin;
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 15_000;

  async function send(method: string, url: string, body?: unknown): Promise<{ data: unknown; headers: Headers }> {
    if (new URL(url).origin !== origin) {
      throw new OktaApiError({ kind: 'unexpected', status: 0, errorSummary: `refusing to send the API token to ${new URL(url).origin} (configured org is ${origin})` });
    }
    let response: Response;
    try {
      response = await doFetch(url, {
        method,
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
        headers: {
          authorization: `SSWS ${options.token}`,
          accept: 'application/json',
          'user-agent': userAgent,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      const err = error as Error & { cause?: { code?: string; message?: string } };
      const timedOut = err.name === 'TimeoutError' || err.name === 'AbortError';
      const detail = timedOut ? `no answer within ${timeoutMs} ms` : (err.cause?.code ?? err.cause?.message ?? err.message);
      throw new OktaApiError({ kind: 'network', status: 0, errorSummary: `could not reach ${origin}: ${detail}`, cause: error });
    }
    const rateLimit = parseRateLimit(response.headers);
    const text = await response.text().catch(() => '');
    let data: unknown = null;
    let isJson = false;
    if (text) {
      try {
        data = JSON.parse(text);
        isJson = true;
      } catch {
        isJson = false;
      }
    }
    if (!response.ok) {
      const error = (isJson && data && typeof data === 'object' ? data : {}) as { errorCode?: string; errorSummary?: string; errorId?: string; errorCauses?: { errorSummary?: string }[] };
      const kind = kindFor(response.status);
      throw new OktaApiError({
        // A 4xx without Okta's error body is not Okta answering (a wrong host, a proxy).
        kind: error.errorCode || kind === 'unavailable' || kind === 'rate_limited' ? kind : 'unexpected',
        status: response.status,
        errorCode: error.errorCode ?? null,
        errorSummary: error.errorSummary ?? `HTTP ${response.status} ${response.statusText || ''}`.trim() + (error.errorCode ? '' : ' without an Okta error body'),
        errorId: error.errorId ?? null,
        errorCauses: (error.errorCauses ?? []).map((cause) => cause.errorSummary ?? '').filter(Boolean),
        rateLimit,
      });
    }
    if (text && !isJson) {
      throw new OktaApiError({ kind: 'unexpected', status: response.status, errorSummary: `${origin} answered ${method} ${new URL(url).pathname} with something other than JSON: is this an Okta org URL?`, rateLimit });
    }
    return { data, headers: response.headers };
  }

  const url = (path: string, query?: Record<string, string | undefined>) => {
    const target = new URL(`${domain}${path}`);
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) target.searchParams.set(key, value);
    return target.href;
  };

  async function call<T>(method: string, path: string, options: { query?: Record<string, string | undefined>; body?: unknown } = {}): Promise<T> {
    return (await send(method, url(path, options.query), options.body)).data as T;
  }

  /** Follows Link rel="next" until the last page. */
  async function list<T>(path: string, query?: Record<string, string | undefined>): Promise<T[]> {
    const items: T[] = [];
    let next: string | null = url(path, query);
    for (let page = 0; next && page < 1000; page++) {
      const { data, headers } = await send('GET', next);
      if (!Array.isArray(data)) throw new OktaApiError({ kind: 'unexpected', status: 200, errorSummary: `expected a list from GET ${path}` });
      items.push(...(data as T[]));
      next = nextLink(headers);
    }
    return items;
  }

  const userPath = (idOrLogin: string) => `/api/v1/users/${encodeURIComponent(idOrLogin)}`;
  const schemaPath = '/api/v1/meta/schemas/user/default';

  return {
    domain,
    whoami: () => call<OktaUser>('GET', '/api/v1/users/me'),
    getUser: (idOrLogin) => call<OktaUser>('GET', userPath(idOrLogin)),
    partialUpdateProfile: (idOrLogin, profile) => call<OktaUser>('POST', userPath(idOrLogin), { body: { profile } }),
    getUserSchema: () => call<OktaUserSchema>('GET', schemaPath),
    addUserSchemaProperty: (name: string, property: OktaSchemaProperty) =>
      call<OktaUserSchema>('POST', schemaPath, { body: { definitions: { custom: { id: '#custom', type: 'object', properties: { [name]: property } } } } }),
    findGroupsByName: (name) => list<OktaGroup>('/api/v1/groups', { search: `profile.name eq "${name.replace(/["\\]/g, '\\$&')}"` }),
    createGroup: (profile) => call<OktaGroup>('POST', '/api/v1/groups', { body: { profile } }),
    listIdentityProviders: () => list<OktaIdentityProvider>('/api/v1/idps', { limit: '200' }),
    async listAdminUserIds() {
      // This endpoint pages in its body ({value, _links.next}), not in a Link header.
      const ids: string[] = [];
      let next: string | null = url('/api/v1/iam/assignees/users', { limit: '200' });
      for (let page = 0; next && page < 1000; page++) {
        const { data } = await send('GET', next);
        const body = (data ?? {}) as { value?: Array<{ id?: unknown }>; _links?: { next?: { href?: string } } };
        if (!Array.isArray(body.value)) throw new OktaApiError({ kind: 'unexpected', status: 200, errorSummary: 'expected {value: [...]} from GET /api/v1/iam/assignees/users' });
        for (const entry of body.value) if (typeof entry.id === 'string') ids.push(entry.id);
        next = body._links?.next?.href ?? null;
      }
      return ids;
    },
    getIdentityProvider: (id) => call<OktaIdentityProvider>('GET', `/api/v1/idps/${encodeURIComponent(id)}`),
    createIdentityProvider: (idp: OktaOidcIdentityProviderInput) => call<OktaIdentityProvider>('POST', '/api/v1/idps', { body: idp }),
    listPolicies: (type) => list<OktaPolicy>('/api/v1/policies', { type }),
    listPolicyRules: (policyId) => list<OktaPolicyRule>(`/api/v1/policies/${encodeURIComponent(policyId)}/rules`),
    createPolicyRule: (policyId, rule: OktaIdpDiscoveryRuleInput) => call<OktaPolicyRule>('POST', `/api/v1/policies/${encodeURIComponent(policyId)}/rules`, { body: rule }),
  };
}
