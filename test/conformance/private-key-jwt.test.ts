/**
 * private_key_jwt client authentication (RFC 7523 §2.2, §3; OIDC Core §9), on both stores:
 * openid-client authenticates with its private key, Latchkey knows only the public JWKS (inline or
 * by jwks_uri). Assertions with a wrong audience, past their expiry, or replayed (same jti) are
 * refused with invalid_client; no client secret exists for such an app.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPrivateKey, randomUUID, type JsonWebKey } from 'node:crypto';
import * as oidc from 'openid-client';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { authorizationUrl, enrolledPerson, FAKE_OKTA, OKTA_CALLBACK } from '../support/okta-fixture.ts';
import { signInOverHttp } from '../support/http-login.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe.each(STORE_KINDS)('private_key_jwt on %s', (store) => {
  let server: TestServer;
  let privateKey: CryptoKey;
  let publicJwk: JWK;
  let clientId: string;
  let person: Awaited<ReturnType<typeof enrolledPerson>>;
  let jwksServer: Server;

  beforeAll(async () => {
    server = await startTestServer({ store });
    const pair = await generateKeyPair('RS256', { extractable: true });
    privateKey = pair.privateKey;
    // Okta's generated IdP key: RSA, use sig, a kid, no alg (so RS256/384/512 all apply).
    publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'okta-idp-key', use: 'sig' };
    const created = await server.services.apps.createOktaApp({ oktaDomain: FAKE_OKTA, auth: { method: 'private_key_jwt', jwks: { keys: [publicJwk] } } }, CLI_ACTOR);
    expect(created.clientSecret).toBeNull();
    expect(created.app.clientSecretEnc).toBeNull();
    clientId = created.app.id;
    const group = await server.services.groups.create({ displayName: 'Beyond Identity' }, CLI_ACTOR);
    await server.services.apps.setAssignment(clientId, group.id, true, CLI_ACTOR);
    person = await enrolledPerson(server, 'pkjwt@example.com', group.id);
  });
  afterAll(async () => {
    jwksServer?.close();
    await server?.close();
  });

  async function codeFor(rp: oidc.Configuration) {
    const request = authorizationUrl(rp);
    const login = await signInOverHttp({ origin: server.url, authorizationUrl: request.url, authenticator: person.authenticator });
    return { ...request, callbackUrl: login.callbackUrl, code: new URL(login.callbackUrl).searchParams.get('code')! };
  }

  const relyingParty = (id = clientId) => oidc.discovery(new URL(server.url), id, {}, oidc.PrivateKeyJwt({ key: privateKey, kid: 'okta-idp-key' }), { execute: [oidc.allowInsecureRequests] });

  async function assertion(overrides: { aud?: string; exp?: number; jti?: string; alg?: string } = {}) {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ jti: overrides.jti ?? randomUUID() })
      .setProtectedHeader({ alg: overrides.alg ?? 'RS256', kid: 'okta-idp-key' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(overrides.aud ?? `${server.url}/token`)
      .setIssuedAt(now)
      .setExpirationTime(overrides.exp ?? now + 60)
      .sign(createPrivateKey({ key: (await exportJWK(privateKey)) as JsonWebKey, format: 'jwk' }));
  }

  async function redeem(code: string, clientAssertion: string) {
    const response = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: OKTA_CALLBACK, client_id: clientId, client_assertion_type: ASSERTION_TYPE, client_assertion: clientAssertion }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  }

  it('advertises private_key_jwt with the algorithms it accepts', async () => {
    const document = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<string, string[]>;
    expect(document.token_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'private_key_jwt']);
    expect(document.token_endpoint_auth_signing_alg_values_supported).toEqual(expect.arrayContaining(['RS256', 'RS384', 'RS512']));
  });

  it('openid-client signs in with its private key; no secret is involved', async () => {
    const rp = await relyingParty();
    const { callbackUrl, nonce, state } = await codeFor(rp);
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(callbackUrl), { expectedNonce: nonce, expectedState: state });
    expect(tokens.claims()!.sub).toBe(person.identity.id);
    expect((await oidc.fetchUserInfo(rp, tokens.access_token, person.identity.id)).email).toBe('pkjwt@example.com');
    await expect(server.services.apps.rotateSecret(clientId, CLI_ACTOR)).rejects.toThrow(/private_key_jwt and has no client secret/);
  });

  it('accepts the forms RFC 7523 allows: audience = token endpoint or issuer, RS256/RS384/RS512', async () => {
    const rp = await relyingParty();
    for (const variant of [{ aud: server.url }, { alg: 'RS384' }, { alg: 'RS512' }]) {
      const { code } = await codeFor(rp);
      const result = await redeem(code, await assertion(variant));
      expect(result.status, JSON.stringify(variant)).toBe(200);
      expect(result.body.id_token).toEqual(expect.any(String));
    }
  });

  it('refuses a replayed assertion, a wrong audience, an expired assertion and a client secret, each with invalid_client', async () => {
    const rp = await relyingParty();
    const once = await assertion();
    expect((await redeem((await codeFor(rp)).code, once)).status).toBe(200);
    const replayed = await redeem((await codeFor(rp)).code, once);
    expect(replayed.status).toBe(401);
    expect(replayed.body.error).toBe('invalid_client');

    const wrongAudience = await redeem((await codeFor(rp)).code, await assertion({ aud: 'https://other-idp.example.com/token' }));
    expect(wrongAudience.body.error).toBe('invalid_client');
    const expired = await redeem((await codeFor(rp)).code, await assertion({ exp: Math.floor(Date.now() / 1000) - 120 }));
    expect(expired.body.error).toBe('invalid_client');

    const { code } = await codeFor(rp);
    const withSecret = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:guessed-secret`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: OKTA_CALLBACK }),
    });
    expect(withSecret.status).toBe(401);
    expect(((await withSecret.json()) as { error: string }).error).toBe('invalid_client');
  });

  it('fetches the public keys from a jwks_uri', async () => {
    jwksServer = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [publicJwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
    await server.services.apps.configureClient(clientId, { auth: { method: 'private_key_jwt', jwksUri } }, CLI_ACTOR);
    expect((await server.services.apps.require(clientId)).clientAuth).toEqual({ method: 'private_key_jwt', jwks: null, jwksUri });
    const rp = await relyingParty();
    const { callbackUrl, nonce, state } = await codeFor(rp);
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(callbackUrl), { expectedNonce: nonce, expectedState: state }).catch((error) => {
      throw new Error(`${error.message}: ${JSON.stringify(error.cause ?? error.error_description)}`);
    });
    expect(tokens.claims()!.sub).toBe(person.identity.id);
  });

  it('refuses key material that is not a public signing key, with the reason', async () => {
    const configure = (auth: Parameters<typeof server.services.apps.configureClient>[1]['auth']) => server.services.apps.configureClient(clientId, { auth }, CLI_ACTOR);
    const pair = await generateKeyPair('RS256', { extractable: true });
    await expect(configure({ method: 'private_key_jwt', jwks: { keys: [await exportJWK(pair.privateKey)] } })).rejects.toThrow(/contains private key material/);
    await expect(configure({ method: 'private_key_jwt', jwks: '{not json' })).rejects.toThrow(/not valid JSON/);
    await expect(configure({ method: 'private_key_jwt', jwks: { keys: [{ ...publicJwk, use: 'enc' }] } })).rejects.toThrow(/use "enc", expected "sig"/);
    await expect(configure({ method: 'private_key_jwt' })).rejects.toThrow(/either a JWKS or a jwks_uri/);
    await expect(configure({ method: 'private_key_jwt', jwksUri: 'http://keys.example.com/jwks' })).rejects.toThrow(/must use https/);
  });
});
