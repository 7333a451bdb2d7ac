/**
 * SCIM 2.0 as Okta's "SCIM 2.0 Test App (OAuth Bearer Token)" speaks it (OKTA.md §2): the schema
 * URNs, the one builder of User bodies, PATCH bodies, and a client with Okta's headers.
 */
export const SCIM = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
} as const;

/** The password placeholder Okta sends on create; it must never be stored or echoed. */
export const OKTA_PASSWORD_PLACEHOLDER = '1mz050nq';

export interface ScimUserOptions {
  givenName?: string;
  familyName?: string;
  /** Okta's user id; omitted when not given. */
  externalId?: string;
  /** Any other attribute, set or overriding the defaults (e.g. `active: 'maybe'` for a bad value). */
  [attribute: string]: unknown;
}

/** Okta's create body (OKTA.md §2 "Create"): name, primary work email, displayName, locale, groups, password placeholder, active. */
export function scimUserBody(userName: string, options: ScimUserOptions = {}): Record<string, unknown> {
  const { givenName = 'Test', familyName = 'User', externalId, ...extra } = options;
  return {
    schemas: [SCIM.user],
    userName,
    name: { givenName, familyName },
    emails: [{ primary: true, value: userName, type: 'work' }],
    displayName: `${givenName} ${familyName}`,
    locale: 'en-US',
    ...(externalId === undefined ? {} : { externalId }),
    groups: [],
    password: OKTA_PASSWORD_PLACEHOLDER,
    active: true,
    ...extra,
  };
}

/** A PatchOp body with these operations. */
export const scimPatch = (...Operations: unknown[]) => ({ schemas: [SCIM.patchOp], Operations });

/** What Okta sends to deactivate or reactivate: a replace with no path (OKTA.md §2). */
export const scimSetActive = (active: boolean) => scimPatch({ op: 'replace', value: { active } });

export interface ScimResponse {
  status: number;
  headers: Headers;
  contentType: string;
  /** Parsed JSON, or null for an empty body: asserting its shape is the test's job. */
  body: any;
}

export interface ScimRequestOptions {
  body?: unknown;
  /** Sent as is (for malformed JSON and oversized bodies). */
  rawBody?: string;
  contentType?: string;
  /** undefined: the client's token; null: no Authorization header at all. */
  authorization?: string | null;
  /** Extra request headers (If-Match, If-None-Match). */
  headers?: Record<string, string>;
}

export type ScimRequest = (method: string, path: string, options?: ScimRequestOptions) => Promise<ScimResponse>;

/** A client for `{base}` (e.g. `${server.url}/scim/v2`) with Okta's User-Agent and content type. */
export function scimClient(base: string, token: string): ScimRequest {
  return async (method, path, options = {}) => {
    const headers: Record<string, string> = { 'User-Agent': 'Okta SCIM Client 1.0.0', Accept: 'application/scim+json', ...options.headers };
    const authorization = options.authorization === undefined ? `Bearer ${token}` : options.authorization;
    if (authorization !== null) headers.Authorization = authorization;
    const payload = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    if (payload !== undefined) headers['Content-Type'] = options.contentType ?? 'application/scim+json; charset=utf-8';
    const response = await fetch(`${base}${path}`, { method, headers, body: payload });
    const text = await response.text();
    let body: unknown = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        throw new Error(`SCIM ${method} ${path} answered ${response.status} with a body that is not JSON: ${text.slice(0, 500)}`);
      }
    }
    return { status: response.status, headers: response.headers, contentType: response.headers.get('content-type') ?? '', body };
  };
}

/** `filter=userName eq "x"` and friends, URL-encoded the way Okta sends them. */
export const query = (params: Record<string, string | number>): string =>
  `?${Object.entries(params).map(([key, value]) => `${key}=${encodeURIComponent(String(value))}`).join('&')}`;
