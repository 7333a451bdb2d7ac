/**
 * Okta as the relying party of an "OpenID Connect IdP" (OKTA.md §1 and Additions §1-3), as strict
 * as Okta is:
 * - the authorize request carries state, a fresh nonce, the IdP's scopes, the exact callback URI,
 *   PKCE S256 when the IdP says pkce_required, and a login_hint only when the variant forwards it;
 * - the code goes to the token endpoint with the configured client authentication (Basic or POST:
 *   undocumented which, so both are variants; private_key_jwt when the IdP has a signing key);
 * - the ID token must be RS256, signed by a key in the IdP's JWKS (cached; re-fetched on an unknown
 *   kid only when that variant is on), with iss = protocol.issuer.url, aud = client_id, the same
 *   nonce, exp and iat within maxClockSkew, and a `sub` and an `email`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, importJWK, jwtVerify, decodeProtectedHeader, type JWK, type JWTPayload } from 'jose';

export type ClientAuthVariant = 'basic' | 'post';

export interface RelyingPartyVariants {
  /** Whether Okta forwards the username typed at its sign-in page as login_hint (unconfirmed). */
  forwardLoginHint: boolean;
  /** How a client secret is sent to the token endpoint (undocumented). */
  clientAuth: ClientAuthVariant;
  /** Whether an ID token signed with a kid missing from the cached JWKS triggers one re-fetch. */
  refetchJwksOnUnknownKid: boolean;
}

export interface OidcIdp {
  id: string;
  name: string;
  protocol: {
    endpoints: Record<string, { url: string } | undefined>;
    scopes: string[];
    issuer: { url: string };
    credentials: { client: { client_id: string; client_secret?: string; pkce_required?: boolean; token_endpoint_auth_method?: string }; signing?: { kid?: string; algorithm?: string } };
    algorithms?: { request?: { signature?: { algorithm?: string; scope?: string } } };
  };
  policy?: { maxClockSkew?: number };
}

export interface PendingAuthorization {
  idpId: string;
  state: string;
  nonce: string;
  codeVerifier: string | null;
  /** The Okta user the routing rule matched, if the person typed a username first. */
  routedUserId: string | null;
}

export class IdpLoginError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

interface CachedJwks {
  keys: JWK[];
  fetchedAt: number;
}

const base64url = (buffer: Buffer) => buffer.toString('base64url');

export function createRelyingParty(deps: { callbackUrl: string; variants: RelyingPartyVariants; signingKeyFor?: (idp: OidcIdp) => { kid: string; privateJwk: JWK; alg: string } | null }) {
  const { callbackUrl, variants } = deps;
  const jwksCache = new Map<string, CachedJwks>();
  let jwksFetches = 0;

  /**
   * With algorithms.request.signature.scope REQUEST, Okta sends the parameters as a signed request
   * object (HS* with the client secret, RS* with the IdP's key), repeating the required ones outside.
   */
  async function requestObject(idp: OidcIdp, params: URLSearchParams): Promise<string | null> {
    const signature = idp.protocol.algorithms?.request?.signature;
    if (signature?.scope !== 'REQUEST') return null;
    const alg = signature.algorithm ?? 'HS256';
    const key = alg.startsWith('HS')
      ? new TextEncoder().encode(idp.protocol.credentials.client.client_secret ?? '')
      : await importJWK(deps.signingKeyFor?.(idp)?.privateJwk ?? {}, alg);
    return new SignJWT(Object.fromEntries(params))
      .setProtectedHeader({ alg })
      .setIssuer(idp.protocol.credentials.client.client_id)
      .setAudience(idp.protocol.issuer.url)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);
  }

  async function authorizationRedirect(idp: OidcIdp, routedUserId: string | null, typedUsername: string | null): Promise<{ url: string; pending: PendingAuthorization }> {
    const state = base64url(randomBytes(24));
    const nonce = base64url(randomBytes(24));
    const client = idp.protocol.credentials.client;
    const codeVerifier = client.pkce_required ? base64url(randomBytes(32)) : null;
    const params = new URLSearchParams({
      client_id: client.client_id,
      response_type: 'code',
      response_mode: 'query',
      scope: idp.protocol.scopes.join(' '),
      redirect_uri: callbackUrl,
      state,
      nonce,
    });
    if (codeVerifier) {
      params.set('code_challenge', base64url(createHash('sha256').update(codeVerifier).digest()));
      params.set('code_challenge_method', 'S256');
    }
    if (variants.forwardLoginHint && typedUsername) params.set('login_hint', typedUsername);
    const url = new URL(idp.protocol.endpoints.authorization!.url);
    const request = await requestObject(idp, params);
    if (request) {
      for (const key of ['client_id', 'response_type', 'scope', 'redirect_uri']) url.searchParams.set(key, params.get(key)!);
      url.searchParams.set('request', request);
    } else {
      for (const [key, value] of params) url.searchParams.set(key, value);
    }
    return { url: url.href, pending: { idpId: idp.id, state, nonce, codeVerifier, routedUserId } };
  }

  async function fetchJwks(idp: OidcIdp): Promise<CachedJwks> {
    jwksFetches++;
    const response = await fetch(idp.protocol.endpoints.jwks!.url, { headers: { accept: 'application/json' } });
    if (!response.ok) throw new IdpLoginError('jwks_unavailable', `the IdP's JWKS answered ${response.status}`);
    const body = (await response.json()) as { keys?: JWK[] };
    if (!Array.isArray(body.keys)) throw new IdpLoginError('jwks_invalid', "the IdP's JWKS has no keys array");
    const cached = { keys: body.keys, fetchedAt: Date.now() };
    jwksCache.set(idp.id, cached);
    return cached;
  }

  async function keyFor(idp: OidcIdp, kid: string | undefined): Promise<JWK> {
    let cached = jwksCache.get(idp.id) ?? (await fetchJwks(idp));
    const find = () => cached.keys.find((key) => (kid === undefined ? key.use !== 'enc' : key.kid === kid));
    let key = find();
    if (!key && variants.refetchJwksOnUnknownKid) {
      cached = await fetchJwks(idp);
      key = find();
    }
    if (!key) throw new IdpLoginError('unknown_kid', `the ID token is signed with key "${kid}", which the IdP's JWKS (as cached) does not publish`);
    return key;
  }

  async function clientAssertion(idp: OidcIdp, tokenUrl: string): Promise<Record<string, string> | null> {
    if (idp.protocol.credentials.client.token_endpoint_auth_method !== 'private_key_jwt') return null;
    const signing = deps.signingKeyFor?.(idp);
    if (!signing) throw new IdpLoginError('no_signing_key', 'the IdP is set to private_key_jwt but has no generated signing key');
    const key = await importJWK(signing.privateJwk, signing.alg);
    const clientId = idp.protocol.credentials.client.client_id;
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: signing.alg, kid: signing.kid })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(tokenUrl)
      .setJti(base64url(randomBytes(16)))
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);
    return { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion };
  }

  /** Redeems the code and validates the ID token; returns its claims. */
  async function redeem(idp: OidcIdp, pending: PendingAuthorization, code: string): Promise<JWTPayload & { sub: string; email?: string }> {
    const client = idp.protocol.credentials.client;
    const tokenUrl = idp.protocol.endpoints.token!.url;
    const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: callbackUrl });
    if (pending.codeVerifier) form.set('code_verifier', pending.codeVerifier);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const assertion = await clientAssertion(idp, tokenUrl);
    if (assertion) {
      form.set('client_id', client.client_id);
      for (const [key, value] of Object.entries(assertion)) form.set(key, value);
    } else if (variants.clientAuth === 'post') {
      form.set('client_id', client.client_id);
      form.set('client_secret', client.client_secret ?? '');
    } else {
      // RFC 6749 §2.3.1: form-urlencode id and secret before Basic encoding.
      const basic = `${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret ?? '')}`;
      headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
    }
    const response = await fetch(tokenUrl, { method: 'POST', headers, body: form });
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) throw new IdpLoginError('token_error', `the IdP's token endpoint answered ${response.status} ${String(body.error ?? '')}: ${String(body.error_description ?? '')}`);
    if (typeof body.id_token !== 'string') throw new IdpLoginError('no_id_token', 'the token response has no id_token');
    if (idp.protocol.endpoints.userInfo && typeof body.access_token !== 'string') {
      throw new IdpLoginError('no_access_token', 'a userinfo endpoint is configured but the IdP returned no access token');
    }

    const header = decodeProtectedHeader(body.id_token);
    if (header.alg !== 'RS256') throw new IdpLoginError('bad_alg', `the ID token is signed with ${String(header.alg)}; Okta accepts RS256`);
    const jwk = await keyFor(idp, header.kid);
    const skewSeconds = Math.round((idp.policy?.maxClockSkew ?? 120_000) / 1000);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(body.id_token, await importJWK(jwk, 'RS256'), {
        issuer: idp.protocol.issuer.url,
        audience: client.client_id,
        algorithms: ['RS256'],
        clockTolerance: skewSeconds,
        requiredClaims: ['iat', 'exp', 'sub'],
      }));
    } catch (error) {
      throw new IdpLoginError('id_token_invalid', `the ID token failed validation: ${(error as Error).message}`);
    }
    if (payload.nonce !== pending.nonce) throw new IdpLoginError('nonce_mismatch', 'the ID token nonce does not match the one Okta sent');
    if (typeof payload.sub !== 'string' || !payload.sub) throw new IdpLoginError('no_sub', 'the ID token has no sub');
    let claims = payload as JWTPayload & { sub: string; email?: string };
    if (idp.protocol.endpoints.userInfo && typeof body.access_token === 'string') {
      const info = await fetch(idp.protocol.endpoints.userInfo.url, { headers: { authorization: `Bearer ${body.access_token}`, accept: 'application/json' } });
      if (!info.ok) throw new IdpLoginError('userinfo_error', `the IdP's userinfo endpoint answered ${info.status}`);
      const profile = (await info.json()) as Record<string, unknown>;
      if (profile.sub !== claims.sub) throw new IdpLoginError('userinfo_sub_mismatch', 'userinfo describes another subject than the ID token');
      claims = { ...profile, ...claims };
    }
    if (typeof claims.email !== 'string' || !claims.email) throw new IdpLoginError('no_email', 'Okta needs an email claim to create or link the user, and the IdP sent none');
    return claims;
  }

  return {
    authorizationRedirect,
    redeem,
    get jwksFetches() {
      return jwksFetches;
    },
    /** Forget cached keys (what a restarted Okta cell would do). */
    clearJwksCache: () => jwksCache.clear(),
  };
}

export type RelyingParty = ReturnType<typeof createRelyingParty>;
