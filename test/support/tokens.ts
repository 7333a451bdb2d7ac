/**
 * The token endpoint as a client calls it by hand (form body, Basic or POST client
 * authentication), for tests that look at the raw answer; openid-client (okta-fixture's `rp`)
 * is the relying party everywhere a validated exchange is the point.
 */
import { OKTA_CALLBACK } from './okta-fixture.ts';

export interface TokenAnswer {
  status: number;
  body: Record<string, any>;
}

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** POST {issuer}/token; `basic` sends the client credentials as HTTP Basic (RFC 6749 §2.3.1). */
export async function tokenRequest(issuer: string, body: Record<string, string>, basic?: ClientCredentials): Promise<TokenAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(basic.clientId)}:${encodeURIComponent(basic.clientSecret)}`).toString('base64')}`;
  const response = await fetch(`${issuer}/token`, { method: 'POST', headers, body: new URLSearchParams(body) });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as Record<string, any> };
  } catch {
    throw new Error(`/token answered ${response.status} with a body that is not JSON: ${text.slice(0, 500)}`);
  }
}

/** The code in a callback URL (throws if the callback carries an error instead). */
export function codeOf(callbackUrl: string): string {
  const url = new URL(callbackUrl);
  const code = url.searchParams.get('code');
  if (!code) throw new Error(`no code in the callback ${callbackUrl} (error: ${url.searchParams.get('error')}: ${url.searchParams.get('error_description')})`);
  return code;
}

/** Redeems an authorization code as Okta would: client_secret_basic, or client_secret_post with `auth: 'post'`. */
export function exchangeCode(issuer: string, client: ClientCredentials, code: string, options: { auth?: 'basic' | 'post'; redirectUri?: string; extra?: Record<string, string> } = {}): Promise<TokenAnswer> {
  const body = { grant_type: 'authorization_code', code, redirect_uri: options.redirectUri ?? OKTA_CALLBACK, ...options.extra };
  if (options.auth === 'post') return tokenRequest(issuer, { ...body, client_id: client.clientId, client_secret: client.clientSecret });
  return tokenRequest(issuer, body, client);
}

/** GET {issuer}/userinfo with a bearer access token. */
export function userinfo(issuer: string, accessToken: string): Promise<Response> {
  return fetch(`${issuer}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
}
