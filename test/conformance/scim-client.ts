/**
 * A SCIM client the way Okta's "SCIM 2.0 Test App (OAuth Bearer Token)" talks (OKTA.md §2):
 * bearer token, Okta's User-Agent, application/scim+json, against a real running Latchkey.
 */
import { startTestServer, type StoreKind, type TestServer } from '../support/test-server.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

export const SCIM = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
} as const;

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
  /** undefined: the harness token; null: no Authorization header at all. */
  authorization?: string | null;
  /** Extra request headers (If-Match, If-None-Match). */
  headers?: Record<string, string>;
}

export interface ScimHarness {
  server: TestServer;
  token: string;
  tokenId: string;
  base: string;
  request(method: string, path: string, options?: ScimRequestOptions): Promise<ScimResponse>;
  close(): Promise<void>;
}

export async function startScimHarness(store: StoreKind): Promise<ScimHarness> {
  const server = await startTestServer({ store });
  const { token, info } = await server.services.scimTokens.create({ name: 'Okta SCIM Token' }, CLI_ACTOR);
  const base = `${server.url}/scim/v2`;

  async function request(method: string, path: string, options: ScimRequestOptions = {}): Promise<ScimResponse> {
    const headers: Record<string, string> = { 'User-Agent': 'Okta SCIM Client 1.0.0', Accept: 'application/scim+json', ...options.headers };
    const authorization = options.authorization === undefined ? `Bearer ${token}` : options.authorization;
    if (authorization !== null) headers.Authorization = authorization;
    const payload = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    if (payload !== undefined) headers['Content-Type'] = options.contentType ?? 'application/scim+json; charset=utf-8';
    const response = await fetch(`${base}${path}`, { method, headers, body: payload });
    const text = await response.text();
    return { status: response.status, headers: response.headers, contentType: response.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : null };
  }

  return { server, token, tokenId: info.id, base, request, close: () => server.close() };
}

/** `filter=userName eq "x"` and friends, URL-encoded the way Okta sends them. */
export const query = (params: Record<string, string | number>): string =>
  `?${Object.entries(params).map(([key, value]) => `${key}=${encodeURIComponent(String(value))}`).join('&')}`;
