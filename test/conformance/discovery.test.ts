/**
 * Discovery advertises only what works and is tested, checked on the live document; what it does
 * not advertise is refused with the right OAuth error (RFC 6749 §4.1.2.1, §5.2).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { authorizationUrl, startOktaTenant, enrolledPerson, setUpOkta, OKTA_CALLBACK } from '../support/okta-fixture.ts';
import { browse, CookieJar, signInOverHttp } from '../support/http-login.ts';

describe.each(STORE_KINDS)('discovery and unsupported grants on %s', (store) => {
  let server: TestServer;
  let okta: Awaited<ReturnType<typeof setUpOkta>>;
  let alice: Awaited<ReturnType<typeof enrolledPerson>>;

  beforeAll(async () => {
    ({ server, okta, alice } = await startOktaTenant(store));
  });
  afterAll(async () => server?.close());

  async function token(body: Record<string, string>) {
    const response = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${okta.app.id}:${okta.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams(body),
    });
    return { status: response.status, body: (await response.json()) as { error: string; error_description?: string } };
  }

  it('publishes exactly what is supported', async () => {
    const document = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(document).toMatchObject({
      issuer: server.url,
      grant_types_supported: ['authorization_code'],
      response_types_supported: ['code'],
      response_modes_supported: ['form_post', 'fragment', 'query'],
      code_challenge_methods_supported: ['S256'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'email', 'profile'],
      subject_types_supported: ['public'],
      claims_parameter_supported: false,
      // Okta signs its authorize parameters by default (tested in test/okta-sim flows).
      request_parameter_supported: true,
      request_object_signing_alg_values_supported: ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512'],
      request_uri_parameter_supported: false,
      authorization_response_iss_parameter_supported: true,
      jwks_uri: `${server.url}/jwks`,
      authorization_endpoint: `${server.url}/authorize`,
      token_endpoint: `${server.url}/token`,
      userinfo_endpoint: `${server.url}/userinfo`,
      end_session_endpoint: `${server.url}/logout`,
      revocation_endpoint: `${server.url}/revoke`,
    });
    for (const absent of [
      'pushed_authorization_request_endpoint',
      'require_pushed_authorization_requests',
      'dpop_signing_alg_values_supported',
      'registration_endpoint',
      'introspection_endpoint',
      'device_authorization_endpoint',
      'backchannel_authentication_endpoint',
      'userinfo_signing_alg_values_supported',
      'id_token_encryption_alg_values_supported',
    ]) {
      expect(document, absent).not.toHaveProperty(absent);
    }
  });

  it('refuses grants and response types it does not support, with the RFC 6749 error for each', async () => {
    for (const grant of ['refresh_token', 'client_credentials', 'password', 'urn:ietf:params:oauth:grant-type:device_code']) {
      const result = await token({ grant_type: grant, refresh_token: 'x', scope: 'openid' });
      expect(result.status, grant).toBe(400);
      // RFC 6749 §5.2: the server itself does not support these (unauthorized_client is for a
      // grant the server supports but this client may not use).
      expect(result.body.error, grant).toBe('unsupported_grant_type');
    }
    // RFC 6749 §4.1.2.1, answered in the fragment that response type defaults to.
    const jar = new CookieJar();
    const implicit = await browse(jar, authorizationUrl(okta.rp, { response_type: 'id_token' }).url);
    const location = new URL(implicit.headers.get('location')!);
    expect(location.href.startsWith(OKTA_CALLBACK)).toBe(true);
    expect(new URLSearchParams(location.hash.slice(1)).get('error')).toBe('unsupported_response_type');
  });

  it('refuses an unsigned request object and a PAR request, which it does not advertise', async () => {
    const jar = new CookieJar();
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ client_id: okta.app.id, response_type: 'code' })).toString('base64url')}.`;
    const withRequest = await browse(jar, authorizationUrl(okta.rp, { request: unsigned }).url);
    expect(new URL(withRequest.headers.get('location')!).searchParams.get('error')).toBe('invalid_request_object');
    const par = await fetch(`${server.url}/request`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'client_id=x' });
    expect(par.status).toBe(404);
  });

  it('returns the code in the fragment with response_mode=fragment', async () => {
    const request = authorizationUrl(okta.rp, { response_mode: 'fragment' });
    const login = await signInOverHttp({ origin: server.url, authorizationUrl: request.url, authenticator: alice.authenticator });
    const callback = new URL(login.callbackUrl);
    expect(callback.search).toBe('');
    const fragment = new URLSearchParams(callback.hash.slice(1));
    expect(fragment.get('code')).toEqual(expect.any(String));
    expect(fragment.get('state')).toBe(request.state);
    expect(fragment.get('iss')).toBe(server.url);
  });

  it('revokes an access token at the revocation endpoint (RFC 7009)', async () => {
    const request = authorizationUrl(okta.rp);
    const login = await signInOverHttp({ origin: server.url, authorizationUrl: request.url, authenticator: alice.authenticator });
    const tokens = await oidc.authorizationCodeGrant(okta.rp, new URL(login.callbackUrl), { expectedNonce: request.nonce, expectedState: request.state });
    const userinfo = () => fetch(`${server.url}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect((await userinfo()).status).toBe(200);
    await oidc.tokenRevocation(okta.rp, tokens.access_token);
    expect((await userinfo()).status).toBe(401);
  });
});
